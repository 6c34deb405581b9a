"""CAR-T behaviour of the standard model against published kinetics (bands, not exact numbers).

Sources: Stein 2019 (tisa-cel in B-ALL), Kimmel 2021 (axi-cel in LBCL), Teachey 2016 (10^2-10^5
fold expansion across patients). See issue 3 and science.md section 8.1.
"""

import numpy as np
import pytest

from celltrial.biology import CLONES, standard_model, stein_metrics
from celltrial.cohorts import CohortSpec, Variability, patient_blocks, sample_cohort
from celltrial.presets import load_disease, load_product
from celltrial.protocols import Extinction, lymphodepletion, run_with_extinction, t_cell_infusion
from celltrial.protocols.extinction import DRAWS_PER_CHECK, checks_needed
from celltrial.solve import Simulation, simulate

from .scenarios import DAYS, preset_params, run_preset

LN2 = np.log(2.0)


def test_tisa_cel_typical_patient_has_stein_phases(standard):
    res = run_preset(standard, "b-all", "tisa-cel-like")
    m = stein_metrics(DAYS, res["car_copies"][0])
    assert 7.0 <= m["tmax"] <= 14.0
    assert 2.0 <= LN2 / m["alpha"] <= 8.0  # contraction half-life, days
    assert LN2 / m["beta"] > 100.0  # slow-phase half-life, days
    assert 24000 / 3 <= m["cmax"] <= 24000 * 3  # copies/ug, Stein typical value within 3x


@pytest.mark.xfail(strict=True, reason="known miss since issue 15: the typical fold-expansion and its range match "
                                       "Stein, but the spread across patients (90th/10th percentile) is about 8x, "
                                       "not the 10x and more of Teachey 2016 (docs/standard-model.md)")
def test_tisa_cel_cohort_expands_over_orders_of_magnitude(standard):
    disease, product = load_disease("b-all"), load_product("tisa-cel-like")
    spec = CohortSpec(typical=preset_params("b-all", "tisa-cel-like"),
                      variability=Variability({**disease.variability, **product.variability}))
    cohort = sample_cohort(standard.model, spec, n=200, seed=11, out_of_bounds="resample")
    events = product.regimen(0.0, disease.weight_kg)
    res = simulate(standard, cohort.params, t_end=365.0, events=events, save_at=DAYS, save=["car_copies"])
    assert res.ok().all()
    folds = np.array([stein_metrics(DAYS, y)["fold"] for y in res["car_copies"]])
    # no expansion peak by day 28 (undefined fold): primary non-expanders, at most about ELIANA's 19%
    # without remission (81% remission, Maude 2018) plus sampling error
    assert np.isnan(folds).mean() <= 0.25
    p10, p50, p90 = np.nanpercentile(folds, [10, 50, 90])
    assert 1e2 <= p10 and p90 <= 1e5  # Teachey 2016: 100x to 100,000x across patients
    assert 3900 / 3 <= p50 <= 3900 * 3  # Stein typical fold expansion
    assert p90 / p10 >= 10


def test_axi_cel_blood_levels_match_zuma1_medians(standard):
    blood = run_preset(standard, "lbcl", "axi-cel-like")["car_T_uL"][0]
    for day, target in {7: 27.5, 14: 9.1, 28: 2.1, 90: 0.1}.items():
        assert target / 3 <= blood[day] <= target * 3, (day, blood[day])
    assert 5 <= int(np.argmax(blood[1:29])) + 1 <= 14  # expansion peak after the distribution dip
    assert blood[2] < blood[0] / 3  # distribution phase: cells leave the blood within days


def _axi_cohort(standard, n, seed):
    disease, product = load_disease("lbcl"), load_product("axi-cel-like")
    spec = CohortSpec(typical=preset_params("lbcl", "axi-cel-like"),
                      variability=Variability({**disease.variability, **product.variability}))
    cohort = sample_cohort(standard.model, spec, n=n, seed=seed, out_of_bounds="resample")
    sim = Simulation(standard, cohort.params, events=product.regimen(0.0, 70.0),
                     save_at=DAYS, save=["B_tot", "Bp", "Bs"])
    clones = [Extinction(state, birth) for state, birth in CLONES.items()]
    width = checks_needed(0.0, 365.0, 1.0) * len(clones) * DRAWS_PER_CHECK
    u = patient_blocks(seed, cohort.patient_ids, "extinction", width, "random")
    extinct = run_with_extinction(sim, 365.0, clones, u)
    return cohort, sim.result(), extinct


