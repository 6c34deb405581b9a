"""SBML export: the exported patient simulated by libroadrunner matches celltrial's own solver.

Example (what the round trip does):
    text = export_sbml(cart6(), events=EVENTS)      # one patient, doses folded/as events
    roadrunner.RoadRunner(text).simulate(0, 365, 366)  # ~ celltrial.solve.simulate(...)
"""

from __future__ import annotations

import sys

import numpy as np
import pytest

from celltrial.errors import InputError, MissingDependencyError
from celltrial.export import export_sbml
from celltrial.model import Model, Module, Observable, Parameter, Rate, State
from celltrial.model.library import cart6
from celltrial.solve import simulate
from celltrial.solve.events import Bolus, ScaleState, SetParameter, SetState

libsbml = pytest.importorskip("libsbml")

DAYS = np.arange(0.0, 366.0)
PARAMS = {"gamma": 2.5, "r_B": 0.03}


def _dose(day: float) -> Bolus:
    return Bolus.split(day, 1e8, {"S": 0.2, "E": 0.8})


# The brief's schedule: day-0 dose folded into the initial values, later doses and a switch as events.
STANDARD = [_dose(0.0), _dose(90.0), _dose(180.0), SetParameter(120.0, {"rho": 0.5})]
# Several changes of one state on one day must compose in the given order.
SAME_DAY = [
    _dose(0.0),
    ScaleState(0.0, {"E": 0.5}),
    Bolus(60.0, {"E": 1e7, "X": 1e6}),
    ScaleState(60.0, {"E": 0.5}),
    Bolus(60.0, {"E": 3e6}),
    SetState(200.0, {"X": 0.0}),
    SetParameter(200.0, {"x_ex": 0.2}),
]


def _doc(text: str):
    doc = libsbml.readSBMLFromString(text)
    assert doc.getNumErrors(libsbml.LIBSBML_SEV_ERROR) == 0
    return doc


def _names(node) -> set:
    """Identifiers in a libsbml math tree (time and constants excluded)."""
    own = {node.getName()} if node.getType() == libsbml.AST_NAME else set()
    return own.union(*(_names(node.getChild(i)) for i in range(node.getNumChildren())))


def _roadrunner_trajectories(model, text: str) -> np.ndarray:
    roadrunner = pytest.importorskip("roadrunner")
    r = roadrunner.RoadRunner(text)
    r.integrator.relative_tolerance = 1e-12
    r.integrator.maximum_num_steps = 1_000_000
    # A scalar absolute_tolerance is scaled by initial values inside roadrunner; set each one.
    for state in model.states:
        r.integrator.setIndividualTolerance(state.name, state.atol * 1e-3)
    r.timeCourseSelections = ["time", *model.quantity_names]
    out = np.asarray(r.simulate(0.0, 365.0, len(DAYS)))
    np.testing.assert_allclose(out[:, 0], DAYS, rtol=0, atol=1e-9)
    return out[:, 1:]


def _max_relative_difference(model, events) -> float:
    res = simulate(model, PARAMS, n_patients=1, t_end=365.0, save_at=DAYS, events=events, rtol=1e-10)
    assert res.status.tolist() == [0]
    rr = _roadrunner_trajectories(model, export_sbml(model, PARAMS, events=events))
    ct = np.stack([res[name][0] for name in model.quantity_names], axis=1)
    # Values saved on a day with a jump in a state depend on pre/post-event conventions; skip them.
    jumps = {e.time for e in events if not isinstance(e, SetParameter) and e.time > 0}
    keep = ~np.isin(DAYS, sorted(jumps))
    diff = np.abs(rr - ct) / np.maximum(np.abs(ct), 1.0)
    return float(diff[keep].max())


@pytest.mark.parametrize("qss", [False, True], ids=["cart6", "cart6_qss"])
def test_roadrunner_matches_celltrial(qss):
    assert _max_relative_difference(cart6(qss_ctdna=qss), STANDARD) <= 1e-4


def test_same_day_events_apply_in_order():
    assert _max_relative_difference(cart6(), SAME_DAY) <= 1e-4


def test_day_zero_events_fold_into_initial_values_in_order():
    model = cart6()
    events = [Bolus(0.0, {"E": 10.0}), ScaleState(0.0, {"E": 0.5}), SetParameter(0.0, {"rho": 0.25})]
    m = _doc(export_sbml(model, {"B0": 2e9}, y0={"M": 7.0}, events=events)).getModel()
    assert m.getParameter("E").getValue() == 5.0
    assert m.getParameter("M").getValue() == 7.0
    assert m.getParameter("B").getValue() == 2e9
    assert m.getParameter("rho").getValue() == 0.25
    assert m.getParameter("rho").getConstant()
    assert m.getNumEvents() == 0


