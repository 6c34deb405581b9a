"""The search loop on a synthetic problem: known optimum, common random numbers, resume, honest re-evaluation."""

import json

import numpy as np
import optuna
import pytest

from celltrial.optimise import Evaluator, StudyFolder, fingerprint, optimise, parse_budget, reevaluate
from celltrial.optimise.halving import next_promotion
from celltrial.optimise.search import distributions

from .synthetic import BOTH, scenario, simulate


def _study(tmp_path, s=None, budget="20"):
    s = s or scenario()
    ev = Evaluator(s, simulate=simulate)
    folder = StudyFolder(tmp_path, fingerprint(s), reevaluation_seed=s.search.reevaluate.seed)
    return ev, folder, optimise(ev, folder, parse_budget(budget))


def test_finds_the_brute_force_optimum_within_one_grid_step_in_40_evaluations(tmp_path):
    s = scenario()
    ev = Evaluator(s, simulate=simulate)
    grid = [(e, m) for e in range(7, 183, 7) for m in range(11)]  # 286 candidates
    brute = min(grid, key=lambda g: ev.evaluate({"policy.every_days": float(g[0]), "policy.max_doses": g[1]},
                                                 32).values["cost_per_patient"])
    assert brute == (63, 4)
    _, _, result = _study(tmp_path, s, "40")
    best = result.pareto[0]["params"]  # one objective: the front is the best candidate at the top rung
    assert result.pareto[0]["patients"] == 32
    assert abs(best["policy.every_days"] - 63) <= 7 and abs(best["policy.max_doses"] - 4) <= 1


def test_the_same_candidate_twice_gives_identical_objectives():
    ev = Evaluator(scenario(), simulate=simulate)
    a = ev.evaluate({"policy.every_days": 70.0, "policy.max_doses": 3}, 16)
    b = ev.evaluate({"policy.every_days": 70.0, "policy.max_doses": 3}, 16)
    assert a.values == b.values and a.seed == b.seed == 5


def test_more_patients_extend_the_same_twins():
    ev = Evaluator(scenario(), simulate=simulate)
    values = {"policy.every_days": 70.0, "policy.max_doses": 3}
    small, large = ev.table(values, 8), ev.table(values, 16)
    np.testing.assert_array_equal(small["cost_total"], large["cost_total"][:8])


def test_successive_halving_gives_more_patients_only_to_promoted_candidates(tmp_path):
    _, _, result = _study(tmp_path, budget="20")
    by_rung = {k: [r for r in result.rows if r["rung"] == k] for k in range(3)}
    assert [r["patients"] for r in by_rung[1]] == [16] * len(by_rung[1]) and by_rung[1]
    assert {r["trial"] for r in by_rung[2]} <= {r["trial"] for r in by_rung[1]} <= {r["trial"] for r in by_rung[0]}
    for j, row in enumerate(result.rows):  # each promotion was due by the rule when it was made (ASHA)
        if row["rung"] > 0:
            assert next_promotion(result.rows[:j], [8, 16, 32], 2, ["cost_per_patient"], ["minimize"]) == \
                (row["trial"], row["rung"])


def test_a_larger_budget_continues_the_study_without_repeating_evaluations(tmp_path):
    _, _, first = _study(tmp_path, budget="8")
    before = (tmp_path / "evaluations.jsonl").read_text().splitlines()
    _, _, second = _study(tmp_path, budget="14")
    after = (tmp_path / "evaluations.jsonl").read_text().splitlines()
    assert len(before) == 8 and len(after) == 14 and after[:8] == before and second.new == 6
    keys = [(r["trial"], r["rung"]) for r in second.rows]
    assert len(set(keys)) == len(keys)
    new_params = [json.dumps(r["params"], sort_keys=True) for r in second.rows[8:] if r["rung"] == 0]
    old_params = {json.dumps(r["params"], sort_keys=True) for r in first.rows if r["rung"] == 0}
    assert not set(new_params) & old_params  # the resumed sampler does not redraw the first candidates


def test_a_candidate_killed_mid_evaluation_is_evaluated_on_resume(tmp_path):
    s = scenario()
    _study(tmp_path, s, "4")
    folder = StudyFolder(tmp_path, fingerprint(s))
    study = folder.optuna_study(s.search, None)
    lost = study.ask(distributions(s.search))  # asked, never told: the process died while simulating it
    with open(tmp_path / "evaluations.jsonl", "a") as f:
        f.write('{"trial": 99, "rung"')  # and a half-written line
    _, _, result = _study(tmp_path, s, "5")
    assert len(result.rows) == 5 and result.rows[-1]["params"] == lost.params
    states = [t.state for t in folder.optuna_study(s.search, None).trials]
    assert optuna.trial.TrialState.RUNNING not in states


