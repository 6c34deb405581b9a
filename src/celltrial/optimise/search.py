"""The search loop: Optuna proposes candidates, successive halving grows the patients of the promising ones.

Why Optuna: a maintained library whose multi-objective samplers (MOTPE, NSGA-II) handle ranges on
log or linear scales, integers and categorical choices, take constraints, and keep their history
in a journal file that a killed process can reload; an ask/tell interface lets celltrial own the
evaluation (common random numbers, growing cohorts) while Optuna owns the proposals.

A new study evaluates the current protocol first (when its values lie in the ranges). The
sampler learns from first-rung evaluations only (every candidate's on the same patients);
promotions re-evaluate a candidate on more patients and are stored next to them. The budget counts
evaluations at any rung over the whole study (re-running with a larger ``--budget`` continues),
or wall-clock seconds of this call.

Example:
    >>> parse_budget("40")
    Budget(evaluations=40, seconds=None)
    >>> parse_budget("10m").seconds, parse_budget("90s").seconds
    (600.0, 90.0)
"""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass

import numpy as np

from ..errors import InputError
from .halving import next_promotion, pareto_rows, top_rung

_UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0}


@dataclass(frozen=True)
class Budget:
    """Evaluations in the whole study, or seconds of this call (one of the two)."""

    evaluations: int | None = None
    seconds: float | None = None

    def spent(self, done: int, elapsed: float) -> bool:
        if self.evaluations is not None:
            return done >= self.evaluations
        return elapsed >= self.seconds

    def left(self, done: int, elapsed: float, per_evaluation: float) -> float:
        """Seconds left (estimated from the mean seconds per evaluation when counting evaluations)."""
        if self.seconds is not None:
            return max(0.0, self.seconds - elapsed)
        return max(0, self.evaluations - done) * per_evaluation


def parse_budget(text) -> Budget:
    """``40`` (evaluations), ``10m`` / ``90s`` / ``1.5h`` (wall-clock); InputError naming --budget otherwise."""
    found = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smh]?)\s*", str(text))
    if not found or float(found.group(1)) <= 0:
        raise InputError(f"--budget: {text!r} is not a budget; give evaluations (e.g. 40) or time (e.g. 10m, "
                         "90s, 1.5h)")
    number, unit = found.groups()
    if not unit:
        if "." in number:
            raise InputError(f"--budget: {text!r}: evaluations are a whole number (or add m, s or h for time)")
        return Budget(evaluations=int(number))
    return Budget(seconds=float(number) * _UNITS[unit])


@dataclass(frozen=True)
class Progress:
    """What the loop reports after each evaluation: counts, the best value per objective so far, time left."""

    done: int
    new: int
    budget: Budget
    best: dict
    best_patients: int | None
    seconds_left: float
    last: dict


@dataclass(frozen=True)
class SearchResult:
    """Every evaluation of the study and its Pareto set (at the highest rung with a feasible candidate)."""

    rows: list
    pareto: list
    rungs: list
    new: int


def distributions(spec) -> dict:
    """Path -> Optuna distribution of every decision variable."""
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    out = {}
    for v in spec.variables:
        log = v.scale == "log"
        if v.choices is not None:
            out[v.path] = CategoricalDistribution(v.choices)
        elif v.integer:
            out[v.path] = IntDistribution(int(v.low), int(v.high), log=log, step=int(v.step or 1))
        else:
            high = v.low + v.step * math.floor((v.high - v.low) / v.step + 1e-9) if v.step else v.high
            out[v.path] = FloatDistribution(v.low, high, log=log, step=v.step)
    return out


def sampler(spec, seed: int, trials_so_far: int):
    """The configured Optuna sampler; seeded by the study seed and the trials so far, so a resumed
    study does not draw its first candidates again."""
    import optuna

    seed = int(np.random.SeedSequence([seed, trials_so_far]).generate_state(1)[0])
    if spec.sampler == "nsga2":
        return optuna.samplers.NSGAIISampler(seed=seed, population_size=max(8, 4 * len(spec.variables)))
    if spec.sampler == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    return optuna.samplers.TPESampler(seed=seed, n_startup_trials=max(5, 2 * len(spec.variables)))


def best_so_far(rows: list, spec) -> tuple[dict, int | None]:
    """Best feasible value of each objective at the highest rung with a feasible evaluation."""
    k = top_rung(rows)
    if k is None:
        return {}, None
    at_k = [r for r in rows if r["rung"] == k and r["feasible"]]
    pick = {"maximize": max, "minimize": min}
    return ({o.column: pick[o.direction](r["values"][o.column] for r in at_k) for o in spec.objectives},
            at_k[0]["patients"])


