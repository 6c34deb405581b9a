"""Issue 18: named CRS and neurotoxicity grading scales, from the grade columns to the summary,
the success counts, the terminal table, the HTML report and the calibration quantities."""

import numpy as np
import pytest

from celltrial.biology.grading import crs_grade, penn_thresholds
from celltrial.biology.grading_scales import CRS_SCALES, NEUROTOXICITY_SCALES, crs_scale, scale_label
from celltrial.calibration.summaries import CohortResult, quantity
from celltrial.cli.runs_display import summary_rows as terminal_rows
from celltrial.errors import InputError, ScenarioError
from celltrial.report.data import ReportContext
from celltrial.report.summary_figures import icans_figure
from celltrial.report.tables import replicates_html, summary_rows
from celltrial.scenarios import parse_scenario
from celltrial.trials.columns import COLUMNS
from celltrial.trials.replicates import replicate_summary
from celltrial.trials.rundata import RunData
from celltrial.trials.statistics import summarise
from celltrial.trials.trial import run_trial

THRESHOLDS = [30.0, 150.0, 800.0, 2500.0]  # pg/mL, the standard model's crs_g1..4
PEAKS = np.array([20.0, 100.0, 400.0, 900.0, 1300.0, 3000.0])


def test_grades_per_scale_match_hand_computed_thresholds():
    # ASTCT: 100 >= 30 (1); 400 >= 150 (2); 900, 1300 >= 800 (3); 3000 >= 2500 (4)
    assert crs_grade(PEAKS, THRESHOLDS).tolist() == [0, 1, 2, 3, 3, 4]
    # Penn with r_penn 0.5: thresholds 30, 75, 400, 1250 - 100 is grade 2, 400 grade 3, 1300 grade 4
    assert penn_thresholds(THRESHOLDS, 0.5).tolist() == [30.0, 75.0, 400.0, 1250.0]
    assert crs_grade(PEAKS, penn_thresholds(THRESHOLDS, 0.5)).tolist() == [0, 2, 3, 3, 4, 4]


def test_penn_never_grades_below_astct(rng):
    peaks = rng.lognormal(5, 2, 5000)
    r = rng.uniform(0.05, 1.0, 5000)  # the parameter's bounds
    thr = np.exp(rng.normal(0, 0.5, (5000, 4))) * THRESHOLDS
    thr = np.maximum.accumulate(thr, axis=1)
    astct, penn = crs_grade(peaks, thr), crs_grade(peaks, penn_thresholds(thr, r))
    assert (penn >= astct).all() and (penn > astct).any()
    assert ((penn >= 1) == (astct >= 1)).all()  # grade 1 shared: the scales agree on whether CRS occurred


def test_every_scale_reads_a_patients_column_and_mappings_are_explicit():
    for scale in [*CRS_SCALES.values(), *NEUROTOXICITY_SCALES.values()]:
        assert scale.column in COLUMNS and scale.source.startswith("[")
        if scale.reads_as != scale.name:  # read as another scale: the same column, said in the label or source
            table = CRS_SCALES if scale.name in CRS_SCALES else NEUROTOXICITY_SCALES
            assert table[scale.reads_as].column == scale.column
    assert crs_scale("lee2014").reads_as == crs_scale("cartox").reads_as == "astct2019"
    assert "read as ASTCT 2019" in scale_label("lee2014", "astct2019")
    assert crs_scale("penn").column != crs_scale("astct2019").column
    with pytest.raises(InputError, match="did you mean 'penn'"):
        crs_scale("pen")


def _table(replicates=1):
    """Two arms of 6 patients per replicate with the hand-computed grades above."""
    n = 12 * replicates
    table = {name: np.zeros(n, dtype=float) for name in COLUMNS}
    table.update(arm=np.tile(np.repeat(["a", "b"], 6), replicates), status=np.full(n, "OK"),
                 replicate=np.repeat(np.arange(replicates), 12), cr=np.zeros(n, bool), responder=np.zeros(n, bool),
                 pfs_event=np.zeros(n, bool), os_event=np.zeros(n, bool), dor_event=np.zeros(n, bool),
                 pfs_days=np.full(n, 30.0), os_days=np.full(n, 30.0),
                 crs_grade=np.tile([0, 1, 2, 3, 3, 4], 2 * replicates),
                 crs_grade_penn=np.tile([0, 2, 3, 3, 4, 4], 2 * replicates),
                 icans_grade=np.tile([0, 0, 1, 2, 3, 0], 2 * replicates))
    return table


