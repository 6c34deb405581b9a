"""The ``search:`` block of a scenario: decision variables, objectives, constraints, patients per evaluation.

These classes check what one block can check on its own (a range that is not empty, one direction
per objective, a constraint with a bound); what needs the rest of the scenario (does the path exist
in the arm, is the objective a summary column, can the constraint ever hold) is checked by
:func:`celltrial.optimise.check_search`.

Example:
    >>> s = SearchSpec.model_validate({"variables": [{"path": "policy.every_days", "low": 28, "high": 182}],
    ...                                "objectives": [{"maximise": "pfs_d365"}, {"minimise": "cost_per_patient"}]})
    >>> [o.column for o in s.objectives], s.directions
    (['pfs_d365', 'cost_per_patient'], ['maximize', 'minimize'])
    >>> s.patients.rungs()
    [20, 40, 80, 160]
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..inputs import Integer, Number

#: Largest number of objectives: beyond four a Pareto front is mostly non-dominated and unreadable.
MAX_OBJECTIVES = 4


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Variable(_Strict):
    """One decision variable: a path into the searched arm, and its range (low/high) or its choices."""

    path: str = Field(min_length=1, description="dotted path into the searched arm, list positions as numbers "
                                                "(e.g. `policy.every_days`, `ctdna_schedule.pieces.0.every_days`)")
    low: Number | None = Field(None, description="smallest value (a range: with `high`)")
    high: Number | None = Field(None, description="largest value (a range: with `low`)")
    scale: Literal["linear", "log"] = Field("linear", description="sampling scale of a range (log: low > 0)")
    integer: bool = Field(False, description="whole numbers only (day counts, doses, molecules)")
    step: Number | None = Field(None, gt=0, description="grid step of a range (e.g. 7 for whole weeks; "
                                                        "not with `scale: log`)")
    choices: list[Number | str | bool] | None = Field(
        None, min_length=1, description="the allowed values instead of a range (numbers, names or true/false)")

    @model_validator(mode="after")
    def _range_or_choices(self):
        ranged = self.low is not None or self.high is not None
        if self.choices is not None:
            if ranged or self.step is not None or self.integer or self.scale != "linear":
                raise ValueError("give either `choices` or a range (`low`, `high`, `scale`, `step`, `integer`)")
            if len({repr(c) for c in self.choices}) != len(self.choices):
                raise ValueError(f"`choices` has repeated values: {self.choices}")
            return self
        if self.low is None or self.high is None:
            raise ValueError("a range needs both `low` and `high` (or give `choices`)")
        if not self.low < self.high:
            raise ValueError(f"empty range: low ({self.low:g}) must be below high ({self.high:g})")
        if self.scale == "log" and self.low <= 0:
            raise ValueError(f"a log scale needs low > 0 (got {self.low:g})")
        if self.scale == "log" and self.step is not None:
            raise ValueError("`step` applies to a linear scale only")
        if self.integer and (self.low != int(self.low) or self.high != int(self.high)):
            raise ValueError(f"an integer range needs whole low and high (got {self.low:g}, {self.high:g})")
        if self.step is not None and self.step > self.high - self.low:
            raise ValueError(f"step ({self.step:g}) is larger than the range ({self.low:g} to {self.high:g})")
        return self

    def grid(self) -> list | None:
        """Every value the variable can take, when finitely many (choices, integers, steps); else None."""
        if self.choices is not None:
            return list(self.choices)
        if self.integer or self.step is not None:
            step = self.step or 1
            n = int((self.high - self.low) // step + 1e-9) + 1
            values = [self.low + i * step for i in range(n)]
            return [int(v) for v in values] if self.integer else values
        return None


class Objective(_Strict):
    """One objective: a summary column to maximise or to minimise (exactly one of the two).

    Summary columns (means over the arm's patients): ``pfs_dDAY`` / ``os_dDAY`` (landmark survival,
    e.g. ``pfs_d365``), ``rmst_pfs_dDAY`` / ``rmst_os_dDAY`` (restricted mean time, days), ``cr_rate``,
    ``orr_rate``, ``crs_grade3plus_rate``, ``crs_any_rate``, ``icans_grade3plus_rate``, ``gvhd_rate``,
    ``cost_per_patient``, ``doses_per_patient``, ``policy_doses_per_patient``, ``product_per_patient``,
    ``hospital_days_per_patient``, ``ctdna_tests_per_patient``, and ``mean_COLUMN`` for any numeric column
    of the patients table.
    """

    maximise: str | None = Field(None, description="summary column to make as large as possible (e.g. `pfs_d365`)")
    minimise: str | None = Field(None, description="summary column to make as small as possible "
                                                   "(e.g. `cost_per_patient`)")

    @model_validator(mode="after")
    def _one(self):
        if (self.maximise is None) == (self.minimise is None):
            raise ValueError("give exactly one of `maximise` or `minimise`")
        return self

    @property
    def column(self) -> str:
        return self.maximise if self.maximise is not None else self.minimise

    @property
    def direction(self) -> str:
        """Optuna's word: "maximize" or "minimize"."""
        return "maximize" if self.maximise is not None else "minimize"


