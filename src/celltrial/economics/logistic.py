"""Logistic regression by Newton-Raphson (iteratively reweighted least squares), for response ~ covariate.

statsmodels is not a dependency; this small fit gives the maximum-likelihood coefficients, Wald
standard errors from the inverse Fisher information, and 95 % Wald intervals. Complete separation
(a covariate that splits responders from non-responders) has no finite estimate: the fit reports
``note`` and None values instead of a huge odds ratio.

Example:
    >>> import numpy as np
    >>> x = np.array([0, 0, 0, 0, 1, 1, 1, 1.0]); y = np.array([1, 0, 0, 0, 1, 1, 1, 0], bool)
    >>> fit = logistic(x[:, None], y)
    >>> round(float(np.exp(fit["coef"][1])), 6)        # odds ratio (3/1) / (1/3) = 9
    9.0
"""

from __future__ import annotations

import numpy as np
from scipy.stats import norm

from ..errors import InputError

MAX_ITER = 50
#: |coefficient| beyond which a fit is taken as separated (an odds ratio above e^15 per unit).
SEPARATED = 15.0


def logistic(x, y, confidence: float = 0.95) -> dict:
    """Fit P(y) = expit(b0 + x @ b); ``x`` (n, k) covariates (no intercept column), ``y`` (n,) booleans.

    Returns ``coef``, ``se``, ``low``, ``high`` (k+1 arrays, intercept first; None when not fitted),
    ``p`` (Wald, two-sided), ``converged`` and ``note``.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float).ravel()
    if x.ndim != 2 or x.shape[0] != y.size:
        raise InputError(f"logistic: x must be (n, k) with n = {y.size}, got shape {x.shape}")
    design = np.column_stack([np.ones(y.size), x])
    beta = np.zeros(design.shape[1])
    none = {"coef": None, "se": None, "low": None, "high": None, "p": None, "converged": False}
    if y.size == 0 or y.min() == y.max():
        return {**none, "note": "every patient has the same outcome: no association can be estimated"}
    for _ in range(MAX_ITER):
        mu = 1.0 / (1.0 + np.exp(-design @ beta))
        w = mu * (1.0 - mu)
        info = design.T @ (design * w[:, None])
        try:
            step = np.linalg.solve(info, design.T @ (y - mu))
        except np.linalg.LinAlgError:
            return {**none, "note": "the covariate does not vary (singular information matrix)"}
        beta = beta + step
        if np.max(np.abs(beta)) > SEPARATED * 3:
            break
        if np.max(np.abs(step)) < 1e-10:
            break
    if np.max(np.abs(beta[1:])) > SEPARATED:
        return {**none, "note": "complete separation: the covariate splits responders from non-responders"}
    se = np.sqrt(np.diag(np.linalg.inv(info)))
    z = norm.ppf(0.5 + confidence / 2.0)
    return {"coef": beta, "se": se, "low": beta - z * se, "high": beta + z * se,
            "p": 2.0 * norm.sf(np.abs(beta / se)), "converged": True, "note": None}
