"""Results store of trial runs: one DuckDB file with many runs, trajectories as Parquet beside it.

On disk, for ``path = "celltrial-runs/runs.duckdb"``::

    celltrial-runs/runs.duckdb                                     tables runs, arms, patients, doses, summaries, chunks
    celltrial-runs/runs_trajectories/<run_id>/chunk-00000.parquet  one file per chunk (if it has trajectories)
    celltrial-runs/runs_chunks/<run_id>/chunk-00007.*.parquet      a chunk staged, not yet in the database

``patients`` has ``run_id``, ``chunk`` and then exactly the columns of
:data:`celltrial.trials.columns.COLUMNS`, so plain SQL works on it; ``doses`` (the dose log: one row per
product dose given, regimen or policy, with its reason) likewise has ``run_id``, ``chunk`` and the
``celltrial.trials.columns.DOSE_COLUMNS``. No process keeps the file open: every operation opens it
for one short transaction (see :mod:`celltrial.store.connection`), so readers work while a run
writes and several runs can share a store (docs/runs.md).

Example:
    >>> import tempfile
    >>> from pathlib import Path
    >>> with open_store(Path(tempfile.mkdtemp()) / "runs.duckdb") as store:
    ...     run_id = store.create_run({"scenario_name": "demo", "started": "2026-01-02T03:04:05Z"}, [{"name": "A"}])
    ...     store.finish_run(run_id, {"n": 0}, finished="2026-01-02T03:05:00Z")
    ...     store.load("latest").meta["status"]
    'finished'
"""

from .database import DEFAULT_STORE, RUN_STATUSES, RunStore, open_store
from .errors import StoreError
from .trajectories import TRAJECTORY_KINDS, trajectory_root

__all__ = [
    "DEFAULT_STORE",
    "RUN_STATUSES",
    "TRAJECTORY_KINDS",
    "RunStore",
    "StoreError",
    "open_store",
    "trajectory_root",
]
