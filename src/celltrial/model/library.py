"""Small reference models used by tests, benchmarks and the demo.

These are numerical test problems, not the standard biology (which lives in its own
modules): closed-form problems (exponential, logistic, one-compartment bolus), a classic
stiff problem (Robertson kinetics) and a six-state CAR-T / tumour / ctDNA model in the
shape used by the performance anchors.

Example:
    >>> cart6().state_names
    ('S', 'E', 'M', 'X', 'B', 'D')
"""

from __future__ import annotations

from .declaration import Model, Module, Observable, Parameter, Rate, State

_TEST = "[E] numerical test problem"


def exponential_model(rate: float = 0.1) -> Model:
    """x' = r x; closed form x0 exp(r t)."""
    mod = Module(
        "exponential",
        states=[State("x", "cells", "a growing or decaying population", initial="x0", atol=1e-9)],
        parameters=[
            Parameter("r", rate, "1/day", (-10.0, 10.0), "net rate", _TEST, signed=True),
            Parameter("x0", 1.0, "cells", (0.0, 1e12), "initial amount", _TEST),
        ],
        rates=[Rate("net_growth", "r*x", {"x": 1})],
    )
    return Model("exponential", [mod])


def logistic_model() -> Model:
    """x' = r x (1 - x/K); closed form K / (1 + (K/x0 - 1) exp(-r t))."""
    mod = Module(
        "logistic",
        states=[State("x", "cells", "tumour cells", initial="x0", atol=1e-6)],
        parameters=[
            Parameter("r", 0.3, "1/day", (0.0, 10.0), "growth rate", _TEST),
            Parameter("K", 1e12, "cells", (1.0, 1e14), "carrying capacity", _TEST),
            Parameter("x0", 1e9, "cells", (0.0, 1e14), "initial burden", _TEST),
        ],
        rates=[Rate("growth", "r*x*(1 - x/K)", {"x": 1})],
    )
    return Model("logistic", [mod])


def one_compartment_model() -> Model:
    """Amount A in one compartment, first-order elimination k; concentration C = A/V."""
    mod = Module(
        "pk1",
        states=[State("A", "mg", "drug amount in the central compartment", atol=1e-9)],
        parameters=[
            Parameter("k", 0.2, "1/day", (0.0, 100.0), "elimination rate constant", _TEST),
            Parameter("V", 5.0, "L", (1e-3, 1e3), "volume of distribution", _TEST),
        ],
        observables=[Observable("C", "A/V", "mg/L", "plasma concentration")],
        rates=[Rate("elimination", "k*A", {"A": -1})],
    )
    return Model("pk1", [mod])


def robertson_model() -> Model:
    """Robertson's stiff chemical kinetics (Hairer & Wanner II, problem ROBER)."""
    mod = Module(
        "robertson",
        states=[
            State("y1", "mol", "species 1", initial=1.0, atol=1e-8),
            State("y2", "mol", "species 2 (fast intermediate)", atol=1e-12),
            State("y3", "mol", "species 3", atol=1e-8),
        ],
        parameters=[
            Parameter("k1", 0.04, "1/day", (0.0, 1.0), "slow reaction", _TEST),
            Parameter("k2", 3e7, "1/(mol day)", (0.0, 1e9), "very fast reaction", _TEST),
            Parameter("k3", 1e4, "1/(mol day)", (0.0, 1e6), "fast reaction", _TEST),
        ],
        rates=[
            Rate("r1", "k1*y1", {"y1": -1, "y2": 1}),
            Rate("r2", "k2*y2**2", {"y2": -1, "y3": 1}),
            Rate("r3", "k3*y2*y3", {"y2": -1, "y1": 1}),
        ],
    )
    return Model("robertson", [mod])


