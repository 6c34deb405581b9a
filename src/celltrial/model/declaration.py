"""Declarative building blocks of a celltrial model.

A model is a set of :class:`Module` objects. Each module declares states, parameters,
observables and rate terms; rate terms are expressions (strings in sympy syntax) with a
stoichiometry that says which states they feed or drain, so one process (say tumour
killing) can remove tumour cells and feed ctDNA at once. Everything else - the right-hand
side, its Jacobian, the docs tables and the SBML export - is derived from this declaration.

Time is in days throughout; units are free-text strings shown in docs and exports.

Example:
    >>> growth = Module(
    ...     "growth",
    ...     states=[State("B", "cells", "tumour cells", initial="B0", atol=1e-3)],
    ...     parameters=[
    ...         Parameter("r", 0.1, "1/day", (0.0, 5.0), "net growth rate", "[E] example"),
    ...         Parameter("B0", 1e9, "cells", (0.0, 1e13), "initial burden", "[E] example"),
    ...     ],
    ...     rates=[Rate("proliferation", "r*B", {"B": 1})],
    ... )
    >>> model = Model("toy", [growth])
    >>> model.state_names
    ('B',)
"""

from __future__ import annotations

import keyword
import math
import re
from dataclasses import dataclass, field

from ..errors import DeclarationError

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
# Names that would shadow functions in the expression language or in generated code.
_RESERVED = frozenset({"exp", "log", "sqrt", "tanh", "Abs", "time", "t", "math", "np", "pi"})
OBSERVABLE_KINDS = ("algebraic", "quasi_steady_state")


def _check_name(kind: str, name: str) -> None:
    if not isinstance(name, str) or not _NAME.match(name):
        raise DeclarationError(
            f"{kind} name {name!r} is not a valid identifier; use letters, digits and '_' "
            "starting with a letter"
        )
    if name in _RESERVED or keyword.iskeyword(name):
        raise DeclarationError(f"{kind} name {name!r} is reserved; choose another name")


def _check_text(kind: str, name: str, field_name: str, value: str) -> None:
    if not isinstance(value, str) or not value.strip():
        raise DeclarationError(f"{kind} {name!r}: `{field_name}` is missing; give a non-empty string")


@dataclass(frozen=True)
class State:
    """A dynamic quantity with its own differential equation.

    Args:
        name: identifier used in expressions, outputs and SBML.
        unit: e.g. "cells", "hGE/mL", "mg".
        description: clinical meaning, one line.
        initial: initial value, a number or an expression of parameters (e.g. "B0").
        atol: absolute tolerance in the state's unit; below it the solver stops resolving
            relative accuracy (e.g. 1e-3 cells).
        nonnegative: the quantity can never be negative (cells, concentrations).
    """

    name: str
    unit: str
    description: str
    initial: float | str = 0.0
    atol: float = 1e-6
    nonnegative: bool = True

    def __post_init__(self):
        _check_name("state", self.name)
        _check_text("state", self.name, "unit", self.unit)
        _check_text("state", self.name, "description", self.description)
        if not (isinstance(self.atol, (int, float)) and self.atol > 0 and math.isfinite(self.atol)):
            raise DeclarationError(f"state {self.name!r}: atol must be a positive number, got {self.atol!r}")


@dataclass(frozen=True)
class Parameter:
    """A constant of the model (per patient), with provenance.

    Args:
        name: identifier.
        value: default (typical) value.
        unit: unit string.
        bounds: (lower, upper) plausible range; the default must lie inside.
        description: what it means, in clinical words.
        source: provenance tag and reference, e.g. "[R] Stein 2019 Table 1" or "[E] assumption".
        signed: allow negative values (most parameters are rates or amounts and are not).
    """

    name: str
    value: float
    unit: str
    bounds: tuple[float, float]
    description: str
    source: str
    signed: bool = False

    def __post_init__(self):
        _check_name("parameter", self.name)
        _check_text("parameter", self.name, "unit", self.unit)
        _check_text("parameter", self.name, "description", self.description)
        _check_text("parameter", self.name, "source", self.source)
        try:
            lo, hi = (float(b) for b in self.bounds)
        except (TypeError, ValueError):
            raise DeclarationError(
                f"parameter {self.name!r}: bounds must be a pair (lower, upper), got {self.bounds!r}"
            ) from None
        if not lo <= hi:
            raise DeclarationError(f"parameter {self.name!r}: lower bound {lo} exceeds upper bound {hi}")
        if lo < 0 and not self.signed:
            raise DeclarationError(
                f"parameter {self.name!r}: negative lower bound {lo}; rates and amounts are non-negative"
                " (declare signed=True if the parameter can really be negative)"
            )
        if not (isinstance(self.value, (int, float)) and math.isfinite(self.value)):
            raise DeclarationError(f"parameter {self.name!r}: value must be a finite number")
        if not lo <= self.value <= hi:
            raise DeclarationError(
                f"parameter {self.name!r}: default {self.value} lies outside its bounds [{lo}, {hi}]"
            )
        object.__setattr__(self, "bounds", (lo, hi))


