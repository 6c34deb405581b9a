"""A regimen algebra: administrations (Give) combined by Repeat, Cycle and Sequence, realised into a dose table.

A regimen is a value (YAML-friendly pydantic models), not a code path: :meth:`Regimen.realise` turns it into an
explicit :class:`DoseTable` (one row per administration, sorted by day, cut at the follow-up) and
:func:`to_events` turns the table into solver events with the :mod:`~celltrial.protocols.doses` helpers.
Days count from day 0 (the first infusion in scenario files); offsets inside Repeat, Cycle and Sequence are
relative to where that repetition, cycle or step starts.

Example:
    >>> ft516 = Regimen.model_validate({"items": [{"cycle": [{"action": "infusion", "day": d} for d in (0, 7, 14)],
    ...                                             "length_days": 28, "cycles": 2}]})
    >>> ft516.realise(365).day.tolist()
    [0.0, 7.0, 14.0, 28.0, 35.0, 42.0]
"""

from __future__ import annotations

import difflib
import inspect
import itertools
import math
from dataclasses import dataclass
from typing import Annotated, ClassVar, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, model_validator

from ..errors import InputError, did_you_mean
from . import doses

Action = Literal["infusion", "lymphodepletion", "radiotherapy", "anti_pd1", "adcc_antibody", "safety_switch",
                 "tocilizumab"]
ACTIONS = Action.__args__
#: The usual dose (mg) of each drug when ``amount`` is left out: the defaults of the doses.py helpers.
USUAL_MG = {a: float(inspect.signature(getattr(doses, a)).parameters["mg"].default)
            for a in ("anti_pd1", "adcc_antibody")}
NO_AMOUNT = ("lymphodepletion", "safety_switch", "tocilizumab")
MAX_ROWS = 100_000
_EPS = 1e-9  # tolerance of "start <= until_day" against float round-off


def _day(description, default=0.0, **kw):
    return Field(default, ge=0, description=description, json_schema_extra={"unit": "day"}, **kw)


