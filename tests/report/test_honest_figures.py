"""Figures that do not mislead: nothing drawn after death, waterfall height and colour from one
reading, coinciding Kaplan-Meier arms both visible, no legend cut off at the figure's edge.

Example:
    a patient dead at day 100 whose model tumour keeps growing: their line ends by day 100, and the
    day-365 median is over the patients alive then
"""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_hex

from celltrial.report import build_figures
from celltrial.report.data import ArmTrajectories, ReportContext
from celltrial.report.figures import burden_figure, kinetics_figure
from celltrial.report.kaplan_meier import os_figure
from celltrial.report.response_figures import waterfall_figure
from celltrial.report.style import RESPONSE_COLOURS, rc_context

from .synthetic import DAYS, make_run

ARM = "axi-cel-like"
ONE_ARM = {"solo": (0.3, 0.05, 10.0, 100_000.0, 10_000.0)}


def _kill(run, arm: str, patient: int, day: float, burden=5e12, product=1e3) -> None:
    """Patient ``patient`` of ``arm`` dies on ``day``; their simulated values keep going afterwards."""
    p = run.patients
    row = np.flatnonzero((p["arm"] == arm) & (p["patient"] == patient) & (p["replicate"] == 0))[0]
    p["os_days"][row], p["os_event"][row] = day, True
    t = run.trajectories
    after = (t["arm"] == arm) & (t["patient"] == patient) & (t["day"] > day)
    t["B_tot"][after] = burden
    t["product_uL"][after] = product


def _patient_lines(ax, n: int) -> list:
    """The first ``n`` lines of a spaghetti panel: one per shown patient, in patient order."""
    return ax.get_lines()[:n]


def test_tumour_lines_end_at_death():
    run = make_run(n=12, replicates=False)
    _kill(run, ARM, 0, 100.0)
    with rc_context():
        fig, caption = burden_figure(ReportContext(run))
    lines = _patient_lines(fig.axes[0], 12)
    assert lines[0].get_xdata().max() <= 100.0
    assert lines[0].get_ydata().max() < 5e12  # the growth after death is not drawn
    p = run.patients
    os_days = p["os_days"][(p["arm"] == ARM)]
    for line, end in zip(lines, os_days, strict=True):  # nobody is drawn past their own death
        assert line.get_xdata().max() <= end + 1e-9
    assert "ends at their death" in caption


def test_bands_at_a_day_are_over_patients_alive_then():
    """Half the patients die on day 100 with high simulated values afterwards: the day-365 median is the
    survivors' (low) value, not the dead patients' (high) one."""
    n = 10
    days = np.array([0.0, 50.0, 100.0, 200.0, 365.0])
    cols = {"patient": np.repeat(np.arange(n), days.size), "day": np.tile(days, n),
            "x": np.where(np.repeat(np.arange(n), days.size) < 5, 1e3, 0.01)}
    end = np.where(np.arange(n) < 5, 100.0, 365.0)
    at = ArmTrajectories(cols, np.arange(n), n, end)
    grid, q = at.bands("x", (50,))
    assert q[0, grid == 365.0][0] == pytest.approx(0.01)
    assert at.series("x", 0)[0].max() == 100.0
    grid, q = at.bands("x", (50,), min_patients=6)  # only 5 alive after day 100
    assert grid.max() == 100.0


def test_kinetics_median_excludes_the_dead():
    run = make_run(n=12, arms=ONE_ARM, replicates=False)
    t = run.trajectories
    t["product_uL"][:] = np.where(t["day"] > 0, 0.5, 0.0)  # above the drawing floor (LLOQ / 10)
    run.patients["os_days"][:], run.patients["os_event"][:] = 365.0, False
    for patient in range(6):
        _kill(run, "solo", patient, 100.0, product=1e3)
    with rc_context():
        fig, caption = kinetics_figure(ReportContext(run))
    median = fig.axes[1].get_lines()[0]
    x, y = median.get_xdata(), median.get_ydata()
    assert y[x == DAYS[-1]][0] == pytest.approx(0.5)  # before the fix: ~500 (half the patients dead at 1e3)
    assert "alive" in caption


