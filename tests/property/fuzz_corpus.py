"""A generated corpus of malformed inputs for every reader of user files (issue 14).

Each :class:`Case` writes one file and names the reader that must read it: ``scenario``
(:func:`celltrial.scenarios.load_scenario`), ``targets`` (``load_targets``), ``case``
(``load_case``) or ``nonmem`` (``read_nonmem``, see :mod:`fuzz_csv`). Inputs start from the
shipped files (``scenarios/*.yaml``, the calibration cases, the test targets and CSV files) and
are mutated: booleans, huge, negative and non-finite numbers where numbers belong, type swaps,
path strings, unknown and misspelt keys, deep nesting, list keys, aliases, bad bytes, truncation
and huge files. A case's ``verdict`` is ``reject`` when the mutation is invalid by design (the
reader must refuse it, naming ``names``) or ``maybe`` when it might be valid (truncation, zero,
null, free text): then only "no traceback, no hang" is asserted.

Example:
    >>> cases = scenario_cases()
    >>> len(cases) > 1000 and {c.verdict for c in cases} == {"reject", "maybe"}
    True
"""

from __future__ import annotations

import copy
import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))
CASES = sorted((ROOT / "src" / "celltrial" / "calibration" / "data").glob("*.yaml"))
TARGETS = ROOT / "tests" / "calibration" / "data" / "example_targets.yaml"

REJECT, MAYBE = "reject", "maybe"
FILE = "<FILE>"  # in ``names``: the error must name the file's path
RAW = "RAWTOKEN"  # a leaf set to this is replaced by raw YAML text after dumping

#: Number fields where a negative value can be valid (signed coefficients, linear-scale values).
SIGNED = {"coefficient", "reference", "value", "lower", "upper"}
#: String fields holding a name, a choice or a provenance tag: a path or a long string is never valid there.
NAMED = {"name", "disease", "product", "kind", "distribution", "design", "lymphodepletion_before", "reference_arm",
         "count", "compare", "action", "out_of_bounds", "method", "accrual", "counts", "scale", "quantity", "arm",
         "arms", "preset", "source", "parameter", "covariate"}
#: Mappings whose keys are free names (a new or misspelt key may be valid).
FREE_KEYS = {"levels", "coefficient"}


@dataclass(frozen=True)
class Case:
    """One malformed input: who reads it, how to write it, whether it must be refused and what the error names."""

    id: str
    reader: str
    write: Callable[[Path], None]
    verdict: str
    names: tuple = ()  # each a word, or a tuple of words of which one must appear
    suffix: str = ".yaml"


def _bytes_writer(make: Callable[[], bytes]) -> Callable[[Path], None]:
    return lambda path: path.write_bytes(make())


def dump(data, raw: str | None = None) -> bytes:
    """YAML of ``data`` (block style, key order kept) with the sentinel replaced by ``raw`` text."""
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=1 << 20)
    return (text.replace(RAW, raw) if raw is not None else text).encode()


def nodes(data, path=()):
    """(path, value) of every node below the top level, in document order."""
    items = data.items() if isinstance(data, dict) else enumerate(data) if isinstance(data, list) else ()
    for key, value in items:
        yield (*path, key), value
        yield from nodes(value, (*path, key))


def set_at(data, path, value):
    """A deep copy of ``data`` with ``value`` at ``path``."""
    out = copy.deepcopy(data)
    node = out
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    return out


def key_of(path) -> str:
    """The last mapping key on ``path`` (the field a list item belongs to)."""
    return next(str(p) for p in reversed(path) if isinstance(p, str))


def _raw(data, path, raw):
    return lambda: dump(set_at(data, path, RAW), raw)


NUMBER_MUTATIONS = [  # (label, raw YAML, verdict); None: REJECT unless the field is signed (then MAYBE)
    ("bool on", "on", REJECT), ("bool yes", "yes", REJECT), ("bool true", "true", REJECT),
    ("bool off", "off", REJECT), ("inf", ".inf", REJECT), ("-inf", "-.inf", REJECT), ("nan", ".nan", REJECT),
    ("1e400 as text", "1e400", REJECT), ("25 digits", "9" * 25, REJECT), ("5000 digits", "9" * 5000, REJECT),
    ("1e300", "1.0e+300", REJECT), ("-1e300", "-1.0e+300", None), ("negative", "-1", None),
    ("text", "abc", REJECT), ("list", "[1, 2]", REJECT), ("mapping", "{a: 1}", REJECT),
    ("bad date", "2024-13-45", REJECT), ("zero", "0", MAYBE), ("null", "null", MAYBE), ("quoted", "'5'", MAYBE),
    ("tiny", "1.0e-300", MAYBE),
]

STRING_MUTATIONS = [  # (label, raw YAML, verdict for a NAMED field, verdict for free text)
    ("number", "12345", REJECT, REJECT), ("list", "[a, b]", REJECT, REJECT), ("mapping", "{a: b}", REJECT, REJECT),
    ("bool", "yes", REJECT, REJECT), ("path ..", "../../../tmp/x/victim", REJECT, MAYBE),
    ("path abs", "/etc/passwd", REJECT, MAYBE), ("path win", "'C:\\Windows\\x'", REJECT, MAYBE),
    ("long", "'" + "x" * 100_000 + "'", REJECT, MAYBE), ("nul", '"a\\0b"', REJECT, MAYBE),
    ("empty", "''", MAYBE, MAYBE), ("null", "null", MAYBE, MAYBE),
]


