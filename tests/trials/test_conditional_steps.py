"""Conditional protocol steps (kind: conditional): who qualifies, what they get, and the effect on twins."""

import numpy as np
import pytest

from celltrial.errors import ScenarioError
from celltrial.policies.base import DosingRecord, History
from celltrial.policies.conditional import ConditionalSteps, Seen
from celltrial.policies.steps import StepRunner
from celltrial.scenarios import parse_scenario
from celltrial.trials.response import CR, LABELS, NE, PD, PR, SD, classify
from celltrial.trials.trial import run_trial

# --- the steps on hand-built observations (no simulation) ---------------------------------------------------


def steps(*items, then=None):
    return ConditionalSteps.model_validate({"steps": list(items), **({"then": then} if then else {})})


def history(codes, burden=None, positive=None, negative=None):
    h = History.empty(len(codes))
    h.imaging_response = np.asarray(codes, np.int8)
    h.imaging_burden = np.full(len(codes), 1e9) if burden is None else np.asarray(burden, float)
    if positive is not None:
        h.consecutive_positive, h.consecutive_negative = np.asarray(positive), np.asarray(negative)
    return h


def visit(spec, h, start=None, day=28.0, values=None, **kw):
    n = h.imaging_response.size
    given = []
    runner = StepRunner(spec, np.zeros(n) if start is None else start, follow_up=365.0,
                        events=lambda row, table: given.append((row, table.rows())) or ["event"], **kw)
    record = DosingRecord.empty(n)
    out = runner.visit(day, day, values or {"B_tot": np.full(n, 1e9)}, np.ones(n, bool), h, record)
    return record, out, dict(given)


def test_a_response_step_gives_its_items_to_the_qualifying_patients_only():
    spec = steps({"name": "second cycle", "on_day": 28, "when": {"response": ["PR", "SD"]},
                  "give": [{"action": "lymphodepletion"}, {"action": "infusion", "day": 2, "amount": 2}]})
    record, out, given = visit(spec, history([CR, PR, SD, PD, NE]), delay=None)
    assert sorted(out) == [1, 2] and record.doses.tolist() == [0, 1, 1, 0, 0]
    assert record.log == [(1, 30.0, 2.0, "second cycle: response PR/SD on day 28"),
                          (2, 30.0, 2.0, "second cycle: response PR/SD on day 28")]
    assert record.lymphodepletions.tolist() == [0, 1, 1, 0, 0]
    assert [r["day"] for r in given[1]] == [28.0, 30.0]  # shifted to the step's day


def test_otherwise_items_and_progressed_patients_off_protocol():
    spec = steps({"on_day": 90, "when": {"response": ["CR"]},
                  "give": [{"action": "radiotherapy", "amount": 2}],
                  "otherwise": [{"action": "infusion"}]})
    record, out, given = visit(spec, history([CR, PR, PD, NE]), day=90.0, delay=None)
    assert sorted(out) == [0, 1, 3]  # the PD patient is off protocol: neither branch
    assert given[0][0]["action"] == "radiotherapy" and given[1][0]["action"] == "infusion"
    assert record.log[0][3] == "step 1: not (response CR) on day 90"
    salvage = steps({"on_day": 90, "when": {"response": ["PD"]}, "give": [{"action": "infusion"}]})
    assert visit(salvage, history([CR, PD]), day=90.0, delay=None)[0].doses.tolist() == [0, 1]


