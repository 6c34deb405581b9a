"""Statistics over replicate trials: per-replicate endpoint counts and the probability of success.

A run may repeat the same trial (same arms, same patients per arm) R times with fresh virtual
patients. For each arm and replicate this module counts the OK patients with a complete
response, an objective response and CRS grade >= 3 (numpy ``bincount`` over (arm, replicate),
so a million patients take milliseconds), describes how those counts vary between replicates,
and estimates the probability that a replicate meets every success criterion.

Success criteria are dicts (keys with value None are ignored, so pydantic dumps work):

- ``{"arm": "tscm", "count": "cr", "at_least": 5}`` (or ``"at_most"``); ``count`` is "cr",
  "responder" or "crs_grade3plus";
- ``{"compare": "pfs", "arms": ["cd19", "tscm"], "logrank_p_below": 0.05}``: the two-sided
  log-rank test of PFS (or "os") between the two arms within the replicate has p below the level
  (it says nothing about which arm is better).

Example:
    >>> import numpy as np
    >>> table = {"arm": np.array(["a"] * 4), "replicate": np.array([0, 0, 1, 1]),
    ...          "status": np.array(["OK"] * 4), "cr": np.array([True, True, False, True]),
    ...          "responder": np.ones(4, bool), "crs_grade": np.zeros(4, int)}
    >>> out = replicate_summary(table, success=[{"arm": "a", "count": "cr", "at_least": 2}])
    >>> out["arms"]["a"]["cr_count"]["mean"], out["success"]["criteria"], out["success"]["probability"]["estimate"]
    (1.5, ['a: CR count >= 2'], 0.5)
"""

from __future__ import annotations

import numpy as np

from ..biology.grading_scales import crs_scale as grading_scale
from ..errors import InputError, did_you_mean
from .statistics import arm_codes, check_table, logrank, ok_mask, rate

#: Countable endpoints -> readable label.
COUNTS = {"cr": "CR count", "responder": "responder count", "crs_grade3plus": "CRS grade >= 3 count"}
#: Endpoints a comparison criterion may test.
COMPARES = {"pfs": "PFS", "os": "OS"}
#: Quantiles (percent) reported for each count distribution.
QUANTILES = (5, 25, 50, 75, 95)
_COUNT_KEYS = ("arm", "count", "at_least", "at_most")
_COMPARE_KEYS = ("compare", "arms", "logrank_p_below")


def _bound(where, key, value):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise InputError(f"{where}: `{key}` must be a whole number >= 0, got {value!r}")
    return int(value)


def _known(where, what, name, choices):
    if name not in list(choices):
        raise InputError(f"{where}: unknown {what} {name!r}{did_you_mean(str(name), choices)}; "
                         f"choose from {list(choices)}")
    return name


def _check_count(where, c, arms, crs_label=None) -> dict:
    _known(where, "arm", c.get("arm"), arms)
    _known(where, "count", c.get("count"), COUNTS)
    bounds = [k for k in ("at_least", "at_most") if k in c]
    if len(bounds) != 1:
        raise InputError(f"{where}: give exactly one of `at_least` or `at_most`")
    k = _bound(where, bounds[0], c[bounds[0]])
    sign = ">=" if bounds[0] == "at_least" else "<="
    what = COUNTS[c["count"]]
    if crs_label and c["count"] == "crs_grade3plus":  # the scale the count is read on
        what = what.replace(">= 3", f">= 3 ({crs_label})")
    return {**c, bounds[0]: k, "text": f"{c['arm']}: {what} {sign} {k}"}


def _check_compare(where, c, arms) -> dict:
    _known(where, "endpoint to compare", c["compare"], COMPARES)
    pair = c.get("arms")
    if not isinstance(pair, (list, tuple)) or len(pair) != 2 or pair[0] == pair[1]:
        raise InputError(f"{where}: `arms` must name two different arms, got {pair!r}")
    for arm in pair:
        _known(where, "arm", arm, arms)
    level = c.get("logrank_p_below", 0.05)
    if isinstance(level, bool) or not isinstance(level, (int, float)) or not 0 < level <= 1:
        raise InputError(f"{where}: `logrank_p_below` must be a number in (0, 1], got {level!r}")
    text = f"{COMPARES[c['compare']]}: log-rank p < {level:g}, {pair[0]} vs {pair[1]}"
    return {"compare": c["compare"], "arms": list(pair), "logrank_p_below": float(level), "text": text}


def check_criteria(success, arms, crs_label: str | None = None) -> list:
    """Validated success criteria (each with a readable ``text``, naming ``crs_label``, the CRS
    scale, when given); InputError naming what is wrong.

    Example:
        >>> check_criteria([{"arm": "a", "count": "responder", "at_most": 3}], ["a"])[0]["text"]
        'a: responder count <= 3'
    """
    if success is None:
        return []
    if not isinstance(success, (list, tuple)):
        raise InputError(f"success criteria must be a list of dicts, got {type(success).__name__}")
    out = []
    for i, criterion in enumerate(success):
        where = f"success criterion {i + 1}"
        if not isinstance(criterion, dict):
            raise InputError(f"{where}: must be a dict, got {criterion!r}")
        c = {k: v for k, v in criterion.items() if v is not None}
        allowed = _COMPARE_KEYS if "compare" in c else _COUNT_KEYS
        for key in c:
            if key not in allowed:
                raise InputError(f"{where}: unknown key {key!r}{did_you_mean(str(key), allowed)}; "
                                 f"allowed keys are {list(allowed)}")
        out.append(_check_compare(where, c, arms) if "compare" in c else _check_count(where, c, arms, crs_label))
    return out


