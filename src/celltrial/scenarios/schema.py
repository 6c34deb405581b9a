"""The scenario file schema (version 1): disease, cohort, arms, assessments, endpoints, costs.

Every field has a unit and a default in its description (``docs/scenarios.md`` is generated
from these classes). Unknown fields are errors: a silently ignored typo is a wrong trial.

Example:
    >>> s = Scenario.model_validate({"name": "demo", "title": "Demo", "disease": "lbcl",
    ...                              "arms": [{"name": "axi", "product": "axi-cel-like"}]})
    >>> s.cohort.patients, s.arms[0].regimen.infusion_days
    (100, [0.0])
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from ..inputs import Integer, Number
from ..policies.library import PolicySpec
from ..policies.safety import SafetyRules
from ..presets.schema import Dose, Edits, check_omegas
from ..protocols.assays import CtDNAAssaySpec, MRDSampling
from ..protocols.conditioning import NAMED, REFERENCE, Conditioning
from ..protocols.dosing import CarFractionSpread, DoseLevel, DoseSpread, check_levels
from ..protocols.inventory import InventorySpec
from ..protocols.logistics import AutologousLogistics
from ..protocols.monitoring import CtDNAAssay
from ..protocols.regimens import Item
from ..protocols.schedules import Schedule
from .costs import Costs
from .economics import Economics
from .limits import BURDEN_RANGE, DEFAULT_HEIGHT_CM, HEIGHT_RANGE, MAX_DAY, MAX_MONEY, MAX_STAY_DAYS, WEIGHT_RANGE, Day
from .rules import Endpoints
from .search import SearchSpec

SCHEMA_VERSION = 1


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


def _unit(unit: str) -> dict:
    return {"unit": unit}


_PARAMETERS = ("median", "sd_log", "mean", "sd", "low", "high", "levels")
_NEEDS = {  # distribution -> (required, allowed)
    "lognormal": (("median", "sd_log"), ("median", "sd_log")),
    "normal": (("mean", "sd"), ("mean", "sd", "low", "high")),
    "uniform": (("low", "high"), ("low", "high")),
    "categorical": (("levels",), ("levels",)),
}


class Distribution(_Strict):
    """A covariate distribution: lognormal (median, sd_log), normal (mean, sd, low, high),
    uniform (low, high) or categorical (levels: name -> probability)."""

    distribution: Literal["lognormal", "normal", "uniform", "categorical"] = Field(description="family")
    median: Number | None = Field(None, gt=0, description="lognormal median, in the covariate's unit")
    sd_log: Number | None = Field(None, gt=0, le=5, description="lognormal SD of log(value)")
    mean: Number | None = Field(None, description="normal mean")
    sd: Number | None = Field(None, gt=0, description="normal SD")
    low: Number | None = Field(None, description="normal truncation / uniform lower end")
    high: Number | None = Field(None, description="normal truncation / uniform upper end")
    levels: dict[str, Annotated[Number, Field(ge=0, le=1)]] | None = Field(
        None, description="categorical: level -> probability (sum 1)")

    @model_validator(mode="after")
    def _needed(self):
        need, allowed = _NEEDS[self.distribution]
        missing = [k for k in need if getattr(self, k) is None]
        if missing:
            raise ValueError(f"a {self.distribution} distribution needs {missing}")
        stray = [k for k in _PARAMETERS if k not in allowed and getattr(self, k) is not None]
        if stray:
            raise ValueError(f"{stray} do not apply to a {self.distribution} distribution (it takes {list(allowed)})")
        if self.low is not None and self.high is not None and not self.low < self.high:
            raise ValueError(f"low ({self.low:g}) must be below high ({self.high:g})")
        if self.levels is not None:
            total = sum(self.levels.values())
            if any(p < 0 for p in self.levels.values()) or abs(total - 1.0) > 1e-9:
                raise ValueError(f"level probabilities must be >= 0 and sum to 1; they sum to {total:g}")
        return self

    def to_covariate(self) -> dict:
        """The mapping :meth:`celltrial.cohorts.Covariate.from_dict` reads."""
        keep = _NEEDS[self.distribution][1]
        out = {"distribution": self.distribution}
        out.update({k: getattr(self, k) for k in keep if getattr(self, k) is not None})
        return out

    def check_range(self, lo: float, hi: float, unit: str) -> None:
        """Every location value (median, mean, low, high) in [lo, hi] and the spread at most hi - lo."""
        values = {k: getattr(self, k) for k in ("median", "mean", "low", "high") if getattr(self, k) is not None}
        bad = [f"{k} = {v:g}" for k, v in values.items() if not lo <= v <= hi]
        if self.sd is not None and self.sd > hi - lo:
            bad.append(f"sd = {self.sd:g}")
        if bad:
            raise ValueError(f"{', '.join(bad)} {unit}: values lie in [{lo:g}, {hi:g}] {unit} and the sd is at "
                             f"most {hi - lo:g}")


#: Largest |exponent| of a power effect and |rate x covariate unit| of an exponential one.
MAX_EFFECT_COEFFICIENT = 10.0
#: Largest factor of a categorical effect level.
MAX_EFFECT_FACTOR = 100.0


class Effect(_Strict):
    """A covariate effect on a model parameter (see :mod:`celltrial.cohorts.effects`)."""

    parameter: str = Field(description="standard-model parameter")
    covariate: Literal["weight_kg", "baseline_burden", "prior_lines"] = Field(description="cohort covariate")
    kind: Literal["power", "exponential", "categorical"] = Field(description="form of the effect")
    coefficient: Number | dict[str, Number] = Field(
        description=f"exponent or rate per unit (|value| <= {MAX_EFFECT_COEFFICIENT:g}), or level -> factor "
                    f"(> 0, <= {MAX_EFFECT_FACTOR:g})")
    reference: Number | str | None = Field(None, description="covariate value with factor 1 (or baseline level)")

    @model_validator(mode="after")
    def _sizes(self):
        c = self.coefficient
        if isinstance(c, dict) and any(not 0 < f <= MAX_EFFECT_FACTOR for f in c.values()):
            raise ValueError(f"categorical factors lie in (0, {MAX_EFFECT_FACTOR:g}]; got {c}")
        if not isinstance(c, dict) and abs(c) > MAX_EFFECT_COEFFICIENT:
            raise ValueError(f"coefficient = {c:g} is implausible; allowed: -{MAX_EFFECT_COEFFICIENT:g} to "
                             f"{MAX_EFFECT_COEFFICIENT:g}")
        if self.kind == "power" and isinstance(self.reference, float) and not self.reference > 0:
            raise ValueError(f"a power effect needs a positive reference, got {self.reference:g}")
        return self


class Cohort(_Strict):
    """Who the virtual patients are and how many."""

    patients: Integer = Field(100, ge=1, le=10_000_000, description="patients per arm (per replicate trial)")
    design: Literal["independent", "paired"] = Field(
        "independent", description="independent patients per arm, or the same virtual patients in every arm "
                                   "(paired digital twins)")
    replicates: Integer = Field(1, ge=1, le=1_000_000, description="replicate trials (each with `patients` per arm)")
    weight_kg: Distribution | None = Field(
        None, description=f"body weight (kg); default: the disease preset's weight for everyone; median, mean, low "
                          f"and high in [{WEIGHT_RANGE[0]:g}, {WEIGHT_RANGE[1]:g}] kg",
        json_schema_extra=_unit("kg"))
    baseline_burden: Distribution | None = Field(
        None, description=f"tumour cells at day 0 (replaces the disease's B0 and its variability); median, mean, "
                          f"low and high in [{BURDEN_RANGE[0]:g}, {BURDEN_RANGE[1]:g}] cells",
        json_schema_extra=_unit("cells"))
    height_cm: Distribution | None = Field(
        None, description=f"body height (cm), for the body surface area that dosing per m2 uses (Mosteller); "
                          f"default {DEFAULT_HEIGHT_CM:g} cm for everyone; median, mean, low and high in "
                          f"[{HEIGHT_RANGE[0]:g}, {HEIGHT_RANGE[1]:g}] cm", json_schema_extra=_unit("cm"))
    prior_lines: Distribution | None = Field(
        None, description="prior lines of therapy (categorical); acts only through `effects`")
    effects: list[Effect] = Field([], description="covariate effects on parameters")
    variability: dict[str, Number] = Field(
        {}, description="log-normal SD per parameter, overriding the presets' (0 removes the variability)")
    out_of_bounds: Literal["resample", "error"] = Field(
        "resample", description="a patient drawn outside a parameter's bounds: redraw, or stop with an error")

    _omegas = field_validator("variability")(check_omegas)

    @field_validator("prior_lines")
    @classmethod
    def _categorical(cls, v):
        if v is not None and v.distribution != "categorical":
            raise ValueError("prior_lines must be a categorical distribution (levels: name -> probability)")
        return v

    @field_validator("weight_kg", "baseline_burden", "height_cm")
    @classmethod
    def _numeric(cls, v, info):
        if v is not None and v.distribution == "categorical":
            raise ValueError("a numeric covariate needs a lognormal, normal or uniform distribution")
        if v is not None:
            ranges = {"weight_kg": (*WEIGHT_RANGE, "kg"), "baseline_burden": (*BURDEN_RANGE, "cells"),
                      "height_cm": (*HEIGHT_RANGE, "cm")}
            v.check_range(*ranges[info.field_name])
        return v


class ProductChanges(_Strict):
    """Changes to the product preset for one arm (anything left out keeps the preset's value)."""

    dose: Dose | None = Field(None, description="cells (flat) or per_kg (cells/kg), optional max_cells")
    car_fraction: Number | None = Field(None, gt=0, le=1, description="CAR+ fraction of the product")
    composition: dict[str, Annotated[Number, Field(ge=0, le=1)]] | None = Field(
        None, description="T-cell phenotype fractions S, CM, EM, EFF, EX")
    cd4_fraction: Number | None = Field(None, ge=0, le=1, description="CD4+ share of the CAR+ T cells (T-cell "
                                        "products; 0.5 is a 1:1 defined composition)")
    memory_like_fraction: Number | None = Field(None, ge=0, le=1, description="CIML fraction (NK products)")
    edits: Edits | None = Field(None, description="gene edits (all listed flags replace the preset's)")
    lymphodepletion: bool | None = Field(None, description="lymphodepletion before the first infusion (which "
                                         "regimen: `regimen.lymphodepletion`)")
    dose_levels: list[DoseLevel] | None = Field(
        None, min_length=2, description="pooled dose levels (e.g. dose-escalation cohorts analysed together): each "
                                        "patient is given one level with its `share`; replaces `dose`")
    dose_spread: DoseSpread | None = Field(None, description="per-patient delivered dose around the prescribed one "
                                                             "(manufacturing variability, release range)")
    car_fraction_spread: CarFractionSpread | None = Field(
        None, description="lot-to-lot CAR+ fraction around the product's; acts only when the dose counts total "
                          "cells (`dose.counts: total`)")
    parameters: dict[str, Number] = Field({}, description="standard-model parameter values for this arm")

    _levels = field_validator("dose_levels")(lambda v: v if v is None else check_levels(v))

    @model_validator(mode="after")
    def _one_dose(self):
        if self.dose is not None and self.dose_levels is not None:
            raise ValueError("give either `dose` or `dose_levels` (the levels replace the dose), not both")
        return self


def _regimen_name(v):
    if isinstance(v, str) and v not in NAMED:
        raise ValueError(f"unknown lymphodepletion regimen {v!r}; shipped: {sorted(NAMED)} (or write agents, "
                         f"mg_per_m2 and days)")
    return v


#: A lymphodepleting regimen in a scenario: a shipped name or written out (None: the default).
LymphodepletionSpec = Annotated[str | Conditioning | None, AfterValidator(_regimen_name)]


def _days(v):
    if any(b <= a for a, b in zip(v, v[1:], strict=False)) or (v and v[0] < 0):
        raise ValueError(f"days must be >= 0 and increase strictly, got {v}")
    return v


class Radiotherapy(_Strict):
    """Radiotherapy fractions (linear-quadratic kill with the disease's alpha and beta)."""

    days: list[Day] = Field(min_length=1, description="fraction days", json_schema_extra=_unit("day"))
    dose_gy: Number = Field(gt=0, le=30, description="dose per fraction", json_schema_extra=_unit("Gy"))


    _sorted = field_validator("days")(_days)


class Drug(_Strict):
    """A drug given on fixed days (anti-PD-1: 200 mg; ADCC antibody: 700 mg by default)."""

    days: list[Day] = Field(min_length=1, description="administration days", json_schema_extra=_unit("day"))
    mg: Number | None = Field(None, gt=0, le=10_000, description="dose per administration; default: the usual dose",
                              json_schema_extra=_unit("mg"))

    _sorted = field_validator("days")(_days)


class Regimen(_Strict):
    """What each patient of the arm receives; days are relative to the first infusion (day 0)."""

    infusion_days: list[Day] = Field([0.0], min_length=1, description="product infusion days",
                                     json_schema_extra=_unit("day"))
    lymphodepletion_before: Literal["first", "every", "none", "product"] = Field(
        "product", description="lymphodepletion before the first infusion, before every infusion, never, or as "
                               "the product preset says (`product`: before the first infusion if it needs it)")
    lymphodepletion: LymphodepletionSpec = Field(
        None, description=f"the lymphodepleting regimen: a shipped name ({', '.join(sorted(NAMED))}) or agents "
                          f"with mg/m2 per day and days; default {REFERENCE} (the model's calibration). Its depth "
                          f"follows from the doses per m2 of each patient's body surface area")
    relymphodepletion: LymphodepletionSpec = Field(
        None, description="the regimen before later infusions and policy re-doses (default: `lymphodepletion`)")
    radiotherapy: Radiotherapy | None = Field(None, description="radiotherapy fractions")
    anti_pd1: Drug | None = Field(None, description="anti-PD-1 checkpoint inhibitor")
    adcc_antibody: Drug | None = Field(None, description="ADCC antibody given with NK products (e.g. rituximab)")
    items: list[Item] | None = Field(
        None, min_length=1, description="the regimen written in the regimen algebra (give / repeat / cycle / "
                                        "sequence; see celltrial.protocols.regimens); replaces every other field of "
                                        "the regimen")
    safety_switch_days: list[Day] = Field([], description="days the safety switch is triggered",
                                          json_schema_extra=_unit("day"))

    _sorted = field_validator("infusion_days", "safety_switch_days")(_days)


class Arm(_Strict):
    """One arm: a product preset, changes to it, and the regimen."""

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_\-]*$", max_length=40, description="arm name")
    product: str = Field(description="product preset name (see `celltrial presets`)")
    description: str = Field("", description="one line for reports")
    changes: ProductChanges = ProductChanges()
    regimen: Regimen = Regimen()
    cost_per_dose: Number | None = Field(None, ge=0, le=MAX_MONEY, description="product price per dose; default "
                                         "from `costs`", json_schema_extra=_unit("currency"))
    inpatient_days_per_dose: Number | None = Field(
        None, ge=0, le=MAX_STAY_DAYS, description="hospital days per infusion (0: outpatient); default from `costs` "
                                                  "by product kind",
        json_schema_extra=_unit("day"))
    policy: PolicySpec | None = Field(None, description="adaptive dosing after the regimen: `maintenance` or "
                                                        "`ctdna_trigger` (decides on observed ctDNA only)")
    logistics: AutologousLogistics | None = Field(
        None, description="autologous products: day 0 becomes apheresis; vein-to-vein wait, manufacturing failure, "
                          "bridging. The arm's endpoints are intention to treat (every enrolled patient); its "
                          "summary adds `as_treated`, the same endpoints over the infused patients")
    ctdna_schedule: Schedule | None = Field(None, description="this arm's ctDNA draws (default: the scenario's)")
    ctdna_assay: CtDNAAssaySpec | None = Field(None, description="this arm's ctDNA assay, any `kind` (default: the "
                                                                 "scenario's)")
    safety: SafetyRules | None = Field(None, description="daily safety rules (tocilizumab for CRS, safety switch); "
                                                         "none by default")
    inventory: InventorySpec | None = Field(
        None, description="off-the-shelf lots: lot size, shelf life, re-ordering and accrual; evaluated per "
                          "replicate trial from the dose log (stock-outs are reported, not fed back)")


