"""Bad `search:` blocks: a ScenarioError naming the field, and exit 2 from `celltrial optimise`."""

import pytest
from typer.testing import CliRunner

from celltrial.cli import app
from celltrial.errors import ScenarioError
from celltrial.optimise import check_search
from celltrial.optimise.metrics import measure
from celltrial.scenarios import parse_scenario

from .synthetic import TEXT

GOOD_VARIABLE = "{path: policy.every_days, low: 7, high: 182, step: 7}"


def _text(variable=GOOD_VARIABLE, objective="{minimise: cost_per_patient}", extra=""):
    base = TEXT.replace("OBJECTIVES", objective)
    start = base.index("    - {path: policy.every_days")
    end = base.index("  objectives:")
    return base[:start] + f"    - {variable}\n" + base[end:] + extra


CASES = {
    "unknown path": (_text(variable="{path: policy.every_day, low: 7, high: 182}"),
                     r"search\.variables\.0\.path: unknown path 'policy\.every_day'.*did you mean 'every_days'"),
    "unset group": (_text(variable="{path: changes.dose.cells, low: 1.0e8, high: 1.0e9}"),
                    r"search\.variables\.0\.path: .*changes\.dose is not set"),
    "empty range": (_text(variable="{path: policy.every_days, low: 90, high: 90}"),
                    r"search\.variables\.0: empty range: low \(90\) must be below high \(90\)"),
    "range the arm refuses": (_text(variable="{path: policy.every_days, low: 0, high: 90}"),
                              r"search\.variables\.0\.low: 0\.0 at policy\.every_days is not a valid arm"),
    "objective not a column": (_text(objective="{maximise: pfs_rate}"),
                               r"search\.objectives\.0\.maximise: 'pfs_rate' is not a summary column"),
    "landmark past follow-up": (_text(objective="{maximise: pfs_d400}"),
                                r"search\.objectives\.0\.maximise: 'pfs_d400' is not a summary column"),
    "infeasible constraint": (_text(extra="  constraints: [{column: crs_grade3plus_rate, max: -0.01}]\n"),
                              r"search\.constraints\.0\.column: infeasible constraint: crs_grade3plus_rate lies in "
                              r"\[0, 1\]"),
    "min above max": (_text(extra="  constraints: [{column: cr_rate, min: 0.5, max: 0.2}]\n"),
                      r"search\.constraints\.0: infeasible: min \(0\.5\) is above max \(0\.2\)"),
    "unknown arm": (_text().replace("arm: searched", "arm: serched"),
                    r"search\.arm: no arm named 'serched' \(did you mean 'searched'\?\)"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_bad_search_block_names_the_field(case):
    text, pattern = CASES[case]
    with pytest.raises(ScenarioError, match=pattern):
        check_search(parse_scenario(text))


@pytest.mark.parametrize("case", ["unknown path", "empty range", "objective not a column", "infeasible constraint"])
def test_optimise_exits_2_on_a_bad_search_block(case, tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(CASES[case][0])
    result = CliRunner().invoke(app, ["optimise", str(path), "--out", str(tmp_path / "study"), "--budget", "1"])
    assert result.exit_code == 2, result.output
    assert "search." in result.output and not (tmp_path / "study").exists()


def test_a_scenario_without_a_search_block_exits_2(tmp_path):
    result = CliRunner().invoke(app, ["optimise", "scenarios/quickstart.yaml", "--out", str(tmp_path)])
    assert result.exit_code == 2 and "search" in result.output


@pytest.mark.parametrize("budget", ["0", "ten", "2.5", "5d"])
def test_a_bad_budget_exits_2(budget, tmp_path):
    result = CliRunner().invoke(app, ["optimise", "scenarios/optimise_mrd_monitoring.yaml", "--budget", budget,
                                      "--out", str(tmp_path)])
    assert result.exit_code == 2 and "--budget" in result.output


def test_landmark_survival_is_the_fraction_without_the_event_by_that_day():
    table = {"status": ["OK"] * 4 + ["MAX_STEPS"], "pfs_days": [100.0, 180.0, 181.0, 365.0, 1.0],
             "pfs_event": [True, True, True, False, True]}
    assert measure(table, ["pfs_d180", "rmst_pfs_d200"], 365.0) == pytest.approx(
        {"pfs_d180": 0.5, "rmst_pfs_d200": (100 + 180 + 181 + 200) / 4}, abs=1e-12)
