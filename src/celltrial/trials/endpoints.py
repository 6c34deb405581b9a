"""Per-patient endpoints of one simulated chunk: response, survival, CRS, kinetics, ctDNA, cost.

Death comes from the tumour (burden passes the lethal threshold, or twice the baseline if
that is larger, so a patient entering near the threshold is not dead on day 0) or from fatal
GvHD: GvHD starts when the cumulative hazard ``H_gvhd`` passes ``-ln(u)`` for the patient's
own uniform ``u`` and is fatal with probability ``gvhd_fatal_fraction`` (death placed at
onset, an estimate). Everything after death is ignored.

Example (one dose at 100, grade-2 CRS: 5 hospital days at 4,500; two scans at 1,500; Flu/Cy 6,000):
    >>> costs_of(np.array([1]), np.array([0.0]), np.array([2]), np.array([2]), unit_price=100.0,
    ...          manufacturing=10.0, lymphodepletion=[1.0], costs=Costs())["cost_total"].tolist()
    [31610.0]
"""

from __future__ import annotations

import numpy as np

from ..biology.grading import ICANS_THRESHOLD_PARAMETERS, THRESHOLD_PARAMETERS, crs_grade, penn_thresholds
from ..biology.kinetics import expansion_peak, stein_fold
from ..errors import Status
from ..scenarios.costs import Costs
from .columns import COLUMNS, column_names
from .design import BURDEN, LINES, TrialPlan
from .response import first_crossing, read_responses, time_above, values_at
from .runner import Course, regimen_start, scan_shift


def patient_endpoints(course: Course, plan: TrialPlan, arm_index: int, rows: np.ndarray) -> dict:
    """All columns of :mod:`celltrial.trials.columns` for the chunk's patients."""
    s, arm = plan.scenario, plan.arms[arm_index]
    rules, n = s.endpoints, len(rows)
    t, v = course.t, course.values
    baseline = course.params["B0"] if BURDEN not in course.covariates else np.asarray(course.covariates[BURDEN])
    death, cause, gvhd = _deaths(course, baseline, rules, s.follow_up_days)
    # imaging follows the infusion: with a manufacturing wait the scans move with it (time-to-event
    # endpoints still count from enrolment, day 0: intention to treat)
    shift = scan_shift(course.logistics, n, s.assessments.imaging_relative_to)
    imaging = np.asarray(s.assessments.imaging_days)[None, :] + shift[:, None]
    imaging = np.where(imaging <= s.follow_up_days, imaging, np.inf)
    burden = values_at(t, v["B_tot"], np.minimum(imaging, t[-1]))
    out = read_responses(imaging, burden, baseline, death, detection=rules.imaging_detection_cells,
                         pr_fraction=rules.partial_response_fraction, increase=rules.progression_increase)
    replicate, patient = np.divmod(np.asarray(rows, dtype=np.int64), plan.patients)
    out.update(arm=np.full(n, arm.name), replicate=replicate, patient=patient, patient_id=course.ids,
               status=np.array([Status(int(c)).name for c in course.status]),
               weight_kg=course.weights, baseline_burden=baseline,
               prior_lines=np.asarray(course.covariates.get(LINES, np.full(n, "")), dtype=str))
    out.update(_prescribed(course.protocol, arm, n))
    out.update(os_days=np.minimum(death, s.follow_up_days), os_event=np.isfinite(death), death_cause=cause,
               gvhd=gvhd, cure_day=_cure_day(course, t))
    out.update(_crs(course, t, death))
    out.update(_icans(course, t, death))
    out["progression_antigen_negative"] = _antigen_negative_progression(t, v, out)
    out.update(_kinetics(course, t, death, rules.lloq_cells_uL))
    for day in (0, 7, 28):
        j = np.searchsorted(t, float(day))
        value = v["ctdna"][:, j] if j < t.size and t[j] == day else np.full(n, np.nan)
        out[f"ctdna_d{day}"] = np.where(day < death, value, np.nan)
    out.update(_policy_columns(course.policy, n, out))
    out.update(_resources(plan, arm_index, death, out["crs_grade"], course.policy, course.logistics))
    return _failed_as_missing(out, course.status)


