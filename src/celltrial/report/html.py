"""Write the clinician-facing HTML report of a trial run: one self-contained file plus figure files.

Example:
    >>> from celltrial.report import write_report
    >>> write_report(run, "out/report.html")  # doctest: +SKIP
    PosixPath('out/report.html')
    >>> # figures: out/report_figures/km_pfs.png, out/report_figures/km_pfs.svg, ...
"""

from __future__ import annotations

import base64
import io
import re
from pathlib import Path

import numpy as np

from ..errors import InputError
from . import tables
from .data import ReportContext, column
from .economics import economics_html
from .figures import BUILDERS, build_figures_with_captions
from .fmt import NA, esc, fmt_value
from .style import rc_context
from .template import page

#: Section id -> heading, in report order (the tests check every heading is present).
SECTIONS = {
    "overview": "Trial overview",
    "summary": "Efficacy and safety summary",
    "kinetics": "Blood kinetics of the product",
    "tumour": "Tumour burden and ctDNA",
    "swimmer": "Swimmer plot",
    "spider": "Spider and waterfall plots",
    "survival": "Survival (Kaplan–Meier)",
    "crs": "Cytokine release syndrome (CRS) and neurotoxicity",
    "cost": "Cost",
    "economics": "Health economics",
    "replicates": "Replicate trials and probability of success",
    "methods": "Methods",
    "extrapolation": "What is extrapolation",
}
#: Section id -> figures shown in it.
SECTION_FIGURES = {
    "kinetics": ["kinetics"], "tumour": ["tumour_burden", "ctdna"], "swimmer": ["swimmer"],
    "spider": ["spider", "waterfall"], "survival": ["km_pfs", "km_os"], "crs": ["crs", "icans"], "cost": ["cost"],
    "economics": ["ce"], "replicates": ["replicates"],
}
#: Figure name -> what a reader calls it (for "not available" notes).
FIGURE_TITLES = {
    "kinetics": "Blood kinetics", "tumour_burden": "Tumour burden per patient", "ctdna": "ctDNA per patient",
    "swimmer": "Swimmer plot", "spider": "Spider plot", "waterfall": "Waterfall plot",
    "km_pfs": "Progression-free survival", "km_os": "Overall survival", "crs": "CRS grades",
    "icans": "Neurotoxicity grades", "cost": "Cost", "ce": "Cost-effectiveness plane and acceptability curve",
    "replicates": "Replicate trials",
}
FORMATS = ("png", "svg", "pdf")
EMBED_DPI = 120


def write_report(run, html_path, *, figure_formats=("png", "svg")) -> Path:
    """Write the report to ``html_path`` and its figures to ``<stem>_figures/`` next to it.

    The HTML embeds every figure as base64 PNG and references nothing outside itself.
    Returns the HTML path."""
    formats = tuple(figure_formats)
    bad = [f for f in formats if f not in FORMATS]
    if bad:
        raise ValueError(f"unsupported figure format(s) {bad}; choose from {FORMATS}")
    html_path = Path(html_path)
    fig_dir = html_path.parent / f"{html_path.stem}_figures"
    try:
        html_path.parent.mkdir(parents=True, exist_ok=True)
        fig_dir.mkdir(exist_ok=True)
    except OSError as exc:  # a parent that is a file, no permission, a full disk: the user's path to fix
        blocking = next((p for p in html_path.parents if p.exists() and not p.is_dir()), None)
        why = f"{blocking} is a file, not a folder" if blocking else (exc.strerror or str(exc))
        raise InputError(f"{html_path}: cannot write the report there ({why}); choose a path in a writable "
                         "folder") from None
    # Drop figure files of an earlier report at this path, so the folder matches this report.
    for name in BUILDERS:
        for fmt in FORMATS:
            (fig_dir / f"{name}.{fmt}").unlink(missing_ok=True)
    ctx = ReportContext(run)
    embedded = {}
    with rc_context():  # savefig reads some rcParams (svg.fonttype, hashsalt) at save time
        for name, (fig, caption) in build_figures_with_captions(run, ctx).items():
            # shown at the figure's own size (96 CSS px per inch), never stretched: a one-panel
            # figure blown up to the page width has giant fonts
            width_px = round(fig.get_figwidth() * 96)
            embedded[name] = (base64.b64encode(_save(fig, fig_dir / name, formats)).decode("ascii"), caption,
                              width_px)
    html_path.write_text(render(ctx, embedded), encoding="utf-8")
    return html_path


