"""``celltrial model``: the standard model as generated from its declaration.

Modules, equations (derived from the rate terms) and the parameter table, as tables on wide
terminals and as indented blocks on narrow ones; ``--markdown`` prints docs/models/standard.md.
Uses the declaration only: no kernels are compiled.

Example:
    $ celltrial model --module tumour         # one module: states, rates, equations, parameters
    $ celltrial model --parameters --markdown # the parameter table as markdown
"""

from __future__ import annotations

import typer

from .presets import fmt
from .root import app, guarded


def _console():
    from rich.console import Console

    return Console()


@app.command()
@guarded
def model(
    parameters: bool = typer.Option(False, "--parameters", help="Only the parameter table."),
    show_equations: bool = typer.Option(False, "--equations", help="Only the equations (and the rate terms)."),
    module: str = typer.Option(None, "--module", help="Only this module (e.g. tumour, crs)."),
    markdown: bool = typer.Option(False, "--markdown", help="Print markdown (as docs/models/standard.md)."),
):
    """Print the standard model as generated from its declaration: modules, equations, parameters.

    Uses the declaration only (no kernels are compiled).
    """
    from ..biology import standard_model
    from ..model import docs

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

    from ..model import docs

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

    from ..model import docs

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

    from ..model import docs
    from ..presets.references import display_source  # users have no internal notes: cite the works instead

    params = docs.module_parameters(m, module)
    console.print()
    if console.width < 140:
        def block(text):
            return _indented(text, console.width)

        console.print(f"[bold]parameters[/bold] ({len(params)}): name = default unit  {escape('[bounds]')}  (module)")
        for p in params:
            head = f"[bold]{escape(p.name)}[/bold]" + escape(
                f" = {fmt(p.value)} {p.unit}  [{p.bounds[0]:g}, {p.bounds[1]:g}]  ({m.owner[p.name]})")
            console.print(head, highlight=False, soft_wrap=True)
            console.print(block(p.description), highlight=False, soft_wrap=True)
            console.print(block(f"source: {display_source(p.source)}"), highlight=False, soft_wrap=True)
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
        table.add_row(p.name, fmt(p.value), escape(p.unit), f"[{p.bounds[0]:g}, {p.bounds[1]:g}]",
                      escape(p.description), escape(display_source(p.source)), m.owner[p.name])
    console.print(table)
