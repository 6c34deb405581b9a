"""MCMC fallback of the individual posterior: emcee's ensemble sampler on the exact log posterior.

Importance sampling from the Laplace approximation degenerates when many random effects are
informed at once (14 of them for the LBCL presets, four quantified ctDNA values): a handful of
proposals carry all the weight and the bands collapse onto one parameter vector. Then the
posterior is sampled by :func:`celltrial.calibration.sampler.sample_posterior` (affine-invariant
stretch move, one batched solve per step for all walkers), started from the best importance
proposals, inside the box of the parameters' declared bounds (and +-6 prior SDs).

Diagnostics: the acceptance fraction, emcee's integrated autocorrelation time tau (largest over
parameters) and ESS = kept samples / tau; a chain shorter than 50 tau is flagged as rough.

Example:
    >>> walkers_for(14)
    30
"""

from __future__ import annotations

import numpy as np

from ..calibration.sampler import sample_posterior as ensemble


def walkers_for(p: int) -> int:
    """Even number of walkers, at least 2p + 2 (emcee needs more than 2p)."""
    return 2 * p + 2


def walker_start(points, log_density, omega, n_walkers: int, rng: np.random.Generator,
                 within: float | None = None) -> np.ndarray:
    """(n_walkers, p) distinct starting points drawn at random among ``points`` within ``within`` nats of the best
    (default 10 + p/2: a posterior draw in p dimensions lies about p/2 nats below the mode), topped up with the
    best point jittered by 0.05 prior SDs. At random, not the best ones: an ensemble started in a tight ball
    needs many steps to spread to the posterior's width; and never far down the posterior, where a walker can
    stay stuck for the whole chain (every stretch move rejected)."""
    within = 10.0 + 0.5 * omega.size if within is None else within
    density = np.where(np.isfinite(log_density), log_density, -np.inf)
    best = int(np.argmax(density))
    good = np.unique(points[density >= density[best] - within], axis=0)
    start = good[rng.choice(good.shape[0], size=min(n_walkers, good.shape[0]), replace=False)]
    extra = n_walkers - start.shape[0]
    if extra > 0:
        jitter = points[best] + 0.05 * omega * rng.standard_normal((extra, omega.size))
        start = np.vstack([start, jitter])
    return start


def mcmc_draws(log_target, start, omega, bounds, *, n_steps: int, seed: int):
    """Run the ensemble on ``log_target`` ((m, p) -> (m,)); returns (samples (n, p), ESS, notes).

    ``start``: (>= walkers, p) distinct starting rows, best first; ``bounds``: (lower (p,), upper (p,)) in eta.
    """
    p = omega.size
    n_walkers = walkers_for(p)
    box = np.stack([np.maximum(bounds[0], -6 * omega), np.minimum(bounds[1], 6 * omega)], axis=1)
    start = np.clip(start, box[:, 0] + 1e-9, box[:, 1] - 1e-9)[:n_walkers]
    burn = n_steps // 2
    with np.errstate(invalid="ignore", divide="ignore"):  # a parameter that never moved has no autocorrelation
        out = ensemble(log_target, box, n_walkers, n_steps, burn, seed, start=start)
    finite = np.isfinite(out.tau)
    tau = float(np.max(out.tau[finite])) if finite.all() else float("nan")
    # without a finite tau, count one independent draw per walker (the most pessimistic reading)
    ess = float(out.samples.shape[0] / max(tau, 1.0)) if finite.all() else float(n_walkers)
    notes = [f"posterior by MCMC (importance sampling degenerated): {n_walkers} walkers x {n_steps} steps, half "
             f"burn-in, acceptance {out.acceptance:.2f}, autocorrelation time {tau:.0f} steps"]
    if not finite.all():
        notes.append("the autocorrelation time could not be estimated (a parameter never moved in the chain): "
                     "ESS counts one draw per walker; treat the intervals as rough")
    elif not out.tau_reliable:
        notes.append("the MCMC chain is shorter than 50 autocorrelation times: treat the intervals as rough "
                     "(raise the proposals, which lengthen the chain)")
    return out.samples, ess, notes
