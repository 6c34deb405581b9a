"""Validation helpers shared by the cohort spec objects; every message names the field and value.

Example:
    >>> real("Normal", "sd", 2, positive=True)
    2.0
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from ..errors import InputError, did_you_mean


def real(owner: str, field: str, value, *, positive: bool = False, optional: bool = False):
    """``value`` as a finite float (or None when ``optional``), else InputError."""
    if value is None and optional:
        return None
    ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))
    if ok:
        value = float(value)
        ok = math.isfinite(value) and (value > 0 or not positive)
    if not ok:
        wanted = "a positive finite number" if positive else "a finite number"
        raise InputError(
            f"{owner}: `{field}` must be {wanted}{' or None' if optional else ''}, got {value!r}"
        )
    return value


def identifier(owner: str, field: str, value) -> str:
    if not isinstance(value, str) or not value.isidentifier():
        raise InputError(f"{owner}: `{field}` must be a name (letters, digits, '_'), got {value!r}")
    return value


def number_map(owner: str, field: str, value, *, positive: bool = False) -> dict:
    """A copy of a dict name -> number, validated."""
    if not isinstance(value, dict):
        raise InputError(f"{owner}: `{field}` must be a dict name -> number, got {type(value).__name__}")
    return {
        identifier(owner, f"{field} key", key): real(owner, f"{field}[{key!r}]", v, positive=positive)
        for key, v in value.items()
    }


def check_known(owner: str, kind: str, names, known) -> None:
    """InputError for the first name of ``names`` not in ``known``, with a did-you-mean hint."""
    known = tuple(known)
    for name in names:
        if name not in known:
            listing = f"; known: {', '.join(map(str, known))}" if len(known) <= 12 else ""
            raise InputError(f"{owner}: unknown {kind} {name!r}{did_you_mean(name, known)}{listing}")


def build(cls, data, owner: str):
    """``cls(**data)`` after checking the keys of ``data`` against the dataclass fields."""
    if not isinstance(data, dict):
        raise InputError(f"{owner}: expected a mapping, got {type(data).__name__}: {data!r:.80}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    check_known(owner, "field", data, fields)
    missing = [
        name
        for name, f in fields.items()
        if name not in data and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    ]
    if missing:
        raise InputError(f"{owner}: missing field(s) {', '.join(map(repr, missing))}")
    return cls(**data)
