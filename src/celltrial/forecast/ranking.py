"""Does the forecast pick the action the truth would have picked? Ranking check on virtual patients.

Each virtual patient's true random effects are simulated under every action ``replicates``
times (different extinction streams), giving the truth's expected PFS restricted to the horizon
per action; the forecaster sees the patient's ctDNA up to the origin and picks the action with
the largest expected PFS gain. They agree when the forecast's pick is within ``tie_days`` of the
truth's best expected PFS. The population forecast (no observations: the same pick for everyone)
is scored the same way, as the baseline the data must beat.

Example:
    >>> agrees(np.array([10.0, 12.0, 11.5]), 2, tie_days=1.0), agrees(np.array([10.0, 12.0]), 0, tie_days=1.0)
    (True, False)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..calibration.nonmem import PatientData
from ..scenarios.rules import Endpoints
from .forecast import forecast_patient
from .outcomes import progression_day
from .paths import simulate_actions


def agrees(truth_pfs, pick: int, *, tie_days: float) -> bool:
    """Whether action ``pick`` is within ``tie_days`` of the best expected PFS in ``truth_pfs`` (n_actions,)."""
    return bool(truth_pfs[pick] >= np.max(truth_pfs) - tie_days)


@dataclass(frozen=True)
class RankingResult:
    """agreement: share of patients whose forecast pick is (near) the truth's best; prior_agreement: the same for
    the population forecast's single pick; n: patients; decisive: patients whose actions differ by more than the tie
    (the others agree whatever is picked), with decisive_agreement and decisive_prior_agreement over them (NaN if
    none); picks, best: per patient the forecast's pick and the truth's best action (indices, ``none`` first)."""

    agreement: float
    prior_agreement: float
    n: int
    decisive: int
    decisive_agreement: float
    decisive_prior_agreement: float
    picks: tuple
    best: tuple


def _truth_pfs(pop, template, eta, actions, *, origin, horizon, replicates, seed, sigma):
    """(n_patients, n_actions) expected restricted PFS (days after origin) under the true parameters."""
    rules = Endpoints()
    n = eta.shape[0]
    paths = simulate_actions(pop, template, np.repeat(eta, replicates, axis=0), actions, origin=origin,
                             horizon=horizon, seed=seed, sigma=sigma)
    lo, hi = pop.eta_bounds()
    values = pop.typical * np.exp(np.clip(np.repeat(eta, replicates, axis=0), lo, hi))
    b0 = values[:, pop.names.index("B0")] if "B0" in pop.names else np.full(values.shape[0], pop.base["B0"])
    out = np.zeros((n, len(actions)))
    for k in range(len(actions)):
        day = progression_day(paths.t, paths.values["B_tot"][k], b0, origin=origin,
                              detection=rules.imaging_detection_cells, increase=rules.progression_increase,
                              lethal=np.maximum(rules.lethal_burden_cells, 2.0 * b0))
        out[:, k] = np.minimum(day - origin, horizon).reshape(n, replicates).mean(axis=1)
    return out, paths


def ranking_study(pop, actions, *, n_patients: int, obs_days, horizon: float, seed: int, n_draws: int = 50,
                  replicates: int = 20, sigma: float = 0.3, lloq: float = 0.01, tie_days: float = 1.0) -> RankingResult:
    """Forecast picks against the truth's best action (see the module docstring); ``actions`` start with ``none``."""
    rng = np.random.default_rng(seed)
    obs_days = np.asarray(obs_days, float)
    origin = float(obs_days.max())
    eta = rng.standard_normal((n_patients, len(pop.names))) * np.asarray(pop.omega)
    template = PatientData("truth", [], [], [], [], [], doses=((0.0, pop.product.cells_for(pop.disease.weight_kg)),))
    truth, paths = _truth_pfs(pop, template, eta, actions, origin=origin, horizon=horizon, replicates=replicates,
                              seed=seed + 1, sigma=sigma)
    level = paths.values["ctdna"][0][::replicates][:, np.searchsorted(paths.t, obs_days)]  # replicate 0's history
    y = level * np.exp(sigma * rng.standard_normal(level.shape))
    prior = forecast_patient(template, pop, actions=actions, horizon=horizon, days=(), n_draws=4 * n_draws,
                             sigma=sigma, seed=seed + 99)
    prior_pick = int(np.argmax([a["pfs_gain_days"]["mean"] for a in prior.actions]))
    picks = []
    for i in range(n_patients):
        blq = y[i] < lloq
        record = PatientData(str(i), obs_days, np.where(blq, np.nan, y[i]), ["ctdna"] * obs_days.size,
                             np.full(obs_days.size, lloq), blq, doses=template.doses)
        fc = forecast_patient(record, pop, actions=actions, horizon=horizon, days=(), n_draws=n_draws, sigma=sigma,
                              seed=seed + 100 + i)
        picks.append(int(np.argmax([a["pfs_gain_days"]["mean"] for a in fc.actions])))
    ok = [agrees(truth[i], picks[i], tie_days=tie_days) for i in range(n_patients)]
    ok_prior = [agrees(truth[i], prior_pick, tie_days=tie_days) for i in range(n_patients)]
    decisive = np.ptp(truth, axis=1) > tie_days
    ok, ok_prior = np.array(ok), np.array(ok_prior)
    return RankingResult(float(ok.mean()), float(ok_prior.mean()), n_patients, int(decisive.sum()),
                         _share(ok, decisive), _share(ok_prior, decisive), tuple(picks),
                         tuple(int(np.argmax(truth[i])) for i in range(n_patients)))


def _share(flags, where) -> float:
    """Share of True among ``flags[where]`` (NaN when ``where`` selects nothing)."""
    return float(flags[where].mean()) if where.any() else float("nan")
