"""Run a whole virtual trial: every arm, in chunks, then statistics.

Each chunk (rows of one arm) is sampled, simulated and read into endpoints on its own, and
handed to ``on_chunk`` (the results store writes it atomically) before the next starts, so
an interrupted run keeps every finished chunk. Results do not depend on ``chunk_size``.

Example:
    >>> from celltrial.scenarios import load_scenario
    >>> scenario, _ = load_scenario("scenarios/quickstart.yaml")      # doctest: +SKIP
    >>> out = run_trial(scenario, patients=20)                        # doctest: +SKIP
    >>> out.summary["arms"]["axi-cel"]["n"]                           # doctest: +SKIP
    20
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from ..solve import compile as compile_model
from .assays import add_counts, assay_calls, detection_counts, detection_summary
from .columns import DOSE_COLUMNS
from .design import TrialPlan
from .endpoints import patient_endpoints
from .inventory import arm_inventory
from .runner import Course, regimen_start, simulate_chunk
from .statistics import SUMMARISED_COLUMNS, summarise

#: Thinned trajectory grid: daily to day 28, weekly after (plus the last day).
THIN_DAILY_UNTIL, THIN_EVERY = 28.0, 7.0
TRAJECTORY_SAVED = ("B_tot", "product_uL", "car_copies", "ctdna", "il6_signal")


@dataclass
class TrialOutput:
    """Patients table (column -> array; only the summary's columns when run with ``keep_patients=False``),
    summary dict, the plan, trajectories, doses and assay calls (long format; calls only when
    ``keep_patients``)."""

    patients: dict
    summary: dict
    plan: TrialPlan
    trajectories: dict | None
    doses: dict | None = None
    assays: dict | None = None


def apply_overrides(scenario, patients=None, replicates=None, seed=None):
    """The scenario with command-line overrides of cohort size, replicates and seed."""
    cohort = {k: v for k, v in (("patients", patients), ("replicates", replicates)) if v is not None}
    update = {"cohort": scenario.cohort.model_copy(update=cohort)} if cohort else {}
    if seed is not None:
        update["seed"] = int(seed)
    return scenario.model_copy(update=update) if update else scenario


def chunks(plan: TrialPlan, chunk_size: int):
    """(chunk index, arm index, rows) for every chunk, arms in order."""
    k = 0
    for arm in plan.arms:
        for lo in range(0, plan.rows(), chunk_size):
            yield k, arm.index, np.arange(lo, min(lo + chunk_size, plan.rows()), dtype=np.int64)
            k += 1


@dataclass
class ChunkResult:
    """One simulated chunk as an executor delivers it to :func:`run_trial`.

    ``patients``, ``doses`` and ``assays`` are what ``on_chunk`` stores: column dicts (in process) or
    the Parquet bytes a Dask worker returned, stored as they are (``assays`` None: nothing to store);
    ``columns`` holds, as numpy arrays, the columns the summary reads (every column when the caller
    keeps patients); ``dose_log`` the dose log as numpy arrays when the caller needs it (arms with an
    inventory), else None; ``trajectories`` the thinned trajectories (a column dict) or None;
    ``assay_counts`` the chunk's (arm, assay, day) -> [drawn, detected] for the detection rates.
    """

    index: int
    arm_index: int
    n: int
    patients: object
    trajectories: dict | None
    doses: object
    columns: dict
    dose_log: dict | None
    assays: object = None
    assay_counts: dict | None = None


def chunk_outputs(plan: TrialPlan, course: Course, arm_index: int, rows) -> tuple:
    """(patients table, thinned trajectories, dose log, assay calls) of one simulated chunk."""
    table = patient_endpoints(course, plan, arm_index, rows)
    thin = thinned(course, table, plan.scenario.simulation.trajectories_per_arm)
    return table, thin, dose_log(course, plan, arm_index, table), assay_calls(course, plan, arm_index, table)


def stored_assays(plan: TrialPlan, calls: dict):
    """The calls ``on_chunk`` stores: None when ``simulation.store_assays`` is off or there are none."""
    return calls if plan.scenario.simulation.store_assays and len(calls["day"]) else None


def needs_dose_log(plan: TrialPlan, arm_index: int, keep_patients: bool) -> bool:
    """Whether :func:`run_trial` keeps an arm's dose log in memory (for the inventory or the caller)."""
    return keep_patients or plan.scenario.arms[arm_index].inventory is not None


def in_process(compiled=None, threads=None):
    """The default executor: chunks simulated in this process, one chunk ahead in a worker thread
    (the solver releases the GIL, so reading the endpoints of chunk k and storing it overlap the
    simulation of chunk k+1; a core would otherwise idle through the Python part).

    Returns ``executor(plan, items, keep_patients)`` yielding :class:`ChunkResult` in chunk order.
    """

    def executor(plan: TrialPlan, items: list, keep_patients: bool):
        model = compiled or compile_model(plan.model)
        if not items:
            return
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="celltrial-simulate") as pool:
            ahead = pool.submit(simulate_chunk, plan, model, items[0][1], items[0][2], threads)
            for k, (index, arm_index, rows) in enumerate(items):
                course = ahead.result()
                if k + 1 < len(items):
                    ahead = pool.submit(simulate_chunk, plan, model, items[k + 1][1], items[k + 1][2], threads)
                table, thin, given, calls = chunk_outputs(plan, course, arm_index, rows)
                del course
                columns = table if keep_patients else _summary_columns(table)
                keep_doses = needs_dose_log(plan, arm_index, keep_patients)
                yield ChunkResult(index, arm_index, len(rows), table, thin, given, columns,
                                  given if keep_doses else None, stored_assays(plan, calls),
                                  detection_counts(calls))

    return executor


