"""Results store: exact round trips, run listing and lookup, SQL access, per-chunk atomicity."""

import subprocess
import sys
import threading

import numpy as np
import pytest

from celltrial.errors import InputError
from celltrial.store import DEFAULT_STORE, RunStore, StoreError, open_store, trajectory_root
from celltrial.store.liveness import writer_id
from celltrial.store.staging import staged_chunks
from celltrial.trials.columns import COLUMNS, TRAJECTORY_QUANTITIES, column_names
from celltrial.trials.rundata import META_KEYS
from celltrial.trials.trial import DOSE_COLUMNS

ARMS = [
    {"name": "placebo", "product": "none", "description": "standard of care", "dose": "-", "regimen": "-"},
    {"name": "CAR-T", "product": "axi-cel-like", "description": "CD19 CAR-T", "dose": "2e6/kg", "regimen": "once"},
]
POSITION = {"placebo": 0, "CAR-T": 1}  # not alphabetical: load must sort by arm position, not name


def make_meta(name="demo", started="2026-03-04T05:06:07+00:00", seed=12345):
    return {
        "scenario_name": name,
        "scenario_title": "A demo trial",
        "scenario_text": "name: demo\narms: []\n",
        "seed": seed,
        "patients_per_arm": 10,
        "replicates": 2,
        "design": "paired",
        "follow_up_days": 365.0,
        "package_version": "0.1.0",
        "git_revision": "",
        "model": {"name": "standard", "fingerprint": "abc123"},
        "started": started,
        "endpoint_rules": {"lethal_burden_cells": 1e12, "lloq_cells_uL": 0.5},
        "parameter_changes": [{"arm": "CAR-T", "parameter": "k", "preset_value": 1.0, "value": 2.0, "reason": "x"}],
        "extrapolation": ["dose response beyond 2e6/kg"],
    }


