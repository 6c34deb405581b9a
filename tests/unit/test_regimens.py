"""The regimen algebra: Give / Repeat / Cycle / Sequence realised into dose tables and solver events."""

import math

import numpy as np
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from celltrial.errors import InputError
from celltrial.protocols import doses
from celltrial.protocols.regimens import (
    USUAL_MG,
    Cycle,
    DoseTable,
    Give,
    Regimen,
    Repeat,
    Sequence,
    from_schema,
    from_simple,
    to_events,
)
from celltrial.scenarios import schema


def _load(text: str) -> Regimen:
    return Regimen.model_validate(yaml.safe_load(text))


def _days(table, action=None):
    return (table.of(action) if action else table).day.tolist()


# --- realisation ---------------------------------------------------------------------------------------------


def test_gives_are_sorted_with_defaults_and_ld_first_on_a_day():
    r = Regimen(items=[Give(action="infusion", day=14, amount=0.5, label="boost"), Give(action="anti_pd1", day=3),
                       Give(action="infusion"), Give(action="radiotherapy", day=3, amount=2),
                       Give(action="lymphodepletion"), Give(action="adcc_antibody", day=1, amount=350)])
    t = r.realise(365)
    assert len(t) == 6
    assert t.day.tolist() == [0, 0, 1, 3, 3, 14]
    assert t.action.tolist() == ["lymphodepletion", "infusion", "adcc_antibody", "anti_pd1", "radiotherapy",
                                 "infusion"]
    assert np.array_equal(t.amount, [math.nan, 1.0, 350.0, USUAL_MG["anti_pd1"], 2.0, 0.5], equal_nan=True)
    assert USUAL_MG == {"anti_pd1": 200.0, "adcc_antibody": 700.0}
    assert t.rows()[-1] == {"day": 14.0, "action": "infusion", "amount": 0.5, "label": "boost"}
    assert t.rows()[0]["amount"] is None
    assert t.of("infusion").amount.tolist() == [1.0, 0.5]
    with pytest.raises(ValueError):
        t.day[0] = 5.0  # read-only columns


def test_rows_at_or_after_follow_up_are_dropped():
    r = Regimen(items=[Give(action="infusion", day=d) for d in (0, 99.5, 100, 150)])
    assert _days(r.realise(100)) == [0, 99.5]
    assert len(Regimen(items=[Give(action="infusion", day=400)]).realise(365)) == 0
    assert to_events(Regimen(items=[Give(action="infusion", day=400)]).realise(365), dose_cells=1e8,
                     kind="t_cell", weight_kg=70) == []


def test_repeat_times_and_until_day():
    give = [Give(action="infusion")]
    assert _days(Regimen(items=[Repeat(repeat=give, every_days=90, times=4)]).realise(365)) == [0, 90, 180, 270]
    assert _days(Regimen(items=[Repeat(repeat=give, every_days=90, times=4)]).realise(200)) == [0, 90, 180]
    for until in (270, 300, 359.9):
        r = Regimen(items=[Repeat(repeat=give, every_days=90, until_day=until)])
        assert _days(r.realise(365)) == [0, 90, 180, 270]
    r = Regimen(items=[Repeat(repeat=give, every_days=90, until_day=10_000, start_day=10)])
    assert _days(r.realise(365)) == [10, 100, 190, 280]  # until_day capped by the follow-up
    with pytest.raises(ValueError, match="exactly one of times"):
        Repeat(repeat=give, every_days=7, times=2, until_day=30)
    with pytest.raises(ValueError, match="exactly one of times"):
        Repeat(repeat=give, every_days=7)
    with pytest.raises(ValueError, match="before start_day"):
        Repeat(repeat=give, every_days=7, until_day=3, start_day=5)


def test_cycle_ft516_like():
    r = _load("""
items:
  - cycle:
      - {action: infusion, day: 0}
      - {action: infusion, day: 7}
      - {action: infusion, day: 14}
    length_days: 28
    cycles: 2
""")
    assert _days(r.realise(365)) == [0, 7, 14, 28, 35, 42]
    with pytest.raises(ValueError, match="inside a cycle of 10 days"):
        Cycle(cycle=[Give(action="infusion", day=10)], length_days=10, cycles=2)