def leaf_cases(reader: str, label: str, data, prefix=()) -> list:
    """Mutations of every number, string, mapping and list below ``prefix`` in ``data``."""
    out = []
    below = data
    for part in prefix:
        below = below[part]
    for sub, value in nodes(below):
        path = (*prefix, *sub)
        where = f"{reader}/{label}/{'.'.join(map(str, path))}"
        key = key_of(path)
        if isinstance(value, bool):
            out.append(Case(f"{where}: bool as number", reader, _bytes_writer(_raw(data, path, "2")), MAYBE))
        elif isinstance(value, int | float):
            for name, raw, verdict in NUMBER_MUTATIONS:
                verdict = verdict or (MAYBE if key in SIGNED else REJECT)
                if key == "reference" and name in ("text", "bad date"):
                    verdict = MAYBE  # a categorical reference is a level name
                out.append(Case(f"{where}: {name}", reader, _bytes_writer(_raw(data, path, raw)), verdict,
                                (key,) if verdict == REJECT else ()))
        elif isinstance(value, str):
            for name, raw, named, free in STRING_MUTATIONS:
                verdict = named if key in NAMED else free
                if key == "reference":
                    verdict = MAYBE  # a number or a level name
                out.append(Case(f"{where}: {name}", reader, _bytes_writer(_raw(data, path, raw)), verdict,
                                (key,) if verdict == REJECT else ()))
        else:
            out += _container_cases(reader, where, data, path, value, key)
    return out


def _container_cases(reader, where, data, path, value, key) -> list:
    nest = "[" * 60 + "]" * 60
    swaps = [("scalar", "5", MAYBE if key == "coefficient" else REJECT), ("deep list", nest, REJECT),
             ("null", "null", MAYBE), ("empty list", "[]", REJECT if isinstance(value, dict) else MAYBE)]
    out = [Case(f"{where}: {name}", reader, _bytes_writer(_raw(data, path, raw)), verdict,
                (key,) if verdict == REJECT else ()) for name, raw, verdict in swaps]
    if isinstance(value, dict):
        free = key in FREE_KEYS
        extra = {**value, "zz_unknown_field": 1}
        out.append(Case(f"{where}: unknown key", reader, _bytes_writer(lambda: dump(set_at(data, path, extra))),
                        MAYBE if free else REJECT, () if free else (("zz_unknown_field", key),)))
        for k in list(value)[:3]:
            typo = {(k[:-1] + "Q" if j == k else j): v for j, v in value.items()}
            out.append(Case(f"{where}: misspelt {k}", reader, _bytes_writer(lambda t=typo: dump(set_at(data, path, t))),
                            MAYBE if free else REJECT, () if free else ((f"{k[:-1]}Q", key),)))
    return out


