"""Read and check a scenario file: schema first, then names and values against presets and model.

Every problem becomes one :class:`~celltrial.errors.ScenarioError` listing each bad field
as ``path.to.field: what is wrong (got value); what is allowed``, with a "did you mean" for
misspelt fields, presets and parameters. Nothing is clamped or silently ignored.

Example:
    >>> s = parse_scenario('''
    ... name: demo
    ... title: Demo
    ... disease: lbcl
    ... arms: [{name: axi, product: axi-cel-like}]
    ... ''')
    >>> s.arms[0].product
    'axi-cel-like'
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ValidationError

from ..errors import PresetError, ScenarioError, did_you_mean
from ..inputs import MAX_YAML_BYTES, coerced_booleans, format_validation, load_yaml, read_text
from ..presets import load_disease, load_product, preset_names
from ..presets.loader import check_parameters
from ..presets.schema import Product
from .limits import MIN_DOSE_CELLS, MIN_DOSE_PER_KG, implausible
from .schema import Scenario

#: Above this many simulated patients a scenario is almost surely a typo (1e8 patient-arms).
MAX_PATIENT_ARMS = 100_000_000
#: Largest plausible single dose of cells (approved CAR-T doses are 1e7-1e9; NK up to ~1e10).
MAX_DOSE_CELLS = 1e11


def load_scenario(path: str | Path) -> tuple[Scenario, str]:
    """Read a scenario file; returns (scenario, its text). ScenarioError on any problem."""
    path = Path(path)
    if not path.is_file():
        hint = did_you_mean(path.name, [p.name for p in path.parent.glob("*.yaml")]) if path.parent.is_dir() else ""
        raise ScenarioError(f"scenario file {str(path)!r} not found{hint}")
    text = read_text(path, "scenario file", MAX_YAML_BYTES, ScenarioError)
    return parse_scenario(text, where=str(path)), text


def parse_scenario(text: str, where: str = "scenario") -> Scenario:
    """Validate YAML ``text`` as a scenario (schema, presets, parameter names and bounds)."""
    if len(text) > MAX_YAML_BYTES:  # text given directly, not read from a file
        raise ScenarioError(f"{where}: {len(text):,} characters is above the limit of {MAX_YAML_BYTES:,}")
    return scenario_from(load_yaml(text, where, ScenarioError), where)


def scenario_from(data, where: str = "scenario") -> Scenario:
    """Validate parsed YAML ``data`` (e.g. the ``scenario`` section of a calibration case) as a scenario."""
    if data is None:
        raise ScenarioError(f"{where}: the file is empty; expected a mapping of fields at the top level")
    if not isinstance(data, dict):
        raise ScenarioError(f"{where}: expected a mapping of fields at the top level, got {type(data).__name__}")
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(format_errors(exc, where)) from None
    problems = [f"{p}: true/false (also yes/no, on/off) is not a number; write the number"
                for p in coerced_booleans(data, scenario)]
    problems += implausible(scenario) or semantic_problems(scenario)
    if problems:
        raise ScenarioError(f"{where} is not a valid scenario:\n" + "\n".join(f"  - {p}" for p in problems))
    return scenario


def format_errors(err: ValidationError, where: str) -> str:
    """One line per pydantic error: field path, message, bad value, allowed range or fields (did you mean)."""
    return format_validation(err, where, "scenario", Scenario)


def semantic_problems(s: Scenario) -> list:
    """Problems the schema cannot see: unknown presets/parameters, values out of bounds, implausible sizes."""
    problems = []
    try:
        load_disease(s.disease)
    except PresetError as exc:
        problems.append(f"disease: {exc}")
    _check_values(problems, "disease_changes", s.disease_changes)
    _check_values(problems, "cohort.variability", {k: 0.0 for k in s.cohort.variability}, bounds=False)
    _check_values(problems, "cohort.effects", {e.parameter: 0.0 for e in s.cohort.effects}, bounds=False)
    for i, arm in enumerate(s.arms):
        problems.extend(_arm_problems(arm, f"arms.{i}", s.follow_up_days))
        if hasattr(arm.policy, "problems"):  # conditional steps: their days against follow-up and scans
            problems.extend(arm.policy.problems(f"arms.{i}.policy", s.follow_up_days, s.assessments.imaging_days))
    names = [a.name for a in s.arms]
    if len(set(names)) != len(names):
        problems.append(f"arms: arm names must be unique; got {names}")
    problems += _late_days(s)
    problems += _effect_problems(s.cohort)
    wanted = [("endpoints.reference_arm", s.endpoints.reference_arm)] if s.endpoints.reference_arm else []
    for i, c in enumerate(s.endpoints.success):
        arms = c.arms if hasattr(c, "arms") else [c.arm]
        wanted += [(f"endpoints.success.{i}.{'arms' if hasattr(c, 'arms') else 'arm'}", a) for a in arms]
    wanted += _priced_arms(s)
    problems += [f"{w}: no arm named {a!r}{did_you_mean(a, names)}; arms: {names}" for w, a in wanted if a not in names]
    total = s.cohort.patients * s.cohort.replicates * len(s.arms)
    if total > MAX_PATIENT_ARMS:
        problems.append(f"cohort: {total:,} patient-arms (patients x replicates x arms) is above the limit "
                        f"{MAX_PATIENT_ARMS:,}; use fewer replicates or patients")
    return problems


def _priced_arms(s) -> list:
    """(field, arm) of every arm a payment model or the maintenance cost beyond follow-up names (arm -> value)."""
    e = s.economics
    models = e.payment_models if e is not None else []
    out = [(f"economics.payment_models.{i}.price", arm) for i, m in enumerate(models)
           if isinstance(m.price, dict) for arm in m.price]
    upkeep = e.extrapolation.maintenance_cost_per_year if e is not None else None
    return out + [("economics.extrapolation.maintenance_cost_per_year", arm)
                  for arm in (upkeep if isinstance(upkeep, dict) else ())]


def _late_days(s) -> list:
    """Days after the end of follow-up, each reported at its own field."""
    end = s.follow_up_days
    ctdna = s.assessments.ctdna_days if s.assessments.ctdna_schedule is None else []  # a schedule replaces them
    fields = [("assessments.imaging_days", s.assessments.imaging_days),
              ("assessments.ctdna_days", ctdna),
              ("endpoints.landmarks_days", s.endpoints.landmarks_days or [])]
    for i, arm in enumerate(s.arms):
        r = arm.regimen
        fields += [(f"arms.{i}.regimen.safety_switch_days", r.safety_switch_days)]
        fields += [(f"arms.{i}.regimen.{name}.days", getattr(r, name).days)
                   for name in ("radiotherapy", "anti_pd1", "adcc_antibody") if getattr(r, name) is not None]
    out = []
    for field, days in fields:
        late = [d for d in days if d > end]
        if late:
            out.append(f"{field}: {late} fall after follow_up_days={end:g}; drop them or lengthen the follow-up")
    return out


def _effect_problems(cohort) -> list:
    drawn = {name for name in ("weight_kg", "baseline_burden", "prior_lines") if getattr(cohort, name) is not None}
    out = []
    for i, e in enumerate(cohort.effects):
        if e.covariate not in drawn:
            out.append(f"cohort.effects.{i}.covariate: {e.covariate!r} is not drawn; give cohort.{e.covariate} "
                       "a distribution first")
        if (e.kind == "categorical") != isinstance(e.coefficient, dict):
            out.append(f"cohort.effects.{i}.coefficient: a {e.kind} effect needs "
                       + ("a mapping level -> factor" if e.kind == "categorical" else "a number"))
    return out


def _check_values(problems, where, values, bounds=True):
    for name, value in values.items():
        try:
            check_parameters({name: value} if bounds else {}, where)
            if not bounds:
                from ..biology import standard_model

                known = standard_model().parameter_names
                if name not in known:
                    raise PresetError(f"{where}: unknown parameter {name!r}{did_you_mean(name, known)}")
        except PresetError as exc:
            problems.append(str(exc))


def _arm_problems(arm, where, follow_up) -> list:
    problems = []
    if arm.product not in preset_names("product"):
        names = preset_names("product")
        return [f"{where}.product: no product preset {arm.product!r}{did_you_mean(arm.product, names)}; "
                f"available: {', '.join(names)}"]
    product = load_product(arm.product)
    c = arm.changes
    if c.composition is not None and product.kind != "t_cell":
        problems.append(f"{where}.changes.composition: {arm.product} is an NK product; composition "
                        "(T-cell phenotypes) applies to t_cell products only")
    if arm.logistics is not None and (product.kind != "t_cell" or product.allogeneic):
        problems.append(f"{where}.logistics: {arm.product} is an off-the-shelf product (thawed and given within "
                        "hours); manufacturing logistics apply to autologous T-cell products only")
    if c.memory_like_fraction is not None and product.kind != "nk_cell":
        problems.append(f"{where}.changes.memory_like_fraction: {arm.product} is a {product.kind} product; "
                        "the memory-like (CIML) fraction applies to nk_cell products only")
    _check_values(problems, f"{where}.changes.parameters", c.parameters)
    if c.composition is not None and product.kind == "t_cell":
        total = sum(c.composition.values())
        if abs(total - 1.0) > 1e-6 or any(v < 0 for v in c.composition.values()):
            problems.append(f"{where}.changes.composition: fractions must be >= 0 and sum to 1; they sum to "
                            f"{total:g}")
    if not problems:
        try:
            arm_product(arm)
        except ScenarioError as exc:
            problems.append(f"{where}.{exc}")
    named = [(f"{where}.changes.dose_levels.{i}.dose", lv.dose) for i, lv in enumerate(c.dose_levels or [])]
    for field, dose in named or [(f"{where}.changes.dose", c.dose or product.dose)]:
        biggest = dose.cells if dose.cells is not None else (dose.max_cells or dose.per_kg * 150.0)
        if biggest > MAX_DOSE_CELLS:
            problems.append(f"{field}: up to {biggest:.3g} cells per infusion is implausible (largest "
                            f"allowed {MAX_DOSE_CELLS:.0e}); check the exponent or the cells/per_kg choice")
    problems += _small_dose(c.dose, f"{where}.changes.dose")
    problems += _dose_spread_problems(c, product, where)
    late = [d for d in arm.regimen.infusion_days if d >= follow_up]
    if late:
        problems.append(f"{where}.regimen.infusion_days: {late} at or after follow_up_days={follow_up:g}")
    return problems


def _small_dose(dose, where) -> list:
    """A dose below the plausible minimum (a unit mistake: 0.001 cells, or cells/kg written as millions)."""
    if dose is None:
        return []
    lows = [("cells", dose.cells, MIN_DOSE_CELLS, "cells"), ("max_cells", dose.max_cells, MIN_DOSE_CELLS, "cells"),
            ("per_kg", dose.per_kg, MIN_DOSE_PER_KG, "cells/kg")]
    return [f"{where}.{name}: {value:g} {unit} is below the plausible minimum {low:g} {unit}; allowed: {low:g} to "
            f"{MAX_DOSE_CELLS:g} cells per infusion" for name, value, low, unit in lows
            if value is not None and value < low]


def _dose_spread_problems(c, product, where) -> list:
    """Pooled levels checked like a dose; a CAR+ fraction spread only where the dose counts total cells."""
    levels = c.dose_levels or []
    out = [m for i, level in enumerate(levels)
           for m in _small_dose(level.dose, f"{where}.changes.dose_levels.{i}.dose")]
    counts = {level.dose.counts for level in levels} or {(c.dose or product.dose).counts}
    if c.car_fraction_spread is not None and "total" not in counts:
        out.append(f"{where}.changes.car_fraction_spread: the dose counts CAR+ cells, so the CAR+ fraction does not "
                   "change what is infused; set `dose.counts: total` (a dose of total T cells) or drop the spread")
    return out


def arm_product(arm) -> Product:
    """The arm's product: its preset with the arm's ``changes`` applied (validated again)."""
    base = load_product(arm.product).model_dump()
    c = arm.changes
    for field in ("dose", "car_fraction", "composition", "cd4_fraction", "memory_like_fraction", "edits",
                  "lymphodepletion"):
        value = getattr(c, field)
        if value is not None:
            base[field] = value.model_dump() if isinstance(value, BaseModel) else value
    base["parameters"] = {**base["parameters"],
                          **{k: {"value": v, "source": "[E] scenario arm change"} for k, v in c.parameters.items()}}
    try:
        return Product.model_validate(base)
    except ValidationError as exc:
        details = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'product'}: {e['msg'].removeprefix('Value error, ')}"
                            for e in exc.errors())
        raise ScenarioError(f"changes: they make an invalid {arm.product} product: {details}") from None