def _bar_category(colour) -> str:
    by_colour = {c.lower(): r for r, c in RESPONSE_COLOURS.items()}
    return by_colour[to_hex(colour).lower()]


def _check_waterfall(fig) -> int:
    """Every bar's colour is the category its height says (thresholds 50%/50%); returns the bar count."""
    bars = 0
    for ax in fig.axes:
        for patch in ax.patches:
            h, cat = patch.get_height(), _bar_category(patch.get_facecolor())
            ok = {"CR": h == -100.0, "PR": -100.0 < h <= -50.0, "SD": -50.0 < h < 50.0, "PD": h >= 50.0}[cat]
            assert ok, (cat, h)
            bars += 1
    return bars


@pytest.mark.parametrize("scan_days", [True, False])
def test_waterfall_colour_and_height_agree(scan_days):
    run = make_run(n=40, replicates=False)
    if not scan_days:  # an old run: no scan days known, both from the continuous curve
        run.meta.pop("scenario_text")
    # A progressing patient whose burden dips 30% between scans: "PD" colour with a -30% bar before the fix.
    t = run.trajectories
    mine = (t["arm"] == ARM) & (t["patient"] == 1)
    b0 = 5e10
    run.patients["baseline_burden"][1] = b0
    t["B_tot"][mine] = np.where(t["day"][mine] < 20, b0 * (1 - 0.3 * np.sin(np.pi * t["day"][mine] / 20)),
                                b0 * np.exp(0.05 * (t["day"][mine] - 20)))
    with rc_context():
        fig, caption = waterfall_figure(ReportContext(run))
    assert _check_waterfall(fig) > 40
    assert "same reading" in caption and ("imaging scans" in caption) == scan_days


def _identical_arms_run():
    run = make_run(n=20, arms={"a": (0.3, 0.05, 10.0, 1e5, 1e4), "b": (0.3, 0.05, 10.0, 1e5, 1e4)},
                   replicates=False, trajectories=False)
    p = run.patients
    a, b = p["arm"] == "a", p["arm"] == "b"
    for k in p:
        if k != "arm":
            p[k][b] = p[k][a]
    return run


def test_identical_km_arms_stay_distinguishable():
    run = _identical_arms_run()
    with rc_context():
        fig, caption = os_figure(ReportContext(run))
    main = fig.axes[1]
    steps = [line for line in main.get_lines() if line.get_drawstyle().startswith("steps")]
    assert len(steps) == 2
    (x1, y1), (x2, y2) = ((s.get_xdata(), s.get_ydata()) for s in steps)
    assert np.array_equal(x1, x2) and not np.allclose(y1, y2)  # dodged apart...
    assert np.abs(y1 - y2).max() < 0.05  # ...but only slightly
    assert steps[0].get_linestyle() != steps[1].get_linestyle()
    markers = {line.get_marker() for line in main.get_lines() if line.get_linestyle() == "None"} - {"|"}
    assert len(markers) == 2
    assert "Arms a and b coincide" in caption


def _legends(fig) -> list:
    return list(fig.legends) + [ax.get_legend() for ax in fig.axes if ax.get_legend() is not None]


@pytest.mark.parametrize("arms", [ONE_ARM, None], ids=["one arm", "two arms"])
def test_no_legend_extends_beyond_the_figure(arms):
    run = make_run(n=12, replicates=True, **({"arms": arms} if arms else {}))
    for name, fig in build_figures(run).items():
        canvas = FigureCanvasAgg(fig)
        canvas.draw()
        renderer = canvas.get_renderer()
        for legend in _legends(fig):
            box = legend.get_window_extent(renderer)
            assert box.x0 >= -1 and box.x1 <= fig.bbox.width + 1, (name, box, fig.bbox)
            assert box.y0 >= -1 and box.y1 <= fig.bbox.height + 1, (name, box, fig.bbox)