def whole_file_cases(reader: str, label: str, text: str, seed: int) -> list:
    """Mutations of the file as a whole: bytes, structure, size, aliases, tags, truncation."""
    rng = random.Random(seed)
    first_key = text.split("\n", 1)[0] if not text.startswith("#") else next(
        line for line in text.splitlines() if line and not line.startswith("#"))
    body = text.encode()
    w = _bytes_writer
    specs = [
        ("byte 0xff", lambda: _insert(body, rng.randrange(len(body)), b"\xff"), REJECT, (FILE, "UTF-8")),
        ("byte 0xc3 0x28", lambda: _insert(body, len(body) // 2, b"\xc3\x28"), REJECT, (FILE, "UTF-8")),
        ("surrogate bytes", lambda: _insert(body, len(body) // 3, b"\xed\xa0\x80"), REJECT, (FILE, "UTF-8")),
        ("latin-1", lambda: (text + "# caf\u00e9\n").encode("latin-1", "replace"), REJECT, (FILE, "UTF-8")),
        ("utf-16", lambda: text.encode("utf-16"), REJECT, (FILE, "UTF-8")),
        ("bom", lambda: b"\xef\xbb\xbf" + body, MAYBE, ()),
        ("crlf", lambda: text.replace("\n", "\r\n").encode(), MAYBE, ()),
        ("list key", lambda: body + b"? [a, b]\n: 1\n", REJECT, (FILE, "key")),
        ("mapping key", lambda: body + b"? {a: 1}\n: 1\n", REJECT, (FILE, "key")),
        ("5000 unknown keys", lambda: body + _keys(5_000), REJECT, ("zz0",)),
        ("100000 unknown keys", lambda: body + _keys(100_000), REJECT, (FILE,)),
        ("700000 unknown keys", lambda: body + _keys(700_000), REJECT, (FILE,)),
        ("3 MB comment", lambda: body + b"#" + b"x" * 3_000_000 + b"\n", REJECT, (FILE,)),
        ("1.5 MB string", lambda: body + b"zz_big: '" + b"x" * 1_500_000 + b"'\n", REJECT, ("zz_big",)),
        ("10000-deep list", lambda: body + b"zz_deep: " + b"[" * 10_000 + b"]" * 10_000 + b"\n", REJECT, (FILE,)),
        ("500000-deep list", lambda: body + b"zz_deep: " + b"[" * 500_000 + b"\n", REJECT, (FILE,)),
        ("deep mapping", lambda: body + b"".join(b" " * i + b"zz:\n" for i in range(60)) + b" " * 60 + b"1\n",
         REJECT, (FILE,)),
        ("deep flow mapping", lambda: body + b"zz: " + b"{a: " * 5000 + b"1" + b"}" * 5000 + b"\n", REJECT, (FILE,)),
        ("billion laughs", lambda: body + _laughs(), REJECT, (FILE,)),
        ("recursive alias", lambda: body + b"zz: &a [*a]\n", REJECT, (FILE,)),
        ("python tag", lambda: body + b"zz: !!python/object/apply:os.system ['true']\n", REJECT, (FILE,)),
        ("bad timestamp", lambda: body + b"zz: 2024-02-31\n", REJECT, ("zz",)),
        ("duplicate key", lambda: body + first_key.encode() + b"\n", REJECT, ("given twice",)),
        ("two documents", lambda: body + b"---\n" + body, REJECT, (FILE,)),
        ("NUL byte", lambda: _insert(body, len(body) // 2, b"\x00"), REJECT, (FILE,)),
        ("tab indent", lambda: body + b"zz:\n\ta: 1\n", REJECT, (FILE,)),
        ("empty", lambda: b"", REJECT, (FILE,)), ("comments only", lambda: b"# nothing\n", REJECT, (FILE,)),
        ("null document", lambda: b"null\n", REJECT, (FILE,)), ("a list", lambda: b"- 1\n- 2\n", REJECT, (FILE,)),
        ("a number", lambda: b"42\n", REJECT, (FILE,)), ("a string", lambda: b"hello\n", REJECT, (FILE,)),
        ("merge key", lambda: body + b"zz_base: &b {a: 1}\nzz_use: {<<: *b}\n", REJECT, ("zz_base",)),
    ]
    cuts = sorted(rng.sample(range(1, len(body)), 6))
    specs += [(f"truncated at {c}", lambda c=c: body[:c], MAYBE, ()) for c in cuts]
    return [Case(f"{reader}/{label}: {name}", reader, w(make), verdict, names) for name, make, verdict, names in specs]


def _insert(body: bytes, at: int, junk: bytes) -> bytes:
    return body[:at] + junk + body[at:]


def _keys(n: int) -> bytes:
    return b"".join(b"zz%d: 1\n" % i for i in range(n))


def _laughs() -> bytes:
    lines = [b"zz0: &l0 [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]"]
    lines += [b"zz%d: &l%d [" % (i, i) + b", ".join([b"*l%d" % (i - 1)] * 10) + b"]" for i in range(1, 9)]
    return b"\n".join(lines) + b"\n"


def _yaml_cases(reader: str, path: Path, seed: int, prefix_of=lambda data: [()]) -> list:
    text = path.read_text()
    data = yaml.safe_load(text)
    out = [c for prefix in prefix_of(data) for c in leaf_cases(reader, path.name, data, prefix)]
    return out + whole_file_cases(reader, path.name, text, seed)


def scenario_cases() -> list:
    """Mutations of every shipped scenario."""
    return [c for i, p in enumerate(SCENARIOS) for c in _yaml_cases("scenario", p, 100 + i)]


def targets_cases() -> list:
    """Mutations of the test targets file and of the targets part of each shipped case."""
    out = _yaml_cases("targets", TARGETS, 200)
    for i, path in enumerate(CASES):
        data = {k: v for k, v in yaml.safe_load(path.read_text()).items() if k not in ("scenario", "fit")}
        out += [c for c in leaf_cases("targets", path.name, data)]
        out += whole_file_cases("targets", path.name, dump(data).decode(), 210 + i)
    return out


def case_cases() -> list:
    """Mutations of the shipped calibration cases (scenario, fit and targets sections), plus preset paths."""
    out = [c for i, p in enumerate(CASES) for c in _yaml_cases("case", p, 300 + i, lambda d: [("scenario",), ("fit",)])]
    data = yaml.safe_load(CASES[0].read_text())
    for bad in ("../../../tmp/x/victim", "/tmp/x/victim", "lbcl/../lbcl", "LBCL", "lbcl.yaml", "..", "victim",
                "diseases/lbcl", "lbcl\\..\\x", " lbcl"):
        changed = set_at(data, ("fit", "parameters", 0, "preset"), bad)
        out.append(Case(f"case/{CASES[0].name}: preset {bad!r}", "case", _bytes_writer(lambda d=changed: dump(d)),
                        REJECT, ("preset",)))
    return out


def yaml_corpus() -> list:
    """Every YAML case (scenarios, targets, calibration cases)."""
    return scenario_cases() + targets_cases() + case_cases()
