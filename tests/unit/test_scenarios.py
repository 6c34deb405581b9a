"""Scenario files: the generated reference page, the shipped scenarios, schema round trips, error messages."""

import copy
import string
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from celltrial.errors import ScenarioError
from celltrial.presets import preset_names
from celltrial.scenarios import Scenario, load_scenario, parse_scenario
from celltrial.scenarios.docs import EXAMPLES, SECTIONS, scenarios_markdown
from celltrial.trials.columns import COLUMNS

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
SHIPPED = sorted((ROOT / "scenarios").glob("*.yaml"))


# --- the generated reference page --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def page():
    return scenarios_markdown()


def test_scenarios_page_is_up_to_date(page):
    path = DOCS / "scenarios.md"
    assert path.exists() and path.read_text() == page, "run `python docs/generate.py` (scenarios.md)"
    assert "scenarios_markdown" in (DOCS / "generate.py").read_text()


def _reachable(model, seen=None) -> list:
    """Every schema class reachable from ``model`` through field annotations."""
    seen = [] if seen is None else seen
    if model in seen:
        return seen
    seen.append(model)
    for field in model.model_fields.values():
        stack = [field.annotation]
        while stack:
            a = stack.pop()
            if isinstance(a, type) and issubclass(a, BaseModel):
                _reachable(a, seen)
            stack.extend(getattr(a, "__args__", ()))
    return seen


def _section(page, model) -> str:
    start = page.index(f'<a id="{model.__name__.lower()}"></a>')
    end = page.find('<a id="', start + 1)
    return page[start:end if end > 0 else None]


def test_every_schema_class_has_a_section(page):
    assert {m for m, _ in SECTIONS} == set(_reachable(Scenario))
    assert SECTIONS[0][0] is Scenario


def test_every_field_is_documented_with_unit_and_required_mark(page):
    for model, _ in SECTIONS:
        rows = _section(page, model).splitlines()
        for name, field in model.model_fields.items():
            row = next((r for r in rows if r.startswith(f"| `{name}` |")), None)
            assert row is not None, f"{model.__name__}.{name} is missing from docs/scenarios.md"
            cells = [c.strip() for c in row.strip("|").split(" | ")]
            unit = (field.json_schema_extra or {}).get("unit", "")
            assert cells[2] == unit, (model.__name__, name, cells)
            assert (cells[3] == "required") == field.is_required(), (model.__name__, name, cells)
            if field.description:
                assert " ".join(field.description.split()).replace("|", "\\|") in cells[4]


def test_page_types_rules_columns_and_examples(page):
    cohort = _section(page, Scenario.model_fields["cohort"].annotation)
    assert "| `weight_kg` | `Distribution \\| None` | kg | not set |" in cohort
    assert '| `design` | `"independent" \\| "paired"` |  | `"independent"` |' in cohort
    assert "| `imaging_days` | `list[float]` | day | `[28, 90, 180, 270, 365]` |" in page
    for words in ("celltrial run scenarios/quickstart.yaml", "paired", "digital twins", "replicate", "chunk",
                  "Lugano", "**PFS**", "**OS**", "Duration of", "GvHD", "default 1e9 cells"):
        assert words in page, words
    for column in COLUMNS.values():
        assert f"| `{column.name}` | {column.kind} | {column.unit} |" in page
    for name in EXAMPLES:
        text = (ROOT / "scenarios" / name).read_text().rstrip()
        assert f"```yaml\n{text}\n```" in page


# --- the shipped scenarios ---------------------------------------------------------------------------------


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_shipped_scenarios_parse(path):
    scenario, text = load_scenario(path)
    assert scenario.name and text == path.read_text()
    assert parse_scenario(yaml.safe_dump(scenario.model_dump(mode="json"))) == scenario


def test_examples_are_shipped():
    assert {p.name for p in SHIPPED} >= set(EXAMPLES)


# --- schema round trips ------------------------------------------------------------------------------------

PRODUCTS, DISEASES = preset_names("product"), preset_names("disease")
TEXT = st.text(alphabet=string.ascii_letters + string.digits + " -_,.:;()'#&?!%", min_size=1, max_size=40)


def _day(low, high):
    """A day in [low, high]; times finer than 0.01 day (about 15 minutes) are implausible, so they become 0."""
    return st.floats(low, high, allow_nan=False, allow_infinity=False).map(lambda d: 0.0 if d < 0.01 else d)


def _days(low, high, min_size, max_size):
    return st.lists(_day(low, high), min_size=min_size, max_size=max_size, unique=True).map(sorted)


