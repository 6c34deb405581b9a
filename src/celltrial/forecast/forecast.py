"""Forecast one patient's course from their own data and compare candidate next moves.

:func:`forecast_patient` chains: the posterior of the patient's random effects
(:mod:`.posterior`), the simulation of every posterior draw under every action with common
random numbers (:mod:`.paths`: extinction and assay noise per draw), and the reading of the
courses (:mod:`.outcomes`, :mod:`.costs`). Days in the result are days since the reference of
the data (usually the first infusion); "after origin" quantities count from the last observation.

Example (compiles the standard model on a cold cache):
    >>> from celltrial.calibration.individual import PopulationModel       # doctest: +SKIP
    >>> pop = PopulationModel.from_presets("b-all", "tisa-cel-like", ["k_car", "B0"])   # doctest: +SKIP
    >>> fc = forecast_patient(record, pop, n_draws=50, horizon=90)         # doctest: +SKIP
    >>> fc.p_extinct["p"], [a["action"] for a in fc.actions]               # doctest: +SKIP
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from ..biology.grading import ICANS_THRESHOLD_PARAMETERS, THRESHOLD_PARAMETERS
from ..calibration.individual import PopulationModel
from ..calibration.nonmem import PatientData
from ..errors import InputError
from ..scenarios.costs import Costs
from ..scenarios.rules import Endpoints
from .actions import Action, default_actions
from .costs import action_costs
from .outcomes import bands, consistent_draws, death_day, grade_after, progression_day, proportion, summary_interval
from .paths import GRADED, SAVED, simulate_actions
from .posterior import Posterior, sample_posterior

#: Default ctDNA trigger of the ``redose_on_ctdna`` default action (hGE/mL).
DEFAULT_TRIGGER = 1.0


@dataclass(frozen=True)
class Forecast:
    """One patient's forecast.

    Attributes:
        patient: ID; origin: day of the last observation (or of the last dose when there is none);
        horizon: days forecast after the origin; posterior: :class:`~.posterior.Posterior`;
        t: (T,) grid days from 0; bands: quantity -> (5, T) quantiles (2.5/10/50/90/97.5 %) of measurements
        under the first ``none`` action; p_extinct: P(no tumour cell left at the origin) with its interval;
        p_progression: days after origin -> P(progression by then) under ``none``; actions: one dict a row;
        n_used, n_dropped: draws kept / dropped as inconsistent with the data; timings: step -> seconds;
        notes: what the reader must know (prior forecast, uninformed parameters, dropped draws, ...).
    """

    patient: str
    origin: float
    horizon: float
    posterior: Posterior
    t: np.ndarray
    bands: dict
    p_extinct: dict
    p_progression: dict
    actions: tuple
    n_used: int
    n_dropped: int
    timings: dict
    notes: tuple


def forecast_origin(record: PatientData) -> float:
    """The last observation day, or the last dose day when there are no observations (days)."""
    days = list(record.times) + [t for t, _ in record.doses] + [t for t, _, _ in record.drugs]
    return float(max(days)) if days else 0.0


def _with_none(actions) -> list:
    actions = list(actions)
    if not any(a.kind == "none" for a in actions):
        actions.insert(0, Action(name="none", kind="none"))
    return actions


def forecast_patient(record: PatientData, pop: PopulationModel, *, actions=None, horizon: float = 180.0,
                     days=(30, 90, 180), n_draws: int = 200, n_proposals: int | None = None, sigma: float = 0.5,
                     seed: int = 0, endpoints: Endpoints | None = None, costs: Costs | None = None,
                     dose_price: float | None = None, threads=None) -> Forecast:
    """Posterior forecast of ``record`` under each action (default :func:`~.actions.default_actions`).

    Main arguments:
        record: the patient's data; pop: the prior (presets, parameters with a random effect, omegas).
        actions: :class:`~.actions.Action` list (a ``none`` action is added first when missing: gains are
            against it); horizon: days after the origin; days: days after the origin for P(progression).

    Other arguments:
        n_draws: posterior draws simulated per action; n_proposals: importance proposals; sigma: residual SD
        (log scale); seed: every random number (posterior, extinction, assay noise) follows from it;
        endpoints: progression, detection and lethal burden rules (default :class:`Endpoints`); costs, dose_price:
        prices (default :class:`Costs`, the product price by kind).
    """
    if not (horizon > 0 and n_draws >= 2):
        raise InputError(f"horizon must be > 0 days and n_draws >= 2, got horizon={horizon}, n_draws={n_draws}")
    actions = _with_none(actions or default_actions(threshold=DEFAULT_TRIGGER))
    endpoints, costs = endpoints or Endpoints(), costs or Costs()
    origin, clock = forecast_origin(record), {}
    start = time.perf_counter()
    post = sample_posterior(pop, record, sigma=sigma, n_draws=n_draws, rng=np.random.default_rng(seed),
                            n_proposals=n_proposals)
    clock["posterior"] = time.perf_counter() - start
    lethal = np.maximum(endpoints.lethal_burden_cells, 2.0 * _per_draw(pop, post, "B0"))
    start = time.perf_counter()
    paths = simulate_actions(pop, record, post.eta, actions, origin=origin, horizon=horizon, seed=seed,
                             sigma=sigma, extra_days=record.times, lethal=float(np.min(lethal)), threads=threads)
    clock["simulate"] = time.perf_counter() - start
    start = time.perf_counter()
    out = _read(paths, post, pop, record, actions, origin=origin, horizon=horizon, days=days, sigma=sigma, seed=seed,
                endpoints=endpoints, costs=costs, price=dose_price, lethal=lethal)
    clock["outcomes"] = time.perf_counter() - start
    return Forecast(patient=record.id, origin=origin, horizon=float(horizon), posterior=post, t=paths.t,
                    timings=clock, **out)


def _day_key(day):
    """A whole number of days as an int key (30, not 30.0), any other day as given."""
    return int(day) if float(day).is_integer() else float(day)


def _per_draw(pop, post, name) -> np.ndarray:
    """(n_draws,) a parameter's value per draw (its typical value when it has no random effect)."""
    if name in post.names:
        return post.values[:, post.names.index(name)]
    return np.full(post.eta.shape[0], float(pop.base[name]))