def distribution(counts) -> dict:
    """Mean, SD (ddof=1; None for one replicate), quantiles and frequency of each count value.

    Example:
        >>> distribution(np.array([0, 2, 2, 4]))["distribution"]
        {'0': 0.25, '1': 0.0, '2': 0.5, '3': 0.0, '4': 0.25}
    """
    counts = np.asarray(counts, dtype=int)
    if counts.size == 0:
        return {"mean": None, "sd": None, "quantiles": {str(q): None for q in QUANTILES}, "distribution": {}}
    quantiles = np.percentile(counts, QUANTILES)
    return {
        "mean": float(counts.mean()),
        "sd": float(counts.std(ddof=1)) if counts.size > 1 else None,
        "quantiles": {str(q): float(v) for q, v in zip(QUANTILES, quantiles, strict=True)},
        "distribution": {str(k): float(f) for k, f in enumerate(np.bincount(counts) / counts.size)},
    }


def _grid_counts(flag, codes, rep, n_arms, n_reps) -> np.ndarray:
    """(arms, replicates) number of rows with ``flag``."""
    key = codes[flag] * n_reps + rep[flag]
    return np.bincount(key, minlength=n_arms * n_reps).reshape(n_arms, n_reps)


def _logrank_p(patients, end, codes, rep, n_reps, ok, pair) -> np.ndarray:
    """(replicates,) log-rank p of ``end`` between the arm codes ``pair`` (NaN where undefined)."""
    days = np.asarray(patients[f"{end}_days"], dtype=float)
    events = np.asarray(patients[f"{end}_event"]).astype(bool)
    rows = np.flatnonzero(ok & np.isin(codes, pair))
    rows = rows[np.argsort(rep[rows], kind="stable")]
    edges = np.searchsorted(rep[rows], np.arange(n_reps + 1))
    p = np.full(n_reps, np.nan)
    for r in range(n_reps):
        mine = rows[edges[r]:edges[r + 1]]
        a, b = mine[codes[mine] == pair[0]], mine[codes[mine] == pair[1]]
        result = logrank(days[a], events[a], days[b], events[b])["p"]
        p[r] = np.nan if result is None else result
    return p


def replicate_summary(patients: dict, success: list | None = None, crs_scale: str | None = None) -> dict:
    """Distributions over replicates of per-arm counts, and the probability of success.

    Args:
        patients: column -> (n,) array with ``arm``, ``replicate``, ``status``, ``cr``,
            ``responder``, ``crs_grade`` (and ``{pfs,os}_days``/``_event`` for comparison
            criteria). Only rows with status "OK" are counted.
        success: criteria (see the module docstring) that must all hold in a replicate.
        crs_scale: CRS grading scale of ``crs_grade3plus`` (its grade column, e.g. ``crs_grade_penn``
            for "penn", and its label in the criteria's text); None: ``crs_grade``, unlabelled.

    Returns:
        ``{"n": R, "arms": {arm: {"cr_count": dist, "responder_count": dist,
        "crs_grade3plus_count": dist}}, "success": None or {"criteria": [text, ...],
        "probability": rate(...)}}`` with ``dist`` as :func:`distribution`; the probability is
        the fraction of replicates meeting every criterion, with its Wilson 95 % CI.
    """
    scale = None if crs_scale is None else grading_scale(crs_scale)
    crs_column = "crs_grade" if scale is None else scale.column
    columns = ["arm", "replicate", "status", "cr", "responder", crs_column]
    check_table(patients, columns)
    names, codes = arm_codes(patients["arm"])
    criteria = check_criteria(success, names, None if scale is None else scale.label)
    ends = sorted({c["compare"] for c in criteria if "compare" in c})
    check_table(patients, columns + [f"{end}_{x}" for end in ends for x in ("days", "event")])
    reps, rep = np.unique(np.asarray(patients["replicate"]), return_inverse=True)
    rep, n_reps, ok = rep.ravel(), reps.size, ok_mask(patients)
    flags = {"cr": np.asarray(patients["cr"]).astype(bool), "responder": np.asarray(patients["responder"]).astype(bool),
             "crs_grade3plus": np.asarray(patients[crs_column]) >= 3}
    grid = {k: _grid_counts(ok & f, codes, rep, len(names), n_reps) for k, f in flags.items()}
    arms = {name: {f"{k}_count": distribution(grid[k][i]) for k in COUNTS} for i, name in enumerate(names)}
    out = {"n": int(n_reps), "arms": arms, "success": None}
    if criteria:
        holds = np.ones(n_reps, dtype=bool)
        for c in criteria:
            if "compare" in c:
                pair = [names.index(a) for a in c["arms"]]
                holds &= _logrank_p(patients, c["compare"], codes, rep, n_reps, ok, pair) < c["logrank_p_below"]
            else:
                count = grid[c["count"]][names.index(c["arm"])]
                holds &= count >= c["at_least"] if "at_least" in c else count <= c["at_most"]
        out["success"] = {"criteria": [c["text"] for c in criteria], "probability": rate(int(holds.sum()), n_reps)}
    return out
