"""The budget-impact view carries an off-the-shelf arm's lots, wasted doses and lot spend per year."""

import pytest

from celltrial.scenarios import load_scenario
from celltrial.scenarios.economics import Economics
from celltrial.trials.trial import apply_overrides, run_trial


def test_inventory_arms_reach_the_budget_view(standard):
    scenario, _ = load_scenario("scenarios/offshelf_long_game.yaml")
    scenario = apply_overrides(scenario, patients=20, replicates=1)
    scenario = scenario.model_copy(update={"economics": Economics(patients_per_year=500)})
    summary = run_trial(scenario, compiled=standard).summary
    budget = summary["economics"]["budget_impact"]["arms"]
    for name in ("nk-every-3-months", "nk-on-ctdna"):
        stock = summary["arms"][name]["inventory"]
        inv = budget[name]["inventory"]
        assert inv["lots_per_year"] == pytest.approx(stock["lots_mean"] * 500 / 20)
        assert inv["doses_wasted_per_year"] == pytest.approx(stock["doses_wasted_mean"] * 500 / 20)
        assert inv["lot_spend_per_year"] == pytest.approx(inv["lots_per_year"] * 2_500_000)
    assert "inventory" not in budget["autologous"]
