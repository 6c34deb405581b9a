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
