"""Trajectory Parquet files of the results store: one file per chunk, next to the database file.

Layout: ``<db path without suffix>_trajectories/<run_id>/chunk-<k:05d>.parquet``, long format with
the columns of :data:`TRAJECTORY_KINDS`. A file is written (atomically) when its chunk is staged and
registered by the chunk's ``chunks`` row when the chunk enters the database, so a crash leaves at
most a stray file that no ``chunks`` row names; readers only open the files the ``chunks`` table registers.

Example:
    >>> trajectory_root(Path("celltrial-runs/runs.duckdb")).as_posix()
    'celltrial-runs/runs_trajectories'
    >>> chunk_file("demo-20260101-120000-ab12", 3)
    'demo-20260101-120000-ab12/chunk-00003.parquet'
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from celltrial.trials.columns import TRAJECTORY_QUANTITIES

from .convert import arrow_table, to_numpy
from .errors import StoreError
from .schema import quote
from .staging import write_atomically

#: Columns of a trajectory table and their kinds, in file order.
TRAJECTORY_KINDS = {
    "arm": "str",
    "replicate": "int",
    "patient": "int",
    "day": "float",
    **{name: "float" for name in TRAJECTORY_QUANTITIES},
}


def trajectory_root(db_path: Path) -> Path:
    """The folder holding the trajectory files of the store at ``db_path``."""
    return db_path.with_name(db_path.stem + "_trajectories")


def chunk_file(run_id: str, chunk: int) -> str:
    """Path of a chunk's file relative to :func:`trajectory_root` (what ``chunks.trajectory_file`` holds)."""
    return f"{run_id}/chunk-{chunk:05d}.parquet"


def write_trajectory(root: Path, relpath: str, table: pa.Table | bytes) -> None:
    """Write a chunk's trajectory file (atomically: a crash leaves no half-written file)."""
    write_atomically(table, root / relpath)


def read_trajectories(con, root: Path, run_id: str, relpaths: list) -> dict | None:
    """Concatenate a run's registered chunk files, sorted like the patients (arm position, replicate,
    patient, then day); None when the run stored no trajectories."""
    if not relpaths:
        return None
    paths = [root / rel for rel in relpaths]
    for path in paths:
        if not path.is_file():
            raise StoreError(
                f"trajectory file {path} is registered in the store but missing; "
                f"keep the folder {root.name} next to the database file when moving a store"
            )
    files = ", ".join("'" + path.as_posix().replace("'", "''") + "'" for path in paths)
    names = ", ".join(f"t.{quote(n)}" for n in TRAJECTORY_KINDS)
    # DuckDB sorts in parallel and measured faster than a numpy lexsort plus gathers of every column.
    table = arrow_table(
        con,
        f"SELECT {names} FROM read_parquet([{files}]) t "
        "LEFT JOIN (SELECT arm, position FROM arms WHERE run_id = ?) a ON a.arm = t.arm "
        "ORDER BY a.position NULLS LAST, t.arm, t.replicate, t.patient, t.day",
        params=[run_id],
    )
    kinds = TRAJECTORY_KINDS
    return {name: to_numpy(table.column(name), kind, f"trajectory column {name!r}") for name, kind in kinds.items()}