def run_trial(scenario, *, chunk_size: int | None = None, on_chunk=None, progress=None, threads=None,
              compiled=None, policies: dict | None = None, keep_patients: bool = True, executor=None,
              done: dict | None = None) -> TrialOutput:
    """Simulate every arm of ``scenario`` (apply :func:`apply_overrides` first) and summarise.

    Args:
        chunk_size: patients per chunk (default: the scenario's ``simulation.chunk_size``).
        on_chunk: called as ``on_chunk(index, patients, trajectories, doses, assays)`` after each chunk
            (``assays``: the chunk's assay calls, None when there are none to store).
        progress: called as ``progress(patients_done, patients_total)``.
        threads: solver threads (default: all cores).
        compiled: an already compiled standard model (compiled on first use otherwise).
        policies: arm name -> a Python policy (subclass of :class:`celltrial.policies.Policy`)
            replacing that arm's scenario policy.
        keep_patients: keep every column of every patient in ``TrialOutput.patients``; False keeps
            only the columns the summary reads (about 145 bytes a patient) and the dose log only of
            arms with an inventory, for runs whose chunks ``on_chunk`` stores.
        executor: where chunks are simulated: :func:`in_process` (the default) or a Dask executor
            (``celltrial.cluster``); per-patient results are the same bit for bit.
        done: chunk index -> (columns, dose log, assay counts) of chunks already stored (a resumed run):
            they are not simulated again, and the summary covers them as if they had just run.
    """
    plan = TrialPlan(scenario, policies=policies)
    size = int(chunk_size or scenario.simulation.chunk_size)
    done = done or {}
    every = list(chunks(plan, size))
    items = [c for c in every if c[0] not in done]
    arm_of = {index: arm_index for index, arm_index, _ in every}
    total, finished = plan.rows() * len(plan.arms), sum(len(part[0]["arm"]) for part in done.values())
    parts = {k: part[0] for k, part in done.items()}
    doses = {k: part[1] for k, part in done.items() if needs_dose_log(plan, arm_of[k], keep_patients)}
    counts = {k: part[2] for k, part in done.items() if len(part) > 2}
    calls = {}
    trajectories = {}
    run = executor or in_process(compiled, threads)
    for result in run(plan, items, keep_patients):
        if on_chunk is not None:
            on_chunk(result.index, result.patients, result.trajectories, result.doses, result.assays)
        parts[result.index] = result.columns
        counts[result.index] = result.assay_counts or {}
        if keep_patients and result.assays is not None:
            calls[result.index] = _columns_of(result.assays)
        if result.dose_log is not None:
            doses[result.index] = result.dose_log
        if result.trajectories is not None:
            trajectories[result.index] = result.trajectories
        finished += result.n
        if progress is not None:
            progress(finished, total)
    out = _summarised(scenario, plan, [parts.pop(k) for k in sorted(parts)],
                      [trajectories[k] for k in sorted(trajectories)], [doses[k] for k in sorted(doses)])
    return _with_assays(out, plan, [counts[k] for k in sorted(counts)], [calls[k] for k in sorted(calls)])


def _with_assays(out: TrialOutput, plan: TrialPlan, counts: list, calls: list) -> TrialOutput:
    """Each arm's detection rates per draw day (summed chunk by chunk, in chunk order) in the summary,
    and the joined calls when they were kept."""
    total: dict = {}
    for c in counts:
        add_counts(total, c)
    for arm, block in detection_summary(plan, total).items():
        out.summary["arms"][arm]["assays"] = block
    if calls:
        out.assays = {k: np.concatenate([c[k] for c in calls]) for k in calls[0]}
    return out


def _columns_of(calls) -> dict:
    """Assay calls as numpy columns (a Dask worker returns them as Parquet bytes)."""
    if isinstance(calls, dict):
        return calls
    import pyarrow as pa
    import pyarrow.parquet as pq

    from ..store.convert import to_numpy
    from .assays import ASSAY_COLUMNS

    table = pq.read_table(pa.BufferReader(calls))
    return {n: to_numpy(table.column(n), kind) for n, kind in ASSAY_COLUMNS.items()}


