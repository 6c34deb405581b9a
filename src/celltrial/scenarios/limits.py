"""Physical bounds of scenario values: typed fields for days, money and hospital stays, and a
plausibility check by unit over the whole validated scenario.

Every field of the scenario's own classes carries its bounds (they appear in
``docs/scenarios.md``). Classes declared elsewhere (policies, protocols, presets) state a unit
but often no upper bound, so :func:`implausible` checks every number of a validated scenario
against :data:`UNIT_LIMITS` by its declared unit (days within ten years, money below 1e10,
cells below 1e14, ...) and any other number against :data:`MAX_MAGNITUDE`.

Example:
    >>> from pydantic import BaseModel, Field
    >>> class Policy(BaseModel):
    ...     every_days: float = Field(json_schema_extra={"unit": "day"})
    >>> implausible(Policy(every_days=5000), ("arms", 0, "policy"))
    ['arms.0.policy.every_days: 5000 day is implausible; allowed: 0, or 0.01 to 3650 day']
"""

from __future__ import annotations

import math
import numbers
from typing import Annotated

import annotated_types as at
from pydantic import BaseModel, Field

from ..inputs import Number

#: Longest horizon of anything in a scenario (days): ten years, the longest follow-up.
MAX_DAY = 3650.0
#: Largest amount of money in any field (a price, a lot, a budget).
MAX_MONEY = 1e10
#: Longest hospital stay counted for one event (days).
MAX_STAY_DAYS = 365.0
#: Smallest plausible infusion: dose-escalation trials start near 1e5 cells/kg; below is a unit mistake.
MIN_DOSE_CELLS = 1e4
#: Smallest plausible per-kg dose (cells/kg).
MIN_DOSE_PER_KG = 1e2
#: Body weights (kg): from a premature newborn to the presets' largest.
WEIGHT_RANGE = (0.5, 300.0)
#: Body heights (cm): from a newborn to the tallest adults; the default when a cohort gives none ([E] an adult
#: average between men and women).
HEIGHT_RANGE = (40.0, 250.0)
DEFAULT_HEIGHT_CM = 170.0
#: Tumour burdens (cells): up to 1e13 (about 10 kg of tumour, ten times the default lethal burden).
BURDEN_RANGE = (1.0, 1e13)
#: Any number without a unit of its own must be below this in magnitude.
MAX_MAGNITUDE = 1e15

#: Smallest non-zero magnitude by unit: a time finer than about 15 minutes, a 0.1 mL draw, a thousandth
#: of a dose are below anything the model resolves (1e-300 days between doses is a typo, not a schedule).
SMALLEST = {"day": 0.01, "mL": 0.1, "dose multiple, Gy or mg": 1e-3, "patient/month": 1e-3}

#: (lowest, highest) of a number by the unit its field declares.
UNIT_LIMITS = {
    "day": (0.0, MAX_DAY),
    "currency": (0.0, MAX_MONEY),
    "cells": (1.0, 1e14), "cell": (1.0, 1e14),
    "cells/uL": (0.0, 1e6),
    "hGE/mL": (0.0, 1e9),
    "mg": (0.0, 1e5),
    "dose multiple, Gy or mg": (0.0, 1e4),
    "Gy": (0.0, 100.0),
    "mL": (0.0, 1000.0),
    "kg": WEIGHT_RANGE,
    "cm": HEIGHT_RANGE, "m2": (0.5, 4.0), "mg/m2": (0.0, 3000.0),
    "day before infusion": (-14.0, 0.0),
    "dose": (0.0, 1e6), "molecule": (0.0, 1e6), "patient/month": (0.0, 1e5),
    "1": (0.0, 1.0),
}

#: A day within the horizon (a dose, an assessment, a switch).
Day = Annotated[Number, Field(ge=0, le=MAX_DAY)]
#: A positive day within the horizon (landmarks).
PositiveDay = Annotated[Number, Field(gt=0, le=MAX_DAY)]
#: Hospital days for one event.
StayDays = Annotated[Number, Field(ge=0, le=MAX_STAY_DAYS)]


def money(default: float, description: str, **extra):
    """A price field: >= 0 and <= :data:`MAX_MONEY`, unit currency."""
    return Field(default, ge=0, le=MAX_MONEY, description=description, json_schema_extra={"unit": "currency"},
                 **extra)


def _limits(field):
    """(lowest, highest, unit) for a field's numbers: by its unit, else a magnitude cap unless it has its own."""
    extra = field.json_schema_extra
    unit = extra.get("unit", "") if isinstance(extra, dict) else ""
    if unit in UNIT_LIMITS:
        return (*UNIT_LIMITS[unit], unit)
    if any(isinstance(m, at.Le | at.Lt) for m in field.metadata):
        return None  # the field states its own upper bound (a seed may exceed the magnitude cap)
    return -MAX_MAGNITUDE, MAX_MAGNITUDE, ""


def _check(value, limits, path: tuple) -> list:
    if isinstance(value, BaseModel):
        return implausible(value, path)
    if isinstance(value, list | tuple):
        return [m for i, v in enumerate(value) for m in _check(v, limits, (*path, i))]
    if isinstance(value, dict):
        return [m for k, v in value.items() for m in _check(v, limits, (*path, k))]
    if limits is None or not isinstance(value, numbers.Real) or isinstance(value, bool):
        return []
    lo, hi, unit = limits
    small = SMALLEST.get(unit, 0.0)
    if math.isfinite(value) and lo <= value <= hi and (value == 0 or abs(value) >= small):
        return []
    unit = f" {unit}" if unit else ""
    allowed = f"0, or {small:g} to {hi:g}{unit}" if small else f"{lo:g} to {hi:g}{unit}"
    return [f"{'.'.join(map(str, path))}: {value:g}{unit} is implausible; allowed: {allowed}"]


def implausible(model: BaseModel, path: tuple = ()) -> list:
    """Problems of every number in ``model`` (recursively) outside the limits of its unit."""
    out = []
    for name, field in type(model).model_fields.items():
        out += _check(getattr(model, name), _limits(field), (*path, name))
    return out
