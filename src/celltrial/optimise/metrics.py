"""Summary columns an optimisation can maximise, minimise or constrain, each a mean of a per-patient value.

Every column is the mean over the patients whose solve succeeded (status "OK") of one number per
patient, so two policies run on the same virtual twins can be compared patient by patient (the
paired differences behind the probability of beating the reference). Landmark survival is the
fraction without the event by that day: equal to the Kaplan-Meier estimate of the trial summary,
because a virtual trial censors only at the end of follow-up (so the day must not pass it).

Columns: ``pfs_dDAY`` / ``os_dDAY`` (landmark survival, fraction), ``rmst_pfs_dDAY`` /
``rmst_os_dDAY`` (restricted mean to DAY, days), the rates and per-patient means of :data:`FIXED`,
``mean_COLUMN`` for any numeric column of the patients table, and ``nmb_WTP`` (net monetary benefit
per patient at WTP currency per QALY, list price: :func:`celltrial.economics.nmb.patient_nmb`, with
the scenario's ``economics`` settings passed as ``economics`` or the defaults).

Example:
    >>> m = metric("pfs_d365", follow_up=730.0)
    >>> table = {"status": np.array(["OK", "OK", "NON_FINITE"]), "pfs_days": np.array([400.0, 100.0, 5.0]),
    ...          "pfs_event": np.array([True, True, True])}
    >>> m.per_patient(table).tolist(), measure(table, ["pfs_d365"], 730.0)
    ([1.0, 0.0, 0.0], {'pfs_d365': 0.5})
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..trials.columns import COLUMNS

_INF = float("inf")


@dataclass(frozen=True)
class Metric:
    """A summary column: name, unit, the range its values can take, and its per-patient value."""

    name: str
    unit: str
    low: float
    high: float
    per_patient: Callable[[dict], np.ndarray]
    description: str = ""


def _column(name: str, transform=None):
    def value(table):
        x = np.asarray(table[name], dtype=float)
        return transform(x) if transform is not None else x
    return value


def _rate(name, column, threshold, description):
    return Metric(name, "fraction", 0.0, 1.0, _column(column, lambda x: (x >= threshold).astype(float)), description)


def _mean(name, column, unit, description):
    return Metric(name, unit, 0.0, _INF, _column(column), description)


#: The named columns (rates are fractions 0-1; means are per patient enrolled in the arm).
FIXED = {m.name: m for m in (
    _rate("cr_rate", "cr", 1, "complete response at any assessment"),
    _rate("orr_rate", "responder", 1, "objective response (CR or PR)"),
    _rate("crs_grade3plus_rate", "crs_grade", 3, "CRS grade 3 or worse (ASTCT 2019)"),
    _rate("crs_any_rate", "crs_grade", 1, "any CRS"),
    _rate("icans_grade3plus_rate", "icans_grade", 3, "neurotoxicity grade 3 or worse"),
    _rate("gvhd_rate", "gvhd", 1, "clinically significant GvHD"),
    _mean("cost_per_patient", "cost_total", "currency", "total cost per patient"),
    _mean("doses_per_patient", "doses", "doses", "product doses per patient"),
    _mean("policy_doses_per_patient", "policy_doses", "doses", "doses given by the policy per patient"),
    _mean("product_per_patient", "dose_multiples", "doses", "product given, in multiples of the arm's dose"),
    _mean("hospital_days_per_patient", "hospital_days", "day", "inpatient days per patient"),
    _mean("ctdna_tests_per_patient", "ctdna_tests", "tests", "ctDNA draws per patient"),
)}
_LANDMARK = re.compile(r"^(rmst_)?(pfs|os)_d(\d+(?:\.\d+)?)$")
_NMB = re.compile(r"^nmb_(\d+(?:\.\d+)?)$")


def _nmb(name: str, wtp: float, follow_up: float, economics: dict | None) -> Metric:
    from ..economics.nmb import patient_nmb

    def value(table):
        return patient_nmb(table, wtp, economics, follow_up_days=follow_up)
    return Metric(name, "currency", -_INF, _INF, value,
                  f"net monetary benefit per patient at {wtp:g} per QALY (list price)")


def _landmark(name: str, rmst: bool, end: str, day: float) -> Metric:
    def value(table):
        days, event = np.asarray(table[f"{end}_days"], float), np.asarray(table[f"{end}_event"], bool)
        if rmst:
            return np.minimum(days, day)
        return 1.0 - (event & (days <= day)).astype(float)
    what = f"{'PFS' if end == 'pfs' else 'OS'}"
    if rmst:
        return Metric(name, "day", 0.0, day, value, f"restricted mean {what} time to day {day:g}")
    return Metric(name, "fraction", 0.0, 1.0, value, f"{what} at day {day:g} (fraction without the event)")


def metric(name: str, follow_up: float, economics: dict | None = None) -> Metric | None:
    """The column called ``name``, or None when there is no such column (or its day passes ``follow_up``).

    ``economics``: the scenario's ``economics`` block as a mapping, for ``nmb_WTP`` (None: the defaults).
    """
    if name in FIXED:
        return FIXED[name]
    found = _NMB.match(name)
    if found:
        return _nmb(name, float(found.group(1)), follow_up, economics)
    found = _LANDMARK.match(name)
    if found:
        day = float(found.group(3))
        return _landmark(name, bool(found.group(1)), found.group(2), day) if 0 < day <= follow_up else None
    column = COLUMNS.get(name.removeprefix("mean_")) if name.startswith("mean_") else None
    if column is not None and column.kind in ("int", "float", "bool"):
        return Metric(name, column.unit, -_INF, _INF, _column(column.name), f"mean {column.description}")
    return None


def metric_names(follow_up: float) -> list[str]:
    """Examples of every kind of column, for messages and ``--help``."""
    day = f"{min(365.0, follow_up):g}"
    return [f"pfs_d{day}", f"os_d{day}", f"rmst_pfs_d{follow_up:g}", *FIXED, "mean_<patients column>",
            "nmb_<willingness to pay>"]


def ok_rows(table: dict) -> np.ndarray:
    """Rows whose solve succeeded (every statistic leaves the others out, as the trial summary does)."""
    return np.asarray(table["status"]).astype(str) == "OK"


def per_patient(table: dict, names, follow_up: float, economics: dict | None = None) -> dict:
    """Column name -> (n,) per-patient values over every row (use :func:`ok_rows` to keep the solved ones)."""
    return {n: metric(n, follow_up, economics).per_patient(table) for n in names}


def measure(table: dict, names, follow_up: float, economics: dict | None = None) -> dict:
    """Column name -> mean over the OK rows (NaN when no row is OK)."""
    ok = ok_rows(table)
    values = per_patient(table, names, follow_up, economics)
    return {n: float(np.mean(v[ok])) if ok.any() else float("nan") for n, v in values.items()}
