"""The who-benefits study (scripts/write_benefit_study.py): its pieces on a tiny cohort, and the
committed page (docs/benefit-study.md): its tables parse and its figure links exist."""

import importlib.util
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "benefit-study.md"


@pytest.fixture(scope="module")
def study():
    spec = importlib.util.spec_from_file_location("write_benefit_study", ROOT / "scripts" / "write_benefit_study.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _tables(text: str) -> list[list[list[str]]]:
    """Every markdown table of ``text`` as rows of cells (header and separator dropped)."""
    tables, rows = [], []
    for line in text.splitlines() + [""]:
        if line.startswith("|"):
            rows.append([c.strip() for c in line.strip().strip("|").split("|")])
        elif rows:
            tables.append(rows[2:])
            rows = []
    return tables


def test_study_pieces_on_a_tiny_cohort(study, tmp_path):
    run, result, seconds = study.run_study(patients=12, store_path=tmp_path / "runs.duckdb")
    assert run.meta["patients_per_arm"] == 12 and seconds > 0
    assert list(result["arms"]) == ["autologous-single", "offshelf-redosed"]
    page = study.build_page(run, result, seconds)
    assert run.run_id in page and "## Extrapolation notes" in page
    tables = _tables(page)
    assert len(tables) == 3 and all(tables)
    assert all(len(row) == 6 for t in tables for row in t)


def test_committed_page_tables_parse_and_figures_exist():
    text = PAGE.read_text()
    run_id = re.search(r"from run `(who-benefits-[^`]+)`", text)
    assert run_id and re.search(r"\((\d+) paired virtual patients per arm", text)
    tables = _tables(text)
    assert len(tables) == 3
    estimate = re.compile(r"^\d+\.\d\d \(\d+\.\d\d-\d+\.\d\d\)$")
    for table in tables:
        assert table and all(len(row) == 6 for row in table)
    for row in tables[0] + tables[1]:  # per arm: n, PFS HR (CI), p, OR (CI), p
        assert int(row[1]) > 0 and estimate.match(row[2]) and estimate.match(row[4])
    for row in tables[2]:              # interaction HR (CI), p, median, HR above / below
        assert estimate.match(row[1]) and float(row[3]) == float(row[3])
    figures = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
    assert figures and all((PAGE.parent / f).is_file() for f in figures)