def make_patients(n, chunk, seed=0):
    """Every column of COLUMNS, rows shuffled, (arm, replicate=chunk, patient) unique; NaN, inf, -0.0, ""."""
    rng = np.random.default_rng(seed + chunk)
    data = {}
    for name, col in COLUMNS.items():
        if col.kind == "float":
            values = rng.normal(size=n) * 10.0 ** rng.integers(-3, 12, n)
            values[::5], values[1::7], values[2::9] = np.nan, np.inf, -0.0
        elif col.kind == "int":
            values = rng.integers(-(2**40), 2**40, n)
        elif col.kind == "bool":
            values = rng.random(n) < 0.5
        else:
            values = rng.choice(np.array(["", "CR", "tumour", "gvhd", "ü-ñ"]), n)
        data[name] = values
    j = rng.permutation(n)
    data["arm"] = np.where(j % 2 == 0, "CAR-T", "placebo")
    data["replicate"] = np.full(n, chunk, dtype=np.int64)
    data["patient"] = (j // 2).astype(np.int64)
    return data


def make_trajectories(patients, days=(0.0, 7.0, 28.0)):
    n, k = len(patients["arm"]), len(days)
    traj = {key: np.repeat(patients[key], k) for key in ("arm", "replicate", "patient")}
    traj["day"] = np.tile(np.asarray(days), n)
    rng = np.random.default_rng(7)
    for q in TRAJECTORY_QUANTITIES:
        traj[q] = rng.lognormal(size=n * k)
        traj[q][::4] = np.nan
    return traj


def concat_sorted(parts, with_day=False):
    """What load returns: concatenation sorted by arm position, replicate, patient (, day; stable)."""
    data = {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}
    keys = [np.arange(len(data["arm"]))] if with_day else []
    keys += [data["day"]] if with_day else []
    keys += [data["patient"], data["replicate"], np.array([POSITION[a] for a in data["arm"]])]
    order = np.lexsort(keys)
    return {key: values[order] for key, values in data.items()}


def assert_columns_equal(got, expected, kinds):
    assert list(got) == list(kinds)
    for name, kind in kinds.items():
        g, e = got[name], expected[name]
        assert g.shape == e.shape, name
        if kind == "str":
            assert g.dtype.kind == "U", name
        else:
            assert g.dtype == {"int": np.int64, "float": np.float64, "bool": np.bool_}[kind], name
        np.testing.assert_array_equal(g, e, err_msg=name)
        if kind == "float":  # NaN positions and the sign of -0.0 survive too
            np.testing.assert_array_equal(np.signbit(g), np.signbit(e), err_msg=name)


def make_doses(patients, seed=0):
    """A dose log for some of the patients: a regimen dose on day 0, then 0-3 policy doses with reasons."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(0, len(patients["arm"]), 2):  # every other patient, so some have no doses at all
        rows.append((i, 0.0, "regimen", 1.0, "regimen"))
        for day in np.sort(rng.uniform(30, 400, rng.integers(0, 4))):
            rows.append((i, day, "policy", rng.choice([0.5, 1.0, 2.0]), rng.choice(REASONS)))
    rows.append((1, 0.0, "policy", -0.0, "ü-ñ, with a comma"))  # odd text and -0.0
    rows.append((0, 0.0, "policy", 2.0, "maintenance"))  # same patient and day as a regimen dose: kept after it
    idx = np.array([r[0] for r in rows], dtype=np.int64)
    return {
        "arm": patients["arm"][idx],
        "replicate": patients["replicate"][idx],
        "patient": patients["patient"][idx],
        "day": np.array([r[1] for r in rows]),
        "source": np.array([r[2] for r in rows]),
        "multiplier": np.array([r[3] for r in rows], dtype=float),
        "reason": np.array([r[4] for r in rows]),
    }


def empty_doses():
    return {name: np.array([], dtype=DTYPES[kind]) for name, kind in DOSE_COLUMNS.items()}


REASONS = ["maintenance", "ctDNA positive x2", "ctDNA still positive: escalated"]
DTYPES = {"int": np.int64, "float": np.float64, "bool": np.bool_, "str": str}
PATIENT_KINDS = {c.name: c.kind for c in COLUMNS.values()}
TRAJ_KINDS = {"arm": "str", "replicate": "int", "patient": "int", "day": "float"}
TRAJ_KINDS |= {q: "float" for q in TRAJECTORY_QUANTITIES}


@pytest.fixture
def db(tmp_path):
    return tmp_path / "sub" / "runs.duckdb"


@pytest.fixture
def store(db):
    with open_store(db) as s:
        yield s


def test_round_trip_in_a_new_store_object(db):
    chunks = {1: make_patients(37, 1), 0: make_patients(50, 0)}
    summary = {"arms": {"CAR-T": {"cr_rate": np.float64(0.4), "n": np.int64(25)}}, "curve": np.arange(3.0)}
    with open_store(db) as store:
        run_id = store.create_run(make_meta(), ARMS)
        for k, patients in chunks.items():  # out of order on purpose
            store.write_chunk(run_id, k, patients, None)
        store.finish_run(run_id, summary, finished="2026-03-04T06:00:00+00:00")
    assert db.exists() and DEFAULT_STORE.endswith(".duckdb")
    with RunStore(db) as again:
        run = again.load(run_id)
    assert run.run_id == run_id and run.arms == ARMS and run.trajectories is None
    assert_columns_equal(run.patients, concat_sorted(list(chunks.values())), PATIENT_KINDS)
    assert list(run.patients) == column_names()
    assert run.summary == {"arms": {"CAR-T": {"cr_rate": 0.4, "n": 25}}, "curve": [0.0, 1.0, 2.0]}
    expected_meta = make_meta() | {"finished": "2026-03-04T06:00:00+00:00", "status": "finished", "chunks": 2,
                                   "chunk_size": None, "writer": writer_id(), "inputs": None}
    assert run.meta == expected_meta and set(run.meta) == set(META_KEYS)


def test_trajectories_round_trip_ignoring_stray_files(store):
    run_id = store.create_run(make_meta(), ARMS)
    parts = [make_patients(20, k) for k in range(3)]
    trajs = [make_trajectories(p) for p in parts]
    store.write_chunk(run_id, 0, parts[0], trajs[0])
    store.write_chunk(run_id, 1, parts[1], None)  # a chunk without trajectories
    store.write_chunk(run_id, 2, parts[2], trajs[2])
    folder = trajectory_root(store.path) / run_id
    assert sorted(p.name for p in folder.iterdir()) == ["chunk-00000.parquet", "chunk-00002.parquet"]
    (folder / "chunk-00001.parquet").write_bytes((folder / "chunk-00000.parquet").read_bytes())  # unregistered
    run = store.load(run_id)
    assert_columns_equal(run.trajectories, concat_sorted([trajs[0], trajs[2]], with_day=True), TRAJ_KINDS)
    with pytest.raises(StoreError, match="unknown.*'volume'"):
        store.write_chunk(run_id, 3, parts[0], trajs[0] | {"volume": trajs[0]["day"]})


def test_dose_log_round_trip_with_an_empty_chunk(db):
    parts = {2: make_patients(30, 2), 0: make_patients(20, 0), 1: make_patients(10, 1)}
    doses = {2: make_doses(parts[2], 2), 0: make_doses(parts[0], 0), 1: empty_doses()}
    with open_store(db) as store:
        run_id = store.create_run(make_meta(), ARMS)
        for k in parts:  # out of order on purpose
            store.write_chunk(run_id, k, parts[k], None, doses=doses[k])
        store.write_chunk(run_id, 3, make_patients(5, 3))  # no dose log given: stores none
        other = store.create_run(make_meta("other"), ARMS)
        store.write_chunk(other, 0, parts[0], doses=doses[2])  # another run's doses stay out of this one
    with open_store(db) as again:
        run = again.load(run_id)
        n = again.query("SELECT count(*) AS n FROM doses WHERE run_id = ? AND chunk = 1", [run_id]).column("n")
    expected = concat_sorted([doses[0], doses[2]], with_day=True)
    assert len(expected["day"]) > 20 and n[0].as_py() == 0
    assert_columns_equal(run.extra["doses"], expected, DOSE_COLUMNS)
    assert run.trajectories is None and len(run.patients["arm"]) == 65


def test_run_without_doses_loads_empty_arrays(store):
    run_id = store.create_run(make_meta(), ARMS)
    store.write_chunk(run_id, 0, make_patients(6, 0), doses=empty_doses())
    assert_columns_equal(store.load(run_id).extra["doses"], empty_doses(), DOSE_COLUMNS)


def test_list_runs_newest_first_with_counts(store):
    older = store.create_run(make_meta("alpha", "2026-01-01T00:00:00+00:00", seed=2**100), ARMS)
    newest = store.create_run(make_meta("gamma", "2026-02-01T00:00:00Z", seed=3), ARMS)
    middle = store.create_run(make_meta("beta", "2026-01-15T12:30:00+00:00", seed=None), ARMS)
    store.write_chunk(older, 0, make_patients(11, 0))
    store.write_chunk(older, 1, make_patients(4, 1))
    store.write_chunk(newest, 0, make_patients(6, 0))
    store.finish_run(older, {}, finished="2026-01-01T01:00:00+00:00")
    store.mark_interrupted(newest)
    store.mark_interrupted(older)  # a finished run stays finished
    runs = store.list_runs()
    assert [r["run_id"] for r in runs] == [newest, middle, older]
    assert [r["patients"] for r in runs] == [6, 0, 15]
    assert [r["status"] for r in runs] == ["interrupted", "running", "finished"]
    assert [r["seed"] for r in runs] == [3, None, 2**100]
    assert runs[2]["scenario_name"] == "alpha" and runs[2]["finished"] == "2026-01-01T01:00:00+00:00"
    assert newest.startswith("gamma-20260201-000000-") and len(newest.rsplit("-", 1)[1]) == 4
    assert store.load(newest).meta["chunks"] == 1


def test_resolve_prefix_latest_and_did_you_mean(store):
    with pytest.raises(InputError, match="no runs yet"):
        store.resolve("latest")
    alpha = store.create_run(make_meta("alpha", "2026-01-01T00:00:00+00:00"), ARMS)
    beta = store.create_run(make_meta("beta", "2026-01-02T00:00:00+00:00"), ARMS)
    betamax = store.create_run(make_meta("betamax", "2026-01-03T00:00:00+00:00"), ARMS)
    assert store.resolve(alpha) == alpha and store.resolve("alp") == alpha
    assert store.resolve("latest") == betamax and store.resolve("beta-2026") == beta
    with pytest.raises(InputError, match="ambiguous"):
        store.resolve("beta")
    with pytest.raises(InputError, match=f"did you mean '{alpha}'") as info:
        store.resolve(alpha[:-1] + "z")
    assert betamax in str(info.value)  # lists known runs
    with pytest.raises(InputError, match="did you mean"):
        store.load(beta[:-1] + "z")


def test_sql_query_on_patients(store):
    run_id = store.create_run(make_meta(), ARMS)
    patients = make_patients(40, 0)
    store.write_chunk(run_id, 0, patients)
    table = store.query(
        "SELECT arm, avg(cr::INT) AS cr_rate, count(*) AS n FROM patients WHERE run_id = ? GROUP BY arm ORDER BY arm",
        [run_id],
    )
    assert table.column("arm").to_pylist() == ["CAR-T", "placebo"]
    for arm, rate, n in zip(*(table.column(c).to_pylist() for c in ("arm", "cr_rate", "n")), strict=True):
        mask = patients["arm"] == arm
        assert n == mask.sum() and rate == pytest.approx(patients["cr"][mask].mean())
    with pytest.raises(InputError, match="SQL query"):
        store.query("SELECT nope FROM patients")


def _rows(store, run_id):
    return store.query("SELECT count(*) AS n FROM patients WHERE run_id = ?", [run_id]).column("n")[0].as_py()


@pytest.mark.parametrize("failure", ["after_patient_insert", "before_removing_staged"])
def test_an_interrupted_chunk_stays_staged_and_lands_exactly_once(db, monkeypatch, failure):
    store, other = open_store(db), open_store(db)  # two objects on one file in one process
    run_id = store.create_run(make_meta(), ARMS)
    first = make_patients(10, 0)
    store.write_chunk(run_id, 0, first, make_trajectories(first), doses=make_doses(first))
    patients = make_patients(25, 1)
    doses = make_doses(patients, 1)
    seen = {}

    def fail_after_insert(con, run_id_, chunk, n, trajectory_file):
        seen["rows"] = con.execute("SELECT count(*) FROM patients WHERE chunk = 1").fetchall()[0][0]
        seen["doses"] = con.execute("SELECT count(*) FROM doses WHERE chunk = 1").fetchall()[0][0]
        raise RuntimeError("disk full")

    def fail_before_removing(root, rid, chunk):
        raise KeyboardInterrupt  # killed between COMMIT and removing the staged files

    if failure == "after_patient_insert":
        monkeypatch.setattr(RunStore, "_insert_chunk_row", staticmethod(fail_after_insert))
        with pytest.raises(RuntimeError, match="disk full"):
            store.write_chunk(run_id, 1, patients, make_trajectories(patients), doses=doses)
        assert seen == {"rows": 25, "doses": len(doses["day"])}
        assert _rows(other, run_id) == 10  # rolled back: nothing of chunk 1 in the database
    else:
        monkeypatch.setattr("celltrial.store.database.remove_staged", fail_before_removing)
        with pytest.raises(KeyboardInterrupt):
            store.write_chunk(run_id, 1, patients, make_trajectories(patients), doses=doses)
        assert _rows(other, run_id) == 35  # committed, files still staged
    monkeypatch.undo()
    assert staged_chunks(store.staging_root) == {run_id: [1]}
    assert store.list_runs()[0]["patients"] == 35  # a staged chunk counts once, in the database or not
    with pytest.raises(StoreError, match="already stored"):  # staged counts as written
        store.write_chunk(run_id, 1, patients, make_trajectories(patients), doses=doses)
    assert store.ingest(run_id) == 1 and staged_chunks(store.staging_root) == {}
    again = other.load(run_id)
    assert _rows(other, run_id) == 35 and len(again.trajectories["day"]) == 105 and again.meta["chunks"] == 2
    assert len(again.extra["doses"]["day"]) == len(make_doses(first)["day"]) + len(doses["day"])
    assert_columns_equal(again.patients, concat_sorted([first, patients]), PATIENT_KINDS)


def test_two_store_objects_writing_from_threads(db, monkeypatch):
    monkeypatch.chdir(db.parent.parent)
    stores = [open_store(db), open_store("sub/../sub/runs.duckdb")]  # one file, two spellings
    run_ids = [s.create_run(make_meta(f"t{i}", f"2026-01-0{i + 1}T00:00:00Z"), ARMS) for i, s in enumerate(stores)]

    def work(i):
        for k in range(6):
            stores[i].write_chunk(run_ids[i], k, make_patients(7 + i, k), make_trajectories(make_patients(7 + i, k)))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for s in stores:
        s.close()
    with open_store(db) as store:
        assert [r["patients"] for r in store.list_runs()] == [48, 42]
        assert len(store.load(run_ids[1]).trajectories["day"]) == 48 * 3


def test_duplicate_chunk_and_bad_columns_are_store_errors(store):
    run_id = store.create_run(make_meta(), ARMS)
    patients = make_patients(8, 0)
    store.write_chunk(run_id, 0, patients)
    with pytest.raises(StoreError, match="chunk 0 .* already stored"):
        store.write_chunk(run_id, 0, patients)
    missing = {k: v for k, v in patients.items() if k != "pfs_days"}
    with pytest.raises(StoreError, match=r"missing \['pfs_days'\]"):
        store.write_chunk(run_id, 1, missing)
    with pytest.raises(StoreError, match=r"unknown \['pfs_dayz'\]"):
        store.write_chunk(run_id, 1, missing | {"pfs_dayz": patients["pfs_days"]})
    with pytest.raises(StoreError, match="'cr' is declared 'bool'"):
        store.write_chunk(run_id, 1, patients | {"cr": patients["cr"].astype(float)})
    with pytest.raises(StoreError, match="'doses' has 3 rows"):
        store.write_chunk(run_id, 1, patients | {"doses": patients["doses"][:3]})
    with pytest.raises(StoreError, match="holds None"):
        store.write_chunk(run_id, 1, patients | {"death_cause": np.array([None] * 8, dtype=object)})
    doses = make_doses(patients)
    with pytest.raises(StoreError, match=r"doses columns .* missing \['reason'\]"):
        store.write_chunk(run_id, 1, patients, doses={k: v for k, v in doses.items() if k != "reason"})
    with pytest.raises(StoreError, match=r"doses columns .* unknown \['why'\]"):
        store.write_chunk(run_id, 1, patients, doses=doses | {"why": doses["reason"]})
    with pytest.raises(StoreError, match="dose.*'day' is declared 'float'"):
        store.write_chunk(run_id, 1, patients, doses=doses | {"day": doses["reason"]})
    with pytest.raises(InputError, match="no run 'nope'"):
        store.write_chunk("nope", 0, patients)
    with pytest.raises(InputError, match="did you mean 'seed'"):
        store.create_run(make_meta() | {"sead": 1}, ARMS)
    assert _rows(store, run_id) == 8 and store.list_runs()[0]["patients"] == 8
    assert store.query("SELECT count(*) AS n FROM doses").column("n")[0].as_py() == 0


def test_empty_run_closed_store_and_schema_upgrade(db):
    store = open_store(db)
    run_id = store.create_run({"scenario_name": "my scenario/1", "started": "2026-05-06T07:08:09"}, ARMS[:1])
    assert run_id.startswith("my-scenario-1-20260506-070809-")
    run = store.load("latest")
    assert all(len(v) == 0 for v in run.patients.values()) and run.summary == {}
    assert run.meta["status"] == "running" and run.meta["seed"] is None
    store.query("ALTER TABLE patients DROP COLUMN cost_total")  # as if written by an older celltrial
    store.close()
    with pytest.raises(StoreError, match="closed"):
        store.list_runs()
    with open_store(db) as again:
        assert "cost_total" in again.query("SELECT * FROM patients LIMIT 0").column_names


def test_store_file_from_before_the_dose_log_opens_and_loads(db):
    with open_store(db) as store:
        run_id = store.create_run(make_meta(), ARMS)
        store.write_chunk(run_id, 0, make_patients(12, 0))
        store.finish_run(run_id, {}, finished="2026-03-04T06:00:00+00:00")
        store.query("DROP TABLE doses")  # as if written by a celltrial without the dose log
    with open_store(db) as again:
        run = again.load(run_id)
        assert again.query("SELECT * FROM doses LIMIT 0").column_names == ["run_id", "chunk", *DOSE_COLUMNS]
        new = again.create_run(make_meta("new"), ARMS)
        patients = make_patients(6, 0)
        again.write_chunk(new, 0, patients, doses=make_doses(patients))
        assert len(again.load(new).extra["doses"]["day"]) == len(make_doses(patients)["day"])
    assert len(run.patients["arm"]) == 12 and run.meta["status"] == "finished"
    assert_columns_equal(run.extra["doses"], empty_doses(), DOSE_COLUMNS)


def test_a_run_stored_before_an_int_column_existed_loads_without_it(db):
    """A column added later (e.g. crs_grade_penn) reads as absent for older runs, not as an error."""
    with open_store(db) as store:
        run_id = store.create_run(make_meta(), ARMS)
        store.write_chunk(run_id, 0, make_patients(6, 0))
        store.finish_run(run_id, {}, finished="2026-03-04T06:00:00+00:00")
        store.query("ALTER TABLE patients DROP COLUMN crs_grade_penn")  # as if written before the Penn grade
    with open_store(db) as again:  # the schema upgrade adds the column back, NULL for the old rows
        run = again.load(run_id)
        assert "crs_grade_penn" not in run.patients and len(run.patients["crs_grade"]) == 6
        new = again.create_run(make_meta("new"), ARMS)
        again.write_chunk(new, 0, make_patients(4, 0))
        assert len(again.load(new).patients["crs_grade_penn"]) == 4  # new runs keep it


OTHER_PROCESS = """
import sys
import numpy as np
from celltrial.store import open_store
db, run_id, out = sys.argv[1:]
with open_store(db) as store:
    run = store.load(run_id)
    np.savez(out, **run.patients)
    new = store.create_run({"scenario_name": "child", "started": "2026-09-09T09:09:09Z"}, run.arms)
    store.write_chunk(new, 0, {k: v[:5] for k, v in run.patients.items()}, None)
    store.finish_run(new, {"from": "child"}, finished="2026-09-09T09:10:00Z")
print("ok", flush=True)
"""


def test_another_process_reads_and_writes_while_a_store_object_is_open(db, tmp_path):
    patients = make_patients(30, 0)
    store = open_store(db)
    run_id = store.create_run(make_meta(), ARMS)
    store.write_chunk(run_id, 0, patients, None)
    out = tmp_path / "child.npz"
    child = subprocess.run([sys.executable, "-c", OTHER_PROCESS, str(db), run_id, str(out)],
                           capture_output=True, text=True, timeout=120)
    assert child.returncode == 0 and child.stdout.strip() == "ok", child.stderr
    store.write_chunk(run_id, 1, make_patients(4, 1), None)  # this object still writes afterwards
    with np.load(out) as loaded:
        assert_columns_equal({k: loaded[k] for k in loaded.files}, concat_sorted([patients]), PATIENT_KINDS)
    runs = store.list_runs()
    assert [r["scenario_name"] for r in runs] == ["child", "demo"] and [r["patients"] for r in runs] == [5, 34]
    assert store.load("latest").summary == {"from": "child"}
    store.close()


def test_a_chunk_given_as_parquet_bytes_is_stored_as_written_and_checked(store):
    """A Dask worker returns Parquet: the store writes those bytes (no re-encode) after checking the schema."""
    import io

    import pyarrow.parquet as pq

    from celltrial.store.convert import to_arrow_columns

    run_id = store.create_run(make_meta(), ARMS)
    patients = make_patients(9, 0)
    kinds = {c.name: c.kind for c in COLUMNS.values()}
    sink = io.BytesIO()
    pq.write_table(to_arrow_columns(kinds, patients, "patients"), sink)
    store.stage_chunk(run_id, 0, sink.getvalue(), None, None)
    assert store.ingest(run_id) == 1
    assert_columns_equal(store.load(run_id).patients, concat_sorted([patients]), PATIENT_KINDS)
    wrong = io.BytesIO()
    pq.write_table(to_arrow_columns(kinds, patients, "patients").drop(["cr"]), wrong)
    with pytest.raises(StoreError, match="patients table columns .* do not match"):
        store.stage_chunk(run_id, 1, wrong.getvalue())
    with pytest.raises(StoreError, match="not a Parquet file"):
        store.stage_chunk(run_id, 1, b"not parquet")
