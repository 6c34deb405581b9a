"""Turn a classified SBML model (:class:`~celltrial.sbml_import.build.Builder`) into celltrial declarations.

Expressions are written as sympy text that the declaration parser reads back exactly (floats
with 17 significant digits); imported states are never clipped at zero (``nonnegative=False``),
since SBML promises no sign.

Example:
    >>> # see tests/sbml_import/test_import.py
"""

from __future__ import annotations

import math
import re

import sympy as sp

from ..model.declaration import Observable, Parameter, Rate, State
from .initial import Initial

_ATOL = 1e-12  # per-state absolute tolerance default; callers pass their own for the run


def _text(expr) -> str:
    """Text the declaration parser reads back exactly; pi, E... as numbers (a model may have an id 'E')."""
    expr = sp.sympify(expr)
    expr = expr.xreplace({a: sp.Float(a.evalf(17), 17) for a in expr.atoms(sp.NumberSymbol)})
    return sp.sstr(expr, full_prec=True)


def parameters(b, init: Initial, source: str) -> list:
    out = []
    for ent in b.entities.values():
        if ent.kind != "parameter":
            continue
        value = init.value(ent.key)
        signed = value < 0
        bounds = (-math.inf, math.inf) if signed else (0.0, math.inf)
        desc = b.description(ent)
        if ent.key in b.initial_assignments:
            desc += " [initialAssignment, evaluated at import]"
        out.append(Parameter(ent.name, value, b.unit(ent), bounds, desc, source, signed=True))
    return out


def states(b, init: Initial) -> list:
    out = []
    for ent in b.entities.values():
        if ent.kind == "state":
            initial = init.expr(ent.key)
            initial = float(initial) if initial.is_Number else _text(initial)
            out.append(State(ent.name, b.unit(ent), b.description(ent), initial=initial, atol=_ATOL,
                             nonnegative=False))
    for sid, name in b.amounts.items():  # species in a compartment whose size changes: the amount
        ent = b.entities[sid]
        initial = init.expr(sid) * init.expr(ent.obj.getCompartment())
        initial = float(initial) if initial.is_Number else _text(initial)
        out.append(State(name, "amount", f"amount of {b.description(ent)}", initial=initial, atol=_ATOL,
                         nonnegative=False))
    return out


def observables(b) -> tuple[list, dict]:
    """Assignment rules as observables, plus {name: sympy expression} for event analysis."""
    out, exprs = [], {}
    for sid, node in b.assignment_rules.items():
        ent = b.entities.get(sid)
        if ent is None:
            from ..errors import SBMLImportError

            raise SBMLImportError(f"<assignmentRule variable={sid!r}>: the variable is not a species, "
                                  "parameter or compartment")
        expr = b.math(node, f"<assignmentRule variable={sid!r}>")
        exprs[ent.name] = expr
        out.append(Observable(ent.name, _text(expr), b.unit(ent), b.description(ent) + " (assignmentRule)"))
    for sid, amount in b.amounts.items():
        ent = b.entities[sid]
        comp = b.entities[ent.obj.getCompartment()].name
        out.append(Observable(ent.name, f"{amount}/{comp}", b.unit(ent), b.description(ent) + " (amount/size)"))
    return out, exprs


def rates(b) -> list:
    """Reactions (with stoichiometry on state species) and rate rules."""
    out = []
    for rid, coefs in b.stoichiometry().items():
        coefs = {k: _text(v) for k, v in coefs.items() if v != 0}
        if coefs:
            expr = b.kinetic_law(rid, b.symbols, b.clock)
            out.append(Rate(b.names[rid], _text(expr), coefs))
    for sid, node in b.rate_rules.items():
        ent = b.entities[sid]
        expr = b.math(node, f"<rateRule variable={sid!r}>")
        target = b.amounts.get(sid, ent.name)
        if sid in b.amounts:  # d(c V)/dt = V dc/dt + c dV/dt, dV/dt from the compartment's own rate rule
            comp = ent.obj.getCompartment()
            dv = b.math(b.rate_rules[comp], f"<rateRule variable={comp!r}>")
            expr = b.entities[comp].symbol * expr + ent.symbol * dv
        out.append(Rate(b.names.fresh(f"{ent.name}_rate_rule"), _text(expr), {target: 1}))
    return out


def clock(b, rates_, observables_, force: bool = False) -> tuple[list, list]:
    """The clock state and its rate when any expression uses time (or ``force``); else nothing."""
    word = re.compile(rf"\b{b.clock.name}\b")
    used = any(word.search(x.expression) for x in [*rates_, *observables_])
    if not (used or force):
        return [], []
    state = State(b.clock.name, "model time unit", "time (SBML csymbol time) as a state: d/dt = 1",
                  initial=0.0, atol=_ATOL, nonnegative=False)
    return [state], [Rate(b.names.fresh("clock"), "1", {b.clock.name: 1})]
