"""Per-patient figure: the swimmer plot (the spider and waterfall plots are in :mod:`.response_figures`).

Subsets are the first patients of the first replicate of each arm (virtual patients are drawn
independently, so this is an unbiased sample), and each caption says how many are shown.

Example:
    >>> fig, caption = swimmer_figure(ReportContext(run))  # doctest: +SKIP
"""

from __future__ import annotations

import numpy as np
from matplotlib.lines import Line2D

from .data import ReportContext, column
from .style import RESPONSE_COLOURS, arm_title, day_ticks, empty_panel, fit_legend, new_figure

SWIMMER_PATIENTS = 40


def first_patients(p: dict, n: int) -> np.ndarray:
    """Row indices of the first ``n`` patients of the first replicate in ``p``."""
    rep = column(p, "replicate")
    if not rep.size:
        return np.array([], dtype=int)
    rep = np.where(np.isfinite(rep), rep, 0.0)
    idx = np.flatnonzero(rep == rep.min())
    pat = column(p, "patient")
    order = np.argsort(np.where(np.isfinite(pat[idx]), pat[idx], np.inf), kind="stable")
    return idx[order][:n]


def swimmer_figure(ctx: ReportContext):
    """One bar per patient to the OS time, with dose, CRS, response, progression, death and ongoing markers."""
    rows = {a: first_patients(ctx.patients(a), SWIMMER_PATIENTS) for a in ctx.arms}
    if not any(len(r) for r in rows.values()):
        return None
    sizes = [max(len(r), 4) for r in rows.values()]
    fig = new_figure(11, 1.9 + sum(0.15 * s + 0.7 for s in sizes))  # room for a legend of up to 3 rows
    gs = fig.add_gridspec(len(ctx.arms), 1, height_ratios=sizes)
    axes = [fig.add_subplot(gs[0])]
    axes += [fig.add_subplot(gs[i], sharex=axes[0]) for i in range(1, len(ctx.arms))]
    t_max = ctx.follow_up()
    notes, drawn = [], set()
    for ax, arm in zip(axes, ctx.arms, strict=True):
        p, idx = ctx.patients(arm), rows[arm]
        total = len(column(p, "os_days"))
        notes.append(f"{arm}: {len(idx)} of {total}")
        if not len(idx):
            arm_title(ax, arm, ctx.colours[arm])
            empty_panel(ax, "no evaluable patients")
            continue
        arm_title(ax, arm, ctx.colours[arm], f"({len(idx)} of {total} patients)")
        c = {k: column(p, k, kind)[idx] for k, kind in _SWIM_COLS.items()}
        drawn |= _swim_arm(ax, c, ctx.colours[arm], t_max, ctx.doses(arm))
    axes[-1].set_xlabel("Days on study (day 0: first infusion, or enrolment where the product is made first)")
    # A margin left of day 0, so day-0 dose ticks and CRS stars are not hidden by or cut at the axis edge.
    axes[0].set_xlim(-0.015 * t_max, t_max * 1.04)
    axes[0].set_xticks(day_ticks(t_max))
    handles = [Line2D([], [], **style) for key, style in _EVENT_MARKERS.items() if key in drawn] + _SWIM_LEGEND
    fit_legend(fig, handles)
    fig.suptitle("Swimmer plot: time on study per patient")
    caption = ("Each bar is one patient, from day 0 (first infusion; enrolment where an autologous product is "
               "manufactured first) to death or end of follow-up (overall survival time), "
               "longest first. Shown: the first patients of each arm in the first replicate trial "
               f"({'; '.join(notes)} evaluable patients). Progression is marked where it came before death.")
    return fig, caption + _event_caption(drawn)


def dose_family(source: str, reason: str) -> str:
    """Marker family of one dose: "regimen", or the policy's reason as "maintenance", "ctdna", "escalated", "policy"."""
    if source == "regimen":
        return "regimen"
    reason = reason.lower()
    if "escalat" in reason:
        return "escalated"
    if reason.startswith("maintenance"):
        return "maintenance"
    return "ctdna" if "ctdna" in reason else "policy"


_SWIM_COLS = {"os_days": float, "os_event": bool, "pfs_days": float, "pfs_event": bool,
              "time_to_response_days": float, "cr": bool, "replicate": float, "patient": float,
              "crs_grade": float, "crs_onset_days": float}
