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
    'x_neg'
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ..errors import InputError, did_you_mean
from ..inputs import MAX_YAML_BYTES, Integer, Number, format_validation, load_yaml, read_text
from ..presets import preset_names
from ..scenarios.loader import scenario_from
from .population import FitParameter, PopulationProblem
from .summaries import AT_DAY, RATE, quantity
from .targets import TargetSet, targets_from

DATA = Path(__file__).parent / "data"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


#: Largest prior-box end of a typical value (model parameters are far below; 1e15 is a typo).
MAX_TYPICAL = 1e15
#: Largest omega (log-normal SD), as for preset variability.
MAX_OMEGA = 3.0


class FitParameterSpec(_Strict):
    """One value to fit and its uniform prior box (typical: natural units, log-uniform; omega: SD).

    ``preset`` names the shipped preset whose file records the fitted value: a preset name such as
    ``lbcl``, never a path (``celltrial calibrate --write-presets`` writes that file). A typical
    value that other diseases share (the IL-6 scale of CRS) lists them in ``shared_with``: the
    fitted value is written into those presets too, citing this fit.
    """

    name: str = Field(max_length=60)
    kind: str = Field(pattern="^(typical|omega)$")
    low: Number = Field(ge=0, le=MAX_TYPICAL)
    high: Number = Field(ge=0, le=MAX_TYPICAL)
    preset: str | None = Field(None, pattern=r"^[a-z0-9][a-z0-9_\-]*$", max_length=60)
    shared_with: list[str] = Field(default_factory=list, max_length=20)

    @model_validator(mode="after")
    def _box(self):
        if not self.low < self.high:
            raise ValueError(f"low ({self.low:g}) must be below high ({self.high:g})")
        if self.kind == "typical" and not self.low > 0:
            raise ValueError("a typical value has a log-uniform prior: low must be > 0")
        if self.kind == "omega" and self.high > MAX_OMEGA:
            raise ValueError(f"an omega is a log-normal SD in [0, {MAX_OMEGA:g}]; high = {self.high:g}")
        if self.shared_with and (self.kind != "typical" or self.preset is None):
            raise ValueError("shared_with needs a typical value recorded in a `preset`")
        if self.preset in self.shared_with or len(set(self.shared_with)) < len(self.shared_with):
            raise ValueError("shared_with lists other presets, each once (not the `preset` itself)")
        return self

    def build(self) -> FitParameter:
        return FitParameter(self.name, self.kind, self.low, self.high, self.preset, tuple(self.shared_with))


class FitSpec(_Strict):
    """How to fit: parameters, space-filling design points per wave, number of waves."""

    parameters: list[FitParameterSpec] = Field(min_length=1)
    design_points: Integer = Field(40, ge=8, le=2000)
    waves: Integer = Field(2, ge=1, le=6)


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
    data = load_yaml(read_text(path, "calibration case file", MAX_YAML_BYTES, InputError), str(path), InputError)
    if not isinstance(data, dict):
        raise InputError(f"{path}: expected a mapping with name, title, sources, scenario, fit and targets")
    missing = [k for k in ("scenario", "fit") if k not in data]
    if missing:
        raise InputError(f"{path}: a calibration case needs sections {missing} besides the targets")
    scenario_data, fit_data = data.pop("scenario"), data.pop("fit")
    targets = targets_from(data, str(path))
    scenario = scenario_from(scenario_data, where=f"{path}: scenario")  # a ScenarioError names the section
    fit = _fit_spec(fit_data, path)
    problems = [m for i, t in enumerate(targets.targets) for m in target_problems(i, t, scenario.follow_up_days)]
    if problems:
        raise InputError(f"{path} is not a valid calibration case:\n" + "\n".join(f"  - {m}" for m in problems))
    return CalibrationCase(targets.name, targets, scenario, fit, path)


def _fit_spec(data, path) -> FitSpec:
    """The ``fit`` section: schema, model parameter names and shipped preset names (never paths)."""
    try:
        fit = FitSpec.model_validate(data)
    except ValidationError as exc:
        raise InputError(format_validation(exc, str(path), "calibration case", FitSpec, prefix=("fit",))) from None
    known, presets = set(scenario_model_parameters()), preset_names("disease") + preset_names("product")
    for i, p in enumerate(fit.parameters):
        if p.name not in known:
            raise InputError(f"{path}: fit.parameters.{i}.name: unknown model parameter {p.name!r}"
                             f"{did_you_mean(p.name, known)}")
        if p.preset is not None and p.preset not in presets:
            raise InputError(f"{path}: fit.parameters.{i}.preset: no shipped preset {p.preset!r}"
                             f"{did_you_mean(p.preset, presets)}; give a preset name: {', '.join(presets)}")
        diseases = preset_names("disease")
        for j, name in enumerate(p.shared_with):  # a disease-level scale is shared with other diseases
            if name not in diseases:
                raise InputError(f"{path}: fit.parameters.{i}.shared_with.{j}: no shipped disease preset {name!r}"
                                 f"{did_you_mean(name, diseases)}; give one of: {', '.join(diseases)}")
    return fit


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