def _policy_columns(controller, n, out) -> dict:
    """Doses the policy gave, molecular relapse and its lead time over imaging progression."""
    if controller is None:
        none = np.full(n, np.nan)
        return {"policy_doses": np.zeros(n, np.int64), "first_policy_dose_day": none,
                "molecular_relapse_day": none, "ctdna_lead_time_days": none, "transplant_day": none,
                "bridged": np.zeros(n, bool)}
    record, history = controller.record, controller.history
    first = np.full(n, np.nan)
    for row, day, _, _ in reversed(record.log):
        first[row] = day
    relapse = np.where(np.isfinite(history.first_positive_after_negative), history.first_positive_after_negative,
                       np.nan)
    # clinical relapse: imaging progression after a response (not death, not primary refractoriness)
    died_then = out["os_event"] & (out["os_days"] <= out["pfs_days"])
    progression = np.where(out["pfs_event"] & out["responder"] & ~died_then, out["pfs_days"], np.nan)
    transplant = np.full(n, np.nan) if controller.transplant_day is None else controller.transplant_day
    progressed_by = out["pfs_event"] & (out["pfs_days"] <= transplant)
    bridged = np.isfinite(transplant) & (out["os_days"] >= transplant) & ~progressed_by
    return {"policy_doses": record.doses.astype(np.int64), "first_policy_dose_day": first,
            "molecular_relapse_day": relapse, "ctdna_lead_time_days": progression - relapse,
            "transplant_day": transplant, "bridged": bridged}


def _prescribed(protocol, arm, n) -> dict:
    """Body surface area, cells per full dose and host T cells left by the regimen's first lymphodepletion."""
    depleted = len(arm.doses.of("lymphodepletion")) > 0
    return {"bsa_m2": protocol.bsa_m2, "dose_cells": protocol.dose_cells,
            "host_t_left": protocol.depletion[:, 0, 0] if depleted else np.ones(n)}


def _deaths(course, baseline, rules, follow_up):
    t, v = course.t, course.values
    lethal = np.maximum(rules.lethal_burden_cells, 2.0 * baseline)
    tumour = first_crossing(t, v["B_tot"], lethal, log=True)
    gvhd_onset = first_crossing(t, v["H_gvhd"], -np.log1p(-course.uniforms[:, 0]))
    gvhd_fatal = np.where(course.uniforms[:, 1] < rules.gvhd_fatal_fraction, gvhd_onset, np.inf)
    death = np.minimum(tumour, gvhd_fatal)
    death = np.where(death <= follow_up, death, np.inf)
    cause = np.where(~np.isfinite(death), "", np.where(gvhd_fatal < tumour, "gvhd", "tumour"))
    return death, cause, gvhd_onset <= np.minimum(death, follow_up)


def _cure_day(course, t):
    """Day from which no tumour cell is left (all clones drawn extinct), NaN if never.

    Read from the course, not from the clones' extinction days: a clone that never existed is
    never drawn extinct, and a protected-niche clone drawn extinct can be re-seeded by exposed
    cells until those are gone too.
    """
    gone = course.values["B_tot"] <= 0.0
    left = gone[:, ::-1].cumprod(axis=1)[:, ::-1].astype(bool)  # gone from here to the end
    first = np.argmax(left, axis=1)
    drawn = [course.extinct[c] for c in course.extinct]
    last_draw = np.max(np.stack([np.where(np.isfinite(d), d, -np.inf) for d in drawn]), axis=0)
    day = np.where(np.isfinite(last_draw), np.minimum(last_draw, t[first]), t[first])
    return np.where(left[:, -1], day, np.nan)


