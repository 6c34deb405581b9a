"""Polynomial emulators of simulator summaries, with leave-one-out diagnostics and implausibility.

Each output is emulated by a full second-order polynomial in standardised inputs
``z = (x - mean) / sd`` (intercept, linear terms, squares and pairwise products; a linear model
when there are too few points), fitted by ridge regression with the intercept unpenalised. With
``A = B'B + ridge * D`` (``B`` the basis matrix, ``D`` the identity without the intercept), the
coefficients are ``A^-1 B'y`` and, reading the ridge as a Gaussian prior, the predictive
distribution at ``x`` has

    mean  b(x)' beta,      variance  s^2 (1 + b(x)' A^-1 b(x)),

where ``s^2`` = residual sum of squares / (m - trace of the hat matrix) is the emulator's own
error (what a quadratic cannot capture) and the second term the coefficient uncertainty, which
grows away from the design. Outputs share the basis but have their own coefficients and ``s^2``.
Leave-one-out predictions are exact for a linear smoother (no refits): residual ``e_i / (1 - h_ii)``
and variance ``s_(i)^2 / (1 - h_ii)``, so standardised LOO errors are externally studentised
residuals (roughly t with m - p - 1 dof; many beyond +-3 means the variance is too small).

Example:
    >>> import numpy as np
    >>> x = np.random.default_rng(0).uniform(-1, 1, size=(30, 2))
    >>> y = 1 + x[:, 0] - 2 * x[:, 0] * x[:, 1]
    >>> em = fit_emulator(x, y)
    >>> mean, var = em.predict(np.array([[0.5, 0.5]]))
    >>> round(float(mean[0]), 6), em.degree
    (1.0, 2)
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from ..errors import InputError

#: Residual degrees of freedom a fit must keep (for ``s^2`` and its leave-one-out version).
MIN_DOF = 3
#: Floor on the residual variance, relative to the output's variance, so that an exact fit
#: still has a finite standardised error.
_VAR_FLOOR = 1e-20


def n_terms(k: int, degree: int) -> int:
    """Number of basis terms for k inputs: 1 + k (linear) or 1 + k + k(k+1)/2 (quadratic).

    Example:
        >>> n_terms(3, 2), n_terms(8, 2), n_terms(8, 1)
        (10, 45, 9)
    """
    return 1 + k + (k * (k + 1) // 2 if degree == 2 else 0)


@functools.cache
def _pairs(k: int) -> tuple[np.ndarray, np.ndarray]:
    # Cached because the sampler builds the basis thousands of times for the same k.
    return np.triu_indices(k)


def _basis(z: np.ndarray, degree: int) -> np.ndarray:
    """Columns 1, z_1..z_k and, for degree 2, z_i * z_j for i <= j."""
    n, k = z.shape
    out = np.empty((n, n_terms(k, degree)))
    out[:, 0] = 1.0
    out[:, 1:k + 1] = z
    if degree == 2:
        i, j = _pairs(k)
        np.multiply(z[:, i], z[:, j], out=out[:, k + 1:])
    return out


@dataclass(frozen=True)
class LooDiagnostics:
    """Leave-one-out cross-validation of an emulator, in output units (always 2-D, even for a 1-D y).

    Attributes:
        mean: (m, n_out) prediction at each design point from the other m - 1 points.
        var: (m, n_out) predictive variance of that prediction.
        std_errors: (m, n_out) ``(y - mean) / sqrt(var)``; about N(0, 1) if the emulator is honest.
        rmse: (n_out,) root mean square of ``y - mean``.
        q2: (n_out,) ``1 - PRESS / total sum of squares``; 1 is perfect, <= 0 no better than a mean.
        max_abs_std: (n_out,) largest ``|std_errors|``.
        frac_beyond_3: (n_out,) share of ``|std_errors| > 3``.
    """

    mean: np.ndarray
    var: np.ndarray
    std_errors: np.ndarray
    rmse: np.ndarray
    q2: np.ndarray
    max_abs_std: np.ndarray
    frac_beyond_3: np.ndarray


@dataclass(frozen=True)
class Emulator:
    """A fitted polynomial emulator (one per output, shared basis); build with :func:`fit_emulator`.

    Attributes (trailing underscore: estimated): degree (1 or 2), ridge, x_mean_, x_sd_ (k,),
    y_mean_, y_sd_ (n_out,), coef_ (p, n_out) in standardised units, a_inv_ (p, p),
    resid_var_ (n_out,) in standardised units, loo_ (:class:`LooDiagnostics`), n_train,
    vector_output (True when fitted to a 1-D y: predictions are then 1-D too).
    """

    degree: int
    ridge: float
    x_mean_: np.ndarray
    x_sd_: np.ndarray
    y_mean_: np.ndarray
    y_sd_: np.ndarray
    coef_: np.ndarray
    a_inv_: np.ndarray
    resid_var_: np.ndarray
    loo_: LooDiagnostics
    n_train: int
    vector_output: bool

    def predict(self, x) -> tuple[np.ndarray, np.ndarray]:
        """Emulated mean and predictive variance at the rows of ``x`` (n, k).

        Returns:
            ``(mean, var)``, each (n, n_out) in output units (output units squared for var), or
            (n,) when the emulator was fitted to a 1-D y.

        Example:
            >>> x = np.linspace(-1, 1, 12)[:, None]
            >>> m, v = fit_emulator(x, x[:, 0] ** 2).predict(np.array([[0.3]]))
            >>> round(float(m[0]), 8)
            0.09
        """
        x = np.atleast_2d(np.asarray(x, dtype=float))
        if x.ndim != 2 or x.shape[1] != self.x_mean_.size:
            raise InputError(f"Emulator.predict: x must be (n, {self.x_mean_.size}), got shape {x.shape}")
        b = _basis((x - self.x_mean_) / self.x_sd_, self.degree)
        mean = self.y_mean_ + (b @ self.coef_) * self.y_sd_
        lever = np.sum((b @ self.a_inv_) * b, axis=1)
        var = (1.0 + lever)[:, None] * (self.resid_var_ * self.y_sd_**2)
        return (mean[:, 0], var[:, 0]) if self.vector_output else (mean, var)

    def implausibility(self, x, observed, obs_var, discrepancy_var=0.0) -> np.ndarray:
        """History-matching implausibility at ``x`` (n, k); see :func:`implausibility`.

        Example:
            >>> x = np.linspace(-1, 1, 12)[:, None]
            >>> em = fit_emulator(x, 2 * x[:, 0])
            >>> round(float(em.implausibility(np.array([[0.5]]), 2.0, 0.25)[0]), 6)
            2.0
        """
        mean, var = self.predict(x)
        return implausibility(mean, var, observed, obs_var, discrepancy_var)


def implausibility(mean, var, observed, obs_var, discrepancy_var=0.0) -> np.ndarray:
    """``|observed - mean| / sqrt(var + obs_var + discrepancy_var)`` per point and output.

    Values above about 3 (Pukelsheim's three-sigma rule) mark a parameter set as implausible;
    take the maximum over outputs to cut a whole point. All variances in output units squared.

    Example:
        >>> float(implausibility(np.array([1.0]), np.array([0.5]), 2.0, 0.5)[0])
        1.0
    """
    total = np.asarray(var, dtype=float) + np.asarray(obs_var, dtype=float) + discrepancy_var
    if np.any(total <= 0):
        raise InputError("implausibility: emulator + observation + discrepancy variance must be > 0")
    return np.abs(np.asarray(observed, dtype=float) - np.asarray(mean, dtype=float)) / np.sqrt(total)


def _check_xy(x, y) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if x.ndim != 2 or y.ndim not in (1, 2) or y.shape[0] != x.shape[0]:
        raise InputError(f"fit_emulator: need x (m, k) and y (m,) or (m, n_out), got {x.shape} and {y.shape}")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        raise InputError("fit_emulator: x and y must be finite; drop failed simulations first")
    if np.any(x.std(axis=0) == 0):
        raise InputError(f"fit_emulator: inputs {np.flatnonzero(x.std(axis=0) == 0).tolist()} are constant "
                         "over the design; fix them or widen the design")
    return x, y


def _choose_degree(m: int, k: int, degree: int | None) -> int:
    if degree not in (None, 1, 2):
        raise InputError(f"fit_emulator: degree must be 1, 2 or None (automatic), got {degree!r}")
    need = {d: n_terms(k, d) + MIN_DOF for d in (1, 2)}
    if degree is None:
        degree = 2 if m >= need[2] else 1
    if m < need[degree]:
        raise InputError(f"fit_emulator: a degree-{degree} emulator in {k} inputs needs >= {need[degree]} "
                         f"design points, got {m}; add points")
    return degree


def _loo(y: np.ndarray, fitted: np.ndarray, h: np.ndarray, s2: np.ndarray, dof: float) -> tuple:
    """Exact leave-one-out means, variances and studentised errors in standardised units."""
    one_minus_h = np.clip(1.0 - h, 1e-12, None)[:, None]
    e = y - fitted
    loo_resid = e / one_minus_h
    s2_i = ((dof * s2) - e**2 / one_minus_h) / max(dof - 1.0, 1.0)
    loo_var = np.maximum(s2_i, _VAR_FLOOR) / one_minus_h
    return y - loo_resid, loo_var, loo_resid / np.sqrt(loo_var)


def _ridge_solve(b: np.ndarray, ys: np.ndarray, ridge: float) -> tuple:
    """Coefficients, A^-1 and hat-matrix diagonal, by QR of the ridge-augmented basis.

    QR of [B; sqrt(ridge) D] rather than inverting B'B: forming B'B squares the condition number,
    which costs digits for the correlated designs a refocused wave produces.
    """
    p = b.shape[1]
    root = np.sqrt(ridge) * np.eye(p)[1:]
    q, r = np.linalg.qr(np.vstack([b, root]))
    if np.min(np.abs(np.diag(r))) <= 1e-13 * np.max(np.abs(np.diag(r))):
        raise InputError("fit_emulator: the design cannot identify the polynomial (collinear points); "
                         "use a space-filling design, degree=1, or ridge > 0")
    r_inv = np.linalg.solve(r, np.eye(p))
    coef = r_inv @ (q[: b.shape[0]].T @ ys)
    h = np.sum((b @ r_inv) ** 2, axis=1)
    return coef, r_inv @ r_inv.T, h


def fit_emulator(x, y, *, ridge: float = 1e-10, degree: int | None = None) -> Emulator:
    """Fit a quadratic (or linear) ridge emulator to simulator outputs ``y`` at inputs ``x``.

    Args:
        x: (m, k) design points, transformed units.
        y: (m,) or (m, n_out) simulator summaries at those points.
        ridge: penalty on the non-intercept coefficients, in standardised units (B'B is of order
            m); the default only keeps a collinear design solvable; larger values shrink the
            fit towards a constant.
        degree: 2 (quadratic), 1 (linear) or None: quadratic when m >= n_terms(k, 2) + MIN_DOF.

    Returns:
        an :class:`Emulator` with its leave-one-out diagnostics in ``loo_``.

    Raises:
        InputError: shapes disagree, values are not finite, an input is constant, or too few points.

    Example:
        >>> x = np.random.default_rng(1).uniform(size=(20, 2))
        >>> em = fit_emulator(x, np.exp(x))
        >>> em.degree, em.loo_.q2.shape
        (2, (2,))
    """
    x, y = _check_xy(x, y)
    if not ridge >= 0:
        raise InputError(f"fit_emulator: ridge must be >= 0, got {ridge}")
    vector_output = y.ndim == 1
    y2 = y[:, None] if vector_output else y
    m, k = x.shape
    degree = _choose_degree(m, k, degree)
    x_mean, x_sd = x.mean(axis=0), x.std(axis=0)
    y_mean, y_sd = y2.mean(axis=0), y2.std(axis=0)
    y_sd = np.where(y_sd > 0, y_sd, 1.0)
    ys = (y2 - y_mean) / y_sd
    b = _basis((x - x_mean) / x_sd, degree)
    coef, a_inv, h = _ridge_solve(b, ys, ridge)
    fitted = b @ coef
    dof = max(m - float(np.sum(h)), 1.0)
    s2 = np.maximum(np.sum((ys - fitted) ** 2, axis=0) / dof, _VAR_FLOOR)
    loo_mean_s, loo_var_s, std = _loo(ys, fitted, h, s2, dof)
    loo_mean = y_mean + loo_mean_s * y_sd
    press = np.sum((y2 - loo_mean) ** 2, axis=0)
    tss = np.sum((y2 - y_mean) ** 2, axis=0)
    loo = LooDiagnostics(
        mean=loo_mean, var=loo_var_s * y_sd**2, std_errors=std, rmse=np.sqrt(press / m),
        q2=np.where(tss > 0, 1.0 - press / np.where(tss > 0, tss, 1.0), 1.0),
        max_abs_std=np.max(np.abs(std), axis=0), frac_beyond_3=np.mean(np.abs(std) > 3, axis=0))
    return Emulator(degree, float(ridge), x_mean, x_sd, y_mean, y_sd, coef, a_inv, s2, loo, m, vector_output)
