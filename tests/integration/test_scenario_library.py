"""Every shipped scenario runs on a small cohort (2 patients per arm, 1 replicate)."""

from pathlib import Path

import numpy as np
import pytest

from celltrial.scenarios import load_scenario
from celltrial.trials.trial import apply_overrides, run_trial

SCENARIOS = sorted((Path(__file__).resolve().parents[2] / "scenarios").glob("*.yaml"))


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_shipped_scenario_runs_on_a_small_cohort(path, standard):
    scenario, _ = load_scenario(path)
    small = apply_overrides(scenario, patients=2, replicates=1)
    out = run_trial(small, compiled=standard)
    p = out.patients
    assert len(p["arm"]) == 2 * len(scenario.arms)
    assert set(p["status"]) == {"OK"}
    assert (p["cost_total"] > 0).all() and np.isfinite(p["os_days"]).all()
    assert set(out.summary["arms"]) == {a.name for a in scenario.arms}
