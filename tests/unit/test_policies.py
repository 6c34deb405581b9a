"""Policy decisions on hand-built observation histories (no simulation)."""

import numpy as np

from celltrial.policies.base import Caps, Decision, DosingRecord, History, Observations
from celltrial.policies.library import CtDNATrigger, Maintenance


def observe(day, positive, measured=None, alive=None):
    positive = np.asarray(positive, bool)
    n = positive.size
    measured = np.where(positive, 1.0, 0.0) if measured is None else np.asarray(measured, float)
    return Observations(float(day), positive, measured, np.zeros(n, bool), np.ones(n, bool) if alive is None
                        else np.asarray(alive, bool))


def run(policy, draws, n):
    """Feed (day, positives, measured) draws through history -> decide -> caps -> record."""
    history, record, decisions = History.empty(n), DosingRecord.empty(n), []
    for day, positive, measured in draws:
        obs = observe(day, positive, measured)
        history.update(obs)
        decision = policy.caps.apply(policy.decide(obs, history, record), record, day, obs.alive)
        record.give(decision.dose, day, decision.multiplier, decision.reason)
        decisions.append(decision)
    return decisions, record, history


def test_two_consecutive_positives_trigger_and_one_does_not():
    draws = [(28, [False, True], None), (56, [True, False], None), (84, [True, True], None)]
    decisions, record, _ = run(CtDNATrigger(consecutive_positive=2, rise_from_nadir=None), draws, 2)
    assert [d.dose.tolist() for d in decisions] == [[False, False], [False, False], [True, False]]
    assert record.log == [(0, 84.0, 1.0, "ctDNA positive x2")]


def test_rise_from_nadir_triggers_on_a_single_positive():
    draws = [(28, [True], [5.0]), (56, [True], [0.4]), (84, [True], [4.5])]
    policy = CtDNATrigger(consecutive_positive=5, rise_from_nadir=10.0, min_interval_days=0)
    decisions, _, history = run(policy, draws, 1)
    assert [bool(d.dose[0]) for d in decisions] == [False, False, True]
    assert history.nadir[0] == 0.4


def test_escalation_while_positive_persists_and_reset_after_a_negative():
    policy = CtDNATrigger(consecutive_positive=1, rise_from_nadir=None, escalate_factor=2.0, max_multiplier=4.0,
                          min_interval_days=0)
    draws = [(28, [True], None), (56, [True], None), (84, [True], None), (112, [True], None),
             (140, [False], None), (168, [True], None)]
    _, record, _ = run(policy, draws, 1)
    assert [m for _, _, m, _ in record.log] == [1.0, 2.0, 4.0, 4.0, 1.0]
    assert record.log[1][3] == "ctDNA still positive: escalated"


def test_caps_limit_doses_and_spacing():
    policy = CtDNATrigger(consecutive_positive=1, rise_from_nadir=None, max_doses=2, min_interval_days=50)
    draws = [(d, [True], None) for d in (28, 56, 84, 112, 140)]
    _, record, _ = run(policy, draws, 1)
    assert [day for _, day, _, _ in record.log] == [28.0, 84.0]


def test_never_positive_never_doses():
    draws = [(d, [False, False, False], None) for d in range(28, 400, 28)]
    _, record, history = run(CtDNATrigger(), draws, 3)
    assert record.doses.tolist() == [0, 0, 0] and not record.log
    assert np.isinf(history.first_positive_after_negative).all()


def test_molecular_relapse_is_the_first_positive_after_a_negative():
    draws = [(28, [True], None), (56, [False], None), (84, [False], None), (112, [True], None), (140, [True], None)]
    _, _, history = run(CtDNATrigger(max_doses=0), draws, 1)
    assert history.first_positive_after_negative[0] == 112.0


