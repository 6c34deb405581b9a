"""Discrete events: boluses, state scalings, parameter switches - packed per patient.

Events are the only way time enters a model: the solver lands exactly on each event time,
applies the events there in the order given, and continues. Piecewise-constant time-varying
parameters (a drug switched on and off, a radiotherapy window) are :class:`SetParameter`
events. A value saved at an event time is the post-event value.

Example:
    >>> dose = Bolus.split(0.0, 1e8, {"S": 0.2, "E": 0.8})
    >>> dose.amounts
    {'S': 20000000.0, 'E': 80000000.0}
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..errors import InputError, did_you_mean

EV_ADD, EV_SET_PARAM, EV_SCALE, EV_SET_STATE = 0, 1, 2, 3


def _check_time(kind, time):
    if not isinstance(time, (int, float, np.floating, np.integer)) or not math.isfinite(time):
        raise InputError(f"{kind}: time must be a finite number of days, got {time!r}")


def _check_values(kind, values, what):
    if not isinstance(values, dict) or not values:
        raise InputError(f"{kind}: give a non-empty dict of {what}")
    for name, v in values.items():
        if not isinstance(v, (int, float, np.floating, np.integer)) or not math.isfinite(v):
            raise InputError(f"{kind}: value for {name!r} must be a finite number, got {v!r}")


@dataclass(frozen=True)
class Bolus:
    """Add amounts to states at ``time`` (days), e.g. a cell infusion or a drug dose."""

    time: float
    amounts: dict

    def __post_init__(self):
        _check_time("Bolus", self.time)
        _check_values("Bolus", self.amounts, "state amounts")

    @classmethod
    def split(cls, time: float, total: float, composition: dict) -> Bolus:
        """A dose of ``total`` split over states by ``composition`` fractions (summing to 1)."""
        s = sum(composition.values())
        if not math.isclose(s, 1.0, rel_tol=0, abs_tol=1e-9):
            raise InputError(f"Bolus.split: composition fractions sum to {s}, not 1: {composition}")
        return cls(time, {k: float(total) * float(f) for k, f in composition.items()})

    def records(self):
        return [(self.time, EV_ADD, "state", n, float(v)) for n, v in self.amounts.items()]


@dataclass(frozen=True)
class ScaleState:
    """Multiply states by factors at ``time``, e.g. a radiotherapy fraction's surviving fraction."""

    time: float
    factors: dict

    def __post_init__(self):
        _check_time("ScaleState", self.time)
        _check_values("ScaleState", self.factors, "state factors")
        for n, f in self.factors.items():
            if f < 0:
                raise InputError(f"ScaleState: factor for {n!r} is negative ({f}); use a fraction >= 0")

    def records(self):
        return [(self.time, EV_SCALE, "state", n, float(v)) for n, v in self.factors.items()]


@dataclass(frozen=True)
class SetState:
    """Set states to values at ``time`` (rarely needed; prefer Bolus or ScaleState)."""

    time: float
    values: dict

    def __post_init__(self):
        _check_time("SetState", self.time)
        _check_values("SetState", self.values, "state values")

    def records(self):
        return [(self.time, EV_SET_STATE, "state", n, float(v)) for n, v in self.values.items()]


@dataclass(frozen=True)
class SetParameter:
    """Switch parameters to new values from ``time`` on (piecewise-constant parameters)."""

    time: float
    values: dict

    def __post_init__(self):
        _check_time("SetParameter", self.time)
        _check_values("SetParameter", self.values, "parameter values")

    def records(self):
        return [(self.time, EV_SET_PARAM, "parameter", n, float(v)) for n, v in self.values.items()]


def apply_event(kind: int, key, value: float, y, p) -> None:
    """Apply one event record to states ``y`` / parameters ``p`` (arrays by index or dicts by name).

    The Python twin of the kernel's ``apply_due_events``, for reference solvers and exporters.
    """
    if kind == EV_ADD:
        y[key] += value
    elif kind == EV_SCALE:
        y[key] *= value
    elif kind == EV_SET_STATE:
        y[key] = value
    else:
        p[key] = value


def piecewise_parameter(name: str, times, values) -> list:
    """Events making parameter ``name`` equal values[i] from times[i] on."""
    if len(times) != len(values):
        raise InputError(f"piecewise_parameter {name!r}: {len(times)} times but {len(values)} values")
    return [SetParameter(float(t), {name: float(v)}) for t, v in zip(times, values, strict=True)]


@dataclass
class PackedEvents:
    """Per-patient event arrays, padded with +inf times; rows are sorted by time (stable)."""

    time: np.ndarray  # (n, m) float64
    kind: np.ndarray  # (n, m) int64
    index: np.ndarray  # (n, m) int64
    value: np.ndarray  # (n, m) float64
    count: np.ndarray  # (n,) int64


