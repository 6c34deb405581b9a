"""Docs pages are generated from the declarations, never hand-edited."""

import importlib.util
from pathlib import Path

from celltrial.model.docs import model_markdown
from celltrial.model.library import cart6

DOCS = Path(__file__).resolve().parents[2] / "docs"


def _generator():
    spec = importlib.util.spec_from_file_location("docs_generate", DOCS / "generate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_model_pages_are_up_to_date():
    for model in _generator().MODELS:
        page = DOCS / "models" / f"{model.name}.md"
        assert page.read_text() == model_markdown(model), f"run `python docs/generate.py` ({page.name})"


def test_parameter_table_lists_every_parameter_with_unit_and_source():
    model = cart6()
    text = model_markdown(model)
    for p in model.parameters:
        row = next(line for line in text.splitlines() if line.startswith(f"| `{p.name}` |"))
        assert p.unit in row and p.source in row
    assert "quasi_steady_state" in model_markdown(cart6(qss_ctdna=True))
