"""scripts/write_optimisation_docs.py on a tiny budget: its tables parse and its page links its figures."""

import importlib.util
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def script():
    path = ROOT / "scripts" / "write_optimisation_docs.py"
    spec = importlib.util.spec_from_file_location("write_optimisation_docs", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _tables(lines: list) -> list:
    """Each Markdown table as a list of rows of cells (header first, the --- line dropped)."""
    tables, current = [], []
    for line in [*lines, ""]:
        if line.startswith("|"):
            if not set(line) <= set("|-"):
                current.append([c.strip() for c in line.strip().strip("|").split(" | ")])
        elif current:
            tables.append(current)
            current = []
    return tables


def test_an_example_section_has_parsable_tables_and_existing_figures(script, tmp_path, standard):
    found = script.run_example(ROOT / "scenarios/optimise_mrd_monitoring.yaml", budget=2, patients=4, fresh=4,
                               figures=tmp_path / "figures", posterior="docs/calibration/zuma1", draws=2,
                               robust_patients=4)
    lines = script.section(found, tmp_path)
    tables = _tables(lines)
    assert len(tables) == 3  # variables, Pareto set, robustness
    for table in tables:
        assert all(len(row) == len(table[0]) for row in table)
    pareto = tables[1]
    assert pareto[1][0] == "current (reference)" and len(pareto) == 2 + len(found["honest"]["policies"])
    for row in pareto[2:]:  # fresh (low-high); search; P(beats ref), all numbers
        for cell in row[2:]:
            assert re.fullmatch(r"[-\d.e+]+ \([-\d.e+]+-[-\d.e+]+\); [-\d.e+]+; [01]\.\d\d", cell), cell
    figures = [re.search(r"\]\((.*)\)", line).group(1) for line in lines if line.startswith("![")]
    assert len(figures) == 5 and all((tmp_path / f).is_file() for f in figures)
    assert any("extrapolated" in line for line in lines)


def test_an_example_without_a_posterior_says_why(script, tmp_path, standard):
    found = script.run_example(ROOT / "scenarios/optimise_rt_timing.yaml", budget=2, patients=4, fresh=4,
                               figures=tmp_path)
    text = "\n".join(script.section(found, tmp_path))
    assert "not run, no shipped calibration posterior describes ovarian" in text


def test_the_committed_page_has_parsable_tables_and_its_figures():
    page = ROOT / "docs" / "optimisation.md"
    lines = page.read_text().splitlines()
    tables = _tables(lines)
    assert len(tables) >= 8  # per example: variables and Pareto set; robustness for the two LBCL examples
    for table in tables:
        assert all(len(row) == len(table[0]) for row in table)
    figures = [re.search(r"\]\((.*)\)", line).group(1) for line in lines if line.startswith("![")]
    assert figures and all((page.parent / f).is_file() for f in figures)