def _summarised(scenario, plan: TrialPlan, parts: list, trajectories: list, doses: list) -> TrialOutput:
    """The trial's output from its chunks' columns in chunk order (so the summary never depends on
    which chunk finished first)."""
    # column by column, each chunk's piece dropped once joined: the peak is the table plus one column
    patients = {k: np.concatenate([p.pop(k) for p in parts]) for k in list(parts[0])}
    e = scenario.endpoints
    summary = summarise(patients, landmarks_days=tuple(e.landmarks(scenario.follow_up_days)),
                        reference_arm=e.reference_arm, success=[c.model_dump() for c in e.success] or None,
                        as_treated=tuple(a.name for a in scenario.arms if a.logistics is not None),
                        grading=e.grading())
    joined = {k: np.concatenate([t[k] for t in trajectories]) for k in trajectories[0]} if trajectories else None
    given = {k: np.concatenate([d[k] for d in doses]) for k in DOSE_COLUMNS} if doses else None
    for arm in plan.arms:
        stock = arm_inventory(scenario, arm.index, given, plan.patients)
        if stock is not None:
            summary["arms"][arm.name]["inventory"] = stock
    if scenario.economics is not None:  # issue 21: QALYs, ICER, NMB, payment models
        summary["economics"] = economics_block(scenario, plan, patients)
        _budget_inventory(summary, scenario, plan)
    return TrialOutput(patients, summary, plan, joined, given)


def _budget_inventory(summary: dict, scenario, plan: TrialPlan) -> None:
    """Add each inventory arm's lots, wasted doses and lot spend per year to the budget-impact view.

    The trial's stock figures per enrolled patient are scaled linearly to ``patients_per_year``: an
    approximation (a larger programme wastes a smaller share of each lot), stated in the block."""
    budget = summary["economics"]["budget_impact"]
    for arm in plan.arms:
        stock, spec = summary["arms"][arm.name].get("inventory"), scenario.arms[arm.index].inventory
        if not stock or arm.name not in budget["arms"]:
            continue
        per_year = budget["patients_per_year"] / plan.patients  # stock figures are per replicate trial
        lots = stock["lots_mean"] * per_year
        budget["arms"][arm.name]["inventory"] = {
            "lots_per_year": lots, "doses_wasted_per_year": stock["doses_wasted_mean"] * per_year,
            "lot_spend_per_year": None if spec.lot_cost is None else lots * spec.lot_cost,
            "basis": f"the trial's stock per enrolled patient ({plan.patients} per replicate, accrual "
                     f"{spec.accrual_per_month:g}/month) scaled linearly to patients_per_year"}


def economics_block(scenario, plan: TrialPlan, patients: dict) -> dict:
    """The summary's ``economics`` block (see :func:`celltrial.economics.economics_summary`)."""
    from ..economics.summary import economics_summary

    return economics_summary(patients, scenario.economics.model_dump(),
                             prices={a.name: plan.dose_price(a.index) for a in plan.arms},
                             follow_up_days=scenario.follow_up_days, reference_arm=scenario.endpoints.reference_arm)


def _summary_columns(table: dict) -> dict:
    """The columns :func:`summarise` reads (a run that streams its chunks to a store keeps no more)."""
    return {k: table[k] for k in SUMMARISED_COLUMNS if k in table}


def dose_log(course: Course, plan: TrialPlan, arm_index: int, table: dict) -> dict:
    """Every product dose each patient received before death: the regimen's, then the policy's with reasons."""
    death = np.where(table["os_event"], table["os_days"], np.inf)
    shift = regimen_start(course.logistics, len(death))
    rows = []
    for day, _, multiple in plan.infusion_plan(plan.arms[arm_index]):
        for i in np.flatnonzero(day + shift < death):
            rows.append((i, float(day + shift[i]), "regimen", multiple, "regimen"))
    if course.policy is not None:
        rows += [(i, day, "policy", m, reason) for i, day, m, reason in course.policy.record.log if day < death[i]]
    rows.sort(key=lambda r: (r[0], r[1]))
    idx = np.array([r[0] for r in rows], dtype=np.int64)
    return {"arm": np.asarray(table["arm"])[idx].astype(str), "replicate": table["replicate"][idx],
            "patient": table["patient"][idx], "day": np.array([r[1] for r in rows], dtype=float),
            "source": np.array([r[2] for r in rows], dtype=str), "multiplier": np.array([r[3] for r in rows], float),
            "reason": np.array([r[4] for r in rows], dtype=str)}


def thinned(course: Course, table: dict, per_arm: int) -> dict | None:
    """Long-format trajectories of the first ``per_arm`` patients of replicate 0, on a thinned grid."""
    keep = np.flatnonzero((table["replicate"] == 0) & (table["patient"] < per_arm))
    if keep.size == 0:
        return None
    t = course.t
    end = t[-1]
    wanted = np.union1d(np.arange(0.0, min(THIN_DAILY_UNTIL, end) + 1e-9, 1.0),
                        np.append(np.arange(THIN_DAILY_UNTIL, end, THIN_EVERY), end))
    cols = np.flatnonzero(np.isin(t, wanted))
    n, m = keep.size, cols.size
    out = {"arm": np.repeat(table["arm"][keep], m), "replicate": np.repeat(table["replicate"][keep], m),
           "patient": np.repeat(table["patient"][keep], m), "day": np.tile(t[cols], n)}
    for q in TRAJECTORY_SAVED:
        out[q] = course.values[q][np.ix_(keep, cols)].ravel()
    return out
