"""Probabilistic sensitivity analysis across calibration posterior draws (`celltrial value`)."""

from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from celltrial.calibration.population import apply_values
from celltrial.cli import app
from celltrial.economics.psa import across_draws, psa_scenario, run_psa
from celltrial.errors import InputError
from celltrial.optimise.robustness import load_posterior, pick
from celltrial.scenarios import load_scenario
from celltrial.trials.trial import run_trial

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "scenarios" / "value_redosing.yaml"
ZUMA1 = ROOT / "docs" / "calibration" / "zuma1"


def test_across_draws_counts_positive_nmb_per_draw():
    r = across_draws([100.0, -50.0, 300.0], [1.0, 0.5, 1.0], wtp=[0.0, 200.0], grid=[0.0, 100.0, 1000.0])
    assert r["draws"] == 3
    assert r["acceptability"] == pytest.approx([1 / 3, 1 / 3, 1.0])
    assert r["p_cost_effective"] == {"0": pytest.approx(1 / 3), "200": pytest.approx(2 / 3)}
    assert r["nmb"]["200"]["mean"] == pytest.approx(np.mean([100.0, 150.0, -100.0]))
    assert r["mean_incremental_cost"] == pytest.approx(350.0 / 3)


def test_psa_matches_each_draw_run_directly(standard):
    scenario, _ = load_scenario(SCENARIO)
    result = run_psa(scenario, ZUMA1, draws=2, patients=3, seed=5, compiled=standard)
    assert len(result["draw_rows"]) == 2 and result["reference_arm"] == "autologous"
    m = result["comparisons"][0]["payment_models"]["list"]
    assert len(m["incremental_cost"]) == 2 and len(m["acceptability"]) == len(m["wtp"])
    posterior = load_posterior(ZUMA1)
    rows = pick(posterior, 2, 5)
    assert result["draw_rows"] == rows.tolist()
    direct = run_trial(apply_values(psa_scenario(scenario, 3, 5), posterior.parameters, posterior.draws[rows[1]]),
                       compiled=standard, keep_patients=False).summary["economics"]
    block = direct["comparisons"][0]["payment_models"]["list"]
    assert m["incremental_cost"][1] == pytest.approx(block["incremental_cost"], rel=1e-12)
    assert m["incremental_qalys"][1] == pytest.approx(block["incremental_qalys"], rel=1e-12)


def test_psa_refuses_a_foreign_posterior_and_one_arm():
    scenario, _ = load_scenario(SCENARIO)
    with pytest.raises(InputError, match="--posterior"):
        run_psa(scenario, ROOT / "docs" / "calibration" / "eliana", draws=2, patients=2, seed=1)
    one = scenario.model_copy(update={"arms": scenario.arms[:1]})
    with pytest.raises(InputError, match="arms"):
        run_psa(one, ZUMA1, draws=2, patients=2, seed=1)


def test_value_command_exits_2_on_a_folder_that_is_not_evidence(tmp_path):
    out = CliRunner().invoke(app, ["value", str(SCENARIO), "--posterior", str(tmp_path)])
    assert out.exit_code == 2 and "--posterior" in out.output
