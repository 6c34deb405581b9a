"""``celltrial benefit RUN``: who benefits - baseline covariates and model-derived patient properties
as predictors of PFS and response per arm, and their interaction with the treatment between arms.

Thin: load the stored run, build the covariates (the patients table's, plus each patient's sampled
model parameters recomputed from the stored scenario and seed), call
:func:`celltrial.economics.benefit.who_benefits`, print a table and the plain-language summary.

Example:
    $ celltrial run scenarios/value_redosing.yaml
    $ celltrial benefit latest                      # table + one sentence per comparison
    $ celltrial benefit latest --plot forest.png    # the forest plot
    $ celltrial benefit latest --json > benefit.json
"""

from __future__ import annotations

import json

import typer

from .root import app, guarded

STORE_HELP = "Results database (DuckDB file); default celltrial-runs/runs.duckdb."


def _fmt(e: dict | None, key: str = "hr") -> str:
    if not e or e.get(key) is None:
        return "n/a"
    return f"{e[key]:.2f} ({e['low']:.2f}-{e['high']:.2f}), p {e['p']:.2g}"


def _print(result: dict) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = Console()
    for inter in result["interactions"] or [None]:
        table = Table(title="PFS hazard ratio per SD of each covariate (95% CI)")
        table.add_column("covariate")
        for arm in result["arms"]:
            table.add_column(escape(f"{arm}: PFS HR"), justify="right")
        if inter:
            table.add_column(escape(f"interaction {inter['arms'][1]} vs {inter['arms'][0]}"), justify="right")
        for name, info in result["covariates"].items():
            cells = [_fmt(result["arms"][a][name]["pfs"]) for a in result["arms"]]
            if inter:
                cells.append(_fmt(inter["covariates"][name]["interaction"]))
            table.add_row(escape(info["label"]), *cells)
        console.print(table)
        if inter:
            console.print(escape(inter["summary"]))


@app.command()
@guarded
def benefit(
    run_ref: str = typer.Argument(..., metavar="RUN", help="Run id, a unique prefix, or `latest`."),
    out: str = typer.Option(None, "--out", help=STORE_HELP),
    parameters: bool = typer.Option(True, "--parameters/--no-parameters",
                                    help="Include each patient's sampled model parameters (recomputed)."),
    plot: str = typer.Option(None, "--plot", help="Write the forest plot (first comparison) to this file."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
):
    """Who benefits: covariate associations with PFS and response per arm, and treatment x covariate interactions."""
    from ..economics.benefit import who_benefits
    from ..economics.properties import run_covariates
    from ..store import DEFAULT_STORE, open_store

    with open_store(out or DEFAULT_STORE) as store:
        data = store.load(store.resolve(run_ref))
    rules = data.meta.get("endpoint_rules", {})
    result = who_benefits(data.patients, run_covariates(data, parameters), reference_arm=rules.get("reference_arm"),
                          paired=data.meta.get("design") == "paired")
    if as_json:
        typer.echo(json.dumps(result, indent=2))
    else:
        _print(result)
    if plot:
        from ..report.economics import forest_figure

        forest_figure(result).savefig(plot, dpi=120)
        typer.echo(f"forest plot written to {plot}", err=as_json)
