"""The command line's contract on first contact: exit codes, usage errors without click, a busy
store, bounded seeds, honest help, and terminal wording.

Nothing here simulates: commands fail before the solver, or only print.
"""

import io
import os
import subprocess
import sys
import textwrap
import time

import duckdb
import pytest
from rich.console import Console
from typer.testing import CliRunner

from celltrial.cli import app, entry, runs_display
from celltrial.trials.rundata import RunData

QUICK = "scenarios/quickstart.yaml"


def cli_without_click(*args, timeout=120, env=None):
    """Run the console entry point in a fresh interpreter where ``import click`` fails."""
    code = textwrap.dedent(f"""
        import sys
        sys.modules["click"] = None  # typer 0.29+ does not install click: nothing may need it
        from celltrial.cli import main
        sys.argv = ["celltrial", *{list(args)!r}]
        main()
    """)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout,
                          env=None if env is None else {**os.environ, **env})


@pytest.mark.parametrize(("args", "message"), [
    (["--bogus"], "No such option: --bogus"),
    (["bogus"], "No such command 'bogus'"),
    (["presets", "--bogus"], "No such option: --bogus"),
    (["run"], "give a SCENARIO file to run, or --resume RUN"),
])
def test_usage_errors_exit_2_without_click_and_without_a_traceback(args, message):
    proc = cli_without_click(*args)
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout and "internal error" not in proc.stderr


def test_seed_is_bounded_with_a_clear_error():
    for seed in (str(2**63), "9" * 5000, "-1"):
        proc = cli_without_click("run", QUICK, "--seed", seed)
        assert proc.returncode == 2, proc.stderr
        assert "--seed" in proc.stderr and "Traceback" not in proc.stderr


def test_an_unexpected_error_is_one_line_and_a_log(monkeypatch, capsys, tmp_path):
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))

    def boom(**_):
        raise KeyError("surprise")

    monkeypatch.setattr(entry, "app", boom)
    with pytest.raises(SystemExit) as exc:
        entry.main()
    err = capsys.readouterr().err
    assert exc.value.code == 1 and err.count("\n") == 1
    assert err.startswith("internal error: KeyError") and "traceback in" in err
    assert "Traceback" in next(tmp_path.glob("celltrial-*.log")).read_text()


def test_the_last_resort_cannot_fail(monkeypatch, capsys):
    class Unprintable(Exception):
        def __str__(self):
            raise RuntimeError("no text either")

    def boom(**_):
        raise Unprintable()

    def broken_report(exc):
        raise OSError("disk full")

    monkeypatch.setattr(entry, "app", boom)
    monkeypatch.setattr(entry, "report_internal", broken_report)
    with pytest.raises(SystemExit) as exc:
        entry.main()
    err = capsys.readouterr().err
    assert exc.value.code == 1 and err.strip() == "internal error: OSError: disk full"