def _crs(course, t, death):
    il6 = np.where(t[None, :] < death[:, None], course.values["il6_signal"], 0.0)
    thresholds = np.stack([course.params[p] for p in THRESHOLD_PARAMETERS], axis=1)
    # the in-kernel peak is exact but covers the whole simulated course; after a death the grid's
    # masked course is used instead (the simulation does not know the patient died)
    peak = np.where(np.isfinite(death), il6.max(axis=1), course.summaries["crs_peak"])
    grade = crs_grade(peak, thresholds)
    onset = first_crossing(t, il6, thresholds[:, 0])
    onset = np.where((grade > 0) & np.isfinite(onset), onset, np.where(grade > 0, course.summaries["crs_peak_time"],
                                                                        np.nan))
    duration = np.where(grade > 0, time_above(t, il6, thresholds[:, 0]), 0.0)
    penn = crs_grade(peak, penn_thresholds(thresholds, course.params["r_penn"]))
    return {"crs_grade": grade.astype(np.int64), "crs_grade_penn": penn.astype(np.int64), "crs_onset_days": onset,
            "crs_duration_days": duration, "crs_peak_il6": peak}


def _icans(course, t, death):
    """ICANS grade from the peak neuro-inflammation index while alive, graded like CRS."""
    index = np.where(t[None, :] < death[:, None], course.values["NT"], 0.0)
    thresholds = np.stack([course.params[p] for p in ICANS_THRESHOLD_PARAMETERS], axis=1)
    grade = crs_grade(index.max(axis=1), thresholds)
    onset = np.where(grade > 0, first_crossing(t, index, thresholds[:, 0]), np.nan)
    return {"icans_grade": grade.astype(np.int64), "icans_onset_days": onset}


def _antigen_negative_progression(t, values, out):
    """Progressions (not deaths without one) whose tumour was mostly antigen-negative at that scan."""
    day = np.where(out["pfs_event"], out["pfs_days"], np.nan)
    j = np.clip(np.searchsorted(t, np.nan_to_num(day, nan=t[-1])), 0, t.size - 1)
    rows = np.arange(len(day))
    share = values["Bn"][rows, j] / np.maximum(values["B_tot"][rows, j], 1e-300)
    progressed = np.isfinite(day) & (values["B_tot"][rows, j] > 0)
    return progressed & (share > 0.5)


def _kinetics(course, t, death, lloq):
    alive = t[None, :] < death[:, None]
    blood = np.where(alive, course.values["product_uL"], 0.0)
    copies = np.where(alive, course.values["car_copies"], 0.0)
    start = regimen_start(course.logistics, len(blood))
    cmax, tmax, trough, t_trough = expansion_peak(t, blood, start, with_trough=True)
    cmax_copies, _ = expansion_peak(t, copies, start)
    fold = stein_fold(cmax, tmax, trough, t_trough, start)
    return {"cmax_cells_uL": cmax, "tmax_days": tmax, "expansion_fold": fold,
            "auc0_28_cells_uL_day": course.summaries["auc28"],
            "time_above_lloq_days": time_above(t, blood, lloq), "cmax_copies_ug": cmax_copies}