def test_ids_are_the_model_names_and_sbml_is_consistent(tmp_path):
    model = cart6(qss_ctdna=True)
    path = tmp_path / "patient.xml"
    text = export_sbml(model, np.array(model.default_parameters()), events=STANDARD, path=path)
    assert path.read_text(encoding="utf-8") == text
    doc = _doc(text)
    assert (doc.getLevel(), doc.getVersion()) == (3, 2)
    doc.setConsistencyChecks(libsbml.LIBSBML_CAT_UNITS_CONSISTENCY, False)
    doc.checkConsistency()
    assert doc.getNumErrors(libsbml.LIBSBML_SEV_ERROR) == 0
    m = doc.getModel()
    ids = [m.getParameter(i).getId() for i in range(m.getNumParameters())]
    assert ids == [*model.parameter_names, *model.state_names, *model.observable_names]
    rules = {m.getRule(i).getVariable(): m.getRule(i) for i in range(m.getNumRules())}
    assert {v for v, r in rules.items() if r.isRate()} == set(model.state_names)
    assert {v for v, r in rules.items() if r.isAssignment()} == set(model.observable_names)
    # Names that libsbml's infix parser treats specially must come through as plain identifiers.
    assert _names(rules["D"].getMath()) == {"B", "E", "gamma", "shed", "shed_k", "clr"}
    varying = {p for p in model.parameter_names if not m.getParameter(p).getConstant()}
    assert varying == {"rho"}
    assert "[E] numerical test problem" in m.getParameter("gamma").getNotesString()


def _tricky_model() -> Model:
    """Identifiers that are constants or keywords elsewhere, and every supported function."""
    names = ("E", "e", "gamma", "avogadro", "inf", "NaN", "exponentiale", "true", "delay")
    exprs = {
        "f1": "exp(-E*x) + log(gamma + x) + sqrt(x)/x**2 + tanh(e*x) + Abs(avogadro - 3*x)",
        "f2": "x**2.5 + (x + inf)**(1/3) - NaN/(3*x) + exponentiale*true/delay + 2/7",
    }
    return Model("tricky", [Module(
        "tricky",
        states=[State("x", "1", "a state", initial="E + 1")],
        parameters=[Parameter(n, 0.5 + i / 4, "1", (0.0, 10.0), f"{n} value", "[E] test")
                    for i, n in enumerate(names)],
        observables=[Observable(k, v, "1", k) for k, v in exprs.items()],
        rates=[Rate("growth", "f1/(1 + f2)", {"x": 1})],
    )])


def test_tricky_names_and_functions_evaluate_like_sympy():
    roadrunner = pytest.importorskip("roadrunner")
    model = _tricky_model()
    r = roadrunner.RoadRunner(export_sbml(model))
    sym = model.symbolic
    point = {s: p.value for s, p in zip(sym.parameter_symbols, model.parameters, strict=True)}
    point[sym.state_symbols[0]] = float(sym.initial[0].xreplace(point))
    assert r["x"] == point[sym.state_symbols[0]]
    for name, expr in zip(model.observable_names, sym.observable_exprs, strict=True):
        assert r[name] == pytest.approx(float(expr.xreplace(point)), rel=1e-14)
    assert r["x'"] == pytest.approx(float(sym.rhs[0].xreplace(point)), rel=1e-14)


def test_unknown_names_raise_input_error():
    model = cart6()
    with pytest.raises(InputError, match="gama.*did you mean 'gamma'"):
        export_sbml(model, {"gama": 1.0})
    with pytest.raises(InputError, match="'Q'"):
        export_sbml(model, y0={"Q": 1.0})
    with pytest.raises(InputError, match="unknown state 'EE'"):
        export_sbml(model, events=[Bolus(10.0, {"EE": 1.0})])
    with pytest.raises(InputError, match="unknown parameter 'rhoo'"):
        export_sbml(model, events=[SetParameter(10.0, {"rhoo": 1.0})])


def test_missing_libsbml_gives_install_hint(monkeypatch):
    monkeypatch.setitem(sys.modules, "libsbml", None)
    with pytest.raises(MissingDependencyError, match=r"pip install celltrial\[sbml\]"):
        export_sbml(cart6())
