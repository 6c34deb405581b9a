"""Shipped calibration cases: a scenario, the values to fit and the published targets, in one file.

A case file is a targets file (:mod:`celltrial.calibration.targets`) with two more sections:
``scenario`` (an inline scenario, validated like any scenario file) and ``fit`` (the
parameters to fit with their prior boxes, the design size and number of waves). The shipped
cases live in ``celltrial/calibration/data``; ``celltrial calibrate NAME`` refits one and
``celltrial validate`` checks them all.

Example:
    >>> sorted(case_names())
    ['eliana', 'zuma1']
    >>> load_case("zuma1").fit.parameters[0].name
    'f_neg'
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..errors import InputError, did_you_mean
from ..scenarios.loader import UniqueKeyLoader, parse_scenario
from .population import FitParameter, PopulationProblem
from .summaries import AT_DAY, RATE, quantity
from .targets import TargetSet, parse_targets

DATA = Path(__file__).parent / "data"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FitParameterSpec(_Strict):
    """One value to fit and its uniform prior box (typical: natural units, log-uniform; omega: SD)."""

    name: str
    kind: str = Field(pattern="^(typical|omega)$")
    low: float
    high: float
    preset: str | None = None

    def build(self) -> FitParameter:
        return FitParameter(self.name, self.kind, self.low, self.high, self.preset)


class FitSpec(_Strict):
    """How to fit: parameters, space-filling design points per wave, number of waves."""

    parameters: list[FitParameterSpec] = Field(min_length=1)
    design_points: int = Field(40, ge=8, le=2000)
    waves: int = Field(2, ge=1, le=6)


@dataclass(frozen=True)
class CalibrationCase:
    """A loaded case: name, targets, the validated scenario, the fit spec and the file's path."""

    name: str
    targets: TargetSet
    scenario: object
    fit: FitSpec
    path: Path

    def wanted(self) -> list:
        """(quantity, at_day) of every target that enters the likelihood or a verdict."""
        return [(t.quantity, getattr(t, "at_day", None)) for t in self.targets.targets]

    def problem(self, patients: int | None = None, compiled=None, threads=None) -> PopulationProblem:
        scenario = self.scenario
        if patients is not None:
            scenario = scenario.model_copy(update={"cohort": scenario.cohort.model_copy(update={"patients": patients})})
        return PopulationProblem(scenario, [p.build() for p in self.fit.parameters], self.wanted(),
                                 compiled=compiled, threads=threads)


def case_names() -> list:
    """Names of the shipped calibration cases."""
    return sorted(p.stem for p in DATA.glob("*.yaml"))


def case_path(name_or_path: str | Path) -> Path:
    """The file of a shipped case (by name) or a case file path."""
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml"):
        if not path.is_file():
            raise InputError(f"calibration case file {str(path)!r} not found")
        return path
    names = case_names()
    if str(name_or_path) not in names:
        raise InputError(f"no calibration case {str(name_or_path)!r}{did_you_mean(str(name_or_path), names)}; "
                         f"shipped cases: {', '.join(names)}")
    return DATA / f"{name_or_path}.yaml"


def load_case(name_or_path: str | Path) -> CalibrationCase:
    """Load and validate a calibration case; errors name the section and field."""
    path = case_path(name_or_path)
    try:
        data = yaml.load(path.read_text(), Loader=UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise InputError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise InputError(f"{path}: expected a mapping with name, title, sources, scenario, fit and targets")
    missing = [k for k in ("scenario", "fit") if k not in data]
    if missing:
        raise InputError(f"{path}: a calibration case needs sections {missing} besides the targets")
    scenario_data, fit_data = data.pop("scenario"), data.pop("fit")
    targets = parse_targets(yaml.safe_dump(data, sort_keys=False), where=str(path))
    scenario = parse_scenario(yaml.safe_dump(scenario_data, sort_keys=False), where=f"{path}: scenario")
    try:
        fit = FitSpec.model_validate(fit_data)
    except ValidationError as exc:
        fields = "; ".join(f"fit.{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise InputError(f"{path}: {fields}") from None
    known = set(scenario_model_parameters())
    for p in fit.parameters:
        if p.name not in known:
            raise InputError(f"{path}: fit.parameters: unknown model parameter {p.name!r}{did_you_mean(p.name, known)}")
    problems = [m for i, t in enumerate(targets.targets) for m in target_problems(i, t, scenario.follow_up_days)]
    if problems:
        raise InputError(f"{path} is not a valid calibration case:\n" + "\n".join(f"  - {m}" for m in problems))
    return CalibrationCase(targets.name, targets, scenario, fit, path)


def target_problems(index: int, target, follow_up: float) -> list:
    """Mismatches between a target, its quantity and the scenario (kind vs scale, ``at_day``)."""
    where = f"targets.{index} ({target.name})"
    _, scale = quantity(target.quantity)
    out = []
    if (target.kind in ("rate", "landmark")) != (scale == RATE):
        want = "rate or landmark" if scale == RATE else "value"
        out.append(f"{where}: quantity {target.quantity} is a {'proportion' if scale == RATE else 'positive value'}; "
                   f"give it as kind {want}, not {target.kind}")
    day, rule = getattr(target, "at_day", None), AT_DAY.get(target.quantity)
    if rule == "required" and day is None:
        out.append(f"{where}: quantity {target.quantity} needs `at_day` (days)")
    if rule is None and day is not None:
        takes = ", ".join(sorted(AT_DAY))
        out.append(f"{where}: quantity {target.quantity} takes no `at_day` (only {takes} do); remove it")
    if day is not None and day > follow_up:
        out.append(f"{where}: at_day {day:g} is after the scenario's follow-up ({follow_up:g} days); "
                   "lengthen `scenario.follow_up_days`")
    return out


def scenario_model_parameters() -> tuple:
    from ..biology import standard_model

    return standard_model().parameter_names
