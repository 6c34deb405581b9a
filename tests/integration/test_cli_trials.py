"""The trial commands through typer's runner: run, runs, report, compare, simulate, export-sbml.

Small cohorts of the shipped scenarios; the results store lives in a temporary folder.
"""

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from celltrial.cli import app

QUICK = "scenarios/quickstart.yaml"
SEED_TRIAL = "scenarios/tscm_vs_standard.yaml"
runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return tmp_path_factory.mktemp("runs") / "runs.duckdb"


@pytest.fixture(scope="module")
def quick_json(store):
    result = invoke("run", QUICK, "--patients", 12, "--seed", 7, "--json", "--out", store)
    assert result.exit_code == 0, result.output
    return result.stdout


def test_run_json_has_the_contracted_fields(quick_json):
    summary = json.loads(quick_json)
    arm = summary["arms"]["axi-cel"]
    assert arm["n"] == 12 and summary["status_counts"] == {"OK": 12}
    for key in ("cr_rate", "orr_rate", "crs_grade3plus_rate"):
        assert {"estimate", "low", "high"} <= set(arm[key])
        assert 0.0 <= arm[key]["low"] <= arm[key]["estimate"] <= arm[key]["high"] <= 1.0
    for key in ("median_pfs_days", "median_os_days"):
        assert {"estimate", "low", "high"} <= set(arm[key])
    assert arm["cmax_cells_uL_median"] > 0 and arm["cost_per_patient"] > 0


def test_same_seed_gives_identical_json_whatever_the_chunking(store, quick_json):
    again = invoke("run", QUICK, "--patients", 12, "--seed", 7, "--json", "--out", store, "--chunk-size", 5)
    assert again.exit_code == 0, again.output
    assert again.stdout == quick_json
    other = invoke("run", QUICK, "--patients", 12, "--seed", 8, "--json", "--out", store)
    assert other.stdout != quick_json


def test_runs_report_and_compare_reopen_the_store(store, quick_json, tmp_path):
    listed = invoke("runs", "--out", store, "--json")
    assert listed.exit_code == 0, listed.output
    rows = json.loads(listed.stdout)
    assert len(rows) >= 1 and rows[0]["scenario_name"] == "quickstart"
    report = invoke("report", rows[-1]["run_id"], "--out", store, "--json", "--html", tmp_path / "r.html")
    assert report.exit_code == 0, report.output
    assert json.loads(report.stdout) == json.loads(quick_json)  # re-reported, not re-simulated
    assert (tmp_path / "r.html").stat().st_size > 10_000
    compared = invoke("compare", rows[-1]["run_id"], "latest", "--out", store, "--json")
    assert compared.exit_code == 0, compared.output
    assert any(r["endpoint"].startswith("CR rate") for r in json.loads(compared.stdout))


def test_unknown_run_is_bad_input(store):
    result = invoke("report", "no-such-run", "--out", store)
    assert result.exit_code == 2 and "no-such-run" in result.output


def test_bad_scenarios_exit_2_with_the_field(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\ntitle: X\ndisease: lbcl\narms: [{name: a, product: axi-cel-like}]\ncohort: {patiens: 3}\n")
    result = invoke("run", bad, "--out", tmp_path / "db.duckdb")
    assert result.exit_code == 2
    assert "cohort.patiens" in result.output and "did you mean 'patients'" in result.output
    missing = invoke("run", tmp_path / "nope.yaml", "--out", tmp_path / "db.duckdb")
    assert missing.exit_code == 2 and "not found" in missing.output


def test_seed_trial_with_replicates_reports_count_distributions(tmp_path):
    result = invoke("run", SEED_TRIAL, "--patients", 3, "--replicates", 4, "--json", "--out", tmp_path / "db.duckdb")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    rep = summary["replicates"]
    assert rep["n"] == 4
    dist = rep["arms"]["tscm"]["cr_count"]["distribution"]
    assert sum(dist.values()) == pytest.approx(1.0)
    assert set(summary["arms"]) == {"standard", "tscm"} and summary["arms"]["tscm"]["n"] == 12
    assert 0.0 <= rep["success"]["probability"]["estimate"] <= 1.0


def test_simulate_csv_matches_the_exported_sbml(tmp_path):
    roadrunner = pytest.importorskip("roadrunner")
    csv = invoke("simulate", QUICK, "--arm", "axi-cel", "--patient", 2, "--csv", "--patients", 12)
    assert csv.exit_code == 0, csv.output
    lines = csv.stdout.strip().splitlines()
    header = lines[0].split(",")
    data = np.array([[float(x) for x in line.split(",")] for line in lines[1:]])
    sbml = tmp_path / "p2.xml"
    exported = invoke("export-sbml", QUICK, "--arm", "axi-cel", "--patient", 2, "--patients", 12, "-o", sbml)
    assert exported.exit_code == 0, exported.output
    rr = roadrunner.RoadRunner(str(sbml))
    rr.integrator.relative_tolerance = 1e-8
    rr.integrator.absolute_tolerance = 1e-6  # cells: tighter makes CVODE give up near extinction
    days = data[:, 0]
    check = ["Bp", "C_T", "N", "IL6", "car_copies", "ctdna"]
    sim = rr.simulate(times=days, selections=["time"] + check)
    for name in check:
        ours = data[:, header.index(name)]
        theirs = np.asarray(sim[name])
        scale = np.abs(ours).max()
        assert np.allclose(ours, theirs, rtol=2e-3, atol=1e-3 * scale), name
