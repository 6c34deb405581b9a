"""Conditional protocol steps: regimen items given on a day only to the patients whose observations qualify.

A response-adapted protocol ("a second cycle for patients in PR or SD at day 28, consolidation in CR
at day 90") is a :class:`ConditionalSteps` policy (``kind: conditional``): a list of :class:`Step`,
each read on its ``on_day`` (days from the regimen's day 0, the first infusion; with autologous
logistics the day moves with each patient's manufacturing wait, as the scans do) from observations
alone, never the model's state:

* ``response``: the category of the patient's latest assessed scan on or before that day, read by
  the trial's own rule (``endpoints``: detection, partial-response fraction, progression increase)
  from the burdens the scans measured against the baseline scan; after a scan showed progression
  it stays PD (assessments stop, as in the endpoints);
* ``burden_above`` / ``burden_below``: the burden the latest scan measured (cells; 0 when it saw no
  measurable disease; the baseline scan before any other);
* ``ctdna``: the call of the latest ctDNA draw on or before that day;
* ``mrd``: an MRD sample taken that day with ``mrd_assay`` (the patient's own "mrd" stream).

Every condition a step states must hold. Qualifying patients get the step's ``give`` items
(regimen algebra, days from the step's day), the others its ``otherwise`` items; patients who
died, were never infused, or whose scans showed progression (unless the step asks for PD or sets
``after_progression``) get neither. ``then`` is an ordinary policy (maintenance, ctdna_trigger, ...)
running alongside on the same dosing record.

Example:
    >>> step = Step.model_validate({"on_day": 28, "when": {"response": ["PR", "SD"]},
    ...                             "give": [{"action": "infusion"}]})
    >>> seen = Seen(response=np.array([0, 1, 2, 3, 4]), burden=np.full(5, 1e9), ctdna=np.full(5, -1), mrd=None)
    >>> step.when.holds(seen).tolist()
    [False, True, True, False, False]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..protocols.monitoring import MRDAssay
from ..protocols.regimens import Item
from ..trials.response import LABELS, PD
from .base import Decision
from .library import Policy, SinglePolicySpec

Category = Literal["CR", "PR", "SD", "PD"]
CODES = {str(label): code for code, label in enumerate(LABELS)}


@dataclass
class Seen:
    """What the clinic knows of each patient on a step's day (n patients).

    Attributes:
        response: (n,) code of the latest assessed scan (:mod:`celltrial.trials.response`; NE: none yet).
        burden: (n,) burden the latest scan measured (cells; 0: no measurable disease; NaN: no scan).
        ctdna: (n,) latest ctDNA call: 1 positive, 0 negative, -1 no draw yet.
        mrd: (n,) today's MRD sample positive, or None (no condition asks for one).
    """

    response: np.ndarray
    burden: np.ndarray
    ctdna: np.ndarray
    mrd: np.ndarray | None


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Condition(_Strict):
    """What must be observed on a step's day; every condition given must hold."""

    response: list[Category] | None = Field(
        None, min_length=1, description="imaging response categories that qualify (CR, PR, SD, PD), read from the "
                                        "latest scan on or before the day by the `endpoints` rule")
    burden_above: float | None = Field(None, gt=0, json_schema_extra={"unit": "cells"},
                                       description="the latest scan measured more than this burden")
    burden_below: float | None = Field(None, gt=0, json_schema_extra={"unit": "cells"},
                                       description="the latest scan measured less than this burden (no measurable "
                                                   "disease counts as 0)")
    ctdna: Literal["positive", "negative"] | None = Field(None, description="call of the latest ctDNA draw on or "
                                                                           "before the day")
    mrd: Literal["positive", "negative"] | None = Field(None, description="call of an MRD sample taken on the day")
    mrd_assay: MRDAssay = Field(MRDAssay(), description="the MRD assay of `mrd` (method flow or ngs)")

    @model_validator(mode="after")
    def _stated(self):
        if all(getattr(self, f) is None for f in ("response", "burden_above", "burden_below", "ctdna", "mrd")):
            raise ValueError("state at least one condition: response, burden_above, burden_below, ctdna or mrd")
        if self.burden_above is not None and self.burden_below is not None and self.burden_above >= self.burden_below:
            raise ValueError(f"burden_above ({self.burden_above:g}) must be below burden_below "
                             f"({self.burden_below:g}): no burden could qualify")
        return self

    def holds(self, seen: Seen) -> np.ndarray:
        """(n,) the condition holds for each patient (observations only)."""
        ok = np.ones(seen.response.shape, bool)
        if self.response is not None:
            ok &= np.isin(seen.response, [CODES[c] for c in self.response])
        with np.errstate(invalid="ignore"):  # NaN (never scanned) qualifies for neither bound
            if self.burden_above is not None:
                ok &= seen.burden > self.burden_above
            if self.burden_below is not None:
                ok &= seen.burden < self.burden_below
        if self.ctdna is not None:
            ok &= seen.ctdna == (1 if self.ctdna == "positive" else 0)
        if self.mrd is not None:
            ok &= np.zeros_like(ok) if seen.mrd is None else seen.mrd == (self.mrd == "positive")
        return ok

    def text(self) -> str:
        """The condition in words, for the dose log (e.g. "response PR/SD")."""
        parts = ["response " + "/".join(self.response)] if self.response else []
        parts += [f"burden > {self.burden_above:.3g}"] if self.burden_above is not None else []
        parts += [f"burden < {self.burden_below:.3g}"] if self.burden_below is not None else []
        parts += [f"ctDNA {self.ctdna}"] if self.ctdna else []
        parts += [f"MRD ({self.mrd_assay.method}) {self.mrd}"] if self.mrd else []
        return " and ".join(parts)


