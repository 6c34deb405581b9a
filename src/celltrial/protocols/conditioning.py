"""Lymphodepleting regimens as values: agents, mg/m2 per day, days before the infusion, and their depth.

A regimen (:class:`Conditioning`) lists its agents (fludarabine, cyclophosphamide, bendamustine)
with a dose per m2 of body surface area and the days given. Its effect on the host follows from
those numbers by log-kill: each agent removes a share of the host T cells proportional to its
total dose per m2 actually received (``mg_per_m2`` times the dosing BSA over the patient's BSA,
which is below 1 only when ``max_bsa_m2`` caps a large patient's dose),

    log(host T cells left)   = log(R_ref) * sum_a n_share_a   * exposure_a / reference_a
    log(CD4 help left)       = log(R_ref) * sum_a cd4_share_a * exposure_a / reference_a

where ``R_ref`` = 0.0133 is the nadir left by the reference regimen, Flu 30 / Cy 500 mg/m2/day on
days -5 to -3 (ZUMA-1, Locke 2017; Kimmel 2021 fitted N(0) = 3e9 host T cells from N0 = 2.25e11).
The reference regimen therefore gives exactly the model's calibrated Flu/Cy event. Fludarabine
carries the lasting CD4 helper deficit (the CD4 share) that blunts anti-CAR priming: without it,
transgene-directed rejection returns (Turtle 2016 Sci Transl Med 8:355ra116: no-Flu CR 8% vs 50%).
The *duration* of the depletion is not a separate number: host T cells recover from the nadir by
the model's Gompertz growth (``r_N``) and CD4 help at ``r_cd4``, so a deeper nadir lasts longer.
The effect is placed at the nadir, the infusion day, as the model's calibrated event is.

Example:
    >>> r = Conditioning.named("flu_cy_30_500")
    >>> [round(float(x), 4) for x in r.remaining(bsa_m2=1.9)]
    [0.0133, 0.0133]
    >>> [round(float(x), 3) for x in Conditioning.named("cy_500").remaining(1.9)]
    [0.115, 1.0]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..errors import InputError, did_you_mean
from .doses import FLU_CY_REMAINING

AgentName = Literal["fludarabine", "cyclophosphamide", "bendamustine"]


@dataclass(frozen=True)
class AgentEffect:
    """How one agent depletes: its reference total dose (mg/m2) and its shares of the reference log-kill."""

    reference_mg_m2: float
    n_share: float  # share of the host T-cell log-kill at the reference dose
    cd4_share: float  # share of the lasting CD4 helper deficit at the reference dose
    source: str


#: [E] log-kill shares; the reference doses are the usual courses ([K] ZUMA-1 Flu 30 / Cy 500 x 3 days;
#: [K] bendamustine 90 mg/m2 x 2 days, JULIET's alternative).
AGENTS: dict[str, AgentEffect] = {
    "fludarabine": AgentEffect(90.0, 0.5, 1.0, "[E] half of the Flu/Cy nadir's log-kill and all of its lasting "
                               "CD4 deficit (Turtle 2016: fludarabine is what prevents anti-CAR rejection; "
                               "Strati 2021: CD4 about a fifth of normal a year after Flu/Cy)"),
    "cyclophosphamide": AgentEffect(1500.0, 0.5, 0.0, "[E] half of the Flu/Cy nadir's log-kill; lymphocytes "
                                    "recover from cyclophosphamide alone without a lasting CD4 deficit [K]"),
    "bendamustine": AgentEffect(180.0, 0.75, 0.75, "[E] somewhat shallower than Flu/Cy ([K] Ghilardi 2022 Ann "
                                "Oncol 33:916: similar efficacy with fewer cytopenias); prolonged CD4 lymphopenia is a "
                                "known bendamustine effect [K]"),
}

#: Largest dose per day (mg/m2) accepted per agent: well above any lymphodepleting course, below
#: myeloablation (a value above it is a typo, not a regimen).
MAX_MG_M2 = {"fludarabine": 60.0, "cyclophosphamide": 3000.0, "bendamustine": 150.0}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class AgentCourse(_Strict):
    """One agent of a lymphodepleting regimen: mg per m2 of body surface area on each listed day."""

    agent: AgentName = Field(description="fludarabine, cyclophosphamide or bendamustine")
    mg_per_m2: float = Field(gt=0, description="dose per day per m2 of body surface area",
                             json_schema_extra={"unit": "mg/m2"})
    days: list[float] = Field(min_length=1, max_length=10, description="days given, relative to the infusion "
                              "(negative: before it; e.g. [-5, -4, -3])",
                              json_schema_extra={"unit": "day before infusion"})

    @field_validator("mg_per_m2")
    @classmethod
    def _plausible(cls, v, info):
        agent = info.data.get("agent")
        if agent in MAX_MG_M2 and v > MAX_MG_M2[agent]:
            raise ValueError(f"{v:g} mg/m2 of {agent} per day is above {MAX_MG_M2[agent]:g}, the most a "
                             "lymphodepleting course gives; check the unit (mg/m2 per day)")
        return v

    @field_validator("days")
    @classmethod
    def _before_infusion(cls, v):
        if any(not -14 <= d <= 0 for d in v) or len(set(v)) != len(v):
            raise ValueError(f"days are distinct and lie in [-14, 0] relative to the infusion, got {v}")
        return sorted(v)

    @property
    def total_mg_m2(self) -> float:
        """The course's total dose per m2: mg_per_m2 x number of days."""
        return self.mg_per_m2 * len(self.days)


