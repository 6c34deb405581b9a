"""Export one patient of a celltrial model as SBML Level 3 Version 2.

Each state becomes a non-constant SBML parameter with a rate rule (its right-hand side in
states and parameters), each observable a parameter with an assignment rule, and each model
parameter an SBML parameter carrying its description, unit, bounds and source in ``notes``.
Identifiers are the model's own names, so celltrial tables and SBML ids line up. Events at
or before t0 = 0 are folded into the initial values; later ones become SBML events.

Math is written as content MathML by a small printer here, not by sympy's printer (which
renders ``gamma`` as a Greek glyph and ``shed_k`` as a subscript) nor by libsbml's infix
parser (which reads ``E``, ``pi``, ``avogadro``, ``time``... as built-in constants).
libsbml writes numbers with 15 significant digits, so values round by at most ~5e-16.

Example:
    >>> from celltrial.model.library import cart6
    >>> from celltrial.solve.events import Bolus
    >>> text = export_sbml(cart6(), {"rho": 0.8}, events=[Bolus(0.0, {"E": 1e8})])
    >>> '<parameter id="gamma"' in text
    True
"""

from __future__ import annotations

import html
import math
from pathlib import Path

import sympy as sp

from ..errors import ExportError, InputError, MissingDependencyError, did_you_mean
from ..solve.events import EV_ADD, EV_SCALE, EV_SET_PARAM, apply_event, pack_events
from ..solve.inputs import resolve_parameters

_MATHML_NS = "http://www.w3.org/1998/Math/MathML"
_XHTML_NS = "http://www.w3.org/1999/xhtml"
_TIME = '<csymbol encoding="text" definitionURL="http://www.sbml.org/sbml/symbols/time"> time </csymbol>'
_FUNCTIONS = {sp.exp: "exp", sp.log: "ln", sp.tanh: "tanh", sp.Abs: "abs"}


def _libsbml():
    try:
        import libsbml
    except ImportError:
        raise MissingDependencyError(
            "SBML export needs python-libsbml; install it with `pip install celltrial[sbml]`"
        ) from None
    return libsbml


# -- content MathML ----------------------------------------------------------------------------
def _cn(value: float) -> str:
    value = float(value)
    if not math.isfinite(value):
        raise ExportError(f"cannot write the non-finite number {value} to SBML")
    # repr is the shortest text that reads back to the same double.
    return f"<cn> {value!r} </cn>"


def _apply(op: str, *args: str) -> str:
    return f"<apply><{op}/>{''.join(args)}</apply>"


def _product(factors) -> str:
    parts = [_mathml(f) for f in factors]
    return parts[0] if len(parts) == 1 else _apply("times", *parts)


def _mul(expr: sp.Mul) -> str:
    num, den = [], []
    for f in expr.args:
        if f.is_Pow and f.exp.is_Number and f.exp.is_negative:
            den.append(f.base ** (-f.exp))
        elif f.is_Rational and not f.is_Integer:
            num.append(sp.Integer(f.p))
            den.append(sp.Integer(f.q))
        else:
            num.append(f)
    negate = bool(num) and num[0] == -1
    num = (num[1:] if negate else num) or [sp.Integer(1)]
    body = _product(num) if not den else _apply("divide", _product(num), _product(den))
    return _apply("minus", body) if negate else body


def _pow(expr: sp.Pow) -> str:
    base, exp = expr.args
    if exp == sp.Rational(1, 2):
        return _apply("root", _mathml(base))
    if exp.is_Number and exp.is_negative:
        return _apply("divide", _cn(1.0), _mathml(base ** (-exp)))
    return _apply("power", _mathml(base), _mathml(exp))


def _mathml(expr) -> str:
    """Content MathML of a sympy expression built from celltrial's expression language."""
    if expr.is_Symbol:
        return f"<ci> {expr.name} </ci>"
    if expr.is_Integer:
        return f'<cn type="integer"> {int(expr)} </cn>'
    if expr.is_Rational:
        return _apply("divide", f'<cn type="integer"> {expr.p} </cn>', f'<cn type="integer"> {expr.q} </cn>')
    if expr.is_Number or isinstance(expr, sp.NumberSymbol):
        return _cn(float(expr))
    if expr.is_Add:
        return _apply("plus", *(_mathml(a) for a in expr.args))
    if expr.is_Mul:
        return _mul(expr)
    if expr.is_Pow:
        return _pow(expr)
    if expr.func in _FUNCTIONS and len(expr.args) == 1:
        return _apply(_FUNCTIONS[expr.func], _mathml(expr.args[0]))
    raise ExportError(f"cannot write {expr} ({type(expr).__name__}) as SBML math")


