"""One typed hierarchy of celltrial errors and the per-patient integration status.

Input mistakes subclass :class:`ValueError` so that generic callers can still catch them;
each message names the offending item and says how to fix it.

Example:
    >>> from celltrial.errors import Status
    >>> Status(1).message.startswith("maximum number of steps")
    True
"""

from __future__ import annotations

import difflib
import enum


class CelltrialError(Exception):
    """Base class of every error raised on purpose by celltrial."""


class DeclarationError(CelltrialError, ValueError):
    """A model declaration is inconsistent (unknown name, missing unit, bad bound, ...)."""


class InputError(CelltrialError, ValueError):
    """Arguments given to a solver, sampler or exporter have the wrong shape, name or value."""


class PresetError(CelltrialError, ValueError):
    """A preset file (disease, product) is malformed or names something unknown."""


class ScenarioError(CelltrialError, ValueError):
    """A scenario file is malformed, names something unknown or asks for something implausible."""


class SolverError(CelltrialError, RuntimeError):
    """A solve that must succeed (e.g. a reference solution) failed."""


class CompilationError(CelltrialError, RuntimeError):
    """Generating or compiling the model kernels failed."""


class ExportError(CelltrialError, RuntimeError):
    """Writing a model or a table to an external format failed."""


class StoreUnavailableError(CelltrialError, RuntimeError):
    """The results store cannot do what was asked: another program holds its file past the wait,
    the file is unreadable or not a DuckDB file, or its contents are inconsistent. Not a bug in the
    simulation and not bad input: the CLI exits with its own code (4)."""


class ClusterError(CelltrialError, RuntimeError):
    """The Dask cluster failed the run: scheduler unreachable or lost, or a task's workers died again
    and again. Finished chunks stay in the store; the CLI exits with its own code (5)."""


class SBMLImportError(CelltrialError, ValueError):
    """An SBML file cannot be imported: unreadable, invalid, or using a construct the engine cannot
    honour exactly (the message names the SBML element and its id)."""


class MissingDependencyError(CelltrialError, ImportError):
    """An optional dependency is needed for this feature."""


def did_you_mean(name: str, choices) -> str:
    """Return a ' (did you mean 'x'?)' hint, or '' when nothing is close.

    A choice that differs only in case wins over a closer spelling ("d_k" -> "d_K", not "d_T").

    Example:
        >>> did_you_mean("gama", ["gamma", "rho"])
        " (did you mean 'gamma'?)"
        >>> did_you_mean("d_k", ["d_T", "d_K"])
        " (did you mean 'd_K'?)"
    """
    choices = [str(c) for c in choices]
    name = str(name)
    same = [c for c in choices if c.lower() == name.lower() and c != name]
    close = difflib.get_close_matches(name, same, n=1, cutoff=0.0) if same else \
        difflib.get_close_matches(name, choices, n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


class Status(enum.IntEnum):
    """Outcome of integrating one patient; a failed patient never aborts the batch."""

    OK = 0
    MAX_STEPS = 1
    STEP_TOO_SMALL = 2
    NON_FINITE = 3
    NOT_RUN = 4

    @property
    def message(self) -> str:
        return _STATUS_MESSAGES[self]


_STATUS_MESSAGES = {
    Status.OK: "integrated to the end time",
    Status.MAX_STEPS: (
        "maximum number of steps reached; raise `max_steps`, loosen `rtol`, or check the patient's "
        "parameters for an unphysically fast process"
    ),
    Status.STEP_TOO_SMALL: (
        "step size fell below the minimum; the solution probably blows up or has a discontinuity "
        "that is not declared as an event - check this patient's parameters"
    ),
    Status.NON_FINITE: (
        "the right-hand side returned NaN or infinity; check for divisions by zero or logarithms of "
        "zero in the model for this patient's parameters"
    ),
    Status.NOT_RUN: "not integrated (the run was interrupted before this patient was reached)",
}
