"""`celltrial optimise` on the shipped MRD-monitoring example: a tiny budget and cohort, then a resumed run."""

import json

import duckdb
from typer.testing import CliRunner

from celltrial.cli import app

MRD = "scenarios/optimise_mrd_monitoring.yaml"


def invoke(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def test_optimise_writes_the_pareto_set_its_reevaluation_and_resumes(tmp_path):
    out = tmp_path / "study"
    first = invoke("optimise", MRD, "--budget", 4, "--patients", 4, "--out", out, "--json")
    assert first.exit_code == 0, first.output
    report = json.loads(first.stdout)
    assert report["study"]["evaluations"] == 4 and report["study"]["patients_per_rung"] == [4]
    fresh = report["reevaluation"]
    assert fresh["seed"] == report["study"]["reevaluation_seed"] != report["study"]["search_seed"]
    assert fresh["reference_arm"] == "current" and fresh["patients"] == 4 and fresh["policies"]
    for policy in fresh["policies"]:
        assert set(policy["optimism"]) == {"rmst_pfs_d730", "cost_per_patient", "doses_per_patient"}
        assert all(0.0 <= p <= 1.0 for p in policy["p_beats_reference"].values())
    assert json.loads((out / "pareto.json").read_text()) == report
    assert (out / "front_rmst_pfs_d730__cost_per_patient.png").stat().st_size > 0
    assert (out / "reevaluation.yaml").is_file() and report["reevaluation_run"]
    again = invoke("optimise", MRD, "--budget", 6, "--patients", 4, "--out", out, "--json")
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout)["study"]["this_run"] == 2
    rows = duckdb.sql(f"SELECT trial, rung FROM '{out / 'candidates.parquet'}'").fetchall()
    assert len(rows) == 6 == len(set(rows))
    table = invoke("optimise", MRD, "--budget", 6, "--patients", 4, "--out", out)
    assert table.exit_code == 0 and "Pareto policies" in table.output and "optimism" in table.output


def test_optimise_with_a_posterior_reports_the_spread_and_the_ranking(tmp_path):
    out = tmp_path / "study"
    run = invoke("optimise", MRD, "--budget", 2, "--patients", 4, "--out", out, "--json",
                 "--posterior", "docs/calibration/zuma1", "--draws", 3)
    assert run.exit_code == 0, run.output
    robust = json.loads(run.stdout)["robustness"]
    assert robust["case"] == "zuma1" and len(robust["draw_rows"]) == 3 and robust["patients"] == 4
    assert set(robust["ranking"]) == {"rmst_pfs_d730", "cost_per_patient", "doses_per_patient"}
    assert {r[0] for r in robust["ranking"]["rmst_pfs_d730"]} == set(robust["parameters"])
    assert (out / "robustness.png").stat().st_size > 0 and (out / "parallel_coordinates.png").stat().st_size > 0
