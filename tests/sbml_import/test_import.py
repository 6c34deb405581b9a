"""SBML import: what each construct becomes in the declaration (checked on the symbolic model, no compile)."""

from __future__ import annotations

import libsbml
import pytest
import sympy as sp

from celltrial import import_sbml
from celltrial.errors import SBMLImportError
from celltrial.solve.events import Bolus, ScaleState, SetParameter, SetState

from .sbml_text import write


def _at_start(model):
    """{name: value} of parameters and states at the start (states from their initial expressions)."""
    sym = model.symbolic
    point = {s: p.value for s, p in zip(sym.parameter_symbols, model.parameters, strict=True)}
    point.update({s: float(e.xreplace(point)) for s, e in zip(sym.state_symbols, sym.initial, strict=True)})
    return point


def _rhs(model):
    point = _at_start(model)
    return {s.name: float(f.xreplace(point)) for s, f in zip(model.symbolic.state_symbols, model.symbolic.rhs,
                                                              strict=True)}


def test_species_units_compartments_and_stoichiometry(tmp_path):
    path = write(tmp_path, compartments=[("C", 2.0)],
                 species=[("S1", "C", 1.0, False), ("S2", "C", 0.0, True), ("B", "C", 4.0, False, True)],
                 parameters=[("k", 0.3, True)],
                 reactions=[("R", {"S1": 1}, {"S2": 2}, "k*S1*C*B")])
    model = import_sbml(path)
    assert model.state_names == ("S1", "S2")  # B is a boundary species: a parameter, never changed by R
    start = _at_start(model)
    assert start[sp.Symbol("S1", real=True)] == 0.5  # 1 amount in volume 2: concentration 0.5
    assert model.parameters[model.parameter_names.index("B")].value == 2.0  # concentration of 4 in 2
    rate = 0.3 * 0.5 * 2.0 * 2.0
    assert _rhs(model) == pytest.approx({"S1": -rate / 2.0, "S2": 2 * rate})  # S2 counts amount
    assert model.sbml.species["S2"] == ("C", True)
    assert "[X] imported from model.xml" in {p.source for p in model.parameters}


def test_rules_initial_assignments_functions_and_time(tmp_path):
    path = write(tmp_path, compartments=[("C", 1.0)], species=[("S1", "C", 2.0, False)],
                 parameters=[("k0", 0.5, True), ("k", 0.0, True), ("p", 0.0, False), ("q", 0.0, False)],
                 functions=[("twice", "lambda(x, 2*x)")],
                 reactions=[("R", {"S1": 1}, {}, "k*S1")],
                 rules=[("assign", "p", "twice(S1) + time"), ("rate", "q", "-k*q + p")],
                 initial=[("k", "2*k0"), ("q", "3*k0")])
    model = import_sbml(path)
    assert model.parameters[model.parameter_names.index("k")].value == 1.0  # evaluated initial assignment
    assert model.observable_names == ("p",)
    clock = model.sbml.clock
    assert clock and clock in model.state_names
    assert model.symbolic.observable_exprs[0] == 2 * sp.Symbol("S1", real=True) + sp.Symbol(clock, real=True)
    q = model.states[model.state_names.index("q")]
    assert q.initial == "3*k0"  # an expression of parameters: varying k0 moves the start of q
    assert _rhs(model) == pytest.approx({"S1": -2.0, "q": -1.0 * 1.5 + 4.0, clock: 1.0})


def test_local_parameters_shadow_globals_and_ids_are_renamed_when_reserved(tmp_path):
    path = write(tmp_path, compartments=[("C", 1.0)], species=[("lambda", "C", 1.0, True)],
                 parameters=[("k", 100.0, True), ("time", 3.0, True)],
                 reactions=[("R", {"lambda": 1}, {}, "k*lambda", {"k": 0.25})])
    model = import_sbml(path)
    assert model.sbml.renamed == {"lambda": "sbml_lambda", "time": "sbml_time"}
    assert "R_k" in model.parameter_names
    assert _rhs(model) == pytest.approx({"sbml_lambda": -0.25})


