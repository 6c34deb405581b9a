"""The clinician-facing report of a virtual trial run: one self-contained HTML file plus figures.

The names below are loaded on first use (module ``__getattr__``): the report's figures need
matplotlib, which takes seconds to import, and the terminal (``celltrial runs``) only needs the
number formatting of :mod:`celltrial.report.fmt`.

Example:
    >>> from celltrial.report import write_report, build_figures
    >>> path = write_report(run, "report.html", figure_formats=("png", "svg"))  # doctest: +SKIP
    >>> figs = build_figures(run)  # name -> matplotlib Figure  # doctest: +SKIP
"""

from __future__ import annotations

import importlib

__all__ = ["SECTIONS", "build_figures", "write_report"]

#: Public name -> the submodule that defines it.
_HOME = {"SECTIONS": ".html", "write_report": ".html", "build_figures": ".figures"}


def __getattr__(name: str):
    if name not in _HOME:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_HOME[name], __name__), name)


def __dir__() -> list:
    return sorted([*globals(), *__all__])
