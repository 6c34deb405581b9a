"""Terminal presentation of runs (rich tables): summary per arm, run list, comparison, one patient.

Example:
    >>> fmt_rate({"estimate": 0.5, "low": 0.3, "high": 0.7})
    '50.0% (30.0-70.0)'
    >>> summary = {"arms": {"a": {"median_pfs_days": {"estimate": None, "low": 215.0, "high": None}}}}
    >>> summary_rows(RunData("r", {}, [{"name": "a"}], {}, summary))[3]
    ('median PFS', ['not reached (95% CI 215 d – not reached)'])
"""

from __future__ import annotations

import numpy as np
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ..report.fmt import fmt_median, landmark_label, plural  # one wording for the terminal and the report
from ..report.labels import grading_labels
from ..trials.rundata import RunData


def _console() -> Console:
    return Console()


def fmt_rate(r) -> str:
    if not r or r.get("estimate") is None:
        return "n/a"
    ci = f" ({100 * r['low']:.1f}-{100 * r['high']:.1f})" if r.get("low") is not None else ""
    return f"{100 * r['estimate']:.1f}%{ci}"


def fmt_number(x, digits=3) -> str:
    return "n/a" if x is None or (isinstance(x, float) and not np.isfinite(x)) else f"{x:,.{digits}g}"


def fmt_money(x, currency="USD") -> str:
    return "n/a" if x is None else f"{x:,.0f} {currency}"


def summary_rows(run: RunData) -> list:
    """(label, [cell per arm]) rows of the per-arm summary table."""
    arms = run.summary.get("arms", {})
    names = run.arm_names()
    cur = run.meta.get("endpoint_rules", {}).get("currency", "USD")

    def row(label, fn):
        return label, [fn(arms.get(a, {})) for a in names]

    rows = [
        # "OK" is the solver's status; a patient whose solve failed is excluded from every statistic
        row("patients simulated / enrolled", lambda s: f"{s.get('status', {}).get('OK', 0)} / {s.get('n', 0)}"),
        row("CR rate (95% CI)", lambda s: fmt_rate(s.get("cr_rate"))),
        row("ORR (95% CI)", lambda s: fmt_rate(s.get("orr_rate"))),
        row("median PFS", lambda s: fmt_median(s.get("median_pfs_days"))),
        row("median OS", lambda s: fmt_median(s.get("median_os_days"))),
    ]
    for day in run.meta.get("endpoint_rules", {}).get("landmarks_days", []):
        key, when = f"{day:g}", landmark_label(day)
        rows.append(row(f"PFS at {when}", lambda s, k=key: fmt_rate(s.get("landmarks", {}).get("pfs", {}).get(k))))
        rows.append(row(f"OS at {when}", lambda s, k=key: fmt_rate(s.get("landmarks", {}).get("os", {}).get(k))))
    if any("as_treated" in arms.get(a, {}) for a in names):  # arms with logistics: ITT above, as treated here
        treated = lambda s, k: s.get("as_treated", {}).get(k)  # noqa: E731 - one-line accessor
        rows += [
            row("as treated: infused / enrolled",
                lambda s: "-" if "as_treated" not in s else f"{s['as_treated']['n_infused']} / {s.get('n', 0)}"),
            row("as treated: CR rate", lambda s: fmt_rate(treated(s, "cr_rate"))),
            row("as treated: ORR", lambda s: fmt_rate(treated(s, "orr_rate"))),
            row("as treated: median PFS", lambda s: fmt_median(treated(s, "median_pfs_days"))),
            row("as treated: median OS", lambda s: fmt_median(treated(s, "median_os_days"))),
        ]
    crs, neuro = grading_labels(run.summary, run.meta)  # every toxicity line names its grading scale
    rows += [
        row(f"CRS grade >= 3, {crs} (95% CI)", lambda s: fmt_rate(s.get("crs_grade3plus_rate"))),
        *_other_crs_rows(run, arms, names),
        row(f"neurotoxicity grade >= 3, {neuro} (95% CI)", lambda s: fmt_rate(s.get("icans_grade3plus_rate"))),
        row("median Cmax (cells/uL)", lambda s: fmt_number(s.get("cmax_cells_uL_median"))),
        row("median Tmax (days)", lambda s: fmt_number(s.get("tmax_days_median"))),
        row("median ctDNA day 28 (hGE/mL)", lambda s: fmt_number(s.get("ctdna_d28_median"))),
        *_assay_rows(arms, names),
        row("cost per patient", lambda s: fmt_money(s.get("cost_per_patient"), cur)),
        row("cost per responder", lambda s: fmt_money(s.get("cost_per_responder"), cur)),
        *_economics_rows(run, names, cur),
    ]
    if any("inventory" in arms.get(a, {}) for a in names):  # off-the-shelf lots (arms with `inventory`)
        inv = lambda s, k: s.get("inventory", {}).get(k)  # noqa: E731 - one-line accessor
        rows += [
            row("lots per trial (mean)", lambda s: fmt_number(inv(s, "lots_mean"))),
            row("doses wasted per trial (mean)", lambda s: fmt_number(inv(s, "doses_wasted_mean"))),
            row("stock-outs per trial (mean / max)",
                lambda s: "-" if inv(s, "stockouts_mean") is None
                else f"{fmt_number(inv(s, 'stockouts_mean'))} / {inv(s, 'stockouts_max')}"),
            row("product cost per delivered dose", lambda s: fmt_money(inv(s, "cost_per_delivered_dose_mean"), cur)),
        ]
    return rows


