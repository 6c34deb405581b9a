"""Bad declarations fail at declaration time with a message naming the item."""

import pytest

from celltrial.errors import DeclarationError
from celltrial.model import Model, Module, Observable, Parameter, Rate, State
from celltrial.model.library import cart6

P = dict(unit="1/day", bounds=(0.0, 1.0), description="a rate", source="[E] test")


def _model(states=None, parameters=None, observables=(), rates=None):
    states = states or [State("B", "cells", "tumour")]
    parameters = parameters or [Parameter("r", 0.1, **P)]
    rates = rates or [Rate("growth", "r*B", {"B": 1})]
    return Model("m", [Module("mod", states=states, parameters=parameters, observables=list(observables),
                              rates=rates)])


def test_unknown_name_in_a_rate_is_named_with_a_suggestion():
    with pytest.raises(DeclarationError, match=r"rate 'growth'.*unknown name 'rr'.*did you mean 'r'"):
        _model(rates=[Rate("growth", "rr*B", {"B": 1})])


def test_unknown_state_in_a_stoichiometry_is_named():
    with pytest.raises(DeclarationError, match=r"rate 'growth'.*unknown state 'BB'.*did you mean 'B'"):
        _model(rates=[Rate("growth", "r*B", {"BB": 1})])


def test_missing_unit_is_named():
    with pytest.raises(DeclarationError, match=r"state 'B': `unit` is missing"):
        State("B", "", "tumour")
    with pytest.raises(DeclarationError, match=r"parameter 'r': `unit` is missing"):
        Parameter("r", 0.1, "", (0, 1), "a rate", "[E] test")


def test_negative_bound_on_a_rate_is_refused_unless_signed():
    with pytest.raises(DeclarationError, match=r"parameter 'r': negative lower bound"):
        Parameter("r", 0.1, "1/day", (-1.0, 1.0), "a rate", "[E] test")
    assert Parameter("r", 0.1, "1/day", (-1.0, 1.0), "a rate", "[E] test", signed=True).bounds == (-1.0, 1.0)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(bounds=(1.0, 0.0)), "lower bound 1.0 exceeds upper bound 0.0"),
        (dict(bounds=(0.0, 0.05)), "default 0.1 lies outside its bounds"),
        (dict(bounds=(0.0,)), "bounds must be a pair"),
        (dict(source=""), "`source` is missing"),
    ],
)
def test_bad_parameter_fields_are_named(kwargs, message):
    fields = {**P, **kwargs}
    with pytest.raises(DeclarationError, match=message):
        Parameter("r", 0.1, **fields)


def test_duplicate_names_across_modules_are_refused():
    a = Module("a", states=[State("B", "cells", "tumour")])
    b = Module("b", parameters=[Parameter("B", 0.1, **P)])
    with pytest.raises(DeclarationError, match=r"'B' is declared twice: in module 'a' and in module 'b'"):
        Model("m", [a, b])


def test_cyclic_observables_are_refused():
    obs = [Observable("u", "v + B", "cells", "u"), Observable("v", "u*2", "cells", "v")]
    with pytest.raises(DeclarationError, match=r"cycle: u -> v -> u"):
        _model(observables=obs)


def test_unsupported_function_and_reserved_or_invalid_names_are_refused():
    with pytest.raises(DeclarationError, match=r"not supported"):
        _model(rates=[Rate("growth", "r*B*sin(B)", {"B": 1})])
    with pytest.raises(DeclarationError, match=r"reserved"):
        State("exp", "cells", "x")
    with pytest.raises(DeclarationError, match=r"not a valid identifier"):
        State("2B", "cells", "x")
    with pytest.raises(DeclarationError, match=r"reserved"):
        State("lambda", "cells", "x")


def test_wrong_item_types_and_empty_stoichiometry_are_refused():
    with pytest.raises(DeclarationError, match=r"module 'mod': states must contain State"):
        Module("mod", states=["B"])
    with pytest.raises(DeclarationError, match=r"stoichiometry must be a non-empty dict"):
        Rate("growth", "r*B", {})


def test_observable_kind_is_checked_and_quasi_steady_state_is_recorded():
    with pytest.raises(DeclarationError, match=r"kind 'fast'"):
        Observable("D", "B", "hGE/mL", "ctDNA", kind="fast")
    qss = cart6(qss_ctdna=True)
    assert [o.kind for o in qss.observables if o.name == "D"] == ["quasi_steady_state"]
    assert "D" not in qss.state_names


def test_jacobian_and_sparsity_are_derived_from_the_declaration():
    model = cart6()
    jac = model.symbolic.jacobian
    assert jac.shape == (6, 6)
    # ctDNA (D) is a leaf: nothing depends on it except itself
    d = model.state_names.index("D")
    assert {(i, j) for i, j in model.symbolic.sparsity() if j == d} == {(d, d)}
