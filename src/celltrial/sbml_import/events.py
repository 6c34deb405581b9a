"""SBML events the engine can honour exactly: triggers at fixed times, assignments it can replay.

A trigger ``time >= T`` (or ``>``, or written the other way round), with ``T`` an expression of
parameters no event changes, fires once at ``T``: the solver lands on ``T`` and applies it there.
At ``T <= 0`` it fires at the start unless the trigger's ``initialValue`` is true (then never).
Assignments become solver events: a constant (evaluated with the parameter values in force
then) sets a state or parameter; ``a*X + b`` of the assigned state X itself becomes a
ScaleState then a Bolus. Anything else - a state-dependent trigger, an assignment reading
another state, simultaneous events whose order would matter - is refused by event id.
Without delays, persistence and priorities change nothing for such events, so they are accepted.

Example:
    >>> # see tests/sbml_import/test_events.py
"""

from __future__ import annotations

import sympy as sp

from ..errors import SBMLImportError
from ..solve.events import Bolus, ScaleState, SetParameter, SetState
from .mathml import number


def _refuse(eid: str, why: str):
    raise SBMLImportError(f"<event id={eid!r}>: {why} is not supported by the SBML importer")


def _eid(ev, i) -> str:
    return ev.getId() or f"#{i + 1}"


def trigger_time(b, init, ev, eid: str):
    """The fixed firing time of ``ev`` (None when it never fires), or a refusal naming why."""
    trig = ev.getTrigger()
    if trig is None or trig.getMath() is None:
        return None  # no trigger math (allowed in L3v2): the event never fires
    rel = b.math(trig.getMath(), f"<trigger> of event {eid!r}", boolean=True)
    if isinstance(rel, (sp.GreaterThan, sp.StrictGreaterThan)) and rel.lhs == b.clock:
        other, strict = rel.rhs, isinstance(rel, sp.StrictGreaterThan)
    elif isinstance(rel, (sp.LessThan, sp.StrictLessThan)) and rel.rhs == b.clock:
        other, strict = rel.lhs, isinstance(rel, sp.StrictLessThan)
    else:
        what = "state-triggered event" if b.clock not in rel.free_symbols else "time trigger"
        _refuse(eid, f"a {what} ({rel}); only 'time >= T' with T fixed")
    keys = [b.by_name.get(s.name) for s in other.free_symbols]
    if any(k is None or b.entities[k].kind != "parameter" or k in b.event_targets for k in keys):
        _refuse(eid, f"a trigger time {other} that is not a fixed value")
    t = init.evaluate(other, f"<trigger> of event {eid!r}")
    initial_value = trig.getInitialValue() if trig.isSetInitialValue() else True
    if t < 0 or (t == 0 and not strict):
        return None if initial_value else 0.0
    if t == 0:
        _refuse(eid, "a trigger 'time > 0' (fires just after the start, not at it)")
    return t


def _assignments(b, ev, eid, t, values, observables):
    """[(target entity, sympy value)] with observables resolved, time and parameters substituted."""
    out = []
    for ea in _with_math(ev):
        ent = b.entities.get(ea.getVariable())
        if ent is None or ent.kind == "observable":
            _refuse(eid, f"an assignment to {ea.getVariable()!r} (not a state or parameter)")
        expr = b.math(ea.getMath(), f"<eventAssignment variable={ea.getVariable()!r}> of event {eid!r}")
        expr = expr.xreplace(observables).xreplace({b.clock: sp.Float(t)})
        expr = expr.xreplace({s: values[s.name] for s in expr.free_symbols if s.name in values})
        out.append((ent, expr))
    return out


