"""``celltrial optimise``: search one arm's protocol for the best trade-off of the scenario's objectives.

Thin: parse, call :mod:`celltrial.optimise`, format. The study lives in ``--out`` (default
``celltrial-optimise/<scenario name>``): run the same command again and it continues where it
stopped, repeating no finished evaluation. The re-evaluation of the Pareto set is stored as an
ordinary run in ``<out>/runs.duckdb`` (``celltrial report latest --out <out>/runs.duckdb``), and its
scenario as ``<out>/reevaluation.yaml`` (``celltrial run`` reproduces it). ``--posterior FOLDER``
re-runs the Pareto set over draws of a calibration posterior (robustness to the model).

Example:
    $ celltrial optimise scenarios/optimise_mrd_monitoring.yaml --budget 40
    $ celltrial optimise scenarios/optimise_mrd_monitoring.yaml --budget 10m --json > pareto.json
    $ celltrial optimise scenarios/optimise_mrd_monitoring.yaml --posterior docs/calibration/zuma1 --draws 16
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
    posterior: str = typer.Option(None, "--posterior", help="Calibration evidence folder (summary.json, "
                                  "posterior.csv; e.g. docs/calibration/zuma1): re-run the Pareto set over its draws "
                                  "and rank the parameters that move the answer."),
    draws: int = typer.Option(16, "--draws", min=2, max=1000, help="Posterior draws for --posterior (each simulates "
                              "the reference and the Pareto policies on the re-evaluation's patients)."),
):
    """Search one arm's protocol (the scenario's `search:` block); re-evaluate the Pareto set on fresh patients."""
    from ..optimise import Budget, Evaluator, StudyFolder, fingerprint, front_figures, optimise, parse_budget
    from ..optimise.figures import pareto_figures
    from ..scenarios import load_scenario
    from .compiling import ensure_standard_compiled

    s, _ = load_scenario(scenario)
    if s.search is None:
        from ..errors import ScenarioError

        raise ScenarioError(f"{scenario}: search: the scenario has no `search:` block; add one to optimise it "
                            "(see scenarios/optimise_mrd_monitoring.yaml)")
    s = with_overrides(s, patients, seed)
    evaluator = Evaluator(s, threads=threads)  # checks the search block: exit 2 before any compiling
    drawn_from = _posterior(posterior, s)
    spend = parse_budget(budget) if budget is not None else Budget(evaluations=s.search.budget)
    folder = StudyFolder(Path(out or Path("celltrial-optimise") / s.name), fingerprint(s), s.search.reevaluate.seed)
    ensure_standard_compiled()
    show, tty = _progress_printer()
    result = optimise(evaluator, folder, spend, progress=show)
    if tty and result.new:
        sys.stderr.write("\n")
    honest, run = _reevaluate(evaluator, result.pareto, folder)
    robust = _robustness(evaluator, honest, drawn_from, draws, folder) if honest and drawn_from else None
    objectives = [(o.column, o.direction) for o in s.search.objectives]
    figures = front_figures(result.rows, honest, objectives, folder.path)
    figures += pareto_figures(result.pareto, honest, robust, s, folder.path)
    report = _report(s, evaluator, result, honest, run, folder, figures)
    report["robustness"] = _json_ready(robust)
    (folder.path / "pareto.json").write_text(json.dumps(report, indent=2))
    if html and run is not None:
        from ..report import write_report

        write_report(run, html)
    if as_json:
        typer.echo(json.dumps(report, indent=2))
        return
    from .optimise_display import print_result

    print_result(honest, objectives, str(folder.path), len(result.rows), robust)


def _reevaluate(evaluator, pareto: list, folder) -> tuple:
    """(re-evaluation report, its stored run) of the Pareto rows on fresh patients; (None, None) without any."""
    from ..optimise import reevaluate

    if not pareto:
        return None, None
    search = evaluator.scenario.search
    simulate, found = _stored_simulation(folder.path, _stderr)
    honest = reevaluate(evaluator, pareto, patients=search.reevaluate.patients or 2 * search.patients.max,
                        seed=folder.meta["reevaluation_seed"], simulate=simulate)
    return honest, found.get("run")


def _posterior(folder, scenario):
    """The posterior of ``--posterior``, checked against the scenario before any search (exit 2 if foreign)."""
    if folder is None:
        return None
    from ..optimise.robustness import check_applies, load_posterior

    found = load_posterior(folder)
    check_applies(found, scenario)
    return found


def _robustness(evaluator, honest, posterior, draws, folder) -> dict:
    """The Pareto policies over ``draws`` posterior draws, on the re-evaluation's patients and seed."""
    from ..optimise.robustness import robustness

    def show(done, total):
        _stderr(f"robustness: posterior draw {done}/{total}")

    return robustness(evaluator, honest["policies"], posterior, draws=draws, patients=honest["patients"],
                      seed=folder.meta["reevaluation_seed"], progress=show)


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