class _Strict(BaseModel):
    """Items implement _span (last day), _earliest (first day), _emit (rows before ``end``), _shifted."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Give(_Strict):
    """One administration: an infusion, Flu/Cy lymphodepletion, a radiotherapy fraction or a drug dose."""

    action: Action = Field(description="what is given")
    day: float = _day("day of the administration (relative to the enclosing item's start)")
    amount: float | None = Field(
        None, gt=0, description="infusion: multiple of the arm's product dose (default 1); radiotherapy: Gy per "
        "fraction (required, <= 30); anti_pd1, adcc_antibody: mg (default: the usual dose); others: not set",
        json_schema_extra={"unit": "dose multiple, Gy or mg"})
    label: str = Field("", max_length=80, description="a name for reports and error messages")

    @model_validator(mode="after")
    def _amount(self):
        if self.action == "radiotherapy" and (self.amount is None or self.amount > 30):
            raise ValueError(f"a radiotherapy fraction needs amount: Gy per fraction in (0, 30], got {self.amount}")
        if self.action in NO_AMOUNT and self.amount is not None:
            raise ValueError(f"amount does not apply to {self.action}; leave it out")
        return self

    def realised_amount(self) -> float:
        """The amount written into the dose table (defaults filled in; NaN where none applies)."""
        if self.action in NO_AMOUNT:
            return math.nan
        if self.amount is not None:
            return float(self.amount)
        return 1.0 if self.action == "infusion" else USUAL_MG[self.action]

    def _span(self):
        return self.day

    def _earliest(self):
        return self.day

    def _emit(self, offset, end, out, where):
        if offset + self.day < end:
            out.append((offset + self.day, self.action, self.realised_amount(), self.label))
            if len(out) > MAX_ROWS:
                raise InputError(f"{where}: the regimen gives more than {MAX_ROWS} administrations before "
                                 f"day {end:g}; check every_days and until_day")

    def _shifted(self, s, where):
        if self.day + s < 0:
            raise InputError(f"{where} ({self.action}{' ' + repr(self.label) if self.label else ''} on day "
                             f"{self.day:g}) would fall on day {self.day + s:g}, before day 0")
        return self.model_copy(update={"day": self.day + s})


class _Repeated(_Strict):
    """Shared by Repeat and Cycle: items repeated ``count`` times every ``every`` days from start_day (_plan)."""

    def _plan(self):  # (items, every, count)
        raise NotImplementedError

    def _span(self):
        items, every, count = self._plan()
        return self.start_day + (count - 1) * every + max(x._span() for x in items)

    def _earliest(self):
        return self.start_day + min(x._earliest() for x in self._plan()[0])

    def _emit(self, offset, end, out, where):
        items, every, count = self._plan()
        first = min(x._earliest() for x in items)
        for i in range(count):
            start = offset + self.start_day + i * every
            if start + first >= end:
                break
            for k, x in enumerate(items):
                x._emit(start, end, out, f"{where}.{self._key}[{k}]")

    def _shifted(self, s, where):
        start = max(self.start_day + s, 0.0)  # what start_day cannot absorb moves the items
        moved, rest = start - self.start_day, s - (start - self.start_day)
        update = {"start_day": start, self._key: [x._shifted(rest, f"{where}.{self._key}[{k}]") if rest else x
                                                 for k, x in enumerate(self._plan()[0])]}
        if getattr(self, "until_day", None) is not None:
            update["until_day"] = self.until_day + moved
        return self.model_copy(update=update)


class Repeat(_Repeated):
    """Items repeated every ``every_days`` from ``start_day``: ``times`` times, or while the start <= ``until_day``."""

    repeat: list[Item] = Field(min_length=1, description="items of one repetition (days relative to its start)")
    every_days: float = Field(gt=0, description="interval between repetition starts", json_schema_extra={"unit": "day"})
    times: int | None = Field(None, ge=1, le=MAX_ROWS, strict=True, description="number of repetitions")
    until_day: float | None = Field(None, ge=0, description="last allowed repetition start (also capped by the "
                                    "follow-up)", json_schema_extra={"unit": "day"})
    start_day: float = _day("start of the first repetition")
    _key: ClassVar[str] = "repeat"

    @model_validator(mode="after")
    def _one_end(self):
        if (self.times is None) == (self.until_day is None):
            raise ValueError("give exactly one of times (number of repetitions) and until_day (last start day)")
        if self.until_day is not None and self.until_day < self.start_day:
            raise ValueError(f"until_day ({self.until_day:g}) is before start_day ({self.start_day:g})")
        return self

    def _plan(self):
        count = self.times or int(math.floor((self.until_day - self.start_day) / self.every_days + _EPS)) + 1
        return self.repeat, self.every_days, count


class Cycle(_Repeated):
    """Oncology cycles: the items (days within the cycle) given in ``cycles`` cycles of ``length_days``."""

    cycle: list[Item] = Field(min_length=1, description="items of one cycle (days from the cycle's day 0)")
    length_days: float = Field(gt=0, description="cycle length", json_schema_extra={"unit": "day"})
    cycles: int = Field(ge=1, le=10_000, strict=True, description="number of cycles")
    start_day: float = _day("start of the first cycle")
    _key: ClassVar[str] = "cycle"

    @model_validator(mode="after")
    def _fits(self):
        last = max(x._span() for x in self.cycle)
        if last >= self.length_days:
            raise ValueError(f"the cycle's items reach day {last:g}, not inside a cycle of {self.length_days:g} days")
        return self

    def _plan(self):
        return self.cycle, self.length_days, self.cycles


class Sequence(_Strict):
    """Items one after another: each starts ``gap_days`` after the previous item's last administration."""

    sequence: list[Item] = Field(min_length=1, description="the items in order")
    gap_days: float = _day("days from an item's last administration to the next item's start")

    def _offsets(self):
        out, o = [], 0.0
        for x in self.sequence:
            out.append(o)
            o += x._span() + self.gap_days
        return out

    def _span(self):
        return self._offsets()[-1] + self.sequence[-1]._span()

    def _earliest(self):
        return self.sequence[0]._earliest()

    def _emit(self, offset, end, out, where):
        for k, (o, x) in enumerate(zip(self._offsets(), self.sequence, strict=True)):
            if offset + o >= end:
                break
            x._emit(offset + o, end, out, f"{where}.sequence[{k}]")

    def _shifted(self, s, where):
        return self.model_copy(update={"sequence": [self.sequence[0]._shifted(s, f"{where}.sequence[0]"),
                                                    *self.sequence[1:]]})


_KEYS = {"action": "Give", "repeat": "Repeat", "cycle": "Cycle", "sequence": "Sequence"}
_FIELDS = {"day": "Give", "amount": "Give", "label": "Give", "every_days": "Repeat", "times": "Repeat",
           "until_day": "Repeat", "length_days": "Cycle", "cycles": "Cycle", "gap_days": "Sequence"}


def _item_kind(v):
    """The member an item is validated as: by its key (action/repeat/cycle/sequence), a misspelling of one,
    or a field only one member has, so that errors name that member's fields alone."""
    if isinstance(v, dict):
        keys = [str(k) for k in v]
        for key, tag in _KEYS.items():
            if key in v:
                return tag
        for key in keys:
            close = difflib.get_close_matches(key, list(_KEYS), n=1, cutoff=0.6)
            if close:
                return _KEYS[close[0]]
        return next((_FIELDS[k] for k in keys if k in _FIELDS), None)
    return type(v).__name__ if isinstance(v, (Give, Repeat, Cycle, Sequence)) else None


