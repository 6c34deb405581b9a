"""Trajectories against scipy's Radau at rtol 1e-10 (an independent implicit method)."""

import numpy as np
from scipy.integrate import solve_ivp

from celltrial.solve import Max, simulate
from celltrial.solve.inputs import resolve_parameters
from tests.helpers import cart_doses, scipy_reference, trajectory_error

DAYS = np.arange(0.0, 366.0)


def test_robertson_stiff_problem_matches_radau(robertson):
    t = np.concatenate([[0.0], np.logspace(-5, 4, 46)])
    res = simulate(robertson, n_patients=1, t_end=t[-1], save_at=t)
    p = robertson.model.default_parameters()
    ref = solve_ivp(lambda _t, y: robertson.rhs(y, p), (0, t[-1]), [1.0, 0.0, 0.0], method="Radau",
                    rtol=1e-10, atol=1e-14, t_eval=t).y.T
    got = res.values[0]
    # relative error on each species, floored at its absolute tolerance scale
    floors = np.array([1e-8, 1e-12, 1e-8])
    err = np.max(np.abs(got - ref) / np.maximum(np.abs(ref), floors * 1e3))
    assert err <= 1e-5, err
    np.testing.assert_allclose(got.sum(axis=1), 1.0, rtol=1e-6)  # mass is conserved


def _cohort(cart6, n, seed):
    model = cart6.model
    rng = np.random.default_rng(seed)
    base = model.default_parameters()
    names = ["rho", "gamma", "phi", "r_S", "B0"]
    params = {k: base[model.parameter_names.index(k)] * np.exp(0.3 * rng.standard_normal(n)) for k in names}
    p = resolve_parameters(model, params)
    y0 = np.zeros((n, len(model.states)))
    cart6.kernels.initial_batch(p, y0)
    return p, y0


def test_cart_tumour_model_matches_radau_on_all_observables(cart6):
    model = cart6.model
    p, y0 = _cohort(cart6, 4, seed=7)
    doses = cart_doses()
    res = simulate(cart6, p, t_end=365.0, save_at=DAYS, events=doses)
    assert (res.status == 0).all()
    ns = len(model.states)
    for i in range(p.shape[0]):
        ref = scipy_reference(cart6, p[i], y0[i], doses, DAYS)
        assert trajectory_error(res.values[i, :, :ns], ref) <= 1e-5
        car_ref = p[i, model.parameter_names.index("f_blood")] * ref[:, :4].sum(axis=1) / 5e6
        assert trajectory_error(res["car_per_uL"][i], car_ref, floor=1e-3) <= 1e-5


def test_cmax_and_tmax_from_dense_output_match_a_fine_reference(cart6):
    model = cart6.model
    p, y0 = _cohort(cart6, 3, seed=11)
    doses = cart_doses()[:1]
    res = simulate(cart6, p, t_end=30.0, events=doses, summaries=[Max("car_per_uL")])
    fine = np.linspace(0.0, 30.0, 30001)
    for i in range(p.shape[0]):
        ref = scipy_reference(cart6, p[i], y0[i], doses, fine)
        car = p[i, model.parameter_names.index("f_blood")] * ref[:, :4].sum(axis=1) / 5e6
        k = int(np.argmax(car))
        np.testing.assert_allclose(res.summaries["max_car_per_uL"][i], car[k], rtol=1e-5)
        # The time of a smooth maximum is ill-conditioned (error ~ sqrt(value error / curvature)):
        # 1e-6 relative in value allows minutes in time; assert within 0.01 day (15 minutes).
        np.testing.assert_allclose(res.summaries["max_car_per_uL_time"][i], fine[k], atol=1e-2)
