"""Lots, shelf life and stock-outs of an off-the-shelf product, checked against hand-worked schedules."""

import math

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from celltrial.errors import InputError
from celltrial.protocols.inventory import (
    InventorySpec,
    demand_from_log,
    enrolment_days,
    simulate_inventory,
    vials_needed,
)

#: 3.044 patients per 30.44 days: patient i enrols on trial day 10 i
TEN_DAY_GAPS = 3.044


def _spec(**changes) -> InventorySpec:
    base = {"lot_size_doses": 10, "shelf_life_days": 100, "lot_lead_time_days": 20, "initial_lots": 1,
            "reorder_point_doses": 0, "lot_cost": 1000.0, "accrual_per_month": TEN_DAY_GAPS}
    return InventorySpec(**(base | changes))


def _three_patients_four_doses():
    """Patients 0-2 (enrolled days 0, 10, 20), each dosed on days 0, 14, 28, 42 after enrolment.

    Trial days: 0 10 14 20 24 28 34 38 42 48 52 62 (twelve doses).
    """
    return np.repeat([0, 1, 2], 4), np.tile([0.0, 14.0, 28.0, 42.0], 3)


def test_hand_worked_example_reorders_once_and_wastes_the_unused_tail():
    # Lot A (day 0, expires 100). After the dose on day 28 four vials are left: 4 <= 4 -> order
    # lot B, which arrives on 48 and expires on 148. A serves days 0..48 (10 doses), B serves 52
    # and 62, so B expires with 8 vials: 2 lots, 12 delivered, 8 wasted, no stock-out.
    pid, day = _three_patients_four_doses()
    res = simulate_inventory(_spec(reorder_point_doses=4), pid, day)
    assert res.enrolment_days == pytest.approx([0.0, 10.0, 20.0])
    assert res.n_lots == 2
    assert np.isnan(res.lot_order_days[0]) and res.lot_order_days[1] == pytest.approx(28.0)
    assert res.lot_arrival_days == pytest.approx([0.0, 48.0])
    assert res.lot_used.tolist() == [10, 2] and res.lot_wasted.tolist() == [0, 8]
    assert (res.doses_delivered, res.doses_wasted, res.doses_on_hand_at_horizon) == (12, 8, 0)
    assert not res.stockouts.any() and res.given_days == pytest.approx(res.due_days)
    assert res.utilisation == pytest.approx(12 / 20)
    assert res.cost_per_delivered_dose == pytest.approx(2000.0 / 12)


def test_stockout_when_lead_time_exceeds_the_gap_to_the_next_dose():
    # Reorder point 0: A runs out on day 48 -> order B (arrives 68). The doses due on 52 (patient
    # 1) and 62 (patient 2) wait for B: delays 16 and 6 days.
    pid, day = _three_patients_four_doses()
    res = simulate_inventory(_spec(), pid, day)
    assert res.lot_order_days[1] == pytest.approx(48.0) and res.lot_arrival_days[1] == pytest.approx(68.0)
    assert res.stockouts.sum() == 2
    assert res.stockout_patients.tolist() == [1, 2]
    late = res.stockouts
    assert res.due_days[late] == pytest.approx([52.0, 62.0])
    assert res.given_days[late] == pytest.approx([68.0, 68.0])
    assert res.delay_days[late] == pytest.approx([16.0, 6.0])
    assert res.summary()["total_delay_days"] == pytest.approx(22.0)
    assert (res.doses_delivered, res.doses_wasted, res.n_lots) == (12, 8, 2)


def test_horizon_censors_waiting_doses_and_leaves_demand_after_it_out():
    # Books closed on day 60: the dose due on 52 still waits (censored delay 8), the one due on
    # 62 is out of scope, lot B (ordered 48) is still on order, nothing has expired yet.
    pid, day = _three_patients_four_doses()
    res = simulate_inventory(_spec(), pid, day, horizon_days=60)
    assert res.n_lots == 2 and res.doses_delivered == 10 and res.doses_wasted == 0
    assert res.doses_on_hand_at_horizon == 0
    assert res.stockouts.sum() == 1 and res.stockout_patients.tolist() == [1]
    assert np.nansum(res.delay_days) == pytest.approx(8.0)
    assert np.isnan(res.delay_days[res.due_days > 60]).all()


def test_vials_are_used_oldest_lot_first_and_the_rest_expires():
    # One patient; A (day 0, expires 30), B ordered on day 1 when A is down to 3 (arrives 6,
    # expires 36). Day 20 takes from A, not B; A expires on 30 with 2 left; 31 and 32 use B,
    # which expires on 36 with 3 left. No order on day 32: it is the trial's last dose.
    spec = _spec(lot_size_doses=5, shelf_life_days=30, lot_lead_time_days=5, reorder_point_doses=3)
    res = simulate_inventory(spec, [0] * 5, [0.0, 1.0, 20.0, 31.0, 32.0])
    assert res.lot_arrival_days == pytest.approx([0.0, 6.0])
    assert res.lot_used.tolist() == [3, 2]
    assert res.lot_wasted.tolist() == [2, 3]
    assert not res.stockouts.any()


def test_a_lot_is_unusable_on_its_expiry_day():
    spec = _spec(lot_size_doses=5, shelf_life_days=30, lot_lead_time_days=3)
    res = simulate_inventory(spec, [0], [30.0])
    # A expires on day 30 with all 5 vials; the dose waits for an emergency lot (arrives 33).
    assert res.lot_wasted.tolist() == [5, 4] and res.given_days == pytest.approx([33.0])


