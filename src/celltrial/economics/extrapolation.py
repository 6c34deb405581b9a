"""Survival beyond follow-up: standard parametric fits (lifelines), the one chosen by AIC, and the
discounted time a patient still alive (or progression-free) at censoring spends in that state up to
the time horizon.

The distributions are lifelines' exponential, Weibull, log-normal and log-logistic fitters (NICE DSU
TSD 14 lists these as the standard set); the fit with the lowest AIC is used, and every AIC is
reported so a reader sees the choice. Opt-in (not in the default set, :data:`STANDARD`):
``cure_weibull``, lifelines' mixture-cure fitter with a Weibull base, S(t) = pi + (1 - pi) S_W(t):
a cured fraction pi that never has the event, so the curve plateaus at pi (long-term remission);
its AIC (3 parameters) competes with the others'. Time in a state is the area under the survival curve on a
grid of ``cycle_days`` cycles by the trapezoid rule: the half-cycle correction of a cohort model
(each cycle counts the mean of its start and end). A curve with fewer than ``MIN_EVENTS`` events is
not extrapolated (its tail counts zero and a note says so): a fit to one event is a guess.

Example:
    >>> import numpy as np
    >>> d = np.array([30.0, 60, 90, 120, 150, 365, 365]); e = np.array([1, 1, 1, 1, 1, 0, 0], bool)
    >>> fit = fit_survival(d, e, ("exponential", "weibull"))
    >>> fit.chosen in ("exponential", "weibull"), sorted(fit.aic)
    (True, ['exponential', 'weibull'])
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from lifelines import ExponentialFitter, LogLogisticFitter, LogNormalFitter, MixtureCureFitter, WeibullFitter
from lifelines.exceptions import ConvergenceError

from ..errors import InputError
from .discounting import factor


def _cure_weibull():
    """Mixture-cure fitter: cured fraction plus a Weibull for the others (lifelines' ``MixtureCureFitter``)."""
    return MixtureCureFitter(base_fitter=WeibullFitter())


#: Name -> factory of an unfitted lifelines fitter.
FITTERS = {"exponential": ExponentialFitter, "weibull": WeibullFitter, "lognormal": LogNormalFitter,
           "loglogistic": LogLogisticFitter, "cure_weibull": _cure_weibull}
#: The default candidates (NICE DSU TSD 14's standard set); ``cure_weibull`` is opt-in.
STANDARD = ("exponential", "weibull", "lognormal", "loglogistic")
#: Fewest events a curve needs to be extrapolated.
MIN_EVENTS = 2


@dataclass(frozen=True)
class SurvivalFit:
    """The chosen parametric fit: ``chosen`` name (None: not extrapolated), ``aic`` per distribution
    tried, ``note`` why nothing was chosen, and the fitted lifelines object (None without a choice)."""

    chosen: str | None
    aic: dict
    note: str | None
    fitter: object = None

    def survival(self, days) -> np.ndarray:
        """S(t) of the chosen fit at ``days`` (1 at day 0)."""
        t = np.maximum(np.asarray(days, dtype=float), 1e-9)  # lifelines' log-normal is undefined at 0
        return self.fitter.survival_function_at_times(t).to_numpy()

    def as_dict(self) -> dict:
        """JSON-ready: chosen, aic, note, and ``cured_fraction`` (0-1) when the mixture-cure fit is chosen."""
        out = {"chosen": self.chosen, "aic": self.aic, "note": self.note}
        if self.chosen == "cure_weibull":
            out["cured_fraction"] = float(self.fitter.cured_fraction_)
        return out


def fit_survival(days, events, distributions=STANDARD) -> SurvivalFit:
    """Fit each of ``distributions`` to (days, events) and choose the lowest AIC."""
    unknown = [d for d in distributions if d not in FITTERS]
    if unknown or not distributions:
        raise InputError(f"economics.extrapolation.distributions: {unknown or 'none'} given; choose from "
                         f"{sorted(FITTERS)}")
    d = np.maximum(np.asarray(days, dtype=float), 1e-6)  # a death on day 0 is a death just after it
    e = np.asarray(events, dtype=bool)
    if int(e.sum()) < MIN_EVENTS:
        return SurvivalFit(None, {}, f"{int(e.sum())} events (< {MIN_EVENTS}): not extrapolated, the tail "
                                     "beyond follow-up counts zero")
    aic, fits = {}, {}
    for name in distributions:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # overflow inside a poor candidate's optimiser
                fits[name] = FITTERS[name]().fit(d, e)
            aic[name] = float(fits[name].AIC_)
        except (ConvergenceError, ValueError, np.linalg.LinAlgError):
            aic[name] = None  # this candidate failed; the others still compete
    ok = {k: v for k, v in aic.items() if v is not None and np.isfinite(v)}
    if not ok:
        return SurvivalFit(None, aic, "no distribution could be fitted: not extrapolated")
    best = min(ok, key=ok.get)
    return SurvivalFit(best, aic, None, fits[best])


def tail_years(fit: SurvivalFit, from_days, horizon_days: float, *, rate: float, method: str,
               cycle_days: float) -> np.ndarray:
    """Expected discounted years in the state from each patient's ``from_days`` (alive in it then)
    to ``horizon_days``: integral of S(t)/S(from) d(t) dt, trapezoid on a ``cycle_days`` grid.

    Zero where ``from_days >= horizon_days`` or the fit chose nothing.

    Example:
        >>> import numpy as np
        >>> class Exp(SurvivalFit):
        ...     def survival(self, days): return np.exp(-np.asarray(days) / 365.25)
        >>> y = tail_years(Exp("exponential", {}, None), [0.0], 365.25 * 50, rate=0.0, method="annual",
        ...                cycle_days=1.0)
        >>> round(float(y[0]), 3)        # mean survival of 1 year
        1.0
    """
    start = np.asarray(from_days, dtype=float)
    if fit.chosen is None or start.size == 0:
        return np.zeros(start.shape)
    lo = float(np.min(start))
    if lo >= horizon_days:
        return np.zeros(start.shape)
    n = max(int(np.ceil((horizon_days - lo) / cycle_days)), 1)
    grid = np.linspace(lo, horizon_days, n + 1)
    flow = fit.survival(grid) * factor(grid, rate, method)
    area = np.concatenate([[0.0], np.cumsum(np.diff(grid) * (flow[1:] + flow[:-1]) / 2.0)]) / 365.25
    at = np.minimum(start, horizon_days)
    s_from = np.maximum(fit.survival(at), 1e-300)
    return np.maximum(area[-1] - np.interp(at, grid, area), 0.0) / s_from