def test_the_scale_changes_the_rate_on_the_same_patients():
    table = _table()
    default = summarise(table)
    penn = summarise(table, grading={"crs": "penn", "neurotoxicity": "ctcae"})
    lee = summarise(table, grading={"crs": "lee2014"})
    a0, ap, al = default["arms"]["a"], penn["arms"]["a"], lee["arms"]["a"]
    assert default["grading"] == {"crs": "astct2019", "neurotoxicity": "icans"}
    assert penn["grading"] == {"crs": "penn", "neurotoxicity": "ctcae"}
    assert a0["crs_grade3plus_rate"]["events"] == 3 and ap["crs_grade3plus_rate"]["events"] == 4
    assert ap["crs_grade_counts"] == {"0": 1, "1": 0, "2": 1, "3": 2, "4": 2}
    # the ASTCT numbers stay available under Penn, and the Penn ones under ASTCT
    assert ap["crs_by_scale"]["astct2019"]["grade3plus_rate"] == a0["crs_grade3plus_rate"]
    assert a0["crs_by_scale"]["penn"]["grade3plus_rate"] == ap["crs_grade3plus_rate"] == a0["crs_grade3plus_penn_rate"]
    # Lee 2014 is read as ASTCT: the same numbers, its own name
    assert al["crs_grade3plus_rate"] == a0["crs_grade3plus_rate"] and lee["grading"]["crs"] == "lee2014"
    assert ap["icans_grade3plus_rate"] == a0["icans_grade3plus_rate"]  # CTCAE is read as the one grade
    with pytest.raises(InputError, match="unknown CRS grading scale 'astct'"):
        summarise(table, grading={"crs": "astct"})


def test_the_crs_count_criterion_follows_the_scale():
    table = _table(replicates=3)
    success = [{"arm": "a", "count": "crs_grade3plus", "at_most": 3}]
    astct = replicate_summary(table, success, crs_scale="astct2019")
    penn = replicate_summary(table, success, crs_scale="penn")
    assert astct["arms"]["a"]["crs_grade3plus_count"]["mean"] == 3.0
    assert penn["arms"]["a"]["crs_grade3plus_count"]["mean"] == 4.0
    assert astct["success"]["probability"]["estimate"] == 1.0 and penn["success"]["probability"]["estimate"] == 0.0
    assert penn["success"]["criteria"] == ["a: CRS grade >= 3 (Penn) count <= 3"]
    summary = summarise(table, success=success, grading={"crs": "penn"})
    assert summary["replicates"]["success"]["probability"]["estimate"] == 0.0


def _run(grading):
    table = _table(replicates=2)
    meta = {"endpoint_rules": {"crs_scale": grading["crs"], "neurotoxicity_scale": grading["neurotoxicity"]}}
    success = [{"arm": "a", "count": "crs_grade3plus", "at_most": 3}]
    return RunData("r", meta, [{"name": "a"}, {"name": "b"}], table,
                   summarise(table, success=success, grading=grading))


def test_terminal_and_report_name_the_scale_on_every_toxicity_line():
    run = _run({"crs": "penn", "neurotoxicity": "ctcae"})
    terminal = [label for label, _ in terminal_rows(run)]
    html = [label for label, _ in summary_rows(ReportContext(run))]
    for labels in (terminal, html):
        toxicity = [x for x in labels if "CRS" in x or "eurotoxicity" in x or "ICANS" in x]
        assert len(toxicity) >= 3, labels
        assert all("Penn" in x or "ASTCT 2019" in x or "CTCAE" in x for x in toxicity), toxicity
    assert "CRS grade >= 3, Penn (95% CI)" in terminal and "CRS grade >= 3, ASTCT 2019" in terminal
    cells = dict(terminal_rows(run))["CRS grade >= 3, Penn (95% CI)"]
    assert cells[0].startswith("66.7%")  # 4 of 6: the Penn rate, not the ASTCT one (50%)
    assert "CRS grade ≥ 3 (Penn) per trial" in replicates_html(ReportContext(run))
    assert "(Penn)" in replicates_html(ReportContext(run)).split("<li>")[1]
    fig, caption = icans_figure(ReportContext(run))
    assert "CTCAE" in caption and "CTCAE" in fig.axes[0].get_title()


