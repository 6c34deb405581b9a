"""One patient's posterior over their random effects: importance sampling from the Laplace approximation.

The prior is the population of the presets (log-normal random effects, eta ~ N(0, omega^2) on
the log scale, as ``celltrial fit`` uses); the likelihood is the fit's proportional error with
M3 censoring below the limit (:func:`celltrial.calibration.individual.log_likelihood`). Steps:

1. MAP and Gauss-Newton Hessian H (:func:`~celltrial.calibration.individual.map_estimate`);
2. ``n_proposals`` draws from a defensive mixture: half from a multivariate Student t (``df`` = 5)
   centred at the MAP with scale H^-1, half from the prior (so no weight exceeds twice the
   largest likelihood, even where censored data make the posterior far from Gaussian);
3. self-normalised weights w = prior x likelihood / proposal; effective sample size
   ESS = (sum w)^2 / sum w^2;
4. when ESS < 10 % of the proposals (the Laplace guess was poor: a ridge, or censored data), up to
   two rounds of adaptation: the t half is re-centred on the weighted mean and covariance of the
   last round and fresh proposals are weighted (only the last round's draws are kept); if the
   weights are still degenerate, the exact posterior is sampled by MCMC instead (:mod:`.mcmc`);
5. ``n_draws`` equally weighted draws by systematic resampling (for the per-draw simulations).

A parameter whose posterior SD is at least 0.9 x its prior SD is reported as not informed by
the data (the same rule as ``celltrial fit``). A patient without observations gets the prior.

Example:
    >>> weighted_sd(np.array([[0.0], [2.0]]), np.array([0.5, 0.5])).tolist()
    [1.0]
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.stats import multivariate_t

from ..calibration.individual import FitSettings, PopulationModel, log_likelihood, map_estimate, observed_arrays
from ..calibration.nonmem import PatientData
from .mcmc import mcmc_draws, walker_start, walkers_for

#: Posterior SD / prior SD at or above which a parameter counts as not informed (as ``celltrial fit``).
NOT_INFORMED = 0.9
#: Fewest MCMC steps per walker of the fallback (steps = max(this, 2 n_proposals / walkers)).
MIN_STEPS = 200
#: Solver tolerance of the likelihood while sampling (the forward simulations use the same).
SAMPLING_RTOL = 1e-6
#: Below this ESS / n_proposals the proposal is re-centred on the weighted draws, at most ADAPT_ROUNDS times.
ADAPT_BELOW, ADAPT_ROUNDS = 0.1, 2
#: Below this ESS / n_proposals the weights are hopeless: straight to MCMC, without adaptation rounds.
HOPELESS = 0.01


@dataclass(frozen=True)
class Posterior:
    """Draws of one patient's random effects with their diagnostics.

    Attributes:
        names: parameter names; eta: (n_draws, p) equally weighted draws (log scale, eta = 0 is typical);
        values: (n_draws, p) the same on the parameter scale (unit of each parameter);
        map_eta: (p,) MAP (zeros for the prior); prior_sd: (p,) omega; post_sd: (p,) weighted SD of eta;
        ess: effective sample size of the importance weights; n_proposals: proposals drawn;
        method: how the draws were made (importance sampling, or the prior); notes: messages;
        typical: (p,) typical values (eta = 0) on the parameter scale.
    """

    names: tuple
    eta: np.ndarray
    values: np.ndarray
    map_eta: np.ndarray
    prior_sd: np.ndarray
    post_sd: np.ndarray
    ess: float
    n_proposals: int
    method: str
    notes: tuple
    typical: np.ndarray

    @property
    def map_values(self) -> np.ndarray:
        """(p,) the MAP on the parameter scale (typical x exp(eta))."""
        return self.typical * np.exp(self.map_eta)

    @property
    def sd_ratio(self) -> dict:
        """name -> posterior SD / prior SD (1 = the data tell nothing about it)."""
        return dict(zip(self.names, (self.post_sd / self.prior_sd).tolist(), strict=True))

    @property
    def not_informed(self) -> tuple:
        return tuple(n for n, r in self.sd_ratio.items() if r >= NOT_INFORMED)

    @property
    def is_prior(self) -> bool:
        """True when the data informed no parameter: the forecast is the population's."""
        return len(self.not_informed) == len(self.names)