def _economics_rows(run: RunData, names: list, cur: str) -> list:
    """QALYs and the payer's cost per patient under each payment model (issue 21), from the summary's
    ``economics`` block; none for runs without it."""
    econ = run.summary.get("economics")
    if not econ:
        return []
    arms = econ.get("arms", {})
    rows = [("QALYs per patient (discounted)", [fmt_number(arms.get(a, {}).get("qalys")) for a in names])]
    for model in econ.get("settings", {}).get("payment_models", []):
        rows.append((f"payer cost per patient, {model}", [fmt_money(
            arms.get(a, {}).get("payment_models", {}).get(model, {}).get("payer_cost_per_patient"), cur)
            for a in names]))
    return rows


def _other_crs_rows(run: RunData, arms: dict, names: list) -> list:
    """CRS grade >= 3 on the distinguishable scales other than the run's own (ASTCT 2019 under a
    Penn-graded scenario, and Penn under the others), each named."""
    from ..biology.grading_scales import CRS_SCALES, DEFAULT_CRS

    chosen = CRS_SCALES.get((run.summary.get("grading") or {}).get("crs", DEFAULT_CRS))
    out = []
    for scale in CRS_SCALES.values():
        if scale.reads_as != scale.name or (chosen is not None and scale.name == chosen.reads_as):
            continue
        if scale.name == "penn" and not any("crs_by_scale" in arms.get(a, {}) for a in names):  # older runs
            cells = [fmt_rate(arms.get(a, {}).get("crs_grade3plus_penn_rate")) for a in names]
        else:
            cells = [fmt_rate(arms.get(a, {}).get("crs_by_scale", {}).get(scale.name, {}).get("grade3plus_rate"))
                     for a in names]
        out.append((f"CRS grade >= 3, {scale.label}", cells))
    return out


def _assay_rows(arms: dict, names: list) -> list:
    """Observed detection (detected / drawn) at day 28 (else the first draw) of each assay the arms drew,
    from the stored calls' summary (``arms.<arm>.assays``); none for runs stored before it."""
    out = []
    for assay, label in (("ctdna", "ctDNA"), ("mrd", "MRD")):
        blocks = [arms.get(a, {}).get("assays", {}).get(assay) for a in names]
        days = sorted({d for b in blocks if b for d in b["days"]})
        if not days:
            continue
        day = 28.0 if 28.0 in days else days[0]
        cells = []
        for b in blocks:
            k = b["days"].index(day) if b and day in b["days"] else None
            cells.append("-" if k is None or not b["drawn"][k] else
                         f"{b['detected'][k]} / {b['drawn'][k]} ({100 * b['detected_rate'][k]:.0f}%, {b['method']})")
        out.append((f"{label} detected day {day:g} (observed calls)", cells))
    return out


