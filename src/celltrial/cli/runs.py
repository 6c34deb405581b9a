"""Run a scenario into the results store, and present stored runs (the CLI's working layer).

Example:
    >>> from celltrial.cli.runs import execute
    >>> outcome = execute("scenarios/quickstart.yaml", patients=20, store_path="/tmp/r.duckdb")  # doctest: +SKIP
    >>> outcome.public_summary()["arms"]["axi-cel"]["n"]                                         # doctest: +SKIP
    20
"""

from __future__ import annotations

import contextlib
import datetime as dt
import signal
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path

from .._version import __version__
from ..errors import CelltrialError, InputError
from ..presets import load_disease
from ..scenarios import load_scenario
from ..scenarios.loader import parse_scenario
from ..trials.design import TrialPlan
from ..trials.rundata import RunData
from ..trials.statistics import SUMMARISED_COLUMNS
from ..trials.trial import apply_overrides, run_trial


@dataclass
class Outcome:
    """A stored run: ``run`` holds its meta, arms and summary (no patient rows: nothing is reloaded);
    :meth:`full_run` reads the patients, trajectories and doses back from the store."""

    run: RunData
    store_path: str

    def public_summary(self) -> dict:
        return public_summary(self.run)

    def full_run(self) -> RunData:
        from ..store import open_store

        with open_store(self.store_path) as store:
            return store.load(self.run.run_id)


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def git_revision() -> str:
    """The git revision of the celltrial checkout this package runs from, or "" (installed wheel)."""
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=Path(__file__).parent, capture_output=True,
                             text=True, timeout=5)
        return out.stdout.strip() if out.returncode == 0 else ""
    except (OSError, subprocess.SubprocessError):
        return ""


def extrapolation_notes(plan: TrialPlan) -> list:
    """Plain statements of what in this run goes beyond published data."""
    notes = []
    disease = load_disease(plan.scenario.disease)
    if disease.extrapolation:
        notes.append(f"Disease {disease.name}: {disease.extrapolation}")
    for arm in plan.arms:
        p = arm.product
        if p.extrapolation:
            notes.append(f"Arm {arm.name} ({p.name}): {p.extrapolation}")
        if p.calibration is None:
            notes.append(f"Arm {arm.name}: the kinetics of {p.name} are not fitted to patient data.")
    estimates = sum(1 for q in plan.model.parameters if q.source.lstrip().startswith(("[E]", "[X]")))
    notes.append(f"{estimates} of {len(plan.model.parameters)} model parameters are estimates ([E]) or "
                 "reconstructions ([X]) without a directly published value (see docs/models/standard.md).")
    notes += outcome_calibration_notes(plan, disease)
    if plan.scenario.costs == type(plan.scenario.costs)():
        notes.append("Costs use the default unit prices, most of them estimates ([E]).")
    return notes


def outcome_calibration_notes(plan: TrialPlan, disease) -> list:
    """Which arms' outcomes rest on a fit to trial outcomes, and which are extrapolated from it."""
    if disease.calibration is None:
        return [f"Response, progression, survival and CRS grades in {disease.name} are not calibrated to trial "
                "outcomes; treat rates as model predictions, not forecasts of a real trial."]
    fitted = disease.calibration.command.split()[2] if len(disease.calibration.command.split()) > 2 else "?"
    product, horizon = _calibration_case(fitted)
    notes = [f"Outcomes in {disease.name} are calibrated to {', '.join(disease.calibration.targets)} of the "
             f"{fitted} case ({product}; `{disease.calibration.command}`, docs/validation.md)."]
    others = [a.name for a in plan.arms if a.product.name != product]
    if others:
        notes.append(f"Arms {', '.join(others)} use other products or regimens: their outcomes are extrapolated "
                     f"from the {fitted} calibration through the model, not fitted to their own trials.")
    if plan.scenario.follow_up_days > horizon:
        notes.append(f"Follow-up beyond day {horizon:g} (the {fitted} calibration's horizon) is extrapolated.")
    return notes


