"""Forecast calibration on virtual patients with known truth: do the prediction intervals cover what happens?

Each virtual patient gets random effects from the prior and a course simulated with the same
stochastic machinery as the forecast (extinction per draw, :func:`.paths.simulate_actions`, its
own seed), measured with the residual error and censored below ``lloq``. The forecaster sees
the measurements up to ``origin`` only and predicts the measurements on ``future_days``;
an interval covers a measurement when they agree on the censored scale (both clamped at
``lloq``: a value below the limit is known only to be below it). The forecast P(progression by
the end of the window) is scored against what happened (Brier score), next to the same score of
the population forecast (no observations, the same doses): data must make the forecast sharper.

Example:
    >>> covered(np.array([0.5, 5.0]), np.array([1.0, 1.0]), np.array([2.0, 2.0]), lloq=1.0).tolist()
    [True, False]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..calibration.nonmem import PatientData
from ..scenarios.rules import Endpoints
from .actions import Action
from .forecast import forecast_patient
from .outcomes import progression_day
from .paths import simulate_actions


def covered(y, lo, hi, *, lloq: float) -> np.ndarray:
    """Whether measurements ``y`` lie in [lo, hi] once all three are clamped at ``lloq`` (censored scale)."""
    c = np.maximum
    return (c(lo, lloq) <= c(y, lloq)) & (c(y, lloq) <= c(hi, lloq))


@dataclass(frozen=True)
class CoverageResult:
    """Coverage of the 80 % and 95 % intervals of one observable over every (patient, future day).

    Attributes:
        coverage80, coverage95: shares covered; n: intervals checked; censored: share of truths below lloq;
        quantified80: 80 % coverage over the truths above lloq only (NaN when none);
        brier, brier_prior: Brier scores of P(progression within ``brier_days`` of the origin) of the forecasts
        and of the population forecast; progressed: share of patients who progressed in that window.
    """

    coverage80: float
    coverage95: float
    n: int
    censored: float
    quantified80: float
    brier: float
    brier_prior: float
    brier_days: float
    progressed: float


def coverage_study(pop, *, n_patients: int, obs_days, future_days, seed: int, n_draws: int = 50,
                   observable: str = "ctdna", lloq: float = 0.01, sigma: float = 0.3) -> CoverageResult:
    """Simulate ``n_patients`` from ``pop`` and check the forecast intervals of ``observable`` (see module docstring).

    Days are days since the first infusion; ``obs_days`` are seen, ``future_days`` (after them) predicted.
    """
    rng, rules = np.random.default_rng(seed), Endpoints()
    obs_days, future_days = np.asarray(obs_days, float), np.asarray(future_days, float)
    origin = float(obs_days.max())
    eta = rng.standard_normal((n_patients, len(pop.names))) * np.asarray(pop.omega)
    template = PatientData("truth", [], [], [], [], [], doses=((0.0, pop.product.cells_for(pop.disease.weight_kg)),))
    truth = simulate_actions(pop, template, eta, [Action(name="none", kind="none")], origin=origin,
                             horizon=float(future_days.max() - origin), seed=seed + 1, sigma=sigma,
                             extra_days=np.concatenate([obs_days, future_days]))
    level = truth.values[observable][0]
    y = level * np.exp(sigma * rng.standard_normal(level.shape))
    idx_obs, idx_future = np.searchsorted(truth.t, obs_days), np.searchsorted(truth.t, future_days)
    window = float(future_days.max() - origin)
    progressed = _truth_progressed(pop, truth, eta, rules, origin, window)
    prior = forecast_patient(template, pop, actions=[Action(name="none", kind="none")], horizon=window, days=(window,),
                             n_draws=4 * n_draws, sigma=sigma, seed=seed + 99)
    hits80, hits95, ys, p_prog = [], [], [], []
    for i in range(n_patients):
        seen = y[i, idx_obs]
        blq = seen < lloq
        record = PatientData(str(i), obs_days, np.where(blq, np.nan, seen), [observable] * obs_days.size,
                             np.full(obs_days.size, lloq), blq, doses=template.doses)
        fc = forecast_patient(record, pop, actions=[Action(name="none", kind="none")],
                              horizon=window, days=(window,), n_draws=n_draws, sigma=sigma, seed=seed + 100 + i)
        p_prog.append(fc.p_progression[int(window)]["p"])
        j = np.searchsorted(fc.t, future_days)
        b = fc.bands[observable]
        future = y[i, idx_future]
        hits80.append(covered(future, b[1, j], b[3, j], lloq=lloq))
        hits95.append(covered(future, b[0, j], b[4, j], lloq=lloq))
        ys.append(future)
    h80, h95, ys = np.concatenate(hits80), np.concatenate(hits95), np.concatenate(ys)
    quantified = ys >= lloq
    p_prior = prior.p_progression[int(window)]["p"]
    return CoverageResult(float(h80.mean()), float(h95.mean()), int(h80.size), float(1.0 - quantified.mean()),
                          float(h80[quantified].mean()) if quantified.any() else float("nan"),
                          float(np.mean((np.array(p_prog) - progressed) ** 2)),
                          float(np.mean((p_prior - progressed) ** 2)), window, float(progressed.mean()))


def _truth_progressed(pop, truth, eta, rules, origin, window) -> np.ndarray:
    """(n,) whether each virtual patient progressed (the forecast's rule) within ``window`` days of ``origin``."""
    lo, hi = pop.eta_bounds()
    values = pop.typical * np.exp(np.clip(eta, lo, hi))
    b0 = values[:, pop.names.index("B0")] if "B0" in pop.names else np.full(eta.shape[0], pop.base["B0"])
    day = progression_day(truth.t, truth.values["B_tot"][0], b0, origin=origin,
                          detection=rules.imaging_detection_cells, increase=rules.progression_increase,
                          lethal=np.maximum(rules.lethal_burden_cells, 2.0 * b0))
    return (day - origin <= window).astype(float)
