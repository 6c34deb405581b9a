"""Kaplan-Meier curves of PFS and OS per arm, with CI bands and an aligned number-at-risk table.

The at-risk table is its own axes sharing the x axis of the curves, so its columns sit exactly
under the x ticks (lifelines' ``add_at_risk_counts`` needs pyplot state, which we avoid).

Example:
    >>> fig, caption = pfs_figure(ReportContext(run))  # doctest: +SKIP
"""

from __future__ import annotations

import warnings

import numpy as np

from .data import ReportContext, column
from .fmt import fmt_median, get
from .style import day_ticks, new_figure

#: Draw censoring ticks only for small arms; thousands of ticks just blacken the curve.
MAX_CENSOR_MARKS = 300


def fit_km(days: np.ndarray, events: np.ndarray):
    """(time, survival, low, high) step arrays starting at (0, 1); None when there is no data.

    Example:
        >>> t, s, lo, hi = fit_km(np.array([5.0, 10.0]), np.array([True, False]))
        >>> s.tolist()
        [1.0, 0.5, 0.5]
    """
    keep = np.isfinite(days) & (days >= 0)
    days, events = days[keep], events[keep]
    if not days.size:
        return None
    from lifelines import KaplanMeierFitter  # imported here: lifelines takes seconds to import

    kmf = KaplanMeierFitter()
    with warnings.catch_warnings():
        # lifelines/numpy warn on degenerate CIs (no events, all events at one time); the NaNs are handled below.
        warnings.simplefilter("ignore")
        kmf.fit(days, events.astype(bool))
        t = kmf.survival_function_.index.to_numpy(dtype=float)
        s = kmf.survival_function_.iloc[:, 0].to_numpy(dtype=float)
        ci = kmf.confidence_interval_.to_numpy(dtype=float)
    lo = np.where(np.isfinite(ci[:, 0]), ci[:, 0], s)
    hi = np.where(np.isfinite(ci[:, 1]), ci[:, 1], s)
    if t[0] > 0:
        t, s, lo, hi = (np.r_[0.0, t], np.r_[1.0, s], np.r_[1.0, lo], np.r_[1.0, hi])
    return t, s, lo, hi


def _arm_data(ctx: ReportContext, endpoint: str) -> dict:
    out = {}
    for arm in ctx.arms:
        p = ctx.patients(arm)
        if not p:
            continue
        d = column(p, f"{endpoint}_days")
        e = column(p, f"{endpoint}_event", bool)
        keep = np.isfinite(d) & (d >= 0)
        if keep.any():
            out[arm] = (d[keep], e[keep])
    return out


#: Per arm (by position): line style and marker, so arms differ without colour and overlapping arms show.
LINE_STYLES = ("-", "--", "-.", ":")
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
#: Vertical distance (survival fraction) between the drawn curves of arms whose curves coincide.
DODGE = 0.012


def coinciding(curves: dict) -> list:
    """Groups (lists of arm names, 2 or more) whose Kaplan-Meier curves are identical.

    Example:
        >>> a = (np.array([0.0, 5.0]), np.array([1.0, 0.5]))
        >>> coinciding({"x": a, "y": a, "z": (a[0], np.array([1.0, 0.4]))})
        [['x', 'y']]
    """
    groups: list = []
    for arm, (t, s) in curves.items():
        for g in groups:
            t0, s0 = curves[g[0]]
            if t.shape == t0.shape and np.allclose(t, t0) and np.allclose(s, s0, atol=1e-9):
                g.append(arm)
                break
        else:
            groups.append([arm])
    return [g for g in groups if len(g) > 1]


def _offsets(arms: list, groups: list) -> dict:
    """arm -> vertical offset: arms of a coinciding group are spread around the true curve."""
    out = dict.fromkeys(arms, 0.0)
    for g in groups:
        for i, arm in enumerate(g):
            out[arm] = (i - (len(g) - 1) / 2) * DODGE
    return out


