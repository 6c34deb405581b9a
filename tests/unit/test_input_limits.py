"""Input limits shared by every reader (issue 14): file size and UTF-8, the limited YAML loader,
strict numbers, schema messages, and preset names that are never paths."""

from __future__ import annotations

import os
import time

import pytest
import yaml
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from celltrial.calibration.cases import FitParameterSpec, load_case
from celltrial.calibration.record import preset_file
from celltrial.errors import InputError, ScenarioError, did_you_mean
from celltrial.inputs import (
    MAX_YAML_BYTES,
    Integer,
    Number,
    coerced_booleans,
    format_validation,
    load_yaml,
    read_text,
)
from celltrial.scenarios import load_scenario


def _load(text):
    return load_yaml(text, "f.yaml", InputError)


# --- files ---------------------------------------------------------------------------------------------------


def test_a_file_above_the_limit_is_refused_before_reading(tmp_path):
    path = tmp_path / "big.yaml"
    with path.open("wb") as fh:
        fh.truncate(MAX_YAML_BYTES + 1)  # sparse: nothing is read to refuse it
    with pytest.raises(InputError, match=r"big.yaml' is 2.0 MB, above the limit of 2.0 MB"):
        read_text(path, "scenario file", MAX_YAML_BYTES, InputError)


def test_bad_bytes_are_named_by_offset_and_line_and_a_bom_is_dropped(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_bytes(b"\xef\xbb\xbfname: x\ntitle: caf\xe9\n")
    with pytest.raises(InputError, match=r"s.yaml' is not UTF-8 text: byte 0xe9 at offset 21 \(line 2\)"):
        read_text(path, "scenario file", MAX_YAML_BYTES, InputError)
    path.write_bytes(b"\xef\xbb\xbfname: x\n")
    assert read_text(path, "scenario file", MAX_YAML_BYTES, InputError) == "name: x\n"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs a FIFO")
def test_a_fifo_is_not_read(tmp_path):
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    with pytest.raises(ScenarioError, match="not found"):
        load_scenario(fifo)


# --- the YAML loader -----------------------------------------------------------------------------------------


def test_keys_stay_text_and_merges_may_be_overridden():
    assert _load("on: 1\nyes: 2\n1: 3\nnull: 4\n") == {"on": 1, "yes": 2, "1": 3, "null": 4}
    assert _load("b: &b {x: 1, y: 2}\nc: {<<: *b, x: 3}\n")["c"] == {"x": 3, "y": 2}


@pytest.mark.parametrize("text, words", [
    ("? [a, b]\n: 1\n", ["f.yaml: line 1", "(top level): a key must be a plain name"]),
    ("a: {? {b: 1} : 2}\n", ["line 1", "a: a key must be a plain name"]),
    ("a:\n  seed: " + "9" * 5000 + "\n", ["line 2", "a.seed: a number with 5,000 characters", "at most 20 digits"]),
    ("x: 1." + "0" * 100 + "\n", ["x: a number with 102 characters"]),
    ("a: {b: 1, b: 2}\n", ["a: field 'b' is given twice"]),
    ("a: [1, 2024-13-45]\n", ["a.1: cannot read this value", "month must be in 1..12"]),
    ("a: &a [*a]\n", ["a: alias *a refers to a node that contains it"]),
    ("a: " + "[" * 50 + "]" * 50 + "\n", ["a.0.0...: nested more than 40 levels deep"]),
    ("".join(" " * i + f"k{i}:\n" for i in range(50)) + " " * 50 + "1\n", ["k0.k1.k2...k36.k37.k38: nested",
                                                                         "nested more than 40"]),
    ("x: !!python/object/apply:os.system ['true']\n", ["not valid YAML", "could not determine a constructor"]),
])
def test_limits_and_rules_name_the_place(text, words):
    with pytest.raises(InputError) as info:
        _load(text)
    for w in words:
        assert w in str(info.value), str(info.value)


def test_aliases_count_expanded_so_a_billion_laughs_stops_at_once():
    lines = ["l0: &l0 [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]"]
    lines += [f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 10) + "]" for i in range(1, 9)]
    start = time.perf_counter()
    with pytest.raises(InputError, match=r"l4: more than 20,000 keys and values \(aliases expanded\)"):
        _load("\n".join(lines))
    assert time.perf_counter() - start < 1.0


