"""Visual predictive check figure of an individual fit (``celltrial fit --vpc FILE.png``).

Example:
    >>> import numpy as np
    >>> from celltrial.calibration.individual_report import VpcData
    >>> d = VpcData("car_copies", np.array([1.0, 7.0]), np.array([[1, 10], [5, 50], [20, 200.0]]), 30.0,
    ...             np.array([1.0, 7.0]), np.array([4.0, np.nan]), np.array([False, True]))
    >>> fig = vpc_figure(d); len(fig.axes)
    1
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .style import new_figure


def vpc_figure(data):
    """Simulated 5/50/95% bands of the population (prior), observed points, BLQ points at the LLOQ."""
    fig = new_figure(6.4, 3.8)
    ax = fig.subplots()
    ax.fill_between(data.times, data.bands[0], data.bands[2], color="#9ecae1", alpha=0.6,
                    label="population 5-95% (prior)")
    ax.plot(data.times, data.bands[1], color="#08519c", label="population median")
    seen = ~np.asarray(data.obs_blq, bool)
    ax.plot(data.obs_times[seen], data.obs_values[seen], "o", color="#b42318", ms=3.5, label="observed")
    if (~seen).any() and np.isfinite(data.lloq):
        ax.plot(data.obs_times[~seen], np.full((~seen).sum(), data.lloq), "v", color="#6b7280", ms=4,
                label="below LLOQ (plotted at the LLOQ)")
        ax.axhline(data.lloq, color="#6b7280", lw=0.8, ls="--")
    ax.set_yscale("log")
    ax.set_xlabel("days")
    ax.set_ylabel(data.observable)
    ax.legend(frameon=False, fontsize=8)
    return fig


def write_vpc(data, path) -> Path:
    """Save :func:`vpc_figure` to ``path`` (format from the suffix: png, svg, pdf)."""
    path = Path(path)
    vpc_figure(data).savefig(path, dpi=110)
    return path