class Assessments(_Strict):
    """When patients are assessed. Day 0 is enrolment: the first infusion off the shelf, apheresis for an arm
    with autologous `logistics` (whose infusion follows the manufacturing wait)."""

    imaging_days: list[Day] = Field([28.0, 90.0, 180.0, 270.0, 365.0], min_length=1,
                                    description="imaging (response) assessments, after the baseline scan (the "
                                                "`baseline_burden`)", json_schema_extra=_unit("day"))
    imaging_relative_to: Literal["infusion", "enrolment"] = Field(
        "infusion", description="imaging days count from each patient's first infusion (scans move with a "
                                "manufacturing wait) or from enrolment (the same calendar for every patient)")
    ctdna_days: list[Day] = Field([7.0, 28.0, 90.0, 180.0, 365.0], description="ctDNA draws, from enrolment; day 0 "
                                  "is a baseline draw before any treatment (before lymphodepletion)",
                                  json_schema_extra=_unit("day"))
    ctdna_schedule: Schedule | None = Field(None, description="ctDNA draws as a schedule (e.g. every 28 days in "
                                                              "year 1, then every 91); replaces ctdna_days")
    ctdna_assay: CtDNAAssaySpec = Field(CtDNAAssay(), description="the ctDNA assay of every draw (stored calls, "
                                        "policies): `kind` poisson_draw (default), tumour_informed_ngs or "
                                        "clonotype_ngs")
    mrd: MRDSampling | None = Field(None, description="scheduled MRD samples of every arm (flow or NGS); none by "
                                                      "default (an MRD policy samples on its own days)")

    @field_validator("imaging_days", "ctdna_days")
    @classmethod
    def _increasing(cls, v, info):
        baseline = info.field_name == "ctdna_days"  # a day-0 draw is the pre-treatment baseline
        if any(b <= a for a, b in zip(v, v[1:], strict=False)) or (v and (v[0] < 0 if baseline else v[0] <= 0)):
            raise ValueError("assessment days must increase strictly and be " + (
                ">= 0 (0: a baseline draw before treatment)" if baseline else "positive (the baseline scan is day 0)"))
        return v


