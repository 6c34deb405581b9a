"""Dask scale-out: the same per-patient table and summary as in process, whatever the workers,
chunking or a worker killed mid-task."""

import os
import signal

import numpy as np
import pytest

from celltrial.scenarios import load_scenario
from celltrial.trials.trial import apply_overrides, run_trial

pytest.importorskip("distributed")
from celltrial.cluster import DaskExecutor  # noqa: E402 - only with distributed installed

# Policies (maintenance, ctDNA-triggered), an inventory and logistics: every per-patient path.
LONG_GAME = "scenarios/offshelf_long_game.yaml"


def long_game(patients=5, replicates=2):
    scenario, _ = load_scenario(LONG_GAME)
    return apply_overrides(scenario, patients=patients, replicates=replicates)


def rows_in(parquet: bytes) -> int:
    """Rows of a chunk as a worker returns it: Parquet bytes, stored as they are."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    return pq.read_metadata(pa.BufferReader(parquet)).num_rows


def assert_same(a, b):
    assert list(a.patients) == list(b.patients)
    for name, column in a.patients.items():
        np.testing.assert_array_equal(column, b.patients[name], err_msg=name)
    for name, column in a.doses.items():
        np.testing.assert_array_equal(column, b.doses[name], err_msg=f"dose log {name}")
    assert a.summary == b.summary


@pytest.fixture(scope="module")
def in_process(standard):
    return run_trial(long_game(), compiled=standard, chunk_size=4)


@pytest.fixture(scope="module")
def two_workers():
    with DaskExecutor("local", workers=2) as executor:
        yield executor


@pytest.mark.parametrize("chunk_size", [3, 10])
def test_two_workers_give_the_in_process_patients_bit_for_bit(in_process, two_workers, chunk_size):
    out = run_trial(long_game(), chunk_size=chunk_size, executor=two_workers)
    assert_same(in_process, out)


def test_one_worker_and_summary_only_runs_agree(in_process):
    stored = {}
    with DaskExecutor("local", workers=1) as one:
        out = run_trial(long_game(), chunk_size=7, executor=one, keep_patients=False,
                        on_chunk=lambda k, patients, *_: stored.setdefault(k, rows_in(patients)))
    assert out.summary == in_process.summary
    assert sum(stored.values()) == len(in_process.patients["arm"]) and sorted(stored) == list(range(len(stored)))


def test_a_worker_killed_mid_task_is_replaced_and_nothing_changes(in_process, two_workers):
    client = two_workers.client
    before = client.run(os.getpid)
    killed = []

    def kill_a_worker(k, *_):
        if not killed:  # after the first chunk: the other tasks in flight on that worker are lost
            pid = next(iter(client.run(os.getpid).values()))
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)

    out = run_trial(long_game(), chunk_size=1, executor=two_workers, on_chunk=kill_a_worker)
    assert_same(in_process, out)
    client.wait_for_workers(2, timeout=60)
    after = client.run(os.getpid)
    assert killed[0] in before.values() and killed[0] not in after.values()  # the nanny started a new one


def test_cluster_values_are_checked():
    from celltrial.errors import InputError

    with pytest.raises(InputError, match="'local' or a scheduler address"):
        DaskExecutor("localhost")
    with pytest.raises(InputError, match="--workers applies to --cluster local"):
        DaskExecutor("tcp://127.0.0.1:8786", workers=2)


def test_a_calibration_wave_on_dask_gives_the_same_summaries(standard, two_workers):
    from celltrial.calibration.cases import load_case
    from celltrial.calibration.population import FitParameter, PopulationProblem

    case = load_case("zuma1")
    assessments = case.scenario.assessments.model_copy(update={"imaging_days": [28.0, 56.0], "ctdna_days": [28.0]})
    short = case.scenario.model_copy(update={"follow_up_days": 60.0, "assessments": assessments,
                                             "cohort": case.scenario.cohort.model_copy(update={"patients": 12})})
    params = [FitParameter("il6_max", "typical", 1000.0, 30000.0)]
    wanted = [("crs_any_rate", None), ("blood_median_at", 7)]
    thetas = [[np.log(3000.0)], [np.log(9000.0)], [np.log(20000.0)]]
    here = PopulationProblem(short, params, wanted, compiled=standard).simulate(thetas)
    there = PopulationProblem(short, params, wanted, mapper=two_workers.map).simulate(thetas)
    for a, b in zip(here, there, strict=True):
        np.testing.assert_array_equal(a, b)


def test_validate_on_a_local_cluster_gives_the_in_process_rows():
    import json
    import subprocess
    import sys

    def validate(*extra):
        proc = subprocess.run([sys.executable, "-m", "celltrial.cli", "validate", "--quick", "--only", "zuma1,levers",
                               "--json", *extra], capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, proc.stderr
        cases = json.loads(proc.stdout)
        return [{k: v for k, v in case.items() if k != "seconds"} for case in cases], proc.stderr

    here, _ = validate()
    there, err = validate("--cluster", "local", "--workers", "2")
    assert there == here and "Dask cluster local with 2 worker(s)" in err


def test_celltrial_run_on_a_local_cluster_stores_the_in_process_run(tmp_path):
    """The CLI end to end: same summary JSON and the same stored patients, dose log and trajectories."""
    import json
    import subprocess
    import sys

    from celltrial.store import open_store

    def run(db, *extra):
        proc = subprocess.run([sys.executable, "-m", "celltrial.cli", "run", LONG_GAME, "--patients", "6",
                               "--replicates", "2", "--out", str(db), "--json", *extra],
                              capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, proc.stderr
        with open_store(db) as store:
            return json.loads(proc.stdout), store.load("latest")

    here, a = run(tmp_path / "here.duckdb")
    there, b = run(tmp_path / "there.duckdb", "--cluster", "local", "--workers", "2", "--chunk-size", "5")
    assert here == there
    for name, column in a.patients.items():
        np.testing.assert_array_equal(column, b.patients[name], err_msg=name)
    for name, column in a.extra["doses"].items():
        np.testing.assert_array_equal(column, b.extra["doses"][name], err_msg=name)
    for name, column in a.trajectories.items():
        np.testing.assert_array_equal(column, b.trajectories[name], err_msg=name)


def test_a_bad_cluster_value_fails_before_the_run_exists(tmp_path):
    from typer.testing import CliRunner

    from celltrial.cli import app
    from celltrial.store import open_store

    db = tmp_path / "runs.duckdb"
    for extra, message in ((["--cluster", "localhost"], "'local' or a scheduler address"),
                           (["--workers", "2"], "--workers needs --cluster"),
                           (["--cluster", "local", "--threads", "2"], "each worker runs one thread")):
        result = CliRunner().invoke(app, ["run", LONG_GAME, "--patients", "2", "--out", str(db), *extra])
        assert result.exit_code == 2 and message in result.output
    assert open_store(db).list_runs() == []
