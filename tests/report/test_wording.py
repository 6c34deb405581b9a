"""Wording of the report: what a reader sees is human wording with units, never a field name,
a Python value or a broken confidence interval.

Example:
    fmt_median({"estimate": None, "low": 300.0, "high": None})  ->  'not reached (95% CI 300 d – not reached)'
"""

from __future__ import annotations

import html as html_lib
import re

import pytest

from celltrial.report import write_report
from celltrial.report.data import ReportContext
from celltrial.report.fmt import fmt_median, fmt_ref, landmark_label, plural
from celltrial.report.html import title
from celltrial.report.labels import humanize, status_label

from .synthetic import make_run


@pytest.mark.parametrize(("m", "text"), [
    ({"estimate": None, "low": 300.0, "high": None}, "not reached (95% CI 300 d – not reached)"),
    ({"estimate": None, "low": None, "high": None}, "not reached"),
    ({"estimate": None, "low": None, "high": 400.0}, "not reached"),  # a CI without its lower bound: left out
    ({"estimate": 212.4, "low": 150.0, "high": 301.0}, "212 d (95% CI 150 d – 301 d)"),
    ({"estimate": 212.4}, "212 d"),
    ({}, "n/a"),
])
def test_median_wording(m, text):
    assert fmt_median(m) == text
    assert "--" not in fmt_median(m) and "NR" not in fmt_median(m)


@pytest.mark.parametrize(("day", "text"), [(182.5, "6 months"), (365.0, "12 months"), (730, "24 months"),
                                           (91.0, "3 months"), (30.4, "1 month"), (90.0, "3 months"),
                                           (180.0, "day 180"), (28.0, "day 28"), ("182.5", "6 months")])
def test_landmark_label_in_months_when_whole_months(day, text):
    assert landmark_label(day) == text


def test_numbers_and_counts():
    assert fmt_ref(1.089357190383269) == "1.09"
    assert fmt_ref(0.05) == "0.05" and fmt_ref(1.0) == "1" and fmt_ref(1e9) == "10⁹" and fmt_ref(12345) == "12,300"
    assert plural(1, "replicate trial") == "1 replicate trial"
    assert plural(200, "replicate trial") == "200 replicate trials"
    assert plural(0, "patient") == "0 patients"


def test_status_and_field_names_in_words():
    assert status_label("OK") == "Simulated"
    assert "solver step limit" in status_label("MAX_STEPS")
    assert "_" not in status_label("SOMETHING_NEW")
    assert humanize("time_to_cr_days") == "Time to cr (days)"


def test_title_uses_the_runs_patient_count():
    run = make_run(n=12, replicates=False, trajectories=False, title="CAR-T in LBCL, 200 virtual patients")
    run.meta["scenario_text"] = "name: x\ncohort:\n  patients: 200\n"
    assert title(ReportContext(run)) == "CAR-T in LBCL, 12 virtual patients"
    run.meta["scenario_text"] = "name: x\ncohort:\n  patients: 12\n"  # a number the file did not give is kept
    run.meta["scenario_title"] = "CAR-T in LBCL, 200 virtual patients"
    assert title(ReportContext(run)) == "CAR-T in LBCL, 200 virtual patients"


def visible_text(page: str) -> str:
    """What a reader sees: tags, the stylesheet, images, and code/preformatted blocks (the scenario file as
    run, model parameter names) removed."""
    page = re.sub(r"<(style|pre|code)\b.*?</\1>", " ", page, flags=re.S)
    return html_lib.unescape(re.sub(r"<[^>]+>", " ", page))


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    run = make_run(n=12, title="CAR-T vs NK, 200 virtual patients")
    run.meta["scenario_text"] = "name: x\ncohort:\n  patients: 200\n"
    rules = run.meta["endpoint_rules"]
    rules.update(reference_arm=None, landmarks_days=[182.5, 365.0], ctdna_lod_hge_ml=1.089357190383269,
                 partial_response_fraction=0.5)
    run.summary["replicates"]["n"] = 1
    run.arms[1].update(dose="2e+06 cells/kg (max 2e+08)", regimen="day 0 after Flu/Cy; then policy ctdna_trigger")
    for arm in run.summary["arms"].values():
        arm["landmarks"]["pfs"]["182.5"] = {"estimate": 0.4, "low": 0.28, "high": 0.52}
        arm["median_os_days"] = {"estimate": None, "low": 300.0, "high": None}
    path = write_report(run, tmp_path_factory.mktemp("wording") / "r.html", figure_formats=())
    return visible_text(path.read_text(encoding="utf-8"))


def test_report_has_no_field_names_or_python_values(page):
    assert not re.search(r"\b(None|True|False|nan|NaN)\b", page)
    snake = re.findall(r"\b[A-Za-z]+(?:_[A-Za-z0-9]+)+\b", page)
    assert not snake, sorted(set(snake))


def test_report_wording(page):
    assert "Progression-free survival at 6 months" in page and "day 182.5" not in page
    assert "not reached (95% CI 300 d – not reached)" in page and "NR)" not in page
    assert "1.09" in page and "1.08936" not in page
    assert "1 replicate trial," in page and "replicate(s)" not in page
    assert "12 virtual patients" in page and "200 virtual patients" not in page
    assert "Reference arm of the comparisons" in page and "the first arm (default)" in page
    assert "Simulated" in page and " OK " not in page
    assert "2×10⁶ cells/kg (max 2×10⁸)" in page and "policy: ctDNA-triggered doses" in page
