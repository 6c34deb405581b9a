"""The assays table: stored per chunk, read back, rates recomputed from it, resumes, older stores."""

import shutil

import numpy as np
import pytest

from celltrial.cli.runs import execute
from celltrial.scenarios import parse_scenario
from celltrial.store import open_store
from celltrial.trials.assays import ASSAY_COLUMNS
from celltrial.trials.statistics import SUMMARISED_COLUMNS
from celltrial.trials.trial import apply_overrides, run_trial

SCENARIO = """
name: stored-assays
title: S
disease: lbcl
cohort: {patients: 7, replicates: 2, design: paired}
arms:
  - {name: generic, product: ft596-like}
  - {name: informed, product: ft596-like, ctdna_assay: {kind: tumour_informed_ngs}}
  - {name: trigger, product: ft596-like, policy: {kind: ctdna_trigger, consecutive_positive: 1, max_doses: 2}}
assessments:
  imaging_days: [28, 56]
  ctdna_days: [7, 28, 56, 84]
  mrd: {assay: {method: ngs}, days: [28, 84]}
follow_up_days: 90
seed: 23
simulation: {chunk_size: 4}
"""


@pytest.fixture(scope="module")
def stored(tmp_path_factory, standard):
    folder = tmp_path_factory.mktemp("assays")
    path = folder / "s.yaml"
    path.write_text(SCENARIO)
    outcome = execute(path, store_path=folder / "runs.duckdb")
    return outcome, folder / "runs.duckdb", path


def test_stored_calls_reproduce_the_summary_detection_rates(stored):
    outcome, db, _ = stored
    run = outcome.run
    with open_store(db) as store:
        rows = store.query("SELECT arm, assay, day, count(*) AS drawn, sum(detected::INT) AS detected FROM assays "
                           "WHERE run_id = ? GROUP BY ALL", [run.run_id]).to_pylist()
    assert rows
    got = {(r["arm"], r["assay"], r["day"]): (r["drawn"], r["detected"]) for r in rows}
    seen = 0
    for arm, block in run.summary["arms"].items():
        for assay, s in block["assays"].items():
            for day, drawn, detected, rate in zip(s["days"], s["drawn"], s["detected"], s["detected_rate"],
                                                  strict=True):
                assert got.get((arm, assay, day), (0, 0)) == (drawn, detected)
                assert rate == pytest.approx(detected / drawn)
                seen += 1
    assert seen == len(got) == 3 * (4 + 2)


def test_a_loaded_run_has_its_calls_sorted_like_its_patients(stored):
    outcome, db, path = stored
    with open_store(db) as store:
        run = store.load("latest")
    calls = run.extra["assays"]
    assert list(calls) == list(ASSAY_COLUMNS) and len(calls["day"]) > 0
    in_memory = run_trial(parse_scenario(path.read_text()), chunk_size=9).assays  # another chunking
    position = {name: i for i, name in enumerate(run.arm_names())}
    order = np.lexsort((in_memory["day"], in_memory["assay"], in_memory["patient"], in_memory["replicate"],
                        [position[a] for a in in_memory["arm"]]))
    for name in ASSAY_COLUMNS:
        np.testing.assert_array_equal(calls[name], in_memory[name][order], err_msg=name)


def test_a_resumed_run_summarises_its_stored_calls_as_if_uninterrupted(stored, standard):
    outcome, db, path = stored
    with open_store(db) as store:
        run_id = store.resolve("latest")
        done = store.stored_chunks(run_id, SUMMARISED_COLUMNS)
        summary = store.load_summary(run_id).summary
    scenario = parse_scenario(path.read_text())
    half = {k: v for k, v in done.items() if k % 2 == 0}  # the odd chunks are simulated again
    resumed = run_trial(scenario, compiled=standard, done=half, keep_patients=False)
    assert resumed.summary["arms"]["trigger"]["assays"] == summary["arms"]["trigger"]["assays"]
    assert {k: v["assays"] for k, v in resumed.summary["arms"].items()} == \
        {k: v["assays"] for k, v in summary["arms"].items()}


def test_a_store_from_before_the_assays_table_reads_and_takes_new_calls(stored, tmp_path):
    outcome, db, path = stored
    old = tmp_path / "runs.duckdb"
    old.write_bytes(db.read_bytes())
    shutil.copytree(db.with_name("runs_trajectories"), tmp_path / "runs_trajectories")
    with open_store(old) as store:
        store.query("DROP TABLE assays")  # as if written by a celltrial without stored calls
    with open_store(old) as again:
        run = again.load("latest")
        assert all(len(v) == 0 for v in run.extra["assays"].values()) and len(run.patients["arm"]) == 42
        assert again.query("SELECT * FROM assays LIMIT 0").column_names == ["run_id", "chunk", *ASSAY_COLUMNS]


def test_calls_are_not_stored_when_switched_off(tmp_path, standard):
    path = tmp_path / "off.yaml"
    path.write_text(SCENARIO.replace("simulation: {chunk_size: 4}", "simulation: {chunk_size: 4, store_assays: false}"))
    outcome = execute(path, store_path=tmp_path / "off.duckdb")
    with open_store(tmp_path / "off.duckdb") as store:
        assert store.query("SELECT count(*) AS n FROM assays").to_pylist() == [{"n": 0}]
        summary = store.load_summary("latest").summary
    assert summary["arms"]["generic"]["assays"]["ctdna"]["drawn"][0] == 14
    assert not list((tmp_path / "off_chunks").glob("*/*.assays.parquet"))
    del outcome


def test_bytes_per_patient_of_the_assays_table_stay_small(standard):
    """The staged Parquet of the calls stays small (measured: ~25 bytes a patient at 1,000 patients with ~5
    draws; a 300-patient file here carries its footer too)."""
    import io

    import pyarrow.parquet as pq

    from celltrial.store.convert import to_arrow_columns

    scenario = apply_overrides(parse_scenario(SCENARIO), patients=100, replicates=1)
    calls = run_trial(scenario, compiled=standard, chunk_size=100).assays
    sink = io.BytesIO()
    pq.write_table(to_arrow_columns(ASSAY_COLUMNS, calls, "assays"), sink)
    per_patient = len(sink.getvalue()) / 300
    assert per_patient < 400, per_patient