def _maybe(strategy):
    return st.none() | strategy


WEIGHTS = st.one_of(
    st.builds(dict, distribution=st.just("normal"), mean=st.floats(40, 120), sd=st.floats(1, 30),
              low=st.just(30.0), high=st.just(200.0)),
    st.builds(dict, distribution=st.just("lognormal"), median=st.floats(40, 120), sd_log=st.floats(0.01, 1)),
    st.builds(dict, distribution=st.just("uniform"), low=st.floats(30, 60), high=st.floats(80, 150)),
)


@st.composite
def _arm(draw, name, follow_up):
    arm = {"name": name, "product": draw(st.sampled_from(PRODUCTS)),
           "regimen": {"infusion_days": draw(_days(0, follow_up / 2, 1, 3)),
                       "lymphodepletion_before": draw(st.sampled_from(["first", "every", "none", "product"]))}}
    if draw(st.booleans()):
        arm["description"] = draw(TEXT)
    if draw(st.booleans()):
        arm["cost_per_dose"] = draw(st.floats(0, 1e6))
    dose = draw(_maybe(st.one_of(st.builds(dict, cells=st.floats(1e6, 1e10)),
                                 st.builds(dict, per_kg=st.floats(1e4, 1e8), max_cells=st.floats(1e7, 1e10)))))
    if dose is not None:
        arm["changes"] = {"dose": dose, "lymphodepletion": draw(st.booleans())}
    return arm


@st.composite
def _success(draw, names, patients):
    count = {"arm": draw(st.sampled_from(names)), "count": draw(st.sampled_from(["cr", "responder", "crs_grade3plus"])),
             draw(st.sampled_from(["at_least", "at_most"])): draw(st.integers(0, patients))}
    if len(names) < 2 or draw(st.booleans()):
        return count
    return {"compare": draw(st.sampled_from(["pfs", "os"])), "arms": draw(st.permutations(names))[:2],
            "logrank_p_below": draw(st.floats(0.001, 0.2))}


@st.composite
def scenarios(draw):
    follow_up = draw(st.floats(30, 3650))
    names = draw(st.lists(st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_\-]{0,15}", fullmatch=True), min_size=1, max_size=3,
                          unique=True))
    patients = draw(st.integers(1, 500))
    data = {
        "name": draw(st.from_regex(r"[a-z0-9][a-z0-9_\-]{0,20}", fullmatch=True)),
        "title": draw(TEXT),
        "description": draw(st.just("") | TEXT),
        "disease": draw(st.sampled_from(DISEASES)),
        "cohort": {"patients": patients, "replicates": draw(st.integers(1, 50)),
                   "design": draw(st.sampled_from(["independent", "paired"])),
                   "weight_kg": draw(_maybe(WEIGHTS)),
                   "variability": draw(st.dictionaries(st.sampled_from(["B0", "g_T", "d_T"]), st.floats(0, 3)))},
        "arms": [draw(_arm(name, follow_up)) for name in names],
        "assessments": {"imaging_days": draw(_days(1, follow_up, 1, 6)), "ctdna_days": draw(_days(1, follow_up, 0, 6))},
        "follow_up_days": follow_up,
        "endpoints": {"landmarks_days": draw(_days(1, follow_up, 0, 3)),
                      "reference_arm": draw(_maybe(st.sampled_from(names))),
                      "success": draw(st.lists(_success(names, patients), max_size=2))},
        "costs": {"currency": draw(st.sampled_from(["USD", "EUR", "GBP", "CHF"])),
                  "hospital_day": draw(st.floats(0, 1e4)),
                  "crs_days_by_grade": draw(st.lists(_day(0, 30), min_size=5, max_size=5))},
        "seed": draw(st.integers(0, 2**63 - 1)),
        "simulation": {"rtol": draw(st.floats(1e-8, 1e-2)), "chunk_size": draw(st.integers(1, 10_000))},
    }
    return Scenario.model_validate(data)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_schema_round_trip_through_yaml(scenario):
    full = yaml.safe_dump(scenario.model_dump(mode="json"), sort_keys=False)
    assert parse_scenario(full, where="round trip") == scenario
    short = yaml.safe_dump(scenario.model_dump(mode="json", exclude_defaults=True))
    assert parse_scenario(short, where="round trip") == scenario


# --- error messages ----------------------------------------------------------------------------------------

