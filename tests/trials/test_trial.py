"""Trial runner: paired twins, chunk invariance, replicates, zero dose, interruption."""

import numpy as np
import pytest

from celltrial.cli.runs import execute
from celltrial.presets.schema import Dose
from celltrial.scenarios import parse_scenario
from celltrial.store import open_store
from celltrial.trials import trial as trial_module
from celltrial.trials.design import TrialPlan
from celltrial.trials.trial import run_trial

BASE = """
name: t
title: T
disease: lbcl
cohort: {{patients: 4, replicates: 2, design: {design},
          weight_kg: {{distribution: normal, mean: 80, sd: 15, low: 45, high: 140}}}}
arms:
  - {{name: std, product: axi-cel-like}}
  - {{name: tscm, product: tscm-enriched}}
assessments: {{imaging_days: [28, 56], ctdna_days: [7, 28]}}
follow_up_days: 60
seed: 11
"""


def scenario(design="paired", extra=""):
    return parse_scenario(BASE.format(design=design) + extra)


@pytest.fixture(scope="module")
def paired(standard):
    return run_trial(scenario(), compiled=standard)


def test_paired_twins_share_covariates_and_disease_in_every_arm(paired):
    p = paired.patients
    std, tscm = (p["arm"] == "std"), (p["arm"] == "tscm")
    for column in ("patient_id", "weight_kg", "baseline_burden"):
        np.testing.assert_array_equal(p[column][std], p[column][tscm])
    assert len(set(p["patient_id"][std])) == 8  # 4 patients x 2 replicates


def test_independent_arms_have_different_patients(standard):
    plan = TrialPlan(scenario("independent"))
    ids = [set(plan.patient_ids(a.index, np.arange(plan.rows())).tolist()) for a in plan.arms]
    assert not ids[0] & ids[1]
    b0 = [plan.sample(a, np.arange(plan.rows())).parameter("B0") for a in plan.arms]
    assert not np.array_equal(b0[0], b0[1])


def test_results_do_not_depend_on_chunk_size(paired, standard):
    again = run_trial(scenario(), compiled=standard, chunk_size=3)
    for name, column in paired.patients.items():
        np.testing.assert_array_equal(column, again.patients[name], err_msg=name)
    assert again.summary == paired.summary


def test_replicates_index_rows(paired):
    p = paired.patients
    assert sorted(set(p["replicate"].tolist())) == [0, 1]
    assert p["patient"].max() == 3
    assert paired.summary["replicates"]["n"] == 2


def test_cells_never_negative_and_endpoints_consistent(paired):
    p = paired.patients
    assert (p["cmax_cells_uL"] > 0).all() and (p["baseline_burden"] > 0).all()
    assert (p["pfs_days"] <= p["os_days"] + 1e-9).all()
    assert np.array_equal(p["cr"], p["best_response"] == "CR")
    assert (p["doses"] == 1).all()


def test_a_vanishing_dose_is_the_same_untreated_course_whatever_the_product(standard):
    # a scenario file refuses implausible doses (< 1e4 cells), so the vanishing dose is set in Python
    s = parse_scenario(BASE.format(design="paired").replace(
        "{name: std, product: axi-cel-like}", "{name: none_a, product: axi-cel-like}"
    ).replace("{name: tscm, product: tscm-enriched}", "{name: none_b, product: tscm-enriched}"))
    tiny = Dose(cells=1e-300)
    s = s.model_copy(update={"arms": [a.model_copy(update={"changes": a.changes.model_copy(update={"dose": tiny})})
                                      for a in s.arms]})
    p = run_trial(s, compiled=standard).patients
    a, b = p["arm"] == "none_a", p["arm"] == "none_b"
    assert (p["cmax_copies_ug"] < 1e-200).all() and (p["crs_grade"] == 0).all()
    for column in ("best_response", "pfs_days", "os_days", "ctdna_d28"):
        np.testing.assert_array_equal(p[column][a], p[column][b], err_msg=column)


