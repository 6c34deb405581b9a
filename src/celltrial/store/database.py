"""The results store: one DuckDB file holding many trial runs, trajectories in Parquet files beside it.

Concurrency: no process keeps the file open. Every operation opens it, works in one transaction and
closes it (see :mod:`celltrial.store.connection`), so ``celltrial runs``, ``report``, ``compare`` and
SQL queries work while a run writes, and two runs can write to one store. A run stages each
finished chunk as Parquet files first (no lock needed, see :mod:`celltrial.store.staging`) and moves
it into the database when the file is free, so a reader holding the store never stalls a run.
One RunStore may be used from several threads.

Example:
    >>> import tempfile
    >>> store = open_store(Path(tempfile.mkdtemp()) / "runs.duckdb")
    >>> run_id = store.create_run({"scenario_name": "demo", "started": "2026-01-02T03:04:05Z"}, [{"name": "A"}])
    >>> run_id.startswith("demo-20260102-030405-"), store.resolve("latest") == run_id
    (True, True)
    >>> store.close()
"""

from __future__ import annotations

import contextlib
import operator
import re
import secrets
from pathlib import Path

import duckdb
import pyarrow as pa

from celltrial.errors import InputError, did_you_mean
from celltrial.trials.rundata import META_KEYS, RunData

from . import reading
from .connection import StoreOpenError, connected, is_lock_conflict, open_failure
from .convert import arrow_table, as_table
from .errors import StoreError
from .liveness import effective_status, writer_alive, writer_id
from .schema import (
    ARM_FIELDS,
    arm_text,
    assay_kinds,
    check_arms,
    dose_kinds,
    ensure_schema,
    meta_to_sql,
    patient_kinds,
    quote,
    schema_is_current,
    time_stamp,
    to_json,
    utc_now,
)
from .staging import remove_staged, stage, staged_chunks, staged_file, staged_patients, staging_root
from .trajectories import TRAJECTORY_KINDS, chunk_file, read_trajectories, trajectory_root, write_trajectory

#: Store used by the CLI when none is given (relative to the current directory).
DEFAULT_STORE = "celltrial-runs/runs.duckdb"
RUN_STATUSES = ("running", "finished", "interrupted")

_NEWEST_FIRST = "ORDER BY r.started DESC NULLS LAST, r.rowid DESC"
_META_COLUMNS = reading.META_COLUMNS
_first = reading.first
__all__ = ["DEFAULT_STORE", "RUN_STATUSES", "RunStore", "StoreOpenError", "open_failure", "open_store"]


def open_store(path: str | Path) -> RunStore:
    """Open (creating file, folders and tables if missing) the store at ``path``."""
    return RunStore(path)


