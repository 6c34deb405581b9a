"""Parallel coordinates of the Pareto set: every decision variable and objective of each policy on one figure.

One vertical axis per decision variable, then one per objective. Each axis is scaled to the range
the plotted policies span (a log-scaled variable on the log scale; a variable with choices by the
position of its choice), and objectives are turned so that up is always better, so a line high on
the objective axes is a good policy. Grey lines are the Pareto set as the search measured it; the
re-evaluated policies are coloured and numbered with their fresh objective values; the reference
protocol is dashed when the searched arm's variables can be read from it.

Example:
    >>> axis_positions([1.0, 10.0, 100.0], log=True).tolist()
    [0.0, 0.5, 1.0]
    >>> axis_positions([3.0, 3.0], log=False).tolist()
    [0.5, 0.5]
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..report.style import new_figure, rc_context
from .candidates import read_path

_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf")


def axis_positions(values, log: bool = False, flip: bool = False) -> np.ndarray:
    """Values mapped to [0, 1] over their own range (0.5 for all when they are equal); ``flip``: 1 - x."""
    x = np.asarray(values, dtype=float)
    x = np.log10(x) if log else x
    span = np.nanmax(x) - np.nanmin(x) if x.size else 0.0
    out = (x - np.nanmin(x)) / span if span > 0 else np.full(x.shape, 0.5)
    return 1.0 - out if flip else out


def _numeric(variable, values: list) -> list:
    """Choices become their position in the list (names and true/false have no scale of their own)."""
    if variable.choices is None:
        return [float(v) for v in values]
    return [float(variable.choices.index(v)) if v in variable.choices else np.nan for v in values]


def _wrap(path: str, width: int = 16) -> str:
    """A dotted path broken at its dots into lines of about ``width`` characters (axis labels stay apart)."""
    lines, line = [], ""
    for part in path.split("."):
        piece = f"{line}.{part}" if line else part
        if line and len(piece) > width:
            lines.append(line + ".")
            piece = part
        line = piece
    return "\n".join([*lines, line])


def lines(pareto: list, honest: dict | None, spec, reference_arm: dict | None = None) -> tuple:
    """(axis labels, (lines, axes) positions in [0, 1], lines' kinds, tick texts (low, high) per axis)."""
    policies = honest["policies"] if honest else []
    rows = [("search", r["params"], r["values"]) for r in pareto]
    rows += [(e["policy"], e["params"], e["fresh"]) for e in policies]
    ref = {v.path: read_path(reference_arm, v.path) for v in spec.variables} if reference_arm else {}
    if honest and ref and all(x is not None for x in ref.values()):
        rows.append(("reference", ref, honest["reference"]))
    labels, columns, ticks = [], [], []
    for v in spec.variables:
        raw = _numeric(v, [p.get(v.path) for _, p, _ in rows])
        columns.append(axis_positions(raw, log=v.scale == "log"))
        labels.append(_wrap(v.path))
        ticks.append(_ends(raw, v))
    for o in spec.objectives:
        raw = [float(vals[o.column]) for _, _, vals in rows]
        columns.append(axis_positions(raw, flip=o.direction == "minimize"))
        labels.append(f"{o.column}\n({'higher' if o.direction == 'maximize' else 'lower'} is better)")
        low, high = _ends(raw, None)
        ticks.append((high, low) if o.direction == "minimize" else (low, high))
    return labels, np.column_stack(columns) if rows else np.empty((0, len(labels))), [k for k, _, _ in rows], ticks


def _ends(raw: list, variable) -> tuple:
    x = [v for v in raw if np.isfinite(v)]
    if not x:
        return "", ""
    if variable is not None and variable.choices is not None:
        return str(variable.choices[int(min(x))]), str(variable.choices[int(max(x))])
    return f"{min(x):.3g}", f"{max(x):.3g}"


def parallel_figure(pareto: list, honest: dict | None, spec, folder, reference_arm: dict | None = None) -> Path:
    """Write ``parallel_coordinates.png`` into ``folder``; returns its path."""
    labels, pos, kinds, ticks = lines(pareto, honest, spec, reference_arm)
    xs = np.arange(len(labels))
    with rc_context():
        fig = new_figure(max(6.0, 1.6 * len(labels)), 4.2)
        ax = fig.add_subplot()
        colour = iter(_COLOURS * 8)
        for kind, y in zip(kinds, pos, strict=True):
            if kind == "search":
                ax.plot(xs, y, color="#c8c8c8", lw=0.8, zorder=1)
            elif kind == "reference":
                ax.plot(xs, y, color="black", lw=1.4, ls="--", zorder=3, label="reference (as written)")
            else:
                ax.plot(xs, y, color=next(colour), lw=1.6, marker="o", ms=3, zorder=2, label=f"{kind} (fresh)")
        for x, (low, high) in zip(xs, ticks, strict=True):
            ax.axvline(x, color="#888888", lw=0.6, zorder=0)
            ax.text(x, -0.06, low, ha="center", va="top", fontsize=7)
            ax.text(x, 1.06, high, ha="center", va="bottom", fontsize=7)
        ax.set_xticks(xs, labels, fontsize=7)
        ax.set_yticks([])
        for side in ("left", "right", "top", "bottom"):
            ax.spines[side].set_visible(False)
        ax.set_ylim(-0.15, 1.15)
        ax.set_title("Pareto set: grey = as searched; objectives turned so that up is better", fontsize=9)
        if kinds:
            ax.legend(fontsize=7, frameon=False, loc="center left", bbox_to_anchor=(1.0, 0.5))
        path = Path(folder) / "parallel_coordinates.png"
        fig.savefig(path, dpi=120, bbox_inches="tight")
    return path
