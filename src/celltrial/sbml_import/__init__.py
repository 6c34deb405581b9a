"""SBML import: read an SBML model into a celltrial declaration, compiled like any other model.

Supported: species (amount or concentration, constant or boundary), compartments of fixed
size, parameters and local parameters, reactions with constant stoichiometry and conversion
factors, assignment rules (observables), rate rules (states), initial assignments, function
definitions, the time and avogadro csymbols, piecewise/trig/min/max/rem/quotient math, and
events triggered at fixed times whose assignments the solver can replay exactly.

Refused, with the SBML element and id named (never simulated approximately): packages (comp,
fbc...), algebraic rules, fast reactions, constraints, state-triggered or delayed events, the
delay and rateOf csymbols, variable stoichiometry, compartments whose size changes while
holding species.

Example:
    >>> from celltrial.sbml_import import import_sbml
    >>> callable(import_sbml)
    True
"""

from .model import SBMLInfo as SBMLInfo
from .model import SBMLModel as SBMLModel
from .model import import_sbml as import_sbml

__all__ = ["SBMLInfo", "SBMLModel", "import_sbml"]
