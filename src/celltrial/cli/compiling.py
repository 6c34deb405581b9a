"""Say so before the first compile of a model: minutes of silence look like a hang.

The very first simulation of the standard model compiles it to machine code (about 2-4 minutes
on 2 cores; later runs load it from the cache in a second). Without a line on stderr the user
sees "simulating 0/200" frozen on a terminal, and nothing at all when output is piped.

Example:
    >>> from celltrial.model.library import exponential_model
    >>> seconds = ensure_compiled(exponential_model(), "the test model", notify=lambda line: None)
    >>> seconds is None or seconds >= 0
    True
"""

from __future__ import annotations

import time

import typer


def _stderr(line: str) -> None:
    typer.echo(line, err=True)


def ensure_compiled(model, label: str = "the standard model", notify=_stderr, minutes: str = "2-4"):
    """Compile ``model`` now (announced on stderr) unless its machine code is cached.

    Returns the seconds spent compiling, or None on a cache hit (then nothing is printed).
    The solver's own later compile call finds the kernels in this process and costs nothing.
    """
    from ..kernels.compile import is_cached
    from ..solve import compile as compile_kernels

    if is_cached(model):
        return None
    notify(f"compiling {label} to machine code (once; about {minutes} minutes on 2 cores) ...")
    start = time.perf_counter()
    compile_kernels(model)
    seconds = time.perf_counter() - start
    notify(f"compiled in {seconds:.0f} s; later runs load it from the cache")
    return seconds


def ensure_standard_compiled() -> None:
    """:func:`ensure_compiled` for the standard model, which every trial, fit and calibration uses."""
    from ..biology import standard_model

    ensure_compiled(standard_model())