def print_summary(run: RunData, console: Console | None = None) -> None:
    """Per-arm table, comparisons and replicate distributions of a run."""
    console = console or _console()
    m = run.meta
    # The size line comes from the run, not the scenario title, which may quote the file's cohort size.
    title = (f"{m.get('scenario_title', '')}\n{plural(m.get('patients_per_arm'), 'patient')} per arm x "
             f"{plural(m.get('replicates'), 'replicate trial')}, {m.get('design')} design, seed {m.get('seed')}")
    table = Table(title=escape(title))
    table.add_column("endpoint")
    for name in run.arm_names():
        table.add_column(escape(name), justify="right")
    for label, cells in summary_rows(run):
        table.add_row(label, *cells)
    console.print(table)
    _print_comparisons(run, console)
    _print_economics(run, console)
    _print_replicates(run, console)
    failed = {}  # solver status -> patients, summed over arms
    for arm in run.summary.get("arms", {}).values():
        for status, count in arm.get("status", {}).items():
            if status != "OK":
                failed[status] = failed.get(status, 0) + count
    if failed:
        total, why = sum(failed.values()), ", ".join(f"{k} {v}" for k, v in failed.items())
        console.print(f"[yellow]{plural(total, 'patient')} could not be simulated to the end (solver status: "
                      f"{escape(why)}); they are excluded from the statistics[/yellow]")


def _print_comparisons(run, console) -> None:
    for c in run.summary.get("comparisons") or []:
        ref, other = c["arms"]
        parts = []
        for end in ("pfs", "os"):
            hr = (c.get(end) or {}).get("hazard_ratio") or {}
            p = ((c.get(end) or {}).get("logrank") or {}).get("p")
            hr_text = "HR n/a" if hr.get("hr") is None else f"HR {hr['hr']:.2f} ({hr['low']:.2f}-{hr['high']:.2f})"
            parts.append(f"{end.upper()}: {hr_text}, log-rank p {fmt_number(p, 2)}")
        console.print(f"{escape(other)} vs {escape(ref)}: " + "; ".join(parts))


def _print_economics(run, console) -> None:
    """ICER and net monetary benefit of each arm against the reference, per payment model (issue 21)."""
    econ = run.summary.get("economics") or {}
    wtp = econ.get("settings", {}).get("willingness_to_pay", [])
    cur = run.meta.get("endpoint_rules", {}).get("currency", "USD")
    for c in econ.get("comparisons", []):
        ref, other = c["arms"]
        for model, b in c["payment_models"].items():
            if not b:
                continue
            icer = b["note"] if b["icer"] is None else f"ICER {fmt_money(b['icer'], cur)}/QALY" + (
                f" ({b['note']})" if b["note"] else "")
            nmb = ", ".join(f"NMB at {w:,.0f}: {fmt_money(b['incremental_nmb'].get(f'{w:g}'), cur)}" for w in wtp)
            console.print(f"{escape(other)} vs {escape(ref)} ({escape(model)}): dQALY "
                          f"{fmt_number(b['incremental_qalys'])}, dcost {fmt_money(b['incremental_cost'], cur)}; "
                          f"{escape(icer)}; {nmb}")


def _print_replicates(run, console) -> None:
    rep = run.summary.get("replicates")
    if not rep:
        return
    table = Table(title=f"across {rep['n']} replicate trials (count per trial: mean, 5th-95th percentile)")
    table.add_column("arm")
    for col in ("CR", "responders", f"CRS >= 3, {grading_labels(run.summary, run.meta)[0]}"):
        table.add_column(col, justify="right")
    for arm, d in rep["arms"].items():
        cells = []
        for key in ("cr_count", "responder_count", "crs_grade3plus_count"):
            q = d[key]["quantiles"]
            cells.append(f"{d[key]['mean']:.2f} ({q['5']:g}-{q['95']:g})")
        table.add_row(escape(arm), *cells)
    console.print(table)
    if rep.get("success"):
        s = rep["success"]
        console.print(f"probability of success ({' and '.join(s['criteria'])}): {fmt_rate(s['probability'])}")


