"""Arm-level figures: CRS grade distribution, cost, and replicate-trial CR-count distribution.

Example:
    >>> fig, caption = crs_figure(ReportContext(run))  # doctest: +SKIP
"""

from __future__ import annotations

import numpy as np
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter

from .data import ReportContext, column
from .fmt import fmt_pct, get, num, plural
from .labels import grading_labels
from .style import new_figure

GRADES = (0, 1, 2, 3, 4)
COST_PARTS = {"cost_product": "Product", "cost_manufacturing": "Manufacturing and lymphodepletion",
              "cost_hospital": "Hospital stay", "cost_monitoring": "Monitoring (imaging, ctDNA)"}
# Greys for cost components so they are never mistaken for an arm colour.
COST_COLOURS = ("#2f2f2f", "#6e6e6e", "#a6a6a6", "#d4d4d4")


#: Toxicity -> (grade column, summary counts key, figure title, grade-0 label, caption's grading note);
#: the title and the note get the run's grading scale (the column is the default scale's, for runs
#: whose summary lacks the counts).
TOXICITIES = {
    "crs": ("crs_grade", "crs_grade_counts", "Maximum cytokine release syndrome (CRS) grade", "no CRS",
            "graded from the model's IL-6 signal"),
    "icans": ("icans_grade", "icans_grade_counts", "Maximum neurotoxicity grade", "no neurotoxicity",
              "the model's one neurotoxicity grade, from its neuro-inflammation index (which lags serum IL-6), "
              "fitted to trials graded by CTCAE and read as both ICANS and CTCAE"),
}


_WORDS = {"crs": "CRS", "icans": "neurotoxicity"}


def grade_counts(ctx: ReportContext, arm: str, kind: str = "crs") -> np.ndarray | None:
    """Patients per grade 0-4 of ``kind`` (summary counts if given, else counted from the patients table)."""
    column_name, counts_key = TOXICITIES[kind][:2]
    counts = get(ctx.summary, "arms", arm, counts_key)
    if isinstance(counts, dict) and counts:
        return np.array([num(counts.get(str(g), counts.get(g, 0))) or 0.0 for g in GRADES])
    grade = column(ctx.patients(arm), column_name)
    grade = grade[np.isfinite(grade)]
    return np.array([np.sum(grade == g) for g in GRADES], dtype=float) if grade.size else None


def crs_counts(ctx: ReportContext, arm: str) -> np.ndarray | None:
    """Patients per CRS grade 0-4."""
    return grade_counts(ctx, arm, "crs")


def grade_figure(ctx: ReportContext, kind: str = "crs"):
    """Grouped bars: % of patients at each maximum grade of ``kind`` (crs or icans), per arm."""
    _, _, title, none_label, grading = TOXICITIES[kind]
    scale = grading_labels(ctx.summary, ctx.meta)[0 if kind == "crs" else 1]
    title, grading = f"{title}, {scale}", f"{scale}: {grading}"
    data = {a: c for a in ctx.arms if (c := grade_counts(ctx, a, kind)) is not None and c.sum() > 0}
    if not data:
        return None
    fig = new_figure(10, 4.8)
    ax = fig.add_subplot()
    width = 0.8 / len(data)
    for i, (arm, c) in enumerate(data.items()):
        x = np.arange(len(GRADES)) + (i - (len(data) - 1) / 2) * width
        pct = 100 * c / c.sum()
        bars = ax.bar(x, pct, width=width * 0.95, color=ctx.colours[arm], label=f"{arm} (n={int(c.sum())})")
        if len(data) <= 4:
            ax.bar_label(bars, labels=[f"{v:.0f}%" for v in pct], fontsize=9, padding=2)
    ax.set_xticks(np.arange(len(GRADES)))
    ax.set_xticklabels([f"Grade 0\n({none_label})", "Grade 1", "Grade 2", "Grade 3", "Grade 4"])
    ax.set_ylabel("Patients (%)")
    ax.set_ylim(0, 112)
    ax.grid(axis="x", visible=False)
    ax.legend(loc="upper right", frameon=False)
    ax.set_title(title)
    caption = (f"Share of evaluable patients of each arm by their maximum {_WORDS[kind]} grade during follow-up "
               f"({grading}).")
    return fig, caption


def crs_figure(ctx: ReportContext):
    """Grouped bars: % of patients at each maximum CRS grade, per arm."""
    return grade_figure(ctx, "crs")


def icans_figure(ctx: ReportContext):
    """Grouped bars: % of patients at each maximum ICANS grade, per arm."""
    return grade_figure(ctx, "icans")


def _cost_components(ctx: ReportContext, arm: str) -> np.ndarray | None:
    p = ctx.patients(arm)
    means = [column(p, k) for k in COST_PARTS]
    if not means or not means[0].size:
        return None
    return np.array([float(np.nanmean(v)) if np.isfinite(v).any() else 0.0 for v in means])


def _per_patient_and_responder(ctx: ReportContext, arm: str) -> tuple:
    s = get(ctx.summary, "arms", arm, default={})
    per_patient, per_responder = num(get(s, "cost_per_patient")), num(get(s, "cost_per_responder"))
    p = ctx.patients(arm)
    total = column(p, "cost_total")
    if per_patient is None and np.isfinite(total).any():
        per_patient = float(np.nanmean(total))
    responders = int(column(p, "responder", bool).sum())
    if per_responder is None and responders and np.isfinite(total).any():
        per_responder = float(np.nansum(total)) / responders
    return per_patient, per_responder


