"""CD4:CD8 composition as a product property (Sommermeyer 2016 Leukemia 30:492; Turtle 2016 JCI).

CD4+ CAR T cells help CD8+ ones divide and lyse more slowly themselves, so at an equal CAR+ dose
a 1:1 product expands more than a CD8-only one and kills faster than a CD4-only one; at the 1:1
reference, where the kinetic parameters were fitted, both factors are exactly 1.
"""

import numpy as np

from celltrial.presets import load_product
from celltrial.scenarios.loader import parse_scenario

from .scenarios import run_preset

SAVE = ["car_T_uL", "B_tot", "help_T", "kill_cd4"]


def test_reference_composition_leaves_the_fitted_kinetics_alone(standard):
    res = run_preset(standard, "lbcl", "axi-cel-like", save=SAVE)
    assert np.all(res["help_T"][0] == 1.0) and np.all(res["kill_cd4"][0] == 1.0)
    assert load_product("liso-cel-like").to_parameters()["f_cd4"] == 0.5


def test_cd4_help_and_cd8_lysis_make_the_mixture_best(standard):
    one_to_one = run_preset(standard, "lbcl", "axi-cel-like", save=SAVE, cells=1.4e8)
    cd8_only = run_preset(standard, "lbcl", "axi-cel-like", save=SAVE, cells=1.4e8, f_cd4=0.0)
    cd4_only = run_preset(standard, "lbcl", "axi-cel-like", save=SAVE, cells=1.4e8, f_cd4=1.0)
    peak = {k: r["car_T_uL"][0][:29].max() for k, r in
            {"1:1": one_to_one, "cd8": cd8_only, "cd4": cd4_only}.items()}
    assert peak["cd8"] < 0.5 * peak["1:1"]  # without help, CD8+ cells expand far less
    assert cd4_only["kill_cd4"][0][0] < 0.6  # CD4+ cells lyse more slowly
    assert one_to_one["B_tot"][0][14] < cd8_only["B_tot"][0][14]
    assert one_to_one["B_tot"][0][14] < cd4_only["B_tot"][0][14]


def test_a_scenario_arm_can_set_the_composition():
    doc = """
schema_version: 1
name: cd4
title: CD8-only liso-cel-like
disease: lbcl
cohort: {patients: 2}
arms:
  - {name: cd8-only, product: liso-cel-like, changes: {cd4_fraction: 0.0}}
follow_up_days: 365
"""
    from celltrial.scenarios.loader import arm_product

    scenario = parse_scenario(doc, where="test")
    assert arm_product(scenario.arms[0]).to_parameters()["f_cd4"] == 0.0