def _cart_module() -> Module:
    return Module(
        "cart_chain",
        description="stem-like memory S -> effector E -> long-lived memory M, exhaustion E -> X",
        states=[
            State("S", "cells", "stem-like memory CAR-T cells", atol=1e-6),
            State("E", "cells", "effector CAR-T cells", atol=1e-6),
            State("M", "cells", "long-lived memory CAR-T cells", atol=1e-6),
            State("X", "cells", "exhausted CAR-T cells", atol=1e-6),
        ],
        parameters=[
            Parameter("r_S", 0.6, "1/day", (0.0, 5.0), "antigen-driven self-renewal of S", _TEST),
            Parameter("phi", 0.3, "1/day", (0.0, 5.0), "antigen-driven differentiation S -> E", _TEST),
            Parameter("d_S", 0.05, "1/day", (0.0, 1.0), "death of S", _TEST),
            Parameter("rho", 1.0, "1/day", (0.0, 5.0), "antigen-driven effector proliferation", _TEST),
            Parameter("eps", 0.05, "1/day", (0.0, 1.0), "effector to memory transition", _TEST),
            Parameter("d_E", 0.4, "1/day", (0.0, 5.0), "effector death (contraction)", _TEST),
            Parameter("x_ex", 0.05, "1/day", (0.0, 5.0), "antigen-driven exhaustion", _TEST),
            Parameter("d_M", 0.005, "1/day", (0.0, 1.0), "memory death (persistence)", _TEST),
            Parameter("d_X", 0.2, "1/day", (0.0, 5.0), "death of exhausted cells", _TEST),
            Parameter("K_A", 1e9, "cells", (1.0, 1e13), "antigen half-saturation", _TEST),
            Parameter("f_blood", 0.02, "1", (0.0, 1.0), "fraction of CAR-T cells in blood", _TEST),
        ],
        observables=[
            Observable("A", "B/(B + K_A)", "1", "antigen signal (0-1)"),
            Observable("car_per_uL", "f_blood*(S + E + M + X)/5e6", "cells/uL", "CAR+ cells per uL blood"),
        ],
        rates=[
            Rate("s_renewal", "r_S*A*S", {"S": 1}),
            Rate("s_differentiation", "phi*A*S", {"S": -1, "E": 2}),
            Rate("s_death", "d_S*S", {"S": -1}),
            Rate("e_proliferation", "rho*A*E", {"E": 1}),
            Rate("e_to_memory", "eps*E", {"E": -1, "M": 1}),
            Rate("e_death", "d_E*E", {"E": -1}),
            Rate("exhaustion", "x_ex*A*E", {"E": -1, "X": 1}),
            Rate("m_death", "d_M*M", {"M": -1}),
            Rate("x_death", "d_X*X", {"X": -1}),
        ],
    )


def _tumour_module(qss_ctdna: bool) -> Module:
    states = [State("B", "cells", "tumour cells", initial="B0", atol=1e-6)]
    shed = "shed*B + shed_k*gamma*E*B/(B + E + 1)"
    observables = []
    rates = [
        Rate("tumour_growth", "r_B*B", {"B": 1}),
        Rate("kill", "gamma*E*B/(B + E + 1)", {"B": -1}),
    ]
    if qss_ctdna:
        observables.append(
            Observable(
                "D",
                f"({shed})/clr",
                "hGE/mL",
                "ctDNA in plasma",
                kind="quasi_steady_state",
                note="30-minute half-life: D tracks shedding/clearance within hours",
            )
        )
    else:
        states.append(State("D", "hGE/mL", "ctDNA in plasma", initial="shed*B0/clr", atol=1e-6))
        rates += [
            Rate("shedding", shed, {"D": 1}),
            Rate("ctdna_clearance", "clr*D", {"D": -1}),
        ]
    return Module(
        "tumour_ctdna",
        states=states,
        parameters=[
            Parameter("r_B", 0.02, "1/day", (0.0, 1.0), "tumour net growth", _TEST),
            Parameter("gamma", 2.0, "1/day", (0.0, 20.0), "maximal killing per effector", _TEST),
            Parameter("B0", 1e10, "cells", (0.0, 1e13), "baseline tumour burden", _TEST),
            Parameter("shed", 2e-10, "hGE/mL/day/cell", (0.0, 1e-6), "baseline ctDNA shedding", _TEST),
            Parameter("shed_k", 1e-8, "hGE/mL/cell", (0.0, 1e-4), "ctDNA per killed cell", _TEST),
            Parameter("clr", 33.0, "1/day", (0.1, 1e3), "ctDNA clearance (t1/2 30 min)", _TEST),
        ],
        observables=observables,
        rates=rates,
    )


def cart6(qss_ctdna: bool = False) -> Model:
    """Six-state CAR-T / tumour / ctDNA test model (five states when ctDNA is quasi-steady).

    The CAR-T dose is given as a bolus split over S and E (e.g. 20 % / 80 %).
    """
    name = "cart6_qss" if qss_ctdna else "cart6"
    return Model(name, [_cart_module(), _tumour_module(qss_ctdna)])
