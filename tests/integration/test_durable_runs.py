"""Durable runs: a run killed at any point is resumed to exactly the uninterrupted run's patients;
readers work while a run writes; two runs write to one store."""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from celltrial.store import open_store

QUICK = "scenarios/quickstart.yaml"
# 20 chunks of 100 patients: a few seconds of simulating, slow enough to stop at a chosen chunk.
ARGS = ["--patients", "2000", "--chunk-size", "100", "--seed", "5", "--json"]
PLANNED = 2000


def cli(*args, **kwargs):
    return [sys.executable, "-m", "celltrial.cli", *args]


def start(db, *extra):
    return subprocess.Popen(cli("run", QUICK, *ARGS, "--out", str(db), *extra), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def finish(proc, timeout=300):
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out, err


def stored_patients(db) -> int:
    if not db.exists():
        return 0
    runs = open_store(db).list_runs()
    return runs[0]["patients"] if runs else 0


def stop_at(db, proc, fraction, sig):
    """Send ``sig`` to the run once ``fraction`` of its patients are stored (read while it writes)."""
    deadline = time.monotonic() + 240
    while stored_patients(db) < fraction * PLANNED:
        assert proc.poll() is None, "the run ended before it could be stopped"
        assert time.monotonic() < deadline
        time.sleep(0.02)
    proc.send_signal(sig)
    return finish(proc)


def patients_of(db, run_id="latest"):
    with open_store(db) as store:
        run = store.load(run_id)
    return run


def assert_same_run(a, b):
    assert list(a.patients) == list(b.patients)
    for name, column in a.patients.items():
        np.testing.assert_array_equal(column, b.patients[name], err_msg=name)
    for name, column in a.extra["doses"].items():
        np.testing.assert_array_equal(column, b.extra["doses"][name], err_msg=f"dose log {name}")
    assert a.summary == b.summary


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory, standard):
    """The reference run; while it writes, `runs` and `report` read the same store."""
    db = tmp_path_factory.mktemp("reference") / "runs.duckdb"
    proc = start(db)
    while stored_patients(db) == 0:
        assert proc.poll() is None
        time.sleep(0.02)
    readers = [subprocess.run(cli(*command, "--out", str(db), "--json"), capture_output=True, text=True, timeout=120)
               for command in (["runs"], ["report", "latest"])]
    code, out, err = finish(proc)
    assert code == 0, err
    return db, json.loads(out), readers


def test_readers_work_while_a_run_writes(uninterrupted):
    _, _, readers = uninterrupted
    for reader in readers:
        assert reader.returncode == 0, reader.stderr
    finished_by_then = "arms" in json.loads(readers[1].stdout)  # the report may come after the last chunk
    assert finished_by_then or ("is running" in readers[1].stderr and "no summary yet" in readers[1].stderr)
    listed = json.loads(readers[0].stdout)[0]
    assert listed["status"] == "running" and 0 < listed["patients"] <= PLANNED
    assert listed["patients_planned"] == PLANNED


@pytest.mark.parametrize(("fraction", "resume_with"), [(0.02, []), (0.5, ["--cluster", "local", "--workers", "2"]),
                                                       (0.85, [])], ids=["early", "middle-on-dask", "late"])
