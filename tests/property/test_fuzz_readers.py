"""Bad input never gets a traceback (issue 14): a generated corpus of malformed files for every reader.

Each case is read by the library reader (fast, in process). It must end in a celltrial error that
is a ``ValueError`` (the CLI's exit 2) naming the field or the file, within
:data:`PER_CASE_SECONDS`; a case invalid by design must never be accepted. A seeded sample of
:data:`SAMPLE_SIZE` cases runs by default; the whole corpus (thousands of cases) is opt-in::

    pytest -m fuzz tests/property/test_fuzz_readers.py -s     # prints the counts

A few cases also go through the command line (exit 2, no traceback on stderr).
"""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
import traceback
from collections import Counter
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

from celltrial.calibration.cases import load_case
from celltrial.calibration.nonmem import read_nonmem
from celltrial.calibration.targets import load_targets
from celltrial.errors import CelltrialError
from celltrial.scenarios import load_scenario

from .fuzz_corpus import CASES, FILE, REJECT, SCENARIOS, yaml_corpus
from .fuzz_csv import csv_cases

#: Longest a reader may take on one case (the slowest cases are 2 MB files and 20,000-node documents).
PER_CASE_SECONDS = 5.0
#: A reader still busy after this long is stopped and counted as a hang.
ALARM_SECONDS = 60
#: Cases run by default (a seeded sample of the corpus).
SAMPLE_SIZE = 150

READERS = {"scenario": load_scenario, "targets": load_targets, "case": load_case, "nonmem": read_nonmem}


@cache
def corpus() -> tuple:
    return tuple(yaml_corpus() + csv_cases())


@dataclass(frozen=True)
class Outcome:
    status: str  # accepted | refused | traceback | hang
    seconds: float
    message: str
    path: str


class _Hang(Exception):
    pass


def _alarm(signum, frame):
    raise _Hang


def run_case(case, folder: Path) -> Outcome:
    """Write the case's file, read it with its reader, and classify what happened."""
    path = folder / f"input{case.suffix}"
    case.write(path)
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(ALARM_SECONDS)
    start = time.perf_counter()
    try:
        READERS[case.reader](path)
        status, message = "accepted", ""
    except _Hang:
        status, message = "hang", f"still running after {ALARM_SECONDS} s"
    except CelltrialError as exc:
        status, message = ("refused" if isinstance(exc, ValueError) else "traceback"), str(exc)
    except Exception as exc:  # noqa: BLE001 - any other exception is the bug this test looks for
        status, message = "traceback", "".join(traceback.format_exception(exc)[-3:])
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    seconds = time.perf_counter() - start
    path.unlink(missing_ok=True)
    return Outcome(status, seconds, message, str(path))


def problem(case, outcome: Outcome) -> str | None:
    """What is wrong with the outcome (None when the reader behaved)."""
    if outcome.status in ("traceback", "hang"):
        return f"{outcome.status}: {outcome.message[:600]}"
    if outcome.seconds > PER_CASE_SECONDS:
        return f"slow: {outcome.seconds:.1f} s (limit {PER_CASE_SECONDS:g} s)"
    if outcome.status == "accepted":
        return "accepted a bad input" if case.verdict == REJECT else None
    if "Traceback" in outcome.message:
        return f"a traceback in the message: {outcome.message[:300]}"
    for name in case.names:
        words = [outcome.path if w == FILE else w for w in (name if isinstance(name, tuple) else (name,))]
        if not any(w in outcome.message for w in words):
            return f"the message does not name {' or '.join(map(repr, words))}: {outcome.message[:400]}"
    return None


def _sample() -> list:
    cases = corpus()
    return random.Random(14).sample(cases, min(SAMPLE_SIZE, len(cases)))


@pytest.mark.parametrize("case", _sample(), ids=lambda c: c.id[:120])
def test_sampled_malformed_input_is_refused_by_name_without_traceback(case, tmp_path):
    outcome = run_case(case, tmp_path)
    assert problem(case, outcome) is None, f"{case.id}: {problem(case, outcome)}"


