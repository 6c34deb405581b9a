"""QALYs, discounting and the half-cycle convention, against hand computation and closed forms."""

import math

import numpy as np
import pytest

from celltrial.economics.discounting import DAYS_PER_YEAR, factor, integral
from celltrial.economics.extrapolation import SurvivalFit, fit_survival, tail_years
from celltrial.economics.qaly import Utilities, patient_qalys
from celltrial.errors import InputError

Y = DAYS_PER_YEAR


def test_annual_discounting_steps_once_a_year_and_leaves_year_one_undiscounted():
    days = np.array([0.0, 0.5 * Y, 0.999 * Y, 1.0 * Y, 2.5 * Y])
    np.testing.assert_allclose(factor(days, 0.035, "annual"), [1, 1, 1, 1 / 1.035, 1 / 1.035 ** 2], rtol=1e-12)


def test_continuous_discounting_integral_matches_the_closed_form():
    r, years = 0.035, 7.3
    exact = (1 - (1 + r) ** -years) / math.log(1 + r)
    assert float(integral(0.0, years * Y, r, "continuous")) == pytest.approx(exact, rel=1e-12)
    # and a numerical integral of the factor agrees
    grid = np.linspace(0.0, years * Y, 200_001)
    numeric = np.trapezoid(factor(grid, r, "continuous"), grid) / Y
    assert numeric == pytest.approx(exact, rel=1e-8)


def test_annual_integral_sums_whole_years_then_the_part_year():
    # 2.5 years at 3.5%: 1 + 1/1.035 + 0.5/1.035^2
    assert float(integral(0.0, 2.5 * Y, 0.035, "annual")) == pytest.approx(1 + 1 / 1.035 + 0.5 / 1.035 ** 2,
                                                                          rel=1e-12)
    assert float(integral(0.5 * Y, 1.5 * Y, 0.035, "annual")) == pytest.approx(0.5 + 0.5 / 1.035, rel=1e-12)


def test_zero_rate_gives_plain_years_and_bad_rates_are_refused():
    assert float(integral(10.0, 10.0 + Y, 0.0, "continuous")) == pytest.approx(1.0, rel=1e-12)
    with pytest.raises(InputError, match="discounting.rate"):
        factor(1.0, 1.5)
    with pytest.raises(InputError, match="discounting.method"):
        factor(1.0, 0.03, "monthly")


def _cohort():
    """Three patients: progression at 1 y then death at 2 y; death at 0.5 y; alive, progression-free, censored
    at 2 y with grade-3 CRS for 10 days and grade-2 ICANS."""
    return {"pfs_days": np.array([1.0, 0.5, 2.0]) * Y, "pfs_event": np.array([True, True, False]),
            "os_days": np.array([2.0, 0.5, 2.0]) * Y, "os_event": np.array([True, True, False]),
            "crs_grade": np.array([0, 0, 3]), "crs_duration_days": np.array([0.0, 0.0, 10.0]),
            "icans_grade": np.array([0, 0, 2]), "hospital_days": np.array([7.0, 7.0, 12.0])}


def test_qalys_of_a_small_fixed_cohort_equal_the_hand_computation():
    u = Utilities(progression_free=0.8, progressed=0.5, icans_episode_days=14.0, hospital_day=0.1)
    q = patient_qalys(_cohort(), u, rate=0.0, method="annual")
    crs = 0.23 * 10 / Y
    icans = 0.04 * 14 / Y
    hospital = 0.1 * np.array([7.0, 7.0, 12.0]) / Y
    expected = np.array([0.8 + 0.5, 0.8 * 0.5, 0.8 * 2 - crs - icans]) - hospital
    np.testing.assert_allclose(q["qalys"], expected, rtol=1e-12)
    np.testing.assert_allclose(q["life_years"], [2.0, 0.5, 2.0], rtol=1e-12)


def test_discounted_qalys_apply_the_yearly_factor_to_each_state():
    u = Utilities(progression_free=0.8, progressed=0.5, crs_by_grade=(0,) * 5, icans_by_grade=(0,) * 5)
    q = patient_qalys(_cohort(), u, rate=0.035, method="annual")
    # patient 0: year 1 progression-free undiscounted, year 2 progressed at 1/1.035
    assert q["qalys"][0] == pytest.approx(0.8 + 0.5 / 1.035, rel=1e-12)
    assert q["qalys"][2] == pytest.approx(0.8 * (1 + 1 / 1.035), rel=1e-12)


