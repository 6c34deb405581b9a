"""Command-line interface (thin: parse, call the public API, format, map errors to exit codes).

Exit codes:
    0    ok
    1    internal error: one line naming the error and the log file that holds the traceback
    2    bad input or usage (unknown option, bad value, malformed scenario): the message says what to fix
    3    ``celltrial validate --strict``: a validation row failed
    4    the results store is in use by another process (a running trial), or unreadable
    130  interrupted (Ctrl-C): chunks already written stay in the store, the run is marked interrupted

Modules: ``root`` (the Typer app, the exit-code mapping), ``entry`` (the console entry point),
one module per group of commands (``demo``, ``presets``, ``model``, ``trials``, ``calibration``,
``fit``), and the working layer of the trial commands (``runs``, ``runs_display``, ``compiling``).

Example:
    $ celltrial --version
    $ celltrial presets                 # every shipped disease and product preset
    $ celltrial presets tisa-cel-like   # one preset in full, with the source of every value
    $ celltrial model --module tumour   # the standard model, generated from its declaration
    $ celltrial run scenarios/quickstart.yaml   # a virtual trial (see celltrial.cli.trials)
    $ celltrial demo --patients 200     # the engine on a six-state test model: a speed check
"""

from __future__ import annotations

# Importing the command modules registers their commands on the app, in this order in --help.
# isort: off
from . import trials, presets, model, calibration, fit, forecast, serve, demo  # noqa: F401
from . import optimise  # noqa: F401  (issue 19: `celltrial optimise`)
from . import sbml  # noqa: F401  (issue 22: `celltrial import-sbml`)
from . import benefit  # noqa: F401  (issue 21: `celltrial benefit`)
from . import value  # noqa: F401  (issue 21: `celltrial value`, PSA across posterior draws)
# isort: on
from .entry import main
from .root import app

__all__ = ["app", "main"]
