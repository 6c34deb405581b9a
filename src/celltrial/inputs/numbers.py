"""Strict numbers for every input schema: a yes/no is never a number, and numbers are finite.

YAML 1.1 reads ``on``, ``yes`` and ``true`` as booleans and pydantic's lax mode turns a boolean
into 1.0, so ``weight_kg: {mean: on}`` would silently mean 1 kg. :data:`Number` accepts ints,
floats and numeric text (YAML reads ``1e9`` as text) but never a boolean, NaN or infinity;
:data:`Integer` is a strict int (no boolean, no 10.5, no "10"). :func:`coerced_booleans` finds
the same coercion after the fact in schemas declared elsewhere with plain ``float``.

Example:
    >>> from pydantic import TypeAdapter, ValidationError
    >>> TypeAdapter(Number).validate_python("1e9")
    1000000000.0
    >>> try:
    ...     TypeAdapter(Number).validate_python(True)
    ... except ValidationError as exc:
    ...     print(exc.errors()[0]["msg"])
    Value error, true/false (also yes/no, on/off) is not a number; write the number
"""

from __future__ import annotations

import numbers
from typing import Annotated

from pydantic import AllowInfNan, BaseModel, BeforeValidator, Strict


def _not_bool(value):
    if isinstance(value, bool):
        raise ValueError("true/false (also yes/no, on/off) is not a number; write the number")
    return value


#: A finite real number; a boolean is refused, numeric text (``"1e9"``) accepted.
Number = Annotated[float, BeforeValidator(_not_bool), AllowInfNan(False)]
#: An integer, strictly: no boolean, no fraction, no text.
Integer = Annotated[int, Strict()]

_MISSING = object()


def _child(value, key):
    if isinstance(value, BaseModel):
        return getattr(value, key, _MISSING) if isinstance(key, str) else _MISSING
    if isinstance(value, dict):
        return value.get(key, _MISSING)
    if isinstance(value, list | tuple) and isinstance(key, int) and 0 <= key < len(value):
        return value[key]
    return _MISSING


def coerced_booleans(raw, validated, path=()) -> list:
    """Dotted paths where ``raw`` (parsed YAML) holds a boolean that validation turned into a number.

    Example:
        >>> from pydantic import BaseModel
        >>> class M(BaseModel):
        ...     x: float
        ...     flag: bool
        >>> coerced_booleans({"x": True, "flag": True}, M(x=True, flag=True))
        ['x']
    """
    if isinstance(raw, bool):
        coerced = isinstance(validated, numbers.Number) and not isinstance(validated, bool)
        return [".".join(map(str, path))] if coerced else []
    items = raw.items() if isinstance(raw, dict) else enumerate(raw) if isinstance(raw, list) else ()
    out = []
    for key, value in items:
        child = _child(validated, key)
        if child is not _MISSING:
            out += coerced_booleans(value, child, (*path, key))
    return out
