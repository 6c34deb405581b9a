"""``celltrial presets``: list the shipped disease and product presets, or show one in full.

``--kind`` takes the categories (disease, product) and the kinds the table shows in its
"kind" column (t_cell, nk_cell, ...), which are derived from the preset files.

Example:
    $ celltrial presets                  # every preset, one row each
    $ celltrial presets --kind nk_cell   # only the NK-cell products
    $ celltrial presets tisa-cel-like    # one preset in full, with the source of every value
"""

from __future__ import annotations

import json

import typer

from .root import app, guarded


def _console():
    from rich.console import Console

    return Console()


def fmt(value) -> str:
    """Numbers in their shortest form, everything else as text."""
    return f"{value:g}" if isinstance(value, (int, float)) and not isinstance(value, bool) else str(value)


def _rows(kind: str | None) -> list:
    """Summary rows of the presets of ``kind``: a category (disease, product) or a kind from the table."""
    from ..errors import PresetError, did_you_mean
    from ..presets.docs import CATEGORIES, preset_rows

    if kind is None or kind in CATEGORIES:
        return preset_rows(kind)
    rows = preset_rows()
    kinds = list(dict.fromkeys([*CATEGORIES, *(r["kind"] for r in rows)]))
    if kind not in kinds:
        raise PresetError(f"--kind must be one of {', '.join(kinds)}; got {kind!r}{did_you_mean(kind, kinds)}")
    return [r for r in rows if r["kind"] == kind]


def _find(name: str, kind: str | None):
    """The preset ``name``, which must be of ``kind`` when one is given."""
    from ..errors import PresetError, did_you_mean
    from ..presets.docs import CATEGORIES, find_preset

    if kind is None or kind in CATEGORIES:
        return find_preset(name, kind)
    known = [r["name"] for r in _rows(kind)]
    if name not in known:
        raise PresetError(f"no {kind} preset named {name!r}{did_you_mean(name, known)}; available: {', '.join(known)}")
    return find_preset(name)


@app.command()
@guarded
def presets(
    name: str = typer.Argument(None, metavar="NAME", help="Show this preset in full (e.g. lbcl, tisa-cel-like)."),
    kind: str = typer.Option(None, "--kind", help="Only presets of this kind: disease, product, or a product kind "
                                                  "of the table (t_cell, nk_cell)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of tables."),
):
    """List the shipped disease and product presets, or show one in full with its sources."""
    if name is not None:
        _show_preset(_find(name, kind), as_json)
        return
    rows = _rows(kind)
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

    from ..presets.docs import preset_detail, product_facts
    from ..presets.references import display_source, lines_for_preset

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
        console.print(f"  - {escape(display_source(source))}")
    references = lines_for_preset(preset)
    if references:  # the full citations, with DOIs, of every work the sources above and below cite
        console.print("\n[bold]references[/bold]")
        for line in references:
            console.print(f"  - {escape(line)}", highlight=False)
    _print_parameters(console, preset)
    if preset.calibration:
        c = preset.calibration
        console.print("\n[bold]calibration[/bold]")
        console.print(f"  command: {escape(c.command)}")
        for key, value in c.targets.items():
            console.print(f"  target {escape(key)}: {escape(value)}")
        for key, value in c.achieved.items():
            console.print(f"  achieved {escape(key)}: {escape(value)}")
        console.print(f"  moved: {', '.join(c.moved)}")


def _print_parameters(console, preset) -> None:
    """The parameters the preset sets (unit and default from the model), then its variability."""
    from rich.markup import escape
    from rich.table import Table

    from ..presets.docs import preset_parameters
    from ..presets.references import display_source

    console.print("\n[bold]parameters set[/bold] (unit and default from the standard model)")
    table = Table()
    table.add_column("parameter", no_wrap=True)
    table.add_column("value", justify="right", no_wrap=True)
    table.add_column("default", justify="right", no_wrap=True)
    table.add_column("unit")
    table.add_column("source")
    table.add_column("references")
    for row in preset_parameters(preset):
        table.add_row(row["name"], fmt(row["value"]), fmt(row["default"]), escape(row["unit"]),
                      escape(display_source(row["source"])), escape(", ".join(row["references"])))
    console.print(table)
    if preset.variability:
        console.print("[bold]between-patient variability[/bold] (log-normal SD)")
        table = Table()
        table.add_column("parameter", no_wrap=True)
        table.add_column("SD", justify="right")
        for key, value in preset.variability.items():
            table.add_row(key, fmt(value))
        console.print(table)