def test_a_study_of_another_search_is_refused(tmp_path):
    _study(tmp_path, budget="2")
    with pytest.raises(ValueError, match="--out .*another search"):
        _study(tmp_path, scenario(BOTH), "2")


def test_reevaluation_uses_a_fresh_recorded_seed_and_reports_the_optimism(tmp_path):
    s = scenario(BOTH)
    ev, folder, result = _study(tmp_path, s, "16")
    seed = json.loads((tmp_path / "study.json").read_text())["reevaluation_seed"]
    assert seed == folder.meta["reevaluation_seed"] and seed != ev.seed
    honest = reevaluate(ev, result.pareto, patients=40, seed=seed)
    assert honest["seed"] == seed and honest["scenario"].seed == seed and result.pareto
    for e in honest["policies"]:
        assert e["optimism"]["cost_per_patient"] == pytest.approx(e["fresh"]["cost_per_patient"]
                                                                   - e["search"]["cost_per_patient"], abs=1e-12)
        assert e["optimism"]["pfs_d180"] == pytest.approx(e["search"]["pfs_d180"] - e["fresh"]["pfs_d180"],
                                                          abs=1e-12)
        assert e["fresh_low"]["cost_per_patient"] <= e["fresh"]["cost_per_patient"] <= e["fresh_high"][
            "cost_per_patient"]
        assert 0.0 <= e["p_beats_reference"]["cost_per_patient"] <= 1.0
    fresh = simulate(honest["scenario"])
    cost = fresh["cost_total"][fresh["arm"] == "pareto-1"].mean()
    assert honest["policies"][0]["fresh"]["cost_per_patient"] == pytest.approx(cost, rel=1e-12)


def test_a_policy_equal_to_the_reference_beats_it_with_probability_one_half(tmp_path):
    s = scenario(BOTH)
    ev = Evaluator(s, simulate=simulate)
    row = {"trial": 0, "params": {"policy.every_days": 91.0, "policy.max_doses": 7},
           "values": ev.evaluate({"policy.every_days": 91.0, "policy.max_doses": 7}, 16).values}
    honest = reevaluate(ev, [row], patients=30, seed=123)
    assert honest["policies"][0]["p_beats_reference"] == {"cost_per_patient": 0.5, "pfs_d180": 0.5}
    better = {"trial": 1, "params": {"policy.every_days": 63.0, "policy.max_doses": 4}, "values": row["values"]}
    honest = reevaluate(ev, [better], patients=30, seed=123)
    assert honest["policies"][0]["p_beats_reference"]["cost_per_patient"] > 0.99


def test_a_new_study_evaluates_the_current_protocol_first(tmp_path):
    _, _, result = _study(tmp_path, budget="3")
    assert result.rows[0]["params"] == {"policy.every_days": 91.0, "policy.max_doses": 7}  # the searched arm's


def test_a_current_protocol_off_the_grid_is_not_enqueued(tmp_path):
    s = scenario()
    off = s.model_copy(update={"arms": [s.arms[0], s.arms[1].model_copy(update={
        "policy": s.arms[1].policy.model_copy(update={"every_days": 90.0})})]})  # 90 is not on the 7-day grid
    _, _, result = _study(tmp_path, off, budget="3")
    assert result.rows[0]["params"]["policy.every_days"] != 90.0


def test_the_reevaluation_flags_a_policy_the_reference_dominates(tmp_path):
    ev, folder, result = _study(tmp_path, scenario(BOTH), budget="12")
    worse = {"trial": 99, "params": {"policy.every_days": 7.0, "policy.max_doses": 10},
             "values": {"cost_per_patient": 1.0, "pfs_d180": 1.0}}
    honest = reevaluate(ev, [worse], patients=16, seed=3)
    e = honest["policies"][0]
    assert e["fresh"]["cost_per_patient"] > honest["reference"]["cost_per_patient"]
    assert e["fresh"]["pfs_d180"] < honest["reference"]["pfs_d180"] and e["dominated_by_reference"]
    assert not any(p["dominated_by_reference"] for p in reevaluate(ev, result.pareto, patients=16, seed=3)["policies"]
                   if p["fresh"]["pfs_d180"] > honest["reference"]["pfs_d180"])
