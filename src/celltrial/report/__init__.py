"""The clinician-facing report of a virtual trial run: one self-contained HTML file plus figures.

Example:
    >>> from celltrial.report import write_report, build_figures
    >>> path = write_report(run, "report.html", figure_formats=("png", "svg"))  # doctest: +SKIP
    >>> figs = build_figures(run)  # name -> matplotlib Figure  # doctest: +SKIP
"""

from .figures import build_figures
from .html import SECTIONS, write_report

__all__ = ["SECTIONS", "build_figures", "write_report"]