Item = Annotated[
    Annotated[Give, Tag("Give")] | Annotated[Repeat, Tag("Repeat")] | Annotated[Cycle, Tag("Cycle")]
    | Annotated[Sequence, Tag("Sequence")],
    Discriminator(_item_kind, custom_error_type="regimen_item",
                  custom_error_message="an item needs one of the keys 'action' (one administration), 'repeat', "
                                       "'cycle' or 'sequence'")]


class Regimen(_Strict):
    """What a patient receives: administrations, repeats, cycles and sequences, all from day 0."""

    items: list[Item] = Field(min_length=1, description="the regimen's items (Give, Repeat, Cycle, Sequence)")

    def realise(self, follow_up_days: float) -> DoseTable:
        """The explicit dose table: every administration before ``follow_up_days``, sorted by day."""
        if not isinstance(follow_up_days, (int, float)) or not math.isfinite(follow_up_days) or follow_up_days <= 0:
            raise InputError(f"follow_up_days must be a positive number of days, got {follow_up_days!r}")
        out = []
        for k, x in enumerate(self.items):
            x._emit(0.0, float(follow_up_days), out, f"items[{k}]")
        return DoseTable.from_rows(out)

    def shift(self, days: float) -> Regimen:
        """The same regimen with every administration ``days`` later (earlier when negative; InputError before 0)."""
        if not isinstance(days, (int, float)) or not math.isfinite(days):
            raise InputError(f"shift: days must be a finite number, got {days!r}")
        return self.model_copy(update={"items": [x._shifted(days, f"items[{k}]") for k, x in enumerate(self.items)]})

    def span_days(self) -> float:
        """Day of the last administration (ignoring the follow-up)."""
        return max(x._span() for x in self.items)


for _m in (Repeat, Cycle, Sequence, Regimen):
    _m.model_rebuild()


_COLUMNS, _TYPES = ("day", "action", "amount", "label"), (float, str, float, str)


@dataclass(frozen=True, eq=False)
class DoseTable:
    """Realised administrations, one row each: ``day`` (sorted; on equal days lymphodepletion first, then the
    written order), ``action``, ``amount`` (dose multiple, Gy or mg; NaN where none applies) and ``label``."""

    day: np.ndarray
    action: np.ndarray
    amount: np.ndarray
    label: np.ndarray

    def __post_init__(self):
        cols = {n: np.array(getattr(self, n), dtype=t) for n, t in zip(_COLUMNS, _TYPES, strict=True)}
        if len({c.shape for c in cols.values()}) != 1 or cols["day"].ndim != 1:
            raise InputError("DoseTable: day, action, amount and label must be 1-d arrays of one length")
        for name, c in cols.items():
            c.flags.writeable = False
            object.__setattr__(self, name, c)

    @classmethod
    def from_rows(cls, rows) -> DoseTable:
        """Sort (day, action, amount, label) tuples: by day, lymphodepletion first on a day, then given order."""
        rows = list(rows)
        day = np.array([r[0] for r in rows], dtype=float)
        rank = np.array([r[1] != "lymphodepletion" for r in rows], dtype=int)
        order = np.lexsort((np.arange(len(rows)), rank, day))
        pick = [rows[i] for i in order]
        return cls(*([r[j] for r in pick] for j in range(4)))

    def __len__(self) -> int:
        return len(self.day)

    def __eq__(self, other) -> bool:
        if not isinstance(other, DoseTable):
            return NotImplemented
        return (np.array_equal(self.day, other.day) and np.array_equal(self.action, other.action)
                and np.array_equal(self.amount, other.amount, equal_nan=True)
                and np.array_equal(self.label, other.label))

    def rows(self) -> list[dict]:
        """One dict per row: day, action, amount (None where none applies), label."""
        return [{"day": float(d), "action": str(a), "amount": None if math.isnan(m) else float(m), "label": str(lb)}
                for d, a, m, lb in zip(self.day, self.action, self.amount, self.label, strict=True)]

    def of(self, action: str) -> DoseTable:
        """The rows of one action."""
        if action not in ACTIONS:
            raise InputError(f"unknown action {action!r}{did_you_mean(action, ACTIONS)}; one of {list(ACTIONS)}")
        return DoseTable(*(getattr(self, n)[self.action == action] for n in _COLUMNS))

    def before(self, day: float) -> DoseTable:
        """The rows strictly before ``day`` (e.g. the follow-up end after a shift)."""
        keep = self.day < day
        return DoseTable(*(getattr(self, n)[keep] for n in _COLUMNS))

    def shift(self, days: float) -> DoseTable:
        """Every row ``days`` later; InputError if a row would fall before day 0."""
        if not isinstance(days, (int, float)) or not math.isfinite(days):
            raise InputError(f"shift: days must be a finite number, got {days!r}")
        day = self.day + days
        if len(day) and day.min() < 0:
            i = int(np.argmin(day))
            raise InputError(f"shifting by {days:g} days moves {self.action[i]} {self.label[i]!r} on day "
                             f"{self.day[i]:g} to day {day[i]:g}, before day 0")
        return DoseTable(day, self.action, self.amount, self.label)


