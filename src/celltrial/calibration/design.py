"""Space-filling designs in a parameter box, and refocused designs around an emulated posterior.

Wave 1 of a calibration covers the whole prior box with a scrambled Sobol or a Latin-hypercube
design. Later waves put their points where the emulated posterior lives (Vernon et al. 2010,
Andrianakis et al. 2015): part posterior draws, spread out by greedy maximin, and part a
space-filling sample of a Gaussian fitted to the draws with its SDs inflated, kept only inside a
:class:`Region` (an ellipsoid) and the prior box. Parameters are in the transformed calibration
space (e.g. log of a typical value, log of a variability SD); ``bounds`` is a (k, 2) array of
[low, high] in the same units.

Example:
    >>> import numpy as np
    >>> box = np.array([[-1.0, 1.0], [0.0, 5.0]])
    >>> x = space_filling(box, 16, seed=1)
    >>> x.shape, bool(np.all((x >= box[:, 0]) & (x <= box[:, 1])))
    ((16, 2), True)
    >>> draws = np.random.default_rng(0).normal([0.2, 2.0], [0.1, 0.5], size=(500, 2))
    >>> refocus_design(draws, box, 10, seed=2).shape
    (10, 2)

References:
    Vernon, Goldstein, Bower (2010) Galaxy formation: a Bayesian uncertainty analysis.
    Bayesian Analysis 5:619-670. Andrianakis et al. (2015) Bayesian history matching of complex
    infectious disease models using emulation. PLoS Comput Biol 11:e1003968.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.stats import chi2, norm, qmc

from ..errors import InputError

#: Design methods understood by :func:`space_filling`.
METHODS = ("sobol", "lhs")
#: Most candidate batches :func:`refocus_design` draws before clipping the rest to the box.
_MAX_DOUBLINGS = 12


def check_bounds(bounds) -> np.ndarray:
    """(k, 2) float array of finite [low, high] rows with low < high, else :class:`InputError`.

    Example:
        >>> check_bounds([[0, 1], [-2, 2]]).shape
        (2, 2)
    """
    b = np.array(bounds, dtype=float)
    if b.ndim != 2 or b.shape[1] != 2 or b.shape[0] < 1:
        raise InputError(f"bounds: need a (k, 2) array of [low, high] rows, got shape {b.shape}")
    if not np.all(np.isfinite(b)) or np.any(b[:, 0] >= b[:, 1]):
        bad = [int(i) for i in np.flatnonzero(~np.isfinite(b).all(axis=1) | (b[:, 0] >= b[:, 1]))]
        raise InputError(f"bounds: rows {bad} are not finite with low < high; give each parameter's "
                         "[low, high] in the transformed space")
    return b


def min_design_points(k: int) -> int:
    """Fewest design points per wave for ``k`` fit parameters.

    The first wave's emulator must at least be linear: 1 + k terms plus ``MIN_DOF`` residual
    degrees of freedom for its leave-one-out diagnostics (see :mod:`.emulator`).

    Example:
        >>> min_design_points(5)
        9
    """
    from .emulator import MIN_DOF, n_terms

    return n_terms(int(k), 1) + MIN_DOF


def check_calibration_settings(k: int, *, design_points: int, waves: int, n_steps: int = 1500,
                               burn: int = 500, check_draws: int = 8, n_walkers: int = 32) -> None:
    """Refuse settings a calibration of ``k`` parameters would fail on, before anything is simulated.

    Each :class:`InputError` names the option (Python argument and ``celltrial calibrate`` flag)
    and the limit, so a bad ``--design-points`` fails at once rather than after the first wave.

    Example:
        >>> check_calibration_settings(5, design_points=8, waves=2)  # doctest: +IGNORE_EXCEPTION_DETAIL
        Traceback (most recent call last):
        celltrial.errors.InputError: design_points (--design-points) must be at least 9 ...
    """
    need = min_design_points(k)
    problems = []
    if int(design_points) < need:
        problems.append(f"design_points (--design-points) must be at least {need} for {k} fitted parameters "
                        f"(a linear emulator has {k + 1} terms and needs {need - k - 1} more points to check "
                        f"itself); got {design_points}")
    if int(waves) < 1:
        problems.append(f"waves (--waves) must be at least 1; got {waves}")
    if not int(n_steps) > burn:
        problems.append(f"n_steps must exceed the {burn} burn-in steps of the posterior sampler; got {n_steps}")
    elif not 1 <= int(check_draws) <= n_walkers * (int(n_steps) - burn):
        problems.append(f"check_draws must be between 1 and {n_walkers * (int(n_steps) - burn)} "
                        f"(the posterior sample size); got {check_draws}")
    if n_walkers < 2 * k:
        problems.append(f"at most {n_walkers // 2} parameters can be fitted (the posterior sampler's {n_walkers} "
                        f"walkers must be at least twice their number); got {k}")
    if problems:
        raise InputError("cannot calibrate with these settings:\n" + "\n".join(f"  - {p}" for p in problems)
                         if len(problems) > 1 else problems[0])


def _seed_sequence(seed) -> np.random.SeedSequence:
    return seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)


def space_filling(bounds, n: int, *, seed, method: str = "sobol") -> np.ndarray:
    """``n`` space-filling points in the box: scrambled Sobol (default) or Latin hypercube.

    Sobol points are the first ``n`` of a scrambled base-2 block (its balance holds for powers
    of 2; a prefix is still low-discrepancy). The LHS is optimised for centred discrepancy.

    Args:
        bounds: (k, 2) [low, high] per parameter, transformed units.
        n: number of points (>= 1).
        seed: int or ``np.random.SeedSequence``; the same seed gives the same design.
        method: "sobol" or "lhs".

    Returns:
        (n, k) array of points inside the box.

    Example:
        >>> space_filling([[0.0, 1.0]], 4, seed=0, method="lhs").shape
        (4, 1)
    """
    b = check_bounds(bounds)
    if int(n) < 1:
        raise InputError(f"space_filling: n must be >= 1, got {n}")
    rng = np.random.default_rng(_seed_sequence(seed))
    k = b.shape[0]
    if method == "sobol":
        u = qmc.Sobol(k, scramble=True, seed=rng).random_base2(int(np.ceil(np.log2(n))))[:n]
    elif method == "lhs":
        u = qmc.LatinHypercube(k, optimization="random-cd" if n > 1 else None, seed=rng).random(n)
    else:
        raise InputError(f"space_filling: unknown method {method!r}; use one of {list(METHODS)}")
    return qmc.scale(u, b[:, 0], b[:, 1])


@dataclass(frozen=True)
class Region:
    """Ellipsoid ``(x - center)' cov^-1 (x - center) <= radius^2`` where later waves emulate.

    Attributes:
        center: (k,) centre, transformed units.
        cov: (k, k) covariance of the inflated Gaussian (posterior covariance x inflate^2).
        radius: Mahalanobis radius (dimensionless).

    Example:
        >>> r = Region(np.zeros(2), np.eye(2), 1.0)
        >>> r.contains(np.array([[0.5, 0.5], [1.0, 1.0]])).tolist()
        [True, False]
    """

    center: np.ndarray
    cov: np.ndarray
    radius: float
    _whiten: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        # Cached inverse Cholesky factor: the sampler asks for distances thousands of times.
        object.__setattr__(self, "_whiten", np.linalg.inv(np.linalg.cholesky(self.cov)))

    def mahalanobis(self, x) -> np.ndarray:
        """(n,) Mahalanobis distances of the rows of ``x`` (n, k) from the centre."""
        z = (np.atleast_2d(x) - self.center) @ self._whiten.T
        return np.sqrt(np.sum(z * z, axis=1))

    def contains(self, x) -> np.ndarray:
        """(n,) booleans: which rows of ``x`` lie inside the ellipsoid."""
        return self.mahalanobis(x) <= self.radius


def fit_region(samples, *, inflate: float = 1.5, coverage: float = 0.99) -> Region:
    """Region around posterior ``samples`` (n, k): their mean, covariance x inflate^2, and the
    radius holding ``coverage`` of that Gaussian (chi-square quantile with k dof).

    Example:
        >>> s = np.random.default_rng(0).normal(size=(4000, 2))
        >>> r = fit_region(s, inflate=1.0, coverage=0.9)
        >>> round(float(np.mean(r.contains(s))), 1)
        0.9
    """
    s = np.asarray(samples, dtype=float)
    if s.ndim != 2 or s.shape[0] <= s.shape[1]:
        raise InputError(f"fit_region: need (n, k) samples with n > k, got shape {s.shape}")
    if not inflate > 0 or not 0 < coverage < 1:
        raise InputError(f"fit_region: need inflate > 0 and 0 < coverage < 1, got {inflate}, {coverage}")
    cov = np.atleast_2d(np.cov(s, rowvar=False)) * inflate**2
    # A tiny ridge keeps the Cholesky factor defined for a collapsed (near-singular) posterior.
    cov = cov + np.eye(s.shape[1]) * 1e-12 * max(float(np.trace(cov)), 1e-300)
    return Region(s.mean(axis=0), cov, float(np.sqrt(chi2.ppf(coverage, s.shape[1]))))


def _maximin(pool: np.ndarray, n: int, cov: np.ndarray) -> np.ndarray:
    """Greedy farthest-point subset of ``pool`` (whitened by ``cov``), starting near its mean."""
    z = np.linalg.solve(np.linalg.cholesky(cov), pool.T).T
    chosen = [int(np.argmin(np.sum((z - z.mean(axis=0)) ** 2, axis=1)))]
    dist = np.sum((z - z[chosen[0]]) ** 2, axis=1)
    for _ in range(n - 1):
        chosen.append(int(np.argmax(dist)))
        dist = np.minimum(dist, np.sum((z - z[chosen[-1]]) ** 2, axis=1))
    return pool[chosen]


def _gaussian_points(region: Region, b: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` Sobol points mapped to N(center, cov), kept inside the region and the box."""
    k = b.shape[0]
    sobol = qmc.Sobol(k, scramble=True, seed=rng)
    chol = np.linalg.cholesky(region.cov)
    kept = np.empty((0, k))
    m = int(np.ceil(np.log2(max(2 * n, 2))))
    for doubling in range(_MAX_DOUBLINGS):
        # Doubling batches keep the total a power of 2, as Sobol balance needs.
        u = sobol.random_base2(m + max(doubling - 1, 0))
        x = region.center + norm.ppf(np.clip(u, 1e-12, 1 - 1e-12)) @ chol.T
        ok = region.contains(x) & np.all((x >= b[:, 0]) & (x <= b[:, 1]), axis=1)
        kept = np.vstack([kept, x[ok]])
        if len(kept) >= n:
            return kept[:n]
    # The region barely overlaps the box: clip the last candidates onto it rather than fail.
    return np.vstack([kept, np.clip(x[~ok][: n - len(kept)], b[:, 0], b[:, 1])])


