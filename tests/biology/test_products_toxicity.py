"""Off-the-shelf products, CRS, safety switch, ctDNA, drugs and radiation (bands from issue 3)."""

import numpy as np

from celltrial.biology import crs_grade, standard_model
from celltrial.biology.grading import THRESHOLD_PARAMETERS
from celltrial.protocols import (
    anti_pd1,
    lymphodepletion,
    nk_infusion,
    radiotherapy,
    safety_switch,
    t_cell_infusion,
    tocilizumab,
)
from celltrial.solve import simulate

from .scenarios import DAYS, preset_params, run_preset

FINE = np.arange(0.0, 30.0, 0.25)


def _grade(res, params):
    model = standard_model()
    values = {**dict(zip(model.parameter_names, model.default_parameters(), strict=True)), **params}
    return int(crs_grade(np.nanmax(res["il6_signal"][0]), [values[k] for k in THRESHOLD_PARAMETERS]))


def test_ft596_peaks_within_a_day_and_is_gone_by_three_weeks(standard):
    blood = run_preset(standard, "lbcl", "ft596-like")["nk_uL"][0]
    assert int(np.argmax(blood)) <= 1
    assert blood[21] < 1e-3 * blood.max()
    assert blood[14] < 0.01 * blood.max()


def test_an_nk_dose_clears_minimal_disease_but_only_dents_a_bulky_tumour(standard):
    """NK cells do not expand: kills are capped per NK cell (kmax_K), so the burden decides."""
    save = ["B_tot", "C_K"]
    small, mid, bulky = (run_preset(standard, "lbcl", "ft596-like", B0=b0, save=save) for b0 in (1e9, 1e10, 1e11))
    assert small["B_tot"][0].min() < 1e-2 * 1e9  # minimal disease cleared more than 100-fold
    assert 0.3 < mid["B_tot"][0].min() / 1e10 < 0.99  # a dent, not a response
    assert bulky["B_tot"][0].min() > 0.95 * 1e11
    # total kills stay within what the NK cells can do: kmax_K kills per NK cell-day
    model = standard_model()
    kmax = dict(zip(model.parameter_names, model.default_parameters(), strict=True))["kmax_K"]
    killed = 1e11 - bulky["B_tot"][0].min()
    assert killed < kmax * bulky["C_K"][0][:30].sum() + 0.1 * 1e11  # growth and natural death are extra


def test_ciml_nk_persist_beyond_three_months(standard):
    ciml = run_preset(standard, "lbcl", "ciml-nk")["nk_uL"][0]
    plain = run_preset(standard, "lbcl", "ft500-like")["nk_uL"][0]
    assert ciml[100] >= 0.05  # cells/uL, still measurable after > 3 months
    assert ciml[100] > 1e3 * plain[100]


def test_rejection_is_faster_on_reexposure_unless_hla_engineered(standard):
    params = {k: [v] for k, v in preset_params("lbcl", "ft500-like", B0=1e9).items()}
    events = [lymphodepletion(0.0), nk_infusion(0.0, 3e8), nk_infusion(60.0, 3e8)]
    res = simulate(standard, params, t_end=80.0, events=events, save_at=np.arange(0.0, 81.0))
    nk = res["nk_uL"][0]
    assert nk[67] / nk[60] < nk[7] / nk[0]  # the second dose is cleared faster (primed host)
    hla = dict(params, rej_escape_K=[1.0])
    res_hla = simulate(standard, hla, t_end=80.0, events=events, save_at=np.arange(0.0, 81.0))
    assert res_hla["nk_uL"][0][67] > 10 * nk[67]


def test_gvhd_hazard_only_from_tcr_intact_allogeneic_t_cells(standard):
    def hazard(product, **overrides):
        return run_preset(standard, "lbcl", product, t_end=90.0, save_at=[90.0], **overrides)["H_gvhd"][0, -1]

    intact = hazard("ipsc-car-t", tcr_ko=0.0)
    assert intact > 0.05
    assert hazard("ipsc-car-t") < 1e-3 * intact  # TRAC-targeted CAR: no endogenous TCR
    assert hazard("ft596-like") < 1e-3 * intact  # NK products: almost none
    assert hazard("axi-cel-like") == 0.0  # autologous


def test_crs_rises_with_tumour_burden(standard):
    peaks, grades = [], []
    for burden in [1e9, 1e10, 1e11, 4e11]:
        params = preset_params("lbcl", "axi-cel-like", B0=burden)
        res = run_preset(standard, "lbcl", "axi-cel-like", B0=burden, t_end=30.0, save_at=FINE)
        peaks.append(np.nanmax(res["IL6"][0]))
        grades.append(_grade(res, params))
    assert np.all(np.diff(peaks) > 0)
    assert grades == sorted(grades) and grades[-1] > grades[0]


def test_crs_rises_with_dose_through_the_expansion(standard):
    # Turtle 2016 JCI: higher CAR-T doses raise severe CRS; the dose acts through the expansion it allows
    peaks, expansion = [], []
    for cells in [1e6, 1e7, 5e7, 1.4e8]:
        res = run_preset(standard, "lbcl", "axi-cel-like", cells=cells, t_end=30.0, save_at=FINE)
        peaks.append(np.nanmax(res["IL6"][0]))
        expansion.append(np.nanmax(res["car_T_uL"][0][FINE >= 3]))
    assert np.all(np.diff(expansion) > 0) and np.all(np.diff(peaks) > 0)