@dataclass(frozen=True)
class Observable:
    """A quantity computed algebraically from states and parameters (no differential equation).

    ``kind="quasi_steady_state"`` marks a fast process replaced by its steady state (e.g. ctDNA
    with a 30-minute half-life tracks shedding almost instantly); ``note`` says what was assumed.
    Observables may be used inside rate expressions and other observables.
    """

    name: str
    expression: str
    unit: str
    description: str
    kind: str = "algebraic"
    note: str = ""

    def __post_init__(self):
        _check_name("observable", self.name)
        _check_text("observable", self.name, "expression", self.expression)
        _check_text("observable", self.name, "unit", self.unit)
        _check_text("observable", self.name, "description", self.description)
        if self.kind not in OBSERVABLE_KINDS:
            raise DeclarationError(
                f"observable {self.name!r}: kind {self.kind!r} is not one of {OBSERVABLE_KINDS}"
            )


@dataclass(frozen=True)
class Rate:
    """A process rate (amount per day) with its effect on states.

    ``stoichiometry`` maps state names to coefficients (numbers or expressions of parameters):
    d(state)/dt gains ``coefficient * expression``.
    """

    name: str
    expression: str
    stoichiometry: dict = field(default_factory=dict)

    def __post_init__(self):
        _check_name("rate", self.name)
        _check_text("rate", self.name, "expression", self.expression)
        if not isinstance(self.stoichiometry, dict) or not self.stoichiometry:
            raise DeclarationError(
                f"rate {self.name!r}: stoichiometry must be a non-empty dict such as {{'B': -1}}"
            )
        for state, coef in self.stoichiometry.items():
            if not isinstance(coef, (int, float, str)):
                raise DeclarationError(
                    f"rate {self.name!r}: coefficient for {state!r} must be a number or an expression"
                )


@dataclass(frozen=True)
class Module:
    """A composable piece of biology: its own states, parameters, observables and rates.

    Rates may refer to names declared in other modules of the same model.
    """

    name: str
    states: list = field(default_factory=list)
    parameters: list = field(default_factory=list)
    observables: list = field(default_factory=list)
    rates: list = field(default_factory=list)
    description: str = ""

    def __post_init__(self):
        _check_name("module", self.name)
        for kind, items, cls in (
            ("states", self.states, State),
            ("parameters", self.parameters, Parameter),
            ("observables", self.observables, Observable),
            ("rates", self.rates, Rate),
        ):
            for item in items:
                if not isinstance(item, cls):
                    raise DeclarationError(
                        f"module {self.name!r}: {kind} must contain {cls.__name__} objects, got {item!r}"
                    )


class Model:
    """A model composed of modules; validated (names, references, cycles) on construction.

    Attributes:
        states, parameters, observables, rates: tuples in declaration order.
        symbolic: the parsed sympy form (see :mod:`celltrial.model.symbolic`).
    """

    def __init__(self, name: str, modules, description: str = ""):
        _check_name("model", name)
        self.name = name
        self.description = description
        self.modules = tuple(modules)
        if not self.modules:
            raise DeclarationError(f"model {name!r} has no modules")
        self.states = self._collect("states")
        self.parameters = self._collect("parameters")
        self.observables = self._collect("observables")
        self.rates = self._collect("rates")
        if not self.states:
            raise DeclarationError(f"model {name!r} declares no states")
        self._check_unique_names()
        from .symbolic import SymbolicModel  # local: sympy work belongs to the symbolic layer

        self.symbolic = SymbolicModel(self)

    def _collect(self, attr):
        return tuple(item for module in self.modules for item in getattr(module, attr))

    def _check_unique_names(self):
        owner = {}
        for module in self.modules:
            for attr in ("states", "parameters", "observables", "rates"):
                for item in getattr(module, attr):
                    if item.name in owner:
                        raise DeclarationError(
                            f"name {item.name!r} is declared twice: in module {owner[item.name]!r} and "
                            f"in module {module.name!r}; declare it once and refer to it by name"
                        )
                    owner[item.name] = module.name
        self.owner = owner

    @property
    def state_names(self) -> tuple:
        return tuple(s.name for s in self.states)

    @property
    def parameter_names(self) -> tuple:
        return tuple(p.name for p in self.parameters)

    @property
    def observable_names(self) -> tuple:
        return tuple(o.name for o in self.observables)

    @property
    def quantity_names(self) -> tuple:
        """States then observables: the index space used for outputs and summaries."""
        return self.state_names + self.observable_names

    def default_parameters(self):
        import numpy as np

        return np.array([p.value for p in self.parameters], dtype=np.float64)

    def fingerprint(self) -> str:
        """A hash of the whole declaration; kernels are cached under it."""
        import hashlib

        text = repr((self.name, [repr(m) for m in self.modules]))
        return hashlib.sha256(text.encode()).hexdigest()[:20]

    def structure_fingerprint(self) -> str:
        """A hash of what the generated kernels depend on: names, expressions, stoichiometry.

        Defaults, bounds, units, descriptions and sources are passed at run time or only
        documented, so editing them never forces a recompile.
        """
        import hashlib

        text = repr((
            self.name,
            [(s.name, str(s.initial)) for s in self.states],
            self.parameter_names,
            [(o.name, o.expression) for o in self.observables],
            [(r.name, r.expression, sorted((k, str(v)) for k, v in r.stoichiometry.items())) for r in self.rates],
        ))
        return hashlib.sha256(text.encode()).hexdigest()[:20]

    def __repr__(self) -> str:
        return (
            f"Model({self.name!r}: {len(self.states)} states, {len(self.parameters)} parameters, "
            f"{len(self.observables)} observables, {len(self.rates)} rates)"
        )
