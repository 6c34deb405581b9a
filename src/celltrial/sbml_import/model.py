"""``import_sbml``: an SBML file as a celltrial model, compiled by the same code generator.

The result is a :class:`SBMLModel`, a :class:`~celltrial.model.Model` (one module named after
the file) that also carries the file's fixed-time events as solver events (``model.events``,
pass them to :func:`celltrial.simulate`), what each SBML id became (``model.sbml``) and the
renamings. Time is in the SBML model's own unit (celltrial's docs say days; the file decides).

Example:
    >>> from pathlib import Path
    >>> import celltrial
    >>> path = Path("/work/shared/biomodels/BIOMD0000001024/Chaudhury2020_Eq_4-5.xml")
    >>> model = celltrial.import_sbml(path) if path.exists() else None
    >>> model is None or len(model.state_names) >= 2
    True
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..errors import DeclarationError
from ..model.declaration import Model, Module
from . import declare
from .build import Builder
from .events import solver_events
from .initial import Initial
from .mathml import EXTRA_FUNCTIONS
from .naming import usable
from .reader import load


@dataclass
class SBMLInfo:
    """Where an imported model came from and what each SBML id became."""

    path: str
    model_id: str
    level: tuple
    kinds: dict = field(default_factory=dict)  # SBML id -> (element, celltrial name, kind)
    species: dict = field(default_factory=dict)  # species id -> (compartment name, hasOnlySubstanceUnits)
    renamed: dict = field(default_factory=dict)
    counts: dict = field(default_factory=dict)  # SBML element -> number in the file
    clock: str = ""  # the state standing for time, when the model uses time


class SBMLModel(Model):
    """A Model read from SBML; ``events`` are its fixed-time events, ``sbml`` its :class:`SBMLInfo`."""

    extra_functions = EXTRA_FUNCTIONS  # piecewise, trig, min/max... for the declaration parser

    def __init__(self, name, modules, events, sbml: SBMLInfo, description=""):
        self.events = list(events)
        self.sbml = sbml
        super().__init__(name, modules, description)


def _model_name(model, path: Path) -> str:
    """The model id, or the file name when the id is long (it names the kernel files), made a valid name."""
    ids = (model.getId(), path.stem)
    clean = ["".join(ch if ch.isalnum() or ch == "_" else "_" for ch in c).strip("_") for c in ids]
    clean = [c if not c or c[0].isalpha() else f"sbml_{c}" for c in clean]
    for text in [c for c in clean if len(c) <= 40] + [c[:40].rstrip("_") for c in clean]:
        if text and usable(text):
            return text
    return "sbml_model"


def _counts(m) -> dict:
    return {"species": m.getNumSpecies(), "parameters": m.getNumParameters(), "compartments": m.getNumCompartments(),
            "reactions": m.getNumReactions(), "rules": m.getNumRules(), "events": m.getNumEvents(),
            "initialAssignments": m.getNumInitialAssignments(), "functionDefinitions": m.getNumFunctionDefinitions()}


def import_sbml(path) -> SBMLModel:
    """Read the SBML file at ``path`` and declare it as a celltrial model.

    Raises :class:`~celltrial.errors.SBMLImportError` naming the SBML element and id of the first
    construct that cannot be simulated exactly (see :mod:`celltrial.sbml_import`).
    """
    path = Path(path)
    doc, m = load(path)
    b = Builder(m)
    init = Initial(b)
    source = f"[X] imported from {path.name}"
    params = declare.parameters(b, init, source)
    obs, _ = declare.observables(b)
    rates = declare.rates(b)
    states = declare.states(b, init)
    # a model where nothing moves still gets the clock: celltrial needs at least one state
    clock_states, clock_rates = declare.clock(b, rates, obs, force=not states)
    name = _model_name(m, path)
    info = SBMLInfo(str(path), m.getId(), (doc.getLevel(), doc.getVersion()), renamed=b.names.renamed(),
                    counts=_counts(m))
    info.clock = clock_states[0].name if clock_states else ""
    info.kinds = {k: (e.element, e.name, e.kind) for k, e in b.entities.items()}
    info.species = {e.key: (b.names[e.obj.getCompartment()], b.in_amounts(e.obj))
                    for e in b.entities.values() if e.element == "species"}
    module = Module(name, states=states + clock_states, parameters=params, observables=obs,
                    rates=rates + clock_rates, description=m.getName() or m.getId())
    try:
        model = SBMLModel(name, [module], [], info, description=m.getName() or m.getId() or path.stem)
    except DeclarationError as exc:  # an importer bug, not a refusal: never reported as "unsupported"
        raise DeclarationError(f"{path.name}: the imported declaration is inconsistent: {exc}") from exc
    model.events = solver_events(b, init, model)
    return model