def km_figure(ctx: ReportContext, endpoint: str, title: str, ylabel: str):
    """Kaplan-Meier curves (with 95% CI bands) of ``endpoint`` ("pfs" or "os") for every arm."""
    data = _arm_data(ctx, endpoint)
    if not data:
        return None
    n = len(data)
    fig = new_figure(10.5, 5.9 + 0.6 * n)
    # legend, curves, at-risk table: the legend gets its own row above the curves, never over them
    gs = fig.add_gridspec(3, 1, height_ratios=[0.26 * n + 0.05, 4.6, 0.34 * n + 0.45])
    key = fig.add_subplot(gs[0])
    ax = fig.add_subplot(gs[1])
    table = fig.add_subplot(gs[2], sharex=ax)
    t_max = ctx.follow_up()
    ticks = day_ticks(t_max)
    fits = {arm: fit_km(d, e) for arm, (d, e) in data.items()}
    groups = coinciding({arm: (f[0], f[1]) for arm, f in fits.items()})
    offsets = _offsets(list(data), groups)
    for arm, (d, e) in data.items():  # style by the arm's place in the run, so it is the same in every figure
        _draw_arm(ax, ctx, endpoint, arm, d, e, fits[arm], ctx.arms.index(arm), offsets[arm], ticks)
    ax.set_xlim(0, t_max * 1.02)  # room for censoring ticks at the end of follow-up
    ax.set_xticks(ticks)
    ax.set_ylim(-0.02, 1.04)
    ax.set_yticks(np.linspace(0, 1, 6))
    ax.set_yticklabels([f"{int(v * 100)}%" for v in np.linspace(0, 1, 6)])
    ax.set_ylabel(ylabel)
    ax.set_xlabel("Days after first infusion")
    fig.suptitle(title)
    key.set_axis_off()
    key.legend(handles=ax.get_legend_handles_labels()[0], loc="center", frameon=False, borderaxespad=0)
    _at_risk_table(table, data, ticks, ctx.colours)
    return fig, _caption(groups)


def _draw_arm(ax, ctx, endpoint, arm, d, e, fit, i, offset, ticks) -> None:
    """One arm's curve (shifted by ``offset``), CI band, censoring ticks and a marker at each x tick."""
    c = ctx.colours[arm]
    t, s, lo, hi = fit
    style = {"color": c, "marker": MARKERS[i % len(MARKERS)], "ls": LINE_STYLES[i % len(LINE_STYLES)]}
    median = fmt_median(get(ctx.summary, "arms", arm, f"median_{endpoint}_days"))
    at_ticks = s[np.clip(np.searchsorted(t, ticks, side="right") - 1, 0, len(s) - 1)] + offset
    ax.step(t, s + offset, where="post", color=c, ls=style["ls"], lw=2.2)
    ax.plot(ticks, at_ticks, ls="none", marker=style["marker"], color=c, ms=6.5, mec="white", mew=0.8)
    ax.plot([], [], lw=2.2, ms=6.5, mec="white", mew=0.8, **style, label=f"{arm}: n = {len(d)}, median {median}")
    ax.fill_between(t, lo, hi, step="post", color=c, alpha=0.15, lw=0)
    if len(d) <= MAX_CENSOR_MARKS and (~e).any():
        idx = np.searchsorted(t, d[~e], side="right") - 1
        ax.plot(d[~e], s[np.clip(idx, 0, len(s) - 1)] + offset, "|", color=c, ms=8, mew=1.2)


def _caption(groups: list) -> str:
    text = ("Kaplan–Meier estimate per arm with 95% confidence band (shaded); each arm has its own line style and "
            "marker (markers at the x-axis ticks); tick marks are censored patients "
            f"(shown for arms of up to {MAX_CENSOR_MARKS} patients). "
            "Only evaluable patients (those the model could simulate). The table gives the number of patients "
            "still at risk at each x-axis tick.")
    for g in groups:
        names = ", ".join(g[:-1]) + f" and {g[-1]}"
        text += (f" Arms {names} coincide (identical curves); they are drawn {100 * DODGE:g} percentage points "
                 "apart so each stays visible.")
    return text


def _at_risk_table(table, data: dict, ticks: np.ndarray, colours: dict) -> None:
    """Number at risk (time >= tick) per arm, one row per arm, one column per x tick."""
    arms = list(data)
    for i, arm in enumerate(arms):
        d = data[arm][0]
        for t in ticks:
            table.text(t, i, f"{int(np.sum(d >= t))}", ha="center", va="center", color=colours[arm], fontsize=10)
    table.set_ylim(len(arms) - 0.5, -0.5)
    table.set_yticks(range(len(arms)))
    table.set_yticklabels(arms)
    for label, arm in zip(table.get_yticklabels(), arms, strict=True):
        label.set_color(colours[arm])
        label.set_fontweight("bold")
    table.tick_params(axis="x", labelbottom=False, length=0)
    # Day-0 counts are centred on the y axis: pad the arm names by half the widest count (~6.4 pt a digit).
    digits = max(len(str(len(data[arm][0]))) for arm in arms)
    table.tick_params(axis="y", length=0, pad=8 + 3.4 * digits)
    table.grid(False)
    for spine in table.spines.values():
        spine.set_visible(False)
    table.set_title("Number at risk", loc="left", fontsize=10.5, fontweight="normal")


def pfs_figure(ctx: ReportContext):
    """Progression-free survival."""
    return km_figure(ctx, "pfs", "Progression-free survival", "Progression-free (%)")


def os_figure(ctx: ReportContext):
    """Overall survival."""
    return km_figure(ctx, "os", "Overall survival", "Alive (%)")