def test_the_corpus_covers_every_reader_with_over_a_thousand_cases():
    counts = Counter(c.reader for c in corpus())
    assert set(counts) == set(READERS) and sum(counts.values()) >= 1000, counts
    assert len({c.id for c in corpus()}) == len(corpus()), "case ids must be unique"


@pytest.fixture
def opt_in(request):
    """Skips unless the run selects the ``fuzz`` marker (``pytest -m fuzz``)."""
    if "fuzz" not in (request.config.getoption("markexpr") or ""):
        pytest.skip("opt-in: pytest -m fuzz")


@pytest.mark.fuzz
def test_full_corpus(opt_in, tmp_path):
    """Every case of the corpus; prints the counts (run with -s to see them)."""
    start = time.perf_counter()
    counts, failures, slowest = Counter(), [], (0.0, "")
    for case in corpus():
        outcome = run_case(case, tmp_path)
        counts[(case.reader, case.verdict, outcome.status)] += 1
        slowest = max(slowest, (outcome.seconds, case.id))
        found = problem(case, outcome)
        if found:
            failures.append(f"{case.id}: {found}")
    kinds = Counter(f.split(": ", 2)[1].split(":")[0] for f in failures)
    print(f"\nfuzz corpus: {len(corpus())} cases in {time.perf_counter() - start:.1f} s; slowest "
          f"{slowest[0]:.2f} s ({slowest[1]})")
    for key, n in sorted(counts.items()):
        print(f"  {'/'.join(key)}: {n}")
    print(f"  failures: {len(failures)} {dict(kinds)}")
    assert not failures, "\n".join(failures[:40])


# --- a few cases through the command line ----------------------------------------------------------------

CLI = [sys.executable, "-c", "from celltrial.cli import main; main()"]


def _cli(*args, cwd) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *map(str, args)], capture_output=True, text=True, timeout=300, cwd=cwd)


def _assert_exit_2(result, *words):
    assert result.returncode == 2, (result.returncode, result.stderr[-2000:])
    assert "Traceback" not in result.stderr and "error:" in result.stderr, result.stderr[-2000:]
    for w in words:
        assert w in result.stderr, (w, result.stderr[-2000:])


def test_cli_run_with_a_non_utf8_scenario_exits_2(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_bytes(SCENARIOS[0].read_bytes().replace(b"name:", b"name: caf\xe9\nzz:", 1))
    _assert_exit_2(_cli("run", bad, cwd=tmp_path), "UTF-8", "bad.yaml")


def test_cli_calibrate_refuses_a_preset_path_and_leaves_the_target_alone(tmp_path):
    victim = tmp_path / "x" / "victim.yaml"
    victim.parent.mkdir()
    victim.write_text("untouched\n")
    text = CASES[-1].read_text().replace("preset: lbcl}", f"preset: {tmp_path.as_posix()}/x/victim}}", 1)
    case = tmp_path / "case.yaml"
    case.write_text(text)
    _assert_exit_2(_cli("calibrate", case, "--write-presets", cwd=tmp_path), "preset")
    assert victim.read_text() == "untouched\n"


@pytest.mark.fuzz
@pytest.mark.parametrize("text", ["cohort: {weight_kg: {distribution: normal, mean: on, sd: 10}}\n",
                                  "zz: " + "[" * 100_000 + "\n", "seed: " + "9" * 5000 + "\n"],
                         ids=["bool mean", "deep nesting", "5000 digits"])
def test_cli_run_with_bad_scenarios_exits_2(opt_in, text, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\ntitle: X\ndisease: lbcl\narms: [{name: a, product: axi-cel-like}]\n" + text)
    _assert_exit_2(_cli("run", bad, cwd=tmp_path), "bad.yaml")
