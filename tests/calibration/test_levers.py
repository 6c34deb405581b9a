"""The levers validation case's judging rules on hand-built twins (the simulation runs in validate --quick)."""

import numpy as np

from celltrial.calibration.levers import ARMS, _monotone_row, _paired, levers_scenario


def _arms(values):
    return {name: {"cr": np.asarray(v, float)} for name, v in values.items()}


def test_paired_difference_and_its_standard_error():
    diff, se = _paired([0, 0, 1, 1], [1, 0, 1, 1])
    assert diff == 0.25 and np.isclose(se, 0.25)


def test_dose_ladder_passes_when_rising_and_fails_on_a_significant_fall():
    rng = np.random.default_rng(1)
    base = rng.random(400) < 0.3
    rising = _arms({"a": base, "b": base | (rng.random(400) < 0.2), "c": np.ones(400)})
    assert _monotone_row(rising, ["a", "b", "c"], "cr", "CR").passed
    falling = _arms({"a": np.ones(400), "b": base})
    row = _monotone_row(falling, ["a", "b"], "cr", "CR")
    assert not row.passed and "a -> b" in row.reason


def test_noise_within_monte_carlo_error_is_not_a_fall():
    rng = np.random.default_rng(2)
    base = rng.random(400) < 0.5
    flipped = base.copy()
    flipped[:3] = ~flipped[:3]  # a few twins differ either way
    assert _monotone_row(_arms({"a": base, "b": flipped}), ["a", "b"], "cr", "CR").passed


def test_scenario_treats_every_twin_in_every_arm():
    s = levers_scenario(12)
    assert s.cohort.design == "paired" and [a.name for a in s.arms] == [n for n, _, _ in ARMS]
    assert s.arms[0].changes.lymphodepletion is False and s.arms[0].changes.parameters == {"gamma_T": 0.0}


def test_redose_row_counts_only_antigen_positive_relapses_that_were_redosed():
    from celltrial.calibration.levers import _redose_rows

    n = 6
    standard = {"pfs_event": np.array([1, 1, 1, 1, 0, 1], bool), "pfs_days": np.full(n, 100.0),
                "progression_antigen_negative": np.array([0, 0, 0, 0, 0, 1], bool)}
    redose = {"policy_doses": np.array([1, 1, 1, 0, 1, 1]), "pfs_event": np.array([0, 1, 1, 1, 0, 1], bool),
              "pfs_days": np.array([365.0, 250.0, 120.0, 100.0, 365.0, 365.0])}
    (row,) = _redose_rows({"standard": standard, "redose-ctdna": redose})
    # twins 0-2 count (re-dosed, antigen-positive relapse); 0 and 1 gained >= 90 days, 2 did not
    assert row.simulated.startswith("66.7% of 3") and not row.passed  # above the 20-60% band


def test_twins_drop_a_patient_that_failed_in_any_arm_from_every_arm():
    from celltrial.calibration.levers import _twins

    names = [n for n, _, _ in ARMS]
    arm = np.repeat(names, 3)
    ids = np.tile([2, 0, 1], len(names))
    status = np.full(arm.size, "OK", dtype=object)
    status[names.index("no-ld") * 3 + 1] = "MAX_STEPS"  # patient 0 failed in one arm only
    twins = _twins({"arm": arm, "patient_id": ids, "status": status, "x": np.arange(arm.size)})
    assert all(list(t["patient_id"]) == [1, 2] for t in twins.values())
