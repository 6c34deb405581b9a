"""Command-line interface (thin: parse, call the public API, format, map errors to exit codes).

Exit codes: 0 ok, 2 bad input, 1 internal error (one line, plus where the traceback is).

Example:
    $ celltrial --version
    $ celltrial demo --patients 2000
    $ celltrial presets                 # every shipped disease and product preset
    $ celltrial presets tisa-cel-like   # one preset in full, with the source of every value
    $ celltrial model --module tumour   # the standard model, generated from its declaration
    $ celltrial run scenarios/quickstart.yaml   # a virtual trial (see cli_trials for the trial commands)
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


def _console():
    from rich.console import Console

    return Console()


def _fmt(value) -> str:
    return f"{value:g}" if isinstance(value, (int, float)) and not isinstance(value, bool) else str(value)


@app.command()
def presets(
    name: str = typer.Argument(None, help="Show this preset in full (e.g. lbcl, tisa-cel-like)."),
    kind: str = typer.Option(None, "--kind", help="Only presets of this kind: disease or product."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of tables."),
):
    """List the shipped disease and product presets, or show one in full with its sources."""
    from .presets.docs import find_preset, preset_rows

    if name is not None:
        _show_preset(find_preset(name, kind), as_json)
        return
    rows = preset_rows(kind)
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    from rich.table import Table

    table = Table(title="celltrial presets (`celltrial presets NAME` shows one in full)")
    table.add_column("name", no_wrap=True)
    table.add_column("kind", no_wrap=True)
    table.add_column("title")
    table.add_column("sources", justify="right")
    for row in rows:
        table.add_row(row["name"], row["kind"], row["title"], str(row["sources"]))
    _console().print(table)


def _show_preset(preset, as_json: bool) -> None:
    from rich.markup import escape
    from rich.table import Table

    from .presets.docs import preset_detail, preset_parameters, product_facts

    if as_json:
        typer.echo(json.dumps(preset_detail(preset), indent=2))
        return
    console = _console()
    console.print(f"[bold]{escape(preset.name)}[/bold] ({preset.kind}): {escape(preset.title)}")
    console.print(escape(" ".join(preset.description.split())))
    console.print()
    for label, text in product_facts(preset):
        console.print(f"  {label}: {escape(text)}")
    if preset.extrapolation:
        console.print(f"  [bold]extrapolation[/bold]: {escape(preset.extrapolation)}")
    console.print("\n[bold]sources[/bold]")
    for source in preset.sources:
        console.print(f"  - {escape(source)}")
    console.print("\n[bold]parameters set[/bold] (unit and default from the standard model)")
    table = Table()
    table.add_column("parameter", no_wrap=True)
    table.add_column("value", justify="right", no_wrap=True)
    table.add_column("default", justify="right", no_wrap=True)
    table.add_column("unit")
    table.add_column("source")
    for row in preset_parameters(preset):
        table.add_row(row["name"], _fmt(row["value"]), _fmt(row["default"]), escape(row["unit"]), escape(row["source"]))
    console.print(table)
    if preset.variability:
        console.print("[bold]between-patient variability[/bold] (log-normal SD)")
        table = Table()
        table.add_column("parameter", no_wrap=True)
        table.add_column("SD", justify="right")
        for key, value in preset.variability.items():
            table.add_row(key, _fmt(value))
        console.print(table)
    if preset.calibration:
        c = preset.calibration
        console.print("\n[bold]calibration[/bold]")
        console.print(f"  command: {escape(c.command)}")
        for key, value in c.targets.items():
            console.print(f"  target {escape(key)}: {escape(value)}")
        for key, value in c.achieved.items():
            console.print(f"  achieved {escape(key)}: {escape(value)}")
        console.print(f"  moved: {', '.join(c.moved)}")


@app.command()
def model(
    parameters: bool = typer.Option(False, "--parameters", help="Only the parameter table."),
    show_equations: bool = typer.Option(False, "--equations", help="Only the equations (and the rate terms)."),
    module: str = typer.Option(None, "--module", help="Only this module (e.g. tumour, crs)."),
    markdown: bool = typer.Option(False, "--markdown", help="Print markdown (as docs/models/standard.md)."),
):
    """Print the standard model as generated from its declaration: modules, equations, parameters.

    Uses the declaration only (no kernels are compiled).
    """
    from .biology import standard_model
    from .model import docs

    m = standard_model()
    docs.check_module(m, module)
    whole = not (parameters or show_equations)
    if markdown:
        if whole:
            typer.echo(docs.model_markdown(m, module), nl=False)
            return
        parts = []
        if show_equations:
            parts += ["## Rate terms", docs.rate_table(m, module), "## Equations (derived)",
                      docs.equations(m, module) or "(no states)"]
        if parameters:
            parts += ["## Parameters", docs.parameter_table(m, module)]
        typer.echo("\n\n".join(parts))
        return
    console = _console()
    if whole:
        _model_summary(console, m, module)
    if whole or show_equations:
        _model_equations(console, m, module)
    if whole or parameters:
        _model_parameters(console, m, module)


def _indented(text: str, width: int) -> str:
    """``text`` wrapped to ``width`` with a four-space indent, markup-escaped."""
    import textwrap

    from rich.markup import escape

    return escape(textwrap.fill(text, width=max(width, 40), initial_indent="    ", subsequent_indent="    "))


def _model_summary(console, m, module) -> None:
    from rich.markup import escape
    from rich.table import Table

    from .model import docs

    if module is None:
        console.print(f"[bold]Model {m.name}[/bold]: {len(m.states)} states, {len(m.parameters)} parameters, "
                      f"{len(m.observables)} observables, {len(m.rates)} rates")
        console.print(escape(m.description))
    else:
        console.print(f"[bold]Model {m.name}, module {module}[/bold]")
    console.print()
    if console.width < 140:
        console.print("[bold]modules[/bold]")
        for mod in m.modules:
            if module in (None, mod.name):
                facts = (f"states: {', '.join(s.name for s in mod.states) or '-'}; {len(mod.parameters)} parameters; "
                         f"observables: {', '.join(o.name for o in mod.observables) or '-'}")
                console.print(f"[bold]{mod.name}[/bold]: {escape(mod.description)}", highlight=False)
                console.print(_indented(facts, console.width), highlight=False, soft_wrap=True)
    else:
        table = Table(title="modules")
        table.add_column("module", no_wrap=True)
        table.add_column("description")
        table.add_column("states")
        table.add_column("parameters", justify="right")
        table.add_column("observables")
        for mod in m.modules:
            if module in (None, mod.name):
                table.add_row(mod.name, escape(mod.description), ", ".join(s.name for s in mod.states) or "-",
                              str(len(mod.parameters)), ", ".join(o.name for o in mod.observables) or "-")
        console.print(table)
    states = docs.module_states(m, module)
    console.print()
    if states:
        table = Table(title="states")
        for col in ("state", "unit", "initial", "description"):
            table.add_column(col, no_wrap=col == "state")
        for s in states:
            table.add_row(s.name, escape(s.unit), escape(str(s.initial)), escape(s.description))
        console.print(table)
    observables = docs.module_observables(m, module)
    if observables:
        console.print()
        table = Table(title="observables")
        for col in ("observable", "expression", "unit", "description"):
            table.add_column(col, no_wrap=col == "observable")
        for o in observables:
            kind = " (quasi-steady state)" if o.kind == "quasi_steady_state" else ""
            table.add_row(o.name, escape(o.expression), escape(o.unit), escape(o.description + kind))
        console.print(table)


def _model_equations(console, m, module) -> None:
    from rich.markup import escape
    from rich.table import Table

    from .model import docs

    rates = docs.module_rates(m, module)
    console.print()
    if rates:
        table = Table(title="rate terms (per day)")
        table.add_column("rate", no_wrap=True)
        table.add_column("expression")
        table.add_column("effect on states")
        for r in rates:
            table.add_row(r.name, escape(r.expression), escape(docs.rate_effect(r)))
        console.print(table)
    lines = docs.rate_form_lines(m, module)
    console.print()
    console.print("[bold]equations[/bold] (derived: each rate term times its stoichiometric coefficient)")
    for line in lines or ["(this module declares no states)"]:
        console.print(escape(line), soft_wrap=True)


def _model_parameters(console, m, module) -> None:
    """A table on wide terminals (>= 140 columns), otherwise one indented block per parameter."""
    from rich.markup import escape
    from rich.table import Table

    from .model import docs

    params = docs.module_parameters(m, module)
    console.print()
    if console.width < 140:
        def block(text):
            return _indented(text, console.width)

        console.print(f"[bold]parameters[/bold] ({len(params)}): name = default unit  {escape('[bounds]')}  (module)")
        for p in params:
            head = f"[bold]{escape(p.name)}[/bold]" + escape(
                f" = {_fmt(p.value)} {p.unit}  [{p.bounds[0]:g}, {p.bounds[1]:g}]  ({m.owner[p.name]})")
            console.print(head, highlight=False, soft_wrap=True)
            console.print(block(p.description), highlight=False, soft_wrap=True)
            console.print(block(f"source: {p.source}"), highlight=False, soft_wrap=True)
        return
    table = Table(title="parameters")
    table.add_column("parameter", no_wrap=True)
    table.add_column("default", justify="right", no_wrap=True)
    table.add_column("unit")
    table.add_column("bounds", no_wrap=True)
    table.add_column("description")
    table.add_column("source")
    table.add_column("module")
    for p in params:
        table.add_row(p.name, _fmt(p.value), escape(p.unit), f"[{p.bounds[0]:g}, {p.bounds[1]:g}]",
                      escape(p.description), escape(p.source), m.owner[p.name])
    console.print(table)


def _click_exceptions() -> tuple:
    """click's ClickException and the one of the click copy that recent typer versions vendor."""
    import click

    vendored = [c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException"]
    return (click.ClickException, *vendored)


def report_internal(exc) -> None:
    """Write the current traceback to a log file and print one line naming the error and the log."""
    log = tempfile.NamedTemporaryFile("w", prefix="celltrial-", suffix=".log", delete=False)
    traceback.print_exc(file=log)
    log.close()
    typer.echo(f"internal error: {exc!s} (traceback in {log.name})", err=True)


def _internal(exc) -> None:
    """One line naming the error and the log file that holds the traceback; exit 1."""
    report_internal(exc)
    sys.exit(1)


# registers run, report, runs, compare, simulate, export-sbml; calibrate, validate; fit, simdata
from . import cli_calibration, cli_fit, cli_trials  # noqa: E402,F401


def main() -> None:
    """Console entry point with celltrial's exit-code contract."""
    from .errors import CelltrialError

    try:
        code = app(standalone_mode=False)  # a command's typer.Exit(code) comes back as the return value
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        typer.echo("interrupted: chunks already written stay in the store; the run is marked interrupted", err=True)
        sys.exit(130)
    except CelltrialError as exc:
        if not isinstance(exc, ValueError):  # solver, store, compilation: ours to fix, not the user's
            _internal(exc)
        typer.echo(f"error: {exc}", err=True)
        sys.exit(2)
    except (typer.BadParameter, typer.Abort) as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(2)
    except Exception as exc:  # noqa: BLE001 - last line of defence: one line, then the log
        if isinstance(exc, _click_exceptions()):  # usage errors (unknown option, missing argument)
            exc.show()
            sys.exit(2)
        _internal(exc)
    if isinstance(code, int) and not isinstance(code, bool) and code:
        sys.exit(code)


if __name__ == "__main__":
    main()
