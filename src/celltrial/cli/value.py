"""``celltrial value SCENARIO --posterior FOLDER``: probabilistic sensitivity analysis of the
scenario's cost-effectiveness across calibration posterior draws (issue 21).

Thin: load the scenario, call :func:`celltrial.economics.psa.run_psa`, print per comparison and
payment model the mean incremental cost and QALYs and the share of draws in which the other arm is
cost-effective at each willingness to pay, or the whole result (plane, acceptability curve) as JSON.

Example:
    $ celltrial value scenarios/value_redosing.yaml --posterior docs/calibration/zuma1 --draws 20 --patients 100
    $ celltrial value scenarios/value_redosing.yaml --posterior docs/calibration/zuma1 --json > psa.json
"""

from __future__ import annotations

import json
import sys

import typer

from .root import app, guarded, seed_option


def _print(result: dict) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    wtp = list(result["willingness_to_pay"])
    for c in result["comparisons"]:
        table = Table(title=escape(f"{c['arms'][1]} vs {c['arms'][0]}: across {len(result['draw_rows'])} draws of "
                                   f"{result['case']} ({result['patients']} twins per arm)"))
        for col in ("payment model", "mean dCost", "mean dQALY", *(f"P(CE) at {w:,.0f}" for w in wtp)):
            table.add_column(col, justify="left" if col == "payment model" else "right")
        for name, m in c["payment_models"].items():
            if m is None:
                table.add_row(escape(name), "n/a", "n/a", *("n/a" for _ in wtp))
                continue
            table.add_row(escape(name), f"{m['mean_incremental_cost']:,.0f}", f"{m['mean_incremental_qalys']:.3f}",
                          *(f"{m['p_cost_effective'][f'{w:g}']:.2f}" for w in wtp))
        Console().print(table)
    typer.echo("P(CE): share of posterior draws with positive incremental net monetary benefit (parameter "
               "uncertainty of the calibration, plus the sampling noise of the twins). --json: plane and curve.")


@app.command()
@guarded
def value(
    scenario: str = typer.Argument(..., help="Scenario YAML with two arms or more (an `economics:` block, or "
                                   "the defaults)."),
    posterior: str = typer.Option(..., "--posterior", help="Calibration evidence folder (summary.json, "
                                  "posterior.csv; e.g. docs/calibration/zuma1)."),
    draws: int = typer.Option(20, "--draws", min=2, max=1000, help="Posterior draws (each simulates every arm)."),
    patients: int = typer.Option(100, "--patients", min=1, max=100_000, help="Virtual twins per arm and draw."),
    seed: int = seed_option(None, "Seed of the twins and of the draws (default: the scenario's)"),
    threads: int = typer.Option(None, "--threads", min=1, help="Solver threads (default: all cores)."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
):
    """Probabilistic sensitivity analysis: ICER, NMB and acceptability across calibration posterior draws."""
    from ..economics.psa import run_psa
    from ..optimise.robustness import check_applies, load_posterior
    from ..scenarios import load_scenario
    from .compiling import ensure_standard_compiled

    s, _ = load_scenario(scenario)
    check_applies(load_posterior(posterior), s)  # exit 2 before any compiling
    ensure_standard_compiled()

    def show(done, total):
        sys.stderr.write(f"value: posterior draw {done}/{total}\n")

    result = run_psa(s, posterior, draws, patients, s.seed if seed is None else seed, threads=threads,
                     progress=show)
    if as_json:
        typer.echo(json.dumps(result, indent=2))
        return
    _print(result)