def to_events(table: DoseTable, *, dose_cells: float, kind: Literal["t_cell", "nk_cell"], weight_kg: float,
              depletion: tuple | None = None) -> list:
    """Solver events of a dose table, in its order: infusions of ``dose_cells`` x amount (T or NK cells),
    lymphodepletion, radiotherapy fractions (amount Gy), drug doses (amount mg), safety switch, tocilizumab by
    weight. ``depletion`` = ((host T left, CD4 help left) of the first course, (the same) of later courses),
    from :class:`~celltrial.protocols.conditioning.Conditioning`; None: the reference Flu/Cy every time."""
    if kind not in ("t_cell", "nk_cell"):
        raise InputError(f"kind must be 't_cell' or 'nk_cell', got {kind!r}")
    infuse = doses.t_cell_infusion if kind == "t_cell" else doses.nk_infusion
    # the first course's depth, then the later courses' (none given: the helper's reference Flu/Cy)
    courses = iter(()) if depletion is None else itertools.chain([depletion[0]], itertools.repeat(depletion[1]))

    def deplete(day, _):
        return [doses.lymphodepletion(day, *next(courses, ()))]

    make = {"infusion": lambda d, m: [infuse(d, dose_cells * m)], "radiotherapy": doses.radiotherapy,
            "lymphodepletion": deplete, "anti_pd1": doses.anti_pd1,
            "adcc_antibody": doses.adcc_antibody, "safety_switch": lambda d, m: [doses.safety_switch(d)],
            "tocilizumab": lambda d, m: [doses.tocilizumab(d, weight_kg)]}
    return [e for d, a, m in zip(table.day, table.action, table.amount, strict=True)
            for e in make[str(a)](float(d), float(m))]


def _get(obj, name):
    return obj.get(name) if isinstance(obj, dict) else getattr(obj, name)


def from_simple(infusion_days, lymphodepletion_days=(), radiotherapy=None, anti_pd1=None, adcc_antibody=None,
                safety_switch_days=()) -> Regimen:
    """The regimen of the scenario schema's fields: infusions on ``infusion_days``; Flu/Cy on explicit days or
    ``"first"`` / ``"every"`` / ``"none"`` (placed on the infusion day, its nadir, before the infusion);
    ``radiotherapy`` ({days, dose_gy}), ``anti_pd1`` / ``adcc_antibody`` ({days, mg}) objects or dicts."""
    infusion_days = [float(d) for d in infusion_days]
    if isinstance(lymphodepletion_days, str):
        modes = {"first": infusion_days[:1], "every": infusion_days, "none": []}
        if lymphodepletion_days not in modes:
            raise InputError(f"lymphodepletion must be days or one of {list(modes)}, got {lymphodepletion_days!r}")
        lymphodepletion_days = modes[lymphodepletion_days]
    items = [Give(action="lymphodepletion", day=d) for d in lymphodepletion_days]
    items += [Give(action="infusion", day=d) for d in infusion_days]
    if radiotherapy is not None:
        items += [Give(action="radiotherapy", day=d, amount=_get(radiotherapy, "dose_gy"))
                  for d in _get(radiotherapy, "days")]
    for action, drug in (("anti_pd1", anti_pd1), ("adcc_antibody", adcc_antibody)):
        if drug is not None:
            items += [Give(action=action, day=d, amount=_get(drug, "mg")) for d in _get(drug, "days")]
    items += [Give(action="safety_switch", day=d) for d in safety_switch_days]
    return Regimen(items=items)


def from_schema(regimen, product_lymphodepletion: bool = False) -> Regimen:
    """The algebra form of a scenario :class:`~celltrial.scenarios.schema.Regimen` (``lymphodepletion_before:
    product`` resolved with ``product_lymphodepletion``, the product preset's flag)."""
    mode = regimen.lymphodepletion_before
    mode = ("first" if product_lymphodepletion else "none") if mode == "product" else mode
    return from_simple(regimen.infusion_days, mode, regimen.radiotherapy, regimen.anti_pd1, regimen.adcc_antibody,
                       regimen.safety_switch_days)
