"""Calibration commands of the CLI: calibrate (refit a shipped case) and validate (check them all).

Example:
    $ celltrial validate --quick                 # every validation case, small cohorts (CI)
    $ celltrial validate --html validation.html  # full run with an HTML report
    $ celltrial calibrate zuma1 --write-presets  # refit ZUMA-1 and record it in the lbcl preset
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import typer

from .root import CLUSTER_HELP, VALIDATION_FAILED, app, guarded, seed_option


@app.command()
@guarded
def calibrate(
    case: str = typer.Argument(..., metavar="CASE", help="A shipped case (zuma1, eliana) or a case YAML file."),
    patients: int = typer.Option(None, "--patients", min=10,
                                 help="Virtual patients per simulation (default: the case's)."),
    design_points: int = typer.Option(None, "--design-points",
                                      help="Design points per wave, at least (fitted parameters + 4) "
                                           "(default: the case's)."),
    waves: int = typer.Option(None, "--waves", min=1, max=6, help="Emulation waves (default: the case's)."),
    seed: int = seed_option(1, "Seed of the designs and the posterior sampler"),
    out: str = typer.Option(None, "--out", help="Folder for summary.json, posterior.csv, design.csv "
                                                 "(default celltrial-calibration/CASE)."),
    write_presets: bool = typer.Option(False, "--write-presets", help="Record the posterior medians in the presets."),
    html: str = typer.Option(None, "--html", help="Write an HTML report of the fit (posterior, correlations, "
                                                   "targets, emulator diagnostics)."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
    cluster: str = typer.Option(None, "--cluster", help=CLUSTER_HELP),
    workers: int = typer.Option(None, "--workers", min=1, help="Workers of --cluster local (default: one per core)."),
):
    """Refit a calibration case by Bayesian emulation and print the posterior and the target checks."""
    from ..calibration.cases import load_case
    from ..calibration.design import check_calibration_settings
    from ..calibration.fit import calibrate as fit_case
    from ..calibration.record import fit_summary, update_presets, write_fit
    from ..cluster import executor_for
    from .compiling import ensure_standard_compiled

    spec = load_case(case)
    problem = spec.problem(patients=patients)
    points = spec.fit.design_points if design_points is None else design_points
    n_waves = waves or spec.fit.waves
    # the minimum depends on the case (k + 4 design points): checked here, before the compile
    check_calibration_settings(len(problem.parameters), design_points=points, waves=n_waves)
    ensure_standard_compiled()  # after the case is read: a typo fails at once, not after the compile
    start = time.perf_counter()
    target = Path(out) if out else Path("celltrial-calibration") / spec.name
    with executor_for(cluster, workers, notify=lambda m: typer.echo(m, err=True)) as executor:
        problem.mapper = checkpointed(problem, target, None if executor is None else executor.map)
        fit = fit_case(problem, spec.targets.targets, design_points=points, waves=n_waves, seed=seed,
                       progress=None if as_json else lambda m: typer.echo(f"  {m}", err=True))
    if problem.mapper.reused:
        typer.echo(f"reused {problem.mapper.reused} design point(s) an interrupted calibration had simulated", err=True)
    seconds = time.perf_counter() - start
    flags = "".join(f" --{k} {v}" for k, v in (("patients", patients), ("design-points", design_points),
                                                ("waves", waves)) if v)
    command = f"celltrial calibrate {case} --seed {seed}{flags}" + (" --write-presets" if write_presets else "")
    settings = {"patients": int(problem.scenario.cohort.patients), "fit_seed": seed, "design_points": points,
                "waves": n_waves, "command": command}
    folder = write_fit(target, spec, problem, fit, seconds, settings)
    summary = fit_summary(spec, fit, seconds, settings)
    if write_presets:
        summary["presets_written"] = [str(p) for p in update_presets(spec, problem, fit, command)]
    problem.mapper.clear()  # the evidence is written: nothing left to resume
    if html is not None:
        from ..report.calibration import write_fit_report

        write_fit_report(summary, fit.samples, html)
    if as_json:
        typer.echo(json.dumps(summary, indent=2))
        return
    _print_fit(summary)
    typer.echo(f"evidence written to {folder}")


def checkpointed(problem, folder: Path, inner):
    """The design-point mapper of a calibration writing to ``folder``: every simulated point is kept in
    ``folder/.checkpoint`` until the fit ends, so rerunning an interrupted command resumes it."""
    from .._version import __version__
    from ..cluster.checkpoint import CheckpointedMapper
    from ..trials.design import TrialPlan

    model = TrialPlan(problem.scenario).model.structure_fingerprint()
    mapper = CheckpointedMapper(folder / ".checkpoint", inner=inner, salt=f"celltrial {__version__} model {model}")
    if mapper.stored():
        typer.echo(f"resuming: {mapper.stored()} design point(s) of an interrupted calibration in "
                   f"{mapper.folder}", err=True)
    return mapper


def _print_fit(summary: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    from ..calibration.validation import Row

    console = Console()
    t = Table(title=f"{summary['title']}: posterior ({summary['seconds']:.0f} s)")
    for col in ("value", "median", "95% credible interval"):
        t.add_column(col)
    for label, v in summary["posterior"].items():
        t.add_row(label, f"{v['median']:.4g}", f"{v['low']:.3g} – {v['high']:.3g}")
    console.print(t)
    labels, matrix = summary["correlations"]["labels"], summary["correlations"]["matrix"]
    strong = [f"{labels[i]} ~ {labels[j]}: {matrix[i][j]:+.2f}" for i in range(len(labels))
              for j in range(i + 1, len(labels)) if abs(matrix[i][j]) >= 0.5]
    console.print("posterior correlations |r| >= 0.5: " + ("; ".join(strong) if strong else "none"))
    _print_rows(console, "targets on the simulator at the posterior median", [Row(**t) for t in summary["targets"]])
    for w in summary["warnings"]:
        console.print(f"[yellow]warning:[/] {w}")
    for p in summary.get("presets_written", []):
        console.print(f"preset updated: {p}")


def _print_rows(console, title: str, rows) -> None:
    """Validated rows under the suite's columns (as the HTML reports and the docs), the result coloured."""
    from rich.markup import escape
    from rich.table import Table

    from ..calibration.suite import COLUMNS, row_cells

    t = Table(title=escape(title))
    for col in COLUMNS:
        t.add_column(col)
    for r in rows:
        *cells, result = row_cells(r)
        t.add_row(*map(escape, cells), f"[green]{result}[/]" if r.passed else f"[red]{result}[/]")
    console.print(t)


