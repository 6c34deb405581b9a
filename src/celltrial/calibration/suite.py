"""The validation suite behind ``celltrial validate``: every case, quick or full sizes.

Example:
    >>> CASE_NAMES
    ('zuma1', 'eliana', 'recovery-population', 'recovery-individual', 'seed-trial', 'levers', 'forecast')
"""

from __future__ import annotations

from ..errors import InputError, did_you_mean
from .individual_validation import run_individual_recovery
from .levers import levers_case
from .recovery import population_recovery
from .validation import calibration_case, row_json, seed_trial

#: (patients per calibration case, seed-trial replicates, paired twins per levers arm) for quick and full runs.
SIZES = {True: (150, 300, 120), False: (500, 2000, 500)}


def _cases(quick: bool, compiled):
    patients, replicates, twins = SIZES[quick]
    return [
        ("zuma1", lambda: calibration_case("zuma1", patients, compiled)),
        ("eliana", lambda: calibration_case("eliana", patients, compiled)),
        ("recovery-population", lambda: population_recovery(quick=quick, compiled=compiled)),
        ("recovery-individual", lambda: run_individual_recovery(quick=quick)),
        ("seed-trial", lambda: seed_trial(replicates, compiled)),
        ("levers", lambda: levers_case(twins, compiled)),
        ("forecast", lambda: _forecast_case(quick)),
    ]


def _forecast_case(quick: bool):
    from ..forecast.validation import run_forecast_calibration  # the forecast layer sits above calibration

    return run_forecast_calibration(quick=quick)


CASE_NAMES = tuple(name for name, _ in _cases(True, None))


def run_case(name: str, quick: bool):
    """One validation case by name (what a Dask worker runs for ``validate --cluster``)."""
    from ..biology import standard_model
    from ..solve import compile as compile_model

    compiled = compile_model(standard_model())
    return dict(_cases(quick, compiled))[name]()


def run_suite(*, quick: bool, only=None, progress=None, mapper=None) -> list:
    """Run the validation cases (all, or those named in ``only``); returns their CaseResults.

    ``mapper(fn, calls)`` (e.g. ``DaskExecutor.map``) runs the cases as parallel tasks; the results
    are the same, in the same order.
    """
    from ..biology import standard_model
    from ..solve import compile as compile_model

    for n in only or []:
        if n not in CASE_NAMES:
            raise InputError(f"no validation case {n!r}{did_you_mean(n, CASE_NAMES)}; cases: {', '.join(CASE_NAMES)}")
    if mapper is not None:
        names = [n for n in CASE_NAMES if not only or n in only]
        if progress is not None:
            progress(f"validating {', '.join(names)} as {len(names)} parallel tasks")
        return mapper(run_case, [(n, quick) for n in names])
    compiled = compile_model(standard_model())
    results = []
    for name, run in _cases(quick, compiled):
        if only and name not in only:
            continue
        if progress is not None:
            progress(f"validating {name}")
        results.append(run())
    return results


def suite_json(results) -> list:
    """JSON-ready results; each row as :func:`~celltrial.calibration.validation.row_json` writes it."""
    return [{"case": c.name, "title": c.title, "seconds": round(c.seconds, 1), "passed": bool(c.passed),
             "notes": c.notes, "rows": [row_json(r) for r in c.rows]} for c in results]


#: Column headings of a validation table (terminal, HTML and docs), in order; see :func:`row_cells`.
COLUMNS = ("target", "published", "simulated", "replicate trials (95%)", "p", "overlap", "result")


def format_p(p) -> str:
    """A predictive p-value for a table: '0.043', '<0.001', or '–' where the row has none.

    Example:
        >>> format_p(0.04321), format_p(0.0002), format_p(None)
        ('0.043', '<0.001', '–')
    """
    if p is None:
        return "–"
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def row_cells(row) -> list:
    """A row's plain-text cells under :data:`COLUMNS` (the result cell is 'pass' or 'FAIL').

    Example:
        >>> from celltrial.calibration.validation import Row
        >>> row_cells(Row("cr", "58% (n=101)", "47% (39–55%)", False, "", 0.049, "trials of 101: 37–57%", True))
        ['cr', '58% (n=101)', '47% (39–55%)', 'trials of 101: 37–57%', '0.049', 'yes', 'FAIL']
    """
    overlap = "–" if row.overlap is None else ("yes" if row.overlap else "no")
    return [row.target, row.observed, row.simulated, row.predictive or "–", format_p(row.p_value), overlap,
            "pass" if row.passed else "FAIL"]
