"""Predictive p-values: where a published result falls among virtual trials of the published size.

``celltrial validate`` judges each published trial result the way the trial produced it. From
the simulated virtual cohort (e.g. 500 patients) it draws replicate trials of the published
size and asks how often such a trial reports a value at least as far from the simulated
centre as the published one. The replicates come from a **two-stage bootstrap**: each replicate
first resamples the whole virtual cohort (the simulation's own Monte-Carlo error), then draws the
trial's patients from that resample (the trial's sampling error), so the spread of the
replicate statistic holds both. For a rate this is the beta-binomial the likelihood uses.

- **rate** (k of n): replicate trials of ``n`` patients; the statistic is the event count,
  compared with the published count ``round(k)``. For 0/1 outcomes the two-stage bootstrap has
  a closed form, Binomial(n, Binomial(N, p)/N) for a cohort of N with rate p, used directly.
- **landmark** (Kaplan-Meier survival at ``at_day``): replicate trials of ``round(n_eff)``
  patients, the size whose Kaplan-Meier estimate has the published CI's precision (censoring
  included; :attr:`~celltrial.calibration.targets.LandmarkTarget.n_eff`); the statistic is a
  vectorised Kaplan-Meier estimate at the landmark on each replicate.
- **value** (a median or kinetic metric with a CI or ``rel_sd``, no patient count): the published
  value's SD is taken as its sampling error; the predictive distribution on the target's scale is
  normal, centred on the simulated value, with variance published SD² + the simulation's
  Monte-Carlo SE² (the likelihood's model), and p = 2 (1 - Φ(|z|)).

Discrete statistics tie with the published value (equal counts; survival within half a
percentage point, the precision a whole percent is published to). Ties are split by the
**mid-p**: p = 2 min(P(sim < obs) + P(sim = obs)/2, P(sim > obs) + P(sim = obs)/2), capped at 1,
which is close to uniform when the model is right (the plain two-sided p would be conservative).
A row passes at p >= :data:`ALPHA`.

Example:
    >>> trials = np.random.default_rng(0).binomial(101, 0.58, 4000)  # CR counts of trials of 101
    >>> mid_p(trials, 59) > 0.9, mid_p(trials, 70) < 0.05
    (True, True)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import norm

from .summaries import CohortResult, quantity
from .targets import LandmarkTarget, RateTarget, ValueTarget

#: Replicate virtual trials per target; the p-value's Monte-Carlo SE is then below 0.005 near 0.05.
REPLICATES = 2000
#: A row passes when the predictive p-value is at least this.
ALPHA = 0.05
#: Most patient indices drawn at once (about 30 MB); larger bootstraps run in blocks of replicates.
_BLOCK = 4_000_000
#: Landmark quantity -> the patients-table columns it is computed from (as in summaries.py).
LANDMARK_COLUMNS = {"pfs_at": "pfs", "os_at": "os"}


@dataclass(frozen=True)
class Predictive:
    """A published value against replicate trials: the p-value, the trial size and a 95% range.

    ``low``/``high`` bound the central 95% of what a replicate trial reports, on the simulated
    scale (proportions for rates and landmarks, the target's unit for values); ``n`` is the
    replicate trial size (None for values).
    """

    p: float
    n: int | None
    low: float
    high: float
    method: str

    @property
    def passed(self) -> bool:
        return bool(self.p >= ALPHA)


def mid_p(draws, observed: float, tie: float = 0.0) -> float:
    """Two-sided mid-p of ``observed`` among ``draws``: ties (``|draw - observed| <= tie``) count half.

    Example:
        >>> mid_p([1, 2, 3, 4], 2.5), mid_p([1, 2, 3, 4], 4), mid_p([1, 2, 3, 4], 9)
        (1.0, 0.25, 0.0)
    """
    d = np.asarray(draws, float)
    d = d[np.isfinite(d)]
    if d.size == 0:
        return float("nan")
    below, above = np.mean(d < observed - tie), np.mean(d > observed + tie)
    equal = 1.0 - below - above
    return float(min(1.0, 2.0 * min(below + equal / 2.0, above + equal / 2.0)))


def replicate_indices(pool: int, n: int, replicates: int, rng: np.random.Generator) -> np.ndarray:
    """(replicates, n) patient indices into a pool of ``pool`` virtual patients, by the two-stage bootstrap.

    Stage 1 resamples the pool (Monte-Carlo error), stage 2 draws the trial from that resample.

    Example:
        >>> replicate_indices(10, 3, 4, np.random.default_rng(0)).shape
        (4, 3)
    """
    cohorts = rng.integers(0, pool, size=(replicates, pool))
    picks = rng.integers(0, pool, size=(replicates, n))
    return np.take_along_axis(cohorts, picks, axis=1)


def _index_blocks(pool: int, n: int, replicates: int, rng: np.random.Generator):
    """:func:`replicate_indices` in blocks of rows, so a large cohort or trial never needs gigabytes."""
    rows = max(1, _BLOCK // (pool + n))
    for start in range(0, replicates, rows):
        yield replicate_indices(pool, n, min(rows, replicates - start), rng)


def km_at(durations, events, day: float) -> np.ndarray:
    """Kaplan-Meier survival at ``day`` for each row of (replicates, n) ``durations`` and ``events``.

    Events at ``day`` count (S(day) = P(T > day)); at tied times events come before censorings.

    Example:
        >>> km_at(np.array([[30.0, 60.0, 90.0, 120.0]]), np.array([[1, 1, 0, 1]], bool), 60.0).tolist()
        [0.5]
    """
    d, e = np.atleast_2d(np.asarray(durations, float)), np.atleast_2d(np.asarray(events, bool))
    order = np.lexsort((~e, d), axis=-1)
    d, e = np.take_along_axis(d, order, axis=1), np.take_along_axis(e, order, axis=1)
    at_risk = d.shape[1] - np.arange(d.shape[1], dtype=float)
    factor = np.where(e & (d <= day), 1.0 - 1.0 / at_risk, 1.0)
    return np.prod(factor, axis=1)


def patient_flags(cohort: CohortResult, name: str, at_day=None) -> np.ndarray:
    """Per-patient 0/1 outcome of rate quantity ``name`` for the cohort's OK patients.

    Each patient is summarised alone with the quantity's own function, so the definition is
    exactly the one the cohort rate uses (e.g. CR by ``at_day``).
    """
    fn = quantity(name)[0]
    keep = np.flatnonzero(cohort.ok)
    return np.array([fn(_subset(cohort, i), at_day)[0] for i in keep], float)


def _subset(c: CohortResult, i: int) -> CohortResult:
    s = slice(i, i + 1)
    return CohortResult({k: np.asarray(v)[s] for k, v in c.patients.items()}, c.t, c.blood[s], c.copies[s])


def _rng(seed) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(seed))


def rate_predictive(flags, target: RateTarget, *, replicates: int = REPLICATES, seed=0) -> Predictive:
    """Event counts of replicate trials of ``target.n`` patients drawn from per-patient 0/1 ``flags``.

    For 0/1 outcomes the two-stage bootstrap has a closed form, used here (exact, and free of
    memory limits for any n): the resampled cohort's rate is Binomial(N, p)/N and a trial's count
    is Binomial(n, that rate).
    """
    flags = np.asarray(flags, float)
    rng = _rng(seed)
    resampled = rng.binomial(flags.size, flags.mean(), replicates) / flags.size
    counts = rng.binomial(int(target.n), resampled)
    lo, hi = np.percentile(counts, [2.5, 97.5]) / target.n
    return Predictive(mid_p(counts, round(target.k)), target.n, float(lo), float(hi),
                      f"replicate trials of {target.n} patients")


def landmark_predictive(durations, events, target: LandmarkTarget, *, replicates: int = REPLICATES,
                        seed=0) -> Predictive:
    """Kaplan-Meier landmarks of replicate trials of ``round(target.n_eff)`` patients."""
    durations, events = np.asarray(durations, float), np.asarray(events, bool)
    n = max(int(round(target.n_eff)), 2)
    blocks = _index_blocks(durations.size, n, replicates, _rng(seed))
    s = np.concatenate([km_at(durations[idx], events[idx], float(target.at_day)) for idx in blocks])
    tie = 0.005 if float(target.percent).is_integer() else 0.0005
    lo, hi = np.percentile(s, [2.5, 97.5])
    return Predictive(mid_p(s, target.observed, tie), n, float(lo), float(hi),
                      f"Kaplan-Meier at day {target.at_day:g} of replicate trials of {n} patients "
                      "(the size with the published CI's precision)")


def value_predictive(target: ValueTarget, simulated: float, se: float) -> Predictive | None:
    """Normal predictive of the published value: simulated centre, published SD and Monte-Carlo SE added.

    ``se`` is the simulated value's Monte-Carlo SE on the log scale (as in summaries.py). None for a
    band-only target or a missing simulated value.
    """
    if target.value is None or not np.isfinite(simulated) or (target.scale == "log" and simulated <= 0):
        return None
    mc = float(se) if np.isfinite(se) else 0.0
    if target.scale == "linear":
        mc *= abs(simulated)  # delta method: SD of x from the SD of log x
    centre, sd = float(target.to_scale(simulated)), float(np.hypot(target.sd, mc))
    p = float(2.0 * norm.sf(abs(target.center - centre) / sd))
    lo, hi = centre - 1.96 * sd, centre + 1.96 * sd
    back = np.exp if target.scale == "log" else float
    return Predictive(p, None, float(back(lo)), float(back(hi)),
                      "normal on the target's scale: published SD and simulated Monte-Carlo SE added")


def predictive_check(target, cohort: CohortResult, simulated: float, se: float, *,
                     replicates: int = REPLICATES, seed=0) -> Predictive | None:
    """The predictive p-value of one target against a simulated cohort (None when it has none).

    ``simulated`` and ``se`` are the cohort summary and its Monte-Carlo SE (summarise_cohort).
    """
    if isinstance(target, ValueTarget):
        return value_predictive(target, simulated, se)
    if isinstance(target, LandmarkTarget):
        kind = LANDMARK_COLUMNS.get(target.quantity)
        if kind is None:
            return None
        ok = cohort.ok
        d = np.asarray(cohort.patients[f"{kind}_days"], float)[ok]
        e = np.asarray(cohort.patients[f"{kind}_event"], bool)[ok]
        return landmark_predictive(d, e, target, replicates=replicates, seed=seed) if d.size else None
    flags = patient_flags(cohort, target.quantity, getattr(target, "at_day", None))
    flags = flags[np.isfinite(flags)]
    return rate_predictive(flags, target, replicates=replicates, seed=seed) if flags.size else None


def predictive_text(pred: Predictive | None, *, percent: bool, unit: str = "") -> str:
    """What 95% of replicate trials report, e.g. 'trials of 101: 45–64%'; '' without a check.

    Example:
        >>> predictive_text(Predictive(0.4, 101, 0.45, 0.64, ""), percent=True)
        'trials of 101: 45–64%'
        >>> predictive_text(Predictive(0.4, None, 8.3, 54.0, ""), percent=False, unit="cells/µL")
        'published value expected in 8.3–54 cells/µL'
    """
    if pred is None:
        return ""
    from .likelihood import format_estimate

    low = format_estimate(pred.low, percent=percent).rstrip("%")
    span = f"{low}–{format_estimate(pred.high, percent=percent, unit=unit)}"
    return f"trials of {pred.n}: {span}" if pred.n is not None else f"published value expected in {span}"
