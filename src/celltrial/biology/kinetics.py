"""Clinical kinetic metrics of a blood time course (Stein 2019 conventions), pure numpy.

Stein's model is exponential growth from C0 = Cmax/foldx at time 0 up to Tmax, then a
biexponential fall: fast contraction (alpha) and a slow phase (beta) holding a fraction F_B.
From a simulated daily course we read the same quantities:

- ``cmax``, ``tmax``: the expansion peak, searched from the distribution trough to the end of
  ``window`` (default day 28; :func:`expansion_peak`), so neither the infusion itself nor a late
  re-expansion at relapse is taken as the peak, with parabolic refinement on log scale;
- ``fold``: expansion extrapolated back to time 0 along the observed growth from the trough
  after the distribution phase (:func:`stein_fold`) - Stein's foldx;
- ``alpha``: mean log-slope over the 14 days after the peak;
- ``beta``: log-slope between days 180 and 365 (the slow phase), when observed;
- ``f_slow``: slow-phase intercept at Tmax relative to Cmax (Stein's F_B).

Example:
    >>> import numpy as np
    >>> t = np.arange(0.0, 366.0)
    >>> y = np.where(t < 10, 10 * np.exp(0.8 * t), 10 * np.exp(8) * (0.99 * np.exp(-0.2 * (t - 10))
    ...              + 0.01 * np.exp(-0.003 * (t - 10))))
    >>> round(float(stein_metrics(t, y)["beta"]), 4)
    0.003
"""

from __future__ import annotations

import numpy as np


def peak(t, y, window=(1.0, 28.0)):
    """(Cmax, Tmax) of the expansion before ``window[1]`` (days; infusion at ``window[0] - 1``), Tmax refined
    by a parabola through the log values."""
    t, y = np.asarray(t, float), np.asarray(y, float)
    _, tmax = expansion_peak(t, y[None, :], start=window[0] - 1.0, settle=7.0, span=window[1] - window[0] + 1.0)
    i = int(np.searchsorted(t, tmax[0]))
    if 0 < i < len(y) - 1 and np.all(y[i - 1:i + 2] > 0):
        lo, mid, hi = np.log(y[i - 1:i + 2])
        curvature = lo - 2 * mid + hi
        if curvature < 0:
            shift = 0.5 * (lo - hi) / curvature
            return float(y[i]), float(t[i] + shift * 0.5 * (t[i + 1] - t[i - 1]))
    return float(y[i]), float(t[i])


def expansion_peak(t, y, start=0.0, settle=7.0, span=28.0, with_trough=False):
    """(Cmax, Tmax) of the in vivo expansion of each course, as clinical PK reads it.

    The infusion itself and the distribution phase are not the peak: the search starts at
    the lowest level within ``settle`` days after the infusion (the distribution trough) and
    ends ``span`` days after it, so a large flat dose does not report its own infusion as
    Cmax, and a late re-expansion at relapse is not taken as the peak. A course that only
    falls reports its level at the end of the settle window.

    Args:
        t: (T,) days; y: (n, T) blood levels; start: (n,) or scalar infusion day.
        with_trough: also return the trough level and its day (see :func:`stein_fold`).

    Example:
        >>> t = np.arange(0.0, 29.0)
        >>> y = np.where(t < 2, 40 * np.exp(-t), 40 * np.exp(-2) * np.exp(0.5 * (np.minimum(t, 9) - 2)))
        >>> cmax, tmax = expansion_peak(t, y[None, :])
        >>> float(tmax[0])
        9.0
    """
    t = np.asarray(t, float)
    y = np.atleast_2d(np.asarray(y, float))
    rel = t[None, :] - np.broadcast_to(np.asarray(start, float), (y.shape[0],))[:, None]
    early = (rel > 0) & (rel <= settle)
    trough = np.argmin(np.where(early, y, np.inf), axis=1)
    after = (rel >= rel[np.arange(len(y)), trough][:, None]) & (rel <= span)
    i = np.argmax(np.where(after, y, -np.inf), axis=1)
    rows = np.arange(len(y))
    none = ~early.any(axis=1)  # never infused inside the course
    if with_trough:
        return (np.where(none, np.nan, y[rows, i]), np.where(none, np.nan, t[i]),
                np.where(none, np.nan, y[rows, trough]), np.where(none, np.nan, t[trough]))
    return np.where(none, np.nan, y[rows, i]), np.where(none, np.nan, t[i])


def stein_fold(cmax, tmax, trough, t_trough, start=0.0):
    """Stein 2019's fold-expansion: Cmax over the expansion's level extrapolated back to the infusion.

    Stein's model grows exponentially from C0 = Cmax/foldx at the infusion to Tmax; the early
    samples sit in the distribution phase, so C0 is read along the observed growth from the
    trough: (Cmax/trough)^((Tmax - start)/(Tmax - t_trough)). 1 (no expansion) when the course
    never rises above its trough; NaN only when there is no course (never infused).

    Example:
        >>> float(stein_fold(100.0, 10.0, 1.0, 5.0))  # 100-fold in 5 days is 1e4-fold over 10
        10000.0
    """
    cmax, tmax, trough, t_trough = (np.asarray(a, float) for a in (cmax, tmax, trough, t_trough))
    grows = (tmax > t_trough) & (trough > 0) & (cmax > trough)
    span = np.where(grows, tmax - t_trough, 1.0)
    ratio = np.where(grows, cmax / np.where(grows, trough, 1.0), 1.0)
    measured = np.isfinite(cmax) & np.isfinite(trough) & np.isfinite(tmax)
    return np.where(grows, ratio ** ((tmax - np.asarray(start, float)) / span), np.where(measured, 1.0, np.nan))


def stein_metrics(t, y, window=(1.0, 28.0)) -> dict:
    """Stein-style kinetic metrics of course ``y`` sampled at times ``t`` (days from infusion)."""
    t, y = np.asarray(t, float), np.asarray(y, float)
    cmax, tmax = peak(t, y, window)
    i = int(np.searchsorted(t, tmax))
    j = int(np.nanargmin(y[: max(i, 1)]))
    fold = float(stein_fold(cmax, tmax, y[j], t[j]))
    after = np.interp(tmax + 14.0, t, y)
    alpha = np.log(cmax / after) / 14.0 if after > 0 else np.nan
    beta = f_slow = np.nan
    if t[-1] >= 365.0:
        y180, y365 = np.interp([180.0, 365.0], t, y)
        if y180 > 0 and y365 > 0:
            beta = np.log(y180 / y365) / 185.0
            f_slow = y365 * np.exp(beta * (365.0 - tmax)) / cmax
    return {"cmax": cmax, "tmax": tmax, "fold": fold, "alpha": alpha, "beta": beta, "f_slow": f_slow}
