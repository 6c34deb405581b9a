"""The optimiser's ``nmb_<wtp>`` column: its arm means reproduce the run summary's NMB."""

from pathlib import Path

import numpy as np
import pytest

from celltrial.optimise.metrics import measure, metric
from celltrial.scenarios import load_scenario
from celltrial.trials.trial import apply_overrides, run_trial

SCENARIO = Path(__file__).resolve().parents[2] / "scenarios" / "value_redosing.yaml"


@pytest.mark.parametrize("horizon, upkeep", [(None, None), (10, None), (10, 30_000.0)])
def test_nmb_column_equals_the_summary_nmb(standard, horizon, upkeep):
    scenario, _ = load_scenario(SCENARIO)
    scenario = apply_overrides(scenario, patients=6, replicates=2)
    extrapolation = scenario.economics.extrapolation.model_copy(update={"horizon_years": horizon,
                                                                            "maintenance_cost_per_year": upkeep})
    scenario = scenario.model_copy(update={"economics": scenario.economics.model_copy(
        update={"extrapolation": extrapolation})})
    out = run_trial(scenario, compiled=standard)
    e, settings = out.summary["economics"], scenario.economics.model_dump()
    arm = np.asarray(out.patients["arm"]).astype(str)
    found = {}
    for name, block in e["arms"].items():
        rows = {k: np.asarray(v)[arm == name] for k, v in out.patients.items()}
        found[name] = measure(rows, ["nmb_100000"], scenario.follow_up_days, settings)["nmb_100000"]
        expected = 100_000 * block["qalys"] - block["payment_models"]["list"]["payer_cost_per_patient"]
        assert found[name] == pytest.approx(expected, rel=1e-9)
    inc = e["comparisons"][0]["payment_models"]["list"]["incremental_nmb"]["100000"]
    assert found["offshelf-q3m"] - found["autologous"] == pytest.approx(inc, rel=1e-9, abs=1e-6)


def test_nmb_column_is_known_to_the_optimiser_with_defaults():
    m = metric("nmb_150000", follow_up=730.0)
    assert m is not None and m.unit == "currency" and m.low == -np.inf
    assert metric("nmb_x", follow_up=730.0) is None