class Constraint(_Strict):
    """A bound on a summary column that every recommended policy must meet (e.g. CRS >= 3 at most 5 %)."""

    column: str = Field(description="summary column (e.g. `crs_grade3plus_rate`)")
    max: Number | None = Field(None, description="largest allowed value")
    min: Number | None = Field(None, description="smallest allowed value")

    @model_validator(mode="after")
    def _bound(self):
        if self.max is None and self.min is None:
            raise ValueError("give `max`, `min` or both")
        if self.max is not None and self.min is not None and self.min > self.max:
            raise ValueError(f"infeasible: min ({self.min:g}) is above max ({self.max:g})")
        return self

    def violation(self, value: float) -> float:
        """How far ``value`` is outside the bound (<= 0: met), in the column's unit."""
        over = value - self.max if self.max is not None else float("-inf")
        under = self.min - value if self.min is not None else float("-inf")
        return float(max(over, under))


class Patients(_Strict):
    """Patients per evaluation, growing for promising candidates (successive halving)."""

    start: Integer = Field(20, ge=1, le=100_000, description="patients of a candidate's first evaluation")
    max: Integer = Field(160, ge=1, le=100_000, description="patients of the last evaluation of the best candidates")
    factor: Integer = Field(2, ge=2, le=10, description="patients grow by this factor; the best 1/factor of the "
                                                        "candidates evaluated at one size move up to the next")

    @model_validator(mode="after")
    def _order(self):
        if self.start > self.max:
            raise ValueError(f"start ({self.start}) is above max ({self.max})")
        return self

    def rungs(self) -> list[int]:
        """Patients per evaluation at each rung: start, start x factor, ..., max."""
        out = [self.start]
        while out[-1] < self.max:
            out.append(min(out[-1] * self.factor, self.max))
        return out


class Reevaluation(_Strict):
    """The honest second look: the Pareto set on fresh virtual patients with a fresh seed."""

    patients: Integer | None = Field(None, ge=1, le=1_000_000, description="patients per policy (default: 2 x "
                                                                            "`patients.max`)")
    seed: Integer | None = Field(None, ge=0, le=2**63 - 1, description="seed of the fresh patients (default: "
                                                                       "drawn once and recorded with the study)")
    max_policies: Integer = Field(8, ge=1, le=50, description="most Pareto policies re-evaluated (the best-spread)")


class SearchSpec(_Strict):
    """What ``celltrial optimise`` searches: one arm's protocol, for the best trade-off of the objectives."""

    arm: str | None = Field(None, description="the arm whose protocol is searched (default: the first arm)")
    variables: list[Variable] = Field(min_length=1, max_length=20, description="decision variables")
    objectives: list[Objective] = Field(min_length=1, max_length=MAX_OBJECTIVES, description="objectives")
    constraints: list[Constraint] = Field([], description="bounds every recommended policy must meet")
    patients: Patients = Field(Patients(), description="patients per evaluation (successive halving)")
    budget: Integer = Field(60, ge=1, le=100_000, description="evaluations when `--budget` is not given")
    sampler: Literal["tpe", "nsga2", "random"] = Field(
        "tpe", description="Optuna sampler: tpe (few evaluations), nsga2 (hundreds), random (a baseline)")
    seed: Integer | None = Field(None, ge=0, le=2**63 - 1, description="seed of the virtual twins every candidate "
                                                                       "is evaluated on (default: the scenario's)")
    reevaluate: Reevaluation = Field(Reevaluation(), description="the re-evaluation of the Pareto set")

    @model_validator(mode="after")
    def _unique(self):
        for what, names in (("variables", [v.path for v in self.variables]),
                            ("objectives", [o.column for o in self.objectives])):
            repeated = sorted({n for n in names if names.count(n) > 1})
            if repeated:
                raise ValueError(f"{what}: {repeated} appear more than once")
        return self

    @property
    def directions(self) -> list[str]:
        return [o.direction for o in self.objectives]