def test_700000_unknown_keys_are_refused_in_under_a_second(tmp_path):
    path = tmp_path / "keys.yaml"
    path.write_text("name: x\n" + "".join(f"k{i}: 1\n" for i in range(700_000)))
    start = time.perf_counter()
    with pytest.raises(ScenarioError, match="above the limit"):
        load_scenario(path)
    with pytest.raises(ScenarioError, match="more than 20,000 keys"):
        load_yaml("".join(f"k{i}: 1\n" for i in range(100_000)), "s.yaml", ScenarioError)
    assert time.perf_counter() - start < 5.0


# --- strict numbers and messages -----------------------------------------------------------------------------


def test_number_refuses_booleans_and_non_finite_values_and_reads_numeric_text():
    number, integer = TypeAdapter(Number), TypeAdapter(Integer)
    assert number.validate_python("1e9") == 1e9 and number.validate_python(3) == 3.0
    for bad in (True, False, float("inf"), float("nan"), "inf", "1e400"):
        with pytest.raises(ValidationError):
            number.validate_python(bad)
    for bad in (True, 10.5, "10"):
        with pytest.raises(ValidationError):
            integer.validate_python(bad)


def test_coerced_booleans_finds_lax_floats_in_any_schema():
    class Inner(BaseModel):
        days: list[float]
        flag: bool = False

    class Outer(BaseModel):
        inner: Inner
        n: int = 0

    raw = {"inner": {"days": [1, True], "flag": True}, "n": True}
    assert coerced_booleans(raw, Outer.model_validate(raw)) == ["inner.days.1", "n"]


def test_messages_state_the_range_and_drop_union_tags():
    class M(BaseModel):
        model_config = ConfigDict(extra="forbid")
        x: float = Field(1.0, ge=0, le=10)
        days: list[Number] = []

    with pytest.raises(ValidationError) as info:
        M.model_validate({"x": -1, "days": [True], "zz": 1})
    text = format_validation(info.value, "f.yaml", "file", M)
    assert "  - x: Input should be greater than or equal to 0 (got -1); allowed: >= 0, <= 10" in text
    assert "  - days.0: true/false" in text
    assert "  - zz: unknown field; allowed here: x, days" in text


def test_did_you_mean_prefers_a_case_only_difference():
    assert did_you_mean("d_k", ["d_T", "d_K", "b_T"]) == " (did you mean 'd_K'?)"
    assert did_you_mean("gama_T", ["gamma_T", "d_T"]) == " (did you mean 'gamma_T'?)"


# --- presets named by a case are names, never paths ----------------------------------------------------------


@pytest.mark.parametrize("bad", ["../../../tmp/x/victim", "/tmp/x/victim", "lbcl/../lbcl", "LBCL", "lbcl.yaml", ".."])
def test_a_fit_parameter_preset_is_a_name(bad):
    with pytest.raises(ValidationError):
        FitParameterSpec(name="x_neg", kind="typical", low=5.0, high=1000.0, preset=bad)
    with pytest.raises(InputError, match="no shipped preset"):
        preset_file(bad)


def test_a_case_naming_an_unshipped_preset_is_refused(tmp_path):
    data = yaml.safe_load(load_case("zuma1").path.read_text())
    data["fit"]["parameters"][0]["preset"] = "victim"
    path = tmp_path / "case.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    with pytest.raises(InputError, match=r"fit.parameters.0.preset: no shipped preset 'victim'"):
        load_case(path)
    data["fit"]["parameters"][0]["preset"] = "../../../tmp/x/victim"
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    with pytest.raises(InputError, match=r"fit.parameters.0.preset: String should match pattern"):
        load_case(path)


def test_shipped_presets_are_found_by_name():
    assert preset_file("lbcl").name == "lbcl.yaml" and preset_file("axi-cel-like").parent.name == "products"