def test_burden_ctdna_and_mrd_conditions_read_observations():
    seen = Seen(np.full(4, PR), np.array([0.0, 5e9, 2e10, np.nan]), np.array([1, 0, -1, 1]), None)
    cond = steps({"on_day": 0, "when": {"burden_above": 1e10}, "give": [{"action": "infusion"}]}).steps[0].when
    assert cond.holds(seen).tolist() == [False, False, True, False]
    cond = steps({"on_day": 0, "when": {"ctdna": "positive", "burden_below": 1e10},
                  "give": [{"action": "infusion"}]}).steps[0].when
    assert cond.holds(seen).tolist() == [True, False, False, False]
    mrd = steps({"on_day": 56, "when": {"mrd": "positive", "mrd_assay": {"method": "ngs"}},
                 "give": [{"action": "infusion"}]})
    tumour = {"B_tot": np.array([0.0, 1e9, 1e11])}  # no tumour, 0.1%, 10% of the marrow's 1e12 cells
    record, _, _ = visit(mrd, history([PR, PR, PR]), day=56.0, values=tumour, delay=None,
                         mrd_uniforms=np.full((3, 1), 0.5))
    assert record.doses.tolist() == [0, 1, 1]


def test_step_days_follow_each_patients_infusion_and_autologous_products_wait():
    spec = steps({"on_day": 28, "when": {"response": ["SD"]}, "give": [{"action": "infusion"}]})
    h = history([SD, SD, SD])
    record, _, _ = visit(spec, h, start=np.array([0.0, 20.0, np.inf]), delay=lambda rows: np.full(rows.size, 24.0))
    assert record.log == [(0, 52.0, 1.0, "step 1: response SD on day 28")]  # patient 1 is due on day 48


def test_errors_name_the_field():
    base = ("name: x\ntitle: X\ndisease: lbcl\narms: [{name: a, product: axi-cel-like, policy: {kind: conditional, "
            "steps: [%s]}}]\n")
    cases = [("{on_day: 28, when: {response: [PR, VGPR]}, give: [{action: infusion}]}",
              ["arms.0.policy.steps.0.when.response.1", "'CR', 'PR', 'SD' or 'PD'", "'VGPR'"]),
             ("{on_day: 400, when: {response: [PR]}, give: [{action: infusion}]}",
              ["arms.0.policy.steps.0.on_day", "day 400", "follow_up_days=365"]),
             ("{on_day: 28, when: {response: [PR]}}", ["arms.0.policy.steps.0.give", "missing"]),
             ("{on_day: 28, when: {}, give: [{action: infusion}]}",
              ["arms.0.policy.steps.0.when", "at least one condition"]),
             ("{on_day: 14, when: {response: [SD]}, give: [{action: infusion}]}",
              ["arms.0.policy.steps.0.when.response", "no scan on or before day 14"]),
             ("{on_day: 28, when: {respons: [PR]}, give: [{action: infusion}]}",
              ["arms.0.policy.steps.0.when.respons", "did you mean 'response'"])]
    for step, words in cases:
        with pytest.raises(ScenarioError) as err:
            parse_scenario(base % step)
        for w in words:
            assert w in str(err.value), (w, str(err.value))


# --- on paired twins ----------------------------------------------------------------------------------------

SECOND_CYCLE = ("{kind: conditional, steps: [{name: second cycle, on_day: 28, when: {response: [PR, SD]}, "
                "give: [{action: lymphodepletion}, {action: infusion}]}]}")
# "single" carries a policy that never doses, so its run stops on the same days as the step arms (draws and
# scans): the solver's steps, and so every number, match where nobody is dosed
TWINS = f"""
name: c
title: C
disease: lbcl
cohort: {{patients: 16, design: paired}}
arms:
  - {{name: single, product: axi-cel-like, policy: {{kind: ctdna_trigger, max_doses: 0}}}}
  - {{name: adapted, product: axi-cel-like, policy: {SECOND_CYCLE}}}
  - name: nobody
    product: axi-cel-like
    policy: {{kind: conditional, steps: [{{on_day: 28, when: {{burden_above: 1e13}}, give: [{{action: infusion}}]}}]}}
  - name: with-then
    product: axi-cel-like
    policy: {{kind: conditional, steps: [{{on_day: 28, when: {{response: [PR, SD]}}, give: [{{action: infusion}}]}}],
              then: {{kind: maintenance, every_days: 56, min_interval_days: 28}}}}
assessments: {{imaging_days: [28, 56, 90], ctdna_days: [7, 28, 56, 90]}}
follow_up_days: 120
seed: 3
"""


