"""`celltrial forecast` (issue 20): the contract of the command, small and fast."""

import json

from typer.testing import CliRunner

from celltrial.cli import app

runner = CliRunner()
DATA = ("ID,TIME,DV,OBS,AMT,EVID,MDV,LLOQ,BLQ\n"
        "7,0,.,.,1.6e8,1,1,.,.\n7,7,900,ctdna,.,0,0,0.01,0\n7,14,40,ctdna,.,0,0,0.01,0\n"
        "7,28,.,ctdna,.,0,0,0.01,1\n")
PRESETS = ["--disease", "lbcl", "--product", "axi-cel-like", "--fit", "B0,g_T"]


def test_forecast_json_has_posterior_bands_and_every_action(tmp_path, standard):
    data = tmp_path / "p.csv"
    data.write_text(DATA)
    actions = tmp_path / "a.yaml"
    actions.write_text("actions:\n  - {name: wait, kind: none}\n  - {name: again, kind: redose, dose_multiple: 2}\n")
    out, html = tmp_path / "f.json", tmp_path / "f.html"
    result = runner.invoke(app, ["forecast", str(data), "--id", "7", *PRESETS, "--actions", str(actions),
                                 "--draws", "20", "--horizon", "30", "--days", "15,30", "--json", "--out", str(out),
                                 "--html", str(html)])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary == json.loads(out.read_text())
    assert [a["action"] for a in summary["actions"]] == ["wait", "again"]
    assert summary["origin_day"] == 28.0 and set(summary["p_progression_by_days_after_origin"]) == {"15", "30"}
    assert summary["posterior"]["parameters"]["B0"]["sd_ratio"] < 1.0
    page = html.read_text()
    for words in ("data:image/png;base64", "What the data could and could not tell", "again", "Notes and extrap"):
        assert words in page


def test_forecast_terminal_table(tmp_path, standard):
    data = tmp_path / "p.csv"
    data.write_text(DATA)
    result = runner.invoke(app, ["forecast", str(data), "--id", "7", *PRESETS, "--draws", "10", "--horizon", "20"])
    assert result.exit_code == 0, result.output
    for words in ("P(disease already extinct", "redose when ctDNA >= 1", "PFS GAIN", "prediction intervals"):
        assert words in result.output


def test_forecast_names_the_bad_row_column_id_and_field_before_compiling(tmp_path, monkeypatch):
    import celltrial.cli.compiling as compiling

    monkeypatch.setattr(compiling, "ensure_standard_compiled", lambda: (_ for _ in ()).throw(AssertionError))
    data = tmp_path / "p.csv"
    data.write_text(DATA.replace("7,14,40,ctdna", "7,14,40,ctdma"))
    result = runner.invoke(app, ["forecast", str(data), "--id", "7", *PRESETS])
    assert result.exit_code == 2 and "row 4" in result.output and "column OBS" in result.output
    data.write_text(DATA)
    result = runner.invoke(app, ["forecast", str(data), "--id", "8", *PRESETS])
    assert result.exit_code == 2 and "--id '8'" in result.output
    bad = tmp_path / "a.yaml"
    bad.write_text("actions:\n  - {name: t, kind: redose_on_ctdna, every_days: 0}\n")
    result = runner.invoke(app, ["forecast", str(data), "--id", "7", *PRESETS, "--actions", str(bad)])
    assert result.exit_code == 2 and "every_days" in result.output
    result = runner.invoke(app, ["forecast", str(data), "--id", "7", "--disease", "lbcl"])
    assert result.exit_code == 2 and "--product" in result.output