def _row(trial: int, rung: int, params: dict, ev) -> dict:
    return {"trial": trial, "rung": rung, "patients": ev.patients, "n_ok": ev.n_ok, "seed": ev.seed,
            "params": params, "values": ev.values, "violations": ev.violations, "feasible": ev.feasible,
            "seconds": round(ev.seconds, 4), "error": ev.error}


def _tell(study, trial, row: dict, spec) -> None:
    """Tell Optuna a first-rung result (a failed or empty evaluation as FAIL, so it is not learnt from)."""
    from optuna.trial import TrialState

    values = [row["values"].get(o.column, math.nan) for o in spec.objectives]
    if row["error"] or not all(math.isfinite(v) for v in values):
        study.tell(trial, state=TrialState.FAIL)
        return
    if not isinstance(trial, int):
        for c, v in zip(spec.constraints, row["violations"], strict=True):
            trial.set_constraint(c.column, float(v))
    study.tell(trial, values)


def _settle(study, rows: list, spec) -> None:
    """After a kill: tell Optuna the logged results it missed; redo (enqueue) candidates lost mid-evaluation."""
    from optuna.trial import TrialState

    logged = {r["trial"]: r for r in rows if r["rung"] == 0}
    for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        if t.number in logged:
            _tell(study, t.number, logged[t.number], spec)
        else:
            study.tell(t.number, state=TrialState.FAIL)
            study.enqueue_trial(t.params)


def _next(study, rows: list, spec, rungs: list) -> tuple:
    """(Optuna trial or its number, rung, params): a promotion when one is due, else a new candidate."""
    columns, directions = [o.column for o in spec.objectives], spec.directions
    promo = next_promotion(rows, rungs, spec.patients.factor, columns, directions)
    if promo is not None:
        trial, rung = promo
        params = next(r["params"] for r in rows if r["trial"] == trial and r["rung"] == 0)
        return trial, rung, params
    t = study.ask(distributions(spec))
    return t, 0, dict(t.params)


def current_values(evaluator) -> dict | None:
    """The searched arm's own values at the variables' paths, when every one lies in its range (or choices).

    A new study evaluates them first: the current protocol is the natural starting point, and with it
    the front holds a policy at least as good as the protocol as written (on the search's twins).
    """
    from .candidates import read_path

    arm = evaluator.scenario.arms[evaluator.arm].model_dump(mode="json")
    out = {}
    for v in evaluator.scenario.search.variables:
        value = read_path(arm, v.path)
        grid = v.grid()
        inside = (value in grid) if grid is not None else (
            isinstance(value, int | float) and not isinstance(value, bool) and v.low <= value <= v.high)
        if value is None or not inside:
            return None
        out[v.path] = int(value) if v.integer else value
    return out


def optimise(evaluator, folder, budget: Budget, *, progress=None, clock=time.monotonic) -> SearchResult:
    """Run (or continue) the study in ``folder`` until ``budget`` is spent; returns every evaluation.

    Args:
        evaluator: a :class:`celltrial.optimise.Evaluator` (the scenario, its search block, the simulator).
        folder: a :class:`celltrial.optimise.StudyFolder`; its logged evaluations are never repeated.
        budget: :class:`Budget` (evaluations in the whole study, or seconds of this call).
        progress: called as ``progress(Progress)`` after each evaluation.
    """
    spec = evaluator.scenario.search
    rungs = spec.patients.rungs()
    rows = folder.rows()
    study = folder.optuna_study(spec, None)
    study.sampler = sampler(spec, evaluator.seed, len(study.trials))
    start_at = current_values(evaluator) if not study.trials else None
    if start_at is not None:
        study.enqueue_trial(start_at)
    _settle(study, rows, spec)
    start, new = clock(), 0
    while not budget.spent(len(rows), clock() - start):
        trial, rung, params = _next(study, rows, spec, rungs)
        row = _row(trial if isinstance(trial, int) else trial.number, rung, params,
                   evaluator.evaluate(params, rungs[rung]))
        folder.append(row)  # logged before Optuna hears of it: a kill in between is settled on resume
        rows.append(row)
        new += 1
        if rung == 0:
            _tell(study, trial, row, spec)
        if progress is not None:
            elapsed = clock() - start
            best, at = best_so_far(rows, spec)
            progress(Progress(len(rows), new, budget, best, at, budget.left(len(rows), elapsed, elapsed / new), row))
    folder.write_table(rows, evaluator.columns, [v.path for v in spec.variables])
    pareto = pareto_rows(rows, [o.column for o in spec.objectives], spec.directions)
    return SearchResult(rows, pareto, rungs, new)
