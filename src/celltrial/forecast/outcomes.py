"""What the simulated courses mean for the patient: progression, extinction, CRS, cost, bands (pure numpy).

Progression after the forecast origin t0 follows the trial's imaging rule (Lugano-like, see
:mod:`celltrial.trials.response`) read continuously on the grid instead of at scan days: the
burden is measurable (>= ``imaging_detection_cells``) and at least (1 + ``progression_increase``)
x its nadir so far (the lowest of baseline B0 and every earlier grid value, history included),
or measurable again after having been below detection; or it reaches the lethal burden
(death counts as a PFS event). Continuous reading is an idealisation: a real scan schedule
sees progression later, by up to its interval.

CRS and ICANS after t0: grades from the peaks of ``il6_signal`` and of the neuro-inflammation
index ``NT`` after t0 with the patient's own thresholds (:func:`celltrial.biology.grading.crs_grade`,
as the trial grades them); grade >= 3 is the risk reported.

Example:
    >>> t = np.array([0.0, 1.0, 2.0, 3.0])
    >>> progression_day(t, np.array([[1e11, 1e10, 1e10, 2e10]]), np.array([1e11]), origin=1.0,
    ...                 detection=1e9, increase=0.5, lethal=np.array([1e13])).tolist()
    [3.0]
"""

from __future__ import annotations

import numpy as np

from ..biology.grading import THRESHOLD_PARAMETERS, crs_grade
from ..errors import Status

#: Quantiles of the prediction bands: 95 % and 80 % intervals and the median.
QUANTILES = (0.025, 0.1, 0.5, 0.9, 0.975)


def progression_day(t, burden, baseline, *, origin: float, detection: float, increase: float, lethal) -> np.ndarray:
    """(n,) first grid day >= ``origin`` at which the burden (n, T) meets the progression rule; inf if never."""
    burden = np.asarray(burden, dtype=float)
    start = np.asarray(baseline, float)[:, None]
    nadir = np.minimum.accumulate(np.concatenate([start, burden[:, :-1]], axis=1), axis=1)
    nadir = np.minimum(nadir, start)
    below = np.logical_or.accumulate(np.concatenate([np.zeros_like(start, bool), burden[:, :-1] < detection],
                                                    axis=1), axis=1)
    measurable = burden >= detection
    event = (measurable & ((burden >= (1.0 + increase) * nadir) | below)) | (burden >= np.asarray(lethal)[:, None])
    event &= (t >= origin)[None, :]
    return np.where(event.any(axis=1), t[np.argmax(event, axis=1)], np.inf)


def death_day(t, burden, lethal, *, origin: float) -> np.ndarray:
    """(n,) first grid day >= ``origin`` with the burden (n, T) at or above ``lethal`` (n,) cells; inf if never."""
    event = (np.asarray(burden, float) >= np.asarray(lethal, float)[:, None]) & (t >= origin)[None, :]
    return np.where(event.any(axis=1), t[np.argmax(event, axis=1)], np.inf)


def consistent_draws(t, burden, status, record) -> np.ndarray:
    """(n,) draws whose course fits the data qualitatively: solved, and tumour present at every quantified
    ctDNA or burden observation (a course drawn extinct before a positive tumour signal contradicts it)."""
    ok = np.asarray(status) == Status.OK
    tumour = np.isin(np.array(record.observables), ("ctdna", "B_tot", "Bp", "Bs", "Bn")) & ~record.blq
    for day in record.times[tumour]:
        j = min(int(np.searchsorted(t, day)), t.size - 1)
        ok &= burden[:, j] > 0
    return ok


def grade_after(t, signal, params, origin: float, names=THRESHOLD_PARAMETERS) -> np.ndarray:
    """(n,) grade (0-4) from the peak of ``signal`` (n, T) after ``origin``, with the thresholds ``names`` of
    ``params`` (name -> (n,) or scalar): IL-6 and the CRS thresholds, or NT and the ICANS ones."""
    after = t > origin
    peak = np.max(np.where(after[None, :], signal, 0.0), axis=1) if after.any() else np.zeros(signal.shape[0])
    thresholds = np.stack([np.broadcast_to(np.asarray(params[p], float), peak.shape) for p in names], axis=1)
    return crs_grade(peak, thresholds).astype(int)


def bands(values, *, sigma: float, rng: np.random.Generator) -> np.ndarray:
    """(len(QUANTILES), T) quantiles of future measurements: values (n, T) x exp(sigma z), residual error as fitted
    (a level of exactly 0, an extinct tumour, stays 0: below any limit)."""
    noisy = values * np.exp(sigma * rng.standard_normal(values.shape))
    return np.quantile(noisy, QUANTILES, axis=0)


def summary_interval(x) -> dict:
    """Mean, Monte Carlo standard error of the mean, and the 10-90 % and 2.5-97.5 % spread across draws.

    Example:
        >>> summary_interval(np.array([1.0, 3.0]))["mean"]
        2.0
    """
    x = np.asarray(x, dtype=float)
    q = np.quantile(x, [0.025, 0.1, 0.9, 0.975]) if x.size else np.full(4, np.nan)
    se = float(x.std(ddof=1) / np.sqrt(x.size)) if x.size > 1 else float("nan")
    return {"mean": float(x.mean()) if x.size else float("nan"), "se": se, "q10": float(q[1]), "q90": float(q[2]),
            "q025": float(q[0]), "q975": float(q[3])}


def proportion(flags) -> dict:
    """Share of True with a Wilson 95 % interval (Monte Carlo uncertainty over the draws).

    Example:
        >>> proportion(np.array([True, False, False, False]))["p"]
        0.25
    """
    flags = np.asarray(flags, dtype=bool)
    n = flags.size
    if n == 0:
        return {"p": float("nan"), "low": float("nan"), "high": float("nan")}
    p, z = flags.mean(), 1.96
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return {"p": float(p), "low": float(max(centre - half, 0.0)), "high": float(min(centre + half, 1.0))}
