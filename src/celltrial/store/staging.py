"""Chunks staged as Parquet files before they enter the database: the manifest of a run's progress.

A finished chunk is first written next to the store, without touching the database (no lock):

    <db path without suffix>_chunks/<run_id>/chunk-<k:05d>.doses.parquet      (if the chunk has a dose log)
    <db path without suffix>_chunks/<run_id>/chunk-<k:05d>.assays.parquet     (if it has assay calls to store)
    <db path without suffix>_chunks/<run_id>/chunk-<k:05d>.patients.parquet   (written last: the chunk is staged)

and then moved into the database in one short transaction, after which the files are removed (see
:meth:`celltrial.store.RunStore.ingest`). So a chunk is never lost: a process killed after staging
leaves the files, which the next ingest (or ``celltrial run --resume``) moves in; a chunk both in
the database and still staged (killed between COMMIT and the removal) is moved in only once.

Example:
    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp())
    >>> stage(root, "r1", 3, pa.table({"x": [1.0, 2.0]}), None)
    >>> staged_chunks(root)
    {'r1': [3]}
    >>> remove_staged(root, "r1", 3); staged_chunks(root)
    {}
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

_MARKER = re.compile(r"^chunk-(\d{5,})\.patients\.parquet$")


def staging_root(db_path: Path) -> Path:
    """The folder of the staged chunks of the store at ``db_path``."""
    return db_path.with_name(db_path.stem + "_chunks")


def staged_file(root: Path, run_id: str, chunk: int, part: str) -> Path:
    """The staged file of one part ("patients", "doses" or "assays") of a chunk."""
    return root / run_id / f"chunk-{chunk:05d}.{part}.parquet"


def write_atomically(table: pa.Table | bytes, final: Path) -> None:
    """Write ``table`` (or a Parquet file's bytes, as a Dask worker returns them) under a temporary
    name in ``final``'s folder and rename it into place."""
    final.parent.mkdir(parents=True, exist_ok=True)
    temp = final.with_name(f".{final.name}.{secrets.token_hex(4)}.tmp")
    try:
        if isinstance(table, bytes):
            temp.write_bytes(table)
        else:
            pq.write_table(table, temp)
        os.replace(temp, final)  # atomic within one folder; replaces a stray file of a crashed attempt
    finally:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()


def stage(root: Path, run_id: str, chunk: int, patients: pa.Table | bytes, doses: pa.Table | bytes | None,
          assays: pa.Table | bytes | None = None) -> None:
    """Stage one chunk: the dose log and assay calls first, the patients file last (its presence marks
    the chunk staged)."""
    for part, table in (("doses", doses), ("assays", assays)):
        with contextlib.suppress(FileNotFoundError):  # a part of an earlier attempt must not survive
            staged_file(root, run_id, chunk, part).unlink()
        if table is not None:
            write_atomically(table, staged_file(root, run_id, chunk, part))
    write_atomically(patients, staged_file(root, run_id, chunk, "patients"))


def staged_chunks(root: Path, run_id: str | None = None) -> dict:
    """run id -> sorted chunk indices staged and not yet moved into the database."""
    folders = [root / run_id] if run_id is not None else (sorted(root.iterdir()) if root.is_dir() else [])
    out = {}
    for folder in folders:
        if not folder.is_dir():
            continue
        found = sorted(int(m.group(1)) for m in map(_MARKER.match, os.listdir(folder)) if m)
        if found:
            out[folder.name] = found
    return out


def remove_staged(root: Path, run_id: str, chunk: int) -> None:
    """Remove a chunk's staged files (patients last, so a crash midway leaves it staged, not half gone)."""
    for part in ("doses", "assays", "patients"):
        with contextlib.suppress(FileNotFoundError):
            staged_file(root, run_id, chunk, part).unlink()
    with contextlib.suppress(OSError):  # the run's folder, once empty
        (root / run_id).rmdir()


def staged_patients(root: Path, con) -> dict:
    """run id -> patients in its staged chunks not yet in the database (``con``), from the Parquet footers."""
    out = {}
    for rid, ks in staged_chunks(root).items():
        stored = {k for (k,) in con.execute("SELECT chunk FROM chunks WHERE run_id = ?", [rid]).fetchall()}
        for k in set(ks) - stored:
            with contextlib.suppress(OSError):  # moved in meanwhile
                out[rid] = out.get(rid, 0) + pq.read_metadata(staged_file(root, rid, k, "patients")).num_rows
    return out
