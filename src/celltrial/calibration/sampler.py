"""Posterior sampling on an emulated likelihood (emcee), and the design-emulate-sample wave loop.

:func:`sample_posterior` runs emcee's affine-invariant ensemble sampler (Goodman & Weare 2010)
with ``vectorize=True``, so the whole ensemble is one batched call of the log-density; points
outside the prior box get ``-inf`` without a call. :func:`wave_loop` is Bayesian emulation with
refocusing (Vernon et al. 2010; Andrianakis et al. 2015) for a simulator too slow to sample
directly: a space-filling design over the box, simulate, fit a quadratic emulator per summary,
sample the posterior of the emulated likelihood, then design the next wave inside an ellipsoid
around that posterior (its SDs inflated), refit on the points inside it, sample again.

Example:
    >>> import numpy as np
    >>> def log_prob(x):  # standard normal in 2-D
    ...     return -0.5 * np.sum(x**2, axis=1)
    >>> post = sample_posterior(log_prob, [[-5, 5], [-5, 5]], 16, 600, 200, seed=0)
    >>> post.samples.shape, bool(np.all(np.abs(post.summary.mean) < 0.2))
    ((6400, 2), True)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import emcee
import numpy as np

from ..errors import InputError
from .design import Region, _seed_sequence, check_bounds, fit_region, refocus_design, space_filling
from .emulator import Emulator, fit_emulator

#: Chain length, in autocorrelation times, above which emcee trusts its estimate of tau.
_TAU_RUNS = 50


@dataclass(frozen=True)
class PosteriorSummary:
    """Marginal summaries of posterior draws, per parameter (transformed units), plus correlations.

    Attributes: mean, sd, q025, q50, q975 (k,); corr (k, k).
    """

    mean: np.ndarray
    sd: np.ndarray
    q025: np.ndarray
    q50: np.ndarray
    q975: np.ndarray
    corr: np.ndarray


def summarise(samples) -> PosteriorSummary:
    """Mean, SD, 2.5/50/97.5 % quantiles and correlation matrix of ``samples`` (n, k).

    Example:
        >>> s = summarise(np.array([[0.0, 1.0], [1.0, 3.0], [2.0, 5.0]]))
        >>> s.mean.tolist(), s.q50.tolist(), round(float(s.corr[0, 1]), 6)
        ([1.0, 3.0], [1.0, 3.0], 1.0)
    """
    s = np.asarray(samples, dtype=float)
    q = np.quantile(s, [0.025, 0.5, 0.975], axis=0)
    corr = np.atleast_2d(np.corrcoef(s, rowvar=False)) if s.shape[1] > 1 else np.ones((1, 1))
    return PosteriorSummary(s.mean(axis=0), s.std(axis=0, ddof=1), q[0], q[1], q[2], corr)


@dataclass(frozen=True)
class PosteriorSample:
    """Draws from :func:`sample_posterior`.

    Attributes:
        samples: (n, k) draws after burn-in, walkers concatenated step by step (transformed units).
        log_prob: (n,) log-density of each draw.
        acceptance: mean acceptance fraction over walkers (0.2-0.5 is healthy).
        tau: (k,) integrated autocorrelation time in steps (emcee's estimate).
        tau_reliable: whether the kept chain is at least 50 tau long, emcee's rule for trusting
            ``tau`` (the effective sample size is about n / tau).
        summary: :class:`PosteriorSummary` of ``samples``.
        seed: the seed the run used.
    """

    samples: np.ndarray
    log_prob: np.ndarray
    acceptance: float
    tau: np.ndarray
    tau_reliable: bool
    summary: PosteriorSummary
    seed: object


def _boxed(log_prob_batch: Callable, b: np.ndarray) -> Callable:
    """Batched log-density that is -inf outside the box and never NaN (emcee rejects NaN)."""
    def log_prob(x: np.ndarray) -> np.ndarray:
        out = np.full(x.shape[0], -np.inf)
        inside = np.all((x >= b[:, 0]) & (x <= b[:, 1]), axis=1)
        if np.any(inside):
            val = np.asarray(log_prob_batch(x[inside]), dtype=float).reshape(-1)
            if val.size != int(inside.sum()):
                raise InputError(f"log_prob_batch: returned {val.size} values for {int(inside.sum())} points")
            out[inside] = np.where(np.isnan(val), -np.inf, val)
        return out
    return log_prob


def _start(log_prob: Callable, b: np.ndarray, n_walkers: int, start, rng: np.random.Generator) -> np.ndarray:
    """Initial ensemble: the best of a Sobol cover of the box, or distinct rows of ``start``."""
    if start is None:
        cover = space_filling(b, max(8 * n_walkers, 256), seed=rng.integers(2**32))
        return cover[np.argsort(-log_prob(cover), kind="stable")[:n_walkers]]
    s = np.unique(np.atleast_2d(np.asarray(start, dtype=float)), axis=0)
    if s.shape[1] != b.shape[0] or len(s) < n_walkers:
        raise InputError(f"sample_posterior: start needs >= {n_walkers} distinct rows of {b.shape[0]} "
                         f"parameters, got {len(s)} distinct rows of shape {s.shape}")
    return s[rng.choice(len(s), size=n_walkers, replace=False)]


def sample_posterior(log_prob_batch: Callable, bounds, n_walkers: int, n_steps: int, burn: int, seed,
                     start=None, *, thin: int = 1) -> PosteriorSample:
    """Sample ``log_prob_batch`` restricted to the box with emcee's stretch move.

    Args:
        log_prob_batch: (n, k) array -> (n,) log posterior density (up to a constant); -inf for
            impossible points.
        bounds: (k, 2) prior box, transformed units.
        n_walkers: ensemble size (>= 2k, even).
        n_steps: steps per walker; burn: steps discarded first (0 <= burn < n_steps).
        seed: int or ``np.random.SeedSequence``; the same seed gives identical draws.
        start: optional (>= n_walkers, k) points to start from (e.g. an earlier posterior); by
            default the best of a Sobol cover of the box.
        thin: keep every ``thin``-th step.

    Returns:
        :class:`PosteriorSample` with n = n_walkers * ceil((n_steps - burn) / thin) draws.

    Example:
        >>> post = sample_posterior(lambda x: -0.5 * x[:, 0] ** 2, [[0.0, 3.0]], 8, 300, 100, seed=1)
        >>> bool(post.samples.min() >= 0.0)
        True
    """
    b = check_bounds(bounds)
    k = b.shape[0]
    if n_walkers < 2 * k or n_walkers % 2 or not 0 <= burn < n_steps or thin < 1:
        raise InputError(f"sample_posterior: need an even n_walkers >= 2k = {2 * k}, 0 <= burn < n_steps and "
                         f"thin >= 1; got n_walkers={n_walkers}, burn={burn}, n_steps={n_steps}, thin={thin}")
    ss = _seed_sequence(seed)
    start_ss, chain_ss = ss.spawn(2)
    log_prob = _boxed(log_prob_batch, b)
    p0 = _start(log_prob, b, n_walkers, start, np.random.default_rng(start_ss))
    if not np.all(np.isfinite(log_prob(p0))):
        raise InputError("sample_posterior: some starting points have zero posterior density; give `start` "
                         "inside the support or check log_prob_batch")
    sampler = emcee.EnsembleSampler(n_walkers, k, log_prob, vectorize=True)
    sampler.random_state = np.random.RandomState(np.random.MT19937(chain_ss)).get_state()
    sampler.run_mcmc(p0, n_steps, progress=False)
    chain = sampler.get_chain(discard=burn, thin=thin)
    # tol=0: always return emcee's estimate (never raise or log); reliability is judged below.
    tau = thin * np.asarray(emcee.autocorr.integrated_time(chain, tol=0), dtype=float)
    samples = chain.reshape(-1, k)
    return PosteriorSample(samples, sampler.get_log_prob(discard=burn, thin=thin, flat=True),
                           float(np.mean(sampler.acceptance_fraction)), tau,
                           bool(n_steps - burn >= _TAU_RUNS * np.max(tau)), summarise(samples), seed)


@dataclass(frozen=True)
class Wave:
    """One wave of :func:`wave_loop`.

    Attributes:
        index: 0 for the space-filling wave, then 1, 2, ...
        design: (m, k) points simulated in this wave; outputs: (m, n_out) their summaries (rows
            that were not finite are dropped from both; n_failed counts them).
        region: ellipsoid the wave emulated and sampled in (None for wave 0: the whole box).
        n_train: design points (all waves so far) inside the region, used to fit the emulator.
        emulator: the fitted :class:`Emulator` (``emulator.loo_`` holds the LOO diagnostics).
        posterior: :class:`PosteriorSample` of the emulated posterior.
    """

    index: int
    design: np.ndarray
    outputs: np.ndarray
    n_failed: int
    region: Region | None
    n_train: int
    emulator: Emulator
    posterior: PosteriorSample


@dataclass(frozen=True)
class WaveResult:
    """All waves of :func:`wave_loop`; ``posterior`` is the last wave's."""

    waves: tuple[Wave, ...]
    seed: object

    @property
    def posterior(self) -> PosteriorSample:
        return self.waves[-1].posterior


def _simulate(simulate_batch: Callable, design: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    out = np.asarray(simulate_batch(design), dtype=float)
    out = out[:, None] if out.ndim == 1 else out
    if out.ndim != 2 or out.shape[0] != design.shape[0]:
        raise InputError(f"simulate_batch: must return ({design.shape[0]}, n_outputs), got shape {out.shape}")
    ok = np.all(np.isfinite(out), axis=1)
    return design[ok], out[ok], int(np.sum(~ok))


def _emulated_log_prob(em: Emulator, log_lik: Callable, log_prior: Callable | None, region: Region | None):
    def log_prob(x: np.ndarray) -> np.ndarray:
        mean, var = em.predict(x)
        lp = np.asarray(log_lik(mean, var), dtype=float).reshape(-1)
        if log_prior is not None:
            lp = lp + np.asarray(log_prior(x), dtype=float).reshape(-1)
        # The emulator is only trusted where it was trained: outside the region it extrapolates.
        return lp if region is None else np.where(region.contains(x), lp, -np.inf)
    return log_prob


def wave_loop(simulate_batch: Callable, log_lik_from_summaries: Callable, bounds, log_prior: Callable | None,
              n_design, n_waves: int, seed, *, n_walkers: int = 32, n_steps: int = 1500, burn: int = 500,
              inflate: float = 1.5, coverage: float = 0.99, draw_fraction: float = 0.5,
              ridge: float = 1e-10, degree: int | None = None) -> WaveResult:
    """Calibrate a slow simulator by emulation in waves: design -> simulate -> emulate -> sample.

    Main arguments:
        simulate_batch: (m, k) parameter sets -> (m, n_out) summaries (e.g. CR rate, CRS>=3 rate,
            median blood levels); rows with NaN/inf are treated as failed and dropped.
        log_lik_from_summaries: (mean, var), each (n, n_out) emulated summaries and emulator
            variances -> (n,) log-likelihood; it must add ``var`` to the observation variance.
        bounds: (k, 2) prior box in the transformed space; log_prior: (n, k) -> (n,) log prior
            density inside the box, or None for uniform.
        n_design: points per wave (int, or one int per wave); n_waves: number of waves (>= 1).
        seed: int or ``np.random.SeedSequence``; the same seed gives identical waves.

    Other arguments:
        n_walkers, n_steps, burn: emcee settings per wave (see :func:`sample_posterior`).
        inflate, coverage: the next region is the posterior mean and covariance x inflate^2, out
            to the radius holding ``coverage`` of that Gaussian.
        draw_fraction: share of each refocused design taken from posterior draws.
        ridge, degree: emulator settings (see :func:`fit_emulator`).

    Returns:
        :class:`WaveResult`; check each wave's ``emulator.loo_`` and, on the real simulator, a few
        draws of ``result.posterior.samples``.

    Example:
        >>> sim = lambda x: np.column_stack([x[:, 0] + 0.1 * x[:, 0] ** 3])
        >>> lik = lambda m, v: -0.5 * (m[:, 0] - 0.5) ** 2 / (0.01 + v[:, 0])
        >>> res = wave_loop(sim, lik, [[-2.0, 2.0]], None, 12, 2, seed=0, n_walkers=8, n_steps=400, burn=100)
        >>> len(res.waves), res.posterior.samples.shape[1]
        (2, 1)
    """
    b = check_bounds(bounds)
    sizes = [int(n_design)] * int(n_waves) if np.isscalar(n_design) else [int(n) for n in n_design]
    if int(n_waves) < 1 or len(sizes) != int(n_waves):
        raise InputError(f"wave_loop: need n_waves >= 1 and one n_design per wave, got {n_waves} and {n_design}")
    x_all, y_all, waves = np.empty((0, b.shape[0])), None, []
    for index, (n, ss) in enumerate(zip(sizes, _seed_sequence(seed).spawn(len(sizes)), strict=True)):
        design_ss, sample_ss = ss.spawn(2)
        prev = waves[-1].posterior.samples if waves else None
        region = None if prev is None else fit_region(prev, inflate=inflate, coverage=coverage)
        design = (space_filling(b, n, seed=design_ss) if prev is None else
                  refocus_design(prev, b, n, seed=design_ss, draw_fraction=draw_fraction, region=region))
        design, outputs, n_failed = _simulate(simulate_batch, design)
        x_all = np.vstack([x_all, design])
        y_all = outputs if y_all is None else np.vstack([y_all, outputs])
        train = np.ones(len(x_all), bool) if region is None else region.contains(x_all)
        em = fit_emulator(x_all[train], y_all[train], ridge=ridge, degree=degree)
        start = None if prev is None else prev[region.contains(prev)]
        post = sample_posterior(_emulated_log_prob(em, log_lik_from_summaries, log_prior, region), b,
                                n_walkers, n_steps, burn, sample_ss, start)
        waves.append(Wave(index, design, outputs, n_failed, region, int(train.sum()), em, post))
    return WaveResult(tuple(waves), seed)
