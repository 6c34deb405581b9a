"""``celltrial optimise``: search one arm's protocol for the best trade-off of the scenario's objectives.

Thin: parse, call :mod:`celltrial.optimise`, format. The study lives in ``--out`` (default
``celltrial-optimise/<scenario name>``): run the same command again and it continues where it
stopped, repeating no finished evaluation. The re-evaluation of the Pareto set is stored as an
ordinary run in ``<out>/runs.duckdb`` (``celltrial report latest --out <out>/runs.duckdb``), and its
scenario as ``<out>/reevaluation.yaml`` (``celltrial run`` reproduces it).

Example:
    $ celltrial optimise scenarios/optimise_mrd_monitoring.yaml --budget 40
    $ celltrial optimise scenarios/optimise_mrd_monitoring.yaml --budget 10m --json > pareto.json
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import typer

from .root import app, guarded, seed_option

BUDGET_HELP = ("Evaluations in the whole study (e.g. 40; a re-run with a larger number continues) or time for "
               "this call (10m, 90s, 1.5h). Default: the search block's `budget`.")


def _stderr(line: str) -> None:
    typer.echo(line, err=True)


def with_overrides(scenario, patients=None, seed=None):
    """The scenario with ``--patients`` (most patients per evaluation and of the re-evaluation) and ``--seed``."""
    search = scenario.search
    update = {}
    if patients is not None:
        update["patients"] = search.patients.model_copy(update={"max": patients,
                                                                "start": min(search.patients.start, patients)})
        update["reevaluate"] = search.reevaluate.model_copy(update={"patients": patients})
    if seed is not None:
        update["seed"] = int(seed)
    return scenario.model_copy(update={"search": search.model_copy(update=update)}) if update else scenario


def _json_ready(x):
    if isinstance(x, float) and not math.isfinite(x):
        return None
    if isinstance(x, dict):
        return {k: _json_ready(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_json_ready(v) for v in x]
    return x


def _stored_simulation(folder: Path, notify):
    """A simulator that runs the re-evaluation as an ordinary stored run (for `celltrial report`)."""
    import yaml

    from .runs import execute

    found = {}

    def simulate(scenario) -> dict:
        path = folder / "reevaluation.yaml"
        path.write_text(yaml.safe_dump(scenario.model_dump(mode="json", exclude={"search"}), sort_keys=False))
        outcome = execute(str(path), store_path=str(folder / "runs.duckdb"), notify=notify)
        found["run"] = outcome.full_run()
        return found["run"].patients

    return simulate, found


def _progress_printer():
    from .optimise_display import progress_text

    tty = sys.stderr.isatty()

    def show(p) -> None:  # on a terminal one line rewritten in place; in a log one line per evaluation
        sys.stderr.write(("\r\033[K" if tty else "") + progress_text(p) + ("" if tty else "\n"))
        sys.stderr.flush()

    return show, tty


@app.command("optimise")
@guarded
def optimise_command(
    scenario: str = typer.Argument(..., metavar="SCENARIO", help="Scenario YAML file with a `search:` block."),
    budget: str = typer.Option(None, "--budget", help=BUDGET_HELP),
    patients: int = typer.Option(None, "--patients", "-n", min=1, help="Most patients per evaluation and per arm "
                                 "of the re-evaluation (overrides search.patients.max and reevaluate.patients)."),
    seed: int = seed_option(None, "Seed of the virtual twins every candidate meets (overrides search.seed)"),
    out: str = typer.Option(None, "--out", help="Study folder (default celltrial-optimise/<scenario name>)."),
    threads: int = typer.Option(None, "--threads", min=1, help="Solver threads (default: all cores)."),
    html: str = typer.Option(None, "--html", help="Also write the HTML report of the re-evaluation run here."),
    as_json: bool = typer.Option(False, "--json", help="Print the Pareto set and its re-evaluation as JSON."),
):
    """Search one arm's protocol (the scenario's `search:` block); re-evaluate the Pareto set on fresh patients."""
    from ..optimise import Budget, Evaluator, StudyFolder, fingerprint, front_figures, optimise, parse_budget
    from ..optimise import reevaluate as honest_look
    from ..scenarios import load_scenario
    from .compiling import ensure_standard_compiled

    s, _ = load_scenario(scenario)
    if s.search is None:
        from ..errors import ScenarioError

        raise ScenarioError(f"{scenario}: search: the scenario has no `search:` block; add one to optimise it "
                            "(see scenarios/optimise_mrd_monitoring.yaml)")
    s = with_overrides(s, patients, seed)
    evaluator = Evaluator(s, threads=threads)  # checks the search block: exit 2 before any compiling
    spend = parse_budget(budget) if budget is not None else Budget(evaluations=s.search.budget)
    folder = StudyFolder(Path(out or Path("celltrial-optimise") / s.name), fingerprint(s), s.search.reevaluate.seed)
    ensure_standard_compiled()
    show, tty = _progress_printer()
    result = optimise(evaluator, folder, spend, progress=show)
    if tty and result.new:
        sys.stderr.write("\n")
    honest, run = None, None
    if result.pareto:
        simulate, found = _stored_simulation(folder.path, _stderr)
        fresh_patients = s.search.reevaluate.patients or 2 * s.search.patients.max
        honest = honest_look(evaluator, result.pareto, patients=fresh_patients,
                             seed=folder.meta["reevaluation_seed"], simulate=simulate)
        run = found.get("run")
    objectives = [(o.column, o.direction) for o in s.search.objectives]
    figures = front_figures(result.rows, honest, objectives, folder.path)
    report = _report(s, evaluator, result, honest, run, folder, figures)
    (folder.path / "pareto.json").write_text(json.dumps(report, indent=2))
    if html and run is not None:
        from ..report import write_report

        write_report(run, html)
    if as_json:
        typer.echo(json.dumps(report, indent=2))
        return
    from .optimise_display import print_result

    print_result(honest, objectives, str(folder.path), len(result.rows))


def _report(s, evaluator, result, honest, run, folder, figures) -> dict:
    """pareto.json: the study, the Pareto set as searched, and its re-evaluation on fresh patients."""
    fresh = {k: v for k, v in honest.items() if k != "scenario"} if honest else None
    return _json_ready({
        "scenario": s.name, "arm": s.arms[evaluator.arm].name,
        "objectives": [{"column": o.column, "direction": o.direction} for o in s.search.objectives],
        "constraints": [c.model_dump() for c in s.search.constraints],
        "study": {"folder": str(folder.path), "evaluations": len(result.rows), "this_run": result.new,
                  "patients_per_rung": result.rungs, "search_seed": evaluator.seed,
                  "reevaluation_seed": folder.meta["reevaluation_seed"]},
        "pareto_search": [{"trial": r["trial"], "patients": r["patients"], "params": r["params"],
                           "values": r["values"]} for r in result.pareto],
        "reevaluation": fresh, "reevaluation_run": run.run_id if run is not None else None,
        "figures": [str(p) for p in figures],
    })