class RunStore:
    """Trial runs in a DuckDB file; see :mod:`celltrial.store` for the tables and the file layout.

    Attributes:
        path: the database file (absolute).
        trajectory_root: the folder of the trajectory Parquet files (``chunks.trajectory_file`` is relative to it).
        staging_root: the folder of chunks staged and not yet in the database.
    """

    def __init__(self, path: str | Path):
        # Resolved, so that every spelling of one file maps to one process-wide lock.
        self.path = Path(path).expanduser().resolve()
        self.trajectory_root = trajectory_root(self.path)
        self.staging_root = staging_root(self.path)
        self._closed = False
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.path.exists():
            with self._reading("checking the store tables") as con:
                current = schema_is_current(con)
            if current:
                return
        with self._transaction("creating the store tables") as con:
            ensure_schema(con)

    # -- plumbing ---------------------------------------------------------------------------------

    def _check_open(self) -> None:
        if self._closed:
            raise StoreError(f"the results store {self.path} is closed")

    @contextlib.contextmanager
    def _transaction(self, what: str, wait_s: float | None = None):
        """Open the file for writing, BEGIN ... COMMIT, close; ROLLBACK on any exception (Ctrl-C included)."""
        self._check_open()
        with self._duckdb_errors(what), connected(self.path, read_only=False, wait_s=wait_s) as con:
            con.begin()
            try:
                yield con
                con.commit()
            except BaseException:
                with contextlib.suppress(duckdb.Error):
                    con.rollback()
                raise

    @contextlib.contextmanager
    def _reading(self, what: str):
        """Open the file read-only for one snapshot of every table (a reader never blocks another)."""
        self._check_open()
        with self._duckdb_errors(what), connected(self.path, read_only=True) as con:
            con.begin()
            yield con
            con.commit()

    @contextlib.contextmanager
    def _duckdb_errors(self, what: str):
        try:
            yield
        except duckdb.Error as exc:
            if is_lock_conflict(exc):
                raise open_failure(self.path, exc) from exc
            raise StoreError(f"{what} in {self.path} failed: {exc}") from exc

    def _require_run(self, con, run_id: str) -> None:
        if _first(con, "SELECT 1 FROM runs WHERE run_id = ?", [run_id]) is None:
            raise InputError(f"no run {run_id!r} in the store {self.path}")

    def close(self) -> None:
        """Mark this object closed (idempotent); it holds no connection between operations."""
        self._closed = True

    def __enter__(self) -> RunStore:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"RunStore({str(self.path)!r})"

    # -- writing ----------------------------------------------------------------------------------

    def create_run(self, meta: dict, arms: list) -> str:
        """Register a new run (status "running", written by this process) and return its id
        ``<scenario>-<YYYYmmdd-HHMMSS>-<hex4>``.

        ``meta`` holds keys of :data:`META_KEYS` (missing ones are NULL; ``finished``, ``status``,
        ``chunks`` and ``writer`` are set by the store); ``arms`` one dict per arm with ``name`` and
        optionally product, description, dose, regimen (any other keys are kept in ``runs.arms``).
        """
        unknown = [k for k in meta if k not in META_KEYS]
        if unknown:
            raise InputError(f"unknown run meta key {unknown[0]!r}{did_you_mean(unknown[0], META_KEYS)}")
        name = meta.get("scenario_name")
        if not isinstance(name, str) or not name:
            raise InputError("run meta needs a non-empty 'scenario_name'")
        # The store is the outer layer, so it may read the clock, but the runner's time wins.
        meta = {**meta, "started": meta.get("started") or utc_now(), "finished": "", "status": "running",
                "chunks": 0, "writer": writer_id()}
        stamp, arms = time_stamp(meta["started"]), check_arms(arms)
        values = [meta_to_sql(k, meta.get(k)) for k in META_KEYS] + [to_json(arms)]
        with self._transaction("creating a run") as con:
            run_id = self._new_run_id(con, name, stamp)
            marks = ", ".join("?" * (len(values) + 1))
            con.execute(f"INSERT INTO runs (run_id, {_META_COLUMNS}, arms) VALUES ({marks})", [run_id, *values])
            rows = [[run_id, a["name"], i, *(arm_text(a.get(f)) for f in ARM_FIELDS)] for i, a in enumerate(arms)]
            con.executemany("INSERT INTO arms VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
        return run_id

    @staticmethod
    def _new_run_id(con, name: str, stamp: str) -> str:
        safe = re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-.") or "run"  # the id names a folder
        for _ in range(64):
            run_id = f"{safe}-{stamp}-{secrets.token_hex(2)}"
            if _first(con, "SELECT 1 FROM runs WHERE run_id = ?", [run_id]) is None:
                return run_id
        raise StoreError(f"could not find a free run id for {name!r} at {stamp}")

    def reopen_run(self, run_id: str, force: bool = False) -> None:
        """Take over an interrupted run to complete it (``--resume``): it becomes "running", written by
        this process. Refused for a finished run and for a run whose writer still lives, or runs on
        another host where it cannot be checked (``force`` takes that one over: the user knows it is gone)."""
        with self._transaction(f"reopening run {run_id!r}") as con:
            self._require_run(con, run_id)
            status, writer = _first(con, "SELECT status, writer FROM runs WHERE run_id = ?", [run_id])
            if status == "finished":
                raise InputError(f"run {run_id} is finished: there is nothing to resume")
            alive = writer_alive(writer)
            if status == "running" and (alive or (alive is None and not force)):
                where = "and that process still runs; resume it once it has ended" if alive else \
                    ("on another host, so celltrial cannot tell whether it still runs; once you know it has "
                     "ended, take the run over with --resume RUN --force")
                raise InputError(f"run {run_id} is being written by {writer or 'an unknown process'} {where}")
            con.execute("UPDATE runs SET status = 'running', finished = '', writer = ? WHERE run_id = ?",
                        [writer_id(), run_id])

    def stage_chunk(self, run_id: str, chunk: int, patients, trajectories=None, doses=None, assays=None) -> None:
        """Write one finished chunk beside the store, without opening the database (see
        :mod:`celltrial.store.staging`); :meth:`ingest` moves it in. Columns are checked first.

        ``patients``, ``trajectories``, ``doses`` and ``assays`` are column dicts, or Arrow tables or
        Parquet bytes with exactly those columns; ``doses`` is the chunk's dose log and ``assays`` its
        assay calls (zero rows is fine), None stores none.
        """
        chunk = operator.index(chunk)
        if chunk < 0:
            raise InputError(f"chunk index must be >= 0, got {chunk}")
        table = as_table(patient_kinds(), patients, "patients")  # validate before touching disk
        traj = None if trajectories is None else as_table(TRAJECTORY_KINDS, trajectories, "trajectories")
        given = None if doses is None else as_table(dose_kinds(), doses, "doses")
        calls = None if assays is None else as_table(assay_kinds(), assays, "assays")
        try:
            if traj is not None:  # registered by the chunk's row when it is ingested; a rerun overwrites it
                write_trajectory(self.trajectory_root, chunk_file(run_id, chunk), traj)
            stage(self.staging_root, run_id, chunk, table, given, calls)
        except OSError as exc:  # disk full, no permission: a store problem, not a bug
            raise StoreError(f"cannot write chunk {chunk} of run {run_id!r} beside {self.path}: {exc}") from exc

    def ingest(self, run_id: str | None = None, wait_s: float | None = None) -> int:
        """Move staged chunks (of ``run_id``, or of every run) into the database in one transaction.

        Returns the number of chunks moved. ``wait_s`` bounds the wait for a store locked by another
        process (:class:`StoreOpenError` after it); the staged files stay until the move commits.
        """
        pending = [(rid, k) for rid, ks in staged_chunks(self.staging_root, run_id).items() for k in ks]
        if not pending:
            return 0
        moved = []
        with self._transaction(f"storing {len(pending)} chunk(s)", wait_s) as con:
            known = {r for (r,) in con.execute("SELECT run_id FROM runs").fetchall()}
            for rid, k in pending:
                if rid not in known:
                    raise StoreError(f"staged chunk {k} of run {rid!r} has no run in {self.path}; "
                                     f"remove {self.staging_root / rid} if that run was deleted")
                if _first(con, "SELECT 1 FROM chunks WHERE run_id = ? AND chunk = ?", [rid, k]) is None:
                    self._insert_staged(con, rid, k)
                moved.append((rid, k))
        for rid, k in moved:  # after COMMIT: a crash in between leaves files the next ingest skips
            with contextlib.suppress(OSError):  # a file left behind is skipped by the next ingest too
                remove_staged(self.staging_root, rid, k)
        return len(moved)

    def try_ingest(self, run_id: str, wait_s: float = 0.5) -> int:
        """:meth:`ingest`, giving up quietly (0) when the store stays locked for ``wait_s``."""
        try:
            return self.ingest(run_id, wait_s)
        except StoreOpenError as exc:
            if isinstance(exc.__cause__, duckdb.Error) and is_lock_conflict(exc.__cause__):
                return 0
            raise

    def _insert_staged(self, con, run_id: str, chunk: int) -> None:
        patients = staged_file(self.staging_root, run_id, chunk, "patients")
        n = self._insert_file(con, "patients", run_id, chunk, patients, patient_kinds())
        for part, kinds in (("doses", dose_kinds()), ("assays", assay_kinds())):
            path = staged_file(self.staging_root, run_id, chunk, part)
            if path.exists():
                self._insert_file(con, part, run_id, chunk, path, kinds)
        traj = chunk_file(run_id, chunk)
        self._insert_chunk_row(con, run_id, chunk, n, traj if (self.trajectory_root / traj).exists() else None)

    @staticmethod
    def _insert_file(con, target: str, run_id: str, chunk: int, path: Path, kinds: dict) -> int:
        # One INSERT ... SELECT straight from the Parquet file: a million rows take seconds.
        names = ", ".join(quote(n) for n in kinds)
        sql = f"INSERT INTO {target} (run_id, chunk, {names}) SELECT ?, ?, {names} FROM read_parquet(?)"
        return con.execute(sql, [run_id, chunk, path.as_posix()]).fetchall()[0][0]

    @staticmethod
    def _insert_chunk_row(con, run_id: str, chunk: int, n_patients: int, trajectory_file: str | None) -> None:
        con.execute(
            "INSERT INTO chunks VALUES (?, ?, ?, ?, ?)", [run_id, chunk, n_patients, trajectory_file, utc_now()]
        )

    def write_chunk(self, run_id: str, chunk: int, patients: dict, trajectories: dict | None = None,
                    doses: dict | None = None, assays: dict | None = None) -> None:
        """Store one chunk now: :meth:`stage_chunk`, then :meth:`ingest` of the run (waiting for the lock).

        Example:
            store.write_chunk(run_id, 0, {name: array for name in column_names()}, None, doses=dose_log)
        """
        with self._reading(f"checking chunk {chunk} of run {run_id!r}") as con:
            self._require_run(con, run_id)
            if _first(con, "SELECT 1 FROM chunks WHERE run_id = ? AND chunk = ?", [run_id, chunk]) or \
                    chunk in staged_chunks(self.staging_root, run_id).get(run_id, []):
                raise StoreError(f"chunk {chunk} of run {run_id!r} is already stored; each chunk is written once")
        self.stage_chunk(run_id, chunk, patients, trajectories, doses, assays)
        self.ingest(run_id)

    def finish_run(self, run_id: str, summary: dict, finished: str, status: str = "finished") -> None:
        """Record the summary, finish time and final status of a run (after moving in its staged chunks)."""
        if status not in RUN_STATUSES:
            raise InputError(f"run status must be one of {RUN_STATUSES}, got {status!r}")
        self.ingest(run_id)
        with self._transaction(f"finishing run {run_id!r}") as con:
            self._require_run(con, run_id)
            con.execute(
                "UPDATE runs SET finished = ?, status = ?, chunks = (SELECT count(*) FROM chunks WHERE run_id = ?) "
                "WHERE run_id = ?",
                [finished, status, run_id, run_id],
            )
            con.execute("INSERT OR REPLACE INTO summaries VALUES (?, ?)", [run_id, to_json(summary)])

    def mark_interrupted(self, run_id: str, wait_s: float | None = None) -> None:
        """Mark a running run as interrupted (a finished run is left as it is); its stored and staged chunks stay."""
        with self._transaction(f"marking run {run_id!r} interrupted", wait_s) as con:
            self._require_run(con, run_id)
            con.execute(
                "UPDATE runs SET status = 'interrupted', chunks = (SELECT count(*) FROM chunks WHERE run_id = ?) "
                "WHERE run_id = ? AND status = 'running'",
                [run_id, run_id],
            )

    # -- reading ----------------------------------------------------------------------------------

    def list_runs(self) -> list:
        """One dict per run, newest first: run_id, scenario_name, started, finished, status, patients
        (stored so far), patients_planned (arms x patients per arm x replicates, None if unknown), seed.

        A run still marked running whose process is gone reads as "interrupted"; chunks staged and
        not yet in the database count as stored.
        """
        keys = ("run_id", "scenario_name", "started", "finished", "status", "patients", "seed")
        with self._reading("listing runs") as con:
            rows = con.execute(
                "SELECT r.run_id, r.scenario_name, r.started, r.finished, r.status, coalesce(c.n, 0), r.seed, "
                "r.writer, r.patients_per_arm * r.replicates * (SELECT count(*) FROM arms a WHERE a.run_id = r.run_id) "
                "FROM runs r LEFT JOIN (SELECT run_id, sum(n_patients) AS n FROM chunks GROUP BY run_id) c "
                f"ON c.run_id = r.run_id {_NEWEST_FIRST}"
            ).fetchall()
            staged = staged_patients(self.staging_root, con)
        out = []
        for row in rows:
            run = dict(zip(keys, (*row[:5], int(row[5]) + staged.get(row[0], 0), row[6]), strict=True))
            run["status"] = effective_status(run["status"], row[7])
            run["patients_planned"] = None if row[8] is None else int(row[8])
            out.append(run)
        return out

    def resolve(self, ref: str) -> str:
        """Full run id, a unique prefix of one, or "latest" (the newest run) -> full run id."""
        with self._reading("looking up a run") as con:
            ids = [r[0] for r in con.execute(f"SELECT r.run_id FROM runs r {_NEWEST_FIRST}").fetchall()]
        ref = str(ref).strip()
        if ref in ids:
            return ref
        if ref == "latest" and ids:
            return ids[0]
        matches = [i for i in ids if i.startswith(ref)] if ref else []
        if len(matches) == 1:
            return matches[0]
        if matches:
            raise InputError(f"run {ref!r} is ambiguous: it starts {', '.join(matches[:5])}; give more of the id")
        known = f"known runs, newest first: {', '.join(ids[:5])}" if ids else "the store holds no runs yet"
        raise InputError(f"no run {ref!r} in {self.path}{did_you_mean(ref, ids)}; {known}")

    def load(self, ref: str) -> RunData:
        """The run ``ref`` (see :meth:`resolve`) with patients sorted by arm position, replicate, patient.

        The dose log is in ``extra["doses"]`` and the assay calls in ``extra["assays"]`` (column -> array,
        also sorted by day; empty for an older run or one without calls).
        Chunks still staged are not included (a running run shows what it has stored so far).
        """
        run_id = self.resolve(ref)
        with self._reading(f"loading run {run_id!r}") as con:  # one snapshot for every table
            head = reading.read_head(con, run_id)
            files = con.execute("SELECT trajectory_file FROM chunks WHERE run_id = ? ORDER BY chunk", [run_id])
            files = [f for (f,) in files.fetchall()]
            head.patients = reading.read_patients(con, run_id)
            head.trajectories = read_trajectories(con, self.trajectory_root, run_id, [f for f in files if f])
            head.extra = {"doses": reading.read_doses(con, run_id), "assays": reading.read_assays(con, run_id)}
        return head

    def load_summary(self, ref: str) -> RunData:
        """The run ``ref`` without its rows: meta, arms and summary (what ``celltrial run`` prints).

        A million-patient run is summarised while it runs, so printing it needs no reload of its
        patients; :meth:`load` reads everything (reports, exports).
        """
        run_id = self.resolve(ref)
        with self._reading(f"loading run {run_id!r}") as con:
            return reading.read_head(con, run_id)

    def stored_chunks(self, run_id: str, columns) -> dict:
        """chunk -> (patient ``columns``, dose log, assay counts) of every chunk stored for ``run_id``
        (staged ones moved in first): what a resumed run needs of the chunks it does not recompute."""
        self.ingest(run_id)
        with self._reading(f"reading the chunks of run {run_id!r}") as con:
            return reading.read_chunk_parts(con, run_id, columns)

    def query(self, sql: str, params=None) -> pa.Table:
        """Run SQL on the store and return a pyarrow Table (a statement that writes opens it for writing).

        Example:
            store.query("SELECT arm, avg(cr::INT) AS cr FROM patients WHERE run_id = ? GROUP BY arm", [run_id])
        """
        self._check_open()
        writes = not re.match(r"\s*(SELECT|WITH|DESCRIBE|SHOW|PRAGMA|EXPLAIN|SUMMARIZE|FROM)\b", sql, re.I)
        try:
            with connected(self.path, read_only=not writes) as con:
                return arrow_table(con, sql, params)
        except duckdb.Error as exc:
            if is_lock_conflict(exc):
                raise open_failure(self.path, exc) from exc
            raise InputError(f"SQL query on {self.path} failed: {exc}") from exc