def _calibration_case(case: str) -> tuple:
    """(product, follow-up days) of a shipped calibration case; ("?", inf) when it is not shipped."""
    from ..calibration.cases import case_names, load_case

    if case not in case_names():
        return "?", float("inf")
    scenario = load_case(case).scenario
    return scenario.arms[0].product, float(scenario.follow_up_days)


def run_meta(plan: TrialPlan, text: str) -> tuple[dict, list]:
    """The run's metadata (rules, provenance, notes) and its arms, as the store keeps them."""
    s = plan.scenario
    rules = s.endpoints.model_dump(exclude={"success"})
    rules["currency"] = s.costs.currency
    rules["landmarks_days"] = s.endpoints.landmarks(s.follow_up_days)
    rules["imaging_days"] = list(s.assessments.imaging_days)  # the report's waterfall marks the scan days
    if rules["ctdna_lod_hge_ml"] is None:  # what the assay detects 95% of the time, not a round number
        rules["ctdna_lod_hge_ml"] = s.assessments.ctdna_assay.lod_hge_ml(0.95)
    meta = {
        "scenario_name": s.name, "scenario_title": s.title, "scenario_text": text, "seed": s.seed,
        "patients_per_arm": plan.patients, "replicates": plan.replicates, "design": s.cohort.design,
        "follow_up_days": s.follow_up_days, "package_version": __version__, "git_revision": git_revision(),
        "model": f"{plan.model.name} {plan.model.structure_fingerprint()[:12]}", "started": _now(),
        "finished": "", "status": "running", "endpoint_rules": rules,
        "parameter_changes": plan.parameter_changes, "extrapolation": extrapolation_notes(plan), "chunks": 0,
    }
    arms = [_arm_meta(plan, arm, spec) for arm, spec in zip(plan.arms, s.arms, strict=True)]
    return meta, arms


def _arm_meta(plan: TrialPlan, arm, spec) -> dict:
    """An arm as stored: dose and regimen in the words the report and ``celltrial runs`` show.

    Example (stored): dose "2×10⁶ cells/kg (max 2×10⁸)", regimen "day 0 after Flu/Cy; then policy:
    ctDNA-triggered doses".
    """
    from ..presets.docs import dose_amount
    from ..protocols.conditioning import resolve
    from ..report.labels import regimen_text

    first, later = resolve(spec.regimen.lymphodepletion), spec.regimen.relymphodepletion
    later = first if later is None else resolve(later)
    courses = iter([first] + [later] * len(plan.infusion_plan(arm)))
    regimen = ", ".join(f"day {d:g}" + (f" x{m:g}" if m != 1 else "") + (f" after {next(courses).label()}" if ld
                                                                          else "")
                        for d, ld, m in plan.infusion_plan(arm))
    if spec.policy is not None:  # the report's wording of policy kinds (ctdna_trigger -> ctDNA-triggered doses)
        regimen = regimen_text(f"{regimen}; then policy {spec.policy.kind}")
    return {"name": arm.name, "product": arm.product.name, "description": spec.description or arm.product.title,
            "dose": _dose_words(arm, spec.changes, dose_amount), "regimen": regimen}


def _dose_words(arm, changes, dose_amount) -> str:
    """The arm's dose in words: the preset's (or changed) dose, or its pooled levels, and the delivered spread."""
    if changes.dose_levels:
        text = "levels " + " / ".join(f"{dose_amount(lv.dose)} ({lv.share:.0%})" for lv in changes.dose_levels)
    else:
        text = dose_amount(arm.product.dose)
    if changes.dose_spread is not None:
        sp = changes.dose_spread
        window = f", released {sp.low or 0:g}-{sp.high:g}x" if sp.high is not None else ""
        text += f"; delivered dose log-normal, SD {sp.sd_log:g} on the log scale{window}"
    if changes.car_fraction_spread is not None:
        text += f"; CAR+ fraction varies lot to lot (logit SD {changes.car_fraction_spread.sd_logit:g})"
    return text


