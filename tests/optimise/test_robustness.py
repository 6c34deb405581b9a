"""Robustness to the model: the Pareto set over posterior draws, its spread and the sensitivity ranking."""

from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from celltrial.calibration.population import FitParameter
from celltrial.cli import app
from celltrial.errors import InputError
from celltrial.optimise import Evaluator
from celltrial.optimise.robustness import Posterior, check_applies, load_posterior, robustness
from celltrial.scenarios import load_scenario

from .synthetic import BOTH, scenario, simulate

PARAMETERS = [FitParameter("x_neg", "typical", 5.0, 1000.0, "lbcl"),
              FitParameter("il6_max", "typical", 1e3, 3e4, "lbcl")]
POLICIES = [{"params": {"policy.every_days": 63.0, "policy.max_doses": 4}},
            {"params": {"policy.every_days": 140.0, "policy.max_doses": 2}}]


def _posterior(n=40):
    rng = np.random.default_rng(3)
    draws = np.column_stack([rng.uniform(5.0, 1000.0, n), rng.uniform(1e3, 3e4, n)])
    return Posterior(Path("synthetic"), "synthetic", PARAMETERS, draws)


def _simulate_with_x_neg(s) -> dict:
    """The synthetic table, each policy arm's cost raised by x_neg / 100 (the reference arm's left alone)."""
    table = simulate(s)
    policy = np.char.startswith(table["arm"].astype(str), "pareto")
    table["cost_total"] = table["cost_total"] + policy * s.disease_changes["x_neg"] / 100.0
    return table


def test_the_parameter_that_moves_the_difference_ranks_first():
    ev = Evaluator(scenario(BOTH), simulate=_simulate_with_x_neg)
    out = robustness(ev, POLICIES, _posterior(), draws=12, patients=8, seed=4)
    assert len(out["draw_rows"]) == 12 == len(set(out["draw_rows"]))
    top, rho = out["ranking"]["cost_per_patient"][0]
    assert top == "x_neg" and rho == pytest.approx(1.0)
    for e in out["policies"]:
        assert e["sensitivity"]["cost_per_patient"]["x_neg"] == pytest.approx(1.0)
        spread = e["difference"]["cost_per_patient"]
        assert spread["p95"] - spread["p5"] > 5.0  # x_neg spans ~1000 over the draws: the difference moves by ~10
    assert out["moves"]["pfs_d180"] == 0.0  # survival does not depend on x_neg in this simulator


def test_the_share_of_draws_beating_the_reference_counts_the_draws():
    ev = Evaluator(scenario(BOTH), simulate=_simulate_with_x_neg)
    out = robustness(ev, POLICIES, _posterior(), draws=20, patients=8, seed=4)
    x_neg = np.array(out["drawn"])[:, 0]
    base = robustness(Evaluator(scenario(BOTH), simulate=simulate), POLICIES, _posterior(), draws=20, patients=8,
                      seed=4)
    for e, b in zip(out["policies"], base["policies"], strict=True):
        gap = b["difference"]["cost_per_patient"]["median"]  # the same in every draw without x_neg's effect
        assert e["p_beats_reference"]["cost_per_patient"] == pytest.approx(np.mean(gap + x_neg / 100.0 < 0))


def test_the_same_seed_picks_the_same_draws_and_another_seed_others():
    ev = Evaluator(scenario(BOTH), simulate=simulate)
    a, b, c = (robustness(ev, POLICIES, _posterior(), draws=5, patients=4, seed=s)["draw_rows"] for s in (1, 1, 2))
    assert a == b != c


def test_the_shipped_zuma1_posterior_loads_and_applies_to_lbcl_only():
    posterior = load_posterior("docs/calibration/zuma1")
    assert posterior.case == "zuma1" and posterior.draws.shape == (4000, len(posterior.labels))
    assert "omega(x_neg)" in posterior.labels
    check_applies(posterior, load_scenario("scenarios/optimise_mrd_monitoring.yaml")[0])
    with pytest.raises(InputError, match=r"--posterior: case 'zuma1' fits parameters of preset\(s\) \['lbcl'\].*"
                                         r"disease 'ovarian'"):
        check_applies(posterior, load_scenario("scenarios/optimise_rt_timing.yaml")[0])


def test_a_folder_without_a_posterior_is_refused_by_name(tmp_path):
    with pytest.raises(InputError, match="--posterior: .* is not a calibration evidence folder"):
        load_posterior(tmp_path)


def test_optimise_exits_2_before_searching_on_a_foreign_posterior(tmp_path):
    result = CliRunner().invoke(app, ["optimise", "scenarios/optimise_rt_timing.yaml", "--budget", "1",
                                      "--out", str(tmp_path / "study"), "--posterior", "docs/calibration/zuma1"])
    assert result.exit_code == 2 and "--posterior" in result.output
    assert not (tmp_path / "study").exists()
