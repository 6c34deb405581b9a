"""The results store: one DuckDB file holding many trial runs, trajectories in Parquet files beside it.

Concurrency: DuckDB lets one *process* at a time open a database file (it takes a file lock), so
a running trial keeps the store to itself until it closes it; another process gets a
:class:`StoreOpenError` saying so (and how to go on). Within one process any number of
:class:`RunStore` objects may share a file: DuckDB shares one database instance among
connections to the same path and isolates their transactions.
One RunStore may be used from several threads (its methods take a lock).

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
import threading
from pathlib import Path

import duckdb
import pyarrow as pa

from celltrial.errors import InputError, StoreUnavailableError, did_you_mean
from celltrial.trials.rundata import META_KEYS, RunData

from .convert import arrow_table, to_arrow_columns, to_numpy
from .errors import StoreError
from .schema import (
    ARM_FIELDS,
    arm_text,
    check_arms,
    dose_kinds,
    ensure_schema,
    from_json,
    meta_from_sql,
    meta_to_sql,
    patient_kinds,
    quote,
    time_stamp,
    to_json,
    utc_now,
)
from .trajectories import TRAJECTORY_KINDS, StagedFile, chunk_file, read_trajectories, trajectory_root

#: Store used by the CLI when none is given (relative to the current directory).
DEFAULT_STORE = "celltrial-runs/runs.duckdb"
RUN_STATUSES = ("running", "finished", "interrupted")

_NEWEST_FIRST = "ORDER BY r.started DESC NULLS LAST, r.rowid DESC"
_CHUNK_VIEW = "_celltrial_chunk_rows"
_META_COLUMNS = ", ".join(quote(k) for k in META_KEYS)


class StoreOpenError(StoreError, StoreUnavailableError):
    """The store file cannot be opened (locked by another process, unreadable, not DuckDB).

    A :class:`StoreError` for callers of the store, a :class:`StoreUnavailableError` for the CLI
    (its own exit code: neither a bug nor bad input).
    """


def _open_failure(path: Path, exc: Exception) -> StoreOpenError:
    """The error for a failed ``duckdb.connect``, naming the file and what to do next.

    Example:
        >>> str(_open_failure(Path("/r.duckdb"), OSError('Could not set lock ... (PID 42). See'))).split(":")[0]
        'the results store /r.duckdb is in use by process 42'
    """
    text = str(exc)
    if "lock" not in text.lower():
        return StoreOpenError(f"cannot open the results store {path}: {text}")
    pid = re.search(r"\(PID (\d+)\)", text)
    who = f"process {pid.group(1)}" if pid else "another process"
    return StoreOpenError(
        f"the results store {path} is in use by {who}: DuckDB lets one process at a time open a store "
        "(a running trial keeps it until it ends). Wait for that run to finish, or write to another "
        "store with --out OTHER.duckdb")


def open_store(path: str | Path) -> RunStore:
    """Open (creating file, folders and tables if missing) the store at ``path``."""
    return RunStore(path)


def _first(con, sql: str, params: list):
    """First row or None. Drains the result: DuckDB 2 refuses ``con.sql`` while a result is unfinished."""
    rows = con.execute(sql, params).fetchall()
    return rows[0] if rows else None


class RunStore:
    """Trial runs in a DuckDB file; see :mod:`celltrial.store` for the tables and the file layout.

    Attributes:
        path: the database file (absolute).
        trajectory_root: the folder of the trajectory Parquet files (``chunks.trajectory_file`` is relative to it).
    """

    def __init__(self, path: str | Path):
        # Resolved, so that every spelling of one file maps to DuckDB's one shared instance for it.
        self.path = Path(path).expanduser().resolve()
        self.trajectory_root = trajectory_root(self.path)
        self._lock = threading.RLock()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._con = duckdb.connect(str(self.path))
        except duckdb.Error as exc:  # IOException for a lock held elsewhere or a file that is not DuckDB
            raise _open_failure(self.path, exc) from exc
        try:
            with self._transaction("creating the store tables") as con:
                ensure_schema(con)
        except BaseException:
            self.close()
            raise

    # -- plumbing ---------------------------------------------------------------------------------

    def _connection(self):
        if self._con is None:
            raise StoreError(f"the results store {self.path} is closed")
        return self._con

    @contextlib.contextmanager
    def _transaction(self, what: str):
        """BEGIN ... COMMIT under the lock; ROLLBACK on any exception (Ctrl-C included)."""
        with self._lock:
            con = self._connection()
            con.begin()
            try:
                yield con
                con.commit()
            except BaseException as exc:
                with contextlib.suppress(duckdb.Error):
                    con.rollback()
                if isinstance(exc, duckdb.Error):
                    raise StoreError(f"{what} in {self.path} failed: {exc}") from exc
                raise

    def _require_run(self, con, run_id: str) -> None:
        if _first(con, "SELECT 1 FROM runs WHERE run_id = ?", [run_id]) is None:
            raise InputError(f"no run {run_id!r} in the store {self.path}")

    def close(self) -> None:
        """Close the connection (idempotent); the file lock goes when the process's last one closes."""
        with self._lock:
            if self._con is not None:
                self._con.close()
                self._con = None

    def __enter__(self) -> RunStore:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"RunStore({str(self.path)!r})"

    # -- writing ----------------------------------------------------------------------------------

    def create_run(self, meta: dict, arms: list) -> str:
        """Register a new run (status "running") and return its id ``<scenario>-<YYYYmmdd-HHMMSS>-<hex4>``.

        ``meta`` holds keys of :data:`META_KEYS` (missing ones are NULL; ``finished``, ``status`` and
        ``chunks`` are set by the store); ``arms`` one dict per arm with ``name`` and optionally
        product, description, dose, regimen (any other keys are kept in ``runs.arms``).
        """
        unknown = [k for k in meta if k not in META_KEYS]
        if unknown:
            raise InputError(f"unknown run meta key {unknown[0]!r}{did_you_mean(unknown[0], META_KEYS)}")
        name = meta.get("scenario_name")
        if not isinstance(name, str) or not name:
            raise InputError("run meta needs a non-empty 'scenario_name'")
        # The store is the outer layer, so it may read the clock, but the runner's time wins.
        meta = {**meta, "started": meta.get("started") or utc_now(), "finished": "", "status": "running", "chunks": 0}
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

    def write_chunk(
        self, run_id: str, chunk: int, patients: dict, trajectories: dict | None = None, doses: dict | None = None
    ) -> None:
        """Store one chunk atomically: its patient rows, dose rows, ``chunks`` row and Parquet file, or none.

        ``doses`` is the chunk's dose log (columns ``celltrial.trials.columns.DOSE_COLUMNS``; zero rows is
        fine); None stores none.

        Example:
            store.write_chunk(run_id, 0, {name: array for name in column_names()}, None, doses=dose_log)
        """
        chunk = operator.index(chunk)
        if chunk < 0:
            raise InputError(f"chunk index must be >= 0, got {chunk}")
        table = to_arrow_columns(patient_kinds(), patients, "patients")  # validate before touching disk
        traj = None if trajectories is None else to_arrow_columns(TRAJECTORY_KINDS, trajectories, "trajectories")
        given = None if doses is None else to_arrow_columns(dose_kinds(), doses, "doses")
        staged = None
        try:
            with self._transaction(f"writing chunk {chunk} of run {run_id!r}") as con:
                self._require_run(con, run_id)
                if _first(con, "SELECT 1 FROM chunks WHERE run_id = ? AND chunk = ?", [run_id, chunk]):
                    raise StoreError(f"chunk {chunk} of run {run_id!r} is already stored; each chunk is written once")
                if traj is not None:
                    staged = StagedFile(self.trajectory_root, chunk_file(run_id, chunk), traj)
                self._insert_rows(con, "patients", run_id, chunk, table)
                if given is not None and given.num_rows:
                    self._insert_rows(con, "doses", run_id, chunk, given)
                self._insert_chunk_row(con, run_id, chunk, table.num_rows, staged and chunk_file(run_id, chunk))
                if staged is not None:
                    staged.publish()  # before COMMIT: a crash in between leaves only an unregistered file
        except BaseException:
            if staged is not None:
                staged.discard()
            raise

    @staticmethod
    def _insert_rows(con, target: str, run_id: str, chunk: int, table: pa.Table) -> None:
        # One INSERT ... SELECT over the registered Arrow table (zero-copy scan): a million rows take
        # seconds; row-by-row inserts would take hours.
        names = ", ".join(quote(n) for n in table.column_names)
        con.register(_CHUNK_VIEW, table)
        try:
            sql = f"INSERT INTO {target} (run_id, chunk, {names}) SELECT ?, ?, {names} FROM {_CHUNK_VIEW}"
            con.execute(sql, [run_id, chunk])
        finally:
            con.unregister(_CHUNK_VIEW)

    @staticmethod
    def _insert_chunk_row(con, run_id: str, chunk: int, n_patients: int, trajectory_file: str | None) -> None:
        con.execute(
            "INSERT INTO chunks VALUES (?, ?, ?, ?, ?)", [run_id, chunk, n_patients, trajectory_file, utc_now()]
        )

    def finish_run(self, run_id: str, summary: dict, finished: str, status: str = "finished") -> None:
        """Record the summary, finish time and final status of a run."""
        if status not in RUN_STATUSES:
            raise InputError(f"run status must be one of {RUN_STATUSES}, got {status!r}")
        with self._transaction(f"finishing run {run_id!r}") as con:
            self._require_run(con, run_id)
            con.execute(
                "UPDATE runs SET finished = ?, status = ?, chunks = (SELECT count(*) FROM chunks WHERE run_id = ?) "
                "WHERE run_id = ?",
                [finished, status, run_id, run_id],
            )
            con.execute("INSERT OR REPLACE INTO summaries VALUES (?, ?)", [run_id, to_json(summary)])

    def mark_interrupted(self, run_id: str) -> None:
        """Mark a running run as interrupted (a finished run is left as it is); its stored chunks stay."""
        with self._transaction(f"marking run {run_id!r} interrupted") as con:
            self._require_run(con, run_id)
            con.execute(
                "UPDATE runs SET status = 'interrupted', chunks = (SELECT count(*) FROM chunks WHERE run_id = ?) "
                "WHERE run_id = ? AND status = 'running'",
                [run_id, run_id],
            )

    # -- reading ----------------------------------------------------------------------------------

    def list_runs(self) -> list:
        """One dict per run, newest first: run_id, scenario_name, started, finished, status, patients, seed."""
        keys = ("run_id", "scenario_name", "started", "finished", "status", "patients", "seed")
        with self._lock:
            rows = (
                self._connection()
                .execute(
                    "SELECT r.run_id, r.scenario_name, r.started, r.finished, r.status, coalesce(c.n, 0), r.seed "
                    "FROM runs r LEFT JOIN (SELECT run_id, sum(n_patients) AS n FROM chunks GROUP BY run_id) c "
                    f"ON c.run_id = r.run_id {_NEWEST_FIRST}"
                )
                .fetchall()
            )
        return [dict(zip(keys, (*row[:5], int(row[5]), row[6]), strict=True)) for row in rows]

    def resolve(self, ref: str) -> str:
        """Full run id, a unique prefix of one, or "latest" (the newest run) -> full run id."""
        with self._lock:
            ids = [r[0] for r in self._connection().execute(f"SELECT r.run_id FROM runs r {_NEWEST_FIRST}").fetchall()]
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

        The dose log is in ``extra["doses"]`` (column -> array, also sorted by day; empty for an older run).
        """
        run_id = self.resolve(ref)
        with self._transaction(f"loading run {run_id!r}") as con:  # one snapshot for every table
            head = self._read_head(con, run_id)
            files = con.execute("SELECT trajectory_file FROM chunks WHERE run_id = ? ORDER BY chunk", [run_id])
            files = [f for (f,) in files.fetchall()]
            head.patients = self._read_patients(con, run_id)
            head.trajectories = read_trajectories(con, self.trajectory_root, run_id, [f for f in files if f])
            head.extra = {"doses": self._read_doses(con, run_id)}
        return head

    def load_summary(self, ref: str) -> RunData:
        """The run ``ref`` without its rows: meta, arms and summary (what ``celltrial run`` prints).

        A million-patient run is summarised while it runs, so printing it needs no reload of its
        patients; :meth:`load` reads everything (reports, exports).
        """
        run_id = self.resolve(ref)
        with self._transaction(f"loading run {run_id!r}") as con:
            return self._read_head(con, run_id)

    @staticmethod
    def _read_head(con, run_id: str) -> RunData:
        """Meta (with the number of chunks), arms and summary of a run; no rows."""
        row = _first(con, f"SELECT {_META_COLUMNS}, arms FROM runs WHERE run_id = ?", [run_id])
        meta = {k: meta_from_sql(k, v) for k, v in zip(META_KEYS, row[:-1], strict=True)}
        meta["chunks"] = _first(con, "SELECT count(*) FROM chunks WHERE run_id = ?", [run_id])[0]
        summary = _first(con, "SELECT summary FROM summaries WHERE run_id = ?", [run_id])
        return RunData(run_id, meta, from_json(row[-1]), {}, from_json(summary[0]) if summary else {})

    @staticmethod
    def _read_rows(con, run_id: str, table: str, kinds: dict, order: str, label: str) -> dict:
        """Columns ``kinds`` of one run's rows of ``table``, arms in their position, then ``order``."""
        rows = arrow_table(
            con,
            f"SELECT {', '.join('t.' + quote(n) for n in kinds)} FROM {table} t "
            "LEFT JOIN (SELECT arm, position FROM arms WHERE run_id = ?) a ON a.arm = t.arm WHERE t.run_id = ? "
            f"ORDER BY a.position NULLS LAST, t.arm, {order}",
            params=[run_id, run_id],
        )
        # A column added after this run was stored is all NULL: leave it out (readers treat it as
        # optional) rather than refuse the whole run.
        added_later = {name for name in kinds if rows.num_rows and rows.column(name).null_count == rows.num_rows
                       and kinds[name] in ("int", "bool")}
        return {name: to_numpy(rows.column(name), kind, f"{label} {name!r}") for name, kind in kinds.items()
                if name not in added_later}

    @classmethod
    def _read_patients(cls, con, run_id: str) -> dict:
        return cls._read_rows(con, run_id, "patients", patient_kinds(), "t.replicate, t.patient, t.chunk", "column")

    @classmethod
    def _read_doses(cls, con, run_id: str) -> dict:
        """The dose log sorted like the patients, then by day (ties in the order written); empty arrays if none."""
        return cls._read_rows(con, run_id, "doses", dose_kinds(),
                              "t.replicate, t.patient, t.day, t.chunk, t.rowid", "dose column")

    def query(self, sql: str, params=None) -> pa.Table:
        """Run SQL on the store and return a pyarrow Table.

        Example:
            store.query("SELECT arm, avg(cr::INT) AS cr FROM patients WHERE run_id = ? GROUP BY arm", [run_id])
        """
        with self._lock:
            try:
                return arrow_table(self._connection(), sql, params)
            except duckdb.Error as exc:
                raise InputError(f"SQL query on {self.path} failed: {exc}") from exc