def _lookups(model):
    return ({n: i for i, n in enumerate(model.state_names)}, {n: i for i, n in enumerate(model.parameter_names)},
            {s.name for s in model.states if s.nonnegative})


def _resolve(lookups, records, where):
    states, params, nonneg = lookups
    out = []
    for t, kind, space, name, value in records:
        names = states if space == "state" else params
        if name not in names:
            raise InputError(f"{where}: unknown {space} {name!r}{did_you_mean(name, names)}")
        if kind == EV_ADD and value < 0 and name in nonneg:
            raise InputError(f"{where}: negative amount {value} added to non-negative state {name!r}")
        out.append((float(t), kind, names[name], value))
    return out


def pack_events(model, n_patients: int, events=(), per_patient=None) -> PackedEvents:
    """Pack events shared by all patients plus optional per-patient lists into arrays.

    Args:
        model: the declared model (for name lookup).
        n_patients: batch size.
        events: events given to every patient.
        per_patient: None, or a sequence of ``n_patients`` event lists.
    """
    lookups = _lookups(model)
    common = sorted(_resolve(lookups, [r for e in events for r in e.records()], "event"), key=lambda r: r[0])
    packed = _broadcast(common, n_patients)
    if per_patient is None:
        return packed
    if len(per_patient) != n_patients:
        raise InputError(f"per_patient events: expected {n_patients} lists, got {len(per_patient)}")
    rows = [
        _resolve(lookups, [r for e in own for r in e.records()], f"event of patient {i}") if own else []
        for i, own in enumerate(per_patient)
    ]
    return concat_sorted(packed, _to_arrays(rows))


def _broadcast(records, n) -> PackedEvents:
    m = max(len(records), 1)
    row_t = np.full(m, np.inf)
    row_k = np.zeros(m, np.int64)
    row_i = np.zeros(m, np.int64)
    row_v = np.zeros(m)
    for j, (t, kind, idx, val) in enumerate(records):
        row_t[j], row_k[j], row_i[j], row_v[j] = t, kind, idx, val
    tile = lambda a: np.array(np.broadcast_to(a, (n, m)), order="C")  # noqa: E731 - writable, C order
    return PackedEvents(tile(row_t), tile(row_k), tile(row_i), tile(row_v), np.full(n, len(records), np.int64))


def _to_arrays(rows) -> PackedEvents:
    n = len(rows)
    m = max([len(r) for r in rows] + [1])
    packed = PackedEvents(
        time=np.full((n, m), np.inf),
        kind=np.zeros((n, m), np.int64),
        index=np.zeros((n, m), np.int64),
        value=np.zeros((n, m)),
        count=np.array([len(r) for r in rows], np.int64),
    )
    for i, row in enumerate(rows):
        for j, (t, kind, idx, val) in enumerate(row):
            packed.time[i, j], packed.kind[i, j], packed.index[i, j], packed.value[i, j] = t, kind, idx, val
    return packed


def concat_sorted(first: PackedEvents, second: PackedEvents) -> PackedEvents:
    """Merge two packings row by row, sorted by time; on equal times ``first`` comes first.

    Events a patient has already passed are never reordered: they are at the front of
    ``first`` and no later event can precede them.
    """
    time = np.concatenate([first.time, second.time], axis=1)
    order = np.argsort(time, axis=1, kind="stable")

    def take(a, b):
        return np.ascontiguousarray(np.take_along_axis(np.concatenate([a, b], axis=1), order, axis=1))

    return PackedEvents(
        time=take(first.time, second.time),
        kind=take(first.kind, second.kind),
        index=take(first.index, second.index),
        value=take(first.value, second.value),
        count=first.count + second.count,
    )


def drop_applied(events: PackedEvents, applied: np.ndarray) -> PackedEvents:
    """The packing without each row's first ``applied[i]`` events (already applied), shifted left.

    Keeps the arrays narrow when a policy schedules events over many segments.
    """
    applied = np.asarray(applied, dtype=np.int64)
    if not applied.any():
        return events
    width = max(int((events.count - applied).max(initial=0)), 1)
    cols = applied[:, None] + np.arange(width)[None, :]
    valid = cols < events.count[:, None]
    cols = np.minimum(cols, events.time.shape[1] - 1)

    def take(a, fill):
        return np.ascontiguousarray(np.where(valid, np.take_along_axis(a, cols, axis=1), fill))

    return PackedEvents(take(events.time, np.inf), take(events.kind, 0), take(events.index, 0),
                        take(events.value, 0.0), events.count - applied)
