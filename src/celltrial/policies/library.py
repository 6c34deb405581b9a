"""The shipped policies, declarative (pydantic, YAML-ready) and vectorised over patients.

* :class:`Maintenance` - a dose every ``every_days`` (optionally spaced out to ``spaced_days``
  after ``space_out_after`` negative ctDNA draws in a row: deep molecular response);
* :class:`~celltrial.policies.conditional.ConditionalSteps` (``kind: conditional``) - regimen items
  given on a day only to the patients whose observed response, burden, ctDNA or MRD qualifies;
* :class:`CtDNATrigger` - re-dose on molecular relapse: ``consecutive_positive`` positive draws in
  a row, or a positive draw at least ``rise_from_nadir`` x the lowest measured level; while the
  patient stays positive after a triggered dose, the next dose is escalated by
  ``escalate_factor`` (up to ``max_multiplier``).

A policy only reads :class:`~celltrial.policies.base.Observations` and the observed
:class:`~celltrial.policies.base.History`; caps come from the policy's ``max_doses`` and
``min_interval_days``.

Example:
    >>> p = CtDNATrigger(consecutive_positive=2)
    >>> h = History.empty(3); h.consecutive_positive[:] = [0, 1, 2]
    >>> obs = Observations(56.0, np.array([False, True, True]), np.array([0.0, 1.0, 1.0]),
    ...                    np.zeros(3, bool), np.ones(3, bool))
    >>> p.decide(obs, h, DosingRecord.empty(3)).dose.tolist()
    [False, False, True]
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag

from ..protocols.monitoring import MRDAssay
from .base import Caps, Decision, DosingRecord, History, Observations


class Policy(BaseModel):
    """Base of every policy: caps, re-lymphodepletion, budget and start; subclasses add ``decide``."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    kind: str = Field("python", description="which policy (a Python subclass keeps \"python\")")
    max_doses: int | None = Field(None, ge=0, strict=True, description="most doses the policy may give")
    min_interval_days: float = Field(28.0, ge=0, description="least time between two doses (any doses)",
                                     json_schema_extra={"unit": "day"})
    relymphodeplete: bool = Field(False, description="Flu/Cy before every policy dose")
    budget: float | None = Field(None, ge=0, json_schema_extra={"unit": "currency"},
                                 description="most the policy may spend on product per patient (currency of `costs`)")
    stop_after_gvhd: bool = Field(True, description="no policy dose after clinically significant GvHD")
    start_after_days: float = Field(0.0, ge=0, description="no policy dose until this long after the patient's "
                                                           "first infusion", json_schema_extra={"unit": "day"})

    @property
    def caps(self) -> Caps:
        return Caps(self.max_doses, self.min_interval_days)

    def decision_days(self, follow_up: float, draw_days: np.ndarray) -> np.ndarray:
        """Days the policy decides on (by default the ctDNA draw days)."""
        return np.asarray(draw_days, dtype=float)

    def mrd_assay(self) -> MRDAssay | None:
        """The MRD assay the policy samples with, or None (no MRD sampling)."""
        return None

    def mrd_sample_days(self, follow_up: float, draw_days: np.ndarray) -> np.ndarray:
        """Days an MRD sample is taken (only when :meth:`mrd_assay` is not None)."""
        return np.zeros(0)


class Maintenance(Policy):
    """A fixed maintenance dose every ``every_days`` from ``start_day`` (spaced out in deep response)."""

    kind: Literal["maintenance"] = "maintenance"
    every_days: float = Field(gt=0, description="interval between maintenance doses",
                              json_schema_extra={"unit": "day"})
    start_day: float | None = Field(None, ge=0, description="first maintenance dose (default: every_days)",
                                    json_schema_extra={"unit": "day"})
    space_out_after: int | None = Field(None, ge=1, strict=True,
                                        description="negative ctDNA draws in a row after which doses are spaced out")
    spaced_days: float | None = Field(None, gt=0, description="interval once spaced out",
                                      json_schema_extra={"unit": "day"})

    def decision_days(self, follow_up: float, draw_days: np.ndarray) -> np.ndarray:
        start = self.every_days if self.start_day is None else self.start_day
        step = min(self.every_days, self.spaced_days or self.every_days)
        own = np.arange(start, follow_up, step)
        return np.union1d(own, draw_days) if self.space_out_after else own

    def decide(self, obs: Observations, history: History, record: DosingRecord) -> Decision:
        n = obs.alive.shape[0]
        interval = np.full(n, self.every_days)
        if self.space_out_after and self.spaced_days:
            deep = history.consecutive_negative >= self.space_out_after
            interval = np.where(deep, self.spaced_days, interval)
        start = self.every_days if self.start_day is None else self.start_day
        last = np.where(np.isfinite(record.last_dose_day), record.last_dose_day, start - interval)
        due = obs.alive & (obs.day >= start) & (obs.day - last >= interval - 1e-9)
        reason = np.where(interval > self.every_days, "maintenance (spaced out)", "maintenance")
        return Decision(due, np.ones(n), np.where(due, reason, "").astype(object))