def _save(fig, stem: Path, formats: tuple) -> bytes:
    """Save ``fig`` as ``stem.<fmt>`` for each format; return the PNG bytes to embed.

    The embedded PNG doubles as the PNG file, and the layout is frozen after the first draw:
    constrained layout dominates the drawing time and gives the same result at every save."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=EMBED_DPI)
    fig.set_layout_engine("none")
    png = buf.getvalue()
    for fmt in formats:
        if fmt == "png":
            (stem.parent / f"{stem.name}.png").write_bytes(png)
        else:
            fig.savefig(stem.parent / f"{stem.name}.{fmt}", format=fmt)
    return png


def render(ctx: ReportContext, figures: dict) -> str:
    """The HTML text; ``figures`` maps name -> (base64 PNG, caption, display width in CSS px)."""
    counter = iter(range(1, 100))
    bodies = {
        "overview": tables.arms_table(ctx) + "<h3>Patients simulated</h3>" + tables.status_html(ctx),
        "summary": tables.summary_table(ctx) + "<h3>Comparisons between arms</h3>" + tables.comparisons_table(ctx),
        "replicates": tables.replicates_html(ctx),
        "economics": economics_html(ctx),
        "methods": methods_html(ctx),
        "extrapolation": extrapolation_html(ctx),
    }
    parts = []
    for sid, heading in SECTIONS.items():
        body = bodies.get(sid, "")
        for name in SECTION_FIGURES.get(sid, []):
            body += figure_html(name, figures.get(name), counter, missing_reason(ctx, name))
        parts.append(f'<section id="{sid}"><h2>{esc(heading)}</h2>\n{body}\n</section>')
    toc = '<nav class="toc"><ol>' + "".join(
        f'<li><a href="#{sid}">{esc(h)}</a></li>' for sid, h in SECTIONS.items()) + "</ol></nav>"
    footer = (f"Generated by celltrial {esc(ctx.meta.get('package_version', ''))} from run {esc(ctx.run.run_id)}. "
              "Simulated patients; not clinical evidence.")
    return page(title(ctx), header_html(ctx), toc, "\n".join(parts), footer)


_PATIENT_COUNT = re.compile(r"\b(\d[\d,]*)(\s+virtual\s+patients\b)", re.IGNORECASE)


def title(ctx: ReportContext) -> str:
    """The scenario's title, with a patient count written into it corrected to the run's actual count.

    Titles often quote the scenario file's ``cohort.patients`` ("..., 200 virtual patients"); a run
    with ``--patients 500`` must not be reported under the file's number.

    Example:
        >>> title(ReportContext(run))  # doctest: +SKIP
        'Axi-cel-like CAR-T in r/r LBCL, 500 virtual patients'
    """
    text = str(ctx.meta.get("scenario_title") or ctx.meta.get("scenario_name") or ctx.run.run_id or "Virtual trial")
    actual = enrolled_per_arm(ctx)
    if actual is None:
        return text
    stated = _file_patients(ctx.meta.get("scenario_text"))

    def fix(m: re.Match) -> str:
        n = int(m.group(1).replace(",", ""))
        # only the file's own count is replaced: another number may mean something else (e.g. a total)
        wrong = n != actual and (n == stated or (stated is None and len(ctx.arms) == 1))
        return f"{actual:,}{m.group(2)}" if wrong else m.group(0)

    return _PATIENT_COUNT.sub(fix, text)


def enrolled_per_arm(ctx: ReportContext) -> int | None:
    """Patients per arm in one replicate trial, counted from the stored patients table (else from meta)."""
    arm = column(ctx.run.patients or {}, "arm", str)
    if len(arm) and ctx.arms:
        rep = column(ctx.run.patients, "replicate")
        first = arm == ctx.arms[0]
        if np.isfinite(rep).any():
            first &= rep == np.nanmin(rep)
        return int(np.sum(first)) or None
    n = ctx.meta.get("patients_per_arm")
    return int(n) if isinstance(n, int | float) and n == n and n > 0 else None


def _file_patients(text) -> int | None:
    """``cohort.patients`` of the scenario file as run (None when it cannot be read)."""
    import yaml

    try:
        doc = yaml.safe_load(text) if isinstance(text, str) else None
    except yaml.YAMLError:
        return None
    n = doc.get("cohort", {}).get("patients") if isinstance(doc, dict) and isinstance(doc.get("cohort"), dict) else None
    return n if isinstance(n, int) else None


def header_html(ctx: ReportContext) -> str:
    m = ctx.meta
    facts = [("Scenario", m.get("scenario_name")), ("Run", ctx.run.run_id), ("Date", m.get("started")),
             ("Seed", m.get("seed")), ("Patients per arm", enrolled_per_arm(ctx)),
             ("Replicate trials", m.get("replicates")), ("Design", m.get("design")),
             ("Follow-up", f"{fmt_value(m.get('follow_up_days'))} days" if m.get("follow_up_days") else None),
             ("Arms", ", ".join(ctx.arms))]
    dl = "".join(f"<dt>{esc(k)}</dt><dd>{esc(fmt_value(v)) if v not in (None, '') else NA}</dd>" for k, v in facts)
    return (f'<header class="top"><h1>{esc(title(ctx))}</h1>'
            f'<p class="subtitle">Virtual (in-silico) trial report</p></header>'
            '<div class="disclaimer">All patients in this report are <strong>simulated</strong> by a mathematical '
            "model of the disease and the cell product. The results show what the model predicts under its "
            "assumptions; they are not clinical evidence. See <a href=\"#extrapolation\">What is "
            "extrapolation</a>.</div>"
            f'<dl class="facts">{dl}</dl>')


def missing_reason(ctx: ReportContext, name: str) -> str:
    """Why a figure is absent, in the reader's terms."""
    if name in ("kinetics", "tumour_burden", "ctdna", "spider", "waterfall") and not ctx.run.trajectories:
        return "trajectories were not stored for this run"
    if name == "replicates":
        return "the run has no replicate trials"
    if name == "ce":
        return "the run has no economics block or fewer than two replicate trials"
    return "the run has no evaluable data for it"


