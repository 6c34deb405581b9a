"""Trial statistics from the patients table: rates, Kaplan-Meier, log-rank, Cox, the run summary.

Everything here is a thin layer over scipy (binomial confidence intervals) and lifelines
(Kaplan-Meier, log-rank test, Cox model); nothing is re-derived. Durations are in days from the
first infusion, events are booleans (True: event observed, False: censored). Intervals are
two-sided 95 %. Results are JSON-ready: Python floats and ints, and None where a value is not
defined (no patients, a median not reached, a model that cannot be fitted).

Example:
    >>> rate(3, 10)["estimate"]
    0.3
    >>> km_median([30.0, 60.0, 90.0, 120.0], [True, True, False, True])["estimate"]
    60.0
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from lifelines import CoxPHFitter, KaplanMeierFitter
from lifelines.exceptions import ConvergenceError, ConvergenceWarning
from lifelines.statistics import logrank_test
from lifelines.utils import median_survival_times
from scipy.stats import binomtest

from ..errors import InputError, did_you_mean
from .toxicity import check_grading, toxicity_summary

#: Confidence level of every interval.
CONFIDENCE = 0.95
#: ``rate`` methods -> scipy ``proportion_ci`` method names.
RATE_METHODS = {"wilson": "wilson", "exact": "exact"}
#: Columns :func:`summarise` reads.
SUMMARY_COLUMNS = (
    "arm", "replicate", "status", "cr", "responder", "pfs_days", "pfs_event", "os_days", "os_event",
    "crs_grade", "cmax_cells_uL", "tmax_days", "auc0_28_cells_uL_day", "ctdna_d28", "cost_total",
    "time_to_response_days", "duration_of_response_days", "dor_event",
)
#: Columns :func:`summarise` reads when present (stores written before they were modelled lack them).
OPTIONAL_COLUMNS = ("icans_grade", "crs_grade_penn", "infused")
#: Columns the ``economics`` block reads besides those (issue 21; see :mod:`celltrial.economics.summary`).
ECONOMICS_COLUMNS = ("crs_duration_days", "hospital_days", "doses", "dose_multiples", "last_dose_day",
                     "vein_to_vein_days", "cost_product")
#: Every column the run summary may read: what a run that streams its chunks to a store keeps in memory.
SUMMARISED_COLUMNS = SUMMARY_COLUMNS + OPTIONAL_COLUMNS + ECONOMICS_COLUMNS
_MEDIANS = {"cmax_cells_uL_median": "cmax_cells_uL", "tmax_days_median": "tmax_days",
            "auc0_28_median": "auc0_28_cells_uL_day", "ctdna_d28_median": "ctdna_d28"}


def _num(x):
    """Python float, or None for NaN/inf/None."""
    return None if x is None or not np.isfinite(x) else float(x)


def rate(events: int, n: int, method: str = "wilson") -> dict:
    """Proportion ``events / n`` with its 95 % CI: "wilson" (score) or "exact" (Clopper-Pearson).

    Example:
        >>> r = rate(5, 20, method="exact")
        >>> r["estimate"], round(r["low"], 4), round(r["high"], 4)
        (0.25, 0.0866, 0.491)
    """
    if method not in RATE_METHODS:
        raise InputError(f"rate: unknown method {method!r}{did_you_mean(method, RATE_METHODS)}; use one of "
                         f"{sorted(RATE_METHODS)}")
    events, n = int(events), int(n)
    if n < 0 or not 0 <= events <= n:
        raise InputError(f"rate: need 0 <= events <= n, got events={events}, n={n}")
    out = {"estimate": None, "low": None, "high": None, "events": events, "n": n, "method": method}
    if n > 0:
        ci = binomtest(events, n).proportion_ci(confidence_level=CONFIDENCE, method=RATE_METHODS[method])
        out.update(estimate=events / n, low=float(ci.low), high=float(ci.high))
    return out


def _survival_data(durations, events):
    d = np.asarray(durations, dtype=float).ravel()
    e = np.asarray(events).ravel()
    if d.shape != e.shape:
        raise InputError(f"survival data: {d.size} durations but {e.size} events")
    if not np.all(np.isfinite(d)) or np.any(d < 0):
        bad = int(np.sum(~np.isfinite(d) | (d < 0)))
        raise InputError(f"survival data: {bad} durations are NaN, infinite or negative; durations are days >= 0")
    if e.dtype != bool and not np.all(np.isin(e, (0, 1))):
        raise InputError("survival data: events must be booleans or 0/1 (True: event observed)")
    return d, e.astype(bool)


def km(durations, events) -> KaplanMeierFitter:
    """Kaplan-Meier estimate (lifelines, exponential Greenwood 95 % CI) of ``durations`` (days)."""
    d, e = _survival_data(durations, events)
    if d.size == 0:
        raise InputError("km: no patients to estimate a survival curve from")
    return KaplanMeierFitter(alpha=1 - CONFIDENCE).fit(d, e)


def km_median(durations, events) -> dict:
    """Median survival (days) with its 95 % CI; None where not reached or without patients.

    Example:
        >>> km_median([10.0, 20.0], [False, False])
        {'estimate': None, 'low': None, 'high': None, 'n': 2, 'events': 0}
    """
    d, e = _survival_data(durations, events)
    out = {"estimate": None, "low": None, "high": None, "n": int(d.size), "events": int(e.sum())}
    if d.size:
        kmf = km(d, e)
        low, high = median_survival_times(kmf.confidence_interval_).to_numpy().ravel()
        out.update(estimate=_num(kmf.median_survival_time_), low=_num(low), high=_num(high))
    return out


def km_table(durations, events, times) -> dict:
    """Kaplan-Meier survival, 95 % CI and number at risk at each of ``times`` (days).

    ``at_risk`` counts patients with duration >= t (R's ``n.risk``; lifelines' plots show those
    with duration > t). Survival beyond the last observation is None unless it already reached 0.

    Example:
        >>> km_table([30.0, 60.0, 90.0], [True, False, True], [0.0, 60.0, 200.0])["at_risk"]
        [3, 2, 0]
    """
    d, e = _survival_data(durations, events)
    t = np.asarray(times, dtype=float).ravel()
    if not np.all(np.isfinite(t)) or np.any(t < 0):
        raise InputError(f"km_table: times must be finite days >= 0, got {t.tolist()}")
    at_risk = d.size - np.searchsorted(np.sort(d), t, side="left")
    out = {"time": t.tolist(), "survival": [None] * t.size, "low": [None] * t.size, "high": [None] * t.size,
           "at_risk": [int(a) for a in at_risk]}
    if d.size == 0:
        return out
    kmf = km(d, e)
    survival = np.atleast_1d(kmf.predict(t))
    ci = kmf.confidence_interval_survival_function_.asof(t).to_numpy()
    undefined = (t > d.max()) & (survival > 0)
    for i in np.flatnonzero(~undefined):
        out["survival"][i], out["low"][i], out["high"][i] = _num(survival[i]), _num(ci[i, 0]), _num(ci[i, 1])
    return out


def landmark(durations, events, day: float) -> dict:
    """Kaplan-Meier survival at ``day`` (days) with its 95 % CI; None beyond the last observation.

    Example:
        >>> landmark([30.0, 60.0, 90.0, 120.0], [True, True, False, True], 60.0)["estimate"]
        0.5
    """
    table = km_table(durations, events, [day])
    return {"day": float(day), "estimate": table["survival"][0], "low": table["low"][0],
            "high": table["high"][0], "at_risk": table["at_risk"][0]}


def _two_arm_note(d_a, e_a, d_b, e_b) -> str | None:
    if d_a.size == 0 or d_b.size == 0:
        return f"arm {'a' if d_a.size == 0 else 'b'} has no patients"
    if not e_a.any() and not e_b.any():
        return "no events in either arm"
    return None


def logrank(d_a, e_a, d_b, e_b) -> dict:
    """Log-rank test of arm b vs arm a (lifelines): chi-square ``statistic`` (1 df) and ``p``.

    Example:
        >>> logrank([1.0, 2.0, 3.0], [1, 1, 1], [1.0, 2.0, 3.0], [1, 1, 1])["p"]
        1.0
    """
    (d_a, e_a), (d_b, e_b) = _survival_data(d_a, e_a), _survival_data(d_b, e_b)
    note = _two_arm_note(d_a, e_a, d_b, e_b)
    if note:
        return {"statistic": None, "p": None, "note": note}
    result = logrank_test(d_a, d_b, event_observed_A=e_a, event_observed_B=e_b)
    return {"statistic": _num(result.test_statistic), "p": _num(result.p_value), "note": None}


def cox_hazard_ratio(d_a, e_a, d_b, e_b) -> dict:
    """Cox hazard ratio of arm b vs arm a (lifelines, Efron ties) with its 95 % CI and Wald ``p``.

    Degenerate data (an arm without patients or events, a fit that does not converge) give None
    values and a ``note`` saying why; ``note`` is None otherwise.

    Example:
        >>> cox_hazard_ratio([5.0, 8.0], [1, 1], [6.0, 9.0], [0, 0])["note"]
        'no events in arm b: the hazard ratio is 0 or infinite'
    """
    (d_a, e_a), (d_b, e_b) = _survival_data(d_a, e_a), _survival_data(d_b, e_b)
    out = {"hr": None, "low": None, "high": None, "p": None, "note": _two_arm_note(d_a, e_a, d_b, e_b)}
    if out["note"] is None and not (e_a.any() and e_b.any()):
        out["note"] = f"no events in arm {'a' if not e_a.any() else 'b'}: the hazard ratio is 0 or infinite"
    if out["note"]:
        return out
    frame = pd.DataFrame({"days": np.concatenate([d_a, d_b]), "event": np.concatenate([e_a, e_b]),
                          "arm_b": np.repeat([0.0, 1.0], [d_a.size, d_b.size])})
    try:
        with warnings.catch_warnings():
            # lifelines warns (instead of failing) on separation or a poor fit; turn that into a note.
            warnings.simplefilter("error", ConvergenceWarning)
            row = CoxPHFitter(alpha=1 - CONFIDENCE).fit(frame, "days", "event").summary.loc["arm_b"]
    except (ConvergenceError, ConvergenceWarning, np.linalg.LinAlgError) as err:
        out["note"] = f"the Cox model did not converge: {str(err).splitlines()[0]}"
        return out
    level = round(100 * CONFIDENCE)
    out.update(hr=_num(row["exp(coef)"]), low=_num(row[f"exp(coef) lower {level}%"]),
               high=_num(row[f"exp(coef) upper {level}%"]), p=_num(row["p"]))
    return out


def check_table(patients, columns) -> int:
    """Number of rows of ``patients`` (column -> 1-D array); InputError if a column is missing or ragged."""
    if not isinstance(patients, dict):
        raise InputError(f"patients must be a dict column -> array, got {type(patients).__name__}")
    missing = [c for c in columns if c not in patients]
    if missing:
        raise InputError(f"patients table lacks column(s) {missing} (see celltrial.trials.columns)")
    sizes = {c: np.shape(patients[c]) for c in columns}
    if len(set(sizes.values())) > 1 or any(len(s) != 1 for s in sizes.values()):
        raise InputError(f"patients columns must be 1-D arrays of one length, got shapes {sizes}")
    return int(sizes[columns[0]][0]) if columns else 0


def arm_codes(arms) -> tuple:
    """(arm names in order of first appearance, (n,) int code of each row into those names)."""
    names, first, inverse = np.unique(np.asarray(arms).astype(str), return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    return [str(names[i]) for i in order], rank[inverse.ravel()]


def ok_mask(patients) -> np.ndarray:
    """(n,) bool: rows whose solver status is "OK" (the rows endpoint statistics use)."""
    return np.asarray(patients["status"]).astype(str) == "OK"


def _median(values):
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    return float(np.median(values)) if values.size else None


def _arm_summary(p, rows, landmarks_days, grading) -> dict:
    """Summary of one arm; ``p`` holds the OK rows of the arm, ``rows`` all its rows, ``grading`` the scales."""
    n_ok = p["cr"].size
    responders = p["responder"].astype(bool)
    toxicity = toxicity_summary(p, n_ok, grading)
    cost = np.asarray(p["cost_total"], dtype=float)
    statuses, counts = np.unique(np.asarray(rows["status"]).astype(str), return_counts=True)
    out = {
        "n": int(rows["status"].size), "n_ok": n_ok,
        "status": {str(s): int(c) for s, c in zip(statuses, counts, strict=True)},
        "cr_rate": rate(int(p["cr"].astype(bool).sum()), n_ok),
        "orr_rate": rate(int(responders.sum()), n_ok),
        "crs_grade3plus_rate": toxicity.pop("crs_grade3plus_rate"), "crs_any_rate": toxicity.pop("crs_any_rate"),
        "median_pfs_days": km_median(p["pfs_days"], p["pfs_event"]),
        "median_os_days": km_median(p["os_days"], p["os_event"]),
        "landmarks": {
            end: {f"{day:g}": landmark(p[f"{end}_days"], p[f"{end}_event"], day) for day in landmarks_days}
            for end in ("pfs", "os")
        },
        "median_time_to_response_days": _median(p["time_to_response_days"][responders]),
        "median_duration_of_response_days": km_median(p["duration_of_response_days"][responders],
                                                      p["dor_event"][responders]),
    }
    out.update({key: _median(p[column]) for key, column in _MEDIANS.items()})
    out.update(toxicity)
    spent = cost[np.isfinite(cost)]
    out["cost_per_patient"] = float(spent.mean()) if spent.size else None
    out["cost_per_responder"] = float(spent.sum()) / int(responders.sum()) if responders.any() else None
    return out


def _comparison(p, codes, names, ref, other) -> dict:
    out = {"arms": [names[ref], names[other]]}
    a, b = codes == ref, codes == other
    for end in ("pfs", "os"):
        d, e = p[f"{end}_days"], p[f"{end}_event"]
        groups = (d[a], e[a], d[b], e[b])
        out[end] = {"logrank": logrank(*groups), "hazard_ratio": cox_hazard_ratio(*groups)}
    return out


def summarise(patients: dict, *, landmarks_days=(180.0, 365.0), reference_arm: str | None = None,
              success: list | None = None, as_treated=(), grading: dict | None = None) -> dict:
    """The run summary: per-arm endpoints, comparisons with the reference arm, replicate statistics.

    Args:
        patients: column -> (n,) array, columns of :mod:`celltrial.trials.columns` (at least
            :data:`SUMMARY_COLUMNS`). Rows whose ``status`` is not "OK" are counted in ``status``
            and left out of every endpoint statistic; replicates are pooled per arm.
        landmarks_days: days at which PFS and OS Kaplan-Meier survival is reported.
        reference_arm: arm the others are compared with (default: the first arm in the table).
        success: success criteria, see :func:`celltrial.trials.replicates.replicate_summary`.
        as_treated: arms (with logistics: some enrolled patients may never be infused) whose summary
            also gets ``as_treated``: the same endpoints over the infused patients only, with
            ``n_infused``; the arm's own endpoints are the intention-to-treat ones (every enrolled patient).
        grading: ``{"crs": scale, "neurotoxicity": scale}`` (see :mod:`celltrial.trials.toxicity`; None:
            ASTCT 2019 and ICANS). CRS and neurotoxicity rates, counts and the ``crs_grade3plus`` count
            criterion follow these scales; the summary names them in ``grading``.

    Returns:
        ``{"arms": {arm: {...}}, "comparisons": [...], "replicates": None or {...}, "grading": {...}}`` (JSON-ready);
        ``replicates`` is None when the table holds a single replicate.

    Example:
        >>> import numpy as np
        >>> from celltrial.trials.columns import column_names
        >>> table = {c: np.zeros(4) for c in column_names()}
        >>> table.update(arm=np.array(["a", "a", "b", "b"]), status=np.array(["OK"] * 4),
        ...              cr=np.array([True, False, True, True]), pfs_days=np.full(4, 30.0),
        ...              os_days=np.full(4, 30.0), crs_grade=np.zeros(4, int))
        >>> summarise(table)["arms"]["b"]["cr_rate"]["events"]
        2
    """
    from .replicates import check_criteria, replicate_summary

    check_table(patients, SUMMARY_COLUMNS)
    days = np.asarray(landmarks_days, dtype=float).ravel()
    if not np.all(np.isfinite(days)) or np.any(days < 0):
        raise InputError(f"summarise: landmarks_days must be finite days >= 0, got {list(landmarks_days)}")
    names, codes = arm_codes(patients["arm"])
    ref = names[0] if reference_arm is None and names else reference_arm
    if names and ref not in names:
        raise InputError(f"summarise: reference_arm {ref!r} is not an arm{did_you_mean(str(ref), names)}; "
                         f"arms are {names}")
    check_criteria(success, names)
    scales = check_grading(grading)
    ok = ok_mask(patients)
    cols = {c: np.asarray(patients[c]) for c in SUMMARISED_COLUMNS if c in patients}
    arms = {}
    for i, name in enumerate(names):
        mine = codes == i
        arms[name] = _arm_summary(_rows(cols, mine & ok), _rows(cols, mine), days.tolist(), scales)
        if name in as_treated and "infused" in cols:
            infused = cols["infused"].astype(bool)
            arms[name]["as_treated"] = {"n_infused": int((mine & infused).sum()),
                                        **_arm_summary(_rows(cols, mine & ok & infused), _rows(cols, mine & infused),
                                                       days.tolist(), scales)}
    ref_code = names.index(ref) if names else 0
    pooled = _rows(cols, ok) if len(names) > 1 else {}
    comparisons = [_comparison(pooled, codes[ok], names, ref_code, j) for j in range(len(names)) if j != ref_code]
    several = np.unique(np.asarray(patients["replicate"])).size > 1
    # a summary made without naming the scales keeps the criteria's wording of old (ASTCT 2019 either way)
    crs = None if grading is None else scales["crs"]
    return {"arms": arms, "comparisons": comparisons,
            "replicates": replicate_summary(patients, success, crs_scale=crs) if several else None,
            "grading": scales}


def _rows(cols: dict, mask: np.ndarray) -> dict:
    """The rows ``mask`` of every column; the columns themselves when the mask takes every row (a
    one-arm million-patient run would otherwise copy its table twice)."""
    return cols if mask.all() else {c: v[mask] for c, v in cols.items()}


def __getattr__(name):
    # ``replicate_summary`` lives in .replicates, which imports this module; re-export it lazily.
    if name == "replicate_summary":
        from .replicates import replicate_summary

        return replicate_summary
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