def refocus_design(samples, bounds, n: int, *, seed, draw_fraction: float = 0.5, inflate: float = 1.5,
                   region: Region | None = None) -> np.ndarray:
    """A new wave's design around posterior ``samples``, inside the prior box.

    ``round(draw_fraction * n)`` points are posterior draws spread out by greedy maximin (from a
    random pool of 8 per point); the rest are Sobol points mapped to the inflated Gaussian, kept
    inside ``region`` (default ``fit_region(samples, inflate=inflate)``) and the box.

    Args:
        samples: (N, k) posterior draws, transformed units.
        bounds: (k, 2) prior box.
        n: number of new points.
        seed: int or ``np.random.SeedSequence``.
        draw_fraction: share of posterior draws in [0, 1]; the rest explore the inflated Gaussian.
        inflate: factor on the posterior SDs for the Gaussian part.
        region: ellipsoid the Gaussian part must stay in.

    Returns:
        (n, k) array inside the box.

    Example:
        >>> d = np.random.default_rng(0).normal(0.0, 0.1, size=(300, 1))
        >>> x = refocus_design(d, [[-1.0, 1.0]], 8, seed=0)
        >>> bool(np.all(np.abs(x) < 1.0))
        True
    """
    b = check_bounds(bounds)
    s = np.asarray(samples, dtype=float)
    if s.ndim != 2 or s.shape[1] != b.shape[0]:
        raise InputError(f"refocus_design: samples must be (N, {b.shape[0]}), got shape {s.shape}")
    if int(n) < 1 or not 0 <= draw_fraction <= 1:
        raise InputError(f"refocus_design: need n >= 1 and 0 <= draw_fraction <= 1, got {n}, {draw_fraction}")
    region = region if region is not None else fit_region(s, inflate=inflate)
    rng = np.random.default_rng(_seed_sequence(seed))
    inside = s[np.all((s >= b[:, 0]) & (s <= b[:, 1]), axis=1)]
    n_draw = min(int(round(draw_fraction * n)), len(inside))
    parts = []
    if n_draw:
        pool = inside[rng.choice(len(inside), size=min(8 * n_draw, len(inside)), replace=False)]
        parts.append(_maximin(pool, n_draw, region.cov))
    if n - n_draw:
        parts.append(_gaussian_points(region, b, int(n) - n_draw, rng))
    return np.vstack(parts)