def test_sequence_offsets_with_gap():
    weekly = Repeat(repeat=[Give(action="infusion")], every_days=7, times=3)
    r = Regimen(items=[Sequence(sequence=[weekly, Give(action="radiotherapy", amount=2),
                                          Give(action="infusion", day=2)], gap_days=5)])
    t = r.realise(365)
    assert _days(t, "infusion") == [0, 7, 14, 26]  # 14 + 5 = 19 (RT), 19 + 5 + 2 = 26
    assert _days(t, "radiotherapy") == [19]
    assert r.span_days() == 26
    assert _days(Regimen(items=[Sequence(sequence=[Give(action="lymphodepletion"),
                                                   Give(action="infusion")])]).realise(10)) == [0, 0]


def test_repeat_of_a_cycle():
    cycle = Cycle(cycle=[Give(action="infusion", day=d) for d in (0, 7, 14)], length_days=28, cycles=2)
    r = Regimen(items=[Repeat(repeat=[cycle], every_days=100, times=3, start_day=1)])
    assert _days(r.realise(250)) == [1, 8, 15, 29, 36, 43, 101, 108, 115, 129, 136, 143, 201, 208, 215, 229, 236, 243]
    assert _days(r.realise(130)) == [1, 8, 15, 29, 36, 43, 101, 108, 115, 129]


# --- the YAML examples of the reply --------------------------------------------------------------------------

MAINTENANCE = """
items:
  - repeat:
      - {action: lymphodepletion}
      - {action: infusion}
    every_days: 90
    times: 4
"""
RT_THEN_NK = """
items:
  - repeat:
      - {action: radiotherapy, amount: 2.0, label: RT 2 Gy}
      - {action: infusion, day: 1, label: NK after the fraction}
    every_days: 1
    times: 5
"""


def test_yaml_examples():
    t = _load(MAINTENANCE).realise(365)
    assert t.action.tolist() == ["lymphodepletion", "infusion"] * 4
    assert t.day.tolist() == [0, 0, 90, 90, 180, 180, 270, 270]
    t = _load(RT_THEN_NK).realise(365)
    assert _days(t, "radiotherapy") == [0, 1, 2, 3, 4] and set(t.of("radiotherapy").amount) == {2.0}
    assert _days(t, "infusion") == [1, 2, 3, 4, 5]


# --- properties ----------------------------------------------------------------------------------------------

QUARTERS = st.integers(0, 60).map(lambda k: k / 4)  # exact in binary: equalities below hold exactly
ACTIONS = ["infusion", "lymphodepletion", "radiotherapy", "anti_pd1", "safety_switch"]


def _give(action, day):
    return Give(action=action, day=day, amount=2.0 if action == "radiotherapy" else None)


def _cycle(items, extra, n, start):
    length = Regimen(items=items).span_days() + extra
    return Cycle(cycle=items, length_days=length, cycles=n, start_day=start)


def _extend(children):
    items = st.lists(children, min_size=1, max_size=3)
    every = st.integers(1, 40).map(float)
    repeat = st.builds(lambda it, e, n, s: Repeat(repeat=it, every_days=e, times=n, start_day=s),
                       items, every, st.integers(1, 4), QUARTERS)
    until = st.builds(lambda it, e, k, s: Repeat(repeat=it, every_days=e, until_day=s + k, start_day=s),
                      items, every, QUARTERS, QUARTERS)
    cycle = st.builds(_cycle, items, st.integers(1, 20).map(float), st.integers(1, 3), QUARTERS)
    sequence = st.builds(lambda it, g: Sequence(sequence=it, gap_days=g), items, QUARTERS)
    return repeat | until | cycle | sequence


ITEMS = st.recursive(st.builds(_give, st.sampled_from(ACTIONS), QUARTERS), _extend, max_leaves=6)
REGIMENS = st.lists(ITEMS, min_size=1, max_size=3).map(lambda it: Regimen(items=it))
FOLLOW_UP = st.integers(1, 300).map(float)


@settings(deadline=None)
@given(REGIMENS, FOLLOW_UP)
def test_realised_tables_are_sorted_inside_follow_up_and_reproducible(r, follow_up):
    t = r.realise(follow_up)
    assert np.all(np.diff(t.day) >= 0) and np.all((t.day >= 0) & (t.day < follow_up))
    same_day = t.day[1:] == t.day[:-1]
    assert not np.any(same_day & (t.action[1:] == "lymphodepletion") & (t.action[:-1] != "lymphodepletion"))
    assert r.realise(follow_up) == t and r.model_validate(r.model_dump()).realise(follow_up) == t
    assert len(t) == sum(len(t.of(a)) for a in ACTIONS)