def test_a_run_stored_before_scales_were_named_reads_as_the_defaults():
    run = _run({"crs": "astct2019", "neurotoxicity": "icans"})
    run.summary.pop("grading")
    run.meta.pop("endpoint_rules")
    labels = [label for label, _ in terminal_rows(run)]
    assert "CRS grade >= 3, ASTCT 2019 (95% CI)" in labels
    assert "neurotoxicity grade >= 3, ICANS (ASTCT 2019) (95% CI)" in labels


def test_a_scenario_names_its_scales_and_a_wrong_name_is_a_field_error():
    base = "name: g\ntitle: G\ndisease: lbcl\narms: [{name: a, product: tisa-cel-like}]\n"
    s = parse_scenario(base + "endpoints: {crs_scale: penn, neurotoxicity_scale: ctcae}\n")
    assert s.endpoints.grading() == {"crs": "penn", "neurotoxicity": "ctcae"}
    assert parse_scenario(base).endpoints.grading() == {"crs": "astct2019", "neurotoxicity": "icans"}
    for field, value, choices in (("crs_scale", "asct", "'astct2019', 'lee2014', 'cartox' or 'penn'"),
                                  ("neurotoxicity_scale", "CTCAE", "'icans' or 'ctcae'")):
        with pytest.raises(ScenarioError) as info:
            parse_scenario(base + f"endpoints: {{{field}: {value}}}\n", where="demo.yaml")
        message = str(info.value)
        assert f"endpoints.{field}" in message and choices in message and repr(value) in message, message


def test_calibration_targets_can_name_the_scale():
    rows = {"crs_grade": np.array([0, 2, 3, 4]), "crs_grade_penn": np.array([0, 3, 4, 4]),
            "icans_grade": np.array([0, 1, 3, 0]), "status": np.full(4, "OK")}
    c = CohortResult(rows, np.zeros(1), np.zeros((4, 1)), np.zeros((4, 1)))
    value = {q: quantity(q)[0](c)[0] for q in ("crs3_rate", "crs3_lee2014_rate", "crs3_cartox_rate",
                                               "crs3_penn_rate", "crs_any_penn_rate", "neurotox3_ctcae_rate",
                                               "neurotox_any_icans_rate", "icans3_rate")}
    assert value["crs3_rate"] == value["crs3_lee2014_rate"] == value["crs3_cartox_rate"] == 0.5
    assert value["crs3_penn_rate"] == 0.75 and value["crs_any_penn_rate"] == 0.75
    assert value["neurotox3_ctcae_rate"] == value["icans3_rate"] == 0.25 and value["neurotox_any_icans_rate"] == 0.5


SCENARIO = """
name: g
title: G
disease: lbcl
cohort: {{patients: 60, weight_kg: {{distribution: normal, mean: 80, sd: 15, low: 45, high: 140}}}}
arms: [{{name: axi, product: axi-cel-like}}]
assessments: {{imaging_days: [28], ctdna_days: [7]}}
follow_up_days: 40
endpoints: {{crs_scale: {scale}}}
seed: 5
"""


def test_the_scenario_field_reaches_the_run_summary(standard):
    runs = {s: run_trial(parse_scenario(SCENARIO.format(scale=s)), compiled=standard) for s in ("astct2019", "penn")}
    p = runs["penn"].patients
    np.testing.assert_array_equal(p["crs_grade"], runs["astct2019"].patients["crs_grade"])  # the same patients
    arm = {s: r.summary["arms"]["axi"] for s, r in runs.items()}
    assert runs["penn"].summary["grading"]["crs"] == "penn"
    assert arm["penn"]["crs_grade3plus_rate"]["events"] == int((p["crs_grade_penn"] >= 3).sum())
    assert arm["astct2019"]["crs_grade3plus_rate"]["events"] == int((p["crs_grade"] >= 3).sum())
    assert arm["penn"]["crs_grade3plus_rate"]["events"] > arm["astct2019"]["crs_grade3plus_rate"]["events"]