def cost_figure(ctx: ReportContext):
    """Mean cost per patient by component (stacked), and cost per patient vs per responder."""
    comps = {a: c for a in ctx.arms if (c := _cost_components(ctx, a)) is not None}
    if not comps:
        return None
    money = FuncFormatter(lambda v, _: f"{v / 1e3:,.0f}k")
    fig = new_figure(12, 5.0)
    ax1, ax2 = fig.subplots(1, 2, width_ratios=[1, 1.15])
    x = np.arange(len(comps))
    bottom = np.zeros(len(comps))
    for j, label in enumerate(COST_PARTS.values()):
        vals = np.array([c[j] for c in comps.values()])
        ax1.bar(x, vals, bottom=bottom, color=COST_COLOURS[j], width=0.6, label=label)
        bottom += vals
    for xi, total in zip(x, bottom, strict=True):
        ax1.text(xi, total, f"{total / 1e3:,.0f}k", ha="center", va="bottom", fontsize=10)
    _arm_ticks(ax1, list(comps), ctx.colours)
    ax1.set_ylim(0, bottom.max() * 1.15 if bottom.max() > 0 else 1)
    ax1.set_ylabel(f"Mean cost per patient ({ctx.currency})")
    ax1.yaxis.set_major_formatter(money)
    ax1.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncols=2, frameon=False, fontsize=10)
    ax1.set_title("Cost per patient by component")
    _responder_bars(ax2, ctx, list(comps), money)
    caption = (f"Left: mean cost per evaluable patient, split into its components ({ctx.currency}, thousands). "
               "Right: cost per patient treated and cost per responder (total cost of the arm divided by the "
               "number of patients with CR or PR); n/a when an arm has no responders.")
    return fig, caption


def _arm_ticks(ax, arms: list, colours: dict) -> None:
    ax.set_xticks(np.arange(len(arms)))
    ax.set_xticklabels(arms)
    for label, arm in zip(ax.get_xticklabels(), arms, strict=True):
        label.set_color(colours[arm])
        label.set_fontweight("bold")
    ax.grid(axis="x", visible=False)


def _responder_bars(ax, ctx: ReportContext, arms: list, money) -> None:
    values = [_per_patient_and_responder(ctx, a) for a in arms]
    top = max([v for pair in values for v in pair if v is not None] + [1.0])
    for i, (arm, (pp, pr)) in enumerate(zip(arms, values, strict=True)):
        c = ctx.colours[arm]
        for dx, v, hatch in ((-0.2, pp, None), (0.2, pr, "///")):
            if v is None:
                ax.text(i + dx, top * 0.02, "n/a", ha="center", va="bottom", fontsize=10, color="#555555")
                continue
            ax.bar(i + dx, v, width=0.38, color=c, alpha=0.85 if hatch is None else 0.45, hatch=hatch,
                   edgecolor="white" if hatch is None else c)
            ax.text(i + dx, v, f"{v / 1e3:,.0f}k", ha="center", va="bottom", fontsize=10)
    _arm_ticks(ax, arms, ctx.colours)
    ax.set_ylim(0, top * 1.15)
    ax.set_ylabel(f"Cost ({ctx.currency})")
    ax.yaxis.set_major_formatter(money)
    ax.legend(handles=[Patch(facecolor="#888888", label="per patient treated"),
                       Patch(facecolor="#cccccc", edgecolor="#888888", hatch="///", label="per responder (CR or PR)")],
              loc="upper center", bbox_to_anchor=(0.5, -0.12), ncols=2, frameon=False, fontsize=10)
    ax.set_title("Cost per patient and per responder")


def replicates_figure(ctx: ReportContext):
    """Distribution over replicate trials of the number of complete responders per arm."""
    rep = get(ctx.summary, "replicates")
    if not isinstance(rep, dict):
        return None
    dists = {}
    for arm in ctx.arms:
        dist = get(rep, "arms", arm, "cr_count", "distribution")
        if isinstance(dist, dict) and dist:
            pairs = sorted((int(float(k)), num(v) or 0.0) for k, v in dist.items() if num(k) is not None)
            if pairs:
                dists[arm] = pairs
    if not dists:
        return None
    fig = new_figure(10, 4.8)
    ax = fig.add_subplot()
    width = 0.8 / len(dists)
    for i, (arm, pairs) in enumerate(dists.items()):
        k, f = np.array(pairs, dtype=float).T
        cr = get(rep, "arms", arm, "cr_count", default={})
        mean, sd = num(get(cr, "mean")), num(get(cr, "sd"))
        extra = f" (mean {mean:.1f}, SD {sd:.1f})" if mean is not None and sd is not None else ""
        ax.bar(k + (i - (len(dists) - 1) / 2) * width, 100 * f, width=width * 0.95, color=ctx.colours[arm],
               label=arm + extra)
    ax.set_xlabel("Complete responders per trial (patients)")
    ax.set_ylabel("Replicate trials (%)")
    ax.grid(axis="x", visible=False)
    ax.legend(frameon=False)
    n = get(rep, "n")
    trials = plural(n, "replicate trial") if num(n) else "the replicate trials"
    ax.set_title(f"Complete responders per trial across {trials}")
    prob = get(rep, "success", "probability")
    caption = ("Each replicate is a full virtual trial with new patients; the bars show how often each number of "
               "complete responders occurred, i.e. how much the trial result varies by chance.")
    if num(get(prob, "estimate")) is not None:
        caption += f" Probability of success: {fmt_pct(get(prob, 'estimate'))}."
    return fig, caption
