"""The solver against closed-form solutions: <= 1e-6 relative error with rtol = 1e-7.

Global error accumulates over a 1e5-fold growth, so the solver tolerance is set one decade
below the accuracy asserted.
"""

import numpy as np
import pytest

from celltrial.solve import AUC, Bolus, FirstCrossing, Max, ValueAt, simulate

T = np.linspace(0.0, 40.0, 81)
RTOL = 1e-7


@pytest.mark.parametrize("rate", [0.3, 0.05, -0.05, -0.5])
def test_exponential_growth_and_decay_match_closed_form(exponential, rate):
    res = simulate(exponential, {"r": rate, "x0": 1e6}, t_end=40.0, save_at=T, rtol=RTOL)
    np.testing.assert_allclose(res["x"][0], 1e6 * np.exp(rate * T), rtol=1e-6, atol=0)


def test_logistic_matches_closed_form(logistic):
    r, K, x0 = 0.3, 1e12, 1e9
    res = simulate(logistic, {"r": r, "K": K, "x0": x0}, t_end=40.0, save_at=T, rtol=RTOL)
    exact = K / (1 + (K / x0 - 1) * np.exp(-r * T))
    np.testing.assert_allclose(res["x"][0], exact, rtol=1e-6, atol=0)


def test_one_compartment_bolus_matches_closed_form(pk1):
    k, V, dose = 0.2, 5.0, 100.0
    res = simulate(pk1, {"k": k, "V": V}, t_end=40.0, save_at=T, events=[Bolus(0.0, {"A": dose})], rtol=RTOL)
    np.testing.assert_allclose(res["C"][0], dose / V * np.exp(-k * T), rtol=1e-6, atol=0)


def test_repeated_bolus_is_superposition_of_single_doses(pk1):
    k, dose, times = 0.2, 100.0, [0.0, 7.0, 14.0, 21.0]
    res = simulate(pk1, {"k": k}, t_end=40.0, save_at=T, rtol=RTOL,
                   events=[Bolus(t, {"A": dose}) for t in times])
    # a value saved on a dose day includes that dose (post-dose convention)
    exact = sum(np.where(T >= t, dose * np.exp(-k * (T - t)), 0.0) for t in times)
    np.testing.assert_allclose(res["A"][0], exact, rtol=1e-6, atol=0)


def test_in_kernel_summaries_match_closed_form(pk1):
    k, V, dose = 0.2, 5.0, 100.0
    c0 = dose / V
    summaries = [
        AUC("C", 0.0, 28.0),
        AUC("C", 3.3, 9.1, name="auc_window"),
        FirstCrossing("C", threshold=1.0, direction="down"),
        ValueAt("C", 5.5),
        Max("C"),
    ]
    res = simulate(pk1, {"k": k, "V": V}, t_end=40.0, events=[Bolus(0.0, {"A": dose})], summaries=summaries,
                   rtol=RTOL)
    s = res.summaries
    np.testing.assert_allclose(s["auc_C_0_28"], c0 / k * (1 - np.exp(-k * 28.0)), rtol=1e-6)
    np.testing.assert_allclose(s["auc_window"], c0 / k * (np.exp(-k * 3.3) - np.exp(-k * 9.1)), rtol=1e-6)
    np.testing.assert_allclose(s["first_down_C_1"], np.log(c0 / 1.0) / k, rtol=1e-6)
    np.testing.assert_allclose(s["C_at_5.5"], c0 * np.exp(-k * 5.5), rtol=1e-6)
    np.testing.assert_allclose(s["max_C"], c0, rtol=1e-12)
    np.testing.assert_allclose(s["max_C_time"], 0.0, atol=0)


def test_threshold_crossing_time_matches_closed_form(logistic):
    r, K, x0 = 0.3, 1e12, 1e9
    res = simulate(logistic, {"r": r, "K": K, "x0": x0}, t_end=60.0,
                   summaries=[FirstCrossing("x", threshold=K / 2, direction="up")], rtol=RTOL)
    t_half = np.log(K / x0 - 1) / r  # logistic reaches K/2 at ln(K/x0 - 1)/r
    np.testing.assert_allclose(res.summaries["first_up_x_5e11"], t_half, rtol=1e-6)