_MARKERS = {
    "cr": dict(marker="^", color=RESPONSE_COLOURS["CR"], ms=8, ls="none", label="Response onset (CR)"),
    "pr": dict(marker="^", color=RESPONSE_COLOURS["PR"], ms=8, ls="none", mec="#1a7837", label="Response onset (PR)"),
    "pd": dict(marker="D", color=RESPONSE_COLOURS["PD"], ms=6.5, ls="none", label="Progression"),
    "death": dict(marker="X", color="black", ms=8, ls="none", label="Death"),
    "alive": dict(marker=">", color="#555555", ms=7, ls="none", label="Alive at end of follow-up"),
}
_SWIM_LEGEND = [Line2D([], [], **m) for m in _MARKERS.values()]
_POLICY_DOT = dict(marker="o", ms=6.5, mec="white", mew=0.7, ls="none")
#: Dose markers (regimen: a tick; policy: a dot coloured by the reason) and the CRS marker, in legend order.
_EVENT_MARKERS = {
    "regimen": dict(marker="|", color="black", ms=11, mew=1.8, ls="none", label="Product dose (regimen)"),
    "maintenance": dict(_POLICY_DOT, color="#332288", label="Policy dose: maintenance"),
    "ctdna": dict(_POLICY_DOT, color="#CC79A7", label="Policy dose: ctDNA-triggered"),
    "escalated": dict(_POLICY_DOT, color="#882255", ms=8, label="Policy dose: ctDNA still positive, escalated"),
    "policy": dict(_POLICY_DOT, color="#888888", label="Policy dose: other reason"),
    "crs": dict(marker="*", color="#E69F00", mec="#8a5a00", mew=0.6, ms=11, ls="none",
                label="Grade ≥ 2 CRS onset (ASTCT 2019)"),
}
_FAMILY_WORDS = {"maintenance": "maintenance", "ctdna": "ctDNA-triggered", "escalated": "escalated while ctDNA "
                 "stayed positive", "policy": "other reasons"}


def _event_caption(drawn: set) -> str:
    text = ""
    if "regimen" in drawn:
        text += " Black ticks mark the product doses of the arm's regimen."
    families = [words for key, words in _FAMILY_WORDS.items() if key in drawn]
    if families:
        text += (" Dots mark doses given by the arm's adaptive policy, coloured by the reason: "
                 f"{', '.join(families)} (larger dots: escalated doses).")
    if "crs" in drawn:
        text += (" Orange stars mark the onset of CRS in patients whose CRS reached grade 2 or higher (ASTCT 2019"
                 " grade, whatever the scale of the rates).")
    return text


def _swim_arm(ax, c: dict, colour: str, t_max: float, doses: dict | None = None) -> set:
    """Draw one arm's bars and markers; returns the keys of :data:`_EVENT_MARKERS` drawn."""
    os_days = np.where(np.isfinite(c["os_days"]), c["os_days"], 0.0)
    order = np.argsort(-os_days, kind="stable")
    c = {k: v[order] for k, v in c.items()}
    os_days = os_days[order]
    y = np.arange(len(os_days))
    ax.barh(y, os_days, height=0.72, color=colour, alpha=0.55, lw=0)
    drawn = _draw_doses(ax, c, doses) if doses is not None else set()
    crs = (c["crs_grade"] >= 2) & np.isfinite(c["crs_onset_days"])
    if crs.any():
        ax.plot(c["crs_onset_days"][crs], y[crs], **_no_label(_EVENT_MARKERS["crs"]), zorder=4)
        drawn.add("crs")
    ttr = c["time_to_response_days"]
    for key, sel in (("cr", np.isfinite(ttr) & c["cr"]), ("pr", np.isfinite(ttr) & ~c["cr"])):
        ax.plot(ttr[sel], y[sel], **_no_label(_MARKERS[key]), zorder=5)
    # PFS events at the death day are deaths without earlier progression: marked as death only.
    prog = c["pfs_event"] & np.isfinite(c["pfs_days"]) & (~c["os_event"] | (c["pfs_days"] < os_days - 1e-9))
    ax.plot(c["pfs_days"][prog], y[prog], **_no_label(_MARKERS["pd"]), zorder=5)
    ax.plot(os_days[c["os_event"]], y[c["os_event"]], **_no_label(_MARKERS["death"]), zorder=5)
    alive = ~c["os_event"]
    ax.plot(os_days[alive] + 0.012 * t_max, y[alive], **_no_label(_MARKERS["alive"]), zorder=5)
    ax.set_ylim(len(y) - 0.4, -0.6)
    ax.set_yticks([])
    ax.spines["left"].set_visible(False)  # no y scale; a black spine at day 0 would hide the day-0 dose ticks
    ax.set_ylabel("Patients")
    ax.grid(axis="y", visible=False)
    return drawn


def _draw_doses(ax, c: dict, doses: dict) -> set:
    """Dose markers on the rows of the shown patients (``c`` in row order); returns the families drawn."""
    row_of = {(r, p): i for i, (r, p) in enumerate(zip(c["replicate"].tolist(), c["patient"].tolist(), strict=True))}
    mine = np.isin(doses["replicate"], c["replicate"]) & np.isfinite(doses["day"])  # cheap pre-filter
    rows = np.array([row_of.get(key, -1) for key in zip(doses["replicate"][mine].tolist(),
                                                          doses["patient"][mine].tolist(), strict=True)], dtype=int)
    shown = rows >= 0
    rows, day = rows[shown], doses["day"][mine][shown]
    family = np.array([dose_family(s, r) for s, r in zip(doses["source"][mine][shown].tolist(),
                                                         doses["reason"][mine][shown].tolist(), strict=True)],
                      dtype=str)
    drawn = set()
    for key in _EVENT_MARKERS:
        sel = family == key
        if sel.any():
            ax.plot(day[sel], rows[sel], **_no_label(_EVENT_MARKERS[key]), zorder=3)
            drawn.add(key)
    return drawn


def _no_label(style: dict) -> dict:
    return {k: v for k, v in style.items() if k != "label"}
