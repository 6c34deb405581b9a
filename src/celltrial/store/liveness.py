"""Who writes a run, and whether that process still lives: how a killed run is told from a running one.

A run records its writer as ``host:pid:start`` (``start``: the process's start time in clock ticks
since boot on Linux, so a recycled pid is not mistaken for the writer; 0 elsewhere). A run still
marked "running" whose writer is on this host and gone was killed (SIGKILL, power loss, OOM killer):
it reads as "interrupted". On another host the writer cannot be checked and the run reads as "running".

Example:
    >>> me = writer_id()
    >>> writer_alive(me), writer_alive(f"{socket.gethostname()}:999999999:0")
    (True, False)
    >>> writer_alive("elsewhere.example:1:0") is None
    True
"""

from __future__ import annotations

import os
import socket


def _stat(pid: int) -> tuple:
    """(state letter, start time in clock ticks after boot) of ``pid`` from Linux /proc, or ("", 0)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return fields[0], int(fields[19])  # fields 3 and 22 of stat(5)
    except (OSError, IndexError, ValueError):
        return "", 0


def _start_ticks(pid: int) -> int:
    return _stat(pid)[1]


def writer_id() -> str:
    """``host:pid:start`` of this process."""
    pid = os.getpid()
    return f"{socket.gethostname()}:{pid}:{_start_ticks(pid)}"


def writer_alive(writer: str | None) -> bool | None:
    """True if the writer process lives, False if it is gone, None if it cannot be told (other host)."""
    if not writer:
        return None
    try:
        host, pid_text, start_text = writer.rsplit(":", 2)
        pid, start = int(pid_text), int(start_text)
    except ValueError:
        return None
    if host != socket.gethostname():
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by another user
        return True
    state, ticks = _stat(pid)
    if state == "Z":  # killed, not yet reaped by its parent
        return False
    return not (start and ticks not in (0, start))


def effective_status(status: str | None, writer: str | None) -> str:
    """The stored status, with a "running" run whose writer is gone read as "interrupted"."""
    if status == "running" and writer_alive(writer) is False:
        return "interrupted"
    return status or ""
