"""``celltrial demo``: the engine end to end on the six-state test model, in seconds.

Uses the six-state test model (:func:`celltrial.model.library.cart6`), not the standard biology:
a check that compiling, cohort sampling, the batched stiff solve with doses and the in-kernel
summaries work on this machine, and how fast. Virtual trials are ``celltrial run``.

Example:
    >>> summary = run_demo(patients=50, seed=1, days=60.0)   # doctest: +SKIP
    >>> summary["patients_ok"]                                # doctest: +SKIP
    50
"""

from __future__ import annotations

import json
import time

import numpy as np
import typer

from .root import app, guarded, seed_option

_IIV = {"rho": 0.3, "gamma": 0.3, "phi": 0.3, "r_S": 0.3, "B0": 0.5}


def run_demo(patients: int, seed: int, days: float, threads: int | None = None) -> dict:
    """Simulate ``patients`` virtual patients of the test model for ``days`` days; return summary numbers."""
    from ..cohorts import CohortSpec, Variability, sample_cohort
    from ..model.library import cart6
    from ..solve import AUC, Bolus, FirstCrossing, Max, ValueAt, compile, simulate

    t0 = time.perf_counter()
    compiled = compile(cart6())
    t1 = time.perf_counter()
    cohort = sample_cohort(compiled.model, CohortSpec(variability=Variability(omega=_IIV)), patients, seed)
    dose = Bolus.split(0.0, 1e8, {"S": 0.2, "E": 0.8})
    summaries = [
        Max("car_per_uL", name="cmax"),
        AUC("car_per_uL", 0.0, 28.0, name="auc28"),
        FirstCrossing("B", threshold=1.0, direction="down", name="t_below_1_cell"),
        ValueAt("B", days, name="B_end"),
    ]
    t2 = time.perf_counter()
    res = simulate(compiled, cohort.params, t_end=days, events=[dose], summaries=summaries, threads=threads,
                   rtol=1e-5, atol=1e-3, check_bounds=False)
    t3 = time.perf_counter()
    s = res.summaries
    cleared = np.isfinite(s["t_below_1_cell"])
    return {
        "patients": patients,
        "patients_ok": int(res.ok().sum()),
        "median Cmax (CAR+ cells/uL)": float(np.median(s["cmax"])),
        "median Tmax (days)": float(np.median(s["cmax_time"])),
        "median AUC0-28 (cells/uL x day)": float(np.median(s["auc28"])),
        "tumour below 1 cell (fraction)": float(cleared.mean()),
        "median day tumour < 1 cell": float(np.median(s["t_below_1_cell"][cleared])) if cleared.any() else None,
        "compile or cache load (s)": round(t1 - t0, 3),
        "simulation wall time (s)": round(t3 - t2, 3),
        "patients per second": round(patients / (t3 - t2), 1),
    }


@app.command()
@guarded
def demo(
    patients: int = typer.Option(2000, "--patients", "-n", min=1, help="Number of virtual patients."),
    seed: int = seed_option(1, "Seed (each patient's stream is spawned from it)"),
    days: float = typer.Option(365.0, "--days", min=1.0, help="Follow-up in days."),
    threads: int = typer.Option(None, "--threads", min=1, help="Worker threads (default: all cores)."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
):
    """Check the engine on this machine: a CAR-T infusion in a small test model, timed.

    Simulates one CAR-T dose in virtual patients of the six-state test model (not the
    standard biology; no presets, no endpoints) and prints exposure summaries and speed:
    compile or cache load, solver wall time, patients per second. For virtual trials of
    the shipped products use `celltrial run scenarios/quickstart.yaml`.
    """
    from ..model.library import cart6
    from .compiling import ensure_compiled

    compile_s = ensure_compiled(cart6(), "the six-state test model", minutes="1-2")
    summary = run_demo(patients, seed, days, threads)
    if compile_s is not None:  # compiled just above, so run_demo only found it in memory
        summary["compile or cache load (s)"] = round(compile_s, 3)
    if as_json:
        typer.echo(json.dumps(summary, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"celltrial demo (six-state test model): {patients} virtual patients, {days:g} days")
    table.add_column("quantity")
    table.add_column("value", justify="right")
    for key, value in summary.items():
        table.add_row(key, f"{value:.4g}" if isinstance(value, float) else str(value))
    Console().print(table)
