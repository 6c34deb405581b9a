"""ASTCT-like and Penn CRS (and ICANS) grades from the course of IL-6 receptor signalling (pure numpy).

The model's ``il6_signal`` (serum IL-6 net of tocilizumab blockade, pg/mL) stands in for the
clinical picture: grade g is reached while the signal is above threshold ``crs_g<g>``. The
thresholds are model parameters (calibrated, see the parameter table), so a patient's grade
is max{g : peak signal >= crs_g<g>}; onset and duration come from the first and last crossing
of the grade-1 threshold. Grade 5 (death) is an endpoint decision and is not assigned here.

Example:
    >>> crs_grade([20.0, 200.0, 5000.0], [30.0, 150.0, 800.0, 2500.0]).tolist()
    [0, 2, 4]
"""

from __future__ import annotations

import numpy as np

THRESHOLD_PARAMETERS = ("crs_g1", "crs_g2", "crs_g3", "crs_g4")
#: ICANS is graded the same way from the peak of the neuro-inflammation index ``NT``.
ICANS_THRESHOLD_PARAMETERS = ("icans_g1", "icans_g2", "icans_g3", "icans_g4")


def penn_thresholds(thresholds, r_penn) -> np.ndarray:
    """Penn-scale CRS thresholds from the ASTCT-like ones: grade 1 shared, grades 2-4 times ``r_penn``.

    Example:
        >>> penn_thresholds([30.0, 150.0, 800.0, 2500.0], 0.5).tolist()
        [30.0, 75.0, 400.0, 1250.0]
    """
    r = np.asarray(r_penn, dtype=float)
    thr = np.array(np.broadcast_to(np.asarray(thresholds, dtype=float), r.shape + (4,)), dtype=float)
    thr[..., 1:] = thr[..., 1:] * r[..., None]
    # a strong shift must not put grade 2 below grade 1: the scale stays ordered
    return np.maximum.accumulate(thr, axis=-1)


def crs_grade(peak_signal, thresholds) -> np.ndarray:
    """Grade 0-4 for each peak IL-6 signal given thresholds (4,) or per patient (n, 4)."""
    peak = np.asarray(peak_signal, dtype=float)
    thr = np.asarray(thresholds, dtype=float)
    if thr.ndim == 1:
        thr = np.broadcast_to(thr, peak.shape + (4,))
    return (peak[..., None] >= thr).sum(axis=-1).astype(np.int8)


def crs_summaries(grade1_threshold: float):
    """In-kernel summaries for grading: peak signal (+time), onset and resolution of grade >= 1."""
    from ..solve.summaries import FirstCrossing, LastCrossing, Max

    return [Max("il6_signal", name="crs_peak"),
            FirstCrossing("il6_signal", grade1_threshold, direction="up", name="crs_onset"),
            LastCrossing("il6_signal", grade1_threshold, direction="down", name="crs_resolved")]
