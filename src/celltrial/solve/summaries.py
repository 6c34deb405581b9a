"""Per-patient summaries computed inside the solver kernel, from the dense output.

A million-patient run can keep these alone and store no trajectory. Each summary reads one
quantity (a state or an observable, by name):

* :class:`Max` / :class:`Min` - extreme value and its time (refined by golden-section
  search on the Rodas4 continuous extension, so Cmax/Tmax do not depend on step sizes);
* :class:`AUC` - integral over a window (composite Simpson on the cubic dense output,
  exact for states);
* :class:`FirstCrossing` / :class:`LastCrossing` - time a threshold is crossed (bisection);
* :class:`ValueAt` - value at one time (post-event if an event falls on it).

Example:
    >>> Max("car_per_uL", name="cmax").columns()
    ['cmax', 'cmax_time']
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..errors import InputError, did_you_mean

SU_MAX, SU_MIN, SU_AUC, SU_FIRST_CROSS, SU_LAST_CROSS, SU_VALUE_AT = 0, 1, 2, 3, 4, 5
_DIRECTIONS = {"up": 1, "down": -1, "either": 0}


@dataclass(frozen=True)
class _Summary:
    quantity: str

    def _name(self, default):
        return getattr(self, "name", None) or default

    def columns(self):
        return [self.label]

    def encode(self):
        raise NotImplementedError


@dataclass(frozen=True)
class Max(_Summary):
    """Maximum of a quantity over the whole run and the time it occurs (days)."""

    name: str | None = None

    @property
    def label(self):
        return self._name(f"max_{self.quantity}")

    def columns(self):
        return [self.label, f"{self.label}_time"]

    def encode(self):
        return SU_MAX, -math.inf, math.inf, 0.0, 0


@dataclass(frozen=True)
class Min(Max):
    """Minimum of a quantity over the whole run and the time it occurs (days)."""

    @property
    def label(self):
        return self._name(f"min_{self.quantity}")

    def encode(self):
        return SU_MIN, -math.inf, math.inf, 0.0, 0


@dataclass(frozen=True)
class AUC(_Summary):
    """Area under the quantity's curve over [start, end] days (unit x day)."""

    start: float = 0.0
    end: float = math.inf
    name: str | None = None

    @property
    def label(self):
        return self._name(f"auc_{self.quantity}_{_fmt(self.start)}_{_fmt(self.end)}")

    def encode(self):
        if not self.start < self.end:
            raise InputError(f"AUC of {self.quantity!r}: start {self.start} must be before end {self.end}")
        return SU_AUC, float(self.start), float(self.end), 0.0, 0


@dataclass(frozen=True)
class FirstCrossing(_Summary):
    """First time (after ``after``) the quantity crosses ``threshold``; NaN if never.

    ``direction`` is "down" (falls to or below), "up" (rises to or above) or "either".
    """

    threshold: float = 0.0
    direction: str = "either"
    after: float = -math.inf
    name: str | None = None

    @property
    def label(self):
        return self._name(f"first_{self.direction}_{self.quantity}_{_fmt(self.threshold)}")

    def encode(self):
        if self.direction not in _DIRECTIONS:
            raise InputError(
                f"crossing of {self.quantity!r}: direction {self.direction!r} is not one of {list(_DIRECTIONS)}"
            )
        return SU_FIRST_CROSS, float(self.after), math.inf, float(self.threshold), _DIRECTIONS[self.direction]


@dataclass(frozen=True)
class LastCrossing(FirstCrossing):
    """Last time the quantity crosses ``threshold``; NaN if never."""

    @property
    def label(self):
        return self._name(f"last_{self.direction}_{self.quantity}_{_fmt(self.threshold)}")

    def encode(self):
        return (SU_LAST_CROSS, *FirstCrossing.encode(self)[1:])


@dataclass(frozen=True)
class ValueAt(_Summary):
    """Value of the quantity at ``time`` days."""

    time: float = 0.0
    name: str | None = None

    @property
    def label(self):
        return self._name(f"{self.quantity}_at_{_fmt(self.time)}")

    def encode(self):
        return SU_VALUE_AT, float(self.time), math.inf, 0.0, 0


def _fmt(x):
    return f"{x:g}".replace("+", "")


@dataclass
class PackedSummaries:
    kind: np.ndarray
    quantity: np.ndarray
    a: np.ndarray
    b: np.ndarray
    threshold: np.ndarray
    direction: np.ndarray
    specs: tuple

    def initial_accumulators(self, n: int) -> np.ndarray:
        acc = np.zeros((n, len(self.specs), 2))
        for j, k in enumerate(self.kind):
            if k == SU_MAX:
                acc[:, j, 0] = -np.inf
            elif k == SU_MIN:
                acc[:, j, 0] = np.inf
            if k != SU_AUC:
                acc[:, j, 1] = np.nan
            if k in (SU_FIRST_CROSS, SU_LAST_CROSS, SU_VALUE_AT):
                acc[:, j, 0] = np.nan
        return acc

    def unpack(self, acc: np.ndarray) -> dict:
        out = {}
        for j, spec in enumerate(self.specs):
            cols = spec.columns()
            out[cols[0]] = acc[:, j, 0].copy()
            if len(cols) > 1:
                out[cols[1]] = acc[:, j, 1].copy()
        return out


def pack_summaries(model, summaries) -> PackedSummaries:
    """Encode summary specs as arrays for the kernel; names are checked against the model."""
    index = {n: i for i, n in enumerate(model.quantity_names)}
    rows, seen = [], set()
    for spec in summaries:
        if not isinstance(spec, _Summary):
            raise InputError(f"summaries must be Max/Min/AUC/FirstCrossing/LastCrossing/ValueAt, got {spec!r}")
        if spec.quantity not in index:
            raise InputError(
                f"summary {spec.label!r}: unknown quantity {spec.quantity!r}{did_you_mean(spec.quantity, index)}"
            )
        for col in spec.columns():
            if col in seen:
                raise InputError(f"two summaries produce the column {col!r}; give one of them a `name`")
            seen.add(col)
        rows.append((*spec.encode(), index[spec.quantity]))
    arr = np.array(rows, dtype=object).reshape(len(rows), 6)
    return PackedSummaries(
        kind=arr[:, 0].astype(np.int64),
        a=arr[:, 1].astype(np.float64),
        b=arr[:, 2].astype(np.float64),
        threshold=arr[:, 3].astype(np.float64),
        direction=arr[:, 4].astype(np.int64),
        quantity=arr[:, 5].astype(np.int64),
        specs=tuple(summaries),
    )
