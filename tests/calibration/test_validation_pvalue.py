"""Predictive p-values of `celltrial validate` against known truths (issue 14, item 11).

Truths: when the simulated cohort comes from the same model as the published trial, the
p-value is roughly uniform, so about 5% of seeded repetitions fall below 0.05; when the model
is clearly wrong, p < 0.05. The vectorised Kaplan-Meier matches the lifelines-based landmark of
``trials.statistics``; per-patient flags reproduce the cohort rate of ``summaries``.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from scipy.stats import norm

from celltrial.calibration.design import check_calibration_settings, min_design_points
from celltrial.calibration.fit import calibrate
from celltrial.calibration.predictive import (
    km_at,
    landmark_predictive,
    mid_p,
    patient_flags,
    predictive_check,
    rate_predictive,
    replicate_indices,
    value_predictive,
)
from celltrial.calibration.suite import COLUMNS, row_cells, suite_json
from celltrial.calibration.summaries import CohortResult, cr_rate, summarise_cohort
from celltrial.calibration.targets import Interval, LandmarkTarget, RateTarget, ValueTarget
from celltrial.calibration.validation import CaseResult, target_row
from celltrial.errors import InputError
from celltrial.trials.statistics import landmark

REPS = 300  # seeded repetitions of "simulate a cohort, publish a trial, compute p"


def _rate_target(events, n=101):
    return RateTarget(name="cr", quantity="cr_rate", events=int(events), n=n, source="[E] test")


def _landmark_target(s_hat, n):
    half = 1.959964 * np.sqrt(s_hat * (1 - s_hat) / n)  # Wald CI, so n_eff = n
    ci = Interval(lower=100 * (s_hat - half), upper=100 * (s_hat + half), level=0.95)
    return LandmarkTarget(name="pfs", quantity="pfs_at", at_day=200.0, percent=100 * s_hat, ci=ci, source="[E] t")


def test_mid_p_counts_ties_half_and_is_two_sided():
    assert mid_p([1, 2, 3, 4], 2.5) == 1.0
    assert mid_p([1, 2, 3, 4], 1) == pytest.approx(0.25)  # 2 * (0 + 0.25 / 2)
    assert mid_p([1, 1, 1, 1], 1) == 1.0
    assert mid_p([0.40, 0.41, 0.60], 0.412, tie=0.005) == pytest.approx(2 * (1 / 3 + 1 / 6))
    assert mid_p([1.0, 2.0], 9.0) == 0.0 and np.isnan(mid_p([], 1.0))


def test_two_stage_bootstrap_carries_the_simulation_error_too():
    rng = np.random.default_rng(0)
    idx = replicate_indices(50, 10, 4000, rng)
    assert idx.shape == (4000, 10) and idx.min() >= 0 and idx.max() < 50
    flags = (np.arange(50) < 25).astype(float)  # p = 0.5 in a cohort of 50
    counts = flags[idx].sum(axis=1)
    # binomial sampling variance n p (1 - p) = 2.5 plus Monte-Carlo n^2 p (1 - p) / N = 0.5
    assert counts.var() == pytest.approx(3.0, rel=0.1)


def test_vectorised_kaplan_meier_matches_the_lifelines_landmark():
    rng = np.random.default_rng(3)
    for _ in range(20):
        d = np.round(rng.exponential(100.0, 40))  # rounding makes ties, also between events and censorings
        e = rng.random(40) < 0.7
        for day in (30.0, 80.0, float(d[5])):
            want = landmark(d, e, day)["estimate"]
            if want is not None:
                assert km_at(d[None, :], e[None, :], day)[0] == pytest.approx(want, abs=1e-12)


def test_rate_p_is_roughly_uniform_when_the_model_is_right():
    rng = np.random.default_rng(20261207)
    p_values = []
    for r in range(REPS):
        cohort = (rng.random(500) < 0.58).astype(float)  # simulated virtual cohort, true rate 0.58
        published = rng.binomial(101, 0.58)  # a trial of the published size from the same truth
        p_values.append(rate_predictive(cohort, _rate_target(published), replicates=1000, seed=r).p)
    p_values = np.array(p_values)
    assert 0.01 <= np.mean(p_values < 0.05) <= 0.10, np.mean(p_values < 0.05)
    assert 0.42 <= p_values.mean() <= 0.58 and 0.25 <= np.mean(p_values < 0.5) <= 0.75


def test_rate_p_is_small_when_the_model_is_clearly_wrong():
    rng = np.random.default_rng(1)
    cohort = (rng.random(500) < 0.40).astype(float)
    assert rate_predictive(cohort, _rate_target(59), seed=0).p < 0.05
    assert rate_predictive((rng.random(500) < 0.58).astype(float), _rate_target(59), seed=0).p > 0.2


def test_landmark_p_is_roughly_uniform_right_and_small_wrong():
    rng = np.random.default_rng(11)
    rate = -np.log(0.42) / 200.0  # S(200 days) = 0.42; follow-up 300 days censors the rest
    p_values = []
    for r in range(200):
        t = np.minimum(rng.exponential(1 / rate, 500), 300.0)
        trial = np.mean(rng.exponential(1 / rate, 101) > 200.0)
        p_values.append(landmark_predictive(t, t < 300.0, _landmark_target(trial, 101), replicates=800, seed=r).p)
    assert 0.01 <= np.mean(np.array(p_values) < 0.05) <= 0.11
    wrong = np.minimum(rng.exponential(200.0 / -np.log(0.25), 500), 300.0)
    result = landmark_predictive(wrong, wrong < 300.0, _landmark_target(0.42, 101), seed=0)
    assert result.p < 0.05 and result.n == 101 and result.high < 0.42


def test_value_p_is_the_normal_test_with_published_sd_and_simulation_se_added():
    t = ValueTarget(name="cmax", quantity="cmax_copies_median", value=24000.0, rel_sd=0.5, source="[E] t")
    same = value_predictive(t, 24000.0, 0.1)
    assert same.p == pytest.approx(1.0) and same.low < 24000.0 < same.high
    z = (np.log(24000.0) - np.log(8000.0)) / np.hypot(t.sd, 0.1)
    assert value_predictive(t, 8000.0, 0.1).p == pytest.approx(2 * norm.sf(z))
    assert value_predictive(t, 2000.0, 0.1).p < 0.05
    band_only = ValueTarget(name="x", quantity="tmax_median", band={"lower": 1, "upper": 2}, source="[E] t")
    assert value_predictive(band_only, 1.5, 0.1) is None and value_predictive(t, float("nan"), 0.1) is None


def _cohort(n=150, cr_count=66, seed=0):
    """A synthetic virtual cohort (patients table, flat blood course) with exactly ``cr_count`` CRs."""
    rng = np.random.default_rng(seed)
    cr = np.zeros(n, bool)
    cr[rng.choice(n, cr_count, replace=False)] = True
    pfs = np.minimum(rng.exponential(400.0, n), 548.0)
    patients = {"status": np.array(["OK"] * (n - 1) + ["FAILED"]), "cr": cr,
                "time_to_cr_days": np.where(cr, rng.uniform(20, 120, n), np.nan),
                "pfs_days": pfs, "pfs_event": pfs < 548.0}
    t = np.linspace(0.0, 548.0, 50)
    return CohortResult(patients, t, np.ones((n, t.size)), np.ones((n, t.size)))


def test_patient_flags_use_the_quantity_definition_and_skip_failed_patients():
    c = _cohort()
    flags = patient_flags(c, "cr_rate")
    assert flags.size == 149 and flags.mean() == pytest.approx(cr_rate(c)[0])
    early = patient_flags(c, "cr_rate", 60.0)
    assert early.mean() == pytest.approx(cr_rate(c, 60.0)[0]) and early.sum() < flags.sum()


def test_overlapping_intervals_no_longer_pass_a_published_rate_outside_the_trial_distribution():
    # the case: CR 58% (59 of 101) against a simulated 44% (36-52%) whose interval still overlaps
    c = _cohort(cr_count=66)
    target = _rate_target(59)
    values, se, n = summarise_cohort(c, [("cr_rate", None)])
    row = target_row(target, c, float(values[0]), float(se[0]), int(n[0]), seed=1)
    assert row.overlap is True and row.passed is False and row.p_value < 0.05
    assert row.predictive.startswith("trials of 101:") and "p = " in row.reason and "overlap" in row.reason
    cells = row_cells(row)
    assert len(cells) == len(COLUMNS) and cells[-1] == "FAIL" and cells[5] == "yes"
    ok = target_row(_rate_target(66 * 101 // 149), c, float(values[0]), float(se[0]), int(n[0]), seed=1)
    assert ok.passed and ok.p_value > 0.5
    rows = suite_json([CaseResult("x", "X", [row, ok])])[0]["rows"]
    assert rows[0]["p_value"] < 0.05 and rows[0]["overlap"] is True and rows[1]["passed"] is True


def test_predictive_check_dispatches_on_the_target_kind():
    c = _cohort()
    land = predictive_check(_landmark_target(0.3, 80), c, 0.3, 0.04, seed=0)
    assert land.n == 80 and 0.0 <= land.p <= 1.0 and "Kaplan-Meier" in land.method
    rate = predictive_check(_rate_target(59), c, 66 / 149, 0.04, seed=0)
    assert rate.n == 101
    t = ValueTarget(name="tmax", quantity="tmax_median", value=9.3, rel_sd=0.2, source="[E] t")
    assert predictive_check(t, c, 9.3, 0.05).n is None


def test_calibrate_checks_its_settings_before_simulating_anything():
    assert min_design_points(5) == 9
    problem = SimpleNamespace(parameters=[object()] * 5)  # any simulation would fail on this stub

    with pytest.raises(InputError, match=r"design_points \(--design-points\) must be at least 9 for 5 fitted"):
        calibrate(problem, [], design_points=8, waves=2)
    with pytest.raises(InputError, match=r"--waves\) must be at least 1"):
        check_calibration_settings(5, design_points=9, waves=0)
    with pytest.raises(InputError, match="n_steps must exceed"):
        check_calibration_settings(2, design_points=9, waves=1, n_steps=400)
    check_calibration_settings(5, design_points=9, waves=1)  # the minimum is accepted