@pytest.mark.parametrize(("multiple", "vials"), [(1.0, 1), (1.5, 2), (2.0, 2), (2.0 + 1e-12, 2), (0.5, 1), (3.2, 4)])
def test_a_dose_multiple_uses_ceil_m_vials(multiple, vials):
    assert vials_needed([multiple]).tolist() == [vials]


def test_escalated_doses_consume_ceil_m_and_may_span_two_lots():
    # Lot of 4: 1 + 2 leave 1 vial; the 1.5x dose needs 2 -> an emergency lot (lead 0) arrives on
    # day 2, the dose takes 1 vial from A and 1 from B, on time. B expires with 3.
    spec = _spec(lot_size_doses=4, shelf_life_days=50, lot_lead_time_days=0)
    res = simulate_inventory(spec, [0, 0, 0], [0.0, 1.0, 2.0], [1.0, 2.0, 1.5])
    assert res.vials.tolist() == [1, 2, 2]
    assert res.lot_used.tolist() == [4, 1] and res.lot_wasted.tolist() == [0, 3]
    assert res.doses_delivered == 5 and not res.stockouts.any()


def test_zero_demand_makes_only_the_initial_lots_which_expire_within_the_horizon():
    spec = _spec(initial_lots=2, shelf_life_days=50, reorder_point_doses=5)
    res = simulate_inventory(spec, [], [], n_patients=3, horizon_days=120)
    assert res.enrolment_days == pytest.approx([0.0, 10.0, 20.0])
    assert (res.n_lots, res.doses_wasted, res.doses_delivered) == (2, 20, 0)
    assert res.utilisation == 0.0 and math.isnan(res.cost_per_delivered_dose)
    early = simulate_inventory(spec, [], [], horizon_days=40)
    assert (early.doses_wasted, early.doses_on_hand_at_horizon) == (0, 20)


def test_poisson_accrual_is_reproducible_from_the_generator_and_has_the_right_rate():
    spec = _spec(accrual="poisson")
    pid, day = _three_patients_four_doses()
    a = simulate_inventory(spec, pid, day, rng=np.random.default_rng(7))
    b = simulate_inventory(spec, pid, day, rng=np.random.default_rng(7))
    c = simulate_inventory(spec, pid, day, rng=np.random.default_rng(8))
    assert np.array_equal(a.enrolment_days, b.enrolment_days) and a.summary() == b.summary()
    assert not np.array_equal(a.enrolment_days, c.enrolment_days)
    assert a.enrolment_days[0] == 0.0 and np.all(np.diff(a.enrolment_days) > 0)
    days = enrolment_days(spec, 20_001, np.random.default_rng(0))
    assert np.diff(days).mean() == pytest.approx(10.0, rel=0.03)  # 1 / rate; SE 0.7%


def test_poisson_accrual_without_a_generator_is_an_input_error():
    with pytest.raises(InputError, match="rng"):
        simulate_inventory(_spec(accrual="poisson"), [0], [0.0])


def test_results_do_not_depend_on_the_row_order_of_the_dose_log():
    pid, day = _three_patients_four_doses()
    order = np.random.default_rng(1).permutation(len(pid))
    a, b = simulate_inventory(_spec(), pid, day), simulate_inventory(_spec(), pid[order], day[order])
    assert a.summary() == b.summary()
    assert b.given_days == pytest.approx(a.given_days[order])


def test_demand_from_a_dose_log_dataframe_or_dict():
    frame = pd.DataFrame({"patient": [0, 1], "day": [0.0, 3.0], "multiplier": [1.0, 2.0], "arm": ["x", "x"]})
    pid, day, mult = demand_from_log(frame)
    assert pid.tolist() == [0, 1] and day.tolist() == [0.0, 3.0] and mult.tolist() == [1.0, 2.0]
    assert demand_from_log({"patient": [0], "day": [1.0]})[2].tolist() == [1.0]
    with pytest.raises(InputError, match="day"):
        demand_from_log({"patient": [0]})


def test_result_arrays_are_read_only():
    res = simulate_inventory(_spec(), [0], [0.0])
    with pytest.raises(ValueError, match="read-only"):
        res.given_days[0] = 1.0


@pytest.mark.parametrize("field", ["lot_size_doses", "shelf_life_days", "lot_lead_time_days", "initial_lots",
                                   "reorder_point_doses", "lot_cost", "accrual_per_month"])
def test_spec_rejects_out_of_range_values_naming_the_field(field):
    with pytest.raises(ValidationError, match=field):
        _spec(**{field: -1})


def test_spec_rejects_unknown_fields_and_accrual_kinds():
    with pytest.raises(ValidationError, match="lot_sise"):
        _spec(lot_sise=3)
    with pytest.raises(ValidationError, match="accrual"):
        _spec(accrual="weekly")


@pytest.mark.parametrize(("args", "kwargs", "name"), [
    (([0, 1], [0.0]), {}, "dose_days"),
    (([0.5], [0.0]), {}, "patient_ids"),
    (([-1], [0.0]), {}, "patient_ids"),
    (([0], [-2.0]), {}, "dose_days"),
    (([0], [np.nan]), {}, "dose_days"),
    (([0], [0.0], [0.0]), {}, "dose_multiples"),
    (([3], [0.0]), {"n_patients": 2}, "n_patients"),
    (([0], [0.0]), {"horizon_days": -1.0}, "horizon_days"),
])
def test_bad_demand_is_an_input_error_naming_the_argument(args, kwargs, name):
    with pytest.raises(InputError, match=name):
        simulate_inventory(_spec(), *args, **kwargs)
