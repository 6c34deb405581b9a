"""Figures of a study: the 2-D Pareto front of each pair of objectives, search values against fresh ones.

Each panel shows every candidate's first evaluation (grey), the evaluations on the most patients
(dark grey), the Pareto policies as the search measured them (open circles) and as the fresh
re-evaluation measured them (filled, joined by a line: the optimism), and the reference arm (star).

Example:
    >>> import tempfile
    >>> rows = [{"rung": 0, "feasible": True, "values": {"a": 1.0, "b": 2.0}}]
    >>> front_figures(rows, None, [("a", "maximize"), ("b", "minimize")], tempfile.mkdtemp())[0].name
    'front_a__b.png'
"""

from __future__ import annotations

from itertools import combinations
from pathlib import Path

from ..report.style import new_figure, rc_context

_ARROW = "maximize"


def _label(column: str, direction: str) -> str:
    return f"{column} ({'higher' if direction == _ARROW else 'lower'} is better)"


def _panel(ax, rows: list, honest: dict | None, x: str, y: str) -> None:
    top = max((r["rung"] for r in rows), default=0)
    for rung, colour, label in ((0, "#c8c8c8", "first evaluation"), (top, "#6b6b6b", "most patients")):
        pts = [(r["values"][x], r["values"][y]) for r in rows if r["rung"] == rung and r["values"] and r["feasible"]]
        if pts and (rung == 0 or top > 0):
            ax.scatter(*zip(*pts, strict=True), s=14, color=colour, label=label, zorder=1)
    if honest:
        for e in honest["policies"]:
            (sx, sy), (fx, fy) = (e["search"][x], e["search"][y]), (e["fresh"][x], e["fresh"][y])
            ax.plot([sx, fx], [sy, fy], color="#1f77b4", lw=0.8, zorder=2)
            ax.scatter([sx], [sy], s=40, facecolors="none", edgecolors="#1f77b4", zorder=3)
            ax.scatter([fx], [fy], s=40, color="#1f77b4", zorder=3)
            ax.annotate(e["policy"].removeprefix("pareto-"), (fx, fy), xytext=(4, 4), textcoords="offset points",
                        fontsize=8)
        ref = honest["reference"]
        ax.scatter([ref[x]], [ref[y]], marker="*", s=120, color="black", zorder=4,
                   label=f"reference ({honest['reference_arm']})")


def front_figures(rows: list, honest: dict | None, objectives: list, folder) -> list:
    """Write ``front_X__Y.png`` for every pair of objectives (one objective: X against evaluations) into ``folder``.

    Args:
        rows: every evaluation of the study (:func:`celltrial.optimise.optimise`'s ``rows``).
        honest: the re-evaluation report (:func:`celltrial.optimise.reevaluate`), or None.
        objectives: (column, direction) pairs.
    Returns:
        The paths written.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    pairs = list(combinations(objectives, 2))
    out = []
    with rc_context():
        for (x, dx), (y, dy) in pairs:
            fig = new_figure(5.5, 4.2)
            ax = fig.add_subplot()
            _panel(ax, rows, honest, x, y)
            ax.set_xlabel(_label(x, dx))
            ax.set_ylabel(_label(y, dy))
            ax.set_title("Pareto policies: open = search, filled = fresh patients", fontsize=9)
            ax.legend(fontsize=8, frameon=False)
            path = folder / f"front_{x}__{y}.png"
            fig.savefig(path, dpi=120)
            out.append(path)
        if not pairs:
            out.append(_trace(rows, objectives[0], folder))
    return out


def _trace(rows: list, objective: tuple, folder: Path) -> Path:
    """One objective: its value at each evaluation in order (the search's progress)."""
    column, direction = objective
    fig = new_figure(5.5, 3.5)
    ax = fig.add_subplot()
    pts = [(i, r["values"][column]) for i, r in enumerate(rows) if r["values"] and r["feasible"]]
    if pts:
        ax.scatter(*zip(*pts, strict=True), s=14, color="#6b6b6b")
    ax.set_xlabel("evaluation")
    ax.set_ylabel(_label(column, direction))
    path = folder / f"trace_{column}.png"
    fig.savefig(path, dpi=120)
    return path


def robustness_figure(robust: dict, objectives: list, folder) -> Path:
    """``robustness.png``: per objective, each policy's difference from the reference in every posterior draw."""
    with rc_context():
        fig = new_figure(3.2 * len(objectives), 3.6)
        for k, (column, direction) in enumerate(objectives):
            ax = fig.add_subplot(1, len(objectives), k + 1)
            for i, e in enumerate(robust["policies"]):
                diffs = e["difference"][column]
                ax.plot([i, i], [diffs["p5"], diffs["p95"]], color="#1f77b4", lw=2.5, alpha=0.5)
                ax.scatter([i], [diffs["median"]], color="#1f77b4", s=16, zorder=3)
            ax.axhline(0.0, color="black", lw=0.8)
            ax.set_xticks(range(len(robust["policies"])),
                          [e["policy"].removeprefix("pareto-") for e in robust["policies"]], fontsize=7)
            ax.set_xlabel("Pareto policy", fontsize=8)
            ax.set_title(f"{column} - reference\n({'higher' if direction == _ARROW else 'lower'} is better)",
                         fontsize=8)
        fig.suptitle(f"Across {len(robust['draw_rows'])} posterior draws ({robust['case']}): median and 5-95 %",
                     fontsize=9)
        path = Path(folder) / "robustness.png"
        fig.savefig(path, dpi=120, bbox_inches="tight")
    return path


def pareto_figures(pareto: list, honest: dict | None, robust: dict | None, scenario, folder) -> list:
    """The parallel coordinates of the Pareto set and, with a posterior, the robustness figure; the paths written."""
    from .candidates import reference_index
    from .coordinates import parallel_figure

    if not pareto:
        return []
    spec = scenario.search
    # the reference arm's own values at the searched paths (no line when it lacks one of them)
    reference = scenario.arms[reference_index(scenario)].model_dump(mode="json")
    out = [parallel_figure(pareto, honest, spec, folder, reference)]
    if robust is not None:
        out.append(robustness_figure(robust, [(o.column, o.direction) for o in spec.objectives], folder))
    return out