@settings(deadline=None)
@given(REGIMENS)
def test_yaml_round_trip(r):
    text = yaml.safe_dump({"regimen": r.model_dump(mode="json")})
    assert Regimen.model_validate(yaml.safe_load(text)["regimen"]) == r
    assert Regimen.model_validate(yaml.safe_load(yaml.safe_dump(r.model_dump(mode="json", exclude_defaults=True)))) == r


@given(st.integers(1, 50), st.integers(1, 60).map(float), QUARTERS, FOLLOW_UP)
def test_repeat_gives_as_many_infusions_as_fit(n, every, start, follow_up):
    r = Regimen(items=[Repeat(repeat=[Give(action="infusion")], every_days=every, times=n, start_day=start)])
    fit = sum(1 for i in range(10_000) if start + i * every < follow_up)
    assert len(r.realise(follow_up).of("infusion")) == min(n, fit)


@settings(deadline=None)
@given(REGIMENS, QUARTERS, FOLLOW_UP)
def test_shifting_a_regimen_shifts_every_day(r, s, follow_up):
    t = r.realise(follow_up)
    shifted = t.shift(s)
    keep = shifted.day < follow_up
    expected = DoseTable(shifted.day[keep], shifted.action[keep], shifted.amount[keep], shifted.label[keep])
    assert r.shift(s).realise(follow_up) == expected
    assert r.shift(s).span_days() == r.span_days() + s
    whole = r.realise(r.span_days() + 1)
    first = whole.day[0]
    assert r.shift(-first).realise(r.span_days() + 1) == whole.shift(-first)
    with pytest.raises(InputError, match=r"items\[\d+\].*before day 0"):
        r.shift(-first - 0.25)
    with pytest.raises(InputError, match="before day 0"):
        whole.shift(-first - 0.25)


@settings(deadline=None)
@given(ITEMS, ITEMS, QUARTERS)
def test_sequence_length_is_additive(a, b, gap):
    seq = Regimen(items=[Sequence(sequence=[a, b], gap_days=gap)])
    span_a, span_b = Regimen(items=[a]).span_days(), Regimen(items=[b]).span_days()
    assert seq.span_days() == span_a + gap + span_b
    end = seq.span_days() + 1
    ta, tb = Regimen(items=[a]).realise(end), Regimen(items=[b]).realise(end).shift(span_a + gap)
    rows = [tuple(row.values()) for row in ta.rows() + tb.rows() if row["day"] < end]
    merged = DoseTable.from_rows((d, act, math.nan if m is None else m, lb) for d, act, m, lb in rows)
    assert seq.realise(end) == merged
    assert seq.realise(end).day[-1] == seq.span_days()


# --- the scenario schema's fields ----------------------------------------------------------------------------


@pytest.mark.parametrize("mode, ld_days", [("first", [0.0]), ("every", [0.0, 14.0, 28.0]), ("none", []),
                                           ([0.0, 28.0], [0.0, 28.0])])
def test_from_simple_places_lymphodepletion(mode, ld_days):
    t = from_simple([0, 14, 28], mode).realise(365)
    assert _days(t, "infusion") == [0, 14, 28] and _days(t, "lymphodepletion") == ld_days
    for d in ld_days:  # Flu/Cy at its nadir, the infusion day, applied before the infusion
        on_day = t.action[t.day == d].tolist()
        assert on_day.index("lymphodepletion") < on_day.index("infusion")


def test_from_simple_and_from_schema_map_every_field():
    reg = schema.Regimen(infusion_days=[0, 21], lymphodepletion_before="product",
                         radiotherapy={"days": [0, 1, 2], "dose_gy": 4}, anti_pd1={"days": [7, 28]},
                         adcc_antibody={"days": [0], "mg": 375}, safety_switch_days=[60])
    for product_ld, ld in ((True, [0.0]), (False, [])):
        t = from_schema(reg, product_ld).realise(365)
        assert _days(t, "lymphodepletion") == ld and _days(t, "infusion") == [0, 21]
        assert _days(t, "radiotherapy") == [0, 1, 2] and set(t.of("radiotherapy").amount) == {4.0}
        assert _days(t, "anti_pd1") == [7, 28] and set(t.of("anti_pd1").amount) == {200.0}
        assert t.of("adcc_antibody").amount.tolist() == [375.0] and _days(t, "safety_switch") == [60]
    same = from_simple([0, 21], "none", {"days": [0, 1, 2], "dose_gy": 4}, {"days": [7, 28], "mg": None},
                       {"days": [0], "mg": 375}, [60])
    assert same.realise(365) == from_schema(reg, False).realise(365)
    with pytest.raises(InputError, match="lymphodepletion must be"):
        from_simple([0], "sometimes")


