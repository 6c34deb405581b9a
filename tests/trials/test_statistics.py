"""Trial statistics agree with closed forms, with lifelines/scipy called directly, and with plain loops."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from lifelines import CoxPHFitter, KaplanMeierFitter
from lifelines.statistics import logrank_test
from lifelines.utils import median_survival_times
from scipy.stats import beta, chi2, norm

from celltrial.errors import InputError
from celltrial.trials.columns import COLUMNS
from celltrial.trials.replicates import check_criteria, distribution, replicate_summary
from celltrial.trials.statistics import (
    cox_hazard_ratio,
    km_median,
    km_table,
    landmark,
    logrank,
    rate,
    summarise,
)

_DEFAULTS = {"int": 0, "float": 0.0, "bool": False, "str": ""}


def _survival(rng, n, mean_days, follow_up):
    days = rng.exponential(mean_days, n)
    return np.minimum(days, follow_up), days < follow_up


def make_table(rng, arms, patients, replicates=1):
    """A full patients table: ``arms`` maps name -> (CR probability, mean PFS days); OK everywhere."""
    names = list(arms)
    arm = np.tile(np.repeat(names, patients), replicates)
    n = arm.size
    cr_p = np.array([arms[a][0] for a in arm])
    pfs_mean = np.array([arms[a][1] for a in arm])
    table = {name: np.full(n, _DEFAULTS[col.kind], dtype=object if col.kind == "str" else None)
             for name, col in COLUMNS.items()}
    cr = rng.random(n) < cr_p
    responder = cr | (rng.random(n) < 0.2)
    pfs_days, pfs_event = _survival(rng, n, pfs_mean, 365.0)
    os_days, os_event = _survival(rng, n, 2 * pfs_mean, 730.0)
    dor_days, dor_event = _survival(rng, n, 150.0, 300.0)
    table.update(
        arm=arm.astype(str), replicate=np.repeat(np.arange(replicates), len(names) * patients),
        patient=np.tile(np.arange(patients), len(names) * replicates), status=np.full(n, "OK", dtype="U16"),
        cr=cr, responder=responder, pfs_days=pfs_days, pfs_event=pfs_event, os_days=os_days, os_event=os_event,
        crs_grade=rng.integers(0, 5, n), time_to_response_days=np.where(responder, rng.choice([28.0, 90.0], n), np.nan),
        duration_of_response_days=np.where(responder, dor_days, np.nan), dor_event=responder & dor_event,
        cmax_cells_uL=rng.lognormal(3, 1, n), tmax_days=rng.uniform(7, 14, n), ctdna_d28=rng.lognormal(0, 2, n),
        auc0_28_cells_uL_day=rng.lognormal(6, 1, n), cost_total=rng.uniform(3e5, 5e5, n),
    )
    return {k: np.asarray(v) for k, v in table.items()}


# --- rates --------------------------------------------------------------------------------------


@pytest.mark.parametrize("k, n", [(0, 10), (3, 10), (10, 10), (1, 1), (17, 250), (499, 1000)])
def test_wilson_interval_matches_the_formula(k, n):
    z, p = norm.ppf(0.975), k / n
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z / (1 + z**2 / n) * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2))
    r = rate(k, n)
    assert r["method"] == "wilson" and r["events"] == k and r["n"] == n and r["estimate"] == p
    assert r["low"] == pytest.approx(max(centre - half, 0.0), abs=1e-12)
    assert r["high"] == pytest.approx(min(centre + half, 1.0), abs=1e-12)


@pytest.mark.parametrize("k, n", [(0, 10), (3, 10), (10, 10), (17, 250)])
def test_exact_interval_is_clopper_pearson(k, n):
    r = rate(k, n, method="exact")
    low = beta.ppf(0.025, k, n - k + 1) if k > 0 else 0.0
    high = beta.ppf(0.975, k + 1, n - k) if k < n else 1.0
    assert (r["low"], r["high"]) == (pytest.approx(low, abs=1e-10), pytest.approx(high, abs=1e-10))


def test_rate_degenerate_and_bad_input():
    assert rate(0, 0) == {"estimate": None, "low": None, "high": None, "events": 0, "n": 0, "method": "wilson"}
    with pytest.raises(InputError, match="did you mean 'wilson'"):
        rate(1, 2, method="wilsn")
    with pytest.raises(InputError, match="events <= n"):
        rate(3, 2)


# --- Kaplan-Meier ---------------------------------------------------------------------------------


def test_km_median_closed_form():
    # No censoring: S = 0.8, 0.6, 0.4, ... so the median is the third time.
    assert km_median([10.0, 20.0, 30.0, 40.0, 50.0], [1] * 5)["estimate"] == 30.0


def test_km_median_and_ci_match_lifelines(rng):
    d, e = _survival(rng, 200, 120.0, 200.0)
    kmf = KaplanMeierFitter().fit(d, e)
    low, high = median_survival_times(kmf.confidence_interval_).to_numpy().ravel()
    got = km_median(d, e)
    assert (got["estimate"], got["low"], got["high"]) == (kmf.median_survival_time_, low, high)
    assert got["n"] == 200 and got["events"] == int(e.sum())


def test_km_median_not_reached_or_empty_is_none():
    assert km_median([10.0, 20.0, 30.0, 40.0], [1, 0, 0, 0])["estimate"] is None  # S stays at 3/4
    empty = km_median([], [])
    assert (empty["estimate"], empty["low"], empty["high"], empty["n"]) == (None, None, None, 0)


def test_km_table_matches_lifelines_and_counts_at_risk(rng):
    d, e = _survival(rng, 60, 100.0, 150.0)
    d = np.round(d)  # ties, and times that coincide with durations
    times = [0.0, 30.0, float(d[0]), 90.0, 150.0]
    kmf = KaplanMeierFitter().fit(d, e)
    ci = kmf.confidence_interval_survival_function_
    table = km_table(d, e, times)
    for i, t in enumerate(times):
        assert table["survival"][i] == pytest.approx(float(kmf.survival_function_at_times(t).iloc[0]))
        assert table["low"][i] == pytest.approx(float(ci.loc[ci.index <= t].iloc[-1, 0]))
        assert table["high"][i] == pytest.approx(float(ci.loc[ci.index <= t].iloc[-1, 1]))
        assert table["at_risk"][i] == sum(1 for x in d if x >= t)


def test_landmark_beyond_the_last_observation():
    censored = landmark([30.0, 60.0, 90.0], [1, 0, 0], 100.0)
    assert censored["estimate"] is None and censored["at_risk"] == 0
    assert landmark([30.0, 60.0, 90.0], [1, 0, 0], 90.0)["estimate"] == pytest.approx(2 / 3)
    assert landmark([30.0, 60.0, 90.0], [1, 1, 1], 100.0)["estimate"] == 0.0  # everyone had the event
    assert landmark([], [], 10.0)["estimate"] is None


def test_survival_input_is_checked():
    with pytest.raises(InputError, match="NaN"):
        km_median([1.0, np.nan], [1, 0])
    with pytest.raises(InputError, match="2 durations but 1 events"):
        km_median([1.0, 2.0], [1])


# --- two-arm comparisons --------------------------------------------------------------------------


def _hand_logrank(d_a, e_a, d_b, e_b):
    """Textbook log-rank chi-square from the risk sets at each event time."""
    d = np.concatenate([d_a, d_b])
    e = np.concatenate([e_a, e_b]).astype(bool)
    in_b = np.repeat([False, True], [len(d_a), len(d_b)])
    observed = expected = variance = 0.0
    for t in np.unique(d[e]):
        at_risk, dead = d >= t, (d == t) & e
        n, n_b, deaths = at_risk.sum(), (at_risk & in_b).sum(), dead.sum()
        observed += (dead & in_b).sum()
        expected += deaths * n_b / n
        variance += deaths * (n_b / n) * (1 - n_b / n) * (n - deaths) / max(n - 1, 1)
    statistic = (observed - expected) ** 2 / variance
    return statistic, chi2.sf(statistic, 1)


def test_logrank_matches_hand_computation_and_lifelines(rng):
    d_a, e_a = _survival(rng, 40, 100.0, 150.0)
    d_b, e_b = _survival(rng, 50, 160.0, 150.0)
    d_a, d_b = np.ceil(d_a / 10) * 10, np.ceil(d_b / 10) * 10  # ties
    got = logrank(d_a, e_a, d_b, e_b)
    statistic, p = _hand_logrank(d_a, e_a, d_b, e_b)
    assert got["statistic"] == pytest.approx(statistic, rel=1e-10) and got["p"] == pytest.approx(p, rel=1e-10)
    direct = logrank_test(d_a, d_b, event_observed_A=e_a, event_observed_B=e_b)
    assert got["p"] == pytest.approx(direct.p_value, rel=1e-12) and got["note"] is None


def test_logrank_identical_groups_and_degenerate_cases():
    same = logrank([1.0, 2.0, 3.0], [1, 0, 1], [1.0, 2.0, 3.0], [1, 0, 1])
    assert same["statistic"] == pytest.approx(0.0, abs=1e-12) and same["p"] == pytest.approx(1.0)
    assert logrank([], [], [1.0], [1])["note"] == "arm a has no patients"
    assert logrank([1.0], [0], [2.0], [0]) == {"statistic": None, "p": None, "note": "no events in either arm"}


def test_cox_matches_lifelines(rng):
    d_a, e_a = _survival(rng, 60, 100.0, 200.0)
    d_b, e_b = _survival(rng, 60, 150.0, 200.0)
    frame = pd.DataFrame({"t": np.r_[d_a, d_b], "e": np.r_[e_a, e_b], "b": np.repeat([0, 1], 60)})
    row = CoxPHFitter().fit(frame, "t", "e").summary.loc["b"]
    got = cox_hazard_ratio(d_a, e_a, d_b, e_b)
    assert got["hr"] == pytest.approx(row["exp(coef)"], rel=1e-8)
    assert got["low"] == pytest.approx(row["exp(coef) lower 95%"], rel=1e-8)
    assert got["high"] == pytest.approx(row["exp(coef) upper 95%"], rel=1e-8)
    assert got["p"] == pytest.approx(row["p"], rel=1e-6) and got["note"] is None


def test_cox_recovers_the_true_hazard_ratio():
    rng = np.random.default_rng(7)
    d_a, e_a = _survival(rng, 2000, 200.0, 730.0)  # hazard 1/200 per day
    d_b, e_b = _survival(rng, 2000, 400.0, 730.0)  # hazard 1/400 per day: true HR 0.5
    got = cox_hazard_ratio(d_a, e_a, d_b, e_b)
    assert got["hr"] == pytest.approx(0.5, rel=0.10) and got["low"] < 0.5 < got["high"]


def test_cox_degenerate_cases_give_a_note_not_an_exception():
    no_b = cox_hazard_ratio([5.0, 8.0], [1, 1], [6.0, 9.0], [0, 0])
    assert no_b["hr"] is None and "no events in arm b" in no_b["note"]
    assert cox_hazard_ratio([], [], [6.0], [1])["note"] == "arm a has no patients"
    separated = cox_hazard_ratio([1.0, 2.0, 3.0, 4.0], [1] * 4, [10.0, 11.0, 12.0, 13.0], [1] * 4)
    assert separated["hr"] is None and "did not converge" in separated["note"]


# --- summary --------------------------------------------------------------------------------------


def test_summarise_counts_and_pooled_statistics(rng):
    table = make_table(rng, {"soc": (0.3, 90.0), "tscm": (0.6, 180.0)}, patients=40)
    table["status"][[0, 45]] = "MAX_STEPS"
    table["cr"][[0, 45]] = True  # a failed patient is not counted even if marked CR
    out = summarise(table, landmarks_days=(180.0,))
    json.dumps(out, allow_nan=False)
    ok = table["status"] == "OK"
    for name in ("soc", "tscm"):
        arm = out["arms"][name]
        mine = ok & (table["arm"] == name)
        assert arm["n"] == 40 and arm["status"] == {"MAX_STEPS": 1, "OK": 39}
        assert arm["cr_rate"]["events"] == int(table["cr"][mine].sum()) and arm["cr_rate"]["n"] == 39
        assert arm["orr_rate"]["events"] == int(table["responder"][mine].sum())
        assert arm["crs_grade_counts"] == {str(g): int((table["crs_grade"][mine] == g).sum()) for g in range(5)}
        assert arm["crs_grade3plus_rate"]["events"] == int((table["crs_grade"][mine] >= 3).sum())
        assert arm["median_pfs_days"] == km_median(table["pfs_days"][mine], table["pfs_event"][mine])
        assert arm["landmarks"]["os"]["180"] == landmark(table["os_days"][mine], table["os_event"][mine], 180.0)
        assert arm["cost_per_patient"] == pytest.approx(table["cost_total"][mine].mean())
        responders = mine & table["responder"]
        assert arm["cost_per_responder"] == pytest.approx(table["cost_total"][mine].sum() / responders.sum())
        assert arm["median_duration_of_response_days"]["n"] == int(responders.sum())
        assert arm["cmax_cells_uL_median"] == pytest.approx(np.median(table["cmax_cells_uL"][mine]))
    (comparison,) = out["comparisons"]
    assert comparison["arms"] == ["soc", "tscm"] and out["replicates"] is None
    a, b = ok & (table["arm"] == "soc"), ok & (table["arm"] == "tscm")
    assert comparison["pfs"]["logrank"] == logrank(table["pfs_days"][a], table["pfs_event"][a],
                                                   table["pfs_days"][b], table["pfs_event"][b])
    assert comparison["os"]["hazard_ratio"]["hr"] < 1


def test_summarise_reference_arm_and_bad_input(rng):
    table = make_table(rng, {"a": (0.3, 90.0), "b": (0.5, 90.0), "c": (0.5, 90.0)}, patients=10)
    out = summarise(table, reference_arm="b")
    assert [c["arms"] for c in out["comparisons"]] == [["b", "a"], ["b", "c"]]
    with pytest.raises(InputError, match="did you mean 'b'"):
        summarise(table, reference_arm="bb")
    del table["pfs_event"]
    with pytest.raises(InputError, match="pfs_event"):
        summarise(table)


def test_summarise_arm_without_ok_patients_gives_none(rng):
    table = make_table(rng, {"a": (0.3, 90.0), "b": (0.5, 90.0)}, patients=5)
    table["status"][table["arm"] == "b"] = "NON_FINITE"
    arm = summarise(table)["arms"]["b"]
    assert arm["status"] == {"NON_FINITE": 5} and arm["cr_rate"]["estimate"] is None
    assert arm["median_pfs_days"]["estimate"] is None and arm["cost_per_patient"] is None
    assert summarise(table)["comparisons"][0]["pfs"]["hazard_ratio"]["note"] == "arm b has no patients"


# --- replicates -----------------------------------------------------------------------------------


def test_replicate_distributions_equal_a_loop(rng):
    table = make_table(rng, {"soc": (0.3, 90.0), "tscm": (0.6, 180.0)}, patients=11, replicates=300)
    table["status"][rng.random(table["arm"].size) < 0.05] = "MAX_STEPS"
    success = [{"arm": "tscm", "count": "cr", "at_least": 7, "at_most": None},  # None: as pydantic dumps it
               {"arm": "soc", "count": "crs_grade3plus", "at_most": 4}]
    out = replicate_summary(table, success)
    counts = {(arm, key): [0] * 300 for arm in ("soc", "tscm") for key in ("cr", "responder", "crs_grade3plus")}
    for i in range(table["arm"].size):
        if table["status"][i] == "OK":
            arm, r = str(table["arm"][i]), int(table["replicate"][i])
            counts[arm, "cr"][r] += bool(table["cr"][i])
            counts[arm, "responder"][r] += bool(table["responder"][i])
            counts[arm, "crs_grade3plus"][r] += int(table["crs_grade"][i]) >= 3
    assert out["n"] == 300
    for (arm, key), loop in counts.items():
        dist = out["arms"][arm][f"{key}_count"]
        assert dist["mean"] == pytest.approx(np.mean(loop)) and dist["sd"] == pytest.approx(np.std(loop, ddof=1))
        assert dist["quantiles"]["50"] == pytest.approx(np.median(loop))
        assert dist["distribution"] == {str(k): pytest.approx(loop.count(k) / 300) for k in range(max(loop) + 1)}
    holds = [counts["tscm", "cr"][r] >= 7 and counts["soc", "crs_grade3plus"][r] <= 4 for r in range(300)]
    assert out["success"]["criteria"] == ["tscm: CR count >= 7", "soc: CRS grade >= 3 count <= 4"]
    assert out["success"]["probability"] == rate(sum(holds), 300)
    assert 0 < sum(holds) < 300


def test_summarise_adds_replicates_only_when_there_are_several(rng):
    table = make_table(rng, {"soc": (0.3, 90.0), "tscm": (0.6, 180.0)}, patients=8, replicates=5)
    success = [{"arm": "soc", "count": "responder", "at_least": 2}]
    assert summarise(table, success=success)["replicates"] == replicate_summary(table, success)
    single = {k: v[table["replicate"] == 0] for k, v in table.items()}
    assert summarise(single, success=success)["replicates"] is None
    with pytest.raises(InputError, match="unknown arm 'sco'"):  # criteria are checked even then
        summarise(single, success=[{"arm": "sco", "count": "cr", "at_least": 1}])


def test_compare_criterion_equals_lifelines_per_replicate(rng):
    table = make_table(rng, {"soc": (0.3, 60.0), "tscm": (0.6, 240.0)}, patients=12, replicates=25)
    success = [{"compare": "pfs", "arms": ["soc", "tscm"], "logrank_p_below": 0.05}]
    out = replicate_summary(table, success)
    wins = 0
    for r in range(25):
        a = (table["replicate"] == r) & (table["arm"] == "soc")
        b = (table["replicate"] == r) & (table["arm"] == "tscm")
        p = logrank_test(table["pfs_days"][a], table["pfs_days"][b], table["pfs_event"][a], table["pfs_event"][b])
        wins += p.p_value < 0.05
    assert out["success"]["probability"]["events"] == wins
    assert out["success"]["criteria"] == ["PFS: log-rank p < 0.05, soc vs tscm"]


def test_distribution_of_counts():
    dist = distribution([0, 2, 2, 4])
    assert dist["mean"] == 2.0 and dist["quantiles"]["5"] == pytest.approx(0.3)
    assert distribution([3])["sd"] is None and distribution([])["mean"] is None


@pytest.mark.parametrize("criterion, message", [
    ({"arm": "tscn", "count": "cr", "at_least": 1}, "unknown arm 'tscn' \\(did you mean 'tscm'"),
    ({"arm": "tscm", "count": "crs", "at_least": 1}, "unknown count 'crs'"),
    ({"arm": "tscm", "count": "cr", "at_lest": 1}, "unknown key 'at_lest' \\(did you mean 'at_least'"),
    ({"arm": "tscm", "count": "cr", "at_least": 1, "at_most": 3}, "exactly one of"),
    ({"arm": "tscm", "count": "cr", "at_least": -1}, "whole number"),
    ({"compare": "pfs", "arms": ["soc", "soc"]}, "two different arms"),
    ({"compare": "dfs", "arms": ["soc", "tscm"]}, "unknown endpoint to compare 'dfs'"),
    ({"compare": "os", "arms": ["soc", "tscm"], "logrank_p_below": 2}, "logrank_p_below"),
])
def test_success_criteria_are_checked(criterion, message):
    with pytest.raises(InputError, match=message):
        check_criteria([criterion], ["soc", "tscm"])


def test_replicate_summary_scales_to_a_million_patients():
    rng = np.random.default_rng(1)
    n = 1_000_000
    table = {"arm": np.where(rng.random(n) < 0.5, "a", "b"), "replicate": rng.integers(0, 2000, n),
             "status": np.full(n, "OK"), "cr": rng.random(n) < 0.4, "responder": rng.random(n) < 0.6,
             "crs_grade": rng.integers(0, 5, n)}
    out = replicate_summary(table, [{"arm": "a", "count": "cr", "at_least": 100}])
    assert out["n"] == 2000
    assert out["arms"]["a"]["cr_count"]["mean"] * 2000 == pytest.approx((table["cr"] & (table["arm"] == "a")).sum())


def test_summarise_reports_icans_when_the_table_has_it(rng):
    table = make_table(rng, {"a": (0.3, 90.0)}, patients=30)
    table.pop("icans_grade", None)
    assert "icans_grade3plus_rate" not in summarise(table)["arms"]["a"]  # stores from before ICANS was modelled
    table["icans_grade"] = np.arange(30) % 5
    arm = summarise(table)["arms"]["a"]
    ok = table["status"] == "OK"
    assert arm["icans_grade3plus_rate"]["events"] == int((table["icans_grade"][ok] >= 3).sum())
    assert arm["icans_any_rate"]["events"] == int((table["icans_grade"][ok] >= 1).sum())
    assert arm["icans_grade_counts"] == {str(g): int((table["icans_grade"][ok] == g).sum()) for g in range(5)}


def test_arms_with_logistics_also_get_the_as_treated_population():
    """Intention to treat stays the arm's own summary; ``as_treated`` counts only the infused patients."""
    from celltrial.trials.columns import column_names

    n = 8
    table = {c: np.zeros(2 * n) for c in column_names()}
    table.update(arm=np.repeat(["auto", "offshelf"], n), status=np.array(["OK"] * (2 * n)),
                 cr=np.array([True, True, True, False, False, False, False, False] * 2),
                 infused=np.array([True, True, True, True, False, False, True, True] * 2),
                 pfs_days=np.full(2 * n, 30.0), os_days=np.full(2 * n, 60.0), crs_grade=np.zeros(2 * n, int))
    out = summarise(table, as_treated=("auto",))
    auto = out["arms"]["auto"]
    assert auto["cr_rate"]["events"] == 3 and auto["cr_rate"]["n"] == 8  # every enrolled patient
    assert auto["as_treated"]["n_infused"] == 6 and auto["as_treated"]["cr_rate"]["n"] == 6
    assert auto["as_treated"]["cr_rate"]["events"] == 3
    assert "as_treated" not in out["arms"]["offshelf"]
