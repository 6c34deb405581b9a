"""CRS and neurotoxicity rates of one arm, on the grading scales the scenario names.

The patients table holds one grade column per scale the model can tell apart (``crs_grade``:
ASTCT 2019, also read as Lee 2014 and CARTOX; ``crs_grade_penn``; ``icans_grade``: the one
neurotoxicity grade, read as ICANS and CTCAE). The summary's ``crs_grade3plus_rate``,
``crs_any_rate`` and ``crs_grade_counts`` follow the chosen CRS scale, ``icans_*`` the chosen
neurotoxicity scale; ``crs_by_scale`` keeps every distinguishable CRS scale's rates (so the
ASTCT numbers stay available under a Penn-graded scenario) and ``crs_grade3plus_penn_rate``
stays for older readers. :mod:`celltrial.biology.grading_scales` has the scales and sources.

Example:
    >>> import numpy as np
    >>> p = {"crs_grade": np.array([0, 2, 3, 1]), "crs_grade_penn": np.array([0, 3, 4, 1])}
    >>> out = toxicity_summary(p, 4, {"crs": "penn", "neurotoxicity": "icans"})
    >>> out["crs_grade3plus_rate"]["events"], out["crs_by_scale"]["astct2019"]["grade3plus_rate"]["events"]
    (2, 1)
"""

from __future__ import annotations

import numpy as np

from ..biology.grading_scales import CRS_SCALES, DEFAULT_CRS, DEFAULT_NEUROTOXICITY, crs_scale, neurotoxicity_scale
from ..errors import InputError

#: Scales of a summary made without naming them (the model's own grades).
DEFAULT_GRADING = {"crs": DEFAULT_CRS, "neurotoxicity": DEFAULT_NEUROTOXICITY}


def check_grading(grading) -> dict:
    """``{"crs": name, "neurotoxicity": name}`` with known names (None: the defaults); InputError otherwise.

    Example:
        >>> check_grading({"crs": "lee2014"})
        {'crs': 'lee2014', 'neurotoxicity': 'icans'}
    """
    out = {**DEFAULT_GRADING, **(grading or {})}
    crs_scale(out["crs"])
    neurotoxicity_scale(out["neurotoxicity"])
    return out


def _grades(p: dict, column: str, scale: str) -> np.ndarray:
    if column not in p:
        raise InputError(f"the {scale!r} grading scale reads column {column!r}, which this patients table lacks "
                         "(a store written before it was modelled): summarise it on the default scale")
    grades = np.asarray(p[column]).astype(int)
    if grades.size and (grades.min() < 0 or grades.max() > 4):
        raise InputError(f"{column} must lie in 0..4, got values from {grades.min()} to {grades.max()}")
    return grades


def _rates(grades, n_ok: int) -> dict:
    from .statistics import rate  # statistics imports this module

    return {"grade3plus_rate": rate(int((grades >= 3).sum()), n_ok), "any_rate": rate(int((grades >= 1).sum()), n_ok)}


def toxicity_summary(p: dict, n_ok: int, grading: dict) -> dict:
    """CRS and neurotoxicity entries of an arm's summary; ``p`` holds the arm's OK rows, ``grading`` the scales."""
    chosen = crs_scale(grading["crs"])
    grades = _grades(p, chosen.column, chosen.name)
    rates = _rates(grades, n_ok)
    out = {"crs_grade3plus_rate": rates["grade3plus_rate"], "crs_any_rate": rates["any_rate"],
           "crs_grade_counts": {str(g): int(c) for g, c in enumerate(np.bincount(grades, minlength=5))}}
    neuro = neurotoxicity_scale(grading["neurotoxicity"])
    if neuro.column in p:  # stores written before neurotoxicity was modelled lack it
        icans = _grades(p, neuro.column, neuro.name)
        rates = _rates(icans, n_ok)
        out.update(icans_grade3plus_rate=rates["grade3plus_rate"], icans_any_rate=rates["any_rate"],
                   icans_grade_counts={str(g): int(c) for g, c in enumerate(np.bincount(icans, minlength=5))})
    # one entry per grade the model distinguishes, named by the scale it is read as
    by_scale = {s.name: _rates(_grades(p, s.column, s.name), n_ok)
                for s in CRS_SCALES.values() if s.reads_as == s.name and s.column in p}
    if "penn" in by_scale:  # the key older readers use for the Penn scale (ELIANA, JULIET)
        out["crs_grade3plus_penn_rate"] = by_scale["penn"]["grade3plus_rate"]
    out["crs_by_scale"] = by_scale
    return out