BASE = {"name": "base", "title": "Base", "disease": "lbcl",
        "arms": [{"name": "std", "product": "axi-cel-like"}, {"name": "nk", "product": "ft596-like"}]}


def _edit(change) -> str:
    data = copy.deepcopy(BASE)
    change(data)
    return yaml.safe_dump(data, sort_keys=False)


def _set(path, value):
    """A change that sets ``value`` at a dotted path of BASE (integers index lists)."""
    *head, last = [int(p) if p.isdigit() else p for p in path.split(".")]

    def change(data):
        node = data
        for part in head:
            node = node[part] if isinstance(part, int) else node.setdefault(part, {})
        node[last] = value
    return change


def _arm0(**changes):
    return _set("arms.0.changes", changes)


CORPUS = [
    ("top-level typo", _set("follow_up", 200), ["follow_up: unknown field", "did you mean 'follow_up_days'"]),
    ("nested typo", _set("cohort.patiens", 5), ["cohort.patiens: unknown field", "did you mean 'patients'"]),
    ("deep typo", _set("arms.0.regimen.infusion_day", [0]),
     ["arms.0.regimen.infusion_day", "did you mean 'infusion_days'", "allowed here: infusion_days"]),
    ("edits typo", _arm0(edits={"pd1": True}), ["arms.0.changes.edits.pd1", "did you mean 'pd1_ko'"]),
    ("field in the wrong place", _set("arms.0.dose", {"cells": 1e8}), ["arms.0.dose", "allowed here: name, product"]),
    ("unknown disease", _set("disease", "lbcI"), ["disease", "'lbcI'", "did you mean 'lbcl'", "available"]),
    ("unknown product", _set("arms.0.product", "axicel-like"),
     ["arms.0.product", "'axicel-like'", "did you mean 'axi-cel-like'", "available: axi-cel-like"]),
    ("unknown disease_changes parameter", _set("disease_changes", {"g_t": 0.1}),
     ["disease_changes", "'g_t'", "did you mean 'g_T'"]),
    ("unknown arm parameter", _arm0(parameters={"gama_T": 1.0}),
     ["arms.0.changes.parameters", "'gama_T'", "did you mean 'gamma_T'"]),
    ("unknown variability parameter", _set("cohort.variability", {"d_t": 0.1}),
     ["cohort.variability", "'d_t'", "did you mean 'd_T'"]),
    ("unknown effect parameter",
     _set("cohort.effects", [{"parameter": "K_t", "covariate": "weight_kg", "kind": "power", "coefficient": 0.75,
                              "reference": 70}]), ["cohort.effects", "'K_t'", "did you mean 'K_T'"]),
    ("parameter out of bounds", _set("disease_changes", {"B0": -5}), ["disease_changes", "B0 = -5", "bounds [0, "]),
    ("negative dose", _arm0(dose={"cells": -1e8}), ["arms.0.changes.dose.cells", "greater than 0", "-100000000"]),
    ("cells and per_kg", _arm0(dose={"cells": 1e8, "per_kg": 1e6}),
     ["arms.0.changes.dose", "exactly one of `cells`", "`per_kg`"]),
    ("composition sum", _arm0(composition={"S": 0.5, "CM": 0.5, "EM": 0.5, "EFF": 0.0, "EX": 0.0}),
     ["arms.0.changes", "composition", "sum to 1", "1.5"]),
    ("composition on NK", _set("arms.1.changes", {"composition": {k: 0.2 for k in ("S", "CM", "EM", "EFF", "EX")}}),
     ["arms.1.changes.composition", "ft596-like", "t_cell products only"]),
    ("memory-like on T cells", _arm0(memory_like_fraction=0.5),
     ["arms.0.changes.memory_like_fraction", "nk_cell products only"]),
    ("infusion days not increasing", _set("arms.0.regimen.infusion_days", [0, 14, 7]),
     ["arms.0.regimen.infusion_days", "increase strictly", "[0.0, 14.0, 7.0]"]),
    ("infusion after follow-up", _set("arms.0.regimen.infusion_days", [0, 400]),
     ["arms.0.regimen.infusion_days", "[400.0]", "follow_up_days=365"]),
    ("assessment after follow-up", lambda d: d.update(follow_up_days=100, assessments={"imaging_days": [28, 90, 180]}),
     ["assessments.imaging_days", "[180.0]", "follow_up_days=100"]),
    ("duplicate arm names", _set("arms.1.name", "std"), ["arm names must be unique", "['std', 'std']"]),
    ("success names unknown arm", _set("endpoints.success", [{"arm": "nk2", "count": "cr", "at_least": 1}]),
     ["endpoints.success.0", "'nk2'", "did you mean 'nk'", "arms: ['std', 'nk']"]),
    ("reference arm unknown", _set("endpoints.reference_arm", "sdt"),
     ["endpoints.reference_arm", "'sdt'", "did you mean 'std'"]),
    ("at_least and at_most", _set("endpoints.success", [{"arm": "nk", "count": "cr", "at_least": 1, "at_most": 3}]),
     ["endpoints.success.0", "exactly one of at_least or at_most"]),
    ("unknown count", _set("endpoints.success", [{"arm": "nk", "count": "crs", "at_least": 1}]),
     ["endpoints.success.0", "'cr', 'responder' or 'crs_grade3plus'", "'crs'"]),
    ("zero patients", _set("cohort.patients", 0), ["cohort.patients", "greater than or equal to 1", "got 0"]),
    ("patients as text", _set("cohort.patients", "many"), ["cohort.patients", "valid integer", "'many'"]),
    ("fractional patients", _set("cohort.patients", 10.5), ["cohort.patients", "valid integer", "10.5"]),
    ("implausible dose", _arm0(dose={"cells": 1e15}), ["arms.0.changes.dose", "1e+15", "implausible", "1e+11"]),
    ("implausible per-kg dose", _arm0(dose={"per_kg": 1e10}), ["arms.0.changes.dose", "1.5e+12", "implausible"]),
    ("too many patient-arms", _set("cohort", {"patients": 10_000_000, "replicates": 100}),
     ["cohort", "2,000,000,000 patient-arms", "limit 100,000,000"]),
    ("variability above 3", _set("cohort.variability", {"B0": 4.0}), ["cohort.variability", "[0, 3]", "4.0"]),
    ("unknown design", _set("cohort.design", "pairs"), ["cohort.design", "'independent' or 'paired'", "'pairs'"]),
    ("incomplete distribution", _set("cohort.weight_kg", {"distribution": "normal", "mean": 70}),
     ["cohort.weight_kg", "normal distribution needs ['sd']"]),
    ("bad name", _set("name", "Base Trial"), ["name: String should match pattern", "'Base Trial'"]),
    ("no arms", _set("arms", []), ["arms: List should have at least 1 item"]),
    ("schema version 2", _set("schema_version", 2), ["schema_version", "should be 1", "got 2"]),
    ("missing fields", "name: x\n", ["title: missing (required)", "disease: missing", "arms: missing"]),
    ("invalid YAML", "name: [x\ntitle: y\n", ["demo.yaml: not valid YAML", "line 1"]),
    ("top level is a list", "- name: x\n- title: y\n", ["demo.yaml", "expected a mapping", "got list"]),
    ("empty file", "", ["demo.yaml", "the file is empty", "expected a mapping"]),
]


