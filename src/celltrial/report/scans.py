"""Tumour burden read at the imaging assessments, as the trial reads it, for the waterfall plot.

The trial's best overall response comes from scans (Lugano-like rules of
:mod:`celltrial.trials.response`), not from the continuous model curve, which can dip between
scans. A waterfall whose bar heights came from the curve and colours from the scans could show a
"PD" bar with 30% shrinkage; here both come from one reading of the same scans.

Example:
    >>> days = np.array([0.0, 28.0, 90.0])
    >>> best, change = read_scans(days, np.array([1e10, 4e9, 2e10]), 1e10, np.array([28.0, 90.0]), np.inf, {})
    >>> best, round(change, 6)
    ('PR', -60.0)
"""

from __future__ import annotations

import numpy as np

from ..trials.response import LABELS, NE, classify


def imaging_days(ctx) -> np.ndarray | None:
    """The scenario's imaging days (days after the first infusion), or None when the run does not say.

    Read from the endpoint rules when the run stores them, else from the scenario file as run (its
    ``assessments.imaging_days``, or the scenario default when the file leaves them out)."""
    days = ctx.rules.get("imaging_days")
    text = ctx.meta.get("scenario_text")
    if days is None and isinstance(text, str) and text.strip():
        days = _imaging_days_of(text)
    try:
        out = np.asarray(days, dtype=float).ravel()
    except (TypeError, ValueError):
        return None
    out = out[np.isfinite(out) & (out > 0)]
    return np.unique(out) if out.size else None


def _imaging_days_of(text: str):
    import yaml

    from ..scenarios.schema import Assessments

    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError:
        return None
    if not isinstance(doc, dict):
        return None
    assessments = doc.get("assessments")
    days = assessments.get("imaging_days") if isinstance(assessments, dict) else None
    return Assessments.model_fields["imaging_days"].default if days is None else days


def _log_interp(x: np.ndarray, day: np.ndarray, value: np.ndarray) -> np.ndarray:
    """Burden at ``x`` interpolated in log space (tumours grow and shrink exponentially between samples)."""
    logs = np.log(np.maximum(value, 1e-300))
    return np.exp(np.interp(x, day, logs))


def read_scans(day, burden, baseline, scans, death_day, rules: dict) -> tuple:
    """(best overall response, best % change from baseline) of one patient read at ``scans``.

    Scans before death and up to the first progression count; a scan without measurable disease
    (CR) counts as −100%. ("NE", NaN) when no scan was read."""
    detection = _rule(rules, "imaging_detection_cells", 1e9)
    pr_fraction = _rule(rules, "partial_response_fraction", 0.5)
    increase = _rule(rules, "progression_increase", 0.5)
    fin = np.isfinite(burden)
    day, burden = np.asarray(day, dtype=float)[fin], np.asarray(burden, dtype=float)[fin]
    scans = np.asarray(scans, dtype=float)
    scans = scans[(scans >= day.min()) & (scans <= day.max() + 1e-9)] if day.size else scans[:0]
    if not scans.size or not np.isfinite(baseline) or baseline <= 0:
        return "NE", float("nan")
    b = _log_interp(scans, day, burden)
    codes = classify(scans, b[None, :], np.array([baseline]), np.array([death_day]), detection=detection,
                     pr_fraction=pr_fraction, increase=increase)[0]
    read = codes != NE
    if not read.any():
        return "NE", float("nan")
    change = np.where(b < detection, -100.0, 100.0 * (b - baseline) / baseline)
    return str(LABELS[codes[read].min()]), float(change[read].min())


def rule_words(rules: dict) -> str:
    """How a bar's height places it in its colour's category, with the run's thresholds (for captions)."""
    pr = 100 * _rule(rules, "partial_response_fraction", 0.5)
    pd = 100 * _rule(rules, "progression_increase", 0.5)
    return (f"CR bars are at −100% (no measurable disease), PR bars at −{pr:g}% or below, SD bars between "
            f"−{pr:g}% and +{pd:g}%, and PD bars (progression at the first scan) at +{pd:g}% or above")


def _rule(rules: dict, name: str, default: float) -> float:
    try:
        v = float(rules.get(name, default))
    except (TypeError, ValueError):
        return default
    return v if np.isfinite(v) and v > 0 else default
