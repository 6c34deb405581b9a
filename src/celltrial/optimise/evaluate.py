"""Evaluate a candidate on the virtual twins: common random numbers, so differences are the policy's.

Every candidate is simulated as a one-arm, paired trial with the same seed: patient ``i`` has
stream id ``i`` (the same covariates, random effects and stochastic draws) whatever the candidate
and whatever the number of patients, so an evaluation on 40 patients contains the 20 of a smaller
one. Objectives are means of per-patient values (:mod:`.metrics`).

The simulator is an argument: by default :func:`celltrial.trials.trial.run_trial` on the standard
model, a promoted candidate reusing the patients it has already run (:mod:`.reuse`); tests inject a
synthetic one (a function of the scenario returning a patients table).

Example:
    >>> import numpy as np
    >>> def fake(scenario):       # cost grows with the interval, one patient per row
    ...     n, every = scenario.cohort.patients, scenario.arms[0].policy.every_days
    ...     return {"status": np.array(["OK"] * n), "cost_total": np.full(n, every)}
    >>> from celltrial.scenarios import parse_scenario
    >>> s = parse_scenario("name: d\\ntitle: D\\ndisease: lbcl\\narms: [{name: a, product: ft596-like, "
    ...                    "policy: {kind: maintenance, every_days: 91}}]\\nsearch: {variables: "
    ...                    "[{path: policy.every_days, low: 28, high: 182}], "
    ...                    "objectives: [{minimise: cost_per_patient}]}")
    >>> Evaluator(s, simulate=fake).evaluate({"policy.every_days": 56.0}, patients=4).values
    {'cost_per_patient': 56.0}
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

from ..errors import ScenarioError
from .candidates import apply, arm_index, check_search
from .metrics import measure, ok_rows, per_patient


@dataclass(frozen=True)
class Evaluation:
    """One candidate at one number of patients: objective and constraint columns (means), and bookkeeping.

    ``values`` covers the objectives and the constrained columns; ``violations`` is each constraint's
    distance outside its bound (<= 0: met); ``error`` is set (and values empty) for an invalid candidate.
    """

    values: dict
    violations: list
    patients: int
    n_ok: int
    seed: int
    seconds: float
    error: str = ""

    @property
    def feasible(self) -> bool:
        ok = not self.error and all(math.isfinite(v) for v in self.values.values())
        return ok and all(v <= 0 for v in self.violations)


@dataclass
class Evaluator:
    """Evaluates candidates of ``scenario.search`` on the same virtual twins (seed ``search.seed``).

    ``simulate(scenario) -> patients table`` (columns -> arrays); default: run_trial on ``compiled``.
    """

    scenario: object
    simulate: object = None
    compiled: object = None
    threads: int | None = None
    arm: int = field(init=False)

    def __post_init__(self):
        from .reuse import ChunkCache

        check_search(self.scenario)
        self.arm = arm_index(self.scenario)
        if self.simulate is None:
            self.simulate = self._run_trial
        self.chunks = ChunkCache(self.scenario.search.patients.start)

    @property
    def seed(self) -> int:
        s = self.scenario.search.seed
        return self.scenario.seed if s is None else s

    @property
    def economics(self) -> dict | None:
        """The scenario's ``economics`` block as a mapping (the ``nmb_WTP`` columns), None without one."""
        e = self.scenario.economics
        return None if e is None else e.model_dump()

    @property
    def columns(self) -> list[str]:
        """Objective columns, then the constrained ones not already among them."""
        names = [o.column for o in self.scenario.search.objectives]
        return names + [c.column for c in self.scenario.search.constraints if c.column not in names]

    def _run_trial(self, scenario) -> dict:
        from ..trials.trial import run_trial

        if len(scenario.arms) == 1:  # a candidate: a promotion reuses the twins it has already run
            keep = scenario.cohort.patients < self.scenario.search.patients.max
            return self.chunks.run(scenario, compiled=self.compiled, threads=self.threads, keep=keep)
        return run_trial(scenario, compiled=self.compiled, threads=self.threads).patients

    def trial_scenario(self, values: dict, patients: int, seed: int | None = None, name: str | None = None):
        """The one-arm paired trial of a candidate (what :meth:`evaluate` simulates)."""
        candidate = apply(self.scenario, self.arm, values)
        arm = candidate.arms[self.arm]
        if name is not None:
            arm = arm.model_copy(update={"name": name})
        cohort = candidate.cohort.model_copy(update={"patients": int(patients), "replicates": 1, "design": "paired"})
        endpoints = candidate.endpoints.model_copy(update={"reference_arm": None, "success": []})
        return candidate.model_copy(update={"arms": [arm], "cohort": cohort, "endpoints": endpoints,
                                            "seed": int(self.seed if seed is None else seed)})

    def table(self, values: dict, patients: int, seed: int | None = None) -> dict:
        """The patients table of a candidate on ``patients`` twins (rows in patient order)."""
        return self.simulate(self.trial_scenario(values, patients, seed))

    def evaluate(self, values: dict, patients: int) -> Evaluation:
        """The candidate's columns on the first ``patients`` twins; an invalid candidate gives ``error``."""
        start = time.perf_counter()
        try:
            table = self.table(values, patients)
        except ScenarioError as exc:
            return Evaluation({}, [], int(patients), 0, self.seed, time.perf_counter() - start, error=str(exc))
        follow_up = self.scenario.follow_up_days
        found = measure(table, self.columns, follow_up, self.economics)
        violations = [c.violation(found[c.column]) for c in self.scenario.search.constraints]
        n_ok = int(ok_rows(table).sum())
        return Evaluation(found, violations, int(patients), n_ok, self.seed, time.perf_counter() - start)

    def per_patient(self, table: dict) -> dict:
        """Column -> per-patient values of a patients table (the paired comparisons of the re-evaluation)."""
        return per_patient(table, self.columns, self.scenario.follow_up_days, self.economics)
