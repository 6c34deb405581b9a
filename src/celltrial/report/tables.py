"""HTML tables of the report: arms, status counts, per-arm summary, comparisons, replicates.

Every value from the run passes through :func:`~celltrial.report.fmt.esc` (scenario files are
user input; a title must not be able to inject markup).

Example:
    >>> table(["a", "b"], [["1", "2"]])
    '<table><thead><tr><th>a</th><th>b</th></tr></thead><tbody><tr><td>1</td><td>2</td></tr></tbody></table>'
"""

from __future__ import annotations

import numpy as np

from ..biology.grading_scales import CRS_SCALES, DEFAULT_CRS
from .data import ReportContext, column
from .fmt import (
    NA,
    esc,
    fmt_days,
    fmt_hr,
    fmt_landmark,
    fmt_median,
    fmt_money,
    fmt_p,
    fmt_rate,
    fmt_ref,
    fmt_sig,
    fmt_value,
    get,
    landmark_label,
    plural,
)
from .labels import criterion_text, grading_labels, pretty_numbers, regimen_text, rule_rows, status_label


def table(headers: list, rows: list, cls: str = "") -> str:
    """An HTML table; ``headers`` and cells must already be escaped HTML."""
    head = "".join(f"<th>{h}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    attr = f' class="{cls}"' if cls else ""
    return f"<table{attr}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def arm_label(ctx: ReportContext, arm: str) -> str:
    """Arm name with a colour swatch matching the figures."""
    return f'<span class="arm"><span class="swatch" style="background:{ctx.colours[arm]}"></span>{esc(arm)}</span>'


def arms_table(ctx: ReportContext) -> str:
    rows = [[arm_label(ctx, a.get("name", "")), esc(a.get("product", "")), esc(pretty_numbers(a.get("dose", ""))),
             esc(regimen_text(a.get("regimen", ""))), esc(a.get("description", ""))] for a in ctx.run.arms]
    return table(["Arm", "Product", "Dose", "Regimen", "Description"], rows)


def status_counts(ctx: ReportContext) -> dict:
    """arm -> {status: count}, counted from the patients table."""
    patients = ctx.run.patients or {}
    arm_col = np.asarray(patients.get("arm", []))
    status = np.asarray(patients.get("status", np.full(len(arm_col), "OK")))
    out = {}
    for arm in ctx.arms:
        values, counts = np.unique(status[arm_col == arm], return_counts=True)
        out[arm] = {str(v): int(c) for v, c in zip(values, counts, strict=True)}
    return out


def status_html(ctx: ReportContext) -> str:
    """Status counts per arm, and a warning box when any patient's solve failed."""
    counts = status_counts(ctx)
    statuses = sorted({s for c in counts.values() for s in c}, key=lambda s: (s != "OK", s)) or ["OK"]
    rows = [[arm_label(ctx, a)] + [str(counts[a].get(s, 0)) for s in statuses] + [str(sum(counts[a].values()))]
            for a in ctx.arms]
    html = table(["Arm"] + [esc(status_label(s)) for s in statuses] + ["Enrolled"], rows, "compact")
    failed = {s: sum(c.get(s, 0) for c in counts.values()) for s in statuses if s != "OK"}
    n_failed, n_all = sum(failed.values()), sum(sum(c.values()) for c in counts.values())
    if n_failed:
        detail = ", ".join(f"{esc(status_label(s).lower())}: {n}" for s, n in failed.items() if n)
        html = (f'<div class="warning"><strong>Warning:</strong> {n_failed} of {n_all} virtual patients could not be '
                f"simulated ({detail}). They are left out of all figures, curves and rates computed here; results "
                "may be biased if failures are related to the outcome.</div>") + html
    if str(ctx.meta.get("status", "finished")) not in ("finished", ""):
        html = (f'<div class="warning"><strong>Warning:</strong> this run is {esc(ctx.meta.get("status"))}; '
                "the results are incomplete.</div>") + html
    return html


def _median_or_days(v) -> str:
    return fmt_median(v) if isinstance(v, dict) else fmt_days(v)


def _landmark_days(ctx: ReportContext, endpoint: str) -> list:
    days = set()
    for arm in ctx.arms:
        lm = get(ctx.summary, "arms", arm, "landmarks", endpoint)
        if isinstance(lm, dict):
            days.update(str(k) for k in lm)
    return sorted(days, key=lambda k: float(k) if fmt_sig(k) != NA else 0.0)


def _n_text(ctx: ReportContext, arm: str) -> str:
    s = get(ctx.summary, "arms", arm, default={})
    n = get(s, "n")
    if n is None:
        return str(len(column(ctx.patients(arm), "os_days")))
    ok = get(s, "status", "OK")
    return f"{n}" + (f" ({ok} simulated and evaluable)" if ok is not None and ok != n else "")


def _cost_per_responder(ctx: ReportContext, arm: str) -> str:
    v = get(ctx.summary, "arms", arm, "cost_per_responder")
    if v is None and get(ctx.summary, "arms", arm, "orr_rate", "events") == 0:
        return "n/a (no responders)"
    return fmt_money(v, ctx.currency)


def _finite(ctx: ReportContext, arm: str, name: str) -> np.ndarray:
    v = column(ctx.patients(arm), name)
    return v[np.isfinite(v)]


def _mean_text(ctx: ReportContext, arm: str, name: str) -> str:
    v = _finite(ctx, arm, name)
    return fmt_sig(v.mean()) if v.size else NA


def _lead_time_text(ctx: ReportContext, arm: str) -> str:
    v = _finite(ctx, arm, "ctdna_lead_time_days")
    return f"{fmt_sig(np.median(v))} (n = {v.size})" if v.size else NA


def _dosing_rows(ctx: ReportContext) -> list:
    """Doses per patient, and the ctDNA lead time, from the patients table (rows only where the run has them)."""
    rows = []
    if any(_finite(ctx, arm, "doses").size for arm in ctx.arms):
        rows.append(("Product doses per patient (mean)", lambda arm: _mean_text(ctx, arm, "doses")))
    if any((_finite(ctx, arm, "policy_doses") > 0).any() for arm in ctx.arms):
        rows.append(("Policy doses per patient (mean)", lambda arm: _mean_text(ctx, arm, "policy_doses")))
    if any(_finite(ctx, arm, "ctdna_lead_time_days").size for arm in ctx.arms):
        rows.append(("Median ctDNA lead time over imaging (days)", lambda arm: _lead_time_text(ctx, arm)))
    return rows


def _toxicity_rows(ctx: ReportContext, a) -> list:
    """CRS and neurotoxicity rows, each naming its grading scale; CRS grade ≥ 3 also on the other
    scale the model distinguishes (ASTCT 2019 under Penn, Penn under the others) when the run has it."""
    crs, neuro = (esc(x) for x in grading_labels(ctx.summary, ctx.meta))
    rows = [(f"CRS any grade ({crs}), % (95% CI) · n/N", lambda arm: fmt_rate(a(arm, "crs_any_rate"))),
            (f"CRS grade ≥ 3 ({crs}), % (95% CI) · n/N", lambda arm: fmt_rate(a(arm, "crs_grade3plus_rate")))]
    chosen = CRS_SCALES.get(get(ctx.summary, "grading", "crs", default=DEFAULT_CRS))
    for name in ("astct2019", "penn"):
        if (chosen is None or name != chosen.reads_as) and any(a(arm, "crs_by_scale", name) for arm in ctx.arms):
            rows.append((f"CRS grade ≥ 3 ({esc(CRS_SCALES[name].label)}), % (95% CI) · n/N",
                         lambda arm, k=name: fmt_rate(a(arm, "crs_by_scale", k, "grade3plus_rate"))))
    return rows + [
        (f"Neurotoxicity any grade ({neuro}), % (95% CI) · n/N", lambda arm: fmt_rate(a(arm, "icans_any_rate"))),
        (f"Neurotoxicity grade ≥ 3 ({neuro}), % (95% CI) · n/N",
         lambda arm: fmt_rate(a(arm, "icans_grade3plus_rate")))]


def summary_rows(ctx: ReportContext) -> list:
    """(label, {arm: formatted value}) rows of the per-arm summary table."""
    def a(arm, *keys):
        return get(ctx.summary, "arms", arm, *keys)

    rows = [
        ("Patients (n)", lambda arm: _n_text(ctx, arm)),
        ("Complete response (CR), % (95% CI) · n/N", lambda arm: fmt_rate(a(arm, "cr_rate"))),
        ("Objective response (CR or PR), % (95% CI) · n/N", lambda arm: fmt_rate(a(arm, "orr_rate"))),
        ("Median progression-free survival (95% CI)", lambda arm: fmt_median(a(arm, "median_pfs_days"))),
        ("Median overall survival (95% CI)", lambda arm: fmt_median(a(arm, "median_os_days"))),
    ]
    if any(a(arm, "as_treated") for arm in ctx.arms):  # arms with logistics: the rows above are intention to treat
        rows += [
            ("As treated: infused / enrolled (intention to treat above)",
             lambda arm: "–" if not a(arm, "as_treated") else f"{a(arm, 'as_treated', 'n_infused')} / {a(arm, 'n')}"),
            ("As treated: complete response, % (95% CI) · n/N",
             lambda arm: fmt_rate(a(arm, "as_treated", "cr_rate"))),
            ("As treated: objective response, % (95% CI) · n/N",
             lambda arm: fmt_rate(a(arm, "as_treated", "orr_rate"))),
            ("As treated: median progression-free survival (95% CI)",
             lambda arm: fmt_median(a(arm, "as_treated", "median_pfs_days"))),
            ("As treated: median overall survival (95% CI)",
             lambda arm: fmt_median(a(arm, "as_treated", "median_os_days"))),
        ]
    for endpoint, name in (("pfs", "Progression-free survival"), ("os", "Overall survival")):
        for day in _landmark_days(ctx, endpoint):
            rows.append((f"{name} at {esc(landmark_label(day))}, % (95% CI)",
                         lambda arm, e=endpoint, d=day: fmt_landmark(a(arm, "landmarks", e, d))))
    rows += [
        ("Median time to response", lambda arm: _median_or_days(a(arm, "median_time_to_response_days"))),
        ("Median duration of response (95% CI)",
         lambda arm: _median_or_days(a(arm, "median_duration_of_response_days"))),
        *_toxicity_rows(ctx, a),
        ("Median peak product cells in blood, C<sub>max</sub> (cells/µL)",
         lambda arm: fmt_sig(a(arm, "cmax_cells_uL_median"))),
        ("Median time of peak, T<sub>max</sub>", lambda arm: fmt_days(a(arm, "tmax_days_median"))),
        ("Median AUC days 0–28 (cells/µL × day)", lambda arm: fmt_sig(a(arm, "auc0_28_median"))),
        ("Median ctDNA at day 28 (hGE/mL)", lambda arm: fmt_sig(a(arm, "ctdna_d28_median"))),
        *_dosing_rows(ctx),
        (f"Cost per patient ({esc(ctx.currency)})", lambda arm: fmt_money(a(arm, "cost_per_patient"), ctx.currency)),
        (f"Cost per responder ({esc(ctx.currency)})", lambda arm: _cost_per_responder(ctx, arm)),
    ]
    return [(label, {arm: f(arm) for arm in ctx.arms}) for label, f in rows]


def summary_table(ctx: ReportContext) -> str:
    """Metrics as rows, arms as columns (easy to compare arms side by side)."""
    rows = [[label] + [esc(values[arm]) for arm in ctx.arms] for label, values in summary_rows(ctx)]
    return table(["Endpoint"] + [arm_label(ctx, a) for a in ctx.arms], rows, "summary")


def comparisons_table(ctx: ReportContext) -> str:
    comps = ctx.summary.get("comparisons") or []
    rows, notes = [], []
    for c in comps:
        if not isinstance(c, dict):
            continue
        arms = list(c.get("arms") or ["?", "?"]) + ["?", "?"]
        ref, other = arms[0], arms[1]
        row = [f"{esc(other)} vs {esc(ref)} (reference)"]
        for endpoint in ("pfs", "os"):
            for test, fmt in (("hazard_ratio", fmt_hr), ("logrank", lambda t: fmt_p(get(t, "p")))):
                result = get(c, endpoint, test)
                cell = esc(fmt(result))
                if get(result, "note"):  # e.g. "no events in one arm": the estimate is not interpretable
                    notes.append(f"{esc(other)} vs {esc(ref)}, {endpoint.upper()}: {esc(get(result, 'note'))}")
                    cell += f"<sup>{len(notes)}</sup>"
                row.append(cell)
        rows.append(row)
    if not rows:
        return '<p class="na">Only one arm (or no comparison computed): no between-arm comparisons.</p>'
    headers = ["Comparison", "PFS hazard ratio (95% CI)", "PFS log-rank p", "OS hazard ratio (95% CI)",
               "OS log-rank p"]
    note = ('<p class="note">Hazard ratio of the compared arm relative to the reference arm: below 1 means fewer '
            "progressions or deaths over time in the compared arm.</p>")
    if notes:
        note += '<ol class="note">' + "".join(f"<li>{n}</li>" for n in notes) + "</ol>"
    return table(headers, rows) + note


def _count_summary(c) -> str:
    mean, sd = get(c, "mean"), get(c, "sd")
    if fmt_sig(mean) == NA:
        return NA
    q = get(c, "quantiles", default={})
    lo, hi = get(q, "5"), get(q, "95")
    text = f"{fmt_sig(mean)} (SD {fmt_sig(sd)})"
    return text + (f"; 5th–95th percentile {fmt_sig(lo)}–{fmt_sig(hi)}" if fmt_sig(lo) != NA else "")


def replicates_html(ctx: ReportContext) -> str:
    """Replicate-trial counts per arm and the probability of success, or a note when there are none."""
    rep = ctx.summary.get("replicates")
    if not isinstance(rep, dict):
        return ('<p class="na">This run is a single trial (no replicate trials), so the chance variation of the '
                "trial result is not estimated.</p>")
    rows = [[arm_label(ctx, arm)] + [esc(_count_summary(get(rep, "arms", arm, k)))
                                     for k in ("cr_count", "responder_count", "crs_grade3plus_count")]
            for arm in ctx.arms]
    out = f"<p>{esc(plural(get(rep, 'n'), 'replicate trial'))}, each with new virtual patients.</p>"
    crs = esc(grading_labels(ctx.summary, ctx.meta)[0])
    out += table(["Arm", "Complete responders per trial", "Responders per trial", f"CRS grade ≥ 3 ({crs}) per trial"],
                 rows)
    success = get(rep, "success")
    if isinstance(success, dict):
        crit = "".join(f"<li>{esc(criterion_text(c))}</li>" for c in (success.get("criteria") or []))
        prob = success.get("probability")
        out += (f'<div class="keybox"><strong>Probability of success: {esc(fmt_landmark(prob))}</strong> '
                f"(share of replicate trials meeting all criteria, 95% CI)<ul>{crit}</ul></div>")
    return out


def meta_rows(ctx: ReportContext, keys: list) -> str:
    """A two-column table of meta values (escaped)."""
    rows = [[esc(label), esc(fmt_value(ctx.meta.get(k)) if ctx.meta.get(k) not in (None, "") else NA)]
            for k, label in keys]
    return table(["Item", "Value"], rows, "compact")


def rules_table(ctx: ReportContext) -> str:
    """The endpoint rules in words, with units (not the scenario's field names)."""
    if not ctx.rules:
        return '<p class="na">No endpoint rules recorded.</p>'
    return table(["Rule", "Value"], [[esc(label), esc(value)] for label, value in rule_rows(ctx.rules)], "compact")


def parameter_changes_table(ctx: ReportContext) -> str:
    changes = [c for c in (ctx.meta.get("parameter_changes") or []) if isinstance(c, dict)]
    if not changes:
        return '<p class="na">No parameter differs from the presets.</p>'
    rows = [[esc(fmt_value(c.get("arm"))), f"<code>{esc(fmt_value(c.get('parameter')))}</code>",
             *(esc(_number(c.get(k))) for k in ("preset_value", "value")), esc(fmt_value(c.get("reason")))]
            for c in changes]
    note = '<p class="note">Parameters are named as in the model and its presets.</p>'
    return table(["Arm", "Parameter", "Preset value", "Value used", "Reason"], rows) + note


def _number(v) -> str:
    return fmt_ref(v) if isinstance(v, int | float) and not isinstance(v, bool) else fmt_value(v)
