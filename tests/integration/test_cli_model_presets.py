"""`celltrial presets` and `celltrial model`: listing, detail, JSON, filters and exit codes.

Nothing here compiles kernels: both commands use the declaration (and sympy) only.
"""

import json
import sys

import pytest
from typer.testing import CliRunner

from celltrial.biology import standard_model
from celltrial.cli import app, main
from celltrial.model.docs import model_markdown
from celltrial.presets import load_product, preset_names
from celltrial.presets.docs import find_preset
from celltrial.presets.references import display_source, lines_for_preset

ALL_PRESETS = preset_names("disease") + preset_names("product")


def invoke(*args):
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def run_main(monkeypatch, capsys, *args):
    """Run the console entry point (with its exit-code contract); return (code, stdout, stderr)."""
    monkeypatch.setattr(sys, "argv", ["celltrial", *args])
    with pytest.raises(SystemExit) as exc:
        main()
    out = capsys.readouterr()
    return exc.value.code, out.out, out.err


def test_presets_lists_all_eleven():
    assert len(ALL_PRESETS) == 11
    out = invoke("presets")
    for name in ALL_PRESETS:
        assert name in out
    for kind in ("disease", "t_cell", "nk_cell"):
        assert kind in out


def test_presets_json_parses_and_filters_by_kind():
    rows = json.loads(invoke("presets", "--json"))
    assert [r["name"] for r in rows] == ALL_PRESETS
    assert {r["kind"] for r in rows} == {"disease", "t_cell", "nk_cell"}
    assert all(r["sources"] >= 1 and r["title"] for r in rows)
    products = json.loads(invoke("presets", "--kind", "product", "--json"))
    assert [r["name"] for r in products] == preset_names("product")


def test_one_preset_in_detail_shows_sources_and_parameter_sources():
    preset = load_product("tisa-cel-like")
    out = " ".join(CliRunner(env={"COLUMNS": "250"}).invoke(app, ["presets", "tisa-cel-like"]).output.split())
    assert preset.title in out
    for source in preset.sources:
        assert " ".join(display_source(source).split()) in out
    for name, value in preset.parameters.items():
        assert name in out and " ".join(display_source(value.source).split()) in out
    assert "composition" in out and "dose" in out and "autologous" in out
    assert "1/day" in out  # units come from the model declaration


@pytest.mark.parametrize("name", ["lbcl", "tisa-cel-like"])
def test_one_preset_in_detail_cites_its_works_in_full(name):
    """The works the sources cite, with DOIs, and a references column naming them per parameter."""
    out = " ".join(CliRunner(env={"COLUMNS": "400"}).invoke(app, ["presets", name]).output.split())
    lines = lines_for_preset(find_preset(name))
    assert lines and "references" in out and "science.md" not in out
    for line in lines:
        assert " ".join(line.split()) in out
    assert "doi:" in out
    assert "│ references" in out or "┃ references" in out  # the parameter table's column


def test_one_preset_as_json():
    data = json.loads(invoke("presets", "ciml-nk", "--json"))
    assert data["name"] == "ciml-nk" and data["kind"] == "nk_cell"
    assert data["extrapolation"] and data["sources"]
    rows = {r["name"]: r for r in data["parameters_set"]}
    assert rows["rej_escape_K"]["source"].startswith("[E]") and rows["rej_escape_K"]["unit"]
    assert rows["f_KM"]["source"] == "from the product's `memory_like_fraction`"


def test_unknown_preset_exits_2_with_did_you_mean(monkeypatch, capsys):
    code, out, err = run_main(monkeypatch, capsys, "presets", "tisa-cel")
    assert code == 2
    assert "did you mean 'tisa-cel-like'" in err and "Traceback" not in err
    code, _, err = run_main(monkeypatch, capsys, "presets", "--kind", "produc")
    assert code == 2 and "did you mean 'product'" in err


def test_model_parameters_lists_every_parameter():
    model = standard_model()
    out = invoke("model", "--parameters")
    for p in model.parameters:
        assert f"{p.name} = " in out, p.name
    wide = CliRunner(env={"COLUMNS": "250"}).invoke(app, ["model", "--parameters"]).output
    for p in model.parameters:
        assert p.name in wide


def test_model_parameters_never_show_the_internal_notes():
    """Sources citing the project's internal notes are shown as the works they stand for."""
    cited = [p for p in standard_model().parameters if "science.md" in p.source]
    assert cited  # otherwise this test checks nothing
    for columns in ("100", "250"):  # the indented blocks and the table
        out = CliRunner(env={"COLUMNS": columns}).invoke(app, ["model", "--parameters"]).output
        assert "science.md" not in out
        assert all(display_source(p.source).split()[1] in out for p in cited)


def test_model_default_shows_modules_equations_and_parameters():
    out = invoke("model")
    for mod in standard_model().modules:
        assert mod.name in out
    assert "dBp/dt" in out and "dIL6/dt" in out and "K_N = " in out


def test_model_module_filters():
    out = invoke("model", "--module", "tumour")
    assert "dBp/dt" in out and "g_T = " in out
    assert "dN/dt" not in out and "K_N = " not in out and "host_lymphocytes" not in out
    eqs = invoke("model", "--equations", "--module", "tumour")
    assert "Bp_killing" in eqs and "g_T = " not in eqs


def test_model_markdown_is_the_docs_page():
    assert invoke("model", "--markdown") == model_markdown(standard_model())
    assert "| `g_T` |" in invoke("model", "--markdown", "--parameters", "--module", "tumour")


def test_unknown_module_exits_2_with_did_you_mean(monkeypatch, capsys):
    code, _, err = run_main(monkeypatch, capsys, "model", "--module", "tumor")
    assert code == 2
    assert "did you mean 'tumour'" in err and "Traceback" not in err


def test_usage_errors_exit_2_without_a_traceback(monkeypatch, capsys):
    code, _, err = run_main(monkeypatch, capsys, "presets", "--bogus")
    assert code == 2 and "No such option" in err and "internal error" not in err
