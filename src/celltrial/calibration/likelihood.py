"""Log-likelihood of calibration targets given simulated summaries; CIs and pass/fail verdicts.

Vectorised over a batch of ``m`` parameter sets: every simulated summary is an array of shape
``(m,)``, keyed by target name (the simulator maps each target's ``quantity``/``at_day`` to a
summary). Simulated rates and survival fractions are proportions in [0, 1]; simulated values
are in the target's unit.

- rate and landmark: beta-binomial log-likelihood of the published k of n given the simulated
  proportion p estimated from ``n_sim`` virtual patients (the binomial when ``n_sim`` is None);
- value: normal on the target's scale (log or linear), variance = published SD**2 plus the
  simulation's own Monte-Carlo variance when given;
- total = sum of weight * contribution; contributions are returned per target.

A simulated summary that is NaN (failed simulation) or non-positive on a log scale gives -inf
for that parameter set (flagged in :attr:`LogLikelihood.invalid`), so an optimiser drops it.

Example:
    >>> from celltrial.calibration.targets import RateTarget
    >>> t = RateTarget(name="cr", quantity="cr_rate", events=5, n=11, source="[E] demo")
    >>> ll = log_likelihood([t], {"cr": [0.45, 0.9]}, n_sim=None)
    >>> ll.total.shape, bool(ll.total[0] > ll.total[1])
    ((2,), True)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from scipy.special import betaln, gammaln, xlog1py, xlogy
from scipy.stats import beta as beta_dist

from ..errors import InputError, did_you_mean
from .targets import LandmarkTarget, RateTarget, TargetSet, ValueTarget, z_of


def rate_ci(k, n, level: float = 0.95, method: str = "wilson"):
    """Confidence interval of a proportion k/n: Wilson score or exact (Clopper-Pearson).

    The same intervals as ``scipy.stats.binomtest(k, n).proportion_ci(level, method)``, but
    vectorised and defined for non-integer k (a count derived from a percentage).

    Example:
        >>> lo, hi = rate_ci(59, 101)
        >>> f"{lo:.3f}-{hi:.3f}"
        '0.487-0.675'
    """
    k, n = np.asarray(k, dtype=float), np.asarray(n, dtype=float)
    if np.any((k < 0) | (k > n) | (n <= 0)):
        raise InputError(f"rate_ci needs 0 <= k <= n and n > 0; got k={k}, n={n}")
    if method == "wilson":
        z2, p = z_of(level) ** 2, k / n
        centre = (p + z2 / (2 * n)) / (1 + z2 / n)
        half = np.sqrt(z2 * p * (1 - p) / n + z2**2 / (4 * n**2)) / (1 + z2 / n)
        return centre - half, centre + half
    if method == "exact":
        alpha = (1.0 - level) / 2.0
        # the beta quantile is undefined at k = 0 (or n); the bound is 0 (or 1) there
        lo = np.where(k > 0, beta_dist.ppf(alpha, np.where(k > 0, k, 1.0), n - k + 1), 0.0)
        hi = np.where(k < n, beta_dist.ppf(1 - alpha, k + 1, np.where(k < n, n - k, 1.0)), 1.0)
        return lo, hi
    raise InputError(f"method must be 'wilson' or 'exact'; got {method!r}{did_you_mean(method, ['wilson', 'exact'])}")


def clip_rate(p, n_sim):
    """Simulated proportions kept half an event away from 0 and 1: [0.5/n_sim, 1 - 0.5/n_sim].

    A proportion of 0 from ``n_sim`` patients means "below about 1/n_sim", not "impossible";
    the clip keeps the beta-binomial proper. Returns (clipped p, mask of the entries moved).
    With ``n_sim`` None the proportion is taken as exact and nothing is clipped.

    Example:
        >>> clip_rate([0.0, 0.3], 100)[0].tolist()
        [0.005, 0.3]
    """
    p = np.asarray(p, dtype=float)
    if n_sim is None:
        return p, np.zeros(p.shape, dtype=bool)
    n_sim = np.asarray(n_sim, dtype=float)  # one per proportion when the effective size varies (emulation)
    if np.any(n_sim < 1):
        raise InputError(f"n_sim is the number of virtual patients behind each proportion (>= 1); got {n_sim}")
    eps = 0.5 / n_sim
    clipped = np.clip(p, eps, 1.0 - eps)
    return clipped, (clipped != p) & np.isfinite(p)


def rate_log_likelihood(k, n, p, n_sim: int | None = None):
    """log P(k events of n | simulated proportion p from n_sim virtual patients), elementwise.

    The binomial ``log C(n, k) + k log p + (n - k) log(1 - p)`` when ``n_sim`` is None. Otherwise
    the simulation's Monte-Carlo error is folded in: the Haldane posterior of the model's true
    rate after x = n_sim p events in n_sim patients is Beta(x, n_sim - x), with mean p and
    variance p(1 - p)/(n_sim + 1), i.e. the MC variance; the binomial averaged over it is the
    beta-binomial ``log C(n, k) + log B(k + a, n - k + b) - log B(a, b)``, a = n_sim p,
    b = n_sim (1 - p). It is exact at small counts and near 0 or 1 (CRS grade >= 3, late
    landmarks), where a normal approximation on the logit is poor, and tends to the binomial as
    n_sim grows. p is clipped by :func:`clip_rate`. k may be non-integer. NaN p gives -inf.

    Example:
        >>> from scipy.stats import binom
        >>> bool(np.isclose(rate_log_likelihood(5, 11, 0.45), binom.logpmf(5, 11, 0.45)))
        True
    """
    k, n = np.asarray(k, dtype=float), np.asarray(n, dtype=float)
    p = np.asarray(p, dtype=float)
    if np.any((p < 0) | (p > 1)):
        raise InputError(f"simulated proportions must lie in [0, 1]; got {p[(p < 0) | (p > 1)][:5]}")
    bad = ~np.isfinite(p)
    p = np.where(bad, 0.5, p)
    log_choose = gammaln(n + 1) - gammaln(k + 1) - gammaln(n - k + 1)
    if n_sim is None:
        ll = log_choose + xlogy(k, p) + xlog1py(n - k, -p)
    else:
        p, _ = clip_rate(p, n_sim)
        a, b = n_sim * p, n_sim * (1.0 - p)
        ll = log_choose + betaln(k + a, n - k + b) - betaln(a, b)
    return np.where(bad, -np.inf, ll)


def normal_log_likelihood(observed, sd, simulated, simulated_sd=None):
    """log N(observed | simulated, sd**2 + simulated_sd**2), elementwise; NaN simulated gives -inf.

    ``sd`` is the published value's SD and ``simulated_sd`` the simulation's Monte-Carlo SD, on
    the same scale.

    Example:
        >>> bool(np.isclose(normal_log_likelihood(0.0, 1.0, 0.0), -0.5 * np.log(2 * np.pi)))
        True
    """
    simulated = np.asarray(simulated, dtype=float)
    var = np.asarray(sd, dtype=float) ** 2
    if simulated_sd is not None:
        var = var + np.asarray(simulated_sd, dtype=float) ** 2
    bad = ~np.isfinite(simulated)
    resid = observed - np.where(bad, 0.0, simulated)
    return np.where(bad, -np.inf, -0.5 * (np.log(2 * np.pi * var) + resid**2 / var))


@dataclass(frozen=True)
class LogLikelihood:
    """Total log-likelihood of a batch and its per-target parts (all arrays of shape (m,)).

    ``per_target`` holds weighted contributions (they sum to ``total``); ``clipped`` marks the
    simulated proportions moved by :func:`clip_rate`; ``invalid`` marks simulated summaries
    that were NaN or non-positive on a log scale (contribution -inf).
    """

    total: np.ndarray
    per_target: dict
    clipped: dict
    invalid: dict


def _batch(simulated: Mapping, names: list) -> dict:
    missing = [n for n in names if n not in simulated]
    if missing:
        hints = "".join(did_you_mean(n, list(simulated)) for n in missing[:1])
        raise InputError(f"no simulated summary for targets {missing}{hints}; given: {sorted(simulated)}")
    out = {n: np.atleast_1d(np.asarray(simulated[n], dtype=float)) for n in names}
    shapes = {n: a.shape for n, a in out.items()}
    if any(len(s) != 1 for s in shapes.values()) or len(set(shapes.values())) > 1:
        raise InputError(f"simulated summaries must be arrays of one shared shape (m,); got {shapes}")
    return out


def target_log_likelihood(target, simulated, *, n_sim: int | None = None, simulated_sd=None) -> np.ndarray:
    """Unweighted log-likelihood of one target for simulated summaries of shape (m,).

    Rates and landmarks: :func:`rate_log_likelihood` (landmarks with their effective k and n).
    Values: :func:`normal_log_likelihood` on the target's scale (``simulated_sd`` on that scale,
    e.g. the CV of a simulated median for a log-scale target). A band-only value target gives 0.

    Example:
        >>> from celltrial.calibration.targets import ValueTarget
        >>> t = ValueTarget(name="cmax", quantity="cmax_median", value=100.0, rel_sd=0.5,
        ...                 source="[E] demo")
        >>> target_log_likelihood(t, [100.0, 300.0]).shape
        (2,)
    """
    sim = np.atleast_1d(np.asarray(simulated, dtype=float))
    if isinstance(target, RateTarget | LandmarkTarget):
        return rate_log_likelihood(target.k, target.n if isinstance(target, RateTarget) else target.n_eff, sim, n_sim)
    if not isinstance(target, ValueTarget):
        raise InputError(f"expected a RateTarget, ValueTarget or LandmarkTarget; got {type(target).__name__}")
    if target.value is None:
        return np.zeros(sim.shape)
    ok = sim > 0 if target.scale == "log" else np.isfinite(sim)
    on_scale = target.to_scale(np.where(ok, sim, 1.0))  # placeholder 1.0 avoids log(0) warnings
    ll = normal_log_likelihood(target.center, target.sd, on_scale, simulated_sd)
    return np.where(ok, ll, -np.inf)


def log_likelihood(targets, simulated: Mapping, *, n_sim: int | None = None,
                   simulated_sd: Mapping | None = None) -> LogLikelihood:
    """Weighted total log-likelihood of ``targets`` for a batch of m simulated parameter sets.

    Main arguments: ``targets`` (a :class:`TargetSet` or a list of targets) and ``simulated``
    (target name -> summary array, shape (m,), proportions in [0, 1] for rates and landmarks).
    Other arguments: ``n_sim`` (virtual patients behind each simulated proportion; None = exact)
    and ``simulated_sd`` (target name -> Monte-Carlo SD of a simulated value, on its scale).
    Band-only value targets need no simulated entry. Raises InputError on missing names or
    mismatched shapes.

    Example:
        >>> from celltrial.calibration.targets import RateTarget
        >>> t = RateTarget(name="cr", quantity="cr_rate", events=59, n=101, source="[R] Locke 2019")
        >>> log_likelihood([t], {"cr": np.array([0.58, 0.40])}, n_sim=1000).per_target["cr"].shape
        (2,)
    """
    items: Iterable = targets.targets if isinstance(targets, TargetSet) else list(targets)
    needed = [t.name for t in items if not (isinstance(t, ValueTarget) and t.value is None)]
    sims = _batch(simulated, needed)
    m = next(iter(sims.values())).shape if sims else (1,)
    sds = simulated_sd or {}
    per, clipped, invalid = {}, {}, {}
    for t in items:
        sim = sims.get(t.name, np.full(m, np.nan))
        ll = target_log_likelihood(t, sim, n_sim=n_sim, simulated_sd=sds.get(t.name))
        per[t.name] = t.weight * ll if t.weight else np.zeros(m)  # weight 0 must not turn -inf into NaN
        clipped[t.name] = clip_rate(sim, n_sim)[1] if not isinstance(t, ValueTarget) else np.zeros(m, dtype=bool)
        invalid[t.name] = np.isneginf(ll) & ~(isinstance(t, ValueTarget) and t.value is None)
    total = np.sum(list(per.values()), axis=0) if per else np.zeros(m)
    return LogLikelihood(total=total, per_target=per, clipped=clipped, invalid=invalid)


class Verdict(NamedTuple):
    """Pass/fail of one target with a sentence saying why."""

    passed: bool
    reason: str


def pass_band(target) -> tuple[float, float]:
    """The band a simulated value must overlap: the target's ``band``, else its 95% CI.

    On the simulated scale: proportions for rates and landmarks (the Wilson 95% CI of k of n,
    or the published 95% CI for landmarks), the published unit for values (their 95% CI, or
    ``center ± 1.96 sd`` on the target's scale).

    Example:
        >>> from celltrial.calibration.targets import RateTarget
        >>> t = RateTarget(name="cr", quantity="cr_rate", events=59, n=101, source="[R] Locke 2019")
        >>> [round(x, 3) for x in pass_band(t)]
        [0.487, 0.675]
    """
    if isinstance(target, ValueTarget):
        if target.band is not None:
            return target.band.lower, target.band.upper
        if target.ci is not None and np.isclose(target.ci.level, 0.95):
            return target.ci.lower, target.ci.upper
        lo, hi = target.center - z_of(0.95) * target.sd, target.center + z_of(0.95) * target.sd
        return tuple(float(np.exp(x)) if target.scale == "log" else x for x in (lo, hi))
    if target.band is not None:
        return target.band_fraction()
    if isinstance(target, LandmarkTarget):
        if target.ci is not None and np.isclose(target.ci.level, 0.95):
            return target.ci.lower / 100.0, target.ci.upper / 100.0
        return tuple(float(x) for x in rate_ci(target.k, target.n_eff))
    return tuple(float(x) for x in rate_ci(target.k, target.n))


def format_estimate(value: float, ci=None, *, percent: bool = False, unit: str = "") -> str:
    """'55% (48–61%)' for a proportion, '24,000 (18,000–31,000) copies/µg' for a value.

    Example:
        >>> format_estimate(0.55, (0.48, 0.61), percent=True)
        '55% (48–61%)'
    """
    def f(x):
        if percent:
            return f"{100 * x:.0f}"
        return f"{x:,.0f}" if abs(x) >= 1000 else f"{x:.3g}"

    pct, tail = ("%", "") if percent else ("", f" {unit}" if unit else "")
    text = f"{f(value)}{pct}"
    return text + (f" ({f(ci[0])}–{f(ci[1])}{pct})" if ci is not None else "") + tail


def verdict(target, simulated: float, simulated_ci: tuple | None = None) -> Verdict:
    """Pass when the simulated value, or its CI, overlaps the target's :func:`pass_band`.

    ``simulated`` (and ``simulated_ci``, lower <= simulated <= upper) are on the simulated scale
    (proportions for rates and landmarks). The band's edges count as inside. NaN fails.

    Example:
        >>> from celltrial.calibration.targets import RateTarget
        >>> t = RateTarget(name="cr", quantity="cr_rate", events=59, n=101, source="[R] Locke 2019")
        >>> verdict(t, 0.55, (0.48, 0.61)).passed
        True
    """
    percent = not isinstance(target, ValueTarget)
    unit = "" if percent else target.unit
    lo, hi = pass_band(target)
    where = "the band" if target.band is not None else "the target's 95% CI"
    band_text = f"{where} {format_estimate(lo, percent=percent)}–{format_estimate(hi, percent=percent, unit=unit)}"
    if not np.isfinite(simulated):
        return Verdict(False, f"no simulated value (NaN) to compare with {band_text}")
    s_lo, s_hi = (simulated, simulated) if simulated_ci is None else simulated_ci
    if not s_lo <= simulated <= s_hi:
        raise InputError(f"simulated_ci {simulated_ci} must contain the simulated value {simulated}")
    shown = format_estimate(simulated, simulated_ci, percent=percent, unit=unit)
    if s_hi < lo or s_lo > hi:
        side = "below" if s_hi < lo else "above"
        return Verdict(False, f"simulated {shown} is {side} {band_text}")
    inside = "lies in" if lo <= simulated <= hi else "overlaps"
    return Verdict(True, f"simulated {shown} {inside} {band_text}")
