"""Simulate posterior draws under each candidate action, with common random numbers.

Rows are (action, draw): every action sees the same parameter draws, the same stochastic
extinction stream per draw (the trial's birth-death cure, :mod:`celltrial.protocols.extinction`,
stream "extinction" of draw id i under the forecast's seed) and the same assay noise, so
differences between actions are paired, not noise. Each course starts on day 0 with the
patient's own history (doses in the data), so extinction before the last observation is
simulated too: that is where P(disease already extinct) comes from.

A ``redose_on_ctdna`` action runs as a hook on its draw days: the true ctDNA level times the
residual error exp(sigma z) (z from the draw's own stream) is compared with the threshold, and
the first draw at or above it schedules the re-dose that day.

Example:
    >>> forecast_grid(10.0, 2.0, [3.5]).tolist()
    [0.0, 1.0, 2.0, 3.0, 3.5, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 10.25, 10.5, 10.75, 11.0, 11.25, 11.5, 11.75, 12.0]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..biology.tumour import CLONES
from ..calibration.individual import PopulationModel
from ..calibration.nonmem import PatientData
from ..cohorts import patient_blocks, patient_pcg_states
from ..protocols.doses import anti_pd1
from ..protocols.extinction import Extinction, run_with_extinction
from ..solve import Simulation

#: Quantities saved on the grid: burden, ctDNA, product cells (blood and copies), IL-6 signal (CRS), NT (ICANS).
SAVED = ("B_tot", "ctdna", "product_uL", "car_copies", "il6_signal", "NT")
#: Saved for grading only (no prediction bands).
GRADED = ("il6_signal", "NT")
#: Grid step (days) after the origin: fine enough for the CRS peak of a re-dose.
FINE_STEP = 0.25
#: Assay errors drawn per draw for triggered re-dosing (a longer schedule reuses them cyclically).
MAX_DRAWS = 64


def forecast_grid(origin: float, horizon: float, extra=()) -> np.ndarray:
    """Daily to ``origin``, every :data:`FINE_STEP` days to ``origin + horizon``, plus ``extra`` days."""
    past = np.arange(0.0, origin, 1.0)
    future = np.arange(origin, origin + horizon + 1e-9, FINE_STEP)
    return np.unique(np.concatenate([past, future, np.asarray(extra, float)]))


@dataclass(frozen=True)
class Paths:
    """Simulated courses of every (action, draw) row.

    Attributes:
        t: (T,) grid days; values: quantity -> (n_actions, n_draws, T); status: (n_actions, n_draws) solver codes;
        redose_day: (n_actions, n_draws) day of the action's re-dose (inf: none); ctdna_draws: (n_actions,
        n_draws) ctDNA draws a trigger action took while alive; params: name -> (n_draws,) per-draw parameters.
    """

    t: np.ndarray
    values: dict
    status: np.ndarray
    redose_day: np.ndarray
    ctdna_draws: np.ndarray
    params: dict


def _action_events(action, pop: PopulationModel, weight: float, origin: float) -> list:
    """The fixed events of an action (a ctDNA-triggered re-dose is scheduled by the hook instead)."""
    if action.kind == "redose":
        return _redose(action, pop, weight, origin + action.delay_days)
    if action.kind == "anti_pd1":
        return anti_pd1(action.drug_days(origin), action.mg)
    return []


def _redose(action, pop, weight, day) -> list:
    cells = pop.product.cells_for(weight) * action.dose_multiple
    if action.lymphodepletion:
        return pop.product.regimen(day, weight, cells=cells)
    return [pop.product.infusion(day, weight, cells=cells)]


def simulate_actions(pop: PopulationModel, record: PatientData, eta, actions, *, origin: float, horizon: float,
                     seed: int, sigma: float, extra_days=(), lethal: float = np.inf, rtol: float = 1e-6,
                     threads=None) -> Paths:
    """Every action over every draw of ``eta`` (n_draws, p) from day 0 to ``origin + horizon`` (days).

    ``lethal``: burden (cells) above which a draw is dead (a triggered re-dose is not given to it).
    """
    from ..calibration.individual import _compiled

    eta = np.atleast_2d(eta)
    n, m = eta.shape[0], len(actions)
    lo, hi = pop.eta_bounds()
    values = pop.typical * np.exp(np.clip(eta, lo, hi))
    params = {**pop.base, **{name: np.tile(values[:, k], m) for k, name in enumerate(pop.names)}}
    weight = _weight(pop, record)
    history = pop.events(record)
    events = [history + _action_events(a, pop, weight, origin) for a in actions for _ in range(n)]
    t_end = origin + horizon
    grid = forecast_grid(origin, horizon, extra_days)
    sim = Simulation(_compiled(), params, n_patients=n * m, patient_events=events, save_at=grid, save=SAVED,
                     rtol=rtol, check_bounds=False, threads=threads)
    ids = np.tile(np.arange(n, dtype=np.int64), m)  # draw i has one stream whatever the action: CRN
    noise = patient_blocks(seed, ids, "assay", MAX_DRAWS)  # the draw's assay errors, the same for every action
    hook = _Trigger(actions, pop, weight, origin, t_end, n, sigma, noise, lethal)
    clones = [Extinction(state, birth) for state, birth in CLONES.items()]
    run_with_extinction(sim, t_end, clones, streams=patient_pcg_states(seed, ids, "extinction"),
                        on_check=hook if hook.days else None, wake_days=hook.days or None)
    res = sim.result()
    out = {q: res[q].reshape(m, n, -1) for q in SAVED}
    fixed = np.array([[origin + a.delay_days if a.kind == "redose" else np.inf] * n for a in actions])
    redose = np.where(np.isfinite(hook.fired.reshape(m, n)), hook.fired.reshape(m, n), fixed)
    per_draw = {name: values[:, k] for k, name in enumerate(pop.names)}
    return Paths(grid, out, res.status.reshape(m, n), redose, hook.draws.reshape(m, n), per_draw)


def _weight(pop, record) -> float:
    wt = record.covariates.get("WT")
    return wt if isinstance(wt, float) and wt > 0 else pop.disease.weight_kg


class _Trigger:
    """The ``redose_on_ctdna`` hook: ctDNA draws with residual error; the first one at or above threshold doses."""

    def __init__(self, actions, pop, weight, origin, t_end, n, sigma, noise, lethal):
        self.rows = {k: a for k, a in enumerate(actions) if a.kind == "redose_on_ctdna"}
        self.checks = {k: a.check_days(origin, t_end) for k, a in self.rows.items()}
        self.days = sorted({d for days in self.checks.values() for d in days})
        self.pop, self.weight, self.n, self.sigma, self.noise, self.lethal = pop, weight, n, sigma, noise, lethal
        self.fired = np.full(len(actions) * n, np.inf)
        self.draws = np.zeros(len(actions) * n, np.int64)

    def __call__(self, day, sim) -> None:
        now = sim.observables()
        schedule = [[] for _ in range(sim.n_patients)]
        for k, action in self.rows.items():
            if day not in self.checks[k]:
                continue
            j = self.checks[k].index(day) % self.noise.shape[1]
            rows = np.arange(k * self.n, (k + 1) * self.n)
            alive = now["B_tot"][rows] < self.lethal
            measured = now["ctdna"][rows] * np.exp(self.sigma * self.noise[rows, j])
            self.draws[rows] += alive & ~np.isfinite(self.fired[rows])
            fire = rows[alive & ~np.isfinite(self.fired[rows]) & (measured >= action.threshold)]
            for r in fire:
                self.fired[r] = day
                schedule[r] = _redose(action, self.pop, self.weight, day)
        if any(schedule):
            sim.schedule(patient_events=schedule)
