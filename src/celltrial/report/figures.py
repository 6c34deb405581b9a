"""All report figures, by name, and the trajectory figures (blood kinetics, tumour, ctDNA).

Every builder takes a :class:`~celltrial.report.data.ReportContext` and returns
``(Figure, caption)`` or None when the run has nothing to show; it never raises on odd data.

Example:
    >>> figs = build_figures(run)  # doctest: +SKIP
    >>> figs["km_pfs"].savefig("pfs.svg")  # doctest: +SKIP
"""

from __future__ import annotations

import logging
import math

import numpy as np
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from . import economics, kaplan_meier, patient_figures, response_figures, summary_figures
from .data import LINES_END, ReportContext
from .fmt import fmt_ref
from .style import (
    LETHAL_STYLE,
    LLOQ_STYLE,
    arm_title,
    day_ticks,
    empty_panel,
    fit_legend,
    log_limits,
    new_figure,
    rc_context,
)

log = logging.getLogger(__name__)

SPAGHETTI_PATIENTS = 50
#: The kinetics median and band are drawn only at days with at least this many patients alive.
BAND_MIN_PATIENTS = 5


def kinetics_figure(ctx: ReportContext):
    """Product cells in blood: median and 5-95% band per arm, first 28 days and whole follow-up."""
    lloq = ctx.rule("lloq_cells_uL")
    floor = lloq / 10 if lloq else 1e-3
    data = {}
    for arm in ctx.arms:
        at = ctx.trajectories.arm(arm)
        if at is not None and at.has("product_uL"):
            data[arm] = at.bands("product_uL", min_patients=BAND_MIN_PATIENTS)
    if not data:
        return None
    fig = new_figure(12, 4.8)
    axes = fig.subplots(1, 2, sharey=True)
    ymax = []
    for ax, t_end in zip(axes, (28.0, ctx.follow_up()), strict=True):
        for arm, (grid, q) in data.items():
            c = ctx.colours[arm]
            ax.fill_between(grid, np.maximum(q[0], floor), np.maximum(q[2], floor), color=c, alpha=0.18, lw=0)
            ax.plot(grid, np.maximum(q[1], floor), color=c, lw=2.2)
            ymax.append(q[2])
        if lloq:
            ax.axhline(lloq, **LLOQ_STYLE)
        ax.set_yscale("log")
        ax.set_xlim(0, t_end)
        ax.set_xticks(day_ticks(t_end))
        ax.set_xlabel("Days after first infusion")
    axes[0].set_ylim(*log_limits(np.concatenate(ymax), floor))
    axes[0].set_ylabel("Product cells in blood (cells/µL)")
    axes[0].set_title("First 28 days")
    axes[1].set_title("Whole follow-up")
    handles = [Line2D([], [], color=ctx.colours[a], lw=2.2, label=f"{a}: median") for a in data]
    handles.append(Patch(color="#888888", alpha=0.3, label="5–95% of patients alive"))
    if lloq:
        handles.append(Line2D([], [], **LLOQ_STYLE, label=f"LLOQ {fmt_ref(lloq)} cells/µL"))
    fit_legend(fig, handles)
    fig.suptitle("Blood kinetics of the product")
    caption = (f"Median (line) and 5th–95th percentile band (shaded) of product cells in blood, log scale. The "
               "median and band at each day are over the evaluable patients of the arm alive and still followed "
               "that day (dead patients leave the summary at death), drawn while at least "
               f"{BAND_MIN_PATIENTS} patients remain. Values below {fmt_ref(floor)} cells/µL "
               f"(including zero) are drawn at {fmt_ref(floor)}.")
    return fig, caption + _missing_note(ctx, data)


def _missing_note(ctx, shown) -> str:
    missing = [a for a in ctx.arms if a not in shown]
    return f" No trajectories stored for: {', '.join(missing)}." if missing else ""


def _panel_grid(fig, n: int, sharey=True):
    """``n`` panels, up to 3 per row, returned as a flat list."""
    ncols = min(n, 3)
    nrows = math.ceil(n / ncols)
    axes = np.atleast_1d(fig.subplots(nrows, ncols, sharey=sharey, squeeze=False)).ravel()
    for ax in axes[n:]:
        ax.set_visible(False)
    return list(axes[:n])


