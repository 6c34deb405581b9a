"""Shared look of the report figures: arm colours, response colours, fonts and figure factory.

Figures are made with :class:`matplotlib.figure.Figure` directly (no pyplot), so building a
report touches no global figure registry and works without a display.

Example:
    >>> colours = arm_colours(["axi-cel", "ft596"])
    >>> colours["axi-cel"]
    '#0072B2'
    >>> fig = new_figure(6, 4)
"""

from __future__ import annotations

import matplotlib as mpl
import numpy as np
from matplotlib.backends.backend_agg import RendererAgg
from matplotlib.figure import Figure
from matplotlib.layout_engine import ConstrainedLayoutEngine

# Okabe-Ito palette: distinguishable with the common colour-vision deficiencies; yellow is left
# out because it is unreadable on white.
ARM_PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#999999")

#: Best-response colours (the usual waterfall convention: greens for response, red for PD).
RESPONSE_COLOURS = {"CR": "#1a7837", "PR": "#7fbf7b", "SD": "#c2a5cf", "PD": "#d73027", "NE": "#bdbdbd"}

#: Readable fonts for a clinician reading on screen or paper; applied with ``rc_context``.
RC = {
    "font.size": 11,
    "axes.titlesize": 12.5,
    "axes.titleweight": "bold",
    "axes.labelsize": 11,
    "xtick.labelsize": 10,
    "ytick.labelsize": 10,
    "legend.fontsize": 10,
    "figure.titlesize": 14,
    "figure.titleweight": "bold",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#e6e6e6",
    "grid.linewidth": 0.7,
    "svg.fonttype": "none",  # SVG text stays text: searchable, smaller
    "svg.hashsalt": "celltrial-report",  # deterministic SVG ids
    "savefig.dpi": 120,
}

#: Line styles for reference lines, used identically in every figure.
LLOQ_STYLE = {"color": "#444444", "linestyle": "--", "linewidth": 1.2}
LETHAL_STYLE = {"color": "#b2182b", "linestyle": ":", "linewidth": 1.5}


def rc_context():
    """Context manager applying :data:`RC` (restores the previous settings afterwards)."""
    return mpl.rc_context(RC)


def arm_colours(arms) -> dict:
    """Arm name -> colour, by position in the run's arm list, so every figure agrees."""
    return {arm: ARM_PALETTE[i % len(ARM_PALETTE)] for i, arm in enumerate(arms)}


def new_figure(width: float, height: float) -> Figure:
    """A figure with constrained layout (labels never overlap neighbouring panels)."""
    # A little more padding than matplotlib's default 3 pt, so edge labels never touch the border.
    return Figure(figsize=(width, height), layout=ConstrainedLayoutEngine(w_pad=0.1, h_pad=0.08))


def fit_legend(fig, handles: list, loc: str = "outside lower center", max_cols: int = 4, **kwargs):
    """``fig.legend`` with as many columns (up to ``max_cols``) as fit the figure's width.

    A legend placed outside the panels is laid out by constrained layout, but one wider than the
    figure is cut at both edges; so entries wrap onto more rows until the legend fits.

    Example:
        >>> from matplotlib.lines import Line2D
        >>> fig = new_figure(3, 2)
        >>> leg = fit_legend(fig, [Line2D([], [], label=f"a rather long legend entry {i}") for i in range(3)])
        >>> len(leg.get_texts()), bool(leg.get_window_extent().width <= fig.bbox.width)
        (3, True)
    """
    if not handles:
        return None
    renderer = RendererAgg(*fig.canvas.get_width_height(), fig.dpi)
    for ncols in range(min(len(handles), max_cols), 0, -1):
        legend = fig.legend(handles=handles, loc=loc, ncols=ncols, frameon=False, **kwargs)
        if ncols == 1 or legend.get_window_extent(renderer).width <= 0.98 * fig.bbox.width:
            return legend
        legend.remove()
    return None


def empty_panel(ax, text: str) -> None:
    """Mark a panel as having no data (so a missing arm is visible, not silently blank)."""
    # set_axis_off, not set_xticks([]): panels may share an axis, and ticks are shared with it.
    ax.set_axis_off()
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, color="#777777", fontsize=11)


def arm_title(ax, arm: str, colour: str, extra: str = "") -> None:
    """Panel title in the arm's colour."""
    ax.set_title(arm + (f" {extra}" if extra else ""), color=colour)


def day_ticks(t_max: float) -> np.ndarray:
    """Round tick positions (multiples of 7, 14, 28, 30, 60, 90, 180 or 365 days), at most ~9 ticks."""
    t_max = float(t_max) if np.isfinite(t_max) and t_max > 0 else 28.0
    for step in (7, 14, 28, 30, 60, 90, 180, 365, 730):
        if t_max / step <= 8.5:
            break
    return np.arange(0.0, t_max + 1e-9, step)


def log_limits(values, floor: float, pad: float = 3.0) -> tuple:
    """y limits for a log axis covering finite positive ``values`` and ``floor``, padded."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v) & (v > 0)]
    hi = max(float(v.max()) if v.size else floor * 10, floor * 10)
    return floor / pad, hi * pad
