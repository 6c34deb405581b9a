"""SBML Test Suite: a tagged sample in the default run, every TimeCourse case behind ``-m sbml_suite``.

The cases run in a child process with numba's JIT disabled (the same generated kernels and
solver template, executed as Python): ~0.03 s a case instead of ~25 s of LLVM per model. The
published-model tests (test_biomodels.py) exercise the compiled path.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from celltrial.sbml_import.testsuite import UNSUPPORTED_TAGS, judge, read_case

pytest.importorskip("libsbml")
SUITE = Path(__file__).resolve().parents[3] / "shared" / "sbml-test-suite" / "semantic"
needs_suite = pytest.mark.skipif(not SUITE.is_dir(), reason=f"SBML Test Suite not found at {SUITE}")

# One case per tag the importer supports (Amount, Concentration, NonUnityCompartment, AssignmentRule,
# RateRule, InitialAssignment, FunctionDefinition, EventNoDelay, EventPriority, CSymbolTime,
# LocalParameters, ConversionFactors, BoundaryCondition, HasOnlySubstanceUnits, UncommonMathML,
# 0D-Compartment, BoolNumericSwap, NoMathML, NonUnityStoichiometry, AssignedConstantStoichiometry,
# SpeciesReferenceInMath, EventT0Firing, EventUsesAssignmentTimeValues, L3v2MathML, CSymbolAvogadro,
# InitialValueReassigned, MultiCompartment, ConstantSpecies, ReversibleReaction, NonConstantParameter,
# NonConstantCompartment).
SAMPLE = ["00027", "00056", "00155", "00181", "00235", "00297", "00308", "00498", "00720", "00908", "00929",
          "00931", "01062", "01115", "01116", "01219", "01275", "01291", "01308", "01331", "01340", "01489",
          "01555", "01574", "01654", "01662", "01671", "01739", "01762", "01767", "00051", "00104"]
# State-triggered event, delayed event (tag), algebraic rule (tag), an event resizing a compartment.
REFUSED = {"00026": "state-triggered", "00071": "tag", "00039": "tag", "00945": "an event changes its size"}
# Known failures of the full run, with why (see docs/sbml-conformance.md).
KNOWN_FAILURES = {
    "00959": "interpreted mode only: Python's math.atanh(1) raises where numba returns inf (passes compiled)",
    "01488": "interpreted mode only: as 00959 (passes compiled)",
    "01395": "Hill functions of a species that overshoots below zero: NaN (status 3)",
}


def _run(ids, tmp_path) -> dict:
    out = tmp_path / "cases.json"
    cmd = [sys.executable, "-m", "celltrial.sbml_import.conformance", str(SUITE), "--json", str(out)]
    cmd += ["--cases", ",".join(ids)] if ids else []
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=3600)
    assert done.returncode == 0, done.stderr[-2000:]
    return {r["id"]: r for r in json.loads(out.read_text())}


@needs_suite
def test_tagged_sample_passes_and_refusals_are_unsupported(tmp_path):
    got = _run(SAMPLE + list(REFUSED), tmp_path)
    failed = {i: got[i]["reason"] for i in SAMPLE if got[i]["status"] != "passed"}
    assert not failed
    for cid, why in REFUSED.items():
        assert got[cid]["status"] == "unsupported", cid
        if why == "tag":
            assert set(got[cid]["tags"]) & UNSUPPORTED_TAGS
        else:
            assert why in got[cid]["reason"]


def test_judge_applies_the_suites_rule():
    expect = np.array([1.0, 100.0, np.nan, np.inf, 0.0])
    assert judge(expect, np.array([1.0 + 1e-7, 100.0 + 0.009, np.nan, np.inf, 5e-8]), 1e-7, 1e-4).all()
    wrong = judge(expect, np.array([1.0 + 1e-3, 100.0 + 0.02, 0.0, -np.inf, 1e-6]), 1e-7, 1e-4)
    assert not wrong.any()


@needs_suite
def test_settings_and_tags_are_read():
    case = read_case(SUITE / "00001")
    assert case.test_type == "TimeCourse"
    assert case.settings["steps"] == 50 and case.settings["amount"] == ["S1", "S2"]
    assert "Reaction" in case.component_tags and "Amount" in case.test_tags


@needs_suite
@pytest.mark.sbml_suite
def test_every_timecourse_case(tmp_path, request):
    if "sbml_suite" not in (request.config.getoption("markexpr") or ""):
        pytest.skip("the full SBML Test Suite run (~1 min) is opt-in: pytest -m sbml_suite")
    got = _run([], tmp_path)
    failed = {i: r["reason"] for i, r in got.items() if r["status"] == "failed"}
    assert set(failed) <= set(KNOWN_FAILURES), {i: failed[i] for i in set(failed) - set(KNOWN_FAILURES)}
    passed = [i for i, r in got.items() if r["status"] == "passed"]
    assert len(passed) >= 870
    assert all(not set(got[i]["tags"]) & UNSUPPORTED_TAGS for i in passed)


def _survey_agrees(ids):
    """Every case the survey (celltrial import-sbml's listing) flags, the importer refuses."""
    import libsbml

    from celltrial.errors import SBMLImportError
    from celltrial.sbml_import import import_sbml
    from celltrial.sbml_import.survey import survey

    flagged = 0
    for cid in ids:
        path = SUITE / cid / f"{cid}-sbml-l3v2.xml"
        if not path.exists() or not survey(libsbml.readSBMLFromFile(str(path))):
            continue
        flagged += 1
        with pytest.raises(SBMLImportError):
            import_sbml(path)
    return flagged


@needs_suite
def test_survey_flags_only_what_the_importer_refuses():
    assert _survey_agrees(SAMPLE + list(REFUSED)) == 4  # the four refused cases; no supported one


@needs_suite
@pytest.mark.sbml_suite
def test_survey_agrees_with_the_importer_on_every_case(request):
    if "sbml_suite" not in (request.config.getoption("markexpr") or ""):
        pytest.skip("opt-in: pytest -m sbml_suite")
    assert _survey_agrees(sorted(p.name for p in SUITE.iterdir() if p.is_dir())) > 500