def test_a_censored_progression_free_patient_stays_progression_free_until_the_end_of_follow_up():
    p = _cohort()
    p["pfs_days"] = np.array([1.0, 0.5, 1.5]) * Y  # last scan at 1.5 y, follow-up to 2 y, no progression seen
    q = patient_qalys(p, Utilities(progression_free=0.8, progressed=0.5), rate=0.0, method="annual")
    assert q["progression_free"][2] == pytest.approx(0.8 * 2.0, rel=1e-12)
    assert q["progressed"][2] == 0.0


class _Exponential(SurvivalFit):
    def survival(self, days):
        return np.exp(-np.asarray(days, dtype=float) / Y)


def test_half_cycle_correction_the_trapezoid_matches_the_exact_mean_and_a_rectangle_rule_overcounts_half_a_cycle():
    fit, cycle = _Exponential("exponential", {}, None), 30.0
    horizon = 60 * Y
    y = float(tail_years(fit, [0.0], horizon, rate=0.0, method="annual", cycle_days=cycle)[0])
    assert y == pytest.approx(1.0, abs=1e-3)  # mean survival 1 year; trapezoid error O(h^2)
    grid = np.arange(0.0, horizon, cycle)
    rectangle = float(np.sum(fit.survival(grid)) * cycle / Y)  # start-of-cycle counting, no correction
    assert rectangle - y == pytest.approx(cycle / 2 / Y, rel=0.01)


def test_tail_is_conditional_on_being_alive_at_censoring():
    fit = _Exponential("exponential", {}, None)
    # memoryless: the expected remaining time is 1 year whenever the patient is alive
    y = tail_years(fit, [0.0, 2 * Y], 80 * Y, rate=0.0, method="annual", cycle_days=1.0)
    np.testing.assert_allclose(y, [1.0, 1.0], atol=1e-4)


def test_extrapolation_chooses_the_lowest_aic_and_reports_every_aic():
    from lifelines import ExponentialFitter, WeibullFitter

    rng = np.random.default_rng(3)
    t = 300.0 * rng.weibull(3.0, size=300)
    e = t < 400
    t = np.minimum(t, 400)
    fit = fit_survival(t, e, ("exponential", "weibull"))
    aic = {"exponential": ExponentialFitter().fit(t, e).AIC_, "weibull": WeibullFitter().fit(t, e).AIC_}
    assert fit.chosen == "weibull"
    for k, v in aic.items():
        assert fit.aic[k] == pytest.approx(v, rel=1e-9)


def test_too_few_events_are_not_extrapolated_and_say_so():
    fit = fit_survival([100.0, 200.0, 300.0], [True, False, False])
    assert fit.chosen is None and "not extrapolated" in fit.note
    assert tail_years(fit, [300.0], 3650.0, rate=0.0, method="annual", cycle_days=7.0)[0] == 0.0


def test_horizon_beyond_follow_up_adds_a_tail_only_for_patients_alive_at_censoring():
    p = _cohort()
    fits = (_Exponential("exponential", {}, None), _Exponential("exponential", {}, None))
    u = Utilities(progression_free=0.8, progressed=0.5, crs_by_grade=(0,) * 5, icans_by_grade=(0,) * 5)
    q = patient_qalys(p, u, rate=0.0, method="annual", horizon_days=80 * Y, fits=fits, cycle_days=1.0)
    assert q["tail_progression_free"][:2].tolist() == [0.0, 0.0]
    assert q["tail_progression_free"][2] == pytest.approx(0.8 * 1.0, abs=1e-3)  # PFS tail = OS tail here
    assert q["life_years"][2] == pytest.approx(3.0, abs=1e-3)


def test_mixture_cure_fit_is_opt_in_and_wins_on_a_plateau():
    from celltrial.economics.extrapolation import STANDARD, fit_survival

    rng = np.random.default_rng(1)
    n = 200
    cured = rng.random(n) < 0.4
    t = np.where(cured, 1e9, rng.exponential(200.0, n))
    days, events = np.minimum(t, 730.0), t <= 730.0
    assert "cure_weibull" not in STANDARD and fit_survival(days, events).chosen != "cure_weibull"
    fit = fit_survival(days, events, (*STANDARD, "cure_weibull"))
    assert fit.chosen == "cure_weibull" and set(fit.aic) == {*STANDARD, "cure_weibull"}
    assert abs(float(fit.survival([3650.0 * 3])[0]) - 0.4) < 0.08  # the plateau is the cured fraction
    assert fit.as_dict()["cured_fraction"] == pytest.approx(float(fit.survival([1e7])[0]), abs=1e-3)
