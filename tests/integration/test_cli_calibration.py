"""`celltrial validate --quick` (the CI validation run) and `celltrial calibrate` argument errors."""

import json

import pytest
from typer.testing import CliRunner

from celltrial.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def quick_validation(tmp_path_factory, standard):  # `standard` warms the kernel cache once per session
    html = tmp_path_factory.mktemp("validation") / "validation.html"
    result = runner.invoke(app, ["validate", "--quick", "--json", "--html", str(html)])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout), html


def test_validate_quick_runs_every_case_and_writes_a_report(quick_validation):
    cases, html = quick_validation
    assert [c["case"] for c in cases] == ["zuma1", "eliana", "recovery-population", "recovery-individual",
                                          "seed-trial", "levers"]
    for case in cases:
        assert case["rows"] and all({"target", "observed", "simulated", "passed", "reason"} <= set(r)
                                    for r in case["rows"])
    text = html.read_text()
    assert "celltrial validation" in text and all(c["title"] in text for c in cases)


def test_parameter_recovery_cases_recover_the_known_values(quick_validation):
    cases = {c["case"]: c for c in quick_validation[0]}
    assert cases["recovery-population"]["passed"], cases["recovery-population"]
    assert cases["recovery-individual"]["passed"], cases["recovery-individual"]


def test_validate_and_calibrate_name_bad_cases():
    result = runner.invoke(app, ["validate", "--only", "zuma"])
    assert result.exit_code == 2 and "did you mean 'zuma1'" in result.output
    result = runner.invoke(app, ["calibrate", "elana"])
    assert result.exit_code == 2 and "did you mean 'eliana'" in result.output


def test_calibrate_writes_its_evidence(tmp_path, standard):
    out = tmp_path / "fit"
    result = runner.invoke(app, ["calibrate", "zuma1", "--patients", "20", "--design-points", "12", "--waves", "1",
                                 "--out", str(out), "--json", "--html", str(tmp_path / "fit.html")])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    labels = ["f_neg", "omega(f_neg)", "omega(gamma_T)", "il6_max", "omega(il6_max)"]
    assert list(summary["posterior"]) == labels
    for v in summary["posterior"].values():
        assert v["low"] <= v["median"] <= v["high"]
    assert len(summary["targets"]) == 9 and summary["waves"][0]["design_points"] == 12
    assert {p.name for p in out.iterdir()} == {"summary.json", "posterior.csv", "design.csv"}
    assert (out / "posterior.csv").read_text().splitlines()[0].split(",") == labels
    report = (tmp_path / "fit.html").read_text()
    assert "Posterior correlations" in report and "data:image/png;base64" in report
    command = "celltrial calibrate zuma1 --seed 1 --patients 20 --design-points 12 --waves 1"
    assert summary["settings"]["command"] == command
