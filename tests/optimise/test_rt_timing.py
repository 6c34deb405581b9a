"""The RT-timing example: its timing variables are regimen-algebra fields that move the right administrations."""

import pytest

from celltrial.optimise import Evaluator
from celltrial.protocols.regimens import Regimen
from celltrial.scenarios import load_scenario

RT = "scenarios/optimise_rt_timing.yaml"
GAP, START = "regimen.items.0.gap_days", "regimen.items.1.start_day"


@pytest.fixture(scope="module")
def rt():
    return load_scenario(RT)[0]


def _days(scenario, action: str) -> list:
    table = Regimen(items=scenario.arms[0].regimen.items).realise(scenario.follow_up_days)
    return [float(d) for d, a in zip(table.day, table.action, strict=True) if a == action]


def test_the_gap_moves_the_nk_course_and_nothing_else(rt):
    ev = Evaluator(rt, simulate=lambda s: None)  # the search block is checked against the arm here
    near, far = (ev.trial_scenario({GAP: g, START: 5}, 2) for g in (1, 10))
    assert _days(near, "infusion") == [5.0, 12.0, 19.0]  # last fraction on day 4, one day's gap
    assert _days(far, "infusion") == [14.0, 21.0, 28.0]
    assert _days(near, "lymphodepletion") == [5.0] and _days(far, "lymphodepletion") == [14.0]
    assert _days(near, "radiotherapy") == _days(far, "radiotherapy") == [0.0, 1.0, 2.0, 3.0, 4.0]
    assert _days(near, "anti_pd1") == _days(far, "anti_pd1")


def test_the_start_moves_every_anti_pd1_dose(rt):
    ev = Evaluator(rt, simulate=lambda s: None)
    early, late = (_days(ev.trial_scenario({GAP: 1, START: s}, 2), "anti_pd1") for s in (0, 42))
    assert early[:2] == [0.0, 21.0] and late[:2] == [42.0, 63.0]
    assert max(late) <= 364.0 and len(late) == len(early) - 2  # until day 364: two fewer doses in the year
