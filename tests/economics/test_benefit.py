"""Who benefits: the per-arm estimates are lifelines' own fits, logistic odds ratios match the 2x2 closed
form, and a treatment x covariate interaction planted in a toy dataset is recovered."""

import numpy as np
import pandas as pd
import pytest
from lifelines import CoxPHFitter

from celltrial.economics.benefit import Covariate, _lines, plain_summary, table_covariates, who_benefits
from celltrial.economics.logistic import logistic


def _toy(interaction: float, n: int = 300, seed: int = 7):
    """Paired twins: arm a's PFS hazard does not depend on z; arm b's hazard is exp(-0.3 + interaction * z)."""
    rng = np.random.default_rng(seed)
    z = rng.normal(size=n)
    arm = np.repeat(["a", "b"], n)
    zz = np.tile(z, 2)
    log_hazard = np.where(arm == "b", -0.3 + interaction * zz, 0.0)
    t = rng.exponential(365.0 * np.exp(-log_hazard))
    event = t < 730.0
    return {"arm": arm, "status": np.array(["OK"] * 2 * n), "pfs_days": np.minimum(t, 730.0), "pfs_event": event,
            "responder": t > 180.0, "patient_id": np.tile(np.arange(n), 2)}, {"z": Covariate(zz, "z")}


def test_a_planted_interaction_is_recovered_and_its_absence_is_not_invented():
    p, cov = _toy(interaction=-0.8)
    block = who_benefits(p, cov, paired=True)["interactions"][0]
    hit = block["covariates"]["z"]
    assert hit["interaction"]["low"] < np.exp(-0.8) < hit["interaction"]["high"]
    assert hit["interaction"]["p"] < 1e-6
    assert hit["hr_above_median"]["hr"] < hit["hr_below_median"]["hr"]
    assert block["summary"].startswith("Patients with z above")
    p0, cov0 = _toy(interaction=0.0, seed=12)
    none = who_benefits(p0, cov0, paired=True)["interactions"][0]
    assert none["covariates"]["z"]["interaction"]["p"] > 0.05
    assert none["summary"].startswith("No covariate")


def test_forest_estimates_equal_lifelines_own_cox_fits():
    p, cov = _toy(interaction=-0.5)
    out = who_benefits(p, cov, paired=True)
    z = (cov["z"].values - cov["z"].values.mean()) / cov["z"].values.std()
    a = p["arm"] == "a"
    ref = CoxPHFitter().fit(pd.DataFrame({"pfs_days": p["pfs_days"][a], "pfs_event": p["pfs_event"][a], "z": z[a]}),
                            "pfs_days", "pfs_event").summary.loc["z"]
    mine = out["arms"]["a"]["z"]["pfs"]
    assert mine["hr"] == pytest.approx(ref["exp(coef)"], rel=1e-9)
    assert mine["low"] == pytest.approx(ref["exp(coef) lower 95%"], rel=1e-9)
    frame = pd.DataFrame({"pfs_days": p["pfs_days"], "pfs_event": p["pfs_event"], "arm": (~a).astype(float), "z": z})
    frame["arm_x_z"] = frame["arm"] * frame["z"]
    frame["patient_id"] = p["patient_id"]
    robust = CoxPHFitter().fit(frame, "pfs_days", "pfs_event", cluster_col="patient_id").summary.loc["arm_x_z"]
    inter = out["interactions"][0]["covariates"]["z"]["interaction"]
    assert inter["hr"] == pytest.approx(robust["exp(coef)"], rel=1e-9)
    assert inter["p"] == pytest.approx(robust["p"], rel=1e-6)


def test_logistic_odds_ratio_equals_the_two_by_two_table_and_separation_is_a_note():
    x = np.repeat([0.0, 1.0], 40)
    y = np.concatenate([np.arange(40) < 10, np.arange(40) < 30])  # odds 10/30 and 30/10
    fit = logistic(x[:, None], y)
    assert np.exp(fit["coef"][1]) == pytest.approx(9.0, rel=1e-8)
    se = np.sqrt(1 / 10 + 1 / 30 + 1 / 30 + 1 / 10)  # Woolf's standard error of log OR
    assert fit["se"][1] == pytest.approx(se, rel=1e-6)
    assert logistic(x[:, None], x > 0.5)["note"].startswith("complete separation")


def test_table_covariates_read_prior_lines_and_drop_constant_columns():
    np.testing.assert_allclose(_lines(np.array(["1", "3+", ">=4", ""])), [1, 3, 4, np.nan])
    t = {"weight_kg": np.full(20, 80.0), "baseline_burden": np.logspace(9, 11, 20)}
    assert list(table_covariates(t)) == ["baseline_burden"]


def test_plain_summary_never_calls_a_worse_arm_a_gain():
    block = {"z": {"interaction": {"hr": 0.7, "p": 0.01}, "median": 1.0,
                   "hr_above_median": {"hr": 1.5}, "hr_below_median": {"hr": 2.5}}}
    text = plain_summary("a", "b", block, {"z": {"label": "z", "log10": False}})
    assert "lose least with b" in text and "1.50 above vs 2.50 below" in text


def test_forest_figure_draws_one_series_per_arm_and_the_interaction():
    from celltrial.report.economics import forest_figure

    p, cov = _toy(interaction=-0.5)
    fig = forest_figure(who_benefits(p, cov, paired=True))
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert labels == ["a", "b", "interaction: b vs a"]
