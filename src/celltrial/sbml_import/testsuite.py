"""Run SBML Test Suite semantic cases through the importer and judge them by the suite's own rule.

A case is ``unsupported`` when its tags name a construct the importer refuses (listed below)
or when the importer refuses the file (the reason is kept); otherwise it is imported, simulated
at the settings' times and judged value by value: ``|C - U| <= absolute + relative * |C|``
(C expected, U ours; NaN and infinities must match). A skipped case is never ``passed``.

Example:
    >>> from pathlib import Path
    >>> root = Path("/work/shared/sbml-test-suite/semantic")
    >>> case = read_case(root / "00001") if root.exists() else None
    >>> case is None or case.settings["variables"] == ["S1", "S2"]
    True
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import CelltrialError, SBMLImportError

#: Tags whose cases the importer does not attempt (it would refuse them by element anyway).
UNSUPPORTED_TAGS = frozenset({
    "AlgebraicRule", "FastReaction", "CSymbolDelay", "CSymbolRateOf", "EventWithDelay", "StoichiometryMath",
    "AssignedVariableStoichiometry", "RandomEventExecution", "DelayInTrigger", "DelayInEventAssignment",
    "comp:Submodel", "comp:ModelDefinition", "comp:ReplacedElement", "comp:SBaseRef", "comp:Port",
    "comp:ReplacedBy", "comp:Deletion", "comp:ExternalModelDefinition",
})


@dataclass
class Case:
    """One semantic case: its files, tags and settings."""

    id: str
    path: Path
    component_tags: list
    test_tags: list
    test_type: str
    settings: dict

    @property
    def tags(self) -> list:
        return self.component_tags + self.test_tags

    @property
    def sbml(self) -> Path:
        return self.path / f"{self.id}-sbml-l3v2.xml"


@dataclass
class Outcome:
    """What happened to a case: passed, failed or unsupported, with the reason and seconds taken."""

    case: Case
    status: str
    reason: str = ""
    seconds: float = 0.0
    worst: dict = field(default_factory=dict)


def _tag_list(text: str, key: str) -> list:
    match = re.search(rf"^{key}:[ \t]*(.*)$", text, re.MULTILINE)
    return [t.strip() for t in match.group(1).split(",") if t.strip()] if match else []


def read_case(path) -> Case:
    """Read a case folder (``NNNNN-model.m`` tags and ``NNNNN-settings.txt``)."""
    path = Path(path)
    cid = path.name
    text = (path / f"{cid}-model.m").read_text()
    settings = {}
    for line in (path / f"{cid}-settings.txt").read_text().splitlines():
        if ":" in line:
            key, value = line.split(":", 1)
            settings[key.strip()] = value.strip()
    for key in ("variables", "amount", "concentration"):
        settings[key] = [v.strip() for v in settings.get(key, "").split(",") if v.strip()]
    for key in ("start", "duration", "absolute", "relative", "steps"):  # empty in non-TimeCourse cases
        settings[key] = float(settings[key]) if settings.get(key) else float("nan")
    settings["steps"] = int(settings["steps"]) if settings["steps"] == settings["steps"] else 0
    test_type = (_tag_list(text, "testType") or [""])[0]
    return Case(cid, path, _tag_list(text, "componentTags"), _tag_list(text, "testTags"), test_type, settings)


def cases(root) -> list:
    """Every TimeCourse case with an SBML L3V2 file, in id order."""
    out = [read_case(p) for p in sorted(Path(root).iterdir()) if p.is_dir() and p.name.isdigit()]
    return [c for c in out if c.test_type == "TimeCourse" and c.sbml.exists()]


def expected(case: Case) -> tuple:
    """(header, values) of the case's results.csv."""
    lines = (case.path / f"{case.id}-results.csv").read_text().strip().splitlines()
    header = [h.strip() for h in lines[0].split(",")]
    values = np.array([[float(v) for v in line.split(",")] for line in lines[1:]])
    return header, values


def judge(expect: np.ndarray, ours: np.ndarray, absolute: float, relative: float) -> np.ndarray:
    """Boolean array: each value passes the suite's rule (NaN and infinities must match exactly)."""
    with np.errstate(invalid="ignore"):
        close = np.abs(expect - ours) <= absolute + relative * np.abs(expect)
    special = ~np.isfinite(expect) | ~np.isfinite(ours)
    same_special = (np.isnan(expect) & np.isnan(ours)) | (np.isinf(expect) & (expect == ours))
    return np.where(special, same_special, close)


def simulate_case(case: Case) -> dict:
    """Import and simulate a case; {variable: values at the settings' times}."""
    from .model import import_sbml
    from .run import sbml_value, simulate_sbml

    s = case.settings
    times = np.linspace(s["start"], s["start"] + s["duration"], s["steps"] + 1)
    model = import_sbml(case.sbml)
    hmax = s["duration"] / max(s["steps"], 1)  # no step over an output interval: piecewise switches stay seen
    out = simulate_sbml(model, times, rtol=1e-10, atol=s["absolute"] * 1e-4, hmax=hmax)
    if out["status"] != 0:
        raise CelltrialError(f"solver status {out['status']}")
    result = {}
    for var in s["variables"]:
        if var not in model.sbml.kinds:
            raise SBMLImportError(f"variable {var!r} is not a species, parameter or compartment")
        amount = True if var in s["amount"] else (False if var in s["concentration"] else None)
        result[var] = sbml_value(model, out, var, amount)
    return result


def run_case(case: Case) -> Outcome:
    """Run one case and judge it; never raises for a case's own problems."""
    blocked = sorted(set(case.tags) & UNSUPPORTED_TAGS)
    if blocked:
        return Outcome(case, "unsupported", f"tag {blocked[0]}")
    t0 = time.perf_counter()
    try:
        ours = simulate_case(case)
    except SBMLImportError as exc:
        return Outcome(case, "unsupported", f"refused: {exc}", time.perf_counter() - t0)
    except Exception as exc:  # noqa: BLE001 - any other failure is a failed case, reported with its message
        return Outcome(case, "failed", f"{type(exc).__name__}: {exc}", time.perf_counter() - t0)
    header, values = expected(case)
    worst, ok = {}, True
    for var in case.settings["variables"]:
        col = values[:, 1 + header[1:].index(var)]  # column 0 is time, whatever its name
        good = judge(col, ours[var], case.settings["absolute"], case.settings["relative"])
        if not good.all():
            ok = False
            i = int(np.argmin(good))
            worst[var] = (float(values[i, 0]), float(col[i]), float(ours[var][i]))
    reason = "" if ok else "; ".join(f"{v} at t={t:g}: expected {c:g}, got {u:g}" for v, (t, c, u) in worst.items())
    return Outcome(case, "passed" if ok else "failed", reason, time.perf_counter() - t0, worst)


def table_by_tag(outcomes) -> list:
    """[(tag, passed, failed, unsupported)] over all tags, most frequent first."""
    counts: dict = {}
    for o in outcomes:
        for tag in o.case.tags:
            row = counts.setdefault(tag, {"passed": 0, "failed": 0, "unsupported": 0})
            row[o.status] += 1
    rows = [(t, c["passed"], c["failed"], c["unsupported"]) for t, c in counts.items()]
    return sorted(rows, key=lambda r: (-(r[1] + r[2] + r[3]), r[0]))