@pytest.mark.xfail(strict=True, reason="known miss since issue 15: antigen-positive disease is eradicated in 40% of "
                                       "60 patients by day 365, but at a median of day 13.5, earlier than Kimmel's "
                                       "days 20-80 (docs/standard-model.md)")
def test_axi_cel_cures_early_and_progressions_later(standard):
    cohort, res, extinct = _axi_cohort(standard, 60, seed=3)
    burden = res["B_tot"]
    positive = res["Bp"] + res["Bs"]  # Kimmel's model has antigen-positive disease only
    gone = (positive <= 0)[:, ::-1].cumprod(axis=1)[:, ::-1].astype(bool)  # none left from here on
    cured = gone[:, -1]
    assert 0.3 <= cured.mean() <= 0.99
    assert 20 <= np.median(DAYS[np.argmax(gone[cured], axis=1)]) <= 80  # Kimmel: cures on days 20-80
    b0 = burden[:, 0]
    progressed = (burden > 1.2 * b0[:, None]) & (DAYS[None, :] > 30)
    t_prog = np.where(progressed.any(axis=1), DAYS[np.argmax(progressed, axis=1)], np.inf)
    assert np.isfinite(t_prog).sum() >= 3
    assert np.median(t_prog[np.isfinite(t_prog)]) > 80  # progressions come after the cures


def test_identical_patients_can_differ_in_cure_but_reproducibly(standard):
    # nadir of a few cells; no protected niche, so the exposed clone alone decides the cure
    params = preset_params("lbcl", "axi-cel-like", B0=2e10, gamma_T=6.0, x_prot=50.0)
    n = 40
    clones = [Extinction(state, birth) for state, birth in CLONES.items()]

    def run(seed, patients):
        sim = Simulation(standard, {k: [v] * len(patients) for k, v in params.items()},
                         events=[lymphodepletion(0.0), t_cell_infusion(0.0, 1.4e8)])
        width = checks_needed(0.0, 200.0, 1.0) * len(clones) * DRAWS_PER_CHECK
        u = patient_blocks(seed, patients, "extinction", width, "random")
        return run_with_extinction(sim, 200.0, clones, u)["Bp"]

    first = run(5, list(range(n)))
    assert 0 < np.isfinite(first).sum() < n  # same parameters, different fates
    again = run(5, list(range(n)))
    np.testing.assert_array_equal(first, again)
    alone = run(5, [7])  # patient 7 simulated alone draws from its own stream
    np.testing.assert_array_equal(alone, first[[7]])


@pytest.mark.parametrize("burden", [3e10])
def test_tscm_rich_product_expands_persists_and_controls_at_lower_dose(standard, burden):
    effector_rich = {"f_S": 0.005, "f_CM": 0.045, "f_EM": 0.15, "f_EFF": 0.7, "f_EX": 0.1}
    dose = 1.4e8
    tscm = run_preset(standard, "lbcl", "tscm-enriched", cells=dose, B0=burden, x_prot=50.0)
    eff = run_preset(standard, "lbcl", "tscm-enriched", cells=dose, B0=burden, x_prot=50.0, **effector_rich)
    low = run_preset(standard, "lbcl", "tscm-enriched", cells=dose / 4, B0=burden, x_prot=50.0)
    # per infused cell: more expansion (Stein fold) and more exposure over the first 90 days
    assert stein_metrics(DAYS, tscm["car_T_uL"][0])["fold"] > stein_metrics(DAYS, eff["car_T_uL"][0])["fold"]
    assert tscm["car_T_uL"][0][:91].sum() > eff["car_T_uL"][0][:91].sum()
    assert tscm["car_T_uL"][0][90] > 3 * eff["car_T_uL"][0][90]  # and more persistence
    assert low["Bp"][0].min() < eff["Bp"][0].min()  # a quarter of the dose controls at least as well
    assert low["Bp"][0].min() < 100


def test_zero_dose_is_the_untreated_arm(standard):
    params = preset_params("lbcl", "axi-cel-like")
    p = {k: [v] for k, v in params.items()}
    treated_zero = simulate(standard, p, t_end=200.0, events=[lymphodepletion(0.0), t_cell_infusion(0.0, 0.0)],
                            save_at=DAYS[:201])
    untreated = simulate(standard, p, t_end=200.0, events=[lymphodepletion(0.0)], save_at=DAYS[:201])
    np.testing.assert_allclose(treated_zero["B_tot"], untreated["B_tot"], rtol=1e-12)
    assert np.all(treated_zero.values[..., : len(standard_model().state_names)] >= 0.0)