def execute(scenario_path=None, *, patients=None, replicates=None, seed=None, store_path=None, chunk_size=None,
            threads=None, progress=False, notify=None, cluster=None, workers=None, resume=None,
            force=False) -> Outcome:
    """Load, run and store a scenario; returns the stored run (its summary: patients stay in the store).

    ``notify(line)``, when given, hears what takes time before the progress bar can move (the first
    compile of the model) and, when ``progress`` is off, one line when simulating starts.
    ``cluster`` ("local" or a Dask scheduler address) runs the chunks on Dask workers; ``resume``
    (a run id) completes an interrupted run instead of starting one (no scenario then); ``force``
    lets it take over a run whose writer ran on another host and cannot be checked.
    """
    from ..cluster import executor_for
    from ..store import DEFAULT_STORE, open_store

    path = str(store_path or DEFAULT_STORE)
    if resume is not None:
        if scenario_path is not None or any(v is not None for v in (patients, replicates, seed, chunk_size)):
            raise InputError("--resume continues a stored run as it was started: give no SCENARIO, --patients, "
                             "--replicates, --seed or --chunk-size with it")
    elif force:
        raise InputError("--force only applies to --resume")
    elif scenario_path is None:
        raise InputError("give a SCENARIO file to run, or --resume RUN to complete an interrupted run")
    if cluster is not None and threads is not None:
        raise InputError("--threads sets the solver threads of an in-process run; on --cluster each worker runs "
                         "one thread: choose the number of workers with --workers (local) or on the cluster")
    with open_store(path) as store:  # an unusable store fails here, before minutes of compiling
        if resume is not None:
            run_id, plan, size = _stored_run(store, resume)
        else:
            scenario, text = load_scenario(scenario_path)
            plan = TrialPlan(apply_overrides(scenario, patients, replicates, seed))
            size = int(chunk_size or plan.scenario.simulation.chunk_size)
        if notify is not None:
            _announce(plan, notify, progress, cluster)
        # the cluster is up (or its address refused) before the run exists: a bad --cluster leaves no run behind
        with terminate_as_interrupt(), executor_for(cluster, workers, notify) as executor:
            if resume is None:
                meta, arms = run_meta(plan, text)
                run_id = store.create_run({**meta, "chunk_size": size, "inputs": plan.inputs_fingerprint()}, arms)
                done = {}
            else:
                store.reopen_run(run_id, force=force)
                done = _stored_chunks(store, run_id, plan, size, notify)
            return _run_into(store, run_id, plan, size, done, executor, threads=threads, progress=progress)


def _stored_run(store, ref: str) -> tuple:
    """(run id, plan, chunk size) of a stored run, refusing one this celltrial cannot continue exactly."""
    head = store.load_summary(ref)
    m = head.meta
    if m["status"] == "finished":
        raise InputError(f"run {head.run_id} is finished: there is nothing to resume")
    if not m.get("chunk_size") or not m.get("inputs"):
        raise InputError(f"run {head.run_id} was stored by a celltrial without --resume (no chunk size recorded); "
                         "run its scenario again instead")
    scenario = apply_overrides(parse_scenario(m["scenario_text"], where=f"run {head.run_id}"),
                               m["patients_per_arm"], m["replicates"], m["seed"])
    plan = TrialPlan(scenario)
    if plan.inputs_fingerprint() != m["inputs"]:
        raise InputError(f"run {head.run_id} was simulated with other model inputs (model, parameter defaults or "
                         f"presets; fingerprint {m['inputs']}, now {plan.inputs_fingerprint()}): its missing chunks "
                         f"would not match the stored ones; resume it with the celltrial {m['package_version']} "
                         f"(git {m['git_revision'] or 'unknown'}) and presets that started it")
    return head.run_id, plan, int(m["chunk_size"])


