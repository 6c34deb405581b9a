"""Read an SBML file with libsbml and refuse, by element and id, what the importer cannot honour.

Refused (never simulated approximately): packages (e.g. ``comp``), algebraic rules, fast
reactions, constraints, delayed events, the ``delay`` and ``rateOf`` csymbols (found while
converting math), variable stoichiometry, and species in compartments whose size changes.
Events are judged separately (:mod:`celltrial.sbml_import.events`).

Example:
    >>> import libsbml
    >>> doc = libsbml.readSBMLFromString(
    ...     '<sbml xmlns="http://www.sbml.org/sbml/level3/version2/core" level="3" version="2">'
    ...     '<model id="m"><listOfParameters><parameter id="k" value="1" constant="true"/>'
    ...     '</listOfParameters></model></sbml>')
    >>> read_document(doc, "inline").getId()
    'm'
"""

from __future__ import annotations

from pathlib import Path

from ..errors import MissingDependencyError, SBMLImportError


def libsbml_module():
    """The libsbml module, or a MissingDependencyError with the install hint."""
    try:
        import libsbml
    except ImportError:
        raise MissingDependencyError(
            "SBML import needs python-libsbml; install it with `pip install celltrial[sbml]`"
        ) from None
    return libsbml


def load(path) -> tuple:
    """Read ``path``; return (libsbml document, its model). Errors name the file and libsbml's message."""
    libsbml = libsbml_module()
    path = Path(path)
    if not path.is_file():
        raise SBMLImportError(f"SBML file {str(path)!r} does not exist")
    doc = libsbml.readSBMLFromFile(str(path))
    return doc, read_document(doc, path.name)


def read_document(doc, label: str):
    """The model of ``doc`` after checking it reads without errors and uses no package."""
    libsbml = libsbml_module()
    errors = [doc.getError(i) for i in range(doc.getNumErrors())]
    fatal = [e for e in errors if e.getSeverity() >= libsbml.LIBSBML_SEV_ERROR]
    if fatal:
        e = fatal[0]
        raise SBMLImportError(f"{label}: libsbml reports {len(fatal)} error(s); first, line {e.getLine()}: "
                              f"{e.getMessage().strip()}")
    model = doc.getModel()
    if model is None:
        raise SBMLImportError(f"{label}: the SBML document has no <model>")
    for i in range(doc.getNumPlugins()):
        prefix = doc.getPlugin(i).getPrefix()
        if doc.isPackageEnabled(doc.getPlugin(i).getURI()):
            raise SBMLImportError(f"{label}: SBML package {prefix!r} is not supported by the importer")
    check_structure(model)
    return model


def _refuse(element: str, sid: str, why: str):
    raise SBMLImportError(f"<{element} id={sid!r}>: {why} is not supported by the SBML importer")


def check_structure(model) -> None:
    """Refuse constructs outside the importer's exact subset, naming the first offending element."""
    libsbml = libsbml_module()
    for i in range(model.getNumRules()):
        rule = model.getRule(i)
        if rule.getTypeCode() == libsbml.SBML_ALGEBRAIC_RULE:
            raise SBMLImportError("<algebraicRule>: algebraic rules (a DAE) are not supported by the SBML importer")
    if model.getNumConstraints():
        raise SBMLImportError("<constraint>: constraints are not supported by the SBML importer")
    for i in range(model.getNumReactions()):
        r = model.getReaction(i)
        if r.isSetFast() and r.getFast():
            _refuse("reaction", r.getId(), "a fast reaction (fast='true')")
        if not r.isSetKineticLaw() or r.getKineticLaw().getMath() is None:
            _refuse("reaction", r.getId(), "a reaction without a kinetic law")
        for ref in [*_refs(r.getListOfReactants()), *_refs(r.getListOfProducts())]:
            if ref.isSetStoichiometryMath():
                _refuse("speciesReference", ref.getSpecies(), f"stoichiometryMath (reaction {r.getId()!r})")
    for i in range(model.getNumEvents()):
        ev = model.getEvent(i)
        if ev.isSetDelay():
            _refuse("event", ev.getId(), "an event with a delay")


def _refs(listof):
    return [listof.get(i) for i in range(listof.size())]


def species_references(model) -> list:
    """(reaction, speciesReference, sign) for every reactant (-1) and product (+1)."""
    out = []
    for i in range(model.getNumReactions()):
        r = model.getReaction(i)
        out += [(r, ref, -1) for ref in _refs(r.getListOfReactants())]
        out += [(r, ref, 1) for ref in _refs(r.getListOfProducts())]
    return out


def local_parameters(reaction) -> list:
    """The kinetic law's local parameters (Level 3 localParameter or Level 2 parameter)."""
    kl = reaction.getKineticLaw()
    n = kl.getNumLocalParameters()
    if n:
        return [kl.getLocalParameter(i) for i in range(n)]
    return [kl.getParameter(i) for i in range(kl.getNumParameters())]


def rules_by_variable(model) -> tuple:
    """({variable: assignment-rule math}, {variable: rate-rule math})."""
    assign, rate = {}, {}
    for i in range(model.getNumRules()):
        rule = model.getRule(i)
        if rule.getMath() is not None:  # a rule without math (allowed in L3v2) has no effect
            (rate if rule.isRate() else assign)[rule.getVariable()] = rule.getMath()
    return assign, rate


def unit_text(element, model) -> str:
    """A readable unit for a parameter, compartment or species ('unspecified' when the file gives none)."""
    libsbml = libsbml_module()
    units = element.getUnits() if hasattr(element, "getUnits") else ""
    if not units and element.getTypeCode() == libsbml.SBML_SPECIES:
        units = element.getSubstanceUnits() or model.getSubstanceUnits()
    if not units:
        return "unspecified"
    ud = model.getUnitDefinition(units)
    return libsbml.UnitDefinition.printUnits(ud, True) if ud is not None else units


def describe(element) -> str:
    """The element's name (or id) with its MIRIAM annotation URIs, for descriptions."""
    text = element.getName() or element.getId()
    uris = []
    for i in range(element.getNumCVTerms()):
        term = element.getCVTerm(i)
        uris += [term.getResourceURI(j) for j in range(term.getNumResources())]
    return f"{text} ({', '.join(uris[:3])})" if uris else text
