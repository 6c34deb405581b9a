"""Tumour response per patient: spider plot (change over time) and waterfall plot (best change).

Both show the first patients of each arm in the first replicate trial; every line ends at the patient's death
or censoring (see :class:`~celltrial.report.data.ArmTrajectories`). The waterfall reads each
patient at the imaging scans, so a bar's height and colour come from the same reading.

Example:
    >>> fig, caption = waterfall_figure(ReportContext(run))  # doctest: +SKIP
"""

from __future__ import annotations

import math

import numpy as np
from matplotlib.patches import Patch

from .data import LINES_END, ReportContext, column
from .fmt import plural
from .scans import imaging_days, read_scans, rule_words
from .style import RESPONSE_COLOURS, arm_title, day_ticks, empty_panel, fit_legend, new_figure

SPIDER_PATIENTS = 50
WATERFALL_PATIENTS = 200
#: Display caps on % change (growth to a lethal burden is thousands of %; the shape near 0 matters).
SPIDER_MAX_PCT = 200.0
WATERFALL_MAX_PCT = 100.0


def _patient_facts(ctx: ReportContext, arm: str) -> dict:
    """(replicate, patient) -> (best response, baseline burden, scan shift in days, death day or inf)."""
    p = ctx.patients(arm)
    rep = np.nan_to_num(column(p, "replicate")).astype(np.int64)
    pat = np.nan_to_num(column(p, "patient")).astype(np.int64)
    best = column(p, "best_response", str)
    # scans follow the infusion: with a manufacturing wait they move with it (as in the trial's endpoints)
    shift = np.nan_to_num(column(p, "vein_to_vein_days"), nan=0.0)
    death = np.where(column(p, "os_event", bool), column(p, "os_days"), np.inf)
    base = column(p, "baseline_burden")
    return {(int(r), int(q)): (str(b), float(b0), float(s), float(d))
            for r, q, b, b0, s, d in zip(rep, pat, best, base, shift, death, strict=True)}


