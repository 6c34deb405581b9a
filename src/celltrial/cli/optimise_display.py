"""Terminal presentation of an optimisation: the progress line and the Pareto table.

Example:
    >>> from celltrial.optimise.search import Budget, Progress
    >>> p = Progress(12, 4, Budget(evaluations=40), {"cost_per_patient": 1.25e5}, 80, 200.0, {})
    >>> progress_text(p)
    'optimise: 12/40 evaluations (4 this run); best at 80 patients: cost_per_patient 1.25e+05; ~3m20s left'
"""

from __future__ import annotations

from rich.console import Console
from rich.table import Table


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"


def _num(x) -> str:
    return "n/a" if x is None else f"{x:.3g}"


def progress_text(p) -> str:
    """One line: evaluations done (of the budget), the best feasible value of each objective, time left."""
    total = f"/{p.budget.evaluations}" if p.budget.evaluations is not None else ""
    best = ", ".join(f"{k} {_num(v)}" for k, v in p.best.items())
    best = f"best at {p.best_patients} patients: {best}" if best else "no feasible candidate yet"
    return f"optimise: {p.done}{total} evaluations ({p.new} this run); {best}; ~{_duration(p.seconds_left)} left"


def _cell(entry: dict, column: str) -> str:
    fresh, low, high = entry["fresh"][column], entry["fresh_low"][column], entry["fresh_high"][column]
    return (f"{_num(fresh)} ({_num(low)}-{_num(high)})\nsearch {_num(entry['search'][column])}, "
            f"P(beats ref) {entry['p_beats_reference'][column]:.2f}")


def pareto_table(honest: dict, objectives: list) -> Table:
    """The Pareto policies as re-evaluated on fresh patients, one row per policy."""
    table = Table(title=f"Pareto policies on {honest['patients']} fresh patients per arm (seed {honest['seed']}) vs "
                        f"reference '{honest['reference_arm']}'", show_lines=True)
    table.add_column("policy")
    table.add_column("decision variables")
    for column, direction in objectives:
        arrow = "higher" if direction == "maximize" else "lower"
        table.add_column(f"{column} ({arrow} better)\nfresh (95% CI)")
    table.add_row(honest["reference_arm"], "(as written in the scenario)",
                  *[_num(honest["reference"][c]) for c, _ in objectives])
    for e in honest["policies"]:
        params = "\n".join(f"{k} = {_num(v) if isinstance(v, float) else v}" for k, v in e["params"].items())
        flag = "" if e["feasible_fresh"] else "\n(misses a constraint on fresh patients)"
        flag += "\n(the reference dominates it on fresh patients)" if e.get("dominated_by_reference") else ""
        table.add_row(e["policy"] + flag, params, *[_cell(e, c) for c, _ in objectives])
    return table


def robustness_table(robust: dict, objectives: list) -> Table:
    """Each Pareto policy's difference from the reference across posterior draws, one row per policy."""
    table = Table(title=f"Across {len(robust['draw_rows'])} draws of the {robust['case']} posterior "
                        f"({robust['patients']} patients per arm and draw): policy - reference", show_lines=True)
    table.add_column("policy")
    for column, direction in objectives:
        table.add_column(f"{column} ({'higher' if direction == 'maximize' else 'lower'} better)\n"
                         "median (5-95 %), share of draws beating the reference")
    for e in robust["policies"]:
        cells = [f"{_num(e['difference'][c]['median'])} ({_num(e['difference'][c]['p5'])} to "
                 f"{_num(e['difference'][c]['p95'])}), {e['p_beats_reference'][c]:.2f}" for c, _ in objectives]
        table.add_row(e["policy"], *cells)
    return table


def ranking_lines(robust: dict) -> list[str]:
    """Per objective: how far the answer moves across draws, and the three parameters that move it most."""
    out = []
    for column, ranked in robust["ranking"].items():
        top = ", ".join(f"{name} (|rho| {_num(rho)})" for name, rho in ranked[:3] if rho is not None and rho == rho)
        moved = f"{column}: moves by up to {_num(robust['moves'][column])} across draws"
        out.append(f"{moved}; most influential: {top}" if top else f"{moved}; no parameter moves it")
    return out


def print_result(honest: dict | None, objectives: list, folder: str, evaluations: int, robust=None) -> None:
    console = Console()
    if honest is None:
        console.print(f"no feasible candidate in {evaluations} evaluations: nothing to re-evaluate (widen the ranges, "
                      "relax a constraint or give more --budget)")
        return
    console.print(pareto_table(honest, objectives))
    optimism = ", ".join(f"{c} {_num(v)}" for c, v in honest["optimism_mean"].items())
    console.print(f"optimism (search minus fresh, positive = the search flattered the policies): {optimism}")
    console.print("recommended: " + ", ".join(f"best {k}: {v}" for k, v in honest["recommended"].items()))
    if robust is not None:
        console.print(robustness_table(robust, objectives))
        console.print("sensitivity (Spearman rank correlation of each drawn parameter with policy - reference):")
        for line in ranking_lines(robust):
            console.print(f"  {line}")
    console.print(f"study, candidates (candidates.parquet), pareto.json and figures in {folder}")