class CtDNATrigger(Policy):
    """Re-dose on molecular relapse seen by ctDNA; escalate while positivity persists."""

    kind: Literal["ctdna_trigger"] = "ctdna_trigger"
    start_after_days: float = Field(28.0, ge=0, description="no re-dose until this long after the first infusion "
                                                            "(its own response is judged first)",
                                    json_schema_extra={"unit": "day"})
    consecutive_positive: int = Field(2, ge=1, strict=True, description="positive draws in a row that trigger")
    rise_from_nadir: float | None = Field(10.0, gt=1, description="a positive draw this many times the nadir "
                                                                  "triggers too (None: off)")
    escalate_factor: float = Field(2.0, ge=1, description="dose multiplier step while positivity persists")
    max_multiplier: float = Field(4.0, ge=1, description="largest dose multiplier")
    confirm_with_mrd: MRDAssay | None = Field(
        None, description="also take an MRD sample with every ctDNA draw and re-dose only when it is positive too "
                          "(a ctDNA signal confirmed by flow or NGS MRD; None: ctDNA alone)")

    def mrd_assay(self) -> MRDAssay | None:
        return self.confirm_with_mrd

    def mrd_sample_days(self, follow_up: float, draw_days: np.ndarray) -> np.ndarray:
        return np.asarray(draw_days, dtype=float) if self.confirm_with_mrd is not None else np.zeros(0)

    def decide(self, obs: Observations, history: History, record: DosingRecord) -> Decision:
        n = obs.alive.shape[0]
        positive = obs.alive & obs.ctdna_positive
        run = positive & (history.consecutive_positive >= self.consecutive_positive)
        rise = np.zeros(n, bool)
        if self.rise_from_nadir:
            nadir = np.where(np.isfinite(history.nadir) & (history.nadir > 0), history.nadir, np.inf)
            rise = positive & (obs.ctdna_measured >= self.rise_from_nadir * nadir)
        dose = run | rise
        if self.confirm_with_mrd is not None:  # a ctDNA signal needs today's MRD sample to agree
            dose &= np.zeros(n, bool) if obs.mrd_positive is None else obs.mrd_positive
        # no negative draw since the last policy dose: positivity persists, so escalate that dose
        persistent = dose & (record.doses > 0) & (history.last_negative_day < record.last_dose_day)
        multiplier = np.where(persistent, np.minimum(record.last_multiplier * self.escalate_factor,
                                                     self.max_multiplier), 1.0)
        reason = np.where(persistent, "ctDNA still positive: escalated",
                          np.where(run, f"ctDNA positive x{self.consecutive_positive}", "ctDNA rise from nadir"))
        if self.confirm_with_mrd is not None:
            reason = np.char.add(reason.astype(str), f" + MRD ({self.confirm_with_mrd.method}) positive")
        return Decision(dose, multiplier.astype(float), np.where(dose, reason, "").astype(object))


class BridgeToTransplant(Policy):
    """Keep the disease controlled with a dose every ``every_days`` until a transplant day drawn per patient.

    The transplant day is uniform on [``transplant_day_min``, ``transplant_day_max``] from the
    patient's own "policy" stream; no policy dose is given on or after it.
    """

    kind: Literal["bridge_to_transplant"] = "bridge_to_transplant"
    every_days: float = Field(gt=0, description="interval between bridging doses", json_schema_extra={"unit": "day"})
    transplant_day_min: float = Field(gt=0, description="earliest transplant day", json_schema_extra={"unit": "day"})
    transplant_day_max: float = Field(gt=0, description="latest transplant day", json_schema_extra={"unit": "day"})

    def transplant_days(self, u) -> np.ndarray:
        lo, hi = sorted((self.transplant_day_min, self.transplant_day_max))
        return lo + (hi - lo) * np.asarray(u, dtype=float)

    def decision_days(self, follow_up: float, draw_days: np.ndarray) -> np.ndarray:
        return np.arange(self.every_days, follow_up, self.every_days)

    def decide(self, obs: Observations, history: History, record: DosingRecord, transplant_day=None) -> Decision:
        n = obs.alive.shape[0]
        before = np.ones(n, bool) if transplant_day is None else obs.day < transplant_day
        due = obs.alive & before
        return Decision(due, np.ones(n), np.where(due, "bridging to transplant", "").astype(object))