def figure_html(name: str, fig, counter, reason: str = "the run has no data for it") -> str:
    """An embedded figure with a numbered caption, or a note saying why it is missing."""
    if fig is None:
        return f'<p class="na">{esc(FIGURE_TITLES.get(name, name))}: not available ({esc(reason)}).</p>'
    data, caption, width_px = fig
    n = next(counter)
    return (f'<figure id="fig-{esc(name)}"><img alt="Figure {n}: {esc(name)}" style="width:{width_px}px" '
            f'src="data:image/png;base64,{data}">'
            f"<figcaption><strong>Figure {n}.</strong> {esc(caption)}</figcaption></figure>")


def methods_html(ctx: ReportContext) -> str:
    keys = [("package_version", "celltrial version"), ("git_revision", "Git revision"), ("model", "Model"),
            ("seed", "Seed"), ("follow_up_days", "Follow-up (days)"), ("design", "Design"),
            ("patients_per_arm", "Patients per arm"), ("replicates", "Replicate trials"),
            ("started", "Started (UTC)"), ("finished", "Finished (UTC)"), ("status", "Run status")]
    out = tables.meta_rows(ctx, keys)
    out += ("<h3>Endpoint rules</h3><p>How model quantities become clinical endpoints (detection limits, "
            "thresholds, costs).</p>" + tables.rules_table(ctx))
    out += "<h3>Parameters that differ from the presets</h3>" + tables.parameter_changes_table(ctx)
    scenario = ctx.meta.get("scenario_text")
    if scenario:
        out += f"<details><summary>Scenario file as run</summary><pre>{esc(scenario)}</pre></details>"
    return out


def extrapolation_html(ctx: ReportContext) -> str:
    statements = [s for s in (ctx.meta.get("extrapolation") or []) if str(s).strip()]
    intro = ("<p>A model extrapolates when it is used beyond the data its parameters were estimated from. "
             "Results that rest on extrapolation are predictions to be checked, not findings.</p>")
    if not statements:
        return intro + ('<p class="keybox">No specific extrapolation was recorded for this run. The run still rests '
                        "on partly estimated parameters — see the provenance tags of the presets.</p>")
    items = "".join(f"<li>{esc(s)}</li>" for s in statements)
    return intro + f'<p>In this run:</p><ul class="extrapolation">{items}</ul>'
