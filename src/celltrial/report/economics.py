"""The report's health-economics section (issue 21): QALYs and costs per arm under each payment model,
ICER and net monetary benefit against the reference arm, the cost-effectiveness plane and acceptability
curve across replicate trials, the budget view; and the forest plot of who benefits.

Everything is read from ``summary["economics"]`` (see :func:`celltrial.economics.economics_summary`);
a run whose scenario has no ``economics`` block gets a one-line note instead.

Example:
    >>> economics_html(ReportContext(run))[:40]                      # doctest: +SKIP
    '<p>Perspective: payer (health care sect'
"""

from __future__ import annotations

import numpy as np

from .data import ReportContext
from .fmt import esc
from .style import fit_legend, new_figure

_NONE = ('<p class="na">No health economics for this run: add an <code>economics:</code> block to the scenario '
         "(see docs/economics.md).</p>")


def _money(x, cur: str) -> str:
    return "n/a" if x is None else f"{x:,.0f} {esc(cur)}"


def _num(x, digits: int = 3) -> str:
    return "n/a" if x is None else f"{x:.{digits}g}"


def _table(head: list, rows: list) -> str:
    th = "".join(f"<th>{esc(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows)
    return f'<table class="data"><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>'


def economics_html(ctx: ReportContext) -> str:
    """The section body: settings, per-arm table, comparisons, budget impact."""
    e = ctx.summary.get("economics")
    if not e:
        return _NONE
    s, cur = e["settings"], ctx.currency
    u = s["utilities"]
    out = (f"<p>Perspective: {esc(s['perspective'])}. Discounting {100 * s['discount_rate']:.1f}% a year "
           f"({esc(s['discounting'])}) for costs and QALYs; horizon {s['horizon_days'] / 365.25:.1f} years; "
           f"extrapolation: {esc(s['extrapolation'])}. Utilities: progression-free {u['progression_free']:g}, "
           f"progressed {u['progressed']:g}; CRS and ICANS disutilities by grade (see docs/economics.md).</p>")
    models = s["payment_models"]
    rows = []
    for arm, a in e["arms"].items():
        rows.append([esc(arm), _num(a["qalys"]), _num(a["life_years"]), _num(a["doses_per_patient"]),
                     *(_money(a["payment_models"][m]["payer_cost_per_patient"], cur) for m in models)])
    out += "<h3>Per arm (means per patient)</h3>" + _table(
        ["arm", "QALYs", "life-years", "doses", *(f"payer cost: {m}" for m in models)], rows)
    out += _comparisons_html(e, cur) + _extrapolation_html(e) + _budget_html(e, cur)
    return out


def _comparisons_html(e: dict, cur: str) -> str:
    wtp = e["settings"]["willingness_to_pay"]
    rows = []
    for c in e["comparisons"]:
        for m, b in c["payment_models"].items():
            if not b:
                continue
            icer = esc(b["note"]) if b["icer"] is None else _money(b["icer"], cur) + (
                f" ({esc(b['note'])})" if b["note"] else "")
            rows.append([f"{esc(c['arms'][1])} vs {esc(c['arms'][0])}", esc(m), _num(b["incremental_qalys"]),
                         _money(b["incremental_cost"], cur), icer,
                         *(_money(b["incremental_nmb"].get(f"{w:g}"), cur) for w in wtp)])
    if not rows:
        return ""
    return "<h3>Against the reference arm</h3>" + _table(
        ["comparison", "payment model", "ΔQALY", "Δcost", "ICER per QALY", *(f"NMB at {w:,.0f}" for w in wtp)], rows)


def _extrapolation_html(e: dict) -> str:
    rows = []
    for arm, a in e["arms"].items():
        for end, fit in (a.get("extrapolation") or {}).items():
            aic = ", ".join(f"{k} {v:.1f}" for k, v in fit["aic"].items() if v is not None)
            rows.append([esc(arm), end.upper(), esc(fit["chosen"] or "none"), esc(aic or fit["note"] or "")])
    if not rows:
        return ""
    return ("<h3>Extrapolation beyond follow-up</h3><p>The fit with the lowest AIC is used; the tail is an "
            "extrapolation, not a simulated result.</p>" + _table(["arm", "endpoint", "chosen", "AIC"], rows))


def _budget_html(e: dict, cur: str) -> str:
    b = e["budget_impact"]
    models = e["settings"]["payment_models"]
    rows = [[esc(arm), _num(a["doses_per_year"], 4), _num(a["maintenance_patient_years_per_year"], 4),
             *(_money(a["product_spend_per_year"][m], cur) for m in models)] for arm, a in b["arms"].items()]
    return (f"<h3>Budget impact at {b['patients_per_year']:,} patients a year</h3>"
            + _table(["arm", "doses", "maintenance patient-years", *(f"product spend: {m}" for m in models)], rows))


def ce_figure(ctx: ReportContext):
    """Cost-effectiveness plane (replicate trials) and acceptability curve, per payment model."""
    e = ctx.summary.get("economics") or {}
    comps = [(c, m, b["replicates"]) for c in e.get("comparisons", []) for m, b in c["payment_models"].items()
             if b and b.get("replicates")]
    if not comps:
        return None
    fig = new_figure(12, 4.8)
    plane, curve = fig.subplots(1, 2)
    cmap = [f"C{i}" for i in range(10)]
    handles = []
    for i, (c, m, r) in enumerate(comps):
        colour = cmap[i % 10]
        label = f"{c['arms'][1]} vs {c['arms'][0]}, {m}"
        plane.scatter(r["incremental_qalys"], np.asarray(r["incremental_cost"]) / 1e3, s=12, color=colour, alpha=0.6)
        handles.append(curve.plot(np.asarray(r["wtp"]) / 1e3, r["acceptability"], color=colour, lw=2,
                                  label=label)[0])
    plane.axhline(0, color="#888888", lw=0.8)
    plane.axvline(0, color="#888888", lw=0.8)
    plane.set_xlabel("Incremental QALYs per patient")
    plane.set_ylabel(f"Incremental cost per patient (thousand {ctx.currency})")
    plane.set_title("Cost-effectiveness plane (one point per replicate trial)")
    curve.set_xlabel(f"Willingness to pay (thousand {ctx.currency} per QALY)")
    curve.set_ylabel("Share of replicate trials cost-effective")
    curve.set_ylim(-0.02, 1.02)
    curve.set_title("Acceptability curve")
    fit_legend(fig, handles)
    caption = ("Left: mean incremental cost and QALYs per patient of each replicate trial against the reference arm, "
               "per payment model. Right: the share of replicate trials whose incremental net monetary benefit is "
               "positive at each willingness to pay (uncertainty between trials of this size, not parameter "
               "uncertainty).")
    return fig, caption


def _short(label: str, width: int = 40) -> str:
    """A tick label: a model parameter's name first ("x_neg: antigen-negative share..."), cut to ``width``."""
    if label.endswith(")") and " (" in label:
        text, name = label[:-1].rsplit(" (", 1)
        label = f"{name}: {text}"
    return label if len(label) <= width else label[: width - 1] + "…"


def forest_figure(result: dict, comparison: int = 0):
    """Forest plot of a :func:`celltrial.economics.benefit.who_benefits` result: per covariate, the PFS
    hazard ratio per SD in each arm and the treatment x covariate interaction, with 95% intervals."""
    inter = result["interactions"][comparison] if result["interactions"] else None
    names = list(result["covariates"])
    series = [(arm, {n: (v[n]["pfs"] or {}) for n in names}) for arm, v in result["arms"].items()]
    if inter is not None:
        series.append((f"interaction: {inter['arms'][1]} vs {inter['arms'][0]}",
                       {n: inter["covariates"][n]["interaction"] for n in names}))
    fig = new_figure(9, 0.35 * len(names) * len(series) + 1.8)
    ax = fig.subplots()
    handles = []
    for k, (label, est) in enumerate(series):
        y = np.arange(len(names)) * (len(series) + 1) + k
        ok = [i for i, n in enumerate(names) if est[n].get("hr") is not None]
        hr = np.array([est[names[i]]["hr"] for i in ok])
        lo = np.array([est[names[i]]["low"] for i in ok])
        hi = np.array([est[names[i]]["high"] for i in ok])
        handles.append(ax.errorbar(hr, y[ok], xerr=[hr - lo, hi - hr], fmt="o", ms=4, capsize=2, color=f"C{k}",
                                   label=label))
    ax.axvline(1.0, color="#888888", lw=0.8)
    ax.set_xscale("log")
    ax.set_yticks(np.arange(len(names)) * (len(series) + 1) + (len(series) - 1) / 2)
    ax.set_yticklabels([_short(result["covariates"][n]["label"]) for n in names])
    ax.invert_yaxis()
    ax.set_xlabel("PFS hazard ratio per SD of the covariate (95% CI)")
    fit_legend(fig, handles)
    return fig
