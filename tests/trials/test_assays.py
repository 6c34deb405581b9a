"""Assay kinds and stored assay calls: LoDs, twins, policy observations, chunking, summary rates."""

import numpy as np
import pytest
from scipy import special

from celltrial.errors import ScenarioError
from celltrial.protocols.assays import ClonotypeNGS, MRDSampling, TumourInformedNGS, ctdna_assay
from celltrial.protocols.monitoring import CtDNAAssay, MRDAssay
from celltrial.scenarios import parse_scenario
from celltrial.trials.assays import ASSAY_COLUMNS, _from_course, arm_assays, detection_counts
from celltrial.trials.design import TrialPlan
from celltrial.trials.endpoints import patient_endpoints
from celltrial.trials.runner import simulate_chunk
from celltrial.trials.trial import run_trial

TRIAL = """
name: a
title: A
disease: lbcl
cohort: {patients: 6, replicates: 2, design: paired}
arms:
  - {name: generic, product: ft596-like}
  - {name: clonotype, product: ft596-like, ctdna_assay: {kind: clonotype_ngs, sites: 3}}
  - {name: informed, product: ft596-like, ctdna_assay: {kind: tumour_informed_ngs}}
  - {name: never, product: ft596-like, policy: {kind: ctdna_trigger, max_doses: 0}}
  - {name: trigger, product: ft596-like, policy: {kind: ctdna_trigger, consecutive_positive: 1, max_doses: 2}}
assessments:
  imaging_days: [28, 56, 84]
  ctdna_schedule: {pieces: [{every_days: 14}]}
  mrd: {assay: {method: flow}, days: [28, 84]}
follow_up_days: 100
seed: 17
"""


@pytest.fixture(scope="module")
def trial(standard):
    return run_trial(parse_scenario(TRIAL), compiled=standard, chunk_size=5)


def rows_of(calls, arm, assay="ctdna"):
    mask = (calls["arm"] == arm) & (calls["assay"] == assay)
    return {k: v[mask] for k, v in calls.items()}


@pytest.mark.parametrize("assay, molecules, expected", [
    (CtDNAAssay(), 1, 2.75), (ClonotypeNGS(), 1, 5.5), (TumourInformedNGS(), 2, 20 * 0.55 * 0.09 * 16),
    (TumourInformedNGS(sites=200, draw_ml=10, efficiency=0.5), 2, 10 * 0.55 * 0.5 * 200),
])
def test_ctdna_kinds_have_the_closed_form_95pc_lod(assay, molecules, expected):
    """95% LoD = the Poisson mean seen with probability 0.95 over molecules per hGE/mL sequenced."""
    lam = -np.log(0.05) if molecules == 1 else special.gammainccinv(molecules, 0.05)
    assert assay.molecules_per_hge_ml == pytest.approx(expected)
    assert assay.lod_hge_ml(0.95) == pytest.approx(lam / expected, rel=1e-12)
    assert assay.detection_probability(assay.lod_hge_ml(0.95)) == pytest.approx(0.95, rel=1e-9)


def test_default_lods_match_their_sources():
    assert CtDNAAssay().lod_hge_ml() == pytest.approx(-np.log(0.05) / 2.75)  # unchanged generic assay
    assert TumourInformedNGS().lod_hge_ml() == pytest.approx(0.3, rel=0.01)  # Signatera 0.3 MTM/mL
    assert TumourInformedNGS().lod_vaf() < 5e-4  # a few 1e-4 VAF on 953 hGE/mL normal cfDNA
    for method, lod in (("flow", 1e-4), ("ngs", 1e-6)):  # 3 cells per LoD: 95% at the LoD
        assert MRDAssay(method=method).lod_fraction(0.95) == pytest.approx(-np.log(0.05) / 3 * lod)


def test_more_sites_never_detect_less_on_the_same_uniforms():
    rng = np.random.default_rng(3)
    level = 10 ** rng.uniform(-3, 2, 5000)
    u = rng.random((2, 5000))
    one, _ = CtDNAAssay().observe(level, u[0], u[1])
    three, measured = ClonotypeNGS(sites=3).observe(level, u[0], u[1])
    assert (three >= one).all() and three.sum() > one.sum()
    assert (measured[three] > 0).all() and (measured[~three] == 0).all()


def test_mrd_measure_is_the_call_observe_makes():
    rng = np.random.default_rng(4)
    burden, u = 10 ** rng.uniform(4, 10, 2000), rng.random(2000)
    assay = MRDAssay(method="flow")
    positive, fraction = assay.measure(burden, u)
    np.testing.assert_array_equal(positive, assay.observe(burden, u))
    assert (fraction[positive] >= 1 / assay.cells_sampled).all() and (fraction[~positive] == 0).all()


def test_a_dict_without_kind_is_the_generic_assay():
    assert ctdna_assay({"draw_ml": 15}) == CtDNAAssay(draw_ml=15)
    assert ctdna_assay({"kind": "clonotype_ngs"}).targets == 2