class Simulation(_Strict):
    """Numerical settings (defaults are fine for almost every trial)."""

    rtol: Number = Field(1e-5, gt=0, le=1e-2, description="relative tolerance of the stiff solver")
    chunk_size: Integer = Field(2000, ge=1, le=1_000_000, description="patients simulated (and stored) per chunk")
    trajectories_per_arm: Integer = Field(200, ge=0, le=1_000_000, description="patients per arm whose thinned "
                                          "trajectories are stored (first replicate)")
    extinction_threshold: Number = Field(100.0, gt=0, le=1e4, description="cells below which a tumour clone "
                                         "is an integer birth-death process (cure is possible)")
    store_assays: bool = Field(True, description="store every ctDNA/MRD draw's call (table `assays`: ~25 bytes a "
                                                 "patient in Parquet, <= 0.26 kB in DuckDB, with 5 draws); the "
                                                 "summary's detection rates are kept either way")


class Scenario(_Strict):
    """A virtual trial: disease, cohort, arms, assessments, follow-up, endpoints and costs."""

    schema_version: Literal[1] = Field(SCHEMA_VERSION, description="scenario schema version")
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_\-]*$", max_length=60, description="short identifier")
    title: str = Field(min_length=1, description="one-line title for reports")
    description: str = Field("", description="what the trial asks, for reports")
    disease: str = Field(description="disease preset name (see `celltrial presets --kind disease`)")
    disease_changes: dict[str, Number] = Field({}, description="standard-model parameter values for every arm")
    cohort: Cohort = Cohort()
    arms: list[Arm] = Field(min_length=1, description="the arms (at least one)")
    assessments: Assessments = Assessments()
    follow_up_days: Number = Field(365.0, gt=0, le=MAX_DAY, description="follow-up after the first infusion",
                                   json_schema_extra=_unit("day"))
    endpoints: Endpoints = Endpoints()
    costs: Costs = Costs()
    economics: Economics | None = Field(None, description="health economics (QALYs, ICER, net monetary benefit, "
                                                          "payment models, budget impact); none by default")
    seed: Integer = Field(1, ge=0, le=2**63 - 1,
                      description="trial seed (each patient's streams spawn from it)")
    simulation: Simulation = Simulation()
    search: SearchSpec | None = Field(None, description="what `celltrial optimise` searches (decision variables, "
                                                        "objectives, constraints); `run` ignores it")