def _message(case) -> str:
    text = case if isinstance(case, str) else _edit(case)
    with pytest.raises(ScenarioError) as info:
        parse_scenario(text, where="demo.yaml")
    assert type(info.value) is ScenarioError
    return str(info.value)


@pytest.mark.parametrize("case, expected", [c[1:] for c in CORPUS], ids=[c[0] for c in CORPUS])
def test_error_messages_name_field_and_value(case, expected):
    message = _message(case)
    for words in expected:
        assert words in message, f"{words!r} not in:\n{message}"
    assert message.startswith("demo.yaml")
    assert "Traceback" not in message and "errors.pydantic.dev" not in message and "https://" not in message


def test_the_base_of_the_corpus_is_valid():
    assert [a.name for a in parse_scenario(_edit(lambda d: None)).arms] == ["std", "nk"]


# Gaps the first version of the loader had (found by review), kept as regression cases.
GAPS = [
    ("assessment path", lambda d: d.update(follow_up_days=100, assessments={"imaging_days": [28, 90, 180]}),
     ["assessments.imaging_days"]),
    ("duplicate arm path", _set("arms.1.name", "std"), ["  - arms"]),
    ("prior_lines path", _set("cohort.prior_lines", {"distribution": "uniform", "low": 1, "high": 3}),
     ["cohort.prior_lines"]),
    ("composition path", _arm0(composition={"S": 0.5, "CM": 0.5, "EM": 0.5, "EFF": 0.0, "EX": 0.0}),
     ["arms.0.changes.composition"]),
    ("union noise", _set("endpoints.success", [{"arm": "nk", "count": "cr", "at_lest": 1}]),
     ["endpoints.success.0.at_lest: unknown field (did you mean 'at_least'?)"]),
    ("bool as an integer", _set("cohort.patients", True), ["cohort.patients"]),
    ("infinite cost", _set("costs.hospital_day", float("inf")), ["costs.hospital_day"]),
    ("duplicate YAML key", "name: x\nname: y\ntitle: X\ndisease: lbcl\narms: [{name: a, product: axi-cel-like}]\n",
     ["name"]),
    ("field of another distribution", _set("cohort.weight_kg", {"distribution": "lognormal", "median": 70,
                                                                "sd_log": 0.2, "mean": 3}), ["cohort.weight_kg"]),
    ("categorical weight", _set("cohort.weight_kg", {"distribution": "categorical", "levels": {"a": 1.0}}),
     ["cohort.weight_kg"]),
    ("levels do not sum to 1", _set("cohort.prior_lines", {"distribution": "categorical",
                                                           "levels": {"1": 0.5, "2": 0.2}}), ["cohort.prior_lines"]),
    ("uniform low above high", _set("cohort.weight_kg", {"distribution": "uniform", "low": 100, "high": 50}),
     ["cohort.weight_kg"]),
    ("effect on a covariate not drawn",
     _set("cohort.effects", [{"parameter": "B0", "covariate": "prior_lines", "kind": "categorical",
                              "coefficient": {"3": 2.0}, "reference": "1"}]), ["cohort.effects"]),
    ("radiotherapy days", _set("arms.0.regimen.radiotherapy", {"days": [500, -3], "dose_gy": 2}),
     ["arms.0.regimen.radiotherapy.days"]),
    ("compare an arm with itself", _set("endpoints.success", [{"compare": "pfs", "arms": ["std", "std"]}]),
     ["endpoints.success.0"]),
]


