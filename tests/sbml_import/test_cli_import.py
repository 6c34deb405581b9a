"""``celltrial import-sbml``: summary and model page, or every unsupported construct named with exit 2."""

from __future__ import annotations

import libsbml
from typer.testing import CliRunner

from celltrial.cli import app
from celltrial.cli import sbml as _registers_import_sbml  # noqa: F401  (the command registers on import)

from .sbml_text import write


def test_summary_and_model_page(tmp_path):
    path = write(tmp_path, compartments=[("C", 1.0)], species=[("S", "C", 5.0, True)],
                 parameters=[("k", 0.2, True), ("time", 1.0, True), ("half", 0.0, False)],
                 reactions=[("R", {"S": 1}, {}, "k*S")], rules=[("assign", "half", "S/2")],
                 events=[("dose", "time >= 3", {"S": "S + 10"})])
    page = tmp_path / "page.md"
    result = CliRunner().invoke(app, ["import-sbml", str(path), "--page", str(page)])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "states (1): S" in out and "half = S/2" in out
    assert "Bolus at t=3 {'S': 10.0}" in out
    assert "renamed ids: time -> sbml_time" in out
    text = page.read_text()
    assert text.startswith("# Model `test_model`") and "| `k` | 0.2 |" in text and "## Imported events" in text


def test_every_unsupported_construct_is_listed_and_exit_code_is_2(tmp_path):
    path = write(tmp_path, compartments=[("C", 1.0)], species=[("S", "C", 5.0, True)],
                 parameters=[("k", 0.2, True)], reactions=[("R", {"S": 1}, {}, "k*delay(S, 1)")],
                 events=[("low", "S < 1", {"S": "5"})])
    doc = libsbml.readSBMLFromFile(str(path))
    doc.getModel().createAlgebraicRule().setMath(libsbml.parseL3Formula("k - 0.2"))
    path.write_text(libsbml.writeSBMLToString(doc))
    result = CliRunner().invoke(app, ["import-sbml", str(path)])
    assert result.exit_code == 2
    for construct in ("<algebraicRule>", "<kineticLaw> of reaction 'R': the delay csymbol",
                      "<event id='low'>: a state-triggered event"):
        assert construct in result.output
    assert "Traceback" not in result.output


def test_missing_file_exits_2(tmp_path):
    result = CliRunner().invoke(app, ["import-sbml", str(tmp_path / "none.xml")])
    assert result.exit_code == 2 and "does not exist" in result.output
