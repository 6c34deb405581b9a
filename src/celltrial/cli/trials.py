"""Trial commands of the CLI: run, report, runs, compare, simulate, export-sbml.

Thin: parse, call the library, format. Errors map to the exit codes of :mod:`celltrial.cli`
in :func:`celltrial.cli.root.guarded` (2 bad input, 4 store in use, 1 internal).

Example:
    $ celltrial run scenarios/quickstart.yaml --patients 50 --json
    $ celltrial runs
    $ celltrial report latest --html report.html
    $ celltrial simulate scenarios/quickstart.yaml --arm axi-cel --patient 3 --csv > p3.csv
"""

from __future__ import annotations

import json
import sys

import typer

from .root import CLUSTER_HELP, INTERRUPTED, TERMINATED, app, guarded, seed_option

STORE_HELP = "Results database (DuckDB file); default celltrial-runs/runs.duckdb."
SCENARIO_HELP = "Scenario YAML file (see docs/scenarios.md)."


def _stderr(line: str) -> None:
    typer.echo(line, err=True)


def _store(path):
    from ..store import DEFAULT_STORE, open_store

    return open_store(path or DEFAULT_STORE)


@app.command()
@guarded
def run(
    scenario: str = typer.Argument(None, metavar="SCENARIO", help=SCENARIO_HELP + " Not with --resume."),
    patients: int = typer.Option(None, "--patients", "-n", min=1, help="Patients per arm (overrides the file)."),
    replicates: int = typer.Option(None, "--replicates", "-r", min=1, help="Replicate trials (overrides the file)."),
    seed: int = seed_option(None, "Trial seed, overrides the file"),
    out: str = typer.Option(None, "--out", help=STORE_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON on stdout."),
    chunk_size: int = typer.Option(None, "--chunk-size", min=1, help="Patients per chunk (results do not change)."),
    threads: int = typer.Option(None, "--threads", min=1, help="Solver threads (default: all cores)."),
    html: str = typer.Option(None, "--html", help="Also write the HTML report here."),
    cluster: str = typer.Option(None, "--cluster", help=CLUSTER_HELP),
    workers: int = typer.Option(None, "--workers", min=1, help="Workers of --cluster local (default: one per core)."),
    resume: str = typer.Option(None, "--resume", metavar="RUN", help="Complete an interrupted run (id, unique "
                               "prefix or `latest`): only its missing chunks are simulated."),
    force: bool = typer.Option(False, "--force", help="With --resume: take over a run last written on another "
                               "host (celltrial cannot check that its process has ended)."),
):
    """Run a virtual trial from a scenario file, store it, and print the summary per arm."""
    from .runs import Terminated, execute

    quiet = as_json or not sys.stderr.isatty()  # a progress bar only where someone watches it
    try:
        outcome = execute(scenario, patients=patients, replicates=replicates, seed=seed, store_path=out,
                          chunk_size=chunk_size, threads=threads, progress=not quiet, notify=_stderr,
                          cluster=cluster, workers=workers, resume=resume, force=force)
    except KeyboardInterrupt as exc:  # Ctrl-C or SIGTERM: the run is marked interrupted and can be completed
        run_id = getattr(exc, "celltrial_run_id", None)
        if run_id is None:
            raise
        how = "terminated (SIGTERM)" if isinstance(exc, Terminated) else "interrupted"
        _stderr(f"{how}: run {run_id} keeps its finished chunks; complete it with: celltrial run --resume {run_id}"
                + (f" --out {out}" if out else ""))
        raise typer.Exit(TERMINATED if isinstance(exc, Terminated) else INTERRUPTED) from None
    if html:
        from ..report import write_report

        write_report(outcome.full_run(), html)
    if as_json:
        typer.echo(json.dumps(outcome.public_summary(), indent=2, sort_keys=True))
        typer.echo(f"stored as run {outcome.run.run_id} in {outcome.store_path}", err=True)
        return
    from .runs_display import print_summary

    print_summary(outcome.run)
    typer.echo(f"stored as run {outcome.run.run_id} in {outcome.store_path}")
    typer.echo(f"report: celltrial report {outcome.run.run_id} --html report.html"
               + (f" --out {out}" if out else ""))


@app.command()
@guarded
def report(
    run_ref: str = typer.Argument(..., metavar="RUN", help="Run id, a unique prefix, or `latest`."),
    html: str = typer.Option(None, "--html", help="Write the self-contained HTML report here."),
    out: str = typer.Option(None, "--out", help=STORE_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print the stored summary as JSON."),
):
    """Re-report a stored run (no re-simulation): summary table, or the HTML report with figures."""
    from .runs import public_summary
    from .runs_display import print_summary

    with _store(out) as store:
        data = store.load(store.resolve(run_ref))
    if data.meta["status"] != "finished":  # its summary is written when it finishes
        stored = len(data.patients.get("arm", ()))
        hint = f"complete it with: celltrial run --resume {data.run_id}" + (f" --out {out}" if out else "") \
            if data.meta["status"] == "interrupted" else "it is still running"
        _stderr(f"run {data.run_id} is {data.meta['status']}: {stored:,} patients stored so far and no summary "
                f"yet; {hint}")
    if as_json:
        typer.echo(json.dumps(public_summary(data), indent=2, sort_keys=True))
    else:
        print_summary(data)
    if html:
        from ..report import write_report

        path = write_report(data, html)
        typer.echo(f"report written to {path}", err=as_json)


@app.command()
@guarded
def runs(
    out: str = typer.Option(None, "--out", help=STORE_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
):
    """List the runs in the results database, newest first."""
    with _store(out) as store:
        rows = store.list_runs()
    if as_json:
        typer.echo(json.dumps(rows, indent=2, default=str))
        return
    from .runs_display import print_runs

    print_runs(rows)


@app.command()
@guarded
def compare(
    run_a: str = typer.Argument(..., metavar="RUN_A", help="Run id, a unique prefix, or `latest`."),
    run_b: str = typer.Argument(..., metavar="RUN_B", help="The run to compare with RUN_A (same forms)."),
    out: str = typer.Option(None, "--out", help=STORE_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
):
    """Compare the per-arm results of two stored runs side by side (no re-simulation)."""
    from .runs_display import compare_runs, print_comparison

    with _store(out) as store:
        a, b = store.load(store.resolve(run_a)), store.load(store.resolve(run_b))
    rows = compare_runs(a, b)
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    print_comparison(a, b, rows)


@app.command()
@guarded
def simulate(
    scenario: str = typer.Argument(..., metavar="SCENARIO", help=SCENARIO_HELP),
    arm: str = typer.Option(..., "--arm", help="Arm name."),
    patient: int = typer.Option(0, "--patient", min=0, help="Patient index (replicate 0)."),
    step: float = typer.Option(1.0, "--step", help="Output every STEP days."),
    seed: int = seed_option(None, "Trial seed, overrides the file"),
    patients: int = typer.Option(None, "--patients", "-n", min=1, help="Patients per arm, as given to `run`."),
    csv: bool = typer.Option(False, "--csv", help="Print every state and observable as CSV (SBML identifiers)."),
):
    """One virtual patient's course; the CSV columns are the SBML identifiers of `export-sbml`."""
    from .runs import one_patient
    from .runs_display import print_patient

    course = one_patient(scenario, arm, patient, seed=seed, patients=patients, step=step, notify=_stderr)
    if csv:
        names = list(course.columns)
        typer.echo(",".join(names))
        for row in zip(*(course.columns[c].tolist() for c in names), strict=True):
            typer.echo(",".join(repr(float(v)) for v in row))
        return
    print_patient(course, arm, patient)


@app.command("export-sbml")
@guarded
def export_sbml_command(
    scenario: str = typer.Argument(..., metavar="SCENARIO", help=SCENARIO_HELP),
    arm: str = typer.Option(..., "--arm", help="Arm name."),
    patient: int = typer.Option(0, "--patient", min=0, help="Patient index (replicate 0)."),
    seed: int = seed_option(None, "Trial seed, overrides the file"),
    patients: int = typer.Option(None, "--patients", "-n", min=1, help="Patients per arm, as given to `run`."),
    output: str = typer.Option(None, "--output", "-o", help="Write the SBML here instead of stdout."),
):
    """The same virtual patient as `simulate`, as SBML (parameters, doses and drawn population sizes)."""
    from ..biology import standard_model
    from ..export.sbml import export_sbml
    from .runs import one_patient

    course = one_patient(scenario, arm, patient, seed=seed, patients=patients, step=1.0, notify=_stderr)

    text = export_sbml(standard_model(), course.params, events=course.events, path=output)
    if output is None:
        typer.echo(text)
