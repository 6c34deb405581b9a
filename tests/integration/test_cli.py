"""The command line: version smoke test, the demo job, exit codes."""

import json
import subprocess
import sys

from typer.testing import CliRunner

from celltrial import __version__
from celltrial.cli import app


def test_version_smoke():
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"celltrial {__version__}"


def test_demo_prints_a_json_summary_for_every_patient():
    result = CliRunner().invoke(app, ["demo", "--patients", "50", "--days", "120", "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)  # stdout only: a first compile is announced on stderr
    assert summary["patients"] == 50 and summary["patients_ok"] == 50
    assert summary["median Cmax (CAR+ cells/uL)"] > 0
    assert 0.0 <= summary["tumour below 1 cell (fraction)"] <= 1.0


def test_demo_is_reproducible_for_a_seed():
    args = ["demo", "--patients", "20", "--days", "60", "--json", "--seed", "4"]
    first, second = (json.loads(CliRunner().invoke(app, args).stdout) for _ in range(2))
    keys = ["median Cmax (CAR+ cells/uL)", "median Tmax (days)", "median AUC0-28 (cells/uL x day)"]
    assert [first[k] for k in keys] == [second[k] for k in keys]


def test_bad_input_exits_with_code_2():
    proc = subprocess.run([sys.executable, "-m", "celltrial.cli", "demo", "--patients", "0"],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
