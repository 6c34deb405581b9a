"""The scenario's economics block: validation, and a run's summary['economics'] end to end."""

import json
from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError

from celltrial.scenarios import load_scenario
from celltrial.scenarios.economics import Economics
from celltrial.trials.trial import apply_overrides, run_trial

SCENARIO = Path(__file__).resolve().parents[2] / "scenarios" / "value_redosing.yaml"


def test_economics_block_defaults_are_the_sourced_ones():
    e = Economics()
    assert (e.discounting.rate, e.discounting.method) == (0.035, "annual")
    assert e.utilities.progression_free == 0.73 and e.utilities.crs_by_grade[3] == 0.23
    assert e.extrapolation.horizon_years is None


@pytest.mark.parametrize("bad, field", [
    ({"payment_models": [{"name": "x", "kind": "upfront"}, {"name": "x", "kind": "upfront"}]}, "unique"),
    ({"payment_models": [{"name": "list", "kind": "upfront"}]}, "unique"),
    ({"payment_models": [{"name": "s", "kind": "subscription"}]}, "annual_fee"),
    ({"payment_models": [{"name": "o", "kind": "outcomes_based", "milestones_days": [365, 180]}]}, "increase"),
    ({"utilities": {"progressed": 1.2}}, "progressed"),
    ({"discounting": {"rate": 0.035, "method": "monthly"}}, "method"),
])
def test_bad_economics_blocks_are_refused_naming_the_field(bad, field):
    with pytest.raises(ValidationError, match=field):
        Economics.model_validate(bad)


def test_a_run_with_an_economics_block_summarises_it_and_payer_cost_reconciles(standard):
    scenario, _ = load_scenario(SCENARIO)
    out = run_trial(apply_overrides(scenario, patients=6, replicates=2), compiled=standard, keep_patients=False)
    e = out.summary["economics"]
    json.dumps(e)  # JSON-ready
    assert set(e["arms"]) == {"autologous", "offshelf-q3m"}
    assert e["settings"]["payment_models"] == ["list", "one-time", "outcomes", "per-dose-capped", "annuity"]
    for arm in e["arms"].values():
        for m in arm["payment_models"].values():
            assert m["payer_cost_per_patient"] == pytest.approx(arm["care_cost_per_patient"]
                                                                + m["maker_revenue_per_patient"], rel=1e-9)
    # the list model reproduces the run's own product cost (undiscounted)
    p = out.patients
    for name, arm in e["arms"].items():
        mine = np.asarray(p["arm"]) == name
        assert arm["payment_models"]["list"]["product_payment_undiscounted_per_patient"] == pytest.approx(
            float(np.mean(p["cost_product"][mine])), rel=1e-9)
    assert e["comparisons"][0]["payment_models"]["list"]["replicates"]["replicates"] == 2


def test_a_run_may_offer_the_mixture_cure_fit(standard):
    scenario, _ = load_scenario(SCENARIO)
    e = scenario.economics
    ext = e.extrapolation.model_copy(update={"distributions": ["weibull", "cure_weibull"]})
    scenario = apply_overrides(scenario, patients=8, replicates=1).model_copy(
        update={"economics": e.model_copy(update={"extrapolation": ext})})
    out = run_trial(scenario, compiled=standard, keep_patients=False).summary["economics"]
    fits = [a["extrapolation"][k] for a in out["arms"].values() for k in ("pfs", "os")]
    assert any("cure_weibull" in f["aic"] for f in fits)
    assert all(a["qalys"] is not None and np.isfinite(a["qalys"]) for a in out["arms"].values())


def _with_upkeep(scenario, upkeep):
    e = scenario.economics
    ext = e.extrapolation.model_copy(update={"maintenance_cost_per_year": upkeep})
    return scenario.model_copy(update={"economics": e.model_copy(update={"extrapolation": ext})})