def _stored_chunks(store, run_id: str, plan: TrialPlan, size: int, notify) -> dict:
    """What a resumed run keeps: the columns and dose logs of its stored chunks."""
    done = store.stored_chunks(run_id, SUMMARISED_COLUMNS)
    if notify is not None:
        total = -(-plan.rows() // size) * len(plan.arms)
        notify(f"resuming run {run_id}: {len(done)} of {total} chunks already stored")
    return done


def _run_into(store, run_id: str, plan: TrialPlan, size: int, done: dict, executor, *, threads,
              progress) -> Outcome:
    """Simulate the chunks of ``run_id`` not in ``done`` into the store, then record the summary.

    Each chunk is staged beside the store and moved in when the store is free, so readers are never
    locked out for longer than one chunk's insert. Any exception, Ctrl-C and SIGTERM included, marks
    the run interrupted at once (before the executor winds down) and names it for ``--resume``.
    """
    bar = _progress_bar(progress)
    try:
        with bar:
            task = bar.add_task(f"{plan.scenario.name}: simulating", total=plan.rows() * len(plan.arms))

            def store_chunk(k, table, traj, doses, assays=None):
                store.stage_chunk(run_id, k, table, traj, doses, assays)
                store.try_ingest(run_id)

            output = run_trial(plan.scenario, chunk_size=size, threads=threads, keep_patients=False, done=done,
                               executor=executor, on_chunk=store_chunk,
                               progress=lambda n, total: bar.update(task, completed=n))
        store.finish_run(run_id, output.summary, _now())
    except BaseException as exc:
        with contextlib.suppress(CelltrialError):  # the run's own error matters more than this one
            store.mark_interrupted(run_id, wait_s=10.0)
        exc.celltrial_run_id = run_id  # the CLI names the run to --resume
        raise
    return Outcome(store.load_summary(run_id), str(store.path))


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the run is, so that it unwinds like Ctrl-C (state written, exit 143)."""


@contextlib.contextmanager
def terminate_as_interrupt():
    """Turn SIGTERM into :class:`Terminated` while a run writes (main thread only; elsewhere a no-op)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        raise Terminated("terminated (SIGTERM)")

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _announce(plan: TrialPlan, notify, progress: bool, cluster=None) -> None:
    """Compile the model if needed (saying so), and say that simulating starts when no bar will show it.

    On a remote cluster the workers compile (or load their own cache); a local one shares this machine's."""
    from .compiling import ensure_compiled

    if cluster is None or cluster == "local":
        ensure_compiled(plan.model, notify=notify)
    if not progress:
        arms, reps = len(plan.arms), plan.replicates
        notify(f"simulating {plan.patients} patients per arm x {arms} arm{'s' * (arms != 1)}"
               f"{f' x {reps} replicate trials' if reps > 1 else ''} ...")


def _progress_bar(enabled: bool):
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                    console=Console(stderr=True), disable=not enabled, transient=True)


def public_summary(run: RunData) -> dict:
    """The JSON summary of a run: deterministic (no run id, no clock), so equal seeds give equal JSON."""
    m = run.meta
    return {"scenario": m["scenario_name"], "seed": m["seed"], "patients_per_arm": m["patients_per_arm"],
            "replicates": m["replicates"], "design": m["design"], "follow_up_days": m["follow_up_days"],
            "status_counts": _status_counts(run), **run.summary}


def _status_counts(run: RunData) -> dict:
    """Patients per solver status, summed over arms (the summary counts them per arm)."""
    total = {}
    for arm in run.summary.get("arms", {}).values():
        for code, k in arm.get("status", {}).items():
            total[code] = total.get(code, 0) + int(k)
    return dict(sorted(total.items()))


def one_patient(scenario_path, arm: str, patient: int, *, seed=None, patients=None, step=1.0, notify=None):
    """The full course of one patient of a scenario: the same patient as row ``patient`` of replicate 0
    of ``celltrial run`` with the same seed and ``--patients``. ``notify`` as for :func:`execute`."""
    from ..trials.patient import simulate_patient
    from .compiling import ensure_compiled

    scenario, _ = load_scenario(scenario_path)
    plan = TrialPlan(apply_overrides(scenario, seed=seed, patients=patients))
    if notify is not None:
        ensure_compiled(plan.model, notify=notify)
    return simulate_patient(plan, arm, patient, step=step)

