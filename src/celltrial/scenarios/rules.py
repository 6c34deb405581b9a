"""Endpoint rules: response by imaging (Lugano-like), death, kinetics limits, landmarks, success.

Example:
    >>> Endpoints().imaging_detection_cells
    1000000000.0
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, field_validator, model_validator

from ..biology.grading_scales import CRS_SCALES, DEFAULT_CRS, DEFAULT_NEUROTOXICITY, NEUROTOXICITY_SCALES
from ..inputs import Integer, Number
from .limits import PositiveDay

#: Most patients a count criterion can name (the cohort's limit of patients per arm).
MAX_COUNT = 10_000_000


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class CountCriterion(_Strict):
    """Per replicate trial: the number of patients of ``arm`` with ``count`` is at least / at most k."""

    arm: str = Field(description="arm name")
    count: Literal["cr", "responder", "crs_grade3plus"] = Field(
        description="patients counted per trial (crs_grade3plus: on the scenario's `endpoints.crs_scale`)")
    at_least: Integer | None = Field(None, ge=0, le=MAX_COUNT, description="success needs at least this many")
    at_most: Integer | None = Field(None, ge=0, le=MAX_COUNT, description="success needs at most this many")

    @model_validator(mode="after")
    def _one_bound(self):
        if (self.at_least is None) == (self.at_most is None):
            raise ValueError("give exactly one of at_least or at_most")
        return self


class CompareCriterion(_Strict):
    """Per replicate trial: log-rank test of ``compare`` between two arms has p below a level."""

    compare: Literal["pfs", "os"] = Field(description="endpoint compared")
    arms: list[str] = Field(min_length=2, max_length=2, description="the two arms compared")
    logrank_p_below: Number = Field(0.05, gt=0, lt=1, description="success needs a log-rank p below this")

    @field_validator("arms")
    @classmethod
    def _two(cls, v):
        if v[0] == v[1]:
            raise ValueError(f"compare two different arms, got {v}")
        return v


def _criterion_kind(value) -> str:
    if isinstance(value, dict):
        return "CompareCriterion" if "compare" in value else "CountCriterion"
    return type(value).__name__


#: One success criterion; the tag picks the class, so errors come from that class alone.
Criterion = Annotated[Annotated[CountCriterion, Tag("CountCriterion")] | Annotated[CompareCriterion,
                                                                                 Tag("CompareCriterion")],
                      Discriminator(_criterion_kind)]


class Endpoints(_Strict):
    """How endpoints are read from a patient's course."""

    imaging_detection_cells: Number = Field(
        1e9, ge=1, le=1e13, description="[R] smallest burden imaging detects (about 1 cm3); below it: no measurable "
                               "disease (CR)", json_schema_extra={"unit": "cells"})
    partial_response_fraction: Number = Field(
        0.5, gt=0, lt=1, description="[K] Lugano PR: burden at most (1 - this) x baseline")
    progression_increase: Number = Field(
        0.5, gt=0, le=10, description="[K] Lugano PD: burden at least (1 + this) x nadir, or measurable again "
                                      "after CR")
    lethal_burden_cells: Number = Field(
        1e12, ge=1, le=1e14, description="[E] death when the burden passes this (about 1 kg of tumour)",
        json_schema_extra={"unit": "cells"})
    gvhd_fatal_fraction: Number = Field(
        0.2, ge=0, le=1, description="[E] share of clinically significant GvHD that is fatal")
    lloq_cells_uL: Number = Field(
        0.05, gt=0, le=1e6, description="[E] flow cytometry LLOQ of product cells in blood (axi-cel day-90 median "
                                "0.1 cells/uL was measurable)", json_schema_extra={"unit": "cells/uL"})
    ctdna_lod_hge_ml: Number | None = Field(
        None, gt=0, le=1e9, description="ctDNA limit of detection drawn in reports (default: the scenario assay's 95% "
                                "detection level; 1.09 hGE/mL for a 10 mL draw at 50% efficiency)",
        json_schema_extra={"unit": "hGE/mL"})
    landmarks_days: list[PositiveDay] | None = Field(
        None, description="landmark PFS/OS days (default: half the follow-up and the end of follow-up)",
        json_schema_extra={"unit": "day"})
    reference_arm: str | None = Field(None, description="arm the others are compared with (default: first)")
    crs_scale: Literal[tuple(CRS_SCALES)] = Field(
        DEFAULT_CRS, description="CRS grading scale of every CRS rate, count and report line: astct2019 (Lee 2019), "
        "lee2014 and cartox (read as ASTCT 2019: the model cannot tell them apart), penn (Porter 2018: grades 2-4 "
        "reached at r_penn times the ASTCT thresholds, so Penn grades higher); see celltrial.biology.grading_scales")
    neurotoxicity_scale: Literal[tuple(NEUROTOXICITY_SCALES)] = Field(
        DEFAULT_NEUROTOXICITY, description="neurotoxicity grading scale named on every neurotoxicity rate and report "
        "line: icans (ASTCT 2019) or ctcae (CTCAE v4.03/v5.0); the model has one neurotoxicity grade, fitted to "
        "CTCAE-graded trials, and reads both scales from it (see celltrial.biology.grading_scales)")
    success: list[Criterion] = Field(
        [], description="criteria that must all hold in a replicate trial for it to count as a success")

    @field_validator("landmarks_days")
    @classmethod
    def _positive(cls, v):
        if v is not None and any(d <= 0 for d in v):
            raise ValueError(f"landmark days must be positive, got {v}")
        return v

    def grading(self) -> dict:
        """The scales the summary and reports name: ``{"crs": ..., "neurotoxicity": ...}``."""
        return {"crs": self.crs_scale, "neurotoxicity": self.neurotoxicity_scale}

    def landmarks(self, follow_up_days: float) -> list:
        """The landmark days in use (the default depends on the follow-up)."""
        if self.landmarks_days is not None:
            return list(self.landmarks_days)
        return [follow_up_days / 2.0, follow_up_days]