def test_maintenance_costs_beyond_follow_up_accrue_on_the_progression_free_tail(standard):
    from celltrial.economics.qaly import Utilities
    from celltrial.economics.summary import _arm_rows, _Settings, arm_qalys

    scenario, _ = load_scenario(SCENARIO)
    scenario = apply_overrides(scenario, patients=8, replicates=1)
    plain = run_trial(scenario, compiled=standard).summary["economics"]
    out = run_trial(_with_upkeep(scenario, {"offshelf-q3m": 40_000.0}), compiled=standard)
    e = out.summary["economics"]
    assert "cost_beyond_follow_up_per_patient" not in plain["arms"]["autologous"]
    auto, off = e["arms"]["autologous"], e["arms"]["offshelf-q3m"]
    assert auto.pop("cost_beyond_follow_up_per_patient") == 0.0 and auto == plain["arms"]["autologous"]
    extra = off["cost_beyond_follow_up_per_patient"]
    # by hand: 40,000 a year times each on-maintenance, progression-free patient's discounted PF tail
    p = out.patients
    arm = np.asarray(p["arm"]).astype(str)
    rows = _arm_rows(p, (arm == "offshelf-q3m") & (np.asarray(p["status"]).astype(str) == "OK"))
    s = _Settings(scenario.economics.model_dump(), scenario.follow_up_days)
    q = arm_qalys(rows, s)[2]
    on = (rows["doses"] > 1) & ~rows["pfs_event"]
    assert extra == pytest.approx(40_000.0 * float(np.mean(np.where(on, q["tail_years_progression_free"], 0.0))))
    assert Utilities().progression_free * q["tail_years_progression_free"] == pytest.approx(
        q["tail_progression_free"])
    for name, m in off["payment_models"].items():
        before = plain["arms"]["offshelf-q3m"]["payment_models"][name]["payer_cost_per_patient"]
        assert m["payer_cost_per_patient"] == pytest.approx(before + extra, rel=1e-9)
        assert m["payer_cost_per_patient"] == pytest.approx(off["care_cost_per_patient"]
                                                            + m["maker_revenue_per_patient"], rel=1e-9)


def test_maintenance_cost_for_an_unknown_arm_is_refused_naming_the_field():
    from celltrial.scenarios.loader import semantic_problems

    scenario, _ = load_scenario(SCENARIO)
    problems = semantic_problems(_with_upkeep(scenario, {"nope": 1.0}))
    assert any("economics.extrapolation.maintenance_cost_per_year" in p and "nope" in p for p in problems)


def test_maintenance_cost_beyond_follow_up_on_a_synthetic_table():
    from celltrial.economics.summary import economics_summary

    n = 6
    alive = np.array([False, False, False, True, True, True])
    p = {"arm": np.array(["b"] * n), "replicate": np.zeros(n, int), "status": np.array(["OK"] * n),
         "pfs_days": np.array([100.0, 200.0, 300.0, 365.0, 365.0, 365.0]), "pfs_event": ~alive,
         "os_days": np.array([100.0, 200.0, 300.0, 365.0, 365.0, 365.0]), "os_event": ~alive,
         "crs_grade": np.zeros(n, int), "doses": np.array([1, 1, 2, 3, 3, 1]), "dose_multiples": np.ones(n),
         "cost_product": np.full(n, 10.0), "cost_total": np.full(n, 10.0), "last_dose_day": np.zeros(n)}
    settings = {"discounting": {"rate": 0.0}, "extrapolation": {"horizon_years": 5.0}}
    plain = economics_summary(p, settings, prices={"b": 10.0}, follow_up_days=365.0)["arms"]["b"]
    settings["extrapolation"]["maintenance_cost_per_year"] = 1000.0
    arm = economics_summary(p, settings, prices={"b": 10.0}, follow_up_days=365.0)["arms"]["b"]
    tail = plain["qaly_parts"]["tail_progression_free"] / 0.73 * n / 3  # years per alive patient (3 alike)
    assert tail > 0
    # patients 4 and 5 (three doses, progression-free at censoring) pay; patient 6 (one dose) does not
    assert arm["cost_beyond_follow_up_per_patient"] == pytest.approx(1000.0 * 2 * tail / n)
    assert arm["care_cost_per_patient"] == pytest.approx(plain["care_cost_per_patient"] + 1000.0 * 2 * tail / n)
