"""The Typer application every command registers on, and the exit-code contract shared by all of them.

Exit codes: 0 ok; 1 internal error (one line, the traceback goes to a log file); 2 bad input or
usage (the message says what to fix); 3 ``validate --strict`` found a failing row; 4 a results
store error (held by another program past the wait, unreadable, inconsistent); 5 the Dask cluster
failed; 130 interrupted
(Ctrl-C; 143 for SIGTERM).

Example:
    >>> from celltrial.errors import InputError, StoreUnavailableError
    >>> exit_code(InputError("--fit: name at least one parameter"))
    2
    >>> exit_code(StoreUnavailableError("the results store x.duckdb is in use by process 42"))
    4
"""

from __future__ import annotations

import functools
import sys
import tempfile
import traceback

import typer

from .._version import __version__
from ..errors import CelltrialError, ClusterError, MissingDependencyError, StoreUnavailableError

OK, INTERNAL, BAD_INPUT, VALIDATION_FAILED, STORE_UNAVAILABLE, CLUSTER_FAILED = 0, 1, 2, 3, 4, 5
INTERRUPTED, TERMINATED = 130, 143

#: Largest trial seed: the store keeps seeds as 64-bit integers, and every seed fits numpy's SeedSequence.
SEED_MAX = 2**63 - 1

# "\b" keeps click's help formatter from re-flowing the table into one paragraph.
EPILOG = """\b
Exit codes:
  0    ok
  1    internal error: one line, the traceback is written to a log file
  2    bad input or usage: the message says what to fix
  3    validate --strict: a validation row failed
  4    results store error: in use by another program past the wait, unreadable
       or inconsistent (the message names the file and the fix)
  5    the Dask cluster failed (scheduler lost, workers dying): finished chunks
       stay in the store; `celltrial run --resume RUN` completes the run
  130  interrupted (Ctrl-C; 143 for SIGTERM): finished chunks stay in the store
       and `celltrial run --resume RUN` completes the run"""

# rich_markup_mode=None: typer's rich help panels print every flag as "<bool>" (typer 0.29), as if
# --json took a value; click's plain help lists flags as flags.
app = typer.Typer(add_completion=False, no_args_is_help=True, rich_markup_mode=None, epilog=EPILOG,
                  help="In-silico trials of cell therapies.")


def _version(value: bool):
    if value:
        typer.echo(f"celltrial {__version__}")
        raise typer.Exit()


@app.callback()
def _main(version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                       help="Print the version and exit.")):
    """celltrial: design a cell-therapy product and protocol, run it on virtual patients."""


def exit_code(exc: CelltrialError) -> int:
    """The exit code of a celltrial error: input mistakes 2, a busy or unreadable store 4, the rest 1."""
    if isinstance(exc, (ValueError, MissingDependencyError)):  # input or set-up mistakes: the message says the fix
        return BAD_INPUT
    if isinstance(exc, StoreUnavailableError):  # a store error: busy, unreadable or inconsistent
        return STORE_UNAVAILABLE
    if isinstance(exc, ClusterError):  # the user's Dask cluster failed: not our bug
        return CLUSTER_FAILED
    return INTERNAL  # solver, store, compilation: ours to fix, not the user's


def safe_text(exc: BaseException) -> str:
    """``str(exc)``, or its class name when even that fails (the last resort must not fail)."""
    try:
        return str(exc) or type(exc).__name__
    except Exception:  # noqa: BLE001 - a broken __str__ must not hide the original error
        return type(exc).__name__


def report_internal(exc: BaseException) -> None:
    """Write the current traceback to a log file and print one line naming the error and the log."""
    try:
        log = tempfile.NamedTemporaryFile("w", prefix="celltrial-", suffix=".log", delete=False)
        with log:
            traceback.print_exc(file=log)
        where = f"traceback in {log.name}"
    except Exception:  # noqa: BLE001 - no writable temp folder: still one line, just without the log
        where = "the traceback could not be written to a log file"
    sys.stderr.write(f"internal error: {type(exc).__name__}: {safe_text(exc)} ({where})\n")


def report(exc: CelltrialError) -> int:
    """Print the one line for a celltrial error (the log too when it is ours) and return its exit code."""
    code = exit_code(exc)
    if code == INTERNAL:
        report_internal(exc)
    else:
        typer.echo(f"error: {safe_text(exc)}", err=True)
    return code


def guarded(command):
    """Map celltrial errors to the exit-code contract inside the command (also under typer's runner).

    Example:
        @app.command()
        @guarded
        def runs(...): ...
    """

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except CelltrialError as exc:
            raise typer.Exit(report(exc)) from None

    return wrapper


CLUSTER_HELP = ("Run on Dask: `local` starts a local cluster, or give a scheduler address such as "
                "tcp://host:8786 (results do not change).")


def seed_option(default, help_text: str):
    """A ``--seed`` option bounded to 0..2**63-1: a clear usage error instead of an overflow deep inside."""
    return typer.Option(default, "--seed", min=0, max=SEED_MAX, help=f"{help_text}.")

