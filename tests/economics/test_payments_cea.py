"""Payment models, ICER and net monetary benefit on small fixed cohorts, by hand."""

import numpy as np
import pytest

from celltrial.economics.cea import incremental, plane_and_curve
from celltrial.economics.discounting import DAYS_PER_YEAR as Y
from celltrial.economics.payment import PaymentModel, product_payments
from celltrial.economics.summary import economics_summary
from celltrial.errors import InputError


def _patients():
    """Patient 0: 3 doses on days 0..182, progression-free past 1 year; patient 1: one dose, progresses on
    day 100; patient 2: never infused (manufacturing failed)."""
    return {"doses": np.array([3, 1, 0]), "dose_multiples": np.array([3.0, 1.0, 0.0]),
            "cost_product": np.array([300.0, 100.0, 0.0]), "first_dose_day": np.array([0.0, 0.0, 0.0]),
            "last_dose_day": np.array([182.0, 0.0, np.nan]), "pfs_days": np.array([400.0, 100.0, 50.0])}


def _paid(model, rate=0.0, price=100.0):
    return product_payments(model, _patients(), list_price=price, rate=rate, method="annual")


def test_list_price_model_pays_the_simulated_product_cost():
    np.testing.assert_allclose(_paid(PaymentModel("list", "list"))["paid"], [300.0, 100.0, 0.0], rtol=1e-12)


def test_upfront_price_is_paid_once_per_infused_patient_whatever_the_doses():
    np.testing.assert_allclose(_paid(PaymentModel("u", "upfront", price=250.0))["paid"], [250.0, 250.0, 0.0])


def test_outcomes_based_instalments_are_paid_only_at_milestones_reached_progression_free():
    m = PaymentModel("o", "outcomes_based", price=1000.0, upfront_share=0.4, milestones_days=(90.0, 365.0))
    # patient 0 reaches both milestones; patient 1 only day 90; 0.3 of the price per milestone
    np.testing.assert_allclose(_paid(m)["paid"], [1000.0, 700.0, 0.0], rtol=1e-12)


def test_refund_and_instalments_pay_the_same_in_total_but_refunds_cost_the_payer_more_when_discounted():
    kw = {"price": 1000.0, "upfront_share": 0.4, "milestones_days": (90.0, 730.0)}
    inst = _paid(PaymentModel("i", "outcomes_based", mode="instalments", **kw), rate=0.035)
    refund = _paid(PaymentModel("r", "outcomes_based", mode="refund", **kw), rate=0.035)
    np.testing.assert_allclose(inst["paid"], refund["paid"], rtol=1e-12)
    # patient 1 reaches day 90 but misses day 730 (in year 2): the instalment is never paid, the refund comes
    # back a year later, discounted once
    assert inst["paid_discounted"][1] == pytest.approx(400.0 + 300.0, rel=1e-12)
    assert refund["paid_discounted"][1] == pytest.approx(1000.0 - 300.0 / 1.035, rel=1e-12)


def test_per_dose_caps_by_count_and_by_amount():
    by_count = PaymentModel("c", "per_dose", price=100.0, max_paid_doses=2)
    by_amount = PaymentModel("a", "per_dose", price=100.0, cap=250.0)
    np.testing.assert_allclose(_paid(by_count)["paid"], [200.0, 100.0, 0.0], rtol=1e-12)
    np.testing.assert_allclose(_paid(by_amount)["paid"], [250.0, 100.0, 0.0], rtol=1e-12)
    uncapped = PaymentModel("n", "per_dose")
    np.testing.assert_allclose(_paid(uncapped)["paid"], _paid(PaymentModel("list", "list"))["paid"], rtol=1e-12)


def test_subscription_pays_upfront_then_a_fee_per_patient_year_of_maintenance():
    m = PaymentModel("s", "subscription", price=50.0, annual_fee=365.25)
    np.testing.assert_allclose(_paid(m)["paid"], [50.0 + 182.0, 50.0, 0.0], rtol=1e-12)


