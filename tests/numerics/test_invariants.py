"""Physical and computational invariants of the batched solver."""

import numpy as np
import pytest

from celltrial.solve import AUC, Bolus, Max, Simulation, simulate
from tests.helpers import cart_doses

DAYS = np.arange(0.0, 366.0)
SUMMARIES = [Max("car_per_uL"), AUC("E", 0.0, 28.0)]


def _cohort_params(model, n, seed=3):
    rng = np.random.default_rng(seed)
    base = model.default_parameters()
    out = {}
    for name in ("rho", "gamma", "phi", "r_S", "B0"):
        out[name] = base[model.parameter_names.index(name)] * np.exp(0.4 * rng.standard_normal(n))
    return out


def test_cells_never_go_negative(cart6):
    res = simulate(cart6, _cohort_params(cart6.model, 50), t_end=365.0, save_at=np.linspace(0, 365, 3651),
                   events=cart_doses(), rtol=1e-4, atol=1e-3)
    assert res.ok().all()
    assert (res.values >= 0.0).all()


def test_zero_dose_reproduces_the_untreated_arm(cart6):
    params = _cohort_params(cart6.model, 5)
    untreated = simulate(cart6, params, t_end=200.0, save_at=DAYS[:201])
    zero = simulate(cart6, params, t_end=200.0, save_at=DAYS[:201],
                    events=[Bolus.split(t, 0.0, {"S": 0.2, "E": 0.8}) for t in (0.0, 50.0, 100.0)])
    # an event forces a step to land on its time, so the step sequence (not the answer) differs
    np.testing.assert_allclose(zero.values, untreated.values, rtol=1e-6, atol=1e-9)
    assert np.all(zero["E"] == 0.0)


def test_two_half_doses_at_the_same_time_equal_one_full_dose(cart6):
    params = _cohort_params(cart6.model, 5)
    full = simulate(cart6, params, t_end=120.0, save_at=DAYS[:121], events=[Bolus(30.0, {"E": 1e8})])
    halves = simulate(cart6, params, t_end=120.0, save_at=DAYS[:121],
                      events=[Bolus(30.0, {"E": 5e7}), Bolus(30.0, {"E": 5e7})])
    np.testing.assert_allclose(halves.values, full.values, rtol=1e-12, atol=0)


@pytest.mark.parametrize("chunk", [1, 7, 1000])
def test_results_are_bit_identical_for_any_chunk_size(cart6, chunk):
    params = _cohort_params(cart6.model, 23)
    kwargs = dict(t_end=365.0, save_at=DAYS[::7], events=cart_doses(), summaries=SUMMARIES)
    whole = simulate(cart6, params, **kwargs)
    chunked = simulate(cart6, params, chunk_size=chunk, **kwargs)
    assert np.array_equal(whole.values, chunked.values)
    for key in whole.summaries:
        assert np.array_equal(whole.summaries[key], chunked.summaries[key], equal_nan=True)
    assert np.array_equal(whole.n_steps, chunked.n_steps)


def test_results_are_bit_identical_for_one_and_two_threads(cart6):
    params = _cohort_params(cart6.model, 40)
    kwargs = dict(t_end=365.0, save_at=DAYS[::7], events=cart_doses(), summaries=SUMMARIES)
    one = simulate(cart6, params, threads=1, **kwargs)
    two = simulate(cart6, params, threads=2, **kwargs)
    assert np.array_equal(one.values, two.values)
    for key in one.summaries:
        assert np.array_equal(one.summaries[key], two.summaries[key], equal_nan=True)


def test_patient_order_does_not_change_a_patients_result(cart6):
    params = _cohort_params(cart6.model, 12)
    perm = np.random.default_rng(0).permutation(12)
    kwargs = dict(t_end=200.0, save_at=DAYS[:201:10], events=cart_doses(days=(90.0,)))
    base = simulate(cart6, params, **kwargs)
    shuffled = simulate(cart6, {k: v[perm] for k, v in params.items()}, **kwargs)
    assert np.array_equal(base.values[perm], shuffled.values)


def test_segmented_integration_matches_one_call(cart6):
    params = _cohort_params(cart6.model, 8)
    one = simulate(cart6, params, t_end=365.0, save_at=DAYS, events=cart_doses(), summaries=SUMMARIES)
    sim = Simulation(cart6, params, save_at=DAYS, events=cart_doses()[:1], summaries=SUMMARIES)
    for t in (90.0, 180.0, 270.0):
        sim.advance(t)  # a decision point: doses decided now are applied at t
        sim.schedule([Bolus.split(t, 5e7, {"S": 0.2, "E": 0.8})])
    seg = sim.advance(365.0).result()
    # identical event times, so the step sequences coincide: results agree to round-off
    np.testing.assert_allclose(seg.values, one.values, rtol=1e-12, atol=1e-12)
    for key in one.summaries:
        np.testing.assert_allclose(seg.summaries[key], one.summaries[key], rtol=1e-12)