def test_fixed_time_events_become_solver_events_in_priority_order(tmp_path):
    path = write(tmp_path, compartments=[("C", 1.0)], species=[("S", "C", 1.0, True)],
                 parameters=[("k", 0.1, False)],
                 reactions=[("R", {"S": 1}, {}, "k*S")],
                 events=[("add", "time >= 2", {"S": "S + 1"}), ("scale", "7 <= time", {"S": "S/2"}),
                         ("switch", "time > 4", {"k": "2*k"}), ("set", "time >= 5", {"S": "3"}),
                         ("low", "time >= 6", {"S": "1"}, "1"), ("high", "time >= 6", {"S": "2"}, "5")])
    events = import_sbml(path).events
    assert events == [Bolus(2.0, {"S": 1.0}), SetParameter(4.0, {"k": 0.2}), SetState(5.0, {"S": 3.0}),
                      SetState(6.0, {"S": 2.0}), SetState(6.0, {"S": 1.0}), ScaleState(7.0, {"S": 0.5})]


def _refused(tmp_path, match, **parts):
    with pytest.raises(SBMLImportError, match=match):
        import_sbml(write(tmp_path, **parts))


BASE = {"compartments": [("C", 1.0)], "species": [("S", "C", 1.0, True)], "parameters": [("k", 1.0, False)]}


@pytest.mark.parametrize(("match", "extra"), [
    (r"<event id='e1'>: a state-triggered event", {"events": [("e1", "S < 0.5", {"S": "1"})]}),
    (r"<event id='e1'>: a trigger time .* not a fixed value",
     {"events": [("e1", "time >= k", {"S": "1"}), ("e2", "time >= 1", {"k": "2"})]}),
    (r"<event id='e1'>: an assignment S = .* reads the state",
     {"events": [("e1", "time >= 1", {"S": "S*S"})]}),
    (r"<event id='e1'>: simultaneous .* no priority",
     {"events": [("e1", "time >= 1", {"S": "1"}), ("e2", "time >= 1", {"S": "2"})]}),
    (r"<kineticLaw> of reaction 'R': the delay csymbol", {"reactions": [("R", {"S": 1}, {}, "delay(S, 1)")]}),
    (r"rateOf", {"rules": [("rate", "k", "rateOf(S)")], "reactions": [("R", {"S": 1}, {}, "S")]}),
])
def test_constructs_the_engine_cannot_honour_are_refused_by_element(tmp_path, match, extra):
    parts = {**BASE, "reactions": [("R", {"S": 1}, {}, "k*S")], **extra}
    _refused(tmp_path, match, **parts)


def test_algebraic_rules_delays_and_fast_reactions_are_refused(tmp_path):
    path = write(tmp_path, **BASE, reactions=[("R", {"S": 1}, {}, "k*S")],
                 events=[("e1", "time >= 1", {"S": "1"})])
    doc = libsbml.readSBMLFromFile(str(path))
    doc.getModel().getEvent("e1").createDelay().setMath(libsbml.parseL3Formula("1"))
    delayed = tmp_path / "delayed.xml"
    delayed.write_text(libsbml.writeSBMLToString(doc))
    with pytest.raises(SBMLImportError, match=r"<event id='e1'>: an event with a delay"):
        import_sbml(delayed)
    doc = libsbml.readSBMLFromFile(str(path))
    rule = doc.getModel().createAlgebraicRule()
    rule.setMath(libsbml.parseL3Formula("k - 1"))
    algebraic = tmp_path / "algebraic.xml"
    algebraic.write_text(libsbml.writeSBMLToString(doc))
    with pytest.raises(SBMLImportError, match=r"<algebraicRule>"):
        import_sbml(algebraic)


def test_varying_compartment_holding_species_is_refused(tmp_path):
    _refused(tmp_path, r"<compartment id='C'>: a compartment whose size changes",
             compartments=[("C", 1.0)], species=[("S", "C", 1.0, False)], parameters=[],
             reactions=[("R", {"S": 1}, {}, "S")], events=[("e1", "time >= 1", {"C": "2"})])


def test_unreadable_file_names_the_file(tmp_path):
    bad = tmp_path / "bad.xml"
    bad.write_text("<sbml><model")
    with pytest.raises(SBMLImportError, match="bad.xml"):
        import_sbml(bad)
    with pytest.raises(SBMLImportError, match="does not exist"):
        import_sbml(tmp_path / "missing.xml")
