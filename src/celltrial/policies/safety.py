"""Safety rules checked every day: tocilizumab for CRS, the safety switch for severe CRS.

The CRS grade a clinic would assign is read from the model's IL-6 signal against the
patient's own grade thresholds (``crs_g1`` .. ``crs_g4``), the same rule as the endpoint.
Tocilizumab (8 mg/kg, at most 800 mg) is given when the grade reaches ``tocilizumab_at_grade``,
at most ``max_tocilizumab`` times and not twice within ``tocilizumab_interval_days`` (the label
allows up to 4 doses 8 hours apart; one a day is what a daily check can give). The safety
switch fires once when the grade reaches ``switch_at_grade`` (only products that carry one).

Example:
    >>> rules = SafetyRules(tocilizumab_at_grade=2)
    >>> grades = np.array([1, 2, 3]); record = SafetyRecord.empty(3)
    >>> rules.tocilizumab_due(grades, record, day=3.0).tolist()
    [False, True, True]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from ..biology.grading import THRESHOLD_PARAMETERS, crs_grade
from ..protocols.doses import safety_switch, tocilizumab


@dataclass
class SafetyRecord:
    tocilizumab_doses: np.ndarray
    last_tocilizumab_day: np.ndarray
    switch_day: np.ndarray

    @classmethod
    def empty(cls, n: int) -> SafetyRecord:
        return cls(np.zeros(n, np.int64), np.full(n, -np.inf), np.full(n, np.inf))


class SafetyRules(BaseModel):
    """Daily safety rules of an arm (set a grade to null to switch a rule off)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    tocilizumab_at_grade: int | None = Field(2, ge=1, le=4, strict=True,
                                             description="[K] ASTCT practice: tocilizumab from CRS grade 2")
    max_tocilizumab: int = Field(4, ge=0, strict=True, description="[K] label: at most 4 doses")
    tocilizumab_interval_days: float = Field(1.0, gt=0, description="least time between tocilizumab doses",
                                             json_schema_extra={"unit": "day"})
    switch_at_grade: int | None = Field(None, ge=1, le=4, strict=True,
                                        description="trigger the safety switch at this CRS grade (null: never)")

    def tocilizumab_due(self, grade, record: SafetyRecord, day: float) -> np.ndarray:
        if self.tocilizumab_at_grade is None:
            return np.zeros(grade.shape, bool)
        return ((grade >= self.tocilizumab_at_grade) & (record.tocilizumab_doses < self.max_tocilizumab)
                & (day - record.last_tocilizumab_day >= self.tocilizumab_interval_days - 1e-9))

    def switch_due(self, grade, record: SafetyRecord, has_switch) -> np.ndarray:
        if self.switch_at_grade is None:
            return np.zeros(grade.shape, bool)
        return (grade >= self.switch_at_grade) & ~np.isfinite(record.switch_day) & (np.asarray(has_switch) > 0)


class SafetyController:
    """Applies :class:`SafetyRules` at each daily check; ``weights`` (kg) dose tocilizumab."""

    def __init__(self, rules: SafetyRules, thresholds: np.ndarray, has_switch: np.ndarray, weights: np.ndarray,
                 log: list | None = None):
        self.rules, self.thresholds, self.has_switch, self.weights = rules, thresholds, has_switch, weights
        self.record = SafetyRecord.empty(len(weights))
        self.log = log

    @classmethod
    def for_cohort(cls, rules, model, params, weights, log=None):
        names = model.parameter_names
        thresholds = np.stack([params[:, names.index(p)] for p in THRESHOLD_PARAMETERS], axis=1)
        return cls(rules, thresholds, params[:, names.index("has_switch_T")], weights, log)

    def __call__(self, t: float, sim) -> None:
        alive = sim.status == 0
        grade = np.where(alive, crs_grade(sim.observables()["il6_signal"], self.thresholds), 0)
        toc = self.rules.tocilizumab_due(grade, self.record, t)
        switch = self.rules.switch_due(grade, self.record, self.has_switch)
        if not (toc.any() or switch.any()):
            return
        per_patient = [[] for _ in range(len(grade))]
        for i in np.flatnonzero(toc):
            per_patient[i].append(tocilizumab(t, float(self.weights[i])))
        for i in np.flatnonzero(switch):
            per_patient[i].append(safety_switch(t))
        self.record.tocilizumab_doses += toc
        self.record.last_tocilizumab_day = np.where(toc, t, self.record.last_tocilizumab_day)
        self.record.switch_day = np.where(switch, t, self.record.switch_day)
        if self.log is not None:
            self.log.extend((int(i), e) for i in range(len(grade)) for e in per_patient[i])
        sim.schedule(patient_events=per_patient)