def test_maintenance_every_90_days_and_spaced_out_in_deep_response():
    plain = Maintenance(every_days=90, min_interval_days=0)
    assert plain.decision_days(365.0, np.array([])).tolist() == [90.0, 180.0, 270.0, 360.0]
    draws = [(d, [False, True], None) for d in (90, 180, 270, 360)]
    _, record, _ = run(plain, draws, 2)
    assert record.doses.tolist() == [4, 4]
    spaced = Maintenance(every_days=90, space_out_after=2, spaced_days=180, min_interval_days=0)
    days = spaced.decision_days(365.0, np.arange(30.0, 365.0, 30.0))
    draws = [(d, [False, True], None) for d in days]
    _, record, _ = run(spaced, draws, 2)
    # patient 0 is negative throughout: dosed at 90, then every 180 days; patient 1 every 90
    assert record.doses.tolist() == [2, 4]
    assert [day for i, day, _, _ in record.log if i == 0] == [90.0, 270.0]
    assert {r for _, _, _, r in record.log} == {"maintenance", "maintenance (spaced out)"}


def test_dead_patients_are_never_dosed():
    obs = observe(90, [True], alive=[False])
    decision = Decision(np.array([True]), np.ones(1), np.array(["x"], dtype=object))
    assert not Caps().apply(decision, DosingRecord.empty(1), 90.0, obs.alive).dose[0]


def test_bridge_doses_only_before_each_patients_transplant_and_budget_caps_spending():
    from celltrial.policies.library import BridgeToTransplant

    policy = BridgeToTransplant(every_days=28, transplant_day_min=60, transplant_day_max=120, min_interval_days=0)
    transplant = policy.transplant_days(np.array([0.0, 1.0]))
    assert transplant.tolist() == [60.0, 120.0]
    assert policy.decision_days(180.0, np.array([])).tolist() == [28.0, 56.0, 84.0, 112.0, 140.0, 168.0]
    record = DosingRecord.empty(2)
    for day in policy.decision_days(180.0, np.array([])):
        obs = observe(day, [False, False])
        decision = policy.decide(obs, History.empty(2), record, transplant_day=transplant)
        record.give(decision.dose, day, decision.multiplier, decision.reason)
    assert record.doses.tolist() == [2, 4]  # days 28, 56 | 28, 56, 84, 112


def test_relapse_trigger_doses_at_the_first_measurable_scan_after_remission():
    from celltrial.policies.library import RelapseTrigger

    policy = RelapseTrigger(min_interval_days=0)
    assert policy.decision_days(365.0, np.array([7.0]), np.array([28.0, 91.0])).tolist() == [28.0, 91.0]
    history, record = History.empty(3), DosingRecord.empty(3)
    scans = {28: [False, True, False], 91: [True, True, False], 182: [True, True, True]}  # measurable?
    given = []
    for day, measurable in scans.items():
        obs = Observations(float(day), np.zeros(3, bool), np.full(3, np.nan), np.array(measurable), np.ones(3, bool))
        history.update_imaging(obs)
        decision = policy.decide(obs, history, record)
        record.give(decision.dose, day, decision.multiplier, decision.reason)
        given.append(decision.dose.tolist())
    # patient 0: CR at 28, relapse at 91; patient 1 never in remission; patient 2 relapses at 182
    assert given == [[False, False, False], [True, False, False], [True, False, True]]
    assert history.imaging_relapse_day.tolist() == [91.0, np.inf, 182.0]


def test_ctdna_trigger_confirmed_by_mrd_doses_only_when_mrd_agrees():
    from celltrial.protocols.monitoring import MRDAssay

    policy = CtDNATrigger(consecutive_positive=2, rise_from_nadir=None, confirm_with_mrd=MRDAssay(method="ngs"))
    history, record = History.empty(3), DosingRecord.empty(3)
    for day in (28.0, 56.0):
        obs = observe(day, [True, True, False])
        obs.mrd_positive = np.array([True, False, True])  # patient 1: ctDNA says yes, MRD says no
        history.update(obs)
        decision = policy.decide(obs, history, record)
    assert decision.dose.tolist() == [True, False, False]  # patient 2: MRD alone never triggers
    assert decision.reason[0] == "ctDNA positive x2 + MRD (ngs) positive"
    obs.mrd_positive = None  # no MRD sample that day: no confirmation, no dose
    assert not policy.decide(obs, history, record).dose.any()
    assert policy.mrd_sample_days(365.0, np.array([28.0, 56.0])).tolist() == [28.0, 56.0]
    assert CtDNATrigger().mrd_assay() is None and CtDNATrigger().mrd_sample_days(365.0, np.array([28.0])).size == 0
