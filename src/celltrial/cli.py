"""Command-line interface (thin: parse, call the public API, format, map errors to exit codes).

Exit codes: 0 ok, 2 bad input, 1 internal error (one line, plus where the traceback is).

Example:
    $ celltrial --version
    $ celltrial demo --patients 2000
"""

from __future__ import annotations

import json
import sys
import tempfile
import traceback

import typer

from ._version import __version__

app = typer.Typer(add_completion=False, no_args_is_help=True, help="In-silico trials of cell therapies.")


def _version(value: bool):
    if value:
        typer.echo(f"celltrial {__version__}")
        raise typer.Exit()


@app.callback()
def _main(version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                       help="Print the version and exit.")):
    """celltrial: design a cell-therapy product and protocol, run it on virtual patients."""


@app.command()
def demo(
    patients: int = typer.Option(2000, "--patients", "-n", min=1, help="Number of virtual patients."),
    seed: int = typer.Option(1, "--seed", help="Trial seed (each patient's stream is spawned from it)."),
    days: float = typer.Option(365.0, "--days", help="Follow-up in days."),
    threads: int = typer.Option(None, "--threads", help="Worker threads (default: all cores)."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
):
    """Simulate a demo CAR-T cohort (six-state test model) and print a summary.

    A placeholder main job until the scenario runner lands: it exercises the whole engine
    (compile, cohort sampling, batched stiff solve with doses, in-kernel summaries).
    """
    from .demo import run_demo

    summary = run_demo(patients, seed, days, threads)
    if as_json:
        typer.echo(json.dumps(summary, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"celltrial demo: {patients} virtual patients, {days:g} days")
    table.add_column("quantity")
    table.add_column("value", justify="right")
    for key, value in summary.items():
        table.add_row(key, f"{value:.4g}" if isinstance(value, float) else str(value))
    Console().print(table)


def main() -> None:
    """Console entry point with celltrial's exit-code contract."""
    from .errors import CelltrialError

    try:
        app(standalone_mode=False)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except CelltrialError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(2)
    except (typer.BadParameter, typer.Abort) as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(2)
    except Exception as exc:  # noqa: BLE001 - last line of defence: one line, then the log
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            sys.exit(2)
        log = tempfile.NamedTemporaryFile("w", prefix="celltrial-", suffix=".log", delete=False)
        traceback.print_exc(file=log)
        log.close()
        typer.echo(f"internal error: {exc!s} (traceback in {log.name})", err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
