"""Build small SBML Level 3 Version 2 documents for the import tests (libsbml writes the XML)."""

from __future__ import annotations

import libsbml


def document(compartments=(), species=(), parameters=(), reactions=(), rules=(), initial=(), events=(),
             functions=()):
    """SBML text from compact tuples.

    compartments: (id, size); species: (id, compartment, initial_amount, hasOnlySubstanceUnits[, boundary]);
    parameters: (id, value, constant); reactions: (id, {reactant: stoich}, {product: stoich}, formula[, locals]);
    rules: ("assign"|"rate", variable, formula); initial: (symbol, formula);
    events: (id, trigger, {variable: formula}[, priority]); functions: (id, "lambda(x, ...)").
    """
    doc = libsbml.SBMLDocument(3, 2)
    m = doc.createModel()
    m.setId("test_model")
    for cid, size in compartments:
        c = m.createCompartment()
        c.setId(cid), c.setSize(size), c.setConstant(True), c.setSpatialDimensions(3)
    for sid, comp, amount, hosu, *boundary in species:
        s = m.createSpecies()
        s.setId(sid), s.setCompartment(comp), s.setInitialAmount(amount), s.setHasOnlySubstanceUnits(hosu)
        s.setBoundaryCondition(bool(boundary and boundary[0])), s.setConstant(False)
    for pid, value, constant in parameters:
        p = m.createParameter()
        p.setId(pid), p.setValue(value), p.setConstant(constant)
    for fid, formula in functions:
        f = m.createFunctionDefinition()
        f.setId(fid), f.setMath(_math(formula))
    for reaction in reactions:
        _reaction(m, *reaction)
    for kind, var, formula in rules:
        r = m.createAssignmentRule() if kind == "assign" else m.createRateRule()
        r.setVariable(var), r.setMath(_math(formula))
    for symbol, formula in initial:
        ia = m.createInitialAssignment()
        ia.setSymbol(symbol), ia.setMath(_math(formula))
    for eid, trigger, assignments, *priority in events:
        _event(m, eid, trigger, assignments, priority[0] if priority else None)
    return libsbml.writeSBMLToString(doc)


def _math(formula):
    node = libsbml.parseL3Formula(formula)
    assert node is not None, libsbml.getLastParseL3Error()
    return node


def _reaction(m, rid, reactants, products, formula, local=None):
    r = m.createReaction()
    r.setId(rid), r.setReversible(False)
    for sid, st in reactants.items():
        ref = r.createReactant()
        ref.setSpecies(sid), ref.setStoichiometry(st), ref.setConstant(True)
    for sid, st in products.items():
        ref = r.createProduct()
        ref.setSpecies(sid), ref.setStoichiometry(st), ref.setConstant(True)
    kl = r.createKineticLaw()
    for pid, value in (local or {}).items():
        lp = kl.createLocalParameter()
        lp.setId(pid), lp.setValue(value)
    kl.setMath(_math(formula))


def _event(m, eid, trigger, assignments, priority):
    ev = m.createEvent()
    ev.setId(eid), ev.setUseValuesFromTriggerTime(True)
    trig = ev.createTrigger()
    trig.setMath(_math(trigger)), trig.setInitialValue(False), trig.setPersistent(True)
    if priority is not None:
        ev.createPriority().setMath(_math(priority))
    for var, formula in assignments.items():
        ea = ev.createEventAssignment()
        ea.setVariable(var), ea.setMath(_math(formula))


def write(tmp_path, name="model.xml", **parts):
    path = tmp_path / name
    path.write_text(document(**parts))
    return path
