"""Endpoint rules on hand-built courses: Lugano-like response, PFS/DOR, crossings, time above, costs."""

import numpy as np
import pytest

from celltrial.scenarios.costs import Costs
from celltrial.trials.endpoints import costs_of
from celltrial.trials.response import classify, first_crossing, read_responses, time_above

DAYS = np.array([28.0, 90.0, 180.0, 365.0])
RULES = {"detection": 1e9, "pr_fraction": 0.5, "increase": 0.5}
BASE = 1e11


def responses(*burdens, baseline=BASE, death=np.inf):
    b = np.array([burdens], dtype=float)
    return read_responses(DAYS, b, np.array([baseline]), np.array([death]), **RULES)


def test_cr_then_relapse_is_pd_with_pfs_at_relapse():
    r = responses(1e8, 1e8, 2e9, 5e10)
    assert r["best_response"][0] == "CR" and r["cr"][0] and r["responder"][0]
    assert r["time_to_response_days"][0] == 28.0
    assert r["pfs_days"][0] == 180.0 and r["pfs_event"][0]
    assert r["duration_of_response_days"][0] == 180.0 - 28.0 and r["dor_event"][0]


def test_time_to_cr_is_the_first_complete_response_not_the_first_response():
    r = responses(0.3 * BASE, 1e8, 1e8, 1e8)  # PR at day 28, CR from day 90
    assert r["time_to_response_days"][0] == 28.0 and r["time_to_cr_days"][0] == 90.0
    assert np.isnan(responses(0.3 * BASE, 0.3 * BASE, 0.3 * BASE, 0.3 * BASE)["time_to_cr_days"][0])


def test_partial_response_needs_half_of_baseline():
    assert responses(0.5 * BASE, 0.4 * BASE, 0.4 * BASE, 0.4 * BASE)["best_response"][0] == "PR"
    assert responses(0.51 * BASE, 0.6 * BASE, 0.6 * BASE, 0.6 * BASE)["best_response"][0] == "SD"


def test_progression_is_relative_to_the_nadir_not_baseline():
    # nadir 2e10 at day 90; 3e10 (1.5 x nadir) at day 180 is progression although below baseline
    r = responses(4e10, 2e10, 3e10, 1e9)
    codes = classify(DAYS, np.array([[4e10, 2e10, 3e10, 1e9]]), np.array([BASE]), np.array([np.inf]), **RULES)
    assert codes.tolist() == [[1, 1, 3, 4]]  # PR, PR, PD, then not assessed
    assert r["best_response"][0] == "PR" and r["pfs_days"][0] == 180.0 and r["pfs_event"][0]


def test_no_progression_censors_pfs_at_last_assessment():
    r = responses(6e10, 6.5e10, 7e10, 8e10)  # nadir 6e10: PD would need 9e10
    assert r["best_response"][0] == "SD"
    assert r["pfs_days"][0] == 365.0 and not r["pfs_event"][0]
    assert np.isnan(r["time_to_response_days"][0]) and np.isnan(r["duration_of_response_days"][0])


def test_death_before_first_assessment_is_not_evaluable_and_a_pfs_event():
    r = responses(1e12, 1e12, 1e12, 1e12, death=20.0)
    assert r["best_response"][0] == "NE" and not r["responder"][0]
    assert r["pfs_days"][0] == 20.0 and r["pfs_event"][0]


def test_death_after_response_ends_pfs_and_response():
    r = responses(1e8, 1e8, 1e8, 1e8, death=200.0)
    assert r["pfs_days"][0] == 200.0 and r["pfs_event"][0]
    assert r["duration_of_response_days"][0] == 200.0 - 28.0


def test_immediate_progression():
    r = responses(2e11, 3e11, 3e11, 3e11)
    assert r["best_response"][0] == "PD" and r["pfs_days"][0] == 28.0


def test_first_crossing_interpolates_linearly_and_in_log():
    t = np.array([0.0, 1.0, 2.0])
    y = np.array([[0.0, 1.0, 3.0], [5.0, 4.0, 3.0]])
    np.testing.assert_allclose(first_crossing(t, y, np.array([2.0, 2.0])), [1.5, np.inf])
    y_log = np.array([[1.0, 10.0, 100.0]])
    np.testing.assert_allclose(first_crossing(t, y_log, np.array([1000.0 ** 0.5]), log=True), [1.5])


def test_time_above_matches_a_fine_grid():
    t = np.linspace(0.0, 10.0, 41)
    y = np.sin(t)[None, :]
    fine = np.linspace(0.0, 10.0, 400_001)
    exact = np.interp(fine, t, y[0]) >= 0.5
    assert time_above(t, y, 0.5)[0] == pytest.approx(exact.mean() * 10.0, abs=1e-3)


def test_costs_add_up():
    c = Costs()
    out = costs_of(np.array([2]), np.array([14.0]), np.array([3]), np.array([4]), ctdna_tests=np.array([3]),
                   unit_price=100.0, manufacturing=10.0, lymphodepletion=[1.0], costs=c)
    assert out["hospital_days"][0] == 14.0 + c.crs_days_by_grade[3]
    expected = 200.0 + 20.0 + c.lymphodepletion + out["hospital_days"][0] * c.hospital_day + 4 * c.imaging_test \
        + 3 * c.ctdna_test
    assert out["cost_total"][0] == pytest.approx(expected)
