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
