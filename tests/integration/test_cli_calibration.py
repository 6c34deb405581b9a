"""`celltrial validate --quick` (the CI validation run) and the argument errors of `celltrial calibrate` and `fit`."""

import io
import json

import pytest
from rich.console import Console
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
                                          "seed-trial", "levers", "forecast"]
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


def test_calibrate_refuses_too_few_design_points_before_compiling(monkeypatch):
    """The minimum depends on the case (fitted parameters + 4): said at once, naming the option."""
    def no_compile():
        raise AssertionError("compiled before the settings were checked")

    monkeypatch.setattr("celltrial.cli.compiling.ensure_standard_compiled", no_compile)
    result = runner.invoke(app, ["calibrate", "zuma1", "--design-points", "8"])
    assert result.exit_code == 2, result.output
    assert "--design-points" in result.output and "at least 13" in result.output  # zuma1 fits 9 parameters


def test_fit_reads_its_data_before_compiling(monkeypatch, tmp_path):
    """A malformed data file is refused at once (exit 2, naming the row), not after the model's compile."""
    def no_compile():
        raise AssertionError("compiled before the data file was read")

    monkeypatch.setattr("celltrial.cli.compiling.ensure_standard_compiled", no_compile)
    bad = tmp_path / "bad.csv"
    bad.write_text("ID,TIME,DV,OBS,AMT,EVID,MDV\n1,0,.,.,1e8,1,1\n1,7,2400,car_copy,.,0,0\n")
    result = runner.invoke(app, ["fit", str(bad), "--disease", "b-all", "--product", "tisa-cel-like", "--fit", "d_EFF"])
    assert result.exit_code == 2, result.output
    assert "row 3, column OBS" in result.output and "Traceback" not in result.output


def test_validate_table_shows_the_predictive_p_and_the_overlap():
    """The terminal table has the suite's columns (as the HTML report), the verdict coloured."""
    from celltrial.calibration.suite import COLUMNS
    from celltrial.calibration.validation import CaseResult, Row
    from celltrial.cli.calibration import _print_validation
    from celltrial.report.validation import render_validation

    case = CaseResult("x", "A [case]", [Row("cr", "58% (n=101)", "47% (39–55%)", False, "why", 0.049,
                                            "trials of 101: 37–57%", True),
                                        Row("x_neg", "0.04", "0.05", True, "recovered")])
    out = io.StringIO()
    _print_validation(Console(file=out, width=200), case)
    text = out.getvalue()
    assert all(col in text for col in COLUMNS) and "A [case]" in text
    assert "0.049" in text and "trials of 101: 37–57%" in text and "FAIL" in text and "pass" in text
    html = render_validation([case], quick=True)
    assert "replicate virtual trials of the published size" in html and "mid-p" in html
    assert "<th>p</th>" in html and "<td>0.049</td>" in html and "<th>overlap</th>" in html


def test_calibrate_writes_its_evidence(tmp_path, standard):
    out = tmp_path / "fit"
    result = runner.invoke(app, ["calibrate", "zuma1", "--patients", "20", "--design-points", "13", "--waves", "1",
                                 "--out", str(out), "--json", "--html", str(tmp_path / "fit.html")])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    labels = ["x_neg", "omega(x_neg)", "omega(fit_T)", "omega(gamma_T)", "il6_max", "omega(il6_max)", "K_nt",
              "x_prot", "omega(x_prot)"]
    assert list(summary["posterior"]) == labels
    for v in summary["posterior"].values():
        assert v["low"] <= v["median"] <= v["high"]
    assert len(summary["targets"]) == 12 and summary["waves"][0]["design_points"] == 13
    assert {p.name for p in out.iterdir()} == {"summary.json", "posterior.csv", "design.csv"}
    assert (out / "posterior.csv").read_text().splitlines()[0].split(",") == labels
    report = (tmp_path / "fit.html").read_text()
    assert "Posterior correlations" in report and "data:image/png;base64" in report
    # the targets are judged and shown as `celltrial validate` judges and shows them: with the predictive p
    assert all({"target", "p_value", "predictive", "overlap"} <= set(t) for t in summary["targets"])
    assert "<th>p</th>" in report and "<th>overlap</th>" in report
    command = "celltrial calibrate zuma1 --seed 1 --patients 20 --design-points 13 --waves 1"
    assert summary["settings"]["command"] == command


def test_an_interrupted_calibration_resumes_from_its_simulated_design_points(tmp_path, standard):
    """Ctrl-C midway through a wave, then the same command: the finished design points are reused and
    the fit equals the uninterrupted one."""
    import json
    import signal
    import subprocess
    import sys
    import time

    def command(folder):
        return [sys.executable, "-m", "celltrial.cli", "calibrate", "zuma1", "--patients", "300", "--design-points",
                "13", "--waves", "1", "--out", str(folder), "--json"]

    def fit(folder):
        proc = subprocess.run(command(folder), capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, proc.stderr
        summary = json.loads(proc.stdout)
        summary.pop("seconds")
        return summary, proc.stderr

    reference, _ = fit(tmp_path / "whole")
    folder = tmp_path / "interrupted"
    proc = subprocess.Popen(command(folder), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 300
    while len(list((folder / ".checkpoint").glob("*.pkl"))) < 4:
        assert proc.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=120)
    assert proc.returncode == 130 and not (folder / "summary.json").exists()
    kept = len(list((folder / ".checkpoint").glob("*.pkl")))
    resumed, err = fit(folder)
    assert f"resuming: {kept} design point(s)" in err and f"reused {kept} design point(s)" in err
    assert resumed == reference and not (folder / ".checkpoint").exists()
