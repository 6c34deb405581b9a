"""Initial values of an imported model, as expressions of its parameters.

At the start time everything in an SBML model is a function of constants, so each state's
initial value can be declared as an expression of celltrial parameters (a trial that varies a
parameter then moves the initial values that depend on it, as the SBML file says). Initial
assignments and assignment rules are resolved recursively (cycles are refused); species
initial amounts and concentrations are converted to the species' own units (concentration
unless hasOnlySubstanceUnits) with the compartment's initial size.

Example:
    >>> # see tests/sbml_import/test_import.py: an initialAssignment S1 = 2*k1 becomes initial "2*k1"
"""

from __future__ import annotations

import math

import sympy as sp

from ..errors import SBMLImportError
from .mathml import number, to_sympy


class Initial:
    """Initial-value resolver over a :class:`~celltrial.sbml_import.build.Builder`'s classification."""

    def __init__(self, builder):
        self.b = builder
        self._memo: dict = {}
        self._stack: list = []
        self._values: dict = {}
        self.symbols = {sid: (lambda s=sid: self.expr(s)) for sid in builder.entities if "/" not in sid}
        self.symbols.update({rid: (lambda r=rid: self.kinetic(r)) for rid in builder.reactions})

    def expr(self, sid: str) -> sp.Expr:
        """The value of ``sid`` at the start, in parameters without initial assignments."""
        if sid in self._memo:
            return self._memo[sid]
        if sid in self._stack:
            raise SBMLImportError(f"initial values refer to each other in a cycle: {' -> '.join([*self._stack, sid])}")
        self._stack.append(sid)
        try:
            ent = self.b.entities[sid]
            if sid in self.b.initial_assignments:
                where = f"<initialAssignment symbol={sid!r}>"
                value = to_sympy(self.b.initial_assignments[sid], self.symbols, where, sp.Integer(0), self.b.functions)
            elif sid in self.b.assignment_rules:
                where = f"<assignmentRule variable={sid!r}>"
                value = to_sympy(self.b.assignment_rules[sid], self.symbols, where, sp.Integer(0), self.b.functions)
            elif ent.kind == "parameter":
                value = ent.symbol
            elif ent.kind == "undefined":
                value = self.attribute(sid)  # refuses, naming the element
            else:
                value = self.attribute(sid)
        finally:
            self._stack.pop()
        self._memo[sid] = value
        return value

    def kinetic(self, rid: str) -> sp.Expr:
        """A reaction's rate at the start (a reaction id used in math stands for its rate)."""
        return self.b.kinetic_law(rid, self.symbols, sp.Integer(0))

    def attribute(self, sid: str) -> sp.Expr:
        """The start value the element's own attributes give (value, size, initial amount/concentration)."""
        ent = self.b.entities[sid]
        obj = ent.obj
        if ent.element == "species":
            return self._species(sid, obj)
        if ent.element == "compartment":
            if not obj.isSetSize():
                raise SBMLImportError(f"<compartment id={sid!r}>: has no size and no initialAssignment")
            return number(obj.getSize())
        if ent.element == "speciesReference":
            if not obj.isSetStoichiometry():
                raise SBMLImportError(f"<speciesReference id={sid!r}>: has no stoichiometry")
            return number(obj.getStoichiometry())
        if not obj.isSetValue():
            raise SBMLImportError(f"<{ent.element} id={sid!r}>: has no value and no initialAssignment or rule")
        return number(obj.getValue())

    def _species(self, sid, obj):
        hosu = self.b.in_amounts(obj)
        if obj.isSetInitialAmount():
            amount = number(obj.getInitialAmount())
            return amount if hosu else amount / self.expr(obj.getCompartment())
        if obj.isSetInitialConcentration():
            conc = number(obj.getInitialConcentration())
            return conc * self.expr(obj.getCompartment()) if hosu else conc
        raise SBMLImportError(f"<species id={sid!r}>: has no initial amount or concentration and no "
                              "initialAssignment or rule")

    def value(self, sid: str) -> float:
        """The number a celltrial parameter for ``sid`` starts at."""
        if sid in self._values:
            return self._values[sid]
        ent = self.b.entities[sid]
        expr = self.expr(sid) if sid in self.b.initial_assignments else self.attribute(sid)
        out = self.evaluate(expr, f"<{ent.element} id={sid!r}>")
        self._values[sid] = out
        return out

    def evaluate(self, expr, where: str) -> float:
        """Evaluate an expression of parameters at their start values."""
        subs = {s: number(self.value(self.b.by_name[s.name])) for s in expr.free_symbols}
        try:
            out = float(sp.sympify(expr).xreplace(subs))
        except (TypeError, ValueError):
            raise SBMLImportError(f"{where}: start value {expr} does not evaluate to a number") from None
        return out if math.isfinite(out) else _nonfinite(where, out)


def _nonfinite(where, value):
    raise SBMLImportError(f"{where}: start value is {value}; celltrial parameters must be finite")