def _resources(plan: TrialPlan, arm_index: int, death, grade, controller=None, controller_logistics=None) -> dict:
    s, arm = plan.scenario, plan.arms[arm_index]
    infusions = plan.infusion_plan(arm)
    start = regimen_start(controller_logistics, len(death))
    given = np.array([[day + start[i] < d for day, _, _ in infusions] for i, d in enumerate(death)]
                     ).reshape(len(death), len(infusions))
    ld_days = arm.doses.of("lymphodepletion").day
    ld_given = (ld_days[None, :] + start[:, None] < death[:, None]).sum(axis=1).astype(float)
    amounts = np.array([m for _, _, m in infusions], dtype=float)
    policy_doses, multiples = np.zeros(len(death)), (given * amounts).sum(axis=1)
    if controller is not None:
        policy_doses = controller.record.doses.astype(float)
        multiples = multiples + controller.record.cumulative_multiplier
        ld_given = ld_given + controller.record.lymphodepletions  # with policy doses and conditional steps
    doses = given.sum(axis=1) + policy_doses
    imaging = (np.asarray(s.assessments.imaging_days)[None, :] < death[:, None]).sum(axis=1)
    ctdna = (plan.ctdna_draw_days(arm_index)[None, :] < death[:, None]).sum(axis=1)
    autologous = arm.kind == "t_cell" and not arm.product.allogeneic
    price = plan.dose_price(arm_index)
    own = s.arms[arm_index].inpatient_days_per_dose
    stay = s.costs.infusion_stay_days[arm.kind] if own is None else own
    # an autologous product is manufactured for each infusion; off-the-shelf doses come from stock
    manufacturing = s.costs.manufacturing_autologous if autologous else 0.0
    failed_products = np.isinf(start).astype(float)  # paid for, never infused
    # a patient who dies while the product is being made still had it made (apheresis on day 0)
    died_waiting = (np.isfinite(start) & (start > 0) & ~given.any(axis=1)).astype(float)
    # the product price scales with the cells given (an escalated dose costs more); manufacturing is
    # per product made (failures included); stays count infusions
    out = costs_of(multiples, doses * stay, grade, imaging, ctdna_tests=ctdna, unit_price=price,
                   manufacturing=manufacturing, lymphodepletion=ld_given, costs=s.costs,
                   manufactured=doses + failed_products + died_waiting)
    first_day = min((day for day, _, _ in infusions), default=0.0)
    made_first = controller_logistics is not None and controller_logistics.spec is not None
    first = np.where(given.any(axis=1), first_day + start, np.nan if made_first else 0.0)
    out["infused"] = given.any(axis=1) | (policy_doses > 0)
    out["vein_to_vein_days"] = np.where(out["infused"], first, np.nan)
    out["doses"] = doses.astype(np.int64)
    out["dose_multiples"] = multiples
    days = np.array([day for day, _, _ in infusions], dtype=float)[None, :] + start[:, None]
    last = np.where(given, days, -np.inf).max(axis=1, initial=-np.inf)
    if controller is not None:
        last = np.maximum(last, controller.record.last_dose_day)
    out["last_dose_day"] = np.where(np.isfinite(last), last, np.nan)
    return out


def costs_of(doses, stay_days, grade, imaging, *, unit_price, manufacturing, lymphodepletion, costs: Costs,
             ctdna_tests=None, manufactured=None) -> dict:
    """Resource use and cost columns (currency of ``costs``) from doses, stays, CRS grade and tests.

    ``doses`` are product units priced at ``unit_price``; ``manufactured`` products (default: ``doses``)
    each cost ``manufacturing``.
    """
    doses = np.asarray(doses, dtype=float)
    manufactured = doses if manufactured is None else np.asarray(manufactured, dtype=float)
    ctdna_tests = np.zeros_like(doses) if ctdna_tests is None else np.asarray(ctdna_tests)
    hospital = np.asarray(stay_days, float) + np.asarray(costs.crs_days_by_grade)[np.asarray(grade)]
    out = {
        "hospital_days": hospital,
        "imaging_tests": np.asarray(imaging, dtype=np.int64),
        "ctdna_tests": ctdna_tests.astype(np.int64),
        "cost_product": doses * unit_price,
        "cost_manufacturing": manufactured * manufacturing + np.asarray(lymphodepletion, float) * costs.lymphodepletion,
        "cost_hospital": hospital * costs.hospital_day,
        "cost_monitoring": np.asarray(imaging) * costs.imaging_test + ctdna_tests * costs.ctdna_test,
    }
    out["cost_total"] = out["cost_product"] + out["cost_manufacturing"] + out["cost_hospital"] + out["cost_monitoring"]
    return out


def _failed_as_missing(out: dict, status) -> dict:
    """Columns in table order; a failed patient keeps identity and covariates, endpoints become missing."""
    failed = np.asarray(status) != Status.OK
    keep = {"arm", "replicate", "patient", "patient_id", "status", "weight_kg", "baseline_burden", "prior_lines"}
    table = {}
    for name in column_names():
        col = np.asarray(out[name])
        if failed.any() and name not in keep:
            kind = COLUMNS[name].kind
            col = col.astype(float) if kind == "float" else col.copy()
            missing = {"float": np.nan, "int": 0, "bool": False, "str": ""}[kind]
            col[failed] = missing
        table[name] = col
    return table