class Conditioning(_Strict):
    """A lymphodepleting regimen: agents with doses per m2 and days; its depth follows from them."""

    name: str = Field("", max_length=60, description="a label for reports (e.g. \"Flu/Cy 30/500\")")
    agents: list[AgentCourse] = Field(min_length=1, description="the agents, each once")
    max_bsa_m2: float | None = Field(None, gt=0.5, le=4.0, description="dose by at most this body surface area "
                                     "(a cap some protocols use); none: dose by the patient's own BSA",
                                     json_schema_extra={"unit": "m2"})

    @field_validator("agents")
    @classmethod
    def _each_once(cls, v):
        names = [a.agent for a in v]
        if len(set(names)) != len(names):
            raise ValueError(f"list each agent once (give its days in one entry), got {names}")
        return v

    @classmethod
    def named(cls, name: str) -> Conditioning:
        """A shipped regimen by name (see :data:`NAMED`)."""
        if name not in NAMED:
            raise InputError(f"unknown lymphodepletion regimen {name!r}{did_you_mean(name, NAMED)}; "
                             f"shipped: {sorted(NAMED)} (or write agents, mg_per_m2 and days)")
        return cls.model_validate(NAMED[name])

    def log_depth(self, bsa_m2) -> tuple[np.ndarray, np.ndarray]:
        """Host T-cell and CD4-help log-kill in units of the reference regimen's, per patient (BSA in m2)."""
        bsa = np.asarray(bsa_m2, dtype=float)
        dosed = bsa if self.max_bsa_m2 is None else np.minimum(bsa, self.max_bsa_m2)
        scale = dosed / bsa  # mg/m2 received over mg/m2 prescribed
        n = sum(AGENTS[a.agent].n_share * a.total_mg_m2 / AGENTS[a.agent].reference_mg_m2 for a in self.agents)
        cd4 = sum(AGENTS[a.agent].cd4_share * a.total_mg_m2 / AGENTS[a.agent].reference_mg_m2 for a in self.agents)
        return n * scale, cd4 * scale

    def remaining(self, bsa_m2) -> tuple:
        """(host T cells left, CD4 help left) at the nadir, fractions 0-1, per patient of ``bsa_m2``."""
        n, cd4 = self.log_depth(bsa_m2)
        return FLU_CY_REMAINING ** n, FLU_CY_REMAINING ** cd4

    def label(self) -> str:
        """The name, or the agents and doses written out (``Flu 30 x3 / Cy 500 x3 mg/m2``)."""
        if self.name:
            return self.name
        short = {"fludarabine": "Flu", "cyclophosphamide": "Cy", "bendamustine": "Benda"}
        return " / ".join(f"{short[a.agent]} {a.mg_per_m2:g} x{len(a.days)}" for a in self.agents) + " mg/m2"


def _course(agent, mg, days):
    return {"agent": agent, "mg_per_m2": mg, "days": days}


_D3 = [-5.0, -4.0, -3.0]
#: Shipped regimens. [K] ZUMA-1 (Locke 2017 Mol Ther 25:285) Flu 30 / Cy 500 x 3; [K] JULIET (Schuster 2019
#: NEJM 380:45) Flu 25 / Cy 250 x 3 or bendamustine 90 x 2; [K] Kochenderfer 2017 (J Clin Oncol 35:1803) low-dose
#: Flu 30 / Cy 300 x 3; [R] Turtle 2016 Cy-based without Flu (here Cy 500 x 3 for comparison).
NAMED = {
    "flu_cy_30_500": {"name": "Flu/Cy 30/500 x3 (ZUMA-1)", "agents": [_course("fludarabine", 30.0, _D3),
                                                                        _course("cyclophosphamide", 500.0, _D3)]},
    "flu_cy_25_250": {"name": "Flu/Cy 25/250 x3 (JULIET)", "agents": [_course("fludarabine", 25.0, _D3),
                                                                        _course("cyclophosphamide", 250.0, _D3)]},
    "flu_cy_30_300": {"name": "Flu/Cy 30/300 x3 (Kochenderfer 2017)",
                      "agents": [_course("fludarabine", 30.0, _D3), _course("cyclophosphamide", 300.0, _D3)]},
    "cy_500": {"name": "Cy 500 x3 (no fludarabine)", "agents": [_course("cyclophosphamide", 500.0, _D3)]},
    "bendamustine_90": {"name": "Bendamustine 90 x2 (JULIET)",
                        "agents": [_course("bendamustine", 90.0, [-4.0, -3.0])]},
}
#: The regimen the model's Flu/Cy event was calibrated at.
REFERENCE = "flu_cy_30_500"


def resolve(value) -> Conditioning:
    """A :class:`Conditioning` from a shipped name, a mapping, or itself (None: the reference regimen)."""
    if value is None:
        return Conditioning.named(REFERENCE)
    if isinstance(value, str):
        return Conditioning.named(value)
    return value if isinstance(value, Conditioning) else Conditioning.model_validate(value)


def mosteller_bsa(height_cm, weight_kg) -> np.ndarray:
    """Body surface area (m2) by Mosteller: sqrt(height_cm * weight_kg / 3600) [K] (NEJM 1987 317:1098).

    Example:
        >>> float(round(mosteller_bsa(170.0, 70.0), 3))
        1.818
    """
    h, w = np.asarray(height_cm, dtype=float), np.asarray(weight_kg, dtype=float)
    if np.any(~np.isfinite(h) | (h <= 0)) or np.any(~np.isfinite(w) | (w <= 0)):
        raise InputError("body surface area needs positive, finite heights (cm) and weights (kg)")
    return np.sqrt(h * w / 3600.0)