def test_tocilizumab_lowers_grade_without_blunting_expansion(standard):
    # a severe-CRS patient: high burden and the model's default IL-6 scale (above the ZUMA-1-fitted median)
    severe = dict(B0=3e11, il6_max=5000.0)
    params = preset_params("lbcl", "axi-cel-like", **severe)
    base = run_preset(standard, "lbcl", "axi-cel-like", t_end=30.0, save_at=FINE, **severe)
    toci = run_preset(standard, "lbcl", "axi-cel-like", t_end=30.0, save_at=FINE,
                      extra_events=[tocilizumab(4.0)], **severe)
    assert _grade(toci, params) < _grade(base, params)
    assert np.nanmax(toci["IL6"][0]) > 0.5 * np.nanmax(base["IL6"][0])  # serum IL-6 is not cleared by it
    np.testing.assert_allclose(np.nanmax(toci["car_T_uL"][0]), np.nanmax(base["car_T_uL"][0]), rtol=0.05)


def test_safety_switch_collapses_product_cells_within_a_day(standard):
    t = np.array([10.0, 10.125, 11.0, 12.0])
    res = run_preset(standard, "lbcl", "axi-cel-like", has_switch_T=1.0, t_end=12.0, save_at=t,
                     extra_events=[safety_switch(10.0)])
    total = res["C_T"][0]
    assert total[2] < 0.1 * total[0]  # > 90 % gone within a day
    assert total[1] < 0.9 * total[0]  # already falling within hours
    no_switch = run_preset(standard, "lbcl", "axi-cel-like", t_end=12.0, save_at=t, extra_events=[safety_switch(10.0)])
    assert no_switch["C_T"][0][2] > 0.3 * no_switch["C_T"][0][0]  # the drug alone does nothing


def test_ctdna_at_lung_defaults_and_its_fall_after_killing(standard):
    lung = {"g_T": 0.004, "d_T": 0.136, "q_d": 1.4e-4, "B0": 1e9, "K_T": 1e15}
    res = run_preset(standard, "lbcl", None, ld=False, t_end=1.0, save_at=[0.0, 1.0], **lung)
    per_billion = res["ctdna"][0, 0] / (res["B_tot"][0, 0] / 1e9)
    np.testing.assert_allclose(per_billion, 0.21, rtol=0.05)  # Avanzini 2020: 0.21 hGE/mL per 1e9 cells
    treated = run_preset(standard, "lbcl", "axi-cel-like", t_end=40.0, save_at=np.arange(0.0, 41.0))["ctdna"][0]
    peak_day = int(np.argmax(treated))
    assert peak_day <= 10 and treated[peak_day + 7] < 0.01 * treated[peak_day]  # falls within days


def test_pd1_knockout_or_antibody_lowers_the_exhausted_fraction(standard):
    def exhausted_fraction(**kw):
        extra = kw.pop("extra_events", [])
        res = run_preset(standard, "lbcl", "axi-cel-like", B0=3e11, t_end=28.0, save_at=[21.0],
                         extra_events=extra, **kw)
        return res["EX"][0, 0] / res["C_T"][0, 0]

    base = exhausted_fraction()
    assert exhausted_fraction(ko_pd1_T=1.0) < 0.8 * base
    assert exhausted_fraction(extra_events=anti_pd1([0.0], 200.0)) < 0.8 * base


def test_radiation_then_nk_kills_more_than_the_reverse(standard):
    params = {k: [v] for k, v in preset_params("lbcl", "ft500-like", B0=1e10).items()}
    rt_first = radiotherapy([0.0], 8.0) + [nk_infusion(1.0, 3e8)]
    nk_first = [nk_infusion(0.0, 3e8)] + radiotherapy([1.0], 8.0)
    burden = {}
    for name, ev in {"rt_first": rt_first, "nk_first": nk_first}.items():
        res = simulate(standard, params, t_end=14.0, events=[lymphodepletion(0.0)] + ev, save_at=[7.0, 14.0])
        burden[name] = res["B_tot"][0]
    assert np.all(burden["rt_first"] < 0.97 * burden["nk_first"])


def test_linear_quadratic_fraction_kill(standard):
    frozen = {"g_T": 0.0, "d_T": 0.0, "B0": 1e10, "alpha_rt": 0.35, "beta_rt": 0.035}
    res = run_preset(standard, "lbcl", None, ld=False, t_end=1.0, save_at=[0.0, 1.0],
                     extra_events=radiotherapy([0.0], 2.0), **frozen)
    survived = res["B_tot"][0, 1] / 1e10
    np.testing.assert_allclose(survived, np.exp(-0.35 * 2 - 0.035 * 4), rtol=1e-4)


def test_no_product_no_crs_and_cells_stay_nonnegative(standard):
    res = run_preset(standard, "ovarian", None, t_end=365.0, save_at=DAYS)
    assert np.nanmax(res["IL6"][0]) < 4.0
    n_states = len(standard.model.state_names)
    assert np.all(res.values[0, :, :n_states] >= 0.0)
    t = t_cell_infusion(0.0, 1e8)
    assert t.amounts == {"I_T": 1e8}
