"""Docs pages are generated from the declarations and preset files, never hand-edited."""

import importlib.util
from pathlib import Path

import pytest

from celltrial.biology import standard_model
from celltrial.errors import InputError
from celltrial.model.docs import SIMPLIFY_MAX_STATES, equations, model_markdown, rate_form_lines
from celltrial.model.library import cart6
from celltrial.presets.docs import all_preset_names, find_preset, presets_markdown
from celltrial.presets.references import display_source

DOCS = Path(__file__).resolve().parents[2] / "docs"


def _generator():
    spec = importlib.util.spec_from_file_location("docs_generate", DOCS / "generate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_model_pages_are_up_to_date():
    models = _generator().MODELS
    assert "standard" in [m.name for m in models]
    for model in models:
        page = DOCS / "models" / f"{model.name}.md"
        assert page.exists(), f"run `python docs/generate.py` ({page.name} is missing)"
        assert page.read_text() == model_markdown(model), f"run `python docs/generate.py` ({page.name})"


def test_presets_page_is_up_to_date():
    page = DOCS / "presets.md"
    assert page.exists() and page.read_text() == presets_markdown(), "run `python docs/generate.py` (presets.md)"


def test_parameter_table_lists_every_parameter_with_unit_and_source():
    model = cart6()
    text = model_markdown(model)
    for p in model.parameters:
        row = next(line for line in text.splitlines() if line.startswith(f"| `{p.name}` |"))
        assert p.unit in row and p.source in row
    assert "quasi_steady_state" in model_markdown(cart6(qss_ctdna=True))


def test_standard_model_page_lists_every_parameter_rate_and_state_equation():
    model = standard_model()
    assert len(model.states) > SIMPLIFY_MAX_STATES  # so the equations are sums of rate terms, not simplified
    text = model_markdown(model)
    lines = text.splitlines()
    for p in model.parameters:
        row = next(line for line in lines if line.startswith(f"| `{p.name}` |"))
        assert p.unit in row and display_source(p.source).replace("|", "\\|") in row and model.owner[p.name] in row
    for r in model.rates:
        assert any(line.startswith(f"| `{r.name}` |") for line in lines), r.name
    for s in model.states:
        assert any(line.startswith(f"d{s.name}/dt ") for line in lines), s.name
    assert "$$" not in text


def test_rate_form_is_derived_from_the_stoichiometry():
    model = standard_model()
    by_state = {line.split("/dt")[0][1:]: line for line in rate_form_lines(model)}
    assert set(by_state) == set(model.state_names)
    for r in model.rates:
        for state, coef in r.stoichiometry.items():
            assert r.name in by_state[state]
            if coef == -1:
                assert f"- {r.name}" in by_state[state]
    assert rate_form_lines(cart6(), module="tumour_ctdna")[0].startswith("dB/dt")


def test_module_filter_and_unknown_module():
    model = standard_model()
    text = model_markdown(model, module="tumour")
    assert "dBp/dt" in text and "dN/dt" not in text
    assert "| `g_T` |" in text and "| `K_N` |" not in text
    with pytest.raises(InputError, match="did you mean 'tumour'"):
        model_markdown(model, module="tumor")
    with pytest.raises(InputError, match="equation form"):
        equations(model, form="latex")


def test_presets_page_shows_every_preset_with_sources():
    text = presets_markdown()
    names = [name for _, name in all_preset_names()]
    assert len(names) == 11 and "liso-cel-like" in names
    for name in names:
        preset = find_preset(name)
        assert f'<a id="{name}"></a>' in text
        for source in preset.sources:
            assert source.strip() in text
        for parameter, value in preset.parameters.items():
            assert f"| `{parameter}` | {value.value:g} |" in text and value.source.strip() in text
    assert "from the product's `composition.S`" in text  # derived parameters name their field
