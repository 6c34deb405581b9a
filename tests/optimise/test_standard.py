"""The optimisation on the standard model: common random numbers, an inert variable, a brute-forced grid."""

import pytest

from celltrial.optimise import Evaluator, SearchSpec, StudyFolder, fingerprint, optimise, parse_budget
from celltrial.optimise.metrics import measure
from celltrial.scenarios import load_scenario
from celltrial.trials.trial import run_trial

MRD = "scenarios/optimise_mrd_monitoring.yaml"
VALUES = {"ctdna_assay.min_molecules": 2, "ctdna_schedule.pieces.0.every_days": 28.0, "changes.dose.cells": 3.0e8}


@pytest.fixture(scope="module")
def mrd():
    return load_scenario(MRD)[0]


def test_the_same_candidate_twice_gives_identical_objectives(standard, mrd):
    ev = Evaluator(mrd, compiled=standard)
    a, b = ev.evaluate(VALUES, 6), ev.evaluate(VALUES, 6)
    assert a.values == b.values and a.n_ok == 6


def test_an_inert_variable_leaves_every_objective_unchanged(standard, mrd):
    # without escalation (factor 1) the escalation cap changes nothing a patient receives
    flat = mrd.model_copy(update={"arms": [mrd.arms[0].model_copy(update={
        "policy": mrd.arms[0].policy.model_copy(update={"escalate_factor": 1.0})})]})
    ev = Evaluator(flat, compiled=standard)
    low = ev.evaluate({**VALUES, "policy.max_multiplier": 1.0}, 6)
    high = ev.evaluate({**VALUES, "policy.max_multiplier": 4.0}, 6)
    assert low.values == high.values
    other = ev.evaluate({**VALUES, "ctdna_schedule.pieces.0.every_days": 84.0}, 6)
    assert other.values["doses_per_patient"] != low.values["doses_per_patient"]  # a live variable does change them


def test_landmark_columns_equal_the_trial_summary(standard, mrd):
    ev = Evaluator(mrd, compiled=standard)
    out = run_trial(ev.trial_scenario(VALUES, 8), compiled=standard)
    arm = out.summary["arms"]["current"]
    found = measure(out.patients, ["pfs_d91", "cr_rate", "cost_per_patient"], mrd.follow_up_days)
    assert found["cr_rate"] == pytest.approx(arm["cr_rate"]["estimate"], abs=1e-12)
    assert found["cost_per_patient"] == pytest.approx(arm["cost_per_patient"], rel=1e-12)
    from celltrial.trials.statistics import landmark

    km = landmark(out.patients["pfs_days"], out.patients["pfs_event"], 91.0)["estimate"]
    assert found["pfs_d91"] == pytest.approx(km, abs=1e-12)


def test_the_optimiser_finds_the_brute_force_best_of_a_small_grid(standard, mrd, tmp_path):
    grid = [14.0, 42.0, 112.0]
    search = SearchSpec.model_validate({
        "arm": "current", "variables": [{"path": "ctdna_schedule.pieces.0.every_days", "choices": grid}],
        "objectives": [{"minimise": "doses_per_patient"}], "patients": {"start": 6, "max": 6}})
    s = mrd.model_copy(update={"search": search})
    ev = Evaluator(s, compiled=standard)
    doses = {g: ev.evaluate({"ctdna_schedule.pieces.0.every_days": g}, 6).values["doses_per_patient"] for g in grid}
    best = min(grid, key=doses.get)
    assert len(set(doses.values())) > 1  # the grid is not flat: there is a best to find
    result = optimise(ev, StudyFolder(tmp_path, fingerprint(s)), parse_budget("6"))
    found = result.pareto
    assert found and found[0]["values"]["doses_per_patient"] == doses[best]
    assert found[0]["params"]["ctdna_schedule.pieces.0.every_days"] in [g for g in grid if doses[g] == doses[best]]
