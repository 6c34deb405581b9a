"""Candidate next moves for one patient, as values: what is given, when, and at what price.

Four kinds (field ``kind``), each turned into solver events from the forecast origin ``t0``
(the day of the patient's last observation):

- ``none``: nothing more is given;
- ``redose``: the product again ``delay_days`` after t0, at ``dose_multiple`` x the preset dose for the
  patient's weight (with the product's lymphodepletion when ``lymphodepletion`` is true);
- ``anti_pd1``: ``doses`` anti-PD-1 doses of ``mg`` every ``every_days`` from t0 + ``delay_days``;
- ``redose_on_ctdna``: ctDNA drawn every ``every_days`` after t0 (measured with the forecast's
  residual error); the first draw at or above ``threshold`` (hGE/mL) triggers one re-dose that day.

Prices: a re-dose costs the product price x ``dose_multiple`` (plus manufacturing for an
autologous product, Flu/Cy and the infusion stay, from :class:`~celltrial.scenarios.costs.Costs`);
an anti-PD-1 dose costs ``price_per_dose`` (default :data:`ANTI_PD1_PRICE`).

Example:
    >>> [a.name for a in default_actions(threshold=1.0)]
    ['none', 'redose now', 'redose now x3', 'add anti-PD-1', 'redose when ctDNA >= 1']
    >>> Action(name="x", kind="anti_pd1", doses=2, every_days=21).drug_days(10.0)
    [10.0, 31.0]
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ..errors import InputError
from ..inputs.files import MAX_YAML_BYTES, read_text
from ..inputs.messages import format_validation
from ..inputs.yaml_loader import load_yaml

#: [E] US list price of one 200 mg pembrolizumab dose (about 11,000 USD in 2024).
ANTI_PD1_PRICE = 11_000.0
KINDS = ("none", "redose", "anti_pd1", "redose_on_ctdna")
#: Fields each kind reads (any other field set in a file is an error, so a typo'd plan is not silently ignored).
FIELDS = {"none": (), "redose": ("delay_days", "dose_multiple", "lymphodepletion"),
          "anti_pd1": ("delay_days", "mg", "every_days", "doses", "price_per_dose"),
          "redose_on_ctdna": ("threshold", "every_days", "dose_multiple", "lymphodepletion")}


class Action(BaseModel):
    """One candidate move (see the module docstring for the kinds and their fields)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    name: str = Field(min_length=1, max_length=60, description="label in the table")
    kind: Literal[KINDS] = Field(description="none, redose, anti_pd1 or redose_on_ctdna")
    delay_days: float = Field(0.0, ge=0, le=365, description="days after the last observation (day)")
    dose_multiple: float = Field(1.0, gt=0, le=10, description="multiple of the product preset's dose")
    lymphodepletion: bool = Field(True, description="Flu/Cy before a re-dose if the product needs it")
    mg: float = Field(200.0, gt=0, le=2000, description="anti-PD-1 dose (mg)")
    every_days: float = Field(21.0, ge=1, le=365, description="days between anti-PD-1 doses or ctDNA draws")
    doses: int = Field(4, ge=1, le=50, description="number of anti-PD-1 doses")
    price_per_dose: float = Field(ANTI_PD1_PRICE, ge=0, le=1e7, description="price of one anti-PD-1 dose")
    threshold: float | None = Field(None, gt=0, le=1e9, description="ctDNA trigger level (hGE/mL)")

    @model_validator(mode="after")
    def _fields_of_kind(self):
        stray = sorted(f for f in self.model_fields_set - {"name", "kind"} if f not in FIELDS[self.kind])
        if stray:
            raise ValueError(f"kind {self.kind} does not use {stray}; its fields: {list(FIELDS[self.kind]) or 'none'}")
        if self.kind == "redose_on_ctdna" and self.threshold is None:
            raise ValueError("kind redose_on_ctdna needs threshold (hGE/mL)")
        return self

    @property
    def redoses(self) -> bool:
        return self.kind in ("redose", "redose_on_ctdna")

    def drug_days(self, origin: float) -> list:
        """Anti-PD-1 dose days (days since the reference), empty for other kinds."""
        if self.kind != "anti_pd1":
            return []
        start = origin + self.delay_days
        return [start + k * self.every_days for k in range(self.doses)]

    def check_days(self, origin: float, end: float) -> list:
        """ctDNA draw days of a ``redose_on_ctdna`` action after ``origin`` up to ``end``, else empty."""
        if self.kind != "redose_on_ctdna":
            return []
        out, day = [], origin + self.every_days
        while day < end:
            out.append(day)
            day += self.every_days
        return out


def default_actions(*, threshold: float) -> list:
    """The default comparison: none, re-dose now at 1x and 3x, anti-PD-1 200 mg q3w x4, re-dose on ctDNA."""
    return [Action(name="none", kind="none"), Action(name="redose now", kind="redose"),
            Action(name="redose now x3", kind="redose", dose_multiple=3.0),
            Action(name="add anti-PD-1", kind="anti_pd1"),
            Action(name=f"redose when ctDNA >= {threshold:g}", kind="redose_on_ctdna", threshold=threshold,
                   every_days=14.0)]


class _ActionsFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    actions: list[Action] = Field(min_length=1, max_length=20, description="candidate moves")


def parse_actions(raw, where: str = "actions") -> list:
    """Actions from parsed YAML ({"actions": [...]}); InputError naming the field of every mistake.

    Example:
        >>> [a.kind for a in parse_actions({"actions": [{"name": "wait", "kind": "none"}]})]
        ['none']
    """
    try:
        actions = _ActionsFile.model_validate(raw).actions
    except ValidationError as exc:
        raise InputError(format_validation(exc, where, "actions file", _ActionsFile)) from None
    names = [a.name for a in actions]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise InputError(f"{where}: actions: names must be unique, {dup} repeat")
    return actions


def load_actions(path) -> list:
    """Read an actions YAML file (``actions:`` list of :class:`Action` fields)."""
    text = read_text(path, "actions file", MAX_YAML_BYTES, InputError)
    return parse_actions(load_yaml(text, str(path), InputError), str(path))