class Step(_Strict):
    """One conditional step: on ``on_day`` read ``when``; give ``give`` if it holds, else ``otherwise``."""

    name: str = Field("", max_length=60, description="a name for the dose log (default: step 1, step 2, ...)")
    on_day: float = Field(ge=0, json_schema_extra={"unit": "day"},
                          description="day the condition is read and the items start, from the regimen's day 0 "
                                      "(the first infusion)")
    when: Condition = Field(description="the condition, on observations only")
    give: list[Item] = Field(min_length=1, description="regimen items given when it holds (days from `on_day`: "
                                                       "give / repeat / cycle / sequence)")
    otherwise: list[Item] = Field([], description="regimen items given when it does not hold (default: nothing)")
    after_progression: bool = Field(False, description="act also for patients whose scans showed progression "
                                                       "(default: they are off protocol, unless `response` lists PD)")

    def reason(self, k: int, held: bool) -> str:
        """The dose log's reason of the step's doses (e.g. "second cycle: response PR/SD on day 28")."""
        what = self.when.text() if held else f"not ({self.when.text()})"
        return f"{self.name or f'step {k + 1}'}: {what} on day {self.on_day:g}"

    def eligible(self, progressed: np.ndarray) -> np.ndarray:
        """(n,) patients the step acts for: not progressed, unless it asks for PD or acts after progression."""
        if self.after_progression or "PD" in (self.when.response or ()):
            return np.ones(progressed.shape, bool)
        return ~progressed


class ConditionalSteps(_Strict):
    """Conditional protocol steps (response-adapted cycles, consolidation, ...), optionally with a policy after."""

    kind: Literal["conditional"] = "conditional"
    steps: list[Step] = Field(min_length=1, description="the steps, each read on its own day")
    then: SinglePolicySpec | None = Field(
        None, description="a policy running alongside (maintenance, ctdna_trigger, ...); its caps and budget count "
                          "the steps' doses too, and steps stop after GvHD when it does (by default)")

    def mrd_steps(self) -> list[int]:
        """Indices of the steps that take an MRD sample."""
        return [k for k, s in enumerate(self.steps) if s.when.mrd is not None]

    def problems(self, where: str, follow_up: float, imaging_days) -> list[str]:
        """Field-named problems the schema cannot see: a step after the follow-up, a response read before any scan."""
        out = []
        for k, s in enumerate(self.steps):
            at = f"{where}.steps.{k}"
            if s.on_day >= follow_up:
                out.append(f"{at}.on_day: day {s.on_day:g} is at or after follow_up_days={follow_up:g}; "
                           "move the step earlier or lengthen the follow-up")
            elif s.when.response is not None and not any(d <= s.on_day for d in imaging_days):
                out.append(f"{at}.when.response: no scan on or before day {s.on_day:g} (assessments.imaging_days "
                           f"start on day {min(imaging_days):g}); move on_day to a scan day or add a scan")
        return out


class NoPolicy(Policy):
    """No policy doses: what runs beside conditional steps that have no ``then``."""

    def decision_days(self, follow_up: float, draw_days: np.ndarray) -> np.ndarray:
        return np.zeros(0)

    def decide(self, obs, history, record) -> Decision:
        return Decision.none(obs.alive.shape[0])


def progressed(history) -> np.ndarray:
    """(n,) patients whose scans showed progression (the latest assessed category is PD)."""
    return np.asarray(history.imaging_response) == PD