# Issue 14: silent coercions, missing bounds and unhelpful hints found by the fuzz corpus (tests/property).
GAPS += [
    ("yes/no in a number", _set("cohort.weight_kg", {"distribution": "normal", "mean": True, "sd": 10}),
     ["cohort.weight_kg.mean", "true/false", "not a number"]),
    ("true as an imaging day", _set("assessments.imaging_days", [True, 28]), ["assessments.imaging_days.0", "true"]),
    ("yes/no in another module's number", _set("arms.1.policy", {"kind": "maintenance", "every_days": True}),
     ["arms.1.policy.every_days", "true/false"]),
    ("a dose of 0.001 cells", _arm0(dose={"cells": 0.001}),
     ["arms.0.changes.dose.cells", "0.001 cells is below the plausible minimum", "10000"]),
    ("negative weight truncation", _set("cohort.weight_kg", {"distribution": "normal", "mean": 70, "sd": 10,
                                                            "low": -10, "high": 150}),
     ["cohort.weight_kg", "low = -10", "[0.5, 300] kg"]),
    ("a day beyond the horizon", _set("arms.1.policy", {"kind": "maintenance", "every_days": 50_000}),
     ["arms.1.policy.every_days", "50000 day is implausible", "0.01 to 3650 day"]),
    ("a bound error states the range", _set("follow_up_days", 5000), ["follow_up_days", "allowed: > 0, <= 3650"]),
    ("typo in a tagged union", _set("arms.1.policy", {"kind": "maintenance", "every_days": 30, "time": 3}),
     ["arms.1.policy.time: unknown field", "allowed here: kind, max_doses"]),
    ("case-only misspelling", _set("cohort.variability", {"d_k": 0.1}), ["did you mean 'd_K'"]),
    ("a list as a key", "? [a, b]\n: 1\n", ["demo.yaml: line 1", "a key must be a plain name"]),
    ("a 5000-digit seed", "seed: " + "9" * 5000 + "\n", ["demo.yaml: line 1", "seed", "at most 20 digits"]),
    ("deep nesting", "zz: " + "[" * 100 + "]" * 100 + "\n", ["demo.yaml", "zz.0.0", "nested more than 40 levels"]),
    ("very deep nesting", "zz: " + "[" * 5000 + "\n", ["demo.yaml", "nest"]),
]


@pytest.mark.parametrize("case, expected", [c[1:] for c in GAPS], ids=[c[0] for c in GAPS])
def test_known_gaps_in_error_messages(case, expected):
    message = _message(case)
    for words in expected:
        assert words in message, f"{words!r} not in:\n{message}"
    assert "Value error" not in message and "function-after" not in message