def _records(eid, t, ent, expr):
    """Solver events reproducing ``target := expr`` (expr in states only)."""
    free = {s.name for s in expr.free_symbols}
    if not free:
        value = float(expr)
        return [SetParameter(t, {ent.name: value})] if ent.kind == "parameter" else [SetState(t, {ent.name: value})]
    x = ent.symbol
    if ent.kind != "state" or free != {ent.name} or not sp.diff(expr, x, 2).is_zero:
        _refuse(eid, f"an assignment {ent.name} = {expr} that reads the state at the event time")
    a, c = float(sp.diff(expr, x)), float(expr.xreplace({x: 0}))
    if a < 0:
        _refuse(eid, f"an assignment {ent.name} = {expr} with a negative factor")
    out = [] if a == 1 else [ScaleState(t, {ent.name: a})]
    return out + ([Bolus(t, {ent.name: c})] if c != 0 else [])


def _independent(group, b) -> bool:
    """True when no event of ``group`` writes what another reads or writes (any order gives the same)."""
    for i, (_, ev_a) in enumerate(group):
        for _, ev_b in group[i + 1:]:
            wa, wb = _writes(ev_a), _writes(ev_b)
            if wa & wb or wa & _reads(b, ev_b) or wb & _reads(b, ev_a):
                return False
    return True


def _execution_order(group, b, init) -> list:
    """Events firing together, in SBML's execution order (higher priority first); refused when not fixed."""
    if len(group) == 1 or _independent(group, b):
        return group
    names = ", ".join(repr(eid) for eid, _ in group)
    priorities = []
    for eid, ev in group:
        pr = ev.getPriority() if ev.isSetPriority() else None
        if pr is None or pr.getMath() is None:
            _refuse(eid, f"simultaneous firing with events {names} where their order matters and no priority")
        expr = b.math(pr.getMath(), f"<priority> of event {eid!r}")
        keys = [b.by_name.get(sym.name) for sym in expr.free_symbols]
        if any(k is None or b.entities[k].kind != "parameter" or k in b.event_targets for k in keys):
            _refuse(eid, f"a priority {expr} that is not a fixed value")
        priorities.append(init.evaluate(expr, f"<priority> of event {eid!r}"))
    if len(set(priorities)) < len(priorities):
        _refuse(group[0][0], f"simultaneous events {names} with equal priorities (random order)")
    return [g for _, g in sorted(zip(priorities, group, strict=True), key=lambda pg: -pg[0])]


def _with_math(ev) -> list:
    """Event assignments that have math (one without math, allowed in L3v2, has no effect)."""
    return [ea for ea in ev.getListOfEventAssignments() if ea.getMath() is not None]


def _writes(ev) -> set:
    return {ea.getVariable() for ea in _with_math(ev)}


def _reads(b, ev) -> set:
    import libsbml

    return {n.getName() for ea in _with_math(ev) for n in _names(ea.getMath(), libsbml)} & set(b.entities)


def _names(node, libsbml):
    own = [node] if node.getType() == libsbml.AST_NAME else []
    return own + [x for i in range(node.getNumChildren()) for x in _names(node.getChild(i), libsbml)]


def solver_events(b, init, model) -> list:
    """All events of the SBML model as celltrial solver events, in time order."""
    timed = {}
    for i, ev in enumerate(b.m.getListOfEvents()):
        eid = _eid(ev, i)
        t = trigger_time(b, init, ev, eid)
        if t is not None:
            timed.setdefault(t, []).append((eid, ev))
    sym = model.symbolic
    observables = dict(zip(sym.observable_symbols, sym.observable_exprs, strict=True))
    values = {p.name: number(p.value) for p in model.parameters}
    out = []
    for t in sorted(timed):
        before, written = dict(values), set()
        for eid, ev in _execution_order(timed[t], b, init):
            at_trigger = ev.getUseValuesFromTriggerTime()
            for ent, expr in _assignments(b, ev, eid, t, before if at_trigger else values, observables):
                if at_trigger and written & {sym.name for sym in expr.free_symbols}:
                    _refuse(eid, f"an assignment {ent.name} = {expr} reading a state an earlier simultaneous "
                                 "event changed (its value at the trigger time is gone)")
                recs = _records(eid, t, ent, expr)
                out += recs
                if ent.kind == "parameter":
                    values[ent.name] = number(recs[0].values[ent.name])
            written |= {b.entities[v].name for v in _writes(ev) if v in b.entities}
    return out
