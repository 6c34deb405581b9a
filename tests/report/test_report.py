"""The HTML report: self-contained, every section present, summary numbers shown, robust to odd runs.

Example:
    write_report(make_run(), tmp_path / "report.html")  ->  report.html + report_figures/{name}.png|svg
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from celltrial.report import SECTIONS, build_figures, write_report
from celltrial.report.fmt import esc, fmt_median, fmt_rate, fmt_sig
from celltrial.trials.rundata import RunData

from .synthetic import make_run

ALL_FIGURES = {"kinetics", "tumour_burden", "ctdna", "swimmer", "spider", "waterfall", "km_pfs", "km_os", "crs",
               "icans", "cost", "replicates"}


@pytest.fixture(scope="module")
def run():
    run = make_run()
    a = run.summary["arms"]["axi-cel-like"]
    # Known values, to find them formatted in the table.
    a["cr_rate"] = {"estimate": 0.425, "low": 0.27, "high": 0.59, "events": 17, "n": 40, "method": "wilson"}
    a["median_pfs_days"] = {"estimate": 212.4, "low": 150.0, "high": None}
    a["median_os_days"] = {"estimate": None, "low": 300.0, "high": None}
    a["cost_per_patient"] = 412345.0
    a["cmax_cells_uL_median"] = 37.94
    run.summary["comparisons"][0]["pfs"]["hazard_ratio"] = {"hr": 0.62, "low": 0.41, "high": 0.93, "p": 0.02}
    run.summary["comparisons"][0]["pfs"]["logrank"] = {"statistic": 12.0, "p": 0.0004}
    return run


@pytest.fixture(scope="module")
def report(run, tmp_path_factory):
    path = write_report(run, tmp_path_factory.mktemp("report") / "report.html")
    return path, path.read_text(encoding="utf-8")


def _single_arm_no_trajectories(**kwargs):
    run = make_run(n=12, arms={"solo": (0.3, 0.05, 10.0, 100_000.0, 10_000.0)}, trajectories=False,
                   replicates=False, **kwargs)
    return run


def test_report_is_written_with_all_sections(report, run):
    path, html = report
    assert path.exists() and path.name == "report.html"
    for heading in SECTIONS.values():
        assert f">{esc(heading)}</h2>" in html, heading
    for arm in run.arm_names():
        assert arm in html


def test_report_is_self_contained(report):
    _, html = report
    assert html.count('src="data:image/png;base64,') == len(ALL_FIGURES)
    assert not re.search(r'(src|href)\s*=\s*"(https?:)?//', html)
    assert "<link" not in html and "<script" not in html and "@import" not in html
    assert "url(" not in html


def test_figure_files_in_each_format(report):
    path, _ = report
    folder = path.parent / "report_figures"
    files = {p.name for p in folder.iterdir()}
    assert files == {f"{name}.{ext}" for name in ALL_FIGURES for ext in ("png", "svg")}
    assert (folder / "km_pfs.png").read_bytes().startswith(b"\x89PNG")
    assert "<svg" in (folder / "km_pfs.svg").read_text(encoding="utf-8")[:2000]


def test_summary_numbers_are_formatted_in_tables(report, run):
    _, html = report
    for text in ["42.5% (27.0–59.0%) · 17/40", "212 d (95% CI 150 d – not reached)",
                 "not reached (95% CI 300 d – not reached)", "USD 412,345",
                 "37.9", "0.62 (0.41–0.93)", "&lt;0.001", "Probability of success: 72.0% (65.0–78.0%)"]:
        assert text in html, text
    other = run.summary["arms"]["ft596-like"]
    assert esc(fmt_median(other["median_os_days"])) in html
    assert fmt_sig(other["ctdna_d28_median"]) in html
    assert "CR rate of ft596-like ≥ 20%" in html
    assert "Repeat-dose NK expansion" in html and "k_kill" in html


def test_build_figures_returns_figures(run):
    figs = build_figures(run)
    assert set(figs) == ALL_FIGURES
    km = figs["km_pfs"]
    key, main, table = km.axes  # legend row, curves, at-risk table
    assert key.get_legend() is not None and not key.axison
    # The at-risk table shares the curve's x axis, so its columns sit under the ticks.
    assert table.get_shared_x_axes().joined(main, table)
    assert list(table.get_xticks()) == list(main.get_xticks())
    assert len(table.texts) == len(run.arm_names()) * len(main.get_xticks())


def test_single_arm_without_trajectories_renders(tmp_path):
    path = write_report(_single_arm_no_trajectories(), tmp_path / "solo.html", figure_formats=("svg",))
    html = path.read_text(encoding="utf-8")
    assert "solo" in html and "no between-arm comparisons" in html
    assert "single trial (no replicate trials)" in html
    assert "not available" in html  # kinetics, tumour, spider figures
    names = {p.stem for p in (tmp_path / "solo_figures").iterdir()}
    assert names == {"swimmer", "km_pfs", "km_os", "crs", "icans", "cost"}
    assert all(p.suffix == ".svg" for p in (tmp_path / "solo_figures").iterdir())


def test_script_in_title_is_escaped(tmp_path):
    run = _single_arm_no_trajectories(title='<script>alert("x")</script>')
    run.meta["extrapolation"] = ["<img src=x onerror=alert(1)>"]
    run.arms[0]["description"] = "<b>bold</b>"
    html = write_report(run, tmp_path / "r.html", figure_formats=()).read_text(encoding="utf-8")
    assert "<script" not in html and "<img src=x" not in html and "<b>bold" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html


def test_failed_patients_censored_and_no_responders_render(tmp_path):
    run = make_run(n=20, replicates=False)
    p = run.patients
    p["status"][:3] = "MAX_STEPS"
    p["status"][25] = "NON_FINITE"
    p["os_event"][:] = False
    p["pfs_event"][:] = False
    p["responder"][:] = False
    p["cr"][:] = False
    p["time_to_response_days"][:] = np.nan
    p["cost_total"][5] = np.nan
    p["cmax_cells_uL"][:] = np.nan
    for a in run.summary["arms"].values():
        a.update(median_pfs_days={"estimate": None, "low": None, "high": None}, cost_per_responder=None,
                 cr_rate={"estimate": float("nan")}, orr_rate={"estimate": 0.0, "events": 0, "n": 20})
        a["cmax_cells_uL_median"] = float("nan")
    run.summary["comparisons"] = []
    run.trajectories["product_uL"][:] = np.nan
    path = write_report(run, tmp_path / "odd.html", figure_formats=("png",))
    html = path.read_text(encoding="utf-8")
    assert 'class="warning"' in html and "4 of 40 virtual patients could not be simulated" in html
    assert "n/a (no responders)" in html and "not reached" in html
    assert "n/a" in html


def test_minimal_run_renders(tmp_path):
    """Almost nothing known: no summary, no trajectories, no meta; the report still opens."""
    patients = {"arm": np.array(["x", "x"]), "status": np.array(["OK", "OK"]),
                "os_days": np.array([10.0, np.nan]), "os_event": np.array([True, False])}
    run = RunData("r", {}, [{"name": "x"}], patients, {}, None)
    html = write_report(run, tmp_path / "m.html", figure_formats=()).read_text(encoding="utf-8")
    for heading in SECTIONS.values():
        assert esc(heading) in html
    assert "partly estimated parameters" in html


def test_bad_format_is_refused(run, tmp_path):
    with pytest.raises(ValueError, match="unsupported"):
        write_report(run, tmp_path / "r.html", figure_formats=("gif",))


def test_arm_whose_patients_all_failed_renders(tmp_path):
    arms = {"a": (0.3, 0.05, 10.0, 1e5, 1e4), "b": (0.2, 0.03, 5.0, 1e5, 1e4), "c": (0.1, 0.02, 2.0, 1e5, 1e4)}
    run = make_run(n=8, arms=arms, replicates=False)
    run.patients["status"][run.patients["arm"] == "c"] = "NOT_RUN"
    html = write_report(run, tmp_path / "r.html", figure_formats=()).read_text(encoding="utf-8")
    assert all(f'id="fig-{name}"' in html for name in ALL_FIGURES - {"replicates"})
    assert "8 of 24 virtual patients could not be simulated" in html and "Not simulated: not run" in html
    assert all(f">{arm}</span>" in html for arm in arms)


def test_report_of_a_real_summary(tmp_path):
    """The summary made by celltrial.trials.statistics.summarise (two replicates) renders."""
    statistics = pytest.importorskip("celltrial.trials.statistics")
    run = make_run(n=15, replicates=False, trajectories=False)
    p = run.patients
    run.patients = {k: np.concatenate([v, v]) for k, v in p.items()}
    run.patients["replicate"] = np.repeat([0, 1], len(p["arm"]))
    run.summary = statistics.summarise(run.patients)
    html = write_report(run, tmp_path / "real.html", figure_formats=()).read_text(encoding="utf-8")
    cr = run.summary["arms"]["axi-cel-like"]["cr_rate"]
    assert esc(fmt_rate(cr)) in html and fmt_rate(cr) != "n/a"
    assert 'id="fig-replicates"' in html or run.summary["replicates"] is None


def test_comparison_notes_are_footnoted(tmp_path):
    run = make_run(n=10, replicates=False, trajectories=False)
    run.summary["comparisons"][0]["os"]["hazard_ratio"] = {"hr": None, "low": None, "high": None, "p": None,
                                                          "note": "no deaths in <one> arm"}
    html = write_report(run, tmp_path / "r.html", figure_formats=()).read_text(encoding="utf-8")
    assert "n/a<sup>1</sup>" in html and "OS: no deaths in &lt;one&gt; arm" in html


def test_swimmer_draws_doses_and_crs_and_dosing_rows_appear(report, run):
    from celltrial.report.data import ReportContext
    from celltrial.report.patient_figures import swimmer_figure
    from celltrial.report.style import rc_context

    with rc_context():
        fig, caption = swimmer_figure(ReportContext(run))
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    for label in ["Product dose (regimen)", "Policy dose: maintenance", "Policy dose: ctDNA-triggered",
                  "Policy dose: ctDNA still positive, escalated", "Grade ≥ 2 CRS onset (ASTCT 2019)", "Death"]:
        assert label in labels, label
    assert "Policy dose: other reason" not in labels  # only families present get an entry
    assert "Black ticks mark the product doses" in caption and "Orange stars" in caption
    # The policy arm's panel has a marker per dose of its shown patients (one dot per policy dose).
    policy_ax = fig.axes[1]
    dots = sum(len(line.get_xdata()) for line in policy_ax.get_lines() if line.get_marker() == "o")
    log = run.extra["doses"]
    assert dots == int(np.sum((log["arm"] == "ft596-like") & (log["source"] == "policy")))
    _, html = report
    p = run.patients
    policy = p["policy_doses"][p["arm"] == "ft596-like"].mean()
    for text in ["Product doses per patient (mean)", "Policy doses per patient (mean)", fmt_sig(policy),
                 "Median ctDNA lead time over imaging (days)", "58.0 (n = "]:
        assert text in html, text
    assert "Dots mark doses given by the arm&#x27;s adaptive policy" in html


def test_run_without_dose_log_renders_as_before(tmp_path):
    run = make_run(n=12, replicates=False, doses=False)
    assert run.extra == {}
    html = write_report(run, tmp_path / "old.html", figure_formats=()).read_text(encoding="utf-8")
    assert 'id="fig-swimmer"' in html and "Black ticks" not in html and "Dots mark" not in html
    assert "Product doses per patient (mean)" in html  # from the patients table
    assert "Policy doses per patient" not in html and "ctDNA lead time" not in html


def test_a_report_path_under_a_file_is_an_input_error(tmp_path):
    from celltrial.errors import InputError
    from celltrial.report import write_report

    blocker = tmp_path / "runs.duckdb"
    blocker.write_text("not a folder")
    with pytest.raises(InputError, match=r"runs.duckdb is a file, not a folder"):
        write_report(None, blocker / "report.html")  # fails before the run is read
