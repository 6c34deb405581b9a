"""The scenario's ``economics:`` block: utilities, discounting, time horizon, willingness to pay and
payment models (see ``docs/economics.md`` for the conventions; every default carries its source tag).

A run whose scenario has the block adds ``summary["economics"]`` (QALYs, costs under each payment
model, ICER and NMB against the reference arm, acceptability across replicate trials, budget
impact); without it nothing changes.

Example:
    >>> e = Economics.model_validate({"payment_models": [{"name": "flat", "kind": "upfront"}]})
    >>> e.discounting.rate, e.payment_models[0].kind
    (0.035, 'upfront')
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ..inputs import Integer, Number
from .limits import MAX_MONEY, Day

_UNIT = {"unit": "1"}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


Share = Annotated[Number, Field(ge=0, le=1)]
Price = Annotated[Number, Field(ge=0, le=MAX_MONEY)]


class Utilities(_Strict):
    """Health-state utilities (0 dead, 1 full health) and toxicity disutilities (utility lost)."""

    progression_free: Number = Field(
        0.73, ge=0, le=1, description="[R] Howell 2022 (PharmacoEcon Open 6:367, UK time trade-off): LBCL after "
        "CAR-T without adverse events, 0.73", json_schema_extra=_UNIT)
    progressed: Number = Field(
        0.60, ge=0, le=1, description="[E] progressed r/r LBCL: published CAR-T CEAs use about 0.39-0.71 (not "
        "re-read here); vary it in a sensitivity analysis", json_schema_extra=_UNIT)
    crs_by_grade: list[Share] = Field(
        [0.0, 0.01, 0.05, 0.23, 0.23], min_length=5, max_length=5, description="[R] Howell 2022: CRS "
        "disutility for grades 0-4 (1: 0.01, 2: 0.05, 3/4: 0.23), held for the simulated CRS duration",
        json_schema_extra=_UNIT)
    icans_by_grade: list[Share] = Field(
        [0.0, 0.04, 0.04, 0.18, 0.18], min_length=5, max_length=5, description="[R] Howell 2022: neurological "
        "event disutility for grades 0-4 (1/2: 0.04, 3/4: 0.18)", json_schema_extra=_UNIT)
    icans_episode_days: Number = Field(
        14.0, ge=0, le=365, description="[E] days an ICANS episode lasts (the model has no ICANS duration)",
        json_schema_extra={"unit": "day"})
    hospital_day: Number = Field(
        0.0, ge=0, le=1, description="[E] utility lost per inpatient day; 0 by default because CRS days are "
        "already counted by `crs_by_grade`", json_schema_extra=_UNIT)


class Discounting(_Strict):
    """Discounting of costs and QALYs (the same rate for both, as the NICE and ICER reference cases)."""

    rate: Number = Field(
        0.035, ge=0, lt=1, description="[R] yearly rate for costs and QALYs: NICE reference case 3.5% (methods "
        "guide 5.6.2); 0.03 in US analyses (Roth 2018 J Med Econ)", json_schema_extra=_UNIT)
    method: Literal["annual", "continuous"] = Field(
        "annual", description="annual: the factor steps once a year (year 1 undiscounted); continuous: "
                              "(1 + rate)^-t with t in years")


class Extrapolation(_Strict):
    """Time horizon and survival beyond follow-up (partitioned survival on parametric fits)."""

    horizon_years: Number | None = Field(
        None, gt=0, le=60, description="time horizon; None: the follow-up (a within-trial analysis, no "
        "extrapolation). NICE asks for a horizon long enough to capture all differences (lifetime)",
        json_schema_extra={"unit": "year"})
    distributions: list[Literal["exponential", "weibull", "lognormal", "loglogistic", "cure_weibull"]] = Field(
        ["exponential", "weibull", "lognormal", "loglogistic"], min_length=1,
        description="[R] candidate parametric fits of PFS and OS per arm (NICE DSU TSD 14's standard set); "
                    "the lowest AIC is used and shown. Opt-in: `cure_weibull`, a mixture-cure fit (cured "
                    "fraction + Weibull) whose curve plateaus")
    cycle_days: Number = Field(7.0, gt=0, le=365, description="[E] grid of the extrapolated area under the "
                               "curve (trapezoid: half-cycle corrected)", json_schema_extra={"unit": "day"})
    maintenance_cost_per_year: Price | dict[str, Price] | None = Field(
        None, description="[E] ongoing cost per patient-year beyond follow-up (maintenance doses, visits) for "
        "patients alive, progression-free and on maintenance (more than one dose) at the end of follow-up, "
        "for the progression-free time the same survival fits extrapolate, discounted; a number for every "
        "arm or arm -> number; not set: costs beyond follow-up are not extrapolated",
        json_schema_extra={"unit": "currency"})


class _Payment(_Strict):
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_\-]*$", max_length=40, description="model name")
    price: Price | dict[str, Price] | None = Field(
        None, description="price (per course, per dose or upfront part, by kind); a number for every arm or "
        "arm -> number; default: the arm's list price of one dose (`cost_per_dose` / `costs`)",
        json_schema_extra={"unit": "currency"})


class Upfront(_Payment):
    """One-time upfront price on the first infusion; later doses are included."""

    kind: Literal["upfront"]


class OutcomesBased(_Payment):
    """Part of the price upfront, the rest only for patients progression-free at milestones."""

    kind: Literal["outcomes_based"]
    upfront_share: Share = Field(0.5, description="[E] share of the price paid on the first infusion",
                                 json_schema_extra=_UNIT)
    milestones_days: list[Day] = Field(
        [180.0, 365.0], min_length=1, description="[E] days after the first infusion at which the rest is due "
        "in equal parts if the patient is progression-free (put them on assessment days)",
        json_schema_extra={"unit": "day"})
    mode: Literal["instalments", "refund"] = Field(
        "instalments", description="instalments: paid at each milestone reached; refund: everything paid "
                                   "upfront, a part refunded at each milestone missed")

    @field_validator("milestones_days")
    @classmethod
    def _increasing(cls, v):
        if any(b <= a for a, b in zip(v, v[1:], strict=False)):
            raise ValueError(f"milestones_days must increase strictly, got {v}")
        return v


class PerDose(_Payment):
    """A price per dose (scaled by the dose multiple), with optional caps per patient."""

    kind: Literal["per_dose"]
    max_paid_doses: Integer | None = Field(None, ge=1, le=1000, description="doses paid per patient; later "
                                           "doses are free (none: no cap)")
    cap: Price | None = Field(None, description="most paid per patient in total (none: no cap)",
                              json_schema_extra={"unit": "currency"})


class Subscription(_Payment):
    """An upfront part (`price`) on the first infusion, then a fee per patient-year of maintenance (first
    infusion to last dose, accruing continuously)."""

    kind: Literal["subscription"]
    annual_fee: Price = Field(description="fee per patient-year of maintenance", json_schema_extra={"unit": "currency"})


PaymentSpec = Annotated[Upfront | OutcomesBased | PerDose | Subscription, Field(discriminator="kind")]


class Economics(_Strict):
    """Health economics of the run (CHEERS 2022; NICE/ICER reference-case conventions): payer perspective
    (health care sector), costs from `costs`, QALYs from each patient's simulated course."""

    utilities: Utilities = Utilities()
    discounting: Discounting = Discounting()
    extrapolation: Extrapolation = Extrapolation()
    willingness_to_pay: list[Price] = Field(
        [50_000.0, 100_000.0, 150_000.0], min_length=1, description="thresholds per QALY for net monetary benefit: "
        "[R] 150,000 USD 'generally accepted' in the US (Oluwole 2024 J Med Econ), [K] ICER reports 50,000-"
        "200,000 USD, NICE 20,000-30,000 GBP", json_schema_extra={"unit": "currency"})
    payment_models: list[PaymentSpec] = Field(
        [], description="payment models compared (the list price per dose, `list`, is always included)")
    cost_of_goods_per_dose: Price | dict[str, Price] | None = Field(
        None, description="maker's cost of one dose (number, or arm -> number); given: the maker's margin per "
                          "model is reported", json_schema_extra={"unit": "currency"})
    patients_per_year: Integer = Field(1000, ge=1, le=10_000_000, description="[E] patients treated per year "
                                       "for the budget-impact view")

    @model_validator(mode="after")
    def _unique(self):
        names = [m.name for m in self.payment_models]
        dup = sorted({n for n in names if names.count(n) > 1} | ({"list"} & set(names)))
        if dup:
            raise ValueError(f"payment model names must be unique and not 'list' (always included): {dup}")
        return self