def weighted_sd(x, w) -> np.ndarray:
    """(p,) SD of rows of ``x`` (n, p) under normalised weights ``w`` (n,)."""
    mean = w @ x
    return np.sqrt(np.maximum(w @ (x - mean) ** 2, 0.0))


def systematic_resample(w, n: int, rng: np.random.Generator) -> np.ndarray:
    """(n,) indices drawn in proportion to weights ``w`` (summing to 1) with one uniform (low variance).

    Example:
        >>> systematic_resample(np.array([0.0, 1.0]), 3, np.random.default_rng(0)).tolist()
        [1, 1, 1]
    """
    edges = np.cumsum(w)
    edges[-1] = 1.0
    return np.searchsorted(edges, (rng.random() + np.arange(n)) / n, side="right").clip(0, len(w) - 1)


def sample_posterior(pop: PopulationModel, record: PatientData, *, sigma: float, n_draws: int,
                     rng: np.random.Generator, n_proposals: int | None = None, df: float = 5.0,
                     settings: FitSettings | None = None) -> Posterior:
    """Equally weighted posterior draws of ``record``'s random effects (see the module docstring).

    Args:
        pop: the prior (presets, fitted names, omegas); record: the patient's data.
        sigma: residual SD on log scale (proportional error); n_draws: draws returned.
        rng: the only source of randomness; n_proposals: importance proposals (default max(4 n_draws, 400)).
    """
    omega, settings = np.asarray(pop.omega), settings or FitSettings()
    p = omega.size
    if record.n_obs == 0:
        eta = rng.standard_normal((n_draws, p)) * omega
        return _result(pop, eta, np.zeros(p), omega.copy(), float(n_draws), n_draws, "prior (no observations)",
                       ("no observations: this is the population (prior) forecast",))
    obs = observed_arrays(pop, [record])
    mode, hess, converged = map_estimate(pop, obs, sigma, settings)
    m = int(n_proposals or max(4 * n_draws, 400))
    centre, scale, notes = mode[0], _covariance(hess[0], omega), []
    def log_target(x):
        # the forecast's own tolerance: the MAP's tighter one only smooths its finite differences
        return log_likelihood(pop, obs, x, sigma, rtol=SAMPLING_RTOL) + _log_prior(x, omega)

    for _ in range(ADAPT_ROUNDS + 1):
        eta, log_q = _defensive_draws(centre, scale, omega, df, m, rng)
        target = log_target(eta)
        w = _weights(target - log_q)
        if w is None:
            eta = rng.standard_normal((n_draws, p)) * omega
            return _result(pop, eta, mode[0], omega.copy(), 0.0, m, "prior (every proposal failed to solve)",
                           ("the model could not be solved near the MAP: the prior is returned; check the doses",))
        ess = float(1.0 / np.sum(w**2))
        if ess >= ADAPT_BELOW * m or ess < HOPELESS * m:  # good enough, or no re-centring will rescue it
            break
        # the Laplace guess was poor: re-centre the t half on the weighted draws (one population Monte Carlo step)
        centre = w @ eta
        # a tenth of the last scale keeps the new one full rank when a few draws carry all the weight
        scale = (eta - centre).T @ (w[:, None] * (eta - centre)) + 0.1 * scale
    if not converged[0]:
        notes.append("the MAP search did not converge; the proposal may be off-centre")
    if ess < ADAPT_BELOW * m:  # still degenerate: sample the exact posterior by MCMC from the best proposals
        # candidates: the proposals and draws of the Laplace normal (posterior-wide where it is right)
        laplace = rng.multivariate_normal(mode[0], scale, size=4 * walkers_for(p))
        points = np.vstack([mode, eta, laplace])
        start = walker_start(points, np.concatenate([log_target(mode), target, log_target(laplace)]), omega,
                             walkers_for(p), rng)
        samples, ess, more = mcmc_draws(log_target, start, omega, pop.eta_bounds(),
                                        n_steps=max(MIN_STEPS, 2 * m // walkers_for(p)), seed=int(rng.integers(2**32)))
        draws = samples[rng.choice(samples.shape[0], size=n_draws, replace=samples.shape[0] < n_draws)]
        return _result(pop, draws, mode[0], samples.std(axis=0), ess, m, "MCMC (emcee, after importance sampling "
                       "degenerated)", tuple(notes + more))
    draws = eta[systematic_resample(w, n_draws, rng)]
    method = f"importance sampling (Laplace t{df:g} + prior mixture)"
    return _result(pop, draws, mode[0], weighted_sd(eta, w), ess, m, method, tuple(notes))


def _log_prior(eta, omega) -> np.ndarray:
    """Log density of N(0, diag omega^2) at rows of eta."""
    return -0.5 * np.sum((eta / omega) ** 2, axis=1) - np.sum(np.log(omega)) - 0.5 * omega.size * math.log(2 * math.pi)


def _weights(log_w):
    """Normalised weights from log weights (failed solves weigh 0); None when every one failed."""
    finite = np.isfinite(log_w)
    if not finite.any():
        return None
    w = np.where(finite, np.exp(log_w - np.max(log_w[finite])), 0.0)
    return w / w.sum()


def _defensive_draws(mode, scale, omega, df, m, rng):
    """m draws from the mixture 1/2 t_df(MAP, H^-1) + 1/2 prior, and their log mixture density.

    The prior half bounds every weight by twice the largest likelihood (Hesterberg's defensive
    importance sampling): BLQ data make the posterior far from Gaussian (flat near the MAP, a cliff
    where a prediction crosses the limit), and a Laplace-only proposal then lets one draw take all
    the weight.
    """
    p = omega.size
    t_dist = multivariate_t(loc=mode, shape=scale, df=df, seed=rng)
    from_t = rng.random(m) < 0.5
    eta = np.where(from_t[:, None], np.atleast_2d(t_dist.rvs(size=m)).reshape(m, p),
                   rng.standard_normal((m, p)) * omega)
    return eta, np.logaddexp(t_dist.logpdf(eta), _log_prior(eta, omega)) + math.log(0.5)


def _covariance(hess, omega) -> np.ndarray:
    """Inverse Hessian, symmetrised, eigenvalues floored at 1e-8 x the largest (a sharply determined direction
    must not make the proposal singular); the prior covariance where the Hessian cannot be inverted."""
    try:
        vals, vecs = np.linalg.eigh(np.linalg.inv(0.5 * (hess + hess.T)))
    except np.linalg.LinAlgError:
        return np.diag(omega**2)
    if not (np.isfinite(vals).all() and vals.max() > 0):
        return np.diag(omega**2)
    vals = np.maximum(vals, 1e-8 * vals.max())
    return (vecs * vals) @ vecs.T


def _result(pop, eta, mode, post_sd, ess, m, method, notes) -> Posterior:
    lo, hi = pop.eta_bounds()
    values = pop.typical * np.exp(np.clip(eta, lo, hi))
    post = Posterior(tuple(pop.names), eta, values, np.asarray(mode, float), np.asarray(pop.omega, float),
                     np.asarray(post_sd, float), ess, m, method, tuple(notes), np.asarray(pop.typical, float))
    extra = []
    if post.is_prior and "prior" not in method:
        extra.append("the data inform no parameter (posterior SD >= 0.9 x prior SD for all): this is, in effect, "
                     "the population (prior) forecast")
    elif post.not_informed:
        extra.append(f"not informed by the data (posterior SD >= {NOT_INFORMED} x prior SD): "
                     + ", ".join(post.not_informed))
    if math.isfinite(ess) and extra:
        return Posterior(**{**post.__dict__, "notes": post.notes + tuple(extra)})
    return post
