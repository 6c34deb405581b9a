"""Classify an SBML model's quantities and declare them as celltrial states, parameters, observables, rates.

* A species changed by reactions (not boundary, not constant) or by a rate rule, and a parameter
  or compartment with a rate rule, is a **state**; its value is in the species' own units
  (concentration unless hasOnlySubstanceUnits), so a reaction of rate v (amount/time) adds
  ``stoichiometry * conversionFactor / compartment * v`` to a concentration state.
* A quantity with an assignment rule is an **observable** (computed from states at every step).
* Everything else (constants, boundary species, parameters only events change) is a **parameter**;
  local parameters become parameters named ``<reaction>_<id>``.
* ``time`` in math is a clock state (``d sbml_time/dt = 1``, exact for the solver), added only when used.

Example:
    >>> # see tests/sbml_import/test_import.py for small models built from SBML text
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from ..errors import SBMLImportError
from .mathml import to_sympy
from .naming import Names
from .reader import describe, local_parameters, rules_by_variable, species_references, unit_text


@dataclass
class Entity:
    """One SBML quantity and what it became."""

    key: str  # SBML id; local parameters are "<reaction>/<id>"
    element: str  # species, parameter, compartment, speciesReference, localParameter
    obj: object
    name: str  # celltrial name
    kind: str  # state, parameter or observable

    @property
    def symbol(self) -> sp.Symbol:
        return sp.Symbol(self.name, real=True)


class Builder:
    """Everything the importer needs from one libsbml model, classified and named."""

    def __init__(self, model):
        self.m = model
        self.assignment_rules, self.rate_rules = rules_by_variable(model)
        # elements without math (allowed in L3v2) have no effect
        self.initial_assignments = {ia.getSymbol(): ia.getMath() for ia in model.getListOfInitialAssignments()
                                    if ia.getMath() is not None}
        self.functions = {fd.getId(): fd for fd in model.getListOfFunctionDefinitions()}
        self.reactions = {r.getId(): r for r in model.getListOfReactions()}
        self.event_targets = {ea.getVariable() for ev in model.getListOfEvents()
                              for ea in ev.getListOfEventAssignments() if ea.getMath() is not None}
        elements = [("compartment", c) for c in model.getListOfCompartments()]
        elements += [("species", s) for s in model.getListOfSpecies()]
        elements += [("parameter", p) for p in model.getListOfParameters()]
        elements += [("speciesReference", ref) for _, ref, _ in species_references(model) if ref.isSetId()]
        self.names = Names([obj.getId() for _, obj in elements] + list(self.reactions))
        self.reacting = {ref.getSpecies() for _, ref, _ in species_references(model)}
        self.entities = {obj.getId(): Entity(obj.getId(), el, obj, self.names[obj.getId()], self._kind(el, obj))
                         for el, obj in elements}
        for rid, r in self.reactions.items():
            for lp in local_parameters(r):
                key = f"{rid}/{lp.getId()}"
                name = self.names.fresh(f"{rid}_{lp.getId()}")
                self.entities[key] = Entity(key, "localParameter", lp, name, "parameter")
        self.by_name = {e.name: e.key for e in self.entities.values()}
        self.clock = sp.Symbol(self.names.fresh("time"), real=True)
        self.symbols = {k: (e.symbol if e.kind != "undefined" else self._undefined(k))
                        for k, e in self.entities.items() if "/" not in k}
        # a reaction id in math stands for its rate: resolved lazily, when used
        self.symbols.update({rid: (lambda r=rid: self.kinetic_law(r, self.symbols, self.clock))
                             for rid in self.reactions})
        self._check_compartments()

    def _kind(self, element, obj) -> str:
        sid = obj.getId()
        if sid in self.assignment_rules:
            return "observable"
        if sid in self.rate_rules:
            return "state"
        if element == "compartment" and not obj.isSetSize() and sid not in self.initial_assignments:
            return "undefined"  # e.g. a 0-D compartment: fine until something uses its size
        moving = element == "species" and not obj.getConstant() and not obj.getBoundaryCondition()
        return "state" if moving and sid in self.reacting else "parameter"

    def _check_compartments(self):
        """Species in a compartment whose size follows a rule keep their amount as the state.

        Their concentration (what math means by the id) is then an observable amount/size, and a
        reaction changes the amount, so a growing compartment dilutes them as SBML says.
        """
        self.amounts = {}  # species id -> name of its amount state
        for e in self.entities.values():
            if e.element != "species":
                continue
            comp = self.entities[e.obj.getCompartment()]
            if comp.kind in ("parameter", "undefined") and comp.key not in self.event_targets:
                continue
            why = None
            if comp.key in self.event_targets:
                why = "an event changes its size"
            elif e.kind == "parameter" and not self.in_amounts(e.obj):
                why = f"it holds the constant or boundary concentration {e.key!r}"
            elif e.key in self.event_targets and not self.in_amounts(e.obj):
                why = f"an event sets the concentration {e.key!r}"
            elif e.key in self.rate_rules and not self.in_amounts(e.obj) and comp.kind != "state":
                why = f"{e.key!r} has a rate rule and the size follows an assignment rule"
            if why:
                raise SBMLImportError(f"<compartment id={comp.key!r}>: a compartment whose size changes while "
                                      f"{why} is not supported by the SBML importer")
            if e.kind == "state" and not self.in_amounts(e.obj):
                self.amounts[e.key] = self.names.fresh(f"{e.name}_amount")
                e.kind = "observable"  # the id now means amount/size

    @staticmethod
    def _undefined(sid):
        def fail():
            raise SBMLImportError(f"<compartment id={sid!r}>: has no size, and math uses it")
        return fail

    def in_amounts(self, species) -> bool:
        """True when a species' symbol means its amount: hasOnlySubstanceUnits, or a 0-D compartment."""
        comp = self.entities[species.getCompartment()].obj
        return species.getHasOnlySubstanceUnits() or comp.getSpatialDimensions() == 0

    def kinetic_law(self, rid: str, symbols: dict, time) -> sp.Expr:
        """Rate of reaction ``rid`` (amount/time), local parameters shadowing global ids."""
        local = {k.split("/", 1)[1]: e.symbol for k, e in self.entities.items() if k.startswith(f"{rid}/")}
        where = f"<kineticLaw> of reaction {rid!r}"
        return to_sympy(self.reactions[rid].getKineticLaw().getMath(), {**symbols, **local}, where, time,
                        self.functions)

    def math(self, node, where: str, boolean: bool = False) -> sp.Expr:
        """Dynamic math: states, parameters, observables, reaction rates and the clock."""
        return to_sympy(node, self.symbols, where, self.clock, self.functions, boolean)

    def stoichiometry(self) -> dict:
        """{reaction id: {state name: coefficient expression}} for species that are states."""
        model_cf = self.m.getConversionFactor()
        out = {rid: {} for rid in self.reactions}
        for r, ref, sign in species_references(self.m):
            sp_ent = self.entities[ref.getSpecies()]
            amount = self.amounts.get(sp_ent.key)
            if (sp_ent.kind != "state" and not amount) or sp_ent.key in self.rate_rules:
                continue  # boundary, constant, rule-determined: reactions do not change it
            coef = self._stoich_symbol(ref) if ref.isSetId() else self._number_stoich(r, ref)
            cf = sp_ent.obj.getConversionFactor() or model_cf
            if cf:
                coef = coef * self.entities[cf].symbol
            if not self.in_amounts(sp_ent.obj) and not amount:
                coef = coef / self.entities[sp_ent.obj.getCompartment()].symbol
            target = amount or sp_ent.name
            out[r.getId()][target] = out[r.getId()].get(target, 0) + sign * coef
        return out

    def _stoich_symbol(self, ref):
        ent = self.entities[ref.getId()]
        if ent.kind != "parameter" or ent.key in self.event_targets:
            raise SBMLImportError(f"<speciesReference id={ent.key!r}>: variable stoichiometry (a rule or event "
                                  "changes it) is not supported by the SBML importer")
        return ent.symbol

    @staticmethod
    def _number_stoich(reaction, ref):
        from .mathml import number

        if not ref.isSetStoichiometry():
            raise SBMLImportError(f"<speciesReference species={ref.getSpecies()!r}> of reaction "
                                  f"{reaction.getId()!r}: has no stoichiometry")
        return number(ref.getStoichiometry())

    def unit(self, ent: Entity) -> str:
        if ent.element == "localParameter" or ent.element == "speciesReference":
            return unit_text(ent.obj, self.m) if ent.element == "localParameter" else "1"
        base = unit_text(ent.obj, self.m)
        if ent.element == "species" and not self.in_amounts(ent.obj) and base != "unspecified":
            comp = self.entities[ent.obj.getCompartment()]
            return f"{base}/({unit_text(comp.obj, self.m)})"
        return base

    def description(self, ent: Entity) -> str:
        where = f" of reaction {ent.key.split('/')[0]!r}" if ent.element == "localParameter" else ""
        return f"{ent.element}{where}: {describe(ent.obj)}"
