"""Every command and code block of README.md runs as written, at small sizes.

The README stays verbatim; CI appends cheap size options (:data:`SMALL`) to each ``celltrial``
command, so a command that fails as written fails here. Commands run in README order in one
temporary folder (with ``scenarios/`` linked in), so later ones see the runs and files of earlier
ones, as a reader's would. Python blocks run in a fresh interpreter in the same folder.

Not run: ``pip install ...`` and ``python -m pytest`` (the set-up commands: they are what
``.ci/run`` itself runs, in a fresh virtual environment, before this test exists).
"""

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"

#: Options appended to each ``celltrial`` subcommand so the README's full-size examples run in
#: seconds; later options win, so README values are overridden, not removed.
SMALL = {
    "run": ["--patients", "10", "--replicates", "2"],
    "simulate": ["--patients", "10"],
    "export-sbml": ["--patients", "10"],
    # one validation case of the quick suite (the whole suite takes minutes; tests/integration/
    # test_cli_calibration.py runs all of it)
    "validate": ["--quick", "--only", "recovery-individual"],
    "calibrate": ["--patients", "10", "--design-points", "13", "--waves", "1"],
    "simdata": ["--patients", "3", "--times", "2,7,14,28,56"],
}

#: Set-up commands that CI runs itself (see the module docstring).
SKIPPED = ("pip install", "python -m pytest")

#: README placeholders and how to fill them: (oldest run, newest run) in the store.
PLACEHOLDERS = ("RUN_A", "RUN_B")


def readme_blocks() -> list:
    """(line number, language, text) of every fenced code block of the README."""
    text = README.read_text()
    return [(text[: m.start()].count("\n") + 2, m.group(1) or "", m.group(2))
            for m in re.finditer(r"^```(\w*)\n(.*?)^```", text, flags=re.M | re.S)]


def readme_steps() -> list:
    """(id, kind, payload) of every step: a shell command split at ``&&``, or a Python block."""
    steps = []
    for line_no, lang, text in readme_blocks():
        if lang == "python":
            steps.append((f"L{line_no}-python", "python", text))
            continue
        assert lang in ("", "bash", "sh"), f"README.md:{line_no}: unexpected code block language {lang!r}"
        for offset, line in enumerate(text.replace("\\\n", " ").splitlines()):
            for part in line.split("&&"):
                command = part.strip()
                if command and not command.startswith("#") and not command.startswith(SKIPPED):
                    words = shlex.split(command, comments=True)
                    steps.append((f"L{line_no + offset}-{'-'.join(words[:2])}", "shell", command))
    return steps


STEPS = readme_steps()


def test_the_readme_keeps_its_two_set_up_commands():
    setup = README.read_text().split("## Set-up", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"^```\w*\n(.*?)^```", setup, flags=re.M | re.S)
    assert [c.strip() for c in commands] == ['pip install -e . && celltrial run scenarios/quickstart.yaml',
                                             'pip install -e ".[tests]" && python -m pytest -q']


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("readme")
    (folder / "scenarios").symlink_to(ROOT / "scenarios", target_is_directory=True)
    # the shipped calibration evidence (docs/calibration/CASE) that README examples read
    (folder / "docs").mkdir()
    (folder / "docs" / "calibration").symlink_to(ROOT / "docs" / "calibration", target_is_directory=True)
    return folder


def celltrial_executable() -> list:
    """The console script beside this interpreter, or ``python -m celltrial.cli``."""
    script = Path(sys.executable).with_name("celltrial")
    return [str(script)] if script.exists() else [sys.executable, "-m", "celltrial.cli"]


def run_ids(workdir) -> list:
    """IDs of the runs in the README's default store, oldest first."""
    out = subprocess.run([*celltrial_executable(), "runs", "--json"], cwd=workdir, capture_output=True, text=True,
                         timeout=120, check=True)
    return [r["run_id"] for r in json.loads(out.stdout)][::-1]


def shell_args(command: str, workdir) -> tuple:
    """(argv with the small sizes appended and placeholders filled, stdout file or None)."""
    words = shlex.split(command, comments=True)
    assert words[0] == "celltrial", f"README command {command!r}: only celltrial commands are run here"
    stdout = None
    if ">" in words:
        at = words.index(">")
        words, stdout = words[:at], words[at + 1]
    if any(p in words for p in PLACEHOLDERS):
        ids = run_ids(workdir)
        assert len(ids) >= 2, f"{command!r} needs two stored runs; the README makes {len(ids)} before it"
        words = [{"RUN_A": ids[0], "RUN_B": ids[-1]}.get(w, w) for w in words]
    return [*celltrial_executable(), *words[1:], *SMALL.get(words[1], [])], stdout


@pytest.mark.parametrize(("kind", "payload"), [s[1:] for s in STEPS], ids=[s[0] for s in STEPS])
def test_readme_step_runs(kind, payload, workdir):
    if kind == "python":
        proc = subprocess.run([sys.executable, "-c", payload], cwd=workdir, capture_output=True, text=True,
                              timeout=600)
    else:
        argv, stdout = shell_args(payload, workdir)
        proc = subprocess.run(argv, cwd=workdir, capture_output=True, text=True, timeout=600)
        if stdout:
            (workdir / stdout).write_text(proc.stdout)
    assert proc.returncode == 0, f"README step failed: {payload}\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}"
    assert "Traceback" not in proc.stderr