@pytest.fixture
def busy_store(tmp_path):
    """A store file held open by another process, as by a running trial."""
    path = tmp_path / "runs.duckdb"
    duckdb.connect(str(path)).close()
    holder = subprocess.Popen(
        [sys.executable, "-c", f"import duckdb, sys; c = duckdb.connect({str(path)!r}); print('ready', flush=True); "
                               "sys.stdin.read()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ready"
        yield path, holder.pid
    finally:
        holder.stdin.close()  # the holder exits when its stdin closes
        holder.wait(timeout=30)
        holder.stdout.close()


@pytest.mark.parametrize("command", [["runs"], ["report", "latest"], ["run", QUICK, "--patients", "2"]])
def test_a_busy_store_exits_4_with_one_line_naming_the_fix(busy_store, command, tmp_path):
    """Another program holding the file past the wait (celltrial itself only holds it for short writes)."""
    path, pid = busy_store
    started = time.monotonic()
    proc = cli_without_click(*command, "--out", str(path), env={"CELLTRIAL_STORE_WAIT": "1.5"})
    assert time.monotonic() - started >= 1.5  # it waited for the lock before giving up
    assert proc.returncode == 4, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert lines[-1].startswith("error: the results store") and f"in use by process {pid} for more than" in lines[-1]
    assert "--out" in lines[-1] and "Traceback" not in proc.stderr and "internal error" not in proc.stderr


def test_flags_show_as_flags_and_help_lists_the_exit_codes():
    runner = CliRunner()
    for command in (["run", "--help"], ["demo", "--help"], ["validate", "--help"], ["--help"]):
        out = runner.invoke(app, command).output
        assert "<bool>" not in out, command
    root = runner.invoke(app, ["--help"]).output
    assert "Exit codes" in root and "in use by another program" in root


def test_demo_help_says_what_it_is():
    out = " ".join(CliRunner().invoke(app, ["demo", "--help"]).output.split())
    assert "placeholder" not in out and "six-state test model" in out and "celltrial run" in out


def test_presets_kind_accepts_every_kind_the_table_shows():
    runner = CliRunner()
    rows = __import__("json").loads(runner.invoke(app, ["presets", "--json"]).output)
    for kind in {r["kind"] for r in rows} | {"disease", "product"}:
        result = runner.invoke(app, ["presets", "--kind", kind, "--json"])
        assert result.exit_code == 0, (kind, result.output)
        names = [r["name"] for r in __import__("json").loads(result.output)]
        if kind != "product":
            assert names == [r["name"] for r in rows if r["kind"] == kind]
    nk = next(r["name"] for r in rows if r["kind"] == "nk_cell")
    assert runner.invoke(app, ["presets", nk, "--kind", "nk_cell", "--json"]).exit_code == 0
    wrong = runner.invoke(app, ["presets", nk, "--kind", "t_cell"])
    assert wrong.exit_code == 2 and "no t_cell preset" in wrong.output
    typo = runner.invoke(app, ["presets", "--kind", "nk_cel"])
    assert typo.exit_code == 2 and "did you mean 'nk_cell'" in typo.output


def test_run_ids_are_never_cut(monkeypatch):
    run_id = "a-rather-long-scenario-name-for-a-trial-20260102-030405-ab12"
    rows = [{"run_id": run_id, "scenario_name": "a-rather-long-scenario-name-for-a-trial",
             "started": "2026-01-02T03:04:05+00:00", "status": "finished", "patients": 1200, "seed": 1}]
    for width in (60, 80, 100, 200):
        out = io.StringIO()
        runs_display.print_runs(rows, Console(file=out, width=width))
        assert run_id in out.getvalue(), width


def _run(patients=500, replicates=1, status=None):
    meta = {"scenario_title": "A trial", "patients_per_arm": patients, "replicates": replicates,
            "design": "independent", "seed": 3, "endpoint_rules": {"landmarks_days": [182.5, 365.0, 100.0]}}
    arm = {"n": patients * replicates, "status": status or {"OK": patients * replicates}}
    return RunData("r", meta, [{"name": "A"}, {"name": "B"}], {}, {"arms": {"A": arm, "B": arm}})


def test_the_summary_speaks_clinical_words():
    out = io.StringIO()
    runs_display.print_summary(_run(status={"OK": 498, "MAX_STEPS": 2}), Console(file=out, width=200))
    text = out.getvalue()
    assert "500 patients per arm x 1 replicate trial," in text and "replicate(s)" not in text
    assert "PFS at 6 months" in text and "OS at 12 months" in text and "PFS at day 100" in text
    assert "day 182.5" not in text and "OK / all" not in text and "patients simulated / enrolled" in text
    assert "4 patients could not be simulated to the end" in text
    out = io.StringIO()
    runs_display.print_summary(_run(patients=11, replicates=2000), Console(file=out, width=200))
    assert "11 patients per arm x 2,000 replicate trials" in out.getvalue()


def test_medians_not_reached_are_said_in_words():
    """The terminal says medians as the report does: no "NR-NR" shorthand, one implementation."""
    from celltrial.report import fmt

    assert runs_display.fmt_median is fmt.fmt_median and runs_display.plural is fmt.plural
    assert runs_display.landmark_label is fmt.landmark_label
    run = _run()
    run.summary["arms"]["A"] = {**run.summary["arms"]["A"],
                                "median_pfs_days": {"estimate": None, "low": None, "high": None},
                                "median_os_days": {"estimate": None, "low": 215.0, "high": None}}
    out = io.StringIO()
    runs_display.print_summary(run, Console(file=out, width=200))
    text = out.getvalue()
    assert "NR" not in text and "not reached (95% CI 215 d – not reached)" in text


def test_stored_arms_and_rules_are_in_words():
    """What ``run`` stores for the report: scan days, doses as a reader writes them, policies named."""
    from celltrial.cli.runs import run_meta
    from celltrial.scenarios import load_scenario
    from celltrial.trials.design import TrialPlan

    meta, arms = run_meta(TrialPlan(load_scenario(QUICK)[0]), "")
    assert meta["endpoint_rules"]["imaging_days"] == [28.0, 90.0, 180.0, 270.0, 365.0]
    assert arms[0]["dose"] == "2×10⁶ cells/kg (max 2×10⁸)" and "e+" not in arms[0]["dose"]
    _, arms = run_meta(TrialPlan(load_scenario("scenarios/adaptive_vs_maintenance.yaml")[0]), "")
    regimens = " ".join(a["regimen"] for a in arms)
    assert "ctDNA-triggered doses" in regimens and "ctdna_trigger" not in regimens


def test_the_first_compile_is_announced(monkeypatch):
    from celltrial.cli.compiling import ensure_compiled
    from celltrial.model.library import exponential_model

    compiled = []
    monkeypatch.setattr("celltrial.kernels.compile.is_cached", lambda model: False)
    monkeypatch.setattr("celltrial.solve.compile", compiled.append)
    lines = []
    assert ensure_compiled(exponential_model(), "the test model", notify=lines.append) >= 0
    assert compiled and lines[0].startswith("compiling the test model to machine code (once")
    assert lines[1].startswith("compiled in ")
    monkeypatch.setattr("celltrial.kernels.compile.is_cached", lambda model: True)
    assert ensure_compiled(exponential_model(), notify=lines.append) is None and len(lines) == 2


def test_a_cold_kernel_cache_is_detected(monkeypatch, tmp_path):
    from celltrial.kernels.compile import is_cached
    from celltrial.model.library import exponential_model

    monkeypatch.setenv("CELLTRIAL_CACHE_DIR", str(tmp_path))
    assert not is_cached(exponential_model())
