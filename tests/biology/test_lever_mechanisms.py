"""Each lever acts through its mechanism in one typical patient (issue 15); cohort checks: the levers suite.

Dose (progeny budgets bound the expansion), lymphodepletion (homeostatic-cytokine gate),
composition (T_SCM budgets), costimulation (CD28-like vs 4-1BB-like), untreated natural
history (net growth stays positive) and ICANS (lags IL-6, needs CRS).
"""

import numpy as np
import pytest

from celltrial.biology import standard_model
from celltrial.biology.kinetics import expansion_peak
from celltrial.cohorts import CohortSpec, Variability, sample_cohort
from celltrial.presets import load_disease, load_product
from celltrial.solve import simulate

from .scenarios import DAYS, preset_params, run_preset

SAVE = ["car_T_uL", "B_tot", "Bp", "IL6", "il6_signal", "NT", "R_M", "R_E", "C_T"]


def _all_params(disease, product=None):
    model = standard_model()
    return {**dict(zip(model.parameter_names, model.default_parameters(), strict=True)),
            **preset_params(disease, product)}


def _peak(res):
    cmax, tmax = expansion_peak(DAYS, res["car_T_uL"])
    return float(cmax[0]), float(tmax[0])


def test_expansion_peak_skips_the_infusion_itself():
    t = np.arange(0.0, 29.0)
    falling = 100.0 * np.exp(-t)  # an infusion that only distributes and dies: no expansion
    expanding = np.where(t < 2, 100 * np.exp(-t), 100 * np.exp(-2) * np.exp(0.6 * (np.minimum(t, 10) - 2)))
    cmax, tmax = expansion_peak(t, np.stack([falling, expanding]))
    assert tmax[0] == 7.0 and cmax[0] == pytest.approx(100 * np.exp(-7))
    assert tmax[1] == 10.0 and cmax[1] == pytest.approx(expanding[10])


def test_untreated_tumour_grows_in_every_sampled_patient(standard):
    disease = load_disease("lbcl")
    spec = CohortSpec(typical=preset_params("lbcl"), variability=Variability(disease.variability))
    cohort = sample_cohort(standard.model, spec, n=300, seed=3, out_of_bounds="resample")
    res = simulate(standard, cohort.params, t_end=90.0, save_at=[0.0, 30.0, 90.0], save=["B_tot"])
    burden = res["B_tot"]
    assert np.all(burden[:, 1] > burden[:, 0]) and np.all(burden[:, 2] > burden[:, 1])


def test_dose_sets_the_peak_through_the_progeny_budget(standard):
    peaks = [_peak(run_preset(standard, "lbcl", "axi-cel-like", cells=c, save=SAVE))[0] for c in (1e5, 1e6, 1e7, 1e8)]
    assert all(b > a for a, b in zip(peaks, peaks[1:], strict=False))
    assert peaks[-1] > 30 * peaks[0]


def test_budget_is_spent_and_bounds_fold_expansion(standard):
    res = run_preset(standard, "lbcl", "axi-cel-like", cells=1e6, save=SAVE)
    assert res["R_M"][0][60] < 0.5 * res["R_M"][0][1]  # spent by the expansion
    product = load_product("axi-cel-like")
    params = _all_params("lbcl", "axi-cel-like")
    f = {k: product.composition[k] for k in ("S", "CM", "EM", "EFF", "EX")}
    per_cell = (f["S"] * params["n_S"] + f["CM"] * params["n_CM"] + f["EM"] * params["n_EM"]) / sum(f.values())
    engrafted = 1e6 * params["f_engraft"]
    # every memory division makes one cell; an effector born from one brings at most n_EFF more
    ceiling = engrafted * (1 + per_cell * (1 + params["n_EFF"]) + params["n_EFF"])
    assert res["C_T"][0].max() < ceiling


def test_lymphodepletion_gates_expansion(standard):
    with_ld = _peak(run_preset(standard, "lbcl", "axi-cel-like", save=SAVE))[0]
    without = _peak(run_preset(standard, "lbcl", "axi-cel-like", ld=False, save=SAVE))[0]
    assert without < 0.5 * with_ld


def test_tscm_rich_composition_persists_longer_per_cell(standard):
    tscm = {"f_S": 0.25, "f_CM": 0.25, "f_EM": 0.2, "f_EFF": 0.25, "f_EX": 0.05}
    base = run_preset(standard, "lbcl", "axi-cel-like", cells=5e7, save=SAVE)
    rich = run_preset(standard, "lbcl", "axi-cel-like", cells=5e7, save=SAVE, **tscm)
    assert rich["car_T_uL"][0][180] > 2 * base["car_T_uL"][0][180]


def _equal_dose(standard):
    cd28 = run_preset(standard, "lbcl", "axi-cel-like", cells=1.4e8, save=SAVE)
    bb = run_preset(standard, "lbcl", "tisa-cel-like", cells=1.4e8, save=SAVE)
    return cd28, bb


def test_cd28_like_peaks_earlier_with_more_il6_and_4_1bb_like_persists(standard):
    cd28, bb = _equal_dose(standard)
    assert _peak(cd28)[1] < _peak(bb)[1]
    assert cd28["il6_signal"][0].max() > bb["il6_signal"][0].max()
    assert bb["car_T_uL"][0][90] > 1.5 * cd28["car_T_uL"][0][90]


def test_cd28_like_peaks_higher_than_4_1bb_like_at_equal_dose(standard):
    cd28, bb = _equal_dose(standard)
    assert _peak(cd28)[0] > _peak(bb)[0]


def test_icans_lags_il6_and_needs_it(standard):
    res = run_preset(standard, "lbcl", "axi-cel-like", save=SAVE)
    assert np.argmax(res["NT"][0]) > np.argmax(res["IL6"][0])
    quiet = simulate(standard, {k: [v] for k, v in preset_params("lbcl").items()}, t_end=60.0,
                     save_at=np.arange(61.0), save=["NT"])
    assert quiet["NT"][0].max() < 0.05 * _all_params("lbcl")["icans_g1"]  # baseline IL-6 only: far below grade 1


def test_model_declares_the_lever_parameters_once():
    names = standard_model().parameter_names
    for name in ("g_T", "n_S", "n_CM", "n_EM", "n_EFF", "fit_T", "ld_floor", "kmax_T", "cyt_T", "neuro_T",
                 "icans_g1", "icans_g4"):
        assert names.count(name) == 1