@pytest.fixture(scope="module")
def twins(standard):
    return run_trial(parse_scenario(TWINS), compiled=standard)


def arm(out, name):
    return {k: v[out.patients["arm"] == name] for k, v in out.patients.items()}


def observed_day28(out, s):
    """Each patient's response at the day-28 scan, recomputed from the untreated twin's stored burden."""
    traj = out.trajectories
    single = (traj["arm"] == "single") & (traj["day"] == 28.0)
    order = np.argsort(traj["patient"][single])
    burden = traj["B_tot"][single][order]
    baseline = arm(out, "single")["baseline_burden"]
    e = s.endpoints
    codes = classify([28.0], burden[:, None], baseline, np.full(baseline.size, np.inf),
                     detection=e.imaging_detection_cells, pr_fraction=e.partial_response_fraction,
                     increase=e.progression_increase)[:, 0]
    return codes


def test_the_conditional_cycle_goes_exactly_to_the_patients_observed_in_pr_or_sd(twins):
    codes = observed_day28(twins, parse_scenario(TWINS))
    qualifies = np.isin(codes, [PR, SD])
    assert 0 < qualifies.sum() < qualifies.size, LABELS[codes]  # the test can tell who qualifies
    d = twins.doses
    step = (d["arm"] == "adapted") & (d["source"] == "policy")
    assert sorted(d["patient"][step].tolist()) == np.flatnonzero(qualifies).tolist()
    assert (d["day"][step] == 28.0).all() and set(d["reason"][step]) == {"second cycle: response PR/SD on day 28"}
    a = arm(twins, "adapted")
    assert a["policy_doses"].tolist() == qualifies.astype(int).tolist()
    assert (a["doses"] == 1 + a["policy_doses"]).all()


def test_a_condition_nobody_meets_changes_nothing(twins):
    single, nobody = arm(twins, "single"), arm(twins, "nobody")
    for name, column in single.items():
        if name != "arm":
            np.testing.assert_array_equal(column, nobody[name], err_msg=name)


def test_the_second_cycle_raises_complete_responses_and_costs_on_twins(twins):
    single, adapted = arm(twins, "single"), arm(twins, "adapted")
    dosed = adapted["policy_doses"] > 0
    assert not (single["cr"] & ~adapted["cr"]).any()  # no twin loses a complete response
    assert adapted["cr"].sum() > single["cr"].sum()
    for name in ("best_response", "cost_total", "pfs_days"):  # twins not dosed are untouched
        np.testing.assert_array_equal(single[name][~dosed], adapted[name][~dosed], err_msg=name)
    s = parse_scenario(TWINS)
    extra = adapted["cost_product"][dosed] - single["cost_product"][dosed]
    np.testing.assert_allclose(extra, s.costs.autologous_dose)  # one more product dose, priced
    ld = adapted["cost_manufacturing"][dosed] - single["cost_manufacturing"][dosed]
    assert (ld >= s.costs.lymphodepletion - 1e-6).all()  # the step's Flu/Cy is costed


def test_steps_run_alongside_a_then_policy_on_one_record(twins):
    d = twins.doses
    mine = (d["arm"] == "with-then") & (d["source"] == "policy")
    reasons = set(d["reason"][mine])
    assert "step 1: response PR/SD on day 28" in reasons and "maintenance" in reasons
    for patient in set(d["patient"][mine].tolist()):
        days = np.sort(d["day"][mine & (d["patient"] == patient)])
        assert (np.diff(days) >= 28).all()  # the maintenance waits min_interval_days after the step's dose


def test_steps_do_not_depend_on_chunking(twins, standard):
    again = run_trial(parse_scenario(TWINS), compiled=standard, chunk_size=5)
    for name, column in twins.patients.items():
        np.testing.assert_array_equal(column, again.patients[name], err_msg=name)
