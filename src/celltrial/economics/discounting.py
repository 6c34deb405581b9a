"""Discounting of costs and health effects: the discount factor and its integral over time.

Two conventions, stated in every result (CHEERS 2022 item 10 asks for the rate and why):

* ``"annual"``: the factor steps once a year, ``d(t) = (1 + r) ** -floor(t)`` (t in years); the first
  year is undiscounted, as in a cycle model with yearly cycles.
* ``"continuous"``: the same yearly rate compounded continuously, ``d(t) = (1 + r) ** -t``.

Money paid at day ``t`` is worth ``amount * d(t)``; a health state held from ``a`` to ``b`` days at
utility ``u`` is worth ``u * D(a, b)`` QALYs, ``D`` the integral of ``d`` in years (:func:`integral`).

Example:
    >>> round(float(factor(365.25, 0.035, "continuous")), 6)
    0.966184
    >>> float(factor(365.25 * 1.5, 0.035, "annual")) == 1 / 1.035
    True
    >>> round(float(integral(0.0, 365.25, 0.0, "annual")), 6)   # one year, undiscounted: 1 life-year
    1.0
"""

from __future__ import annotations

import numpy as np

from ..errors import InputError

#: Days in a year (Julian year: the unit of every life-year and QALY here).
DAYS_PER_YEAR = 365.25
METHODS = ("annual", "continuous")


def _check(rate: float, method: str) -> None:
    if method not in METHODS:
        raise InputError(f"discounting.method: {method!r} is not one of {METHODS}")
    if not 0.0 <= rate < 1.0:
        raise InputError(f"discounting.rate: {rate!r} must be a yearly rate in [0, 1), e.g. 0.035 for 3.5%")


def factor(days, rate: float, method: str = "annual") -> np.ndarray:
    """Discount factor of an amount paid ``days`` after day 0 (days >= 0; yearly ``rate``)."""
    _check(rate, method)
    years = np.maximum(np.asarray(days, dtype=float), 0.0) / DAYS_PER_YEAR
    if method == "annual":
        years = np.floor(years)
    return (1.0 + rate) ** -years


def _cumulative(days, rate: float, method: str) -> np.ndarray:
    """Integral of ``d`` from day 0 to ``days``, in (discounted) years."""
    t = np.maximum(np.asarray(days, dtype=float), 0.0) / DAYS_PER_YEAR
    if rate == 0.0:
        return t
    q = 1.0 / (1.0 + rate)
    if method == "continuous":
        return (1.0 - q ** t) / np.log(1.0 + rate)
    whole = np.floor(t)
    # full years 0 .. n-1 each worth q**k, then the part of year n worth q**n
    return (1.0 - q ** whole) / (1.0 - q) + (t - whole) * q ** whole


def integral(start_days, end_days, rate: float, method: str = "annual") -> np.ndarray:
    """Discounted years between ``start_days`` and ``end_days`` (0 where end <= start).

    ``u * integral(a, b)`` is the discounted QALYs of utility ``u`` held from day a to day b.

    Example:
        >>> round(float(integral(0.0, 2 * 365.25, 0.035, "annual")), 6)   # 1 + 1/1.035
        1.966184
    """
    _check(rate, method)
    a = np.asarray(start_days, dtype=float)
    b = np.maximum(np.asarray(end_days, dtype=float), a)
    return _cumulative(b, rate, method) - _cumulative(a, rate, method)