def _ast(libsbml, content: str, where: str):
    node = libsbml.readMathMLFromString(f'<math xmlns="{_MATHML_NS}">{content}</math>')
    if node is None or not node.isWellFormedASTNode():
        raise ExportError(f"{where}: libsbml could not read the generated MathML {content!r}")
    return node


# -- inputs --------------------------------------------------------------------------------------
def _patient_parameters(model, params) -> dict:
    arr = resolve_parameters(model, params)
    if arr.shape[0] != 1:
        raise InputError(f"export_sbml exports one patient; params give {arr.shape[0]} patients")
    return dict(zip(model.parameter_names, arr[0].tolist(), strict=True))


def _initial_states(model, values: dict, y0) -> dict:
    syms = model.symbolic.parameter_symbols
    args = [values[s.name] for s in syms]
    # lambdify evaluates in float arithmetic, as the compiled kernels do.
    y = {name: float(sp.lambdify(syms, expr, modules="math")(*args))
         for name, expr in zip(model.state_names, model.symbolic.initial, strict=True)}
    for name, value in (y0 or {}).items():
        if name not in y:
            raise InputError(f"y0: unknown state {name!r}{did_you_mean(name, y)}")
        try:
            y[name] = float(value)
        except (TypeError, ValueError):
            raise InputError(f"y0: initial value of {name!r} must be a number, got {value!r}") from None
        if not math.isfinite(y[name]):
            raise InputError(f"y0: initial value of {name!r} must be finite, got {value!r}")
    return y


def _event_records(model, events) -> list:
    """(time, kind, name, value) in the solver's order (stable sort by time)."""
    packed = pack_events(model, 1, events)
    out = []
    for j in range(int(packed.count[0])):
        kind = int(packed.kind[0, j])
        name = (model.parameter_names if kind == EV_SET_PARAM else model.state_names)[int(packed.index[0, j])]
        out.append((float(packed.time[0, j]), kind, name, float(packed.value[0, j])))
    return out


def _fold(records, y: dict, p: dict) -> None:
    """Apply events at t <= 0 to the initial values in order, as the solver does at t0."""
    for _, kind, name, value in records:
        apply_event(kind, name, value, y, p)


def _compose(records) -> dict:
    """Target -> MathML of its new value after the records of one time, applied in order.

    SBML evaluates all assignments of an event on pre-event values, so successive changes of
    one target are nested into a single expression instead of separate assignments.
    """
    out: dict = {}
    for _, kind, name, value in records:
        cur = out.get(name, f"<ci> {name} </ci>")
        if kind == EV_ADD:
            out[name] = _apply("plus", cur, _cn(value))
        elif kind == EV_SCALE:
            out[name] = _apply("times", cur, _cn(value))
        else:
            out[name] = _cn(value)
    return out


# -- document ------------------------------------------------------------------------------------
def _check(code: int, libsbml, what: str) -> None:
    if code != libsbml.LIBSBML_OPERATION_SUCCESS:
        raise ExportError(f"libsbml refused to {what}: {libsbml.OperationReturnValue_toString(code)}")


def _notes(element, libsbml, lines) -> None:
    body = "".join(f"<p>{html.escape(line)}</p>" for line in lines if line)
    _check(element.setNotes(f'<body xmlns="{_XHTML_NS}">{body}</body>'), libsbml, "set notes")


def _add_parameter(m, libsbml, pid: str, value, constant: bool, name: str, notes) -> None:
    par = m.createParameter()
    _check(par.setId(pid), libsbml, f"use id {pid!r}")
    _check(par.setConstant(constant), libsbml, f"set {pid!r} constant")
    if value is not None:
        _check(par.setValue(float(value)), libsbml, f"set the value of {pid!r}")
    par.setName(name)
    _notes(par, libsbml, notes)


def _add_day_unit(m, libsbml) -> None:
    ud = m.createUnitDefinition()
    ud.setId("day")
    unit = ud.createUnit()
    unit.setKind(libsbml.UNIT_KIND_SECOND)
    unit.setExponent(1.0)
    unit.setScale(0)
    unit.setMultiplier(86400.0)
    _check(m.setTimeUnits("day"), libsbml, "set time units to days")