class RelapseTrigger(Policy):
    """Re-dose at clinical relapse: the first scan with measurable disease after a complete remission.

    Decides on imaging days only (what a clinic without molecular monitoring sees); compare with
    :class:`CtDNATrigger` to value molecular monitoring.
    """

    kind: Literal["relapse_trigger"] = "relapse_trigger"
    reads_imaging: ClassVar[bool] = True

    def decision_days(self, follow_up: float, draw_days: np.ndarray, imaging_days=()) -> np.ndarray:
        return np.asarray(imaging_days, dtype=float)

    def decide(self, obs: Observations, history: History, record: DosingRecord) -> Decision:
        due = obs.alive & obs.imaging_measurable & (history.imaging_relapse_day <= obs.day)
        return Decision(due, np.ones(due.shape[0]), np.where(due, "relapse on imaging", "").astype(object))


class MRDTrigger(Policy):
    """Re-dose on measurable residual disease: ``consecutive_positive`` positive MRD samples in a row.

    The policy samples MRD itself every ``every_days`` with ``assay`` (flow 1e-4 or NGS 1e-6:
    Poisson sampling of tumour cells among the cells analysed, from the patient's "mrd" stream).
    """

    kind: Literal["mrd_trigger"] = "mrd_trigger"
    assay: MRDAssay = Field(MRDAssay(), description="the MRD assay (method flow or ngs)")
    every_days: float = Field(28.0, gt=0, description="MRD sampling interval", json_schema_extra={"unit": "day"})
    consecutive_positive: int = Field(1, ge=1, strict=True, description="positive samples in a row that trigger")
    start_after_days: float = Field(28.0, ge=0, description="no re-dose until this long after the first infusion",
                                    json_schema_extra={"unit": "day"})

    def sample_days(self, follow_up: float) -> np.ndarray:
        return np.arange(self.every_days, follow_up, self.every_days)

    def decision_days(self, follow_up: float, draw_days: np.ndarray) -> np.ndarray:
        return self.sample_days(follow_up)

    def mrd_assay(self) -> MRDAssay | None:
        return self.assay

    def mrd_sample_days(self, follow_up: float, draw_days: np.ndarray) -> np.ndarray:
        return self.sample_days(follow_up)

    def decide(self, obs: Observations, history: History, record: DosingRecord) -> Decision:
        positive = np.zeros(obs.alive.shape, bool) if obs.mrd_positive is None else obs.mrd_positive
        due = obs.alive & positive & (history.mrd_consecutive_positive >= self.consecutive_positive)
        reason = f"MRD positive ({self.assay.method}) x{self.consecutive_positive}"
        return Decision(due, np.ones(due.shape[0]), np.where(due, reason, "").astype(object))


def _kind(value) -> str:
    return value.get("kind", "") if isinstance(value, dict) else getattr(value, "kind", "")


_SINGLE = (Annotated[Maintenance, Tag("maintenance")] | Annotated[CtDNATrigger, Tag("ctdna_trigger")]
           | Annotated[BridgeToTransplant, Tag("bridge_to_transplant")]
           | Annotated[RelapseTrigger, Tag("relapse_trigger")] | Annotated[MRDTrigger, Tag("mrd_trigger")])
#: One dosing policy, picked by its ``kind`` (what conditional steps may run alongside).
SinglePolicySpec = Annotated[_SINGLE, Discriminator(_kind)]

# conditional steps hold a single policy (their ``then``), so they are declared after it
from .conditional import ConditionalSteps  # noqa: E402

#: A policy in a scenario file, picked by its ``kind``.
PolicySpec = Annotated[_SINGLE | Annotated[ConditionalSteps, Tag("conditional")], Discriminator(_kind)]