def spaghetti_figure(ctx: ReportContext, quantity: str, floor: float, unit: str, ref_lines: list, ylabel: str,
                     title: str):
    """One panel per arm, one line per patient (a subset), log y, with horizontal reference lines.

    ``ref_lines`` is a list of (value, style, label)."""
    arm_data = {a: ctx.trajectories.arm(a) for a in ctx.arms}
    arm_data = {a: at for a, at in arm_data.items() if at is not None and at.has(quantity)}
    if not arm_data:
        return None
    n = len(ctx.arms)
    fig = new_figure(min(5.2 * n, 15.6), 4.6 * math.ceil(n / 3) + 0.6)
    axes = _panel_grid(fig, n)
    shown_all, counts = [], []
    for ax, arm in zip(axes, ctx.arms, strict=True):
        at = arm_data.get(arm)
        if at is None:
            empty_panel(ax, ctx.no_trajectory_reason(arm))
            arm_title(ax, arm, ctx.colours[arm])
            continue
        keys = at.subset(SPAGHETTI_PATIENTS)
        counts.append(f"{arm}: {len(keys)} of {len(at)}")
        for key in keys:
            day, v = at.series(quantity, key)
            ax.plot(day, np.maximum(v, floor), color=ctx.colours[arm], alpha=0.45, lw=0.9)
            shown_all.append(v)
        for value, style, _ in ref_lines:
            ax.axhline(value, **style)
        ax.set_yscale("log")
        ax.set_xlim(0, ctx.follow_up())
        ax.set_xticks(day_ticks(ctx.follow_up()))
        ax.set_xlabel("Days after first infusion")
        arm_title(ax, arm, ctx.colours[arm], f"({len(keys)} patients)")
    refs = [v for v, _, _ in ref_lines]
    lo, hi = log_limits(np.concatenate(shown_all + [np.asarray(refs, dtype=float)]), floor)
    axes[0].set_ylim(lo, hi)
    axes[0].set_ylabel(ylabel)
    fit_legend(fig, [Line2D([], [], **style, label=label) for _, style, label in ref_lines])
    fig.suptitle(title)
    caption = ("Each line is one patient: the first patients of each arm in the first replicate trial "
               f"({'; '.join(counts)} evaluable patients). {LINES_END} Log scale; values below {fmt_ref(floor)} "
               f"{unit} (including zero) are drawn at {fmt_ref(floor)} {unit}.")
    return fig, caption + _missing_note(ctx, arm_data)


def burden_figure(ctx: ReportContext):
    """Tumour burden spaghetti with imaging detection limit and lethal burden."""
    refs = []
    if ctx.rule("imaging_detection_cells"):
        v = ctx.rule("imaging_detection_cells")
        refs.append((v, LLOQ_STYLE, f"Imaging detection limit ({fmt_ref(v)} cells)"))
    if ctx.rule("lethal_burden_cells"):
        v = ctx.rule("lethal_burden_cells")
        refs.append((v, LETHAL_STYLE, f"Lethal burden ({fmt_ref(v)} cells)"))
    return spaghetti_figure(ctx, "B_tot", 1.0, "cell", refs, "Tumour burden (cells)", "Tumour burden per patient")


def ctdna_figure(ctx: ReportContext):
    """ctDNA spaghetti with the assay limit of detection."""
    lod = ctx.rule("ctdna_lod_hge_ml")
    refs = [(lod, LLOQ_STYLE, f"ctDNA limit of detection ({fmt_ref(lod)} hGE/mL)")] if lod else []
    return spaghetti_figure(ctx, "ctdna", lod / 10 if lod else 1e-3, "hGE/mL", refs,
                            "ctDNA (haploid genome equivalents/mL)", "Circulating tumour DNA per patient")


#: name -> builder, in report order.
BUILDERS = {
    "kinetics": kinetics_figure,
    "tumour_burden": burden_figure,
    "ctdna": ctdna_figure,
    "swimmer": patient_figures.swimmer_figure,
    "spider": response_figures.spider_figure,
    "waterfall": response_figures.waterfall_figure,
    "km_pfs": kaplan_meier.pfs_figure,
    "km_os": kaplan_meier.os_figure,
    "crs": summary_figures.crs_figure,
    "icans": summary_figures.icans_figure,
    "cost": summary_figures.cost_figure,
    "replicates": summary_figures.replicates_figure,
    "ce": economics.ce_figure,
}


def build_figures_with_captions(run, ctx: ReportContext | None = None) -> dict:
    """name -> (Figure, caption) for every figure the run has data for.

    A builder that fails on unexpected data is logged and skipped: one bad figure must not cost
    the clinician the whole report."""
    ctx = ctx or ReportContext(run)
    out = {}
    with rc_context():
        for name, builder in BUILDERS.items():
            try:
                result = builder(ctx)
            except Exception:  # report what we can; the log carries the traceback
                log.exception("report figure %r failed", name)
                continue
            if result is not None:
                out[name] = result
    return out


def build_figures(run) -> dict:
    """name -> matplotlib Figure (no pyplot state; save with ``fig.savefig``).

    Example:
        >>> figs = build_figures(run)  # doctest: +SKIP
        >>> sorted(figs)[:2]  # doctest: +SKIP
        ['cost', 'crs']
    """
    return {name: fig for name, (fig, _) in build_figures_with_captions(run).items()}