def _print_validation(console, case) -> None:
    """One case's rows, titled with the case and its wall time."""
    _print_rows(console, f"{case.title} ({case.seconds:.0f} s)", case.rows)


@app.command()
@guarded
def validate(
    quick: bool = typer.Option(False, "--quick", help="Small cohorts and few replicates (a few minutes; for CI)."),
    html: str = typer.Option(None, "--html", help="Write an HTML validation report here."),
    only: str = typer.Option(None, "--only", help="Run only these cases (comma-separated names)."),
    as_json: bool = typer.Option(False, "--json", help="Print the results as JSON."),
    strict: bool = typer.Option(False, "--strict", help=f"Exit {VALIDATION_FAILED} when any validation row fails."),
    cluster: str = typer.Option(None, "--cluster", help=CLUSTER_HELP),
    workers: int = typer.Option(None, "--workers", min=1, help="Workers of --cluster local (default: one per core)."),
):
    """Run every shipped validation case; print target vs simulated, the predictive p-value and pass/fail."""
    from ..calibration.suite import CASE_NAMES, run_suite, suite_json
    from ..cluster import executor_for
    from ..errors import InputError, did_you_mean
    from .compiling import ensure_standard_compiled

    names = [n.strip() for n in only.split(",") if n.strip()] if only else None
    for name in names or []:  # checked before the compile, so that a typo fails at once
        if name not in CASE_NAMES:
            raise InputError(f"--only: no validation case {name!r}{did_you_mean(name, CASE_NAMES)}; "
                             f"cases: {', '.join(CASE_NAMES)}")
    ensure_standard_compiled()
    with executor_for(cluster, workers, notify=lambda m: typer.echo(m, err=True)) as executor:
        results = run_suite(quick=quick, only=names, mapper=None if executor is None else executor.map,
                            progress=None if as_json else lambda m: typer.echo(f"  {m}", err=True))
    if html is not None:
        from ..report.validation import write_validation_report

        write_validation_report(results, html, quick=quick)
    if as_json:
        typer.echo(json.dumps(suite_json(results), indent=2))
    else:
        from rich.console import Console

        console = Console()
        for case in results:
            _print_validation(console, case)
            for note in case.notes:
                console.print(f"  [dim]{note}[/]")
        failed = sum(not r.passed for c in results for r in c.rows)
        total = sum(len(c.rows) for c in results)
        console.print(f"{total - failed} of {total} validation rows pass" + (f"; report: {html}" if html else ""))
    if strict and any(not c.passed for c in results):
        raise typer.Exit(VALIDATION_FAILED)
