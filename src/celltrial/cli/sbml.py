"""``celltrial import-sbml MODEL.xml``: what an SBML file becomes in celltrial, or why it cannot.

Prints the SBML elements found, the states, parameters, rules (observables), rates and events
of the imported model and the ids that were renamed; ``--page PATH`` writes a generated model
page (as docs/models/). A file using constructs the engine cannot honour exactly lists every one
of them, each naming its SBML element, and exits 2. Nothing is compiled.

Example:
    $ celltrial import-sbml ../shared/biomodels/BIOMD0000001041/Kimmel2021.xml
    $ celltrial import-sbml model.xml --page docs/models/kimmel2021.md
"""

from __future__ import annotations

from pathlib import Path

import typer

from .root import app, guarded


def _summary_lines(model) -> list:
    info = model.sbml
    lines = [f"{Path(info.path).name}: SBML L{info.level[0]}V{info.level[1]} model {info.model_id!r} "
             f"-> celltrial model {model.name!r}",
             "  SBML: " + ", ".join(f"{n} {k}" for k, n in info.counts.items() if n)]
    lines.append(f"  states ({len(model.states)}): " + ", ".join(
        f"{s.name} [{s.unit}]" for s in model.states))
    lines.append(f"  parameters ({len(model.parameters)}): " + ", ".join(
        f"{p.name}={p.value:g}" for p in model.parameters))
    lines.append(f"  rules as observables ({len(model.observables)}): " + ", ".join(
        f"{o.name} = {o.expression}" for o in model.observables))
    lines.append(f"  rates ({len(model.rates)}): " + ", ".join(r.name for r in model.rates))
    lines.append(f"  events ({len(model.events)}): " + ", ".join(_event_text(e) for e in model.events))
    if info.clock:
        lines.append(f"  time is the state {info.clock!r} (d/dt = 1)")
    if info.renamed:
        lines.append("  renamed ids: " + ", ".join(f"{k} -> {v}" for k, v in info.renamed.items()))
    lines.append("  unsupported constructs: none")
    return lines


def _event_text(event) -> str:
    values = getattr(event, "values", None) or getattr(event, "amounts", None) or getattr(event, "factors", {})
    return f"{type(event).__name__} at t={event.time:g} {values}"


def _page(model) -> str:
    from ..model import docs

    info = model.sbml
    head = (f"Imported from `{Path(info.path).name}` (SBML L{info.level[0]}V{info.level[1]}, model id "
            f"`{info.model_id}`) by `celltrial import-sbml`; generated, do not edit. Time is in the SBML "
            "model's own unit.")
    events = "\n".join(f"- {_event_text(e)}" for e in model.events) or "None."
    return f"{docs.model_markdown(model)}\n## Imported events\n\n{events}\n\n{head}\n"


@app.command("import-sbml")
@guarded
def import_sbml_command(
    path: str = typer.Argument(..., help="The SBML file (any level and version libsbml reads)."),
    page: str = typer.Option(None, "--page", help="Write a generated model page (markdown) here."),
):
    """Import an SBML model: summary, unsupported constructs (each named), optional model page."""
    path, page = Path(path), (Path(page) if page else None)
    from ..errors import SBMLImportError
    from ..sbml_import import import_sbml
    from ..sbml_import.reader import load
    from ..sbml_import.survey import survey

    doc, _ = _readable(load, path)
    problems = survey(doc)
    if problems:
        listing = "\n".join(f"  - {p}" for p in problems)
        raise SBMLImportError(f"{path.name}: {len(problems)} construct(s) the engine cannot honour exactly:\n"
                              f"{listing}")
    model = import_sbml(path)
    typer.echo("\n".join(_summary_lines(model)))
    if page is not None:
        page.write_text(_page(model), encoding="utf-8")
        typer.echo(f"model page written to {page}")


def _readable(load, path):
    """libsbml's document even when the importer's structural checks refuse it (the survey lists all)."""
    from ..errors import SBMLImportError
    from ..sbml_import.reader import libsbml_module

    try:
        return load(path)
    except SBMLImportError:
        libsbml = libsbml_module()
        if not Path(path).is_file():
            raise
        doc = libsbml.readSBMLFromFile(str(path))
        if doc.getNumErrors(libsbml.LIBSBML_SEV_ERROR) or doc.getModel() is None:
            raise
        return doc, doc.getModel()
