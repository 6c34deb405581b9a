"""Solver inputs, per-patient status and error messages."""

import numpy as np
import pytest

from celltrial.errors import InputError, Status
from celltrial.solve import Bolus, FirstCrossing, Max, SetParameter, Simulation, simulate


def test_one_failing_patient_never_aborts_the_batch(exponential):
    # patient 1 grows as exp(80 t): it overflows to infinity long before day 100
    res = simulate(exponential, {"r": [0.1, 8.0, -0.1]}, t_end=100.0, save_at=[0.0, 50.0, 100.0])
    assert res.status[0] == Status.OK and res.status[2] == Status.OK
    assert res.status[1] in (Status.NON_FINITE, Status.STEP_TOO_SMALL, Status.MAX_STEPS)
    alone = simulate(exponential, {"r": [0.1, -0.1]}, t_end=100.0, save_at=[0.0, 50.0, 100.0])
    assert np.array_equal(res.values[[0, 2]], alone.values)
    assert "patient 1" in res.problems()[0] and "check" in res.problems()[0]
    assert res.status_counts()["OK"] == 2


def test_step_budget_gives_max_steps_status_with_advice(cart6):
    res = simulate(cart6, n_patients=2, t_end=365.0, max_steps=20, events=[Bolus(0.0, {"E": 1e8})])
    assert (res.status == Status.MAX_STEPS).all()
    assert "max_steps" in Status.MAX_STEPS.message


def test_piecewise_constant_parameter_matches_closed_form(exponential):
    events = [SetParameter(10.0, {"r": -0.2}), SetParameter(20.0, {"r": 0.05})]
    t = np.array([0.0, 5.0, 10.0, 15.0, 20.0, 30.0])
    res = simulate(exponential, {"r": 0.1}, t_end=30.0, save_at=t, events=events, rtol=1e-8)
    log_x = np.interp(t, [0, 10, 20, 30], [0, 1.0, -1.0, -0.5])
    np.testing.assert_allclose(res["x"][0], np.exp(log_x), rtol=1e-6)


def test_per_patient_events_and_crossing_after_a_dose(pk1):
    events = [[Bolus(0.0, {"A": 100.0})], [Bolus(2.0, {"A": 50.0})]]
    res = simulate(pk1, n_patients=2, t_end=20.0, patient_events=events,
                   summaries=[Max("A"), FirstCrossing("A", 1.0, "up")])
    np.testing.assert_allclose(res.summaries["max_A"], [100.0, 50.0])
    np.testing.assert_allclose(res.summaries["max_A_time"], [0.0, 2.0])
    np.testing.assert_allclose(res.summaries["first_up_A_1"], [0.0, 2.0])  # a jump crosses at its time


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda m: simulate(m, {"rr": 0.1}, t_end=1.0), r"unknown parameter 'rr' \(did you mean 'r'\?\)"),
        (lambda m: simulate(m, np.zeros((3, 5)), t_end=1.0), r"expected shape \(n, 2\), got \(3, 5\)"),
        (lambda m: simulate(m, {"r": [0.1, 0.2], "x0": [1.0, 2.0, 3.0]}, t_end=1.0), r"shape"),
        (lambda m: simulate(m, {"r": 50.0}, t_end=1.0), r"'r' of patient 0 is 50, outside its bounds"),
        (lambda m: simulate(m, {"r": np.nan}, t_end=1.0), r"must be finite"),
        (lambda m: simulate(m, t_end=1.0, events=[Bolus(0.0, {"y": 1.0})]), r"unknown state 'y'"),
        (lambda m: simulate(m, t_end=1.0, save_at=[2.0, 1.0]), r"sorted"),
        (lambda m: simulate(m, t_end=1.0, summaries=[Max("z")]), r"unknown quantity 'z'"),
        (lambda m: simulate(m, t_end=1.0, rtol=0.0), r"rtol must be positive"),
        (lambda m: simulate(m, t_end=1.0, atol={"q": 1.0}), r"atol: unknown state 'q'"),
        (lambda m: simulate(m, t_end=1.0, y0={"x": -1.0}), r"negative initial"),
        (lambda m: Bolus.split(0.0, 1.0, {"x": 0.5}), r"sum to 0.5"),
        (lambda m: Bolus(float("nan"), {"x": 1.0}), r"finite number of days"),
    ],
)
def test_bad_inputs_get_messages_that_name_the_item(exponential, call, message):
    with pytest.raises(InputError, match=message):
        call(exponential)


def test_scheduling_in_the_past_is_refused_and_observables_are_readable(cart6):
    sim = Simulation(cart6, n_patients=3, events=[Bolus(0.0, {"E": 1e8})])
    sim.advance(10.0)
    obs = sim.observables()
    assert set(obs) >= {"E", "B", "car_per_uL", "A"}
    np.testing.assert_allclose(obs["car_per_uL"], 0.02 * (obs["S"] + obs["E"] + obs["M"] + obs["X"]) / 5e6)
    with pytest.raises(InputError, match="before patient 0's current time 10"):
        sim.schedule([Bolus(5.0, {"E": 1.0})])
    with pytest.raises(InputError, match="t_end"):
        sim.advance(5.0)
    np.testing.assert_array_equal(sim.t, 10.0)
