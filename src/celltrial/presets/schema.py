"""Schemas of disease and product presets (pydantic v2; unknown fields are errors).

A preset is data: the parameter values it sets on the standard model (each with its
source), the product's composition, dose, edits and the log-normal variability of its
patients. Turning a preset into model parameters is :meth:`Disease.to_parameters` /
:meth:`Product.to_parameters`; turning a product dose into events is :meth:`Product.infusion`.

Example:
    >>> Sourced(value=0.1, source="[E] example").value
    0.1
"""

from __future__ import annotations

import math
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ..protocols.doses import lymphodepletion, nk_infusion, t_cell_infusion

PHENOTYPE_KEYS = ("S", "CM", "EM", "EFF", "EX")

#: Model parameter -> the product field that sets it, per product kind (the one mapping used by
#: :meth:`Product.to_parameters` and by the generated preset docs).
FIELD_PARAMETERS = {
    "t_cell": {**{f"f_{k}": f"composition.{k}" for k in PHENOTYPE_KEYS}, "f_cd4": "cd4_fraction",
               "allo_T": "allogeneic",
               "rej_escape_T": "edits.hla", "ko_pd1_T": "edits.pd1_ko", "il15_T": "edits.il15",
               "has_switch_T": "edits.safety_switch", "tcr_ko": "edits.tcr_ko"},
    "nk_cell": {"f_KM": "memory_like_fraction", "car_K": "edits.car", "cd16": "edits.cd16", "il15_K": "edits.il15",
                "has_switch_K": "edits.safety_switch", "rej_escape_K": "edits.hla"},
}


def check_omegas(v: dict) -> dict:
    """Log-normal SDs (variability) must lie in [0, 3] (3 is already a 20-fold spread per SD)."""
    bad = {k: w for k, w in v.items() if not (0.0 <= w <= 3.0)}
    if bad:
        raise ValueError(f"variability is a log-normal SD per parameter in [0, 3]; got {bad}")
    return v


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Sourced(_Strict):
    """A parameter value with its provenance tag."""

    value: float
    source: str = Field(min_length=3)

    @field_validator("source")
    @classmethod
    def _tagged(cls, v):
        if not v.lstrip().startswith(("[R]", "[K]", "[E]", "[X]", "[F]")):
            raise ValueError("start the source with a provenance tag: [R], [K], [E], [X] or [F] (fitted)")
        return v


class Calibration(_Strict):
    """How values in this preset were fitted, so the fit can be reproduced and audited."""

    command: str
    targets: dict[str, str]
    achieved: dict[str, str]
    moved: list[str]


class _Preset(_Strict):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_\-]*$")
    title: str
    description: str
    sources: list[str] = Field(min_length=1)
    parameters: dict[str, Sourced] = {}
    variability: dict[str, float] = {}
    calibration: Calibration | None = None
    extrapolation: str | None = None

    _omegas = field_validator("variability")(check_omegas)


class Disease(_Preset):
    """A disease setting: tumour burden, growth, shedding, suppression and typical body size."""

    kind: Literal["disease"] = "disease"
    weight_kg: float = Field(70.0, gt=0, le=300)

    def to_parameters(self) -> dict:
        """Model parameters set by this disease."""
        return {k: v.value for k, v in self.parameters.items()}


class Dose(_Strict):
    """A cell dose: a flat number of cells or cells/kg with an optional cap."""

    cells: float | None = Field(None, gt=0)
    per_kg: float | None = Field(None, gt=0)
    max_cells: float | None = Field(None, gt=0)
    counts: Literal["car_positive", "total"] = "car_positive"

    @model_validator(mode="after")
    def _one_basis(self):
        if (self.cells is None) == (self.per_kg is None):
            raise ValueError("give exactly one of `cells` (flat dose) or `per_kg` (cells per kg)")
        return self

    def cells_for(self, weight_kg: float) -> float:
        n = self.cells if self.cells is not None else self.per_kg * weight_kg
        return min(n, self.max_cells) if self.max_cells else n


class Edits(_Strict):
    """Gene edits and engineering of the product (all product properties, permanent)."""

    pd1_ko: bool = False
    il15: bool = False
    safety_switch: bool = False
    hla: bool = False
    tcr_ko: bool = False
    car: bool = False
    cd16: bool = False


class Product(_Preset):
    """A cell product: T-cell (autologous or iPSC) or NK; its composition, dose and edits."""

    kind: Literal["t_cell", "nk_cell"]
    allogeneic: bool
    dose: Dose
    car_fraction: float = Field(1.0, gt=0.0, le=1.0)
    composition: dict[str, float] | None = None
    #: CD4+ share of CAR+ T cells; 0.5 (1:1) is the composition the kinetics were fitted at
    cd4_fraction: float = Field(0.5, ge=0.0, le=1.0)
    memory_like_fraction: float = Field(0.0, ge=0.0, le=1.0)
    edits: Edits = Edits()
    lymphodepletion: bool = True

    @model_validator(mode="after")
    def _composition(self):
        if self.kind == "t_cell":
            comp = self.composition or {}
            if set(comp) != set(PHENOTYPE_KEYS):
                raise ValueError(f"composition must give fractions for exactly {list(PHENOTYPE_KEYS)}; "
                                 f"got {sorted(comp)}")
            total = sum(comp.values())
            if any(v < 0 for v in comp.values()) or not math.isclose(total, 1.0, abs_tol=1e-6):
                raise ValueError(f"composition fractions must be >= 0 and sum to 1; they sum to {total:g}")
        elif self.composition is not None:
            raise ValueError("composition (T-cell phenotypes) applies to t_cell products only")
        return self

    def field_value(self, path: str) -> float:
        """The numeric value of a product field such as "edits.hla" or "composition.S"."""
        head, _, key = path.partition(".")
        value = getattr(self, head)
        if key:
            value = value[key] if isinstance(value, dict) else getattr(value, key)
        return float(value)

    def to_parameters(self) -> dict:
        """Model parameters set by this product (composition, edits, allogeneic, explicit values)."""
        out = {name: self.field_value(path) for name, path in FIELD_PARAMETERS[self.kind].items()}
        out.update({k: v.value for k, v in self.parameters.items()})
        return out

    def cells_for(self, weight_kg: float) -> float:
        """Product cells infused for a patient of ``weight_kg`` (CAR+ cells for CAR products)."""
        n = self.dose.cells_for(weight_kg)
        return n * self.car_fraction if self.dose.counts == "total" else n

    def infusion(self, time: float, weight_kg: float, cells: float | None = None):
        """The infusion event at ``time`` (days); ``cells`` overrides the preset dose."""
        n = self.cells_for(weight_kg) if cells is None else cells
        return t_cell_infusion(time, n) if self.kind == "t_cell" else nk_infusion(time, n)

    def regimen(self, time: float, weight_kg: float, cells: float | None = None) -> list:
        """Lymphodepletion (if the product needs it) and one infusion at ``time`` (days)."""
        conditioning = [lymphodepletion(time)] if self.lymphodepletion else []
        return conditioning + [self.infusion(time, weight_kg, cells)]
