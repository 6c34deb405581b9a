"""List every construct of an SBML file the importer would refuse (the importer stops at the first).

Used by ``celltrial import-sbml`` so a user sees the whole list at once. It is a scan of the
file, conservative in one direction only: whatever it lists, the importer refuses; the importer
may still refuse a finer point it does not see (e.g. an event assignment reading another state).

Example:
    >>> import libsbml
    >>> doc = libsbml.readSBMLFromString(
    ...     '<sbml xmlns="http://www.sbml.org/sbml/level3/version2/core" level="3" version="2">'
    ...     '<model id="m"><listOfRules><algebraicRule><math xmlns="http://www.w3.org/1998/Math/MathML">'
    ...     '<cn>1</cn></math></algebraicRule></listOfRules></model></sbml>')
    >>> survey(doc)
    ['<algebraicRule>: algebraic rules (a DAE)']
"""

from __future__ import annotations

from .reader import libsbml_module, species_references


def _math_nodes(node):
    if node is None:
        return []
    return [node] + [x for i in range(node.getNumChildren()) for x in _math_nodes(node.getChild(i))]


def _all_math(model):
    """(element label, math) for every piece of math in the model."""
    out = [(f"<{r.getElementName()} variable={r.getVariable()!r}>", r.getMath()) for r in model.getListOfRules()]
    out += [(f"<initialAssignment symbol={a.getSymbol()!r}>", a.getMath()) for a in model.getListOfInitialAssignments()]
    out += [(f"<kineticLaw> of reaction {r.getId()!r}", r.getKineticLaw().getMath())
            for r in model.getListOfReactions() if r.isSetKineticLaw()]
    for ev in model.getListOfEvents():
        out += [(f"<eventAssignment variable={ea.getVariable()!r}> of event {ev.getId()!r}", ea.getMath())
                for ea in ev.getListOfEventAssignments()]
    # function definitions are left out: one never called is no problem, and a called one is caught on import
    return out


def _fixed_ids(model) -> set:
    """Ids whose value never changes: no rule, no event assignment, not a species reactions move."""
    ids = {x.getId() for x in [*model.getListOfParameters(), *model.getListOfCompartments(),
                                *model.getListOfSpecies()]}
    ruled = {r.getVariable() for r in model.getListOfRules()}
    assigned = {ea.getVariable() for ev in model.getListOfEvents() for ea in ev.getListOfEventAssignments()}
    moved = {ref.getSpecies() for _, ref, _ in species_references(model)
             if not model.getSpecies(ref.getSpecies()).getBoundaryCondition()}
    reactions = {r.getId() for r in model.getListOfReactions()}  # a rate may be constant: the importer judges
    return (ids - ruled - assigned - moved) | reactions


def _event_problems(model, libsbml) -> list:
    out = []
    fixed = _fixed_ids(model)
    for ev in model.getListOfEvents():
        label = f"<event id={ev.getId()!r}>"
        if ev.isSetDelay():
            out.append(f"{label}: an event with a delay")
        trig = ev.getTrigger()
        nodes = _math_nodes(trig.getMath() if trig is not None else None)
        names = {n.getName() for n in nodes if n.getType() == libsbml.AST_NAME}
        if nodes and not any(n.getType() == libsbml.AST_NAME_TIME for n in nodes):
            out.append(f"{label}: a state-triggered event (trigger without time)")
        elif names - fixed or any(n.isLogical() for n in nodes):
            out.append(f"{label}: a trigger that is not 'time >= fixed value'")
    return out


def survey(doc) -> list:
    """Messages, one per refused construct, each naming the SBML element."""
    libsbml = libsbml_module()
    model = doc.getModel()
    out = [f"SBML package {doc.getPlugin(i).getPrefix()!r}" for i in range(doc.getNumPlugins())
           if doc.isPackageEnabled(doc.getPlugin(i).getURI())]
    if model is None:
        return out
    out += ["<algebraicRule>: algebraic rules (a DAE)" for r in model.getListOfRules()
            if r.getTypeCode() == libsbml.SBML_ALGEBRAIC_RULE]
    out += [f"<constraint> {i + 1}: constraints" for i in range(model.getNumConstraints())]
    out += [f"<reaction id={r.getId()!r}>: a fast reaction" for r in model.getListOfReactions()
            if r.isSetFast() and r.getFast()]
    out += [f"<speciesReference species={ref.getSpecies()!r}> of reaction {r.getId()!r}: stoichiometryMath"
            for r, ref, _ in species_references(model) if ref.isSetStoichiometryMath()]
    for label, math in _all_math(model):
        kinds = {n.getType() for n in _math_nodes(math)}
        if libsbml.AST_FUNCTION_DELAY in kinds:
            out.append(f"{label}: the delay csymbol")
        if libsbml.AST_FUNCTION_RATE_OF in kinds:
            out.append(f"{label}: the rateOf csymbol")
    return out + _event_problems(model, libsbml)
