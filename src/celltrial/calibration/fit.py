"""Fit a population calibration case: emulate in waves, sample the posterior, check on the simulator.

Steps (:func:`calibrate`): a space-filling design over the prior box -> the batched simulator
with common random numbers -> quadratic emulators of every summary on its link scale (logit
for rates, log for positive values) -> the posterior of the emulated likelihood (emcee) ->
a refocused design around it (next wave) -> finally the **real simulator** at the posterior
median and at posterior draws, which gives each target's achieved value with an interval and
the validation's predictive verdict (:func:`check_targets`). The likelihood adds the emulator's
variance and the simulation's Monte-Carlo variance to each target's own uncertainty
(:func:`emulated_log_likelihood`).

Example:
    >>> link_values(np.array([[0.5, 2.0]]), ["rate", "positive"], n_sim=100).round(3).tolist()
    [[0.0, 0.693]]
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.special import expit, logit

from .design import check_calibration_settings
from .likelihood import format_estimate, normal_log_likelihood, rate_log_likelihood
from .sampler import wave_loop
from .summaries import RATE, mc_interval, quantity, summarise_cohort
from .targets import LandmarkTarget, RateTarget, ValueTarget

#: Posterior SD above this share of the prior (uniform box) SD: the targets do not identify the value.
NOT_IDENTIFIED = 0.7


def scales_of(wanted) -> list:
    return [quantity(q)[1] for q, _ in wanted]


def link_values(values, scales, n_sim: int) -> np.ndarray:
    """Summaries on the emulation scale: logit of rates (kept half an event from 0 and 1), log of the rest."""
    values = np.asarray(values, float).copy()
    eps = 0.5 / n_sim
    for j, scale in enumerate(scales):
        col = values[:, j]
        values[:, j] = logit(np.clip(col, eps, 1 - eps)) if scale == RATE else np.log(np.where(col > 0, col, np.nan))
    return values


def emulated_log_likelihood(targets, scales, n_sim: int, mc_sd):
    """log_lik(mean, var) on the link scale, for :func:`~celltrial.calibration.sampler.wave_loop`.

    Rates and landmarks: a beta-binomial whose effective simulation size n_eff joins the
    Monte-Carlo and emulator variances, 1/n_eff = 1/n_sim + var p(1 - p) (var of the logit).
    Values: normal on the target's scale with the emulator and Monte-Carlo SDs added.
    """
    mc_sd = np.asarray(mc_sd, float)

    def log_lik(mean, var):
        total = np.zeros(mean.shape[0])
        for j, t in enumerate(targets):
            if isinstance(t, RateTarget | LandmarkTarget):
                p = expit(mean[:, j])
                n_eff = np.maximum(1.0 / (1.0 / n_sim + var[:, j] * p * (1 - p)), 1.0)
                n = t.n if isinstance(t, RateTarget) else t.n_eff
                total += t.weight * rate_log_likelihood(t.k, n, p, n_eff)
            elif isinstance(t, ValueTarget) and t.value is not None:
                sd = np.sqrt(var[:, j] + mc_sd[j] ** 2)  # on the log (link) scale
                if t.scale == "log":
                    total += t.weight * normal_log_likelihood(t.center, t.sd, mean[:, j], sd)
                else:  # delta method: the SD of exp(mean) is exp(mean) * sd
                    sim = np.exp(mean[:, j])
                    total += t.weight * normal_log_likelihood(t.center, t.sd, sim, sim * sd)
        return total

    assert all(s == RATE for t, s in zip(targets, scales, strict=True) if not isinstance(t, ValueTarget))
    return log_lik


@dataclass
class TargetCheck:
    """A target against the real simulator: central value, interval, verdict and a table row.

    ``passed`` is the validation's verdict (predictive p-value of the published value >= 0.05);
    ``p_value``, ``predictive`` and ``overlap`` are as in :class:`~celltrial.calibration.validation.Row`.
    """

    name: str
    observed: str
    simulated: float
    interval: tuple
    passed: bool
    reason: str
    text: str
    p_value: float | None = None
    predictive: str = ""
    overlap: bool | None = None


@dataclass
class PopulationFit:
    """Result of :func:`calibrate`: posterior on theta and natural scale, diagnostics, target checks."""

    labels: list
    samples: np.ndarray          # (S, k) theta
    values: dict                 # label -> dict(median, low, high) natural scale
    correlations: np.ndarray
    waves: object
    checks: list = field(default_factory=list)
    warnings: list = field(default_factory=list)
    theta_median: np.ndarray | None = None


def check_targets(problem, targets, thetas, median_theta) -> list:
    """Each target at ``median_theta``, judged as ``celltrial validate`` does, plus the range over ``thetas``.

    The verdict is the validation's (:func:`~celltrial.calibration.validation.target_row`): the
    published value's predictive p-value among replicate trials of the published size drawn from
    the cohort simulated at the posterior median, seeded as the validation seeds them. The spread
    over posterior draws is reported beside it, never used to pass a target.
    """
    from .validation import target_row  # validation imports this module (observed_text): import here

    median = problem.cohort(median_theta)
    values, se, n = summarise_cohort(median, problem.wanted)
    draws = problem.simulate(thetas)[0] if len(thetas) else np.empty((0, len(targets)))
    seed = int(problem.scenario.seed or 0)
    out = []
    for j, t in enumerate(targets):
        centre, unit, percent = float(values[j]), getattr(t, "unit", "") or "", quantity(t.quantity)[1] == RATE
        row = target_row(t, median, centre, float(se[j]), int(n[j]), seed=(seed, j))
        spread = draws[:, j][np.isfinite(draws[:, j])]
        extra = (f"; posterior draws {format_estimate(spread.min(), percent=percent)}–"
                 f"{format_estimate(spread.max(), percent=percent, unit=unit)}") if spread.size else ""
        out.append(TargetCheck(t.name, row.observed, centre, mc_interval(t.quantity, centre, float(se[j]), int(n[j])),
                               row.passed, row.reason + extra, row.simulated, row.p_value, row.predictive,
                               row.overlap))
    return out


def observed_text(t) -> str:
    """The published value of a target as one short text (for tables)."""
    if isinstance(t, RateTarget):
        return f"{t.observed:.0%} (n={t.n})"
    if isinstance(t, LandmarkTarget):
        return f"{t.observed:.0%} at day {t.at_day:g}"
    return f"{t.value:g} {t.unit}" if t.value is not None else f"band {t.band.lower:g}-{t.band.upper:g} {t.unit}"


def calibrate(problem, targets, *, design_points: int, waves: int, seed: int = 0, check_draws: int = 8,
              progress=None, n_steps: int = 1500) -> PopulationFit:
    """Fit ``problem`` to ``targets`` (a list in the problem's output order); see the module docstring."""
    # every setting is checked before the first (slow) wave is simulated
    check_calibration_settings(len(problem.parameters), design_points=design_points, waves=waves,
                               n_steps=n_steps, check_draws=check_draws)
    scales = scales_of(problem.wanted)
    n_sim = int(problem.scenario.cohort.patients) * int(problem.scenario.cohort.replicates)
    mc_cache, state = [], {}

    def simulate_batch(thetas):
        values, se, _ = problem.simulate(thetas)
        mc_cache.append(se)
        # Monte-Carlo SD of each summary (log SE for positive ones) over the design so far: the
        # likelihood of the wave about to be sampled uses it
        state["log_lik"] = emulated_log_likelihood(targets, scales, n_sim, np.nanmedian(np.vstack(mc_cache), axis=0))
        if progress is not None:
            progress(f"simulated {len(thetas)} parameter sets")
        return link_values(values, scales, n_sim)

    result = wave_loop(simulate_batch, lambda mean, var: state["log_lik"](mean, var), problem.bounds, None,
                       design_points, waves, seed, n_steps=n_steps)
    samples = result.posterior.samples
    median = np.median(samples, axis=0)
    rng = np.random.default_rng(seed)
    draws = samples[rng.choice(len(samples), size=check_draws, replace=False)]
    fit = PopulationFit([p.label for p in problem.parameters], samples, _natural(problem, samples),
                        np.corrcoef(samples.T) if samples.shape[1] > 1 else np.ones((1, 1)), result,
                        theta_median=median)
    fit.checks = check_targets(problem, targets, draws, median)
    fit.warnings = identifiability_warnings(problem, samples) + emulation_warnings(problem, result)
    return fit


def emulation_warnings(problem, result) -> list:
    """Warnings from the last wave: outputs the emulator predicts poorly, a chain too short to trust."""
    wave = result.waves[-1]
    out = []
    for (q, day), q2 in zip(problem.wanted, np.asarray(wave.emulator.loo_.q2), strict=True):
        if np.isfinite(q2) and q2 < 0.5:
            out.append(f"emulator of {q}{f' at day {day:g}' if day else ''}: leave-one-out Q2 {q2:.2f} (< 0.5); "
                       "its posterior leans on the emulator's variance (often a summary the fitted values barely move)")
    if not wave.posterior.tau_reliable:
        out.append("posterior chain shorter than 50 autocorrelation times: treat the credible intervals as rough")
    return out


def _natural(problem, samples) -> dict:
    out = {}
    for j, p in enumerate(problem.parameters):
        nat = np.array([p.from_theta(x) for x in np.percentile(samples[:, j], [50, 2.5, 97.5])])
        out[p.label] = {"median": float(nat[0]), "low": float(nat[1]), "high": float(nat[2])}
    return out


def identifiability_warnings(problem, samples) -> list:
    """Parameters whose posterior is nearly as wide as their prior box (the targets do not pin them down)."""
    out = []
    for j, p in enumerate(problem.parameters):
        lo, hi = p.bounds
        ratio = float(np.std(samples[:, j]) / ((hi - lo) / np.sqrt(12.0)))
        if ratio > NOT_IDENTIFIED:
            out.append(f"{p.label}: posterior SD is {ratio:.0%} of the prior's; the targets barely inform it "
                       "(not identifiable from these data: fix it or add a target that depends on it)")
    return out