@pytest.mark.parametrize("assay, words", [
    ("{kind: signatera}", ["ctdna_assay", "tumour_informed_ngs", "clonotype_ngs"]),
    ("{kind: tumour_informed_ngs, sitez: 3}", ["ctdna_assay.sitez", "sites"]),
    ("{kind: clonotype_ngs, sites: 0}", ["ctdna_assay.sites"]),
])
def test_a_bad_kind_or_field_is_named(assay, words):
    text = TRIAL.replace("ctdna_assay: {kind: clonotype_ngs, sites: 3}", f"ctdna_assay: {assay}")
    with pytest.raises(ScenarioError) as info:
        parse_scenario(text)
    assert all(w in str(info.value) for w in words), str(info.value)


def test_mrd_schedule_rejects_unordered_days():
    with pytest.raises(ValueError, match="increase strictly"):
        MRDSampling(days=[90, 28])


def test_calls_are_one_row_per_draw_while_alive(trial):
    calls, p = trial.assays, trial.patients
    assert list(calls) == list(ASSAY_COLUMNS)
    plan = TrialPlan(parse_scenario(TRIAL))
    days = arm_assays(plan, 0)["ctdna"][1]
    for arm in ("generic", "informed", "trigger"):
        mine = rows_of(calls, arm)
        death = np.where(p["os_event"], p["os_days"], np.inf)[p["arm"] == arm]
        assert len(mine["day"]) == int((days[None, :] < death[:, None]).sum())
        assert (mine["value"][~mine["detected"]] == 0).all() and (mine["value"][mine["detected"]] > 0).all()
    assert set(calls["unit"][calls["assay"] == "mrd"]) == {"fraction"}
    assert set(calls["method"][calls["assay"] == "mrd"]) == {"flow"}


def test_a_lower_lod_assay_detects_at_least_as_often_on_the_same_twins(trial):
    generic, clonotype = rows_of(trial.assays, "generic"), rows_of(trial.assays, "clonotype")
    for key in ("replicate", "patient", "day"):
        np.testing.assert_array_equal(generic[key], clonotype[key])
    assert (clonotype["detected"] >= generic["detected"]).all()
    assert (clonotype["lod"] < generic["lod"]).all()


def test_stored_calls_are_what_the_policy_saw(trial):
    """The policy arm's calls come from its controller; an arm without policy computes them from the
    course with the same uniforms: for twins whose policy never doses they are the same, row by row."""
    never, none = rows_of(trial.assays, "never"), rows_of(trial.assays, "generic")
    for key in ("replicate", "patient", "day", "detected", "value"):
        np.testing.assert_array_equal(never[key], none[key], err_msg=key)


def test_policy_controller_calls_equal_the_course_calls(standard):
    plan = TrialPlan(parse_scenario(TRIAL))
    arm = [a.name for a in plan.arms].index("trigger")
    rows = np.arange(plan.rows())
    course = simulate_chunk(plan, standard, arm, rows)
    seen = [c for c in course.policy.calls if c[0] == "ctdna"]
    assay, days = arm_assays(plan, arm)["ctdna"]
    again = _from_course(course, plan, "ctdna", assay, days)
    assert len(seen) == len(again) > 3
    for (_, k, day, positive, measured, alive), (k2, day2, positive2, measured2, _) in zip(seen, again, strict=True):
        assert (k, day) == (k2, day2)
        np.testing.assert_array_equal(positive[alive], positive2[alive])
        np.testing.assert_array_equal(measured[alive], measured2[alive])
    table = patient_endpoints(course, plan, arm, rows)
    assert table["policy_doses"].sum() > 0  # the policy acted on these calls


def test_calls_and_rates_do_not_depend_on_chunk_size(trial, standard):
    again = run_trial(parse_scenario(TRIAL), compiled=standard, chunk_size=60)
    for name, column in trial.assays.items():
        np.testing.assert_array_equal(column, again.assays[name], err_msg=name)
    assert again.summary == trial.summary


def test_summary_rates_are_the_calls_pooled(trial):
    counts = detection_counts(trial.assays)
    for arm, block in trial.summary["arms"].items():
        for assay, s in block["assays"].items():
            for day, drawn, detected, rate in zip(s["days"], s["drawn"], s["detected"], s["detected_rate"],
                                                  strict=True):
                assert counts.get((arm, assay, day), [0, 0]) == [drawn, detected]
                assert rate == (detected / drawn if drawn else None)


def test_no_calls_stored_when_switched_off_but_rates_kept(standard):
    off = parse_scenario(TRIAL + "simulation: {store_assays: false}\n")
    out = run_trial(off, compiled=standard)
    assert out.assays is None and out.summary["arms"]["generic"]["assays"]["ctdna"]["drawn"][0] == 12