def _read(paths, post, pop, record, actions, *, origin, horizon, days, sigma, seed, endpoints, costs, price,
          lethal) -> dict:
    """Bands, probabilities and the action table from the simulated paths."""
    t, burden = paths.t, paths.values["B_tot"]
    base = next(k for k, a in enumerate(actions) if a.kind == "none")
    keep = consistent_draws(t, burden[base], paths.status.max(axis=0), record)  # a failure in any action drops it
    notes = list(post.notes)
    if not keep.any():
        raise InputError(f"patient {record.id}: no posterior draw reproduces the data (every simulated tumour was "
                         "extinct before a positive ctDNA or burden observation, or failed to solve)")
    dropped = int((~keep).sum())
    if dropped:
        notes.append(f"{dropped} of {keep.size} draws dropped: their simulated tumour died out before a positive "
                     "tumour observation (or the solve failed)")
    b0 = _per_draw(pop, post, "B0")[keep]
    j0 = int(np.searchsorted(t, origin))
    params = {p: _per_draw(pop, post, p)[keep] for p in THRESHOLD_PARAMETERS + ICANS_THRESHOLD_PARAMETERS}
    rule = {"origin": origin, "detection": endpoints.imaging_detection_cells,
            "increase": endpoints.progression_increase, "lethal": lethal[keep]}
    prog = np.array([progression_day(t, burden[k][keep], b0, **rule) for k in range(len(actions))])
    dead = np.array([death_day(t, burden[k][keep], lethal[keep], origin=origin) for k in range(len(actions))])
    pfs = np.minimum(prog - origin, horizon)
    rng = np.random.default_rng([seed, 1])
    window = {q: paths.values[q][base][keep] for q in SAVED}
    rows = []
    for k, action in enumerate(actions):
        grade = grade_after(t, paths.values["il6_signal"][k][keep], params, origin)
        icans = grade_after(t, paths.values["NT"][k][keep], params, origin, ICANS_THRESHOLD_PARAMETERS)
        cost = action_costs(action, pop.product, redose_day=paths.redose_day[k][keep], death_day=dead[k],
                            grade=grade, ctdna_draws=paths.ctdna_draws[k][keep], origin=origin, costs=costs,
                            price=price)
        rows.append({"action": action.name, "kind": action.kind, "pfs_gain_days": summary_interval(pfs[k] - pfs[base]),
                     "p_progression": proportion(prog[k] - origin <= horizon), "p_crs3": proportion(grade >= 3),
                     "p_icans3": proportion(icans >= 3),
                     "cost": summary_interval(cost), "p_redosed": proportion(np.isfinite(paths.redose_day[k][keep]))})
    return {"bands": {q: bands(window[q], sigma=sigma, rng=rng) for q in SAVED if q not in GRADED},
            "p_extinct": proportion(burden[base][keep, j0] <= 0.0),
            "p_progression": {_day_key(d): proportion(prog[base] - origin <= d) for d in days if d <= horizon},
            "actions": tuple(rows), "n_used": int(keep.sum()), "n_dropped": dropped, "notes": tuple(notes)}
