"""Protocol optimisation: search one arm's protocol for the best trade-off of summary columns.

The pipeline: a ``search:`` block (:mod:`celltrial.scenarios.search`) checked against the scenario (:mod:`.candidates`);
candidates evaluated on the same virtual twins (:mod:`.evaluate`, :mod:`.metrics`); Optuna proposes
them and successive halving gives the promising ones more patients (:mod:`.search`, :mod:`.halving`,
:mod:`.pareto`); every evaluation is logged in a resumable study folder (:mod:`.study`); the Pareto
set is re-run on fresh patients against the reference arm (:mod:`.honest`); figures of the fronts
(:mod:`.figures`). Nothing here prints: progress is a callback.

Heavy modules (Optuna, matplotlib) load on first use.

Example:
    >>> from celltrial.optimise import SearchSpec, parse_budget
    >>> parse_budget("10m").seconds
    600.0
"""

from __future__ import annotations

from ..scenarios.search import Constraint as Constraint
from ..scenarios.search import Objective as Objective
from ..scenarios.search import Patients as Patients
from ..scenarios.search import Reevaluation as Reevaluation
from ..scenarios.search import SearchSpec as SearchSpec
from ..scenarios.search import Variable as Variable

_LAZY = {
    "check_search": "candidates", "apply": "candidates", "Evaluator": "evaluate", "Evaluation": "evaluate",
    "metric": "metrics", "metric_names": "metrics", "optimise": "search", "parse_budget": "search",
    "Budget": "search", "Progress": "search", "SearchResult": "search", "StudyFolder": "study",
    "fingerprint": "study", "reevaluate": "honest", "front_figures": "figures",
}


def __getattr__(name):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["Constraint", "Objective", "Patients", "Reevaluation", "SearchSpec", "Variable", *_LAZY]
