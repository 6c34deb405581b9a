"""Presets: every shipped file loads and validates; malformed files get errors naming the field."""

import pytest

from celltrial.biology import standard_model
from celltrial.errors import PresetError
from celltrial.presets import combined_parameters, load_disease, load_product, parse_preset, preset_names

GOOD_PRODUCT = """
name: test-product
title: A test product
description: for tests
kind: t_cell
allogeneic: false
dose: {cells: 1.0e8}
composition: {S: 0.1, CM: 0.2, EM: 0.3, EFF: 0.3, EX: 0.1}
sources: ["[E] test"]
"""


def test_shipped_presets_load_and_cover_the_issue():
    assert set(preset_names("disease")) == {"lbcl", "b-all", "ovarian"}
    assert {"axi-cel-like", "tisa-cel-like", "tscm-enriched", "ft500-like", "ft596-like", "ciml-nk",
            "ipsc-car-t"} <= set(preset_names("product"))
    model = standard_model()
    for name in preset_names("disease"):
        d = load_disease(name)
        assert d.sources and all(v.source for v in d.parameters.values())
    for name in preset_names("product"):
        p = load_product(name)
        params = combined_parameters(load_disease("lbcl"), p)
        assert set(params) <= set(model.parameter_names)
        assert p.cells_for(70.0) > 0


def test_tscm_product_has_ten_fold_more_stem_memory_at_lower_dose():
    tscm, axi = load_product("tscm-enriched"), load_product("axi-cel-like")
    assert tscm.composition["S"] >= 8 * axi.composition["S"]
    assert tscm.cells_for(70.0) <= axi.cells_for(70.0) / 3


def test_edits_map_to_parameters():
    ft596 = load_product("ft596-like").to_parameters()
    assert ft596["car_K"] == ft596["cd16"] == ft596["il15_K"] == 1.0
    assert load_product("ipsc-car-t").to_parameters()["tcr_ko"] == 1.0
    assert load_product("axi-cel-like").to_parameters()["allo_T"] == 0.0


def test_unknown_preset_suggests_a_name():
    with pytest.raises(PresetError, match="did you mean 'tisa-cel-like'"):
        load_product("tisa-cel")


@pytest.mark.parametrize("patch,message", [
    ("composition: {S: 0.1, CM: 0.2, EM: 0.3, EFF: 0.3, EX: 0.3}", "sum to 1"),
    ("composition: {S: 0.1, CM: 0.2, EM: 0.3, EFF: 0.4}", "exactly"),
    ("dose: {cells: 1.0e8, per_kg: 2.0e6}", "exactly one of"),
    ("colour: red", "colour"),
])
def test_malformed_product_names_the_field(patch, message):
    key = patch.split(":")[0]
    lines = [ln for ln in GOOD_PRODUCT.strip().splitlines() if not ln.startswith(key + ":")]
    with pytest.raises(PresetError, match=message):
        parse_preset("\n".join(lines + [patch]), "product", "test")


def test_parameter_names_sources_and_bounds_are_checked():
    ok = parse_preset(GOOD_PRODUCT, "product", "test")
    assert ok.to_parameters()["f_S"] == 0.1
    bad_name = GOOD_PRODUCT + 'parameters: {gama_T: {value: 1.0, source: "[E] x"}}\n'
    with pytest.raises(PresetError, match="did you mean 'gamma_T'"):
        parse_preset(bad_name, "product", "test")
    untagged = GOOD_PRODUCT + 'parameters: {gamma_T: {value: 1.0, source: "my guess"}}\n'
    with pytest.raises(PresetError, match="provenance tag"):
        parse_preset(untagged, "product", "test")
    out_of_bounds = GOOD_PRODUCT + 'parameters: {gamma_T: {value: 99.0, source: "[E] x"}}\n'
    with pytest.raises(PresetError, match="outside its bounds"):
        parse_preset(out_of_bounds, "product", "test")
