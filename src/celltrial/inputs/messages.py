"""One line per schema error: the field's path, what is wrong, the bad value and what is allowed.

:func:`format_validation` turns a pydantic ``ValidationError`` into the messages every input
reader shows: union tags (``Give``, ``maintenance``) are dropped from the path, an unknown field
lists the fields allowed at that place with a "did you mean", and a bound error states the whole
allowed range (``>= 0, <= 3650``). At most :data:`MAX_ERRORS_SHOWN` lines are listed, so a file
with thousands of mistakes is answered quickly.

Example:
    >>> from pydantic import BaseModel, Field, ValidationError
    >>> class M(BaseModel):
    ...     days: list[float] = Field([], json_schema_extra={"unit": "day"})
    ...     x: float = Field(1.0, ge=0, le=10)
    >>> try:
    ...     M.model_validate({"x": 11})
    ... except ValidationError as exc:
    ...     print(format_validation(exc, "f.yaml", "file", M))
    f.yaml is not a valid file:
      - x: Input should be less than or equal to 10 (got 11); allowed: >= 0, <= 10
"""

from __future__ import annotations

import types
import typing

import annotated_types as at
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from ..errors import did_you_mean

#: Most problems listed in one message (the rest are counted).
MAX_ERRORS_SHOWN = 25

_BOUNDS = ((at.Gt, "gt", ">"), (at.Ge, "ge", ">="), (at.Lt, "lt", "<"), (at.Le, "le", "<="))
_BOUND_ERRORS = ("greater_than", "greater_than_equal", "less_than", "less_than_equal")


def unwrap(annotation) -> tuple:
    """(members, metadata): the union members of ``annotation`` (each with its tag or None) and the
    constraints written on it with ``Annotated``."""
    metadata, members = [], []
    stack = [(annotation, None)]
    while stack:
        a, tag = stack.pop(0)
        if typing.get_origin(a) is typing.Annotated:
            inner, *meta = typing.get_args(a)
            tag = next((m.tag for m in meta if hasattr(m, "tag") and isinstance(m.tag, str)), tag)
            metadata += [x for m in meta for x in (m.metadata if isinstance(m, FieldInfo) else [m])]
            stack.append((inner, tag))
        elif typing.get_origin(a) in (typing.Union, types.UnionType):
            stack += [(x, None) for x in typing.get_args(a) if x is not type(None)]
        else:
            members.append((tag, a))
    return members, metadata


def _literal_tags(model) -> set:
    """Values of the model's Literal fields (e.g. ``kind: "rate"``), which pydantic uses as tags."""
    out = set()
    for field in model.model_fields.values():
        if typing.get_origin(field.annotation) is typing.Literal:
            out |= {str(v) for v in typing.get_args(field.annotation)}
    return out


def walk(root, loc) -> tuple:
    """(path, annotation, constraints) at a pydantic error location below the model ``root``.

    ``path`` is the location without union tags; ``annotation`` is None where the schema cannot be
    followed (an unknown field). ``constraints`` are the bounds of the value found there.
    """
    annotation, constraints, path = root, [], []
    for part in loc:
        if annotation is None:
            path.append(part)
            continue
        members, _ = unwrap(annotation)
        models = [m for _, m in members if isinstance(m, type) and issubclass(m, BaseModel)]
        containers = [m for _, m in members if typing.get_origin(m) in (list, tuple, set, frozenset, dict)]
        field = next((m.model_fields[part] for m in models if isinstance(part, str) and part in m.model_fields), None)
        tagged = [m for t, m in members if part in (t, getattr(m, "__name__", None))
                  or (isinstance(m, type) and issubclass(m, BaseModel) and part in _literal_tags(m))]
        if tagged and len(members) > 1:  # pydantic names the member right after entering a tagged union
            annotation = tagged[0]  # a union tag: the member it names, not a step of the path
        elif field is not None:
            path.append(part)
            annotation, constraints = field.annotation, list(field.metadata)
        elif containers:
            path.append(part)
            args = typing.get_args(containers[0])
            annotation = args[-1] if args else None
            constraints = unwrap(annotation)[1] if annotation is not None else []
        elif models:
            path.append(part)
            annotation, constraints = None, []
        elif not isinstance(part, str) or len(members) <= 1:
            path.append(part)
            annotation = None
        # else: a union branch name of plain types ("float", "function-after[...]"): not a path step
    if annotation is not None:
        constraints = constraints + unwrap(annotation)[1]
    return path, annotation, constraints


def allowed_fields(root, loc) -> list:
    """Names of the fields allowed at ``loc`` (every member of a union), in declaration order."""
    _, annotation, _ = walk(root, loc)
    if annotation is None:
        return []
    names = []
    for _, m in unwrap(annotation)[0]:
        if isinstance(m, type) and issubclass(m, BaseModel):
            names += [n for n in m.model_fields if n not in names]
    return names


def bounds_text(constraints) -> str:
    """The bounds among ``constraints`` in words: ``>= 0, <= 3650`` ('' when there are none)."""
    def text(x):
        return str(x) if isinstance(x, int) else f"{x:g}"  # a 64-bit seed bound stays exact

    return ", ".join(f"{sign} {text(getattr(c, attr))}" for c in constraints for kind, attr, sign in _BOUNDS
                     if isinstance(c, kind))


def format_validation(err, where: str, what: str, root, tag_hint: str = "", prefix: tuple = ()) -> str:
    """The message of a ValidationError of ``root``: ``{where} is not a valid {what}:`` and a line per error.

    ``tag_hint`` replaces pydantic's text when a union tag (e.g. ``kind``) is missing or unknown;
    ``prefix`` is put before every path (``("fit",)`` when ``root`` is a section of the file).
    """
    lines = [f"{where} is not a valid {what}:"]
    errors = err.errors()
    for e in errors[:MAX_ERRORS_SHOWN]:
        path, _, constraints = walk(root, e["loc"])
        text = ".".join(str(x) for x in (*prefix, *path)) or "(top level)"
        message = e["msg"].removeprefix("Value error, ")
        value = e.get("input")
        if e["type"] == "extra_forbidden":
            allowed = allowed_fields(root, e["loc"][:-1])
            lines.append(f"  - {text}: unknown field{did_you_mean(str(path[-1]), allowed)}; "
                         f"allowed here: {', '.join(allowed) if allowed else 'no fields'}")
        elif e["type"] == "missing":
            lines.append(f"  - {text}: missing (required)")
        elif e["type"] in ("union_tag_invalid", "union_tag_not_found") and tag_hint:
            lines.append(f"  - {text}: {tag_hint}")
        elif isinstance(value, dict | list) or repr(value) in message:
            lines.append(f"  - {text}: {message}")
        else:
            lines.append(f"  - {text}: {message} (got {value!r:.80})")
        if e["type"] in _BOUND_ERRORS and bounds_text(constraints):
            lines[-1] += f"; allowed: {bounds_text(constraints)}"
    if len(errors) > MAX_ERRORS_SHOWN:
        lines.append(f"  - ... and {len(errors) - MAX_ERRORS_SHOWN:,} more problems")
    return "\n".join(lines)
