"""Per-patient product doses: pooled dose levels, manufacturing spread and CAR+ fraction variability.

Trials do not give every patient the nominal dose. They pool dose-escalation cohorts in one
analysis (e.g. Turtle 2016: 2e5, 2e6 and 2e7 cells/kg), release products within a range around a
target (axi-cel: target 2e6 CAR+ cells/kg, 1-2e6 accepted, at most 2e8 [K] label; tisa-cel DLBCL:
0.6-6.0e8 CAR+ cells [K] JULIET), and products dosed by total cells carry a CAR+ fraction that
varies from lot to lot. Each is a value here, drawn per patient from three uniforms of the patient's
own "dose" stream (level, spread, CAR+ fraction), so a patient's dose never depends on the chunk,
and paired twins get the same draws in every arm.

- :class:`DoseLevel`: one level of a pooled arm, with the share of patients at it.
- :class:`DoseSpread`: the delivered dose over the prescribed one is log-normal (median 1, ``sd_log``)
  cut to the release range [``low``, ``high``] (multiples of the prescribed dose), by inverse CDF.
- :class:`CarFractionSpread`: the CAR+ fraction is logit-normal around the product's, cut to
  [``low``, ``high``]; it changes the CAR+ cells only when the dose counts total cells.

Example:
    >>> spread = DoseSpread(sd_log=0.3, low=0.5, high=1.0)
    >>> [round(float(m), 3) for m in spread.multiples(np.array([0.0, 0.5, 0.999999]))]
    [0.5, 0.821, 1.0]
"""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator
from scipy import special

from ..presets.schema import Dose

#: Uniforms per patient in the "dose" stream: [level, spread, CAR+ fraction] (a fixed layout: append only).
DOSE_UNIFORMS = 3


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


def _ordered(low, high, what):
    if low is not None and high is not None and not low < high:
        raise ValueError(f"{what}: low ({low:g}) must be below high ({high:g})")


def _cut_normal(u, sd, lo, hi) -> np.ndarray:
    """sd * z where z ~ N(0, 1) cut to [lo/sd, hi/sd], by inverse CDF at uniforms ``u``."""
    a = special.ndtr(lo / sd) if np.isfinite(lo) else 0.0
    b = special.ndtr(hi / sd) if np.isfinite(hi) else 1.0
    z = special.ndtri(np.clip(a + np.asarray(u, dtype=float) * (b - a), 1e-300, 1 - 1e-16))
    return np.clip(sd * z, lo, hi)  # round-off only: the inverse CDF already lies in the range


class DoseSpread(_Strict):
    """Delivered over prescribed dose: log-normal with median 1, cut to the release range."""

    sd_log: float = Field(gt=0, le=2, description="SD of log(delivered / prescribed dose)", json_schema_extra={
        "unit": "1"})
    low: float | None = Field(None, gt=0, description="smallest delivered dose released, as a multiple of the "
                              "prescribed dose (none: no lower cut)", json_schema_extra={"unit": "1"})
    high: float | None = Field(None, gt=0, description="largest delivered dose released, as a multiple of the "
                               "prescribed dose (none: no upper cut)", json_schema_extra={"unit": "1"})

    @model_validator(mode="after")
    def _range(self):
        _ordered(self.low, self.high, "dose_spread")
        return self

    def multiples(self, u) -> np.ndarray:
        """Delivered / prescribed dose for uniforms ``u`` on [0, 1)."""
        lo = np.log(self.low) if self.low is not None else -np.inf
        hi = np.log(self.high) if self.high is not None else np.inf
        return np.exp(_cut_normal(u, self.sd_log, lo, hi))


class CarFractionSpread(_Strict):
    """Lot-to-lot CAR+ fraction: logit-normal around the product's fraction, cut to [low, high]."""

    sd_logit: float = Field(gt=0, le=3, description="SD of logit(CAR+ fraction)", json_schema_extra={"unit": "1"})
    low: float = Field(0.01, gt=0, lt=1, description="smallest CAR+ fraction released",
                       json_schema_extra={"unit": "1"})
    high: float = Field(0.99, gt=0, lt=1, description="largest CAR+ fraction released",
                        json_schema_extra={"unit": "1"})

    @model_validator(mode="after")
    def _range(self):
        _ordered(self.low, self.high, "car_fraction_spread")
        return self

    def fractions(self, centre: float, u) -> np.ndarray:
        """CAR+ fractions for uniforms ``u``, centred (median) on ``centre``."""
        mid = special.logit(centre)
        z = _cut_normal(u, self.sd_logit, special.logit(self.low) - mid, special.logit(self.high) - mid)
        return special.expit(mid + z)


class DoseLevel(_Strict):
    """One dose level of a pooled arm: the dose and the share of the arm's patients given it."""

    dose: Dose = Field(description="cells (flat) or per_kg (cells/kg), optional max_cells and counts")
    share: float = Field(gt=0, le=1, description="share of the arm's patients at this level")


def check_levels(levels: list[DoseLevel]) -> list[DoseLevel]:
    """Shares must sum to 1 and the levels use one counting basis (CAR+ or total cells)."""
    total = sum(level.share for level in levels)
    if abs(total - 1.0) > 1e-9:
        raise ValueError(f"dose level shares must sum to 1; they sum to {total:g}")
    if len({level.dose.counts for level in levels}) > 1:
        raise ValueError("all dose levels count the same cells (dose.counts: car_positive or total)")
    return levels


def pick_levels(levels: list[DoseLevel], u) -> np.ndarray:
    """Index of the level of each patient: the categorical inverse CDF of the shares at ``u``."""
    edges = np.cumsum([level.share for level in levels])[:-1]
    return np.searchsorted(edges, np.asarray(u, dtype=float), side="right")


def patient_cells(doses: list[Dose], level: np.ndarray, weights, multiple, car_fraction) -> np.ndarray:
    """CAR+ (or NK) cells per full dose for each patient: the level's dose for the patient's weight (with its
    cap) times the delivered multiple, times the CAR+ fraction when the dose counts total cells."""
    weights = np.asarray(weights, dtype=float)
    prescribed = np.array([doses[k].cells_for(float(w)) for k, w in zip(level.tolist(), weights, strict=True)])
    total = np.array([doses[k].counts == "total" for k in level.tolist()], dtype=bool)
    cells = prescribed * np.asarray(multiple, dtype=float)
    return np.where(total, cells * np.asarray(car_fraction, dtype=float), cells)