def test_icer_nmb_and_dominance_by_hand():
    out = incremental(100_000.0, 1.0, 250_000.0, 2.5, wtp=[50_000, 150_000])
    assert out["icer"] == pytest.approx(100_000.0, rel=1e-12)
    assert out["incremental_nmb"] == pytest.approx({"50000": -75_000.0, "150000": 75_000.0}, rel=1e-12)
    assert incremental(10.0, 2.0, 20.0, 1.0)["icer"] is None
    assert incremental(10.0, 2.0, 20.0, 1.0)["note"].startswith("dominated")


def test_acceptability_is_the_share_of_replicates_with_positive_incremental_nmb():
    a = {"cost": np.zeros(6), "qalys": np.ones(6), "replicate": np.repeat([0, 1, 2], 2)}
    b = {"cost": np.array([100.0, 100, 200, 200, 400, 400]), "qalys": np.full(6, 2.0),
         "replicate": np.repeat([0, 1, 2], 2)}
    out = plane_and_curve(a, b, [150.0, 250.0, 500.0])
    assert out["incremental_cost"] == [100.0, 200.0, 400.0]
    assert out["acceptability"] == pytest.approx([1 / 3, 2 / 3, 1.0])
    assert plane_and_curve({**a, "replicate": np.zeros(6)}, {**b, "replicate": np.zeros(6)}, [1.0]) is None


def _table():
    n = 4
    return {"arm": np.array(["ref", "ref", "new", "new"]), "replicate": np.array([0, 1, 0, 1]),
            "status": np.array(["OK"] * n), "pfs_days": np.array([1.0, 1.0, 2.0, 2.0]) * Y,
            "pfs_event": np.ones(n, bool), "os_days": np.full(n, 2.0) * Y, "os_event": np.ones(n, bool),
            "crs_grade": np.zeros(n, int), "doses": np.array([1, 1, 3, 3]), "dose_multiples": np.array([1.0, 1, 3, 3]),
            "cost_product": np.array([400.0, 400, 150, 150]), "cost_total": np.array([500.0, 500, 200, 200]),
            "last_dose_day": np.array([0.0, 0.0, 182.0, 182.0])}


def test_economics_summary_reconciles_payer_cost_with_maker_revenue_and_computes_icer_by_hand():
    settings = {"discounting": {"rate": 0.0}, "utilities": {"progression_free": 0.8, "progressed": 0.5},
                "willingness_to_pay": [100.0],
                "payment_models": [{"name": "flat", "kind": "upfront", "price": {"ref": 400.0, "new": 300.0}}]}
    s = economics_summary(_table(), settings, prices={"ref": 400.0, "new": 50.0}, follow_up_days=2 * Y)
    ref, new = s["arms"]["ref"], s["arms"]["new"]
    assert ref["qalys"] == pytest.approx(0.8 + 0.5, rel=1e-12) and new["qalys"] == pytest.approx(1.6, rel=1e-12)
    for arm in (ref, new):
        for m in arm["payment_models"].values():  # payer's cost = care + what the maker receives
            assert m["payer_cost_per_patient"] == pytest.approx(arm["care_cost_per_patient"]
                                                                + m["maker_revenue_per_patient"], rel=1e-12)
    assert new["payment_models"]["flat"]["payer_cost_per_patient"] == pytest.approx(50.0 + 300.0, rel=1e-12)
    flat = s["comparisons"][0]["payment_models"]["flat"]
    assert flat["incremental_cost"] == pytest.approx(350.0 - 500.0) and flat["note"].startswith("dominant")
    assert flat["incremental_nmb"]["100"] == pytest.approx(100.0 * 0.3 + 150.0, rel=1e-12)
    assert s["budget_impact"]["arms"]["new"]["doses_per_year"] == pytest.approx(3000.0)


def test_economics_summary_names_missing_columns_and_unknown_reference_arms():
    t = _table()
    del t["last_dose_day"]
    with pytest.raises(InputError, match="last_dose_day"):
        economics_summary(t, {}, prices={"ref": 1.0, "new": 1.0}, follow_up_days=365.0)
    with pytest.raises(InputError, match="reference arm"):
        economics_summary(_table(), {}, prices={"ref": 1.0, "new": 1.0}, follow_up_days=365.0, reference_arm="x")