def _patients_cell(run: dict) -> str:
    """Patients stored; for a run not finished, "done / planned (percent)" so its progress shows.

    Example:
        >>> _patients_cell({"status": "interrupted", "patients": 2500, "patients_planned": 10000})
        '2,500 / 10,000 (25%)'
    """
    done, planned = run.get("patients", 0), run.get("patients_planned")
    if run.get("status") == "finished" or not planned:
        return f"{done:,}"
    return f"{done:,} / {planned:,} ({100 * done / planned:.0f}%)"


def print_runs(rows: list, console: Console | None = None) -> None:
    """The stored runs, newest first. Run IDs are printed whole: they are what `report` and `compare` take.

    The ID already names the scenario and the start time (UTC), so the table leaves those out and
    fits 80 columns; narrower terminals get one block per run (``--json`` has every field).
    """
    console = console or _console()
    if not rows:
        console.print("no runs yet: `celltrial run scenarios/quickstart.yaml`")
        return
    heads = ("run id", "status", "patients", "seed")
    cells = [[str(r.get("run_id", "")), str(r.get("status", "")), _patients_cell(r), str(r.get("seed", ""))]
             for r in rows]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(heads)]
    if console.width < sum(widths) + 3 * len(widths) + 1:  # the table would cut or wrap IDs: a block per run
        for c in cells:
            console.print(escape(c[0]), highlight=False, soft_wrap=True)
            console.print(escape(f"    {c[1]}, {c[2]} patients, seed {c[3]}"), highlight=False, soft_wrap=True)
        return
    table = Table(title="runs (newest first)")
    for head, width in zip(heads, widths, strict=True):
        numeric = head in ("patients", "seed")
        table.add_column(head, no_wrap=True, min_width=width, justify="right" if numeric else "left")
    for c in cells:
        table.add_row(*(escape(x) for x in c))
    console.print(table)


def compare_runs(a: RunData, b: RunData) -> list:
    """One dict per (arm, endpoint) present in either run: label, value in A, value in B."""
    out = []
    rows_a, rows_b = dict(_labelled(a)), dict(_labelled(b))
    for key in list(rows_a) + [k for k in rows_b if k not in rows_a]:
        out.append({"arm": key[0], "endpoint": key[1], "a": rows_a.get(key, "-"), "b": rows_b.get(key, "-")})
    return out


def _labelled(run):
    names = run.arm_names()
    for label, cells in summary_rows(run):
        for arm, cell in zip(names, cells, strict=True):
            yield (arm, label), cell


def print_comparison(a: RunData, b: RunData, rows: list, console: Console | None = None) -> None:
    console = console or _console()
    table = Table(title=f"A = {a.run_id}  vs  B = {b.run_id}")
    for col in ("arm", "endpoint", "A", "B"):
        table.add_column(col, justify="right" if col in ("A", "B") else "left")
    for r in rows:
        table.add_row(escape(r["arm"]), r["endpoint"], r["a"], r["b"])
    console.print(table)


def print_patient(course, arm: str, patient: int, console: Console | None = None) -> None:
    """Key quantities of one patient's course at a few days (use --csv for everything)."""
    console = console or _console()
    cols = course.columns
    t = cols["time"]
    days = [d for d in (0, 1, 3, 7, 14, 28, 60, 90, 180, 270, 365, 540, 730) if d <= t[-1]]
    idx = [int(np.argmin(np.abs(t - d))) for d in days]
    table = Table(title=f"arm {escape(arm)}, patient {patient} (stream id {course.patient_id})")
    keys = [("B_tot", "tumour cells"), ("product_uL", "product cells/uL"), ("car_copies", "CAR copies/ug"),
            ("ctdna", "ctDNA hGE/mL"), ("il6_signal", "IL-6 pg/mL")]
    table.add_column("day", justify="right")
    for _, label in keys:
        table.add_column(label, justify="right")
    for j in idx:
        table.add_row(f"{t[j]:g}", *(fmt_number(float(cols[k][j])) for k, _ in keys))
    console.print(table)
