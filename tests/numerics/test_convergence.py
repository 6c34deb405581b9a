"""Empirical convergence order of the Rodas4 scheme with fixed steps (should be 4)."""

import numpy as np

from celltrial.solve import Bolus, simulate


def _fixed_step_error(compiled, h, params, t_end, exact):
    # rtol = 1e6 accepts every step; hmax then fixes the step size exactly.
    res = simulate(compiled, params, t_end=t_end, save_at=[t_end], rtol=1e6, hmax=h)
    assert res.n_rejected[0] == 0
    return abs(res.values[0, -1, 0] - exact) / exact


def test_rodas4_converges_with_order_four_on_the_logistic_equation(logistic):
    r, K, x0, t_end = 1.0, 1e3, 1.0, 12.0
    exact = K / (1 + (K / x0 - 1) * np.exp(-r * t_end))
    steps = [0.5, 0.25, 0.125, 0.0625]
    errors = [_fixed_step_error(logistic, h, {"r": r, "K": K, "x0": x0}, t_end, exact) for h in steps]
    orders = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    assert np.all(errors[-1] > 1e-13), errors  # still above round-off
    np.testing.assert_allclose(orders, 4.0, atol=0.35)


def test_error_falls_as_the_tolerance_is_tightened(cart6):
    dose = [Bolus.split(0.0, 1e8, {"S": 0.2, "E": 0.8})]
    tight = simulate(cart6, n_patients=1, t_end=120.0, save_at=[120.0], rtol=1e-11, atol=1e-9, events=dose)
    ref = tight.values[0, -1, :6]
    errs = []
    for rtol in (1e-4, 1e-6, 1e-8):
        res = simulate(cart6, n_patients=1, t_end=120.0, save_at=[120.0], rtol=rtol, atol=1e-9, events=dose)
        errs.append(np.max(np.abs(res.values[0, -1, :6] - ref) / np.maximum(np.abs(ref), 1.0)))
    assert errs[0] > errs[1] > errs[2], errs