def _add_quantities(m, libsbml, model, p: dict, y: dict, varying) -> None:
    sym = model.symbolic
    for par in model.parameters:
        notes = [f"unit: {par.unit}", f"bounds: {par.bounds[0]!r} to {par.bounds[1]!r}",
                 f"description: {par.description}", f"source: {par.source}"]
        _add_parameter(m, libsbml, par.name, p[par.name], par.name not in varying, par.description, notes)
    for state, rhs in zip(model.states, sym.rhs, strict=True):
        notes = [f"state, unit: {state.unit}", f"description: {state.description}",
                 f"declared initial value: {state.initial}"]
        _add_parameter(m, libsbml, state.name, y[state.name], False, state.description, notes)
        rule = m.createRateRule()
        _check(rule.setVariable(state.name), libsbml, f"make a rate rule for {state.name!r}")
        _check(rule.setMath(_ast(libsbml, _mathml(rhs), f"state {state.name!r}")), libsbml, "set math")
    for obs, expr in zip(model.observables, sym.observable_exprs, strict=True):
        notes = [f"observable ({obs.kind}), unit: {obs.unit}", f"description: {obs.description}",
                 f"expression: {obs.expression}", obs.note]
        _add_parameter(m, libsbml, obs.name, None, False, obs.description, notes)
        rule = m.createAssignmentRule()
        _check(rule.setVariable(obs.name), libsbml, f"make an assignment rule for {obs.name!r}")
        _check(rule.setMath(_ast(libsbml, _mathml(expr), f"observable {obs.name!r}")), libsbml, "set math")


def _add_events(m, libsbml, records, taken) -> None:
    times = sorted({r[0] for r in records})
    for k, t in enumerate(times, start=1):
        ev = m.createEvent()
        eid = f"event_{k}"
        while eid in taken:  # never shadow a model name
            eid = "_" + eid
        _check(ev.setId(eid), libsbml, f"use event id {eid!r}")
        ev.setName(f"t = {t!r} day")
        ev.setUseValuesFromTriggerTime(True)
        trig = ev.createTrigger()
        trig.setInitialValue(True)
        trig.setPersistent(True)
        _check(trig.setMath(_ast(libsbml, _apply("geq", _TIME, _cn(t)), eid)), libsbml, "set trigger")
        for target, content in _compose([r for r in records if r[0] == t]).items():
            ea = ev.createEventAssignment()
            _check(ea.setVariable(target), libsbml, f"assign {target!r}")
            _check(ea.setMath(_ast(libsbml, content, f"{eid} assignment to {target!r}")), libsbml, "set math")


def _validate(doc, libsbml) -> None:
    # Units live in notes as free text, so the unit checks would only report missing units.
    doc.setConsistencyChecks(libsbml.LIBSBML_CAT_UNITS_CONSISTENCY, False)
    doc.checkConsistency()
    errors = [doc.getError(i) for i in range(doc.getNumErrors())]
    errors = [e for e in errors if e.getSeverity() >= libsbml.LIBSBML_SEV_ERROR]
    if errors:
        text = "; ".join(f"line {e.getLine()}: {e.getMessage().strip()}" for e in errors)
        raise ExportError(f"the generated SBML fails libsbml's consistency check: {text}")


def export_sbml(model, params=None, y0=None, events=(), path=None) -> str:
    """SBML Level 3 Version 2 text of one patient of ``model`` (also written to ``path`` if given).

    Args:
        model: a declared :class:`~celltrial.model.declaration.Model`.
        params: None (defaults), a dict name -> value, or a 1-D array in ``model.parameter_names`` order.
        y0: dict of initial-state overrides; others follow the declared initial expressions.
        events: Bolus / ScaleState / SetState / SetParameter events of this patient.
        path: optional file to write.
    """
    libsbml = _libsbml()
    p = _patient_parameters(model, params)
    y = _initial_states(model, p, y0)
    records = _event_records(model, events)
    _fold([r for r in records if r[0] <= 0.0], y, p)
    later = [r for r in records if r[0] > 0.0]
    doc = libsbml.SBMLDocument(3, 2)
    m = doc.createModel()
    taken = set(model.quantity_names) | set(model.parameter_names)
    _check(m.setId(model.name if model.name not in taken else f"{model.name}_model"), libsbml, "set model id")
    m.setName(model.description or model.name)
    _add_day_unit(m, libsbml)
    varying = {r[2] for r in later if r[1] == EV_SET_PARAM}
    _add_quantities(m, libsbml, model, p, y, varying)
    _add_events(m, libsbml, later, taken)
    _validate(doc, libsbml)
    text = libsbml.writeSBMLToString(doc)
    if path is not None:
        Path(path).write_text(text, encoding="utf-8")
    return text