def _series(ctx: ReportContext, arm: str, n: int) -> list | None:
    """[(day, burden, facts)] of the first ``n`` patients with a tumour trajectory, or None."""
    at = ctx.trajectories.arm(arm)
    if at is None or not at.has("B_tot"):
        return None
    facts = _patient_facts(ctx, arm)
    out = []
    for key in at.subset(n):
        day, b = at.series("B_tot", key)
        fin = np.isfinite(b)
        if fin.any():
            f = facts.get((int(key // at.stride), int(key % at.stride)), ("NE", np.nan, 0.0, np.inf))
            out.append((day[fin], b[fin], f))
    return out


def _arm_panels(ctx: ReportContext, height: float):
    n = len(ctx.arms)
    ncols = min(n, 3)
    fig = new_figure(min(max(5.2 * n, 7.0), 15.6), height * math.ceil(n / ncols) + 0.8)  # room for the title
    axes = np.atleast_1d(fig.subplots(math.ceil(n / ncols), ncols, sharey=True, squeeze=False)).ravel()
    for ax in axes[n:]:
        ax.set_visible(False)
    return fig, list(axes[:n])


def _response_legend(fig, seen: set) -> None:
    fit_legend(fig, [Patch(color=RESPONSE_COLOURS[r], label=f"Best response {r}") for r in RESPONSE_COLOURS
                     if r in seen], max_cols=5)


def _panels(ctx: ReportContext, limit: int, height: float):
    """One titled panel per arm: (fig, axes, [(ax, arm, series)]) for the arms with tumour trajectories
    (the others say why they are empty), or None when no arm has any."""
    data = {a: _series(ctx, a, limit) for a in ctx.arms}
    if not any(data.values()):
        return None
    fig, axes = _arm_panels(ctx, height)
    panels = []
    for ax, arm in zip(axes, ctx.arms, strict=True):
        if not data[arm]:
            arm_title(ax, arm, ctx.colours[arm])
            empty_panel(ax, ctx.no_trajectory_reason(arm))
            continue
        panels.append((ax, arm, data[arm]))
    return fig, axes, panels


def _pct_change(burden, baseline, floor):
    """% change from baseline of the burden floored at the imaging detection limit."""
    b0 = max(baseline, floor) if np.isfinite(baseline) else max(burden[0], floor)
    return 100.0 * (np.maximum(burden, floor) - b0) / b0


def spider_figure(ctx: ReportContext):
    """% change of tumour burden from baseline vs day, one line per patient, coloured by best response."""
    made = _panels(ctx, SPIDER_PATIENTS, 4.6)
    if made is None:
        return None
    fig, axes, panels = made
    floor = ctx.rule("imaging_detection_cells") or 1.0
    seen = set()
    for ax, arm, series in panels:
        arm_title(ax, arm, ctx.colours[arm], f"({len(series)} patients)")
        for day, b, (best, b0, _, _) in series:
            resp = best if best in RESPONSE_COLOURS else "NE"
            seen.add(resp)
            ax.plot(day, _pct_change(b, b0, floor), color=RESPONSE_COLOURS[resp], lw=1.0, alpha=0.8)
        ax.axhline(0, color="#444444", lw=0.9)
        ax.set_xlim(0, ctx.follow_up())
        ax.set_xticks(day_ticks(ctx.follow_up()))
        ax.set_xlabel("Days after first infusion")
    axes[0].set_ylim(-105, SPIDER_MAX_PCT)
    axes[0].set_ylabel("Change in tumour burden from baseline (%)")
    _response_legend(fig, seen)
    fig.suptitle("Spider plot: tumour burden change from baseline")
    caption = (f"One line per patient (the first {SPIDER_PATIENTS} evaluable patients per arm in the first replicate "
               f"trial), coloured by the trial's best overall response (read at the imaging scans). {LINES_END} Burden "
               "below the imaging detection limit is drawn at the limit (a patient in remission shows as about "
               f"−100%, not as the model's exact residual cells). The y axis is cut at +{SPIDER_MAX_PCT:.0f}%.")
    return fig, caption


def _scan_bars(ctx: ReportContext, series: list) -> tuple:
    """(best % change, category) per patient read at the scans, and how many had no scan read.

    Scans are the scenario's imaging days shifted by the patient's manufacturing wait; without
    them (old runs) every stored trajectory day counts as a scan, i.e. the continuous curve."""
    scans = imaging_days(ctx)
    follow_up = ctx.follow_up()
    bars, unread = [], 0
    for day, b, (_, b0, shift, death) in series:
        when = day[day > 0] if scans is None else scans + shift
        best, change = read_scans(day, b, b0 if np.isfinite(b0) else b[0], when[when <= follow_up], death,
                                  ctx.rules)
        if best == "NE":
            unread += 1
        else:
            bars.append((change, best))
    return bars, unread, scans is not None


def waterfall_figure(ctx: ReportContext):
    """Best % change of tumour burden at the scans per patient, sorted, coloured by the response read there."""
    made = _panels(ctx, WATERFALL_PATIENTS, 4.2)
    if made is None:
        return None
    fig, axes, panels = made
    seen, unread, at_scans = set(), [], True
    for ax, arm, series in panels:
        bars, n_unread, at_scans = _scan_bars(ctx, series)
        arm_title(ax, arm, ctx.colours[arm], f"({len(bars)} patients)")
        if n_unread:
            unread.append(f"{arm} {plural(n_unread, 'patient')}")
        bars.sort(key=lambda bar: -bar[0])
        heights = np.minimum([h for h, _ in bars], WATERFALL_MAX_PCT) if bars else np.array([])
        seen |= {r for _, r in bars}
        ax.bar(np.arange(len(bars)), heights, color=[RESPONSE_COLOURS[r] for _, r in bars], width=0.85, lw=0)
        ax.axhline(0, color="#444444", lw=0.9)
        ax.set_xticks([])
        ax.set_xlabel("Patients (sorted by best change)")
        ax.grid(axis="x", visible=False)
    axes[0].set_ylim(-105, WATERFALL_MAX_PCT + 5)
    axes[0].set_ylabel("Best change in tumour burden at a scan (%)")
    _response_legend(fig, seen)
    fig.suptitle("Waterfall plot: best change in tumour burden")
    return fig, _waterfall_caption(ctx, at_scans, unread)


def _waterfall_caption(ctx: ReportContext, at_scans: bool, unread: list) -> str:
    where = ("at the imaging scans of the scenario (moved by any manufacturing wait)" if at_scans else
             "at every stored day of the model curve (this run does not record its scan days)")
    text = (f"One bar per patient (up to the first {WATERFALL_PATIENTS} evaluable patients per arm in the first "
            "replicate trial). Height and colour come from the same reading of the tumour burden "
            f"{where}, before death and up to the first progression: the height is the best change from baseline, "
            f"the colour the best overall response; so {rule_words(ctx.rules)}. Bars are capped at "
            f"+{WATERFALL_MAX_PCT:.0f}%.")
    if unread:
        text += f" Not shown, as they died before their first scan: {'; '.join(unread)}."
    return text