def test_a_run_killed_at_any_chunk_resumes_to_the_uninterrupted_patients(uninterrupted, tmp_path, fraction,
                                                                         resume_with):
    reference_db, reference_json, _ = uninterrupted
    db = tmp_path / "runs.duckdb"
    proc = start(db)
    code, _, _ = stop_at(db, proc, fraction, signal.SIGKILL)
    assert code == -signal.SIGKILL
    listed = json.loads(subprocess.run(cli("runs", "--out", str(db), "--json"), capture_output=True, text=True,
                                       timeout=120, check=True).stdout)[0]
    # a kill after the last chunk but before the summary leaves every patient stored, the run unfinished
    assert listed["status"] == "interrupted" and fraction * PLANNED <= listed["patients"] <= PLANNED
    resumed = subprocess.run(cli("run", "--resume", "latest", "--out", str(db), "--json", *resume_with),
                             capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert "resuming run" in resumed.stderr and json.loads(resumed.stdout) == reference_json
    assert_same_run(patients_of(reference_db), patients_of(db))
    assert patients_of(db).meta["status"] == "finished"


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)], ids=["SIGTERM", "Ctrl-C"])
def test_sigterm_and_ctrl_c_record_the_interruption_and_name_the_resume(uninterrupted, tmp_path, sig, code):
    db = tmp_path / "runs.duckdb"
    proc = start(db)
    got, _, err = stop_at(db, proc, 0.3, sig)
    assert got == code, err
    with open_store(db) as store:
        run_id = store.resolve("latest")
        status = store.query("SELECT status FROM runs WHERE run_id = ?", [run_id]).column(0)[0].as_py()
    assert status == "interrupted"  # written by the process itself, not inferred from a dead writer
    assert f"celltrial run --resume {run_id} --out {db}" in err and "Traceback" not in err
    again = subprocess.run(cli("run", "--resume", run_id, "--out", str(db), "--json"), capture_output=True,
                           text=True, timeout=300)
    assert again.returncode == 0 and json.loads(again.stdout) == uninterrupted[1]


def test_resume_refuses_what_it_cannot_continue(uninterrupted, tmp_path):
    db, _, _ = uninterrupted
    finished = subprocess.run(cli("run", "--resume", "latest", "--out", str(db)), capture_output=True, text=True,
                              timeout=120)
    assert finished.returncode == 2 and "is finished: there is nothing to resume" in finished.stderr
    both = subprocess.run(cli("run", QUICK, "--resume", "latest", "--out", str(db)), capture_output=True, text=True,
                          timeout=120)
    assert both.returncode == 2 and "give no SCENARIO" in both.stderr


def test_two_runs_write_to_one_store_at_once(tmp_path, standard):
    db = tmp_path / "runs.duckdb"
    procs = [subprocess.Popen(cli("run", QUICK, "--patients", "600", "--chunk-size", "50", "--seed", str(s),
                                  "--out", str(db), "--json"), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for s in (1, 2)]
    results = [finish(p) for p in procs]
    assert all(code == 0 for code, _, _ in results), [err for _, _, err in results]
    runs = open_store(db).list_runs()
    assert sorted(r["seed"] for r in runs) == [1, 2]
    assert all(r["status"] == "finished" and r["patients"] == 600 for r in runs)
    assert not any(os.scandir(db.with_name("runs_chunks")))  # nothing left staged


def test_resume_refuses_other_inputs_and_a_writer_it_cannot_check_until_forced(uninterrupted, tmp_path):
    db = tmp_path / "runs.duckdb"
    stop_at(db, start(db), 0.02, signal.SIGKILL)
    with open_store(db) as store:
        run_id = store.resolve("latest")
        inputs = store.query("SELECT inputs FROM runs").column(0)[0].as_py()
        store.query("UPDATE runs SET inputs = 'refitted-presets' WHERE run_id = ?", [run_id])

    def resume(*extra):
        return subprocess.run(cli("run", "--resume", run_id, "--out", str(db), "--json", *extra), capture_output=True,
                              text=True, timeout=300)

    refused = resume()
    assert refused.returncode == 2 and "other model inputs" in refused.stderr
    with open_store(db) as store:  # a writer on another host: alive or not, celltrial cannot tell
        store.query("UPDATE runs SET inputs = ?, status = 'running', writer = 'compute-node-7:4242:1' "
                    "WHERE run_id = ?", [inputs, run_id])
        assert store.list_runs()[0]["status"] == "running"
    refused = resume()
    assert refused.returncode == 2 and "--force" in refused.stderr and "another host" in refused.stderr
    forced = resume("--force")
    assert forced.returncode == 0, forced.stderr
    assert json.loads(forced.stdout) == uninterrupted[1]
