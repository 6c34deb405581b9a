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
