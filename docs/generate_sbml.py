"""Regenerate the SBML import pages: `python docs/generate_sbml.py [--no-suite]`.

Writes docs/sbml-conformance.md (the SBML Test Suite table by tag; ~30 s, interpreted kernels),
docs/models/imported/<model>.md for each published model in ../shared/biomodels, and fills the
generated spans of the hand-written docs/sbml-import.md (the BioModels comparison table against
libRoadRunner, the conformance totals). Needs python-libsbml, and libroadrunner for the comparison.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

from celltrial.model.docs import fill_generated
from celltrial.sbml_import import import_sbml

DOCS = Path(__file__).resolve().parent
SHARED = DOCS.parent.parent / "shared"
BIOMODELS = [  # file, SED-ML end time (days)
    ("BIOMD0000001041/Kimmel2021.xml", 200.0),
    ("BIOMD0000001019/Barros2021_HDLM2.xml", 500.0),
    ("BIOMD0000001011/Leon-Triana2020_(eqs_4).xml", 60.0),
    ("BIOMD0000001024/Chaudhury2020_Eq_4-5.xml", 360.0),
]


def conformance() -> dict:
    """Run the suite (child process, interpreted kernels), write the page, return the totals."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "cases.json"
        cmd = [sys.executable, "-m", "celltrial.sbml_import.conformance", str(SHARED / "sbml-test-suite" / "semantic"),
               "--json", str(out), "--markdown", str(DOCS / "sbml-conformance.md")]
        subprocess.run(cmd, check=True)
        counts = Counter(r["status"] for r in json.loads(out.read_text()))
    return {f"suite_{k}": str(counts.get(k, 0)) for k in ("passed", "failed", "unsupported")}


def biomodels_table() -> str:
    from celltrial.sbml_import.compare import compare

    rows = ["| model | states | rules | events | largest relative difference vs libRoadRunner |",
            "|---|---:|---:|---:|---:|"]
    for file, t_end in BIOMODELS:
        path = SHARED / "biomodels" / file
        model = import_sbml(path)
        errors = compare(path, t_end)
        worst = max(errors, key=errors.get)
        rows.append(f"| {path.stem} (0-{t_end:g} d) | {len(model.states)} | {len(model.observables)} | "
                    f"{len(model.events)} | {errors[worst]:.1e} ({worst}) |")
    return "\n" + "\n".join(rows) + "\n"


def kimmel_figure() -> None:
    """The SED-ML time course of Kimmel 2021 (Fig. 2a/b's curves), celltrial solid over roadrunner dashed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from celltrial.sbml_import.compare import roadrunner_trajectories
    from celltrial.sbml_import.run import simulate_sbml

    path = SHARED / "biomodels" / BIOMODELS[0][0]
    model = import_sbml(path)
    times = np.linspace(0.0, 200.0, 1001)  # the SED-ML's uniformTimeCourse
    ids = ["Normal_T_cells", "CAR_T_cells", "Antigen_presenting_tumour_cells"]
    ours, theirs = simulate_sbml(model, times), roadrunner_trajectories(path, ids, times)
    fig, ax = plt.subplots(figsize=(7, 4))
    for j, sid in enumerate(ids):
        ax.plot(times, ours[sid], lw=2, label=f"{sid} (celltrial)")
        ax.plot(times, theirs[:, j], "--", color="k", lw=0.8)
    ax.set(xlabel="days", ylabel="cells per uL", yscale="log", ylim=(1e-3, 1e3),
           title="Kimmel 2021, SED-ML time course (dashed: libRoadRunner)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(DOCS / "figures" / "kimmel2021_sedml.png", dpi=110)


def model_pages() -> None:
    from celltrial.cli.sbml import _page

    out = DOCS / "models" / "imported"
    out.mkdir(parents=True, exist_ok=True)
    for file, _ in BIOMODELS:
        model = import_sbml(SHARED / "biomodels" / file)
        (out / f"{model.name}.md").write_text(_page(model))


def main(argv) -> None:
    values = {} if "--no-suite" in argv else conformance()
    model_pages()
    kimmel_figure()
    values["biomodels_table"] = biomodels_table()
    page = DOCS / "sbml-import.md"
    text = page.read_text()
    if "--no-suite" in argv:  # keep the totals already on the page
        import re

        values.update({m.group(1): m.group(2) for m in re.finditer(
            r"<!-- generated: (suite_\w+) -->(.*?)<!-- /generated -->", text)})
    page.write_text(fill_generated(text, values))


if __name__ == "__main__":
    main(sys.argv[1:])