def test_to_events_uses_the_dose_helpers():
    r = Regimen(items=[Give(action="infusion", amount=0.5), Give(action="lymphodepletion"),
                       Give(action="radiotherapy", day=1, amount=2), Give(action="anti_pd1", day=2),
                       Give(action="adcc_antibody", day=2, amount=350), Give(action="safety_switch", day=3),
                       Give(action="tocilizumab", day=4), Give(action="infusion", day=7)])
    t = r.realise(30)
    events = to_events(t, dose_cells=2e8, kind="t_cell", weight_kg=60)
    assert events == [doses.lymphodepletion(0.0), doses.t_cell_infusion(0.0, 1e8), *doses.radiotherapy(1.0, 2.0),
                      *doses.anti_pd1(2.0), *doses.adcc_antibody(2.0, 350.0), doses.safety_switch(3.0),
                      doses.tocilizumab(4.0, 60.0), doses.t_cell_infusion(7.0, 2e8)]
    nk = to_events(t.of("infusion"), dose_cells=1e9, kind="nk_cell", weight_kg=60)
    assert nk == [doses.nk_infusion(0.0, 5e8), doses.nk_infusion(7.0, 1e9)]
    assert type(events[0]).__name__ == "ScaleState" and events[0].factors == {"N": doses.FLU_CY_REMAINING,
                                                                                     "H_cd4": doses.FLU_CY_REMAINING}
    assert events[1].amounts == {"I_T": 1e8} and events[2].amounts == {"RT_D": 2.0, "RT_D2": 4.0}
    assert events[6].amounts == {"Toc": 480.0}
    with pytest.raises(InputError, match="kind must be"):
        to_events(t, dose_cells=1e8, kind="b_cell", weight_kg=70)


# --- errors --------------------------------------------------------------------------------------------------


def _error(data) -> str:
    with pytest.raises(ValueError) as info:
        Regimen.model_validate(data)
    return str(info.value)


def test_schema_errors_name_the_field():
    msg = _error({"items": [{"actoin": "infusion"}]})  # a misspelt key is validated as the member it meant
    assert "items.0.Give.action" in msg and "Field required" in msg and "items.0.Give.actoin" in msg
    assert "Repeat" not in msg and "Cycle" not in msg
    msg = _error({"items": [{"repeat": [{"action": "infusion"}], "every_days": 7, "time": 3}]})
    assert "items.0.Repeat.time" in msg and "Extra inputs" in msg and "Give" not in msg
    msg = _error({"items": [{"dose": 1}]})
    assert "items.0" in msg and "'action'" in msg and "'repeat'" in msg and "'sequence'" in msg
    assert "items.0.Give.action" in _error({"items": [{"day": 3}]})
    assert "items.0.Give.action" in _error({"items": [{"action": "infuse"}]})
    assert "Gy per fraction" in _error({"items": [{"action": "radiotherapy", "day": 1}]})
    assert "does not apply to lymphodepletion" in _error({"items": [{"action": "lymphodepletion", "amount": 1}]})
    assert "items.0.Give.day" in _error({"items": [{"action": "infusion", "day": -1}]})
    assert "items.0.Sequence.sequence.1.Give.day" in _error(
        {"items": [{"sequence": [{"action": "infusion"}, {"action": "infusion", "day": "x"}]}]})
    assert "items.0.Cycle.cycles" in _error({"items": [{"cycle": [{"action": "infusion"}], "length_days": 7,
                                                         "cycles": 0}]})
    assert "items" in _error({"items": []}) and "items.0" in _error({"items": [5]})


def test_realisation_errors():
    r = Regimen(items=[Give(action="infusion", day=3), Sequence(sequence=[Give(action="infusion", day=1, label="b")])])
    with pytest.raises(InputError, match=r"items\[1\]\.sequence\[0\] \(infusion 'b' on day 1\).*before day 0"):
        r.shift(-2)
    with pytest.raises(InputError, match="follow_up_days"):
        r.realise(0)
    with pytest.raises(InputError, match="did you mean 'infusion'"):
        r.realise(10).of("infusoin")
    flood = Regimen(items=[Repeat(repeat=[Give(action="infusion")], every_days=1e-3, until_day=1000)])
    with pytest.raises(InputError, match=r"items\[0\]\.repeat\[0\].*more than"):
        flood.realise(365)
