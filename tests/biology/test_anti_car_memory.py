"""Host memory against the CAR transgene: primed by the first dose, recalled by the next infusion.

Sources: Turtle 2016 JCI 126:2123 (transgene-specific CD8 responses), Gauthier 2021 Blood 137:323
(second infusions respond in 39%; Flu before the first infusion helps the second), Strati 2021
(CD4 deficit for a year after Flu/Cy). See biology/alloimmunity.py and
docs/calibration/redose-tradeoff.md.
"""

import numpy as np

from celltrial.protocols import lymphodepletion, t_cell_infusion

from .scenarios import DAYS, run_preset

SAVE = ["car_T_uL", "R_car", "E_car", "H_cd4", "I_T"]
DOSE = 1.6e8  # axi-cel-like flat dose for an 80-kg patient (2e6/kg)


def test_first_dose_meets_no_memory(standard):
    """The first infusion's kinetics are those fitted without anti-CAR memory (E_car stays about 0)."""
    on = run_preset(standard, "lbcl", "axi-cel-like", save=SAVE)
    off = run_preset(standard, "lbcl", "axi-cel-like", save=SAVE, k_rej_car=0.0)
    assert on.ok().all() and off.ok().all()
    np.testing.assert_allclose(on["car_T_uL"][0], off["car_T_uL"][0], rtol=1e-4, atol=1e-9)
    assert on["R_car"][0][365] > 0.01  # yet the host is primed by it
    assert on["E_car"][0].max() < 1e-4  # a negligible hazard (1/day) beside effector death (about 1/day)


def test_flu_cy_blunts_priming(standard):
    """Without lymphodepletion CD4 help is intact and memory primes more (Turtle 2016; Gauthier 2021)."""
    with_ld = run_preset(standard, "lbcl", "axi-cel-like", save=SAVE)
    without = run_preset(standard, "lbcl", "axi-cel-like", save=SAVE, ld=False)
    assert with_ld["H_cd4"][0][0] < 0.05 and 0.15 < with_ld["H_cd4"][0][365] < 0.35  # Strati 2021: ~1/5 at 1 year
    # the smaller expansion without Flu/Cy stimulates priming less, so the net effect is moderate
    assert without["R_car"][0][90] > 1.3 * with_ld["R_car"][0][90]


def test_second_infusion_is_cut_by_recalled_memory(standard):
    """A re-dose at day 180 after Flu/Cy expands far less when the primed memory is recalled."""
    again = [lymphodepletion(180.0), t_cell_infusion(180.0, DOSE)]
    on = run_preset(standard, "lbcl", "axi-cel-like", extra_events=again, save=SAVE)
    off = run_preset(standard, "lbcl", "axi-cel-like", extra_events=again, save=SAVE, k_rej_car=0.0)
    assert on.ok().all() and off.ok().all()
    second_on, second_off = on["car_T_uL"][0][181:211].max(), off["car_T_uL"][0][181:211].max()
    assert second_off > 1.0  # without memory the re-dose expands again
    assert second_on < 0.5 * second_off


def test_recall_jump_matches_its_closed_form(standard):
    """The boost integrates to k_rej_car * R_car * ln(1 + dose/K_boost) over the infusion's bolus.

    Weak rejection (k_rej_car 1e-3) keeps the bolus leaving blood at the distribution rate alone,
    and slow contraction (d_Ecar 0.01 /day) leaves a known decay over the day after the re-dose.
    """
    k, d_e, k_boost = 1e-3, 0.01, 1e7
    again = [t_cell_infusion(180.0, DOSE)]
    res = run_preset(standard, "lbcl", "axi-cel-like", extra_events=again, save=SAVE, k_rej_car=k, d_Ecar=d_e,
                     K_boost=k_boost)
    assert res.ok().all()
    r = res["R_car"][0][180]
    before = res["E_car"][0][180] * np.exp(-d_e)  # left over from the first bolus (about 0)
    left = res["I_T"][0][181]  # the part of the bolus still circulating a day later (about 2%)
    boost = np.log1p(DOSE / k_boost) - np.log1p(left / k_boost)
    expected = k * r * boost * np.exp(-d_e * 0.5) + before  # most of the bolus is spent within hours
    assert abs(res["E_car"][0][181] - expected) < 0.02 * expected
    assert DAYS[181] == 181.0
