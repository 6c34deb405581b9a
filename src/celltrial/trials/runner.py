"""Simulate one chunk of one arm: sample the patients, integrate with stochastic cure, keep the course.

The course is saved on a grid fine enough for the endpoints (every 6 hours over the first
four weeks, where CRS and expansion happen; daily after), plus every assessment day. Exact
peaks and AUCs come from in-kernel summaries, not from the grid.

Example:
    >>> grid = course_grid(60.0, [28.0, 56.0], [7.0])
    >>> float(grid[1]), float(grid[-1])
    (0.25, 60.0)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..biology.grading import ICANS_THRESHOLD_PARAMETERS, THRESHOLD_PARAMETERS
from ..biology.tumour import CLONES
from ..cohorts import patient_blocks, patient_pcg_states
from ..policies import PolicyController
from ..policies.conditional import ConditionalSteps, NoPolicy
from ..policies.safety import SafetyController
from ..policies.steps import StepRunner
from ..protocols.doses import lymphodepletion
from ..protocols.extinction import Extinction, run_with_extinction
from ..protocols.monitoring import assay_uniforms
from ..protocols.regimens import to_events
from ..solve import AUC, Max, Simulation
from .design import PatientProtocol, TrialPlan, baseline_burden

#: Quantities saved on the course grid (endpoints and thinned trajectories read them).
SAVED = ("B_tot", "Bn", "product_uL", "car_copies", "ctdna", "il6_signal", "NT", "H_gvhd")
SUMMARIES = (
    AUC("product_uL", 0.0, 28.0, name="auc28"),
    Max("il6_signal", name="crs_peak"),
)
#: Per-patient parameters the endpoints need.
PARAMETERS = ("B0", "r_penn") + THRESHOLD_PARAMETERS + ICANS_THRESHOLD_PARAMETERS
FINE_UNTIL, FINE_STEP = 28.0, 0.25
CTDNA_UNIFORMS = 2  # per draw: the molecule count and the false-positive call


def course_grid(follow_up: float, imaging_days, ctdna_days) -> np.ndarray:
    """Save times (days): 6-hourly to day 28, daily after, plus assessment days and the end."""
    fine = np.arange(0.0, min(FINE_UNTIL, follow_up), FINE_STEP)
    daily = np.arange(min(FINE_UNTIL, follow_up), follow_up, 1.0)
    return np.unique(np.concatenate([fine, daily, imaging_days, ctdna_days, [follow_up]]))


@dataclass
class Course:
    """What one chunk of patients went through.

    Attributes:
        t: (T,) grid days; values: name -> (n, T) for :data:`SAVED`; summaries: in-kernel
        summaries; status: (n,) solver codes; extinct: clone -> (n,) extinction day (inf if
        never); params: name -> (n,) for :data:`PARAMETERS`; weights: (n,) kg;
        covariates: the cohort's covariates; ids: (n,) stream ids; uniforms: (n, 2) from the
        "outcomes" stream (GvHD onset, fatality).
    """

    t: np.ndarray
    values: dict
    summaries: dict
    status: np.ndarray
    extinct: dict
    params: dict
    weights: np.ndarray
    covariates: dict
    ids: np.ndarray
    uniforms: np.ndarray
    policy: object = None  # the PolicyController (its record and observed history), or None
    logistics: object = None  # the arm's per-patient wait and manufacturing failure (design.Logistics)
    protocol: PatientProtocol | None = None  # per-patient dose, BSA, depth of lymphodepletion (set by simulate_chunk)


def simulate_rows(plan: TrialPlan, compiled, arm_index: int, rows, *, grid, save=SAVED, threads=None,
                  log: list | None = None):
    """Sample rows of an arm and integrate them with stochastic cure; returns (result, extinct, cohort, weights,
    policy controller, logistics, protocol).

    ``log`` collects the drawn population changes as (row position, SetState), see
    :func:`~celltrial.protocols.extinction.run_with_extinction`.
    """
    s = plan.scenario
    arm = plan.arms[arm_index]
    cohort = plan.sample(arm, np.asarray(rows, dtype=np.int64))
    weights = plan.weights(cohort)
    logistics = plan.logistics(arm, cohort.patient_ids)
    protocol = plan.protocol(arm, cohort, weights)
    sim = Simulation(compiled, cohort.params, patient_events=plan.patient_events(arm, weights, logistics, protocol),
                     save_at=grid, save=save, summaries=SUMMARIES, rtol=s.simulation.rtol, check_bounds=False,
                     threads=threads)
    clones = [Extinction(state, birth) for state, birth in CLONES.items()]
    streams = patient_pcg_states(s.seed, cohort.patient_ids, "extinction")
    controller = plan_controller(plan, arm_index, cohort, weights, log, logistics, protocol)
    rules = s.arms[arm_index].safety
    safety = SafetyController.for_cohort(rules, plan.model, cohort.params, weights, log) if rules else None
    hooks = [h for h in (safety, controller) if h is not None]

    def on_check(t, sim_):
        for hook in hooks:
            hook(t, sim_)

    # the run stops only where a hook acts: every day for safety rules (CRS is graded daily), on its
    # draw, scan and decision days for a policy; the cure's daily checks run inside the solver
    wake = None if safety is not None else (controller.wake_days() if controller is not None else ())
    extinct = run_with_extinction(sim, s.follow_up_days, clones, streams=streams,
                                  threshold=s.simulation.extinction_threshold, log=log,
                                  on_check=on_check if hooks else None, wake_days=wake)
    return sim.result(), extinct, cohort, weights, controller, logistics, protocol


def plan_controller(plan: TrialPlan, arm_index: int, cohort, weights, log, logistics, protocol: PatientProtocol):
    """The arm's policy controller for these patients (None when the arm has no policy).

    Policy doses are appended to ``log`` as (row, event) like the extinction draws, so a
    one-patient replay (SBML export) contains them. Conditional steps (``kind: conditional``) run
    in the same controller as their ``then`` policy (or none). ``protocol`` (design.PatientProtocol)
    gives each patient's cells per dose and the depth of a later lymphodepletion course.
    """
    s = plan.scenario
    spec = plan.policy(arm_index)
    if spec is None:
        return None
    policy = (spec.then or NoPolicy()) if isinstance(spec, ConditionalSteps) else spec
    arm = plan.arms[arm_index]
    draw_days = plan.ctdna_draw_days(arm_index)
    uniforms = assay_uniforms(s.seed, cohort.patient_ids, len(draw_days), CTDNA_UNIFORMS)
    lethal = np.maximum(s.endpoints.lethal_burden_cells, 2.0 * cohort.parameter("B0"))
    # GvHD starts when H_gvhd passes the patient's own threshold (the same draw as the endpoint)
    gvhd_at = -np.log1p(-patient_blocks(s.seed, cohort.patient_ids, "outcomes", 2, "random")[:, 0])
    if not policy.stop_after_gvhd:
        gvhd_at = np.full(len(weights), np.inf)
    base = protocol.dose_cells

    def later(row):  # (host T left, CD4 left) of a later lymphodepletion course
        return protocol.depletion_of(row)[1]

    def dose_events(rows, day, multipliers):
        out = {}
        for row, m in zip(rows, multipliers, strict=True):
            given = day + remanufacture_wait(logistics, row, controller.record.doses[row])
            events = [lymphodepletion(given, *later(row))] if policy.relymphodeplete else []
            events.append(arm.product.infusion(given, float(weights[row]), cells=float(base[row] * m)))
            out[int(row)] = events
            if log is not None:
                log.extend((int(row), e) for e in events)
        return out

    infusions = arm.doses.of("infusion").day
    first = (infusions.min() if len(infusions) else np.inf) + regimen_start(logistics, len(weights))
    transplant = None
    if policy.kind == "bridge_to_transplant":
        transplant = policy.transplant_days(patient_blocks(s.seed, cohort.patient_ids, "policy", 1, "random")[:, 0])
    steps = plan_steps(plan, arm_index, spec, cohort, weights, (base, later), logistics, log,
                       products=lambda row: controller.record.doses[row])
    rules = s.endpoints
    controller = PolicyController(policy, assay=plan.ctdna_assay(arm_index), draw_days=draw_days, uniforms=uniforms,
                                  follow_up=s.follow_up_days, n=len(weights), dose_events=dose_events,
                                  alive=lambda v: (v["B_tot"] < lethal) & (v["H_gvhd"] < gvhd_at), first_infusion=first,
                                  dose_price=plan.dose_price(arm_index), transplant_day=transplant,
                                  imaging_days=s.assessments.imaging_days, detection=rules.imaging_detection_cells,
                                  mrd_uniforms=mrd_uniforms(policy, s, cohort.patient_ids, draw_days),
                                  scan_shift=scan_shift(logistics, len(weights), s.assessments.imaging_relative_to),
                                  baseline=baseline_burden(cohort),
                                  response={"pr_fraction": rules.partial_response_fraction,
                                            "increase": rules.progression_increase}, steps=steps)
    return controller


def plan_steps(plan: TrialPlan, arm_index: int, spec, cohort, weights, dosing, logistics, log, products):
    """The :class:`~celltrial.policies.steps.StepRunner` of an arm's conditional steps (None for any other policy).

    ``dosing`` is (cells per full dose (n,), ``later(row)``: the depth of a later Flu/Cy course); a step
    with an infusion of an autologous product waits for a re-manufacture (``products(row)``: doses so far).
    """
    if not isinstance(spec, ConditionalSteps):
        return None
    s, arm = plan.scenario, plan.arms[arm_index]
    base, later = dosing

    def events(row, table):  # every Flu/Cy of a step is a later course
        out = to_events(table, dose_cells=float(base[row]), kind=arm.kind, weight_kg=float(weights[row]),
                        depletion=(later(row), later(row)))
        if log is not None:
            log.extend((row, e) for e in out)
        return out

    def waits(rows):
        return np.array([remanufacture_wait(logistics, r, products(r)) for r in rows])

    autologous = logistics is not None and logistics.spec is not None
    policy = spec.then or NoPolicy()
    uniforms = step_mrd_uniforms(spec, policy, s, cohort.patient_ids, plan.ctdna_draw_days(arm_index))
    return StepRunner(spec, regimen_start(logistics, len(weights)), follow_up=s.follow_up_days, events=events,
                      delay=waits if autologous else None, mrd_uniforms=uniforms)


def step_mrd_uniforms(spec, policy, s, ids, draw_days):
    """(n, MRD steps) uniforms of the "mrd" stream for conditional steps that sample MRD, else None.

    They follow the ``then`` policy's own MRD samples in the stream, so adding a step never moves them.
    """
    count = len(spec.mrd_steps())
    if count == 0:
        return None
    own = mrd_uniforms(policy, s, ids, draw_days)
    skip = 0 if own is None else own.shape[1]
    return patient_blocks(s.seed, ids, "mrd", skip + count, "random")[:, skip:]


def regimen_start(logistics, n) -> np.ndarray:
    """(n,) days each patient's regimen is moved by: the manufacturing wait of an autologous product,
    inf when manufacturing failed (nothing of the regimen is given), 0 off the shelf."""
    if logistics is None or logistics.spec is None:
        return np.zeros(n)
    return np.where(logistics.failed, np.inf, logistics.wait)


def scan_shift(logistics, n, relative_to: str = "infusion") -> np.ndarray:
    """(n,) days the scans move: the regimen's start if it was given, else 0 (scans from enrolment); always 0
    when the scenario counts imaging days from enrolment (``assessments.imaging_relative_to``)."""
    if relative_to == "enrolment":
        return np.zeros(n)
    start = regimen_start(logistics, n)
    return np.where(np.isfinite(start), start, 0.0)


def mrd_uniforms(policy, s, ids, draw_days):
    """(n, n_samples) uniforms of the "mrd" stream for an MRD-sampling policy, else None."""
    if getattr(policy, "mrd_assay", lambda: None)() is None:
        return None
    days = policy.mrd_sample_days(s.follow_up_days, draw_days)
    return patient_blocks(s.seed, ids, "mrd", max(len(days), 1), "random")


def remanufacture_wait(logistics, row: int, products_so_far: int) -> float:
    """Days until a re-dose can be given: 0 off the shelf, a fresh vein-to-vein wait for an autologous
    product (product k of the patient uses its own pair of "logistics" uniforms). ``products_so_far``
    counts the re-doses already given (the policy's record), so the next re-dose is product
    ``products_so_far + 1``: product 0 is the regimen's, whose wait the patient has already had."""
    if logistics is None or logistics.spec is None:
        return 0.0
    k = min(int(products_so_far) + 1, logistics.uniforms.shape[1] - 1)
    wait, _ = logistics.spec.draw(logistics.uniforms[row, k, :])
    return float(wait)


def simulate_chunk(plan: TrialPlan, compiled, arm_index: int, rows: np.ndarray, threads=None) -> Course:
    """Sample and simulate rows ``rows`` (replicate*patients + patient) of arm ``arm_index``."""
    s = plan.scenario
    grid = course_grid(s.follow_up_days, s.assessments.imaging_days, plan.ctdna_draw_days(arm_index))
    result, extinct, cohort, weights, controller, logistics, protocol = simulate_rows(
        plan, compiled, arm_index, rows, grid=grid, threads=threads)
    names = plan.model.parameter_names
    return Course(
        t=grid,
        values={q: result[q] for q in SAVED},  # views of the chunk's own output: a copy cost ~5% of a run
        summaries=result.summaries,
        status=result.status,
        extinct=extinct,
        params={p: cohort.params[:, names.index(p)].copy() for p in PARAMETERS},
        weights=weights,
        covariates=cohort.covariates,
        ids=cohort.patient_ids,
        uniforms=patient_blocks(s.seed, cohort.patient_ids, "outcomes", 2, "random"),
        policy=controller,
        logistics=logistics,
        protocol=protocol,
    )
