"""Short-lived connections to a store file, so that no process keeps it locked.

DuckDB lets one process at a time open a database file for writing, and a reader is refused while
a writer has it open (its file lock). A run that kept the store open would lock every other command
out for its whole length, so every store operation opens the file, does its work in one
transaction and closes it again (about 15-25 ms on a warm file): a reader waits at most for one
chunk's insert, and two runs writing to one store take turns. A connection refused because the
file is locked is retried with a growing pause until ``wait_s`` has passed; then
:class:`StoreOpenError` names the process that holds it.

Within one process, operations on one file take a process-wide lock, because DuckDB refuses a
read-only and a read-write connection to the same file at the same time in one process.

Example:
    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "runs.duckdb"
    >>> with connected(path, read_only=False) as con:
    ...     _ = con.execute("CREATE TABLE t (x INTEGER)")
    >>> with connected(path, read_only=True) as con:
    ...     con.execute("SELECT count(*) FROM t").fetchall()
    [(0,)]
"""

from __future__ import annotations

import contextlib
import os
import re
import threading
import time
from pathlib import Path

import duckdb

from celltrial.errors import StoreUnavailableError

from .errors import StoreError

#: Seconds a store operation waits for a file locked by another process (``CELLTRIAL_STORE_WAIT``
#: overrides it; the longest single hold is a reader loading a large run, a few seconds).
DEFAULT_WAIT_S = 60.0

_LOCKS: dict = {}
_LOCKS_GUARD = threading.Lock()


class StoreOpenError(StoreError, StoreUnavailableError):
    """The store file cannot be opened (locked by another process past the wait, unreadable, not DuckDB)."""


def wait_seconds() -> float:
    """How long to wait for a locked store: ``CELLTRIAL_STORE_WAIT`` seconds, else :data:`DEFAULT_WAIT_S`."""
    text = os.environ.get("CELLTRIAL_STORE_WAIT", "").strip()
    try:
        return max(0.0, float(text)) if text else DEFAULT_WAIT_S
    except ValueError as exc:
        raise StoreError(f"CELLTRIAL_STORE_WAIT must be a number of seconds, got {text!r}") from exc


def path_lock(path: Path) -> threading.RLock:
    """The process-wide lock of one store file."""
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(path, threading.RLock())


def is_lock_conflict(exc: Exception) -> bool:
    """True for DuckDB's refusal of a file another process holds (not for any message with "lock" in it)."""
    text = str(exc)
    return "Could not set lock on file" in text or "Conflicting lock" in text


def open_failure(path: Path, exc: Exception, waited: float | None = None) -> StoreOpenError:
    """The error for a failed ``duckdb.connect``, naming the file, the holder and what to do next.

    Example:
        >>> held = OSError('Could not set lock on file "/r.duckdb": Conflicting lock is held in python (PID 42)')
        >>> str(open_failure(Path("/r.duckdb"), held)).split(":")[0]
        'the results store /r.duckdb is in use by process 42'
    """
    text = str(exc)
    if not is_lock_conflict(exc):
        return StoreOpenError(f"cannot open the results store {path}: {text}")
    pid = re.search(r"\(PID (\d+)\)", text)
    who = f"process {pid.group(1)}" if pid else "another process"
    held = f" for more than {waited:g} s" if waited else ""
    return StoreOpenError(
        f"the results store {path} is in use by {who}{held}: DuckDB lets one process at a time open a store, "
        "and celltrial only holds it for short writes, so that program keeps it open. Close it, set "
        "CELLTRIAL_STORE_WAIT to wait longer, or write to another store with --out OTHER.duckdb")


def connect(path: Path, *, read_only: bool, wait_s: float | None = None):
    """A DuckDB connection to ``path``, retrying while another process holds the file's lock."""
    wait_s = wait_seconds() if wait_s is None else wait_s
    start, pause = time.monotonic(), 0.01
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except duckdb.Error as exc:  # IOException for a lock held elsewhere or a file that is not DuckDB
            waited = time.monotonic() - start
            if not is_lock_conflict(exc) or waited >= wait_s:
                raise open_failure(path, exc, round(waited) if waited >= 1 else None) from exc
        time.sleep(min(pause, max(0.0, wait_s - (time.monotonic() - start))))
        pause = min(pause * 1.5, 0.25)


@contextlib.contextmanager
def connected(path: Path, *, read_only: bool, wait_s: float | None = None):
    """Open ``path`` for one operation and close it afterwards (the process-wide lock held throughout)."""
    with path_lock(path):
        con = connect(path, read_only=read_only, wait_s=wait_s)
        try:
            yield con
        finally:
            con.close()