def test_interrupted_run_keeps_finished_chunks_only(tmp_path, monkeypatch, standard):
    path = tmp_path / "scenario.yaml"
    path.write_text(BASE.format(design="paired") + "simulation: {chunk_size: 4}\n")
    calls = {"n": 0}
    real = trial_module.patient_endpoints

    def flaky(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(trial_module, "patient_endpoints", flaky)
    with pytest.raises(KeyboardInterrupt):
        execute(path, store_path=tmp_path / "db.duckdb")
    with open_store(tmp_path / "db.duckdb") as store:
        (run,) = store.list_runs()
        assert run["status"] == "interrupted" and run["patients"] == 4


POLICY = """
name: p
title: P
disease: lbcl
cohort: {patients: 5, design: paired}
arms:
  - {name: none, product: ft596-like}
  - {name: never, product: ft596-like, policy: {kind: ctdna_trigger, max_doses: 0}}
  - {name: trigger, product: ft596-like, policy: {kind: ctdna_trigger, consecutive_positive: 1, max_doses: 3}}
  - {name: q30, product: ft596-like, policy: {kind: maintenance, every_days: 30}}
assessments: {imaging_days: [28, 56, 84, 112], ctdna_schedule: {pieces: [{every_days: 14}]}}
follow_up_days: 120
seed: 5
"""


@pytest.fixture(scope="module")
def policy_trial(standard):
    return run_trial(parse_scenario(POLICY), compiled=standard)


def test_a_policy_that_never_doses_equals_the_arm_without_policy(policy_trial):
    p = policy_trial.patients
    none, never = p["arm"] == "none", p["arm"] == "never"
    for column in ("best_response", "pfs_days", "os_days", "cmax_cells_uL", "ctdna_d28", "cost_total", "doses"):
        np.testing.assert_array_equal(p[column][none], p[column][never], err_msg=column)
    assert (p["policy_doses"][never] == 0).all()


def test_policies_dose_and_say_when(policy_trial):
    p = policy_trial.patients
    q30, trigger = p["arm"] == "q30", p["arm"] == "trigger"
    alive = p["os_days"][q30] >= 120
    assert (p["policy_doses"][q30][alive] == 3).all()  # days 30, 60, 90
    assert (p["first_policy_dose_day"][q30][alive] == 30).all()
    assert (p["doses"] == 1 + p["policy_doses"]).all()
    assert (p["policy_doses"][trigger] <= 3).all()
    fired = p["policy_doses"][trigger] > 0
    assert (p["first_policy_dose_day"][trigger][fired] % 14 == 0).all()  # decided on draw days


def test_policy_decisions_do_not_depend_on_chunking(policy_trial, standard):
    again = run_trial(parse_scenario(POLICY), compiled=standard, chunk_size=2)
    for name, column in policy_trial.patients.items():
        np.testing.assert_array_equal(column, again.patients[name], err_msg=name)


def test_a_policy_woken_only_on_its_days_decides_as_if_woken_daily(policy_trial, standard, monkeypatch):
    """The run stops only on a policy's draw, scan and decision days; stopping every day (as the
    daily loop did) changes the solver's steps, never a decision."""
    from celltrial.policies.controller import PolicyController

    monkeypatch.setattr(PolicyController, "wake_days", lambda self, check_every=1.0: np.arange(1.0, 121.0))
    daily = run_trial(parse_scenario(POLICY), compiled=standard).patients
    for name in ("policy_doses", "first_policy_dose_day", "doses", "best_response", "crs_grade"):
        np.testing.assert_array_equal(daily[name], policy_trial.patients[name], err_msg=name)
    for name in ("cmax_cells_uL", "auc0_28_cells_uL_day", "ctdna_d28"):
        np.testing.assert_allclose(daily[name], policy_trial.patients[name], rtol=1e-4, err_msg=name)


def test_tocilizumab_rule_lowers_severe_crs(standard):
    text = BASE.format(design="paired").replace(
        "{name: tscm, product: tscm-enriched}",
        "{name: toc, product: axi-cel-like, safety: {tocilizumab_at_grade: 2}}")
    p = run_trial(parse_scenario(text), compiled=standard).patients
    plain, toc = p["arm"] == "std", p["arm"] == "toc"
    assert (p["crs_peak_il6"][toc] <= p["crs_peak_il6"][plain] * (1 + 1e-6)).all()
    assert p["crs_peak_il6"][toc].sum() < p["crs_peak_il6"][plain].sum()


def test_regimen_algebra_cycles_give_every_dose(standard):
    text = BASE.format(design="paired").replace(
        "{name: tscm, product: tscm-enriched}",
        "{name: cyc, product: ft596-like, regimen: {items: [{cycle: [{action: lymphodepletion}, {action: infusion},"
        " {action: infusion, day: 7}, {action: infusion, day: 14}], length_days: 28, cycles: 2}]}}")
    p = run_trial(parse_scenario(text), compiled=standard).patients
    cyc = p["arm"] == "cyc"
    alive = p["os_days"][cyc] >= 60
    assert (p["doses"][cyc][alive] == 6).all() and (p["dose_multiples"][cyc][alive] == 6).all()


def test_autologous_logistics_delay_fail_and_count_intention_to_treat(standard):
    text = BASE.format(design="paired").replace("patients: 4, replicates: 2", "patients: 12, replicates: 1").replace(
        "{name: tscm, product: tscm-enriched}",
        "{name: itt, product: axi-cel-like, logistics: {median_vein_to_vein_days: 24, failure_probability: 0.3}}")
    p = run_trial(parse_scenario(text), compiled=standard).patients
    itt, std = p["arm"] == "itt", p["arm"] == "std"
    assert (p["vein_to_vein_days"][std] == 0).all() and p["infused"][std].all()
    waited = p["vein_to_vein_days"][itt][p["infused"][itt]]
    assert (waited > 5).all() and 12 < np.median(waited) < 48
    not_infused = ~p["infused"][itt]
    assert not_infused.any()  # 30% failures among 12 patients (fixed seed)
    assert (p["doses"][itt][not_infused] == 0).all() and (p["cost_product"][itt][not_infused] == 0).all()
    assert (p["cost_manufacturing"][itt][not_infused] > 0).all()  # the failed product is paid for
    assert not p["responder"][itt][not_infused].any()
    assert (p["tmax_days"][itt][p["infused"][itt]] > waited - 1e-9).all()


def test_budget_caps_policy_spending(standard):
    text = POLICY.replace("{name: q30, product: ft596-like, policy: {kind: maintenance, every_days: 30}}",
                          "{name: q30, product: ft596-like, policy: {kind: maintenance, every_days: 30, "
                          "budget: 120000}}")
    p = run_trial(parse_scenario(text), compiled=standard).patients
    q30 = p["arm"] == "q30"
    assert (p["policy_doses"][q30] <= 2).all() and (p["policy_doses"][q30] == 2).any()  # 60,000 per dose


def test_a_python_policy_replaces_an_arms_policy(standard):
    from celltrial.policies import Decision, Policy

    class DoseWhenPositive(Policy):
        """Dose whoever is ctDNA-positive at a draw (a one-line clinical rule)."""

        def decide(self, obs, history, record):
            dose = obs.alive & obs.ctdna_positive
            return Decision(dose, np.ones(dose.size), np.where(dose, "positive", "").astype(object))

    out = run_trial(parse_scenario(POLICY), compiled=standard,
                    policies={"never": DoseWhenPositive(min_interval_days=14, max_doses=2)})
    p = out.patients
    never = p["arm"] == "never"
    assert (p["policy_doses"][never] <= 2).all() and p["policy_doses"][never].any()
    assert set(out.doses["reason"][out.doses["arm"] == "never"]) <= {"regimen", "positive"}
    with pytest.raises(Exception, match="unknown arms"):
        run_trial(parse_scenario(POLICY), compiled=standard, policies={"nevr": DoseWhenPositive()})


def test_no_policy_dose_after_gvhd(standard):
    gvhd_product = ("product: ipsc-car-t, changes: {edits: {tcr_ko: false}, parameters: {k_gvhd_T: 1.0}}")
    text = POLICY.split("arms:")[0] + f"""arms:
  - {{name: stop, {gvhd_product}, policy: {{kind: maintenance, every_days: 14, min_interval_days: 0}}}}
  - {{name: go-on, {gvhd_product}, policy: {{kind: maintenance, every_days: 14, min_interval_days: 0,
       stop_after_gvhd: false}}}}
""" + "assessments:" + POLICY.split("assessments:")[1]
    p = run_trial(parse_scenario(text), compiled=standard).patients
    stop, go_on = p["arm"] == "stop", p["arm"] == "go-on"
    assert p["gvhd"][stop].any()
    assert p["policy_doses"][stop].sum() < p["policy_doses"][go_on].sum()


def test_mrd_trigger_ngs_sees_residual_disease_no_later_than_flow(standard):
    text = POLICY.split("arms:")[0] + """arms:
  - {name: flow, product: ft596-like, policy: {kind: mrd_trigger, assay: {method: flow}, every_days: 14}}
  - {name: ngs, product: ft596-like, policy: {kind: mrd_trigger, assay: {method: ngs}, every_days: 14}}
""" + "assessments:" + POLICY.split("assessments:")[1]
    p = run_trial(parse_scenario(text), compiled=standard).patients
    flow, ngs = p["first_policy_dose_day"][p["arm"] == "flow"], p["first_policy_dose_day"][p["arm"] == "ngs"]
    fired = np.isfinite(flow)
    assert fired.any()
    assert (ngs[fired] <= flow[fired]).all()  # same patients and uniforms: NGS positive whenever flow is


def test_outpatient_dosing_saves_hospital_days(standard):
    text = POLICY.replace("{name: none, product: ft596-like}",
                          "{name: none, product: ft596-like, inpatient_days_per_dose: 0}")
    p = run_trial(parse_scenario(text), compiled=standard).patients
    out, inpatient = p["arm"] == "none", p["arm"] == "never"  # same product, no policy doses in either
    np.testing.assert_allclose(p["hospital_days"][inpatient] - p["hospital_days"][out], 1.0)  # NK default: 1 day


def test_relapse_scans_follow_the_manufacturing_wait():
    from celltrial.policies import PolicyController, RelapseTrigger

    c = PolicyController(RelapseTrigger(), assay=None, draw_days=[], uniforms=None, follow_up=100.0, n=3,
                         dose_events=lambda rows, day, m: {}, imaging_days=[28.0, 84.0],
                         scan_shift=np.array([0.0, 10.5, 30.0]))
    # scans read at the first daily check on or after them; after follow-up they do not happen
    assert c.scans.tolist() == [[28.0, 84.0], [39.0, 95.0], [58.0, np.inf]]
    assert c.decision_days.tolist() == [28.0, 39.0, 58.0, 84.0, 95.0]


def test_ctdna_trigger_confirmed_by_mrd_never_doses_earlier(standard):
    text = POLICY.split("arms:")[0] + """arms:
  - {name: ctdna, product: ft596-like, policy: {kind: ctdna_trigger, consecutive_positive: 1}}
  - {name: confirmed, product: ft596-like,
     policy: {kind: ctdna_trigger, consecutive_positive: 1, confirm_with_mrd: {method: flow}}}
""" + "assessments:" + POLICY.split("assessments:")[1]
    out = run_trial(parse_scenario(text), compiled=standard)
    p = out.patients
    first = p["first_policy_dose_day"]
    plain, confirmed = first[p["arm"] == "ctdna"], first[p["arm"] == "confirmed"]
    assert np.isfinite(plain).any()
    # twins follow the same course until their first policy dose; confirmation can only remove dose days
    assert (np.nan_to_num(confirmed, nan=np.inf) >= np.nan_to_num(plain, nan=np.inf)).all()
    reasons = out.doses["reason"][(out.doses["arm"] == "confirmed") & (out.doses["source"] == "policy")]
    assert all(r.endswith("+ MRD (flow) positive") for r in reasons)


def test_inventory_of_lots_is_counted_per_replicate_from_the_dose_log(standard):
    text = POLICY.replace("cohort: {patients: 5, design: paired}",
                          "cohort: {patients: 5, design: paired, replicates: 2}")
    text = text.replace("{name: q30, product: ft596-like, policy: {kind: maintenance, every_days: 30}}",
                        "{name: q30, product: ft596-like, policy: {kind: maintenance, every_days: 30}, "
                        "inventory: {lot_size_doses: 8, shelf_life_days: 365, lot_lead_time_days: 10, "
                        "reorder_point_doses: 2, accrual_per_month: 5, lot_cost: 80000}}")
    out = run_trial(parse_scenario(text), compiled=standard)
    stock = out.summary["arms"]["q30"]["inventory"]
    given = (out.doses["arm"] == "q30")
    assert stock["replicates"] == 2
    assert stock["doses_delivered_mean"] == pytest.approx(given.sum() / 2)
    assert stock["lots_mean"] >= np.ceil(given.sum() / 2 / 8)
    assert stock["cost_per_delivered_dose_mean"] >= 80000 / 8  # wastage can only raise the cost per dose
    assert "inventory" not in out.summary["arms"]["trigger"]


def test_an_arm_with_logistics_reports_intention_to_treat_and_as_treated(tmp_path):
    """Summary, terminal table and HTML report show both populations for the autologous arm only."""
    import io

    from rich.console import Console

    from celltrial.cli.runs_display import print_summary
    from celltrial.report import write_report

    outcome = execute("scenarios/offshelf_long_game.yaml", patients=12, store_path=tmp_path / "r.duckdb")
    arms = outcome.run.summary["arms"]
    treated = arms["autologous"]["as_treated"]
    run = outcome.full_run()
    infused = run.patients["infused"][run.patients["arm"] == "autologous"]
    assert treated["n_infused"] == infused.sum() and arms["autologous"]["n"] == 12
    assert all("as_treated" not in arms[a] for a in arms if a != "autologous")
    console = Console(file=io.StringIO(), width=200)
    print_summary(outcome.run, console=console)
    assert "as treated: infused / enrolled" in console.file.getvalue()
    html = write_report(run, tmp_path / "r.html").read_text()
    assert "As treated: infused / enrolled" in html and f"{treated['n_infused']} / 12" in html
