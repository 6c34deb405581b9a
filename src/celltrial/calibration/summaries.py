"""Cohort summaries that published trials report, computed from one simulated virtual cohort.

A calibration target names a ``quantity`` (e.g. ``cr_rate``, ``pfs_at`` with ``at_day``); this
module turns one simulated cohort (the patients table plus the blood trajectories on the
course grid) into that number and its Monte-Carlo standard error, so the likelihood can fold
the simulation's own noise in. Units: days, CAR+ cells per uL of blood, transgene copies per
ug of genomic DNA.

Example:
    >>> sorted(q for q in QUANTITIES if q.startswith("crs3_"))
    ['crs3_astct2019_rate', 'crs3_cartox_rate', 'crs3_lee2014_rate', 'crs3_penn_rate', 'crs3_rate']
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..biology.grading_scales import CRS_SCALES, NEUROTOXICITY_SCALES
from ..biology.kinetics import stein_metrics
from ..errors import InputError, did_you_mean
from ..trials.response import values_at
from ..trials.statistics import landmark
from .likelihood import rate_ci as proportion_ci

#: Scale a quantity is emulated and compared on: rates on the logit, positive values on the log.
RATE, POSITIVE = "rate", "positive"


@dataclass(frozen=True)
class CohortResult:
    """One simulated cohort: patients table, grid days and per-patient blood trajectories.

    Attributes:
        patients: column -> (n,) array (the trial patients table).
        t: (T,) days from the first infusion.
        blood: (n, T) CAR+ product cells per uL of blood.
        copies: (n, T) transgene copies per ug genomic DNA.
    """

    patients: dict
    t: np.ndarray
    blood: np.ndarray
    copies: np.ndarray

    @property
    def ok(self) -> np.ndarray:
        return np.asarray(self.patients["status"]) == "OK"


def _rate(flags) -> tuple:
    flags = np.asarray(flags, dtype=bool)
    n = max(flags.size, 1)
    p = flags.mean() if flags.size else np.nan
    return float(p), float(np.sqrt(max(p * (1 - p), 0.25 / n**2) / n)), int(flags.size)


def _median_log(x) -> tuple:
    """Median and the standard error of its logarithm (asymptotic: sqrt(pi/2) sd/sqrt(n) for log-normal data)."""
    x = np.asarray(x, float)
    x = x[np.isfinite(x) & (x > 0)]
    if x.size < 3:
        return float("nan"), float("nan"), int(x.size)
    return float(np.median(x)), float(np.sqrt(np.pi / 2) * np.std(np.log(x)) / np.sqrt(x.size)), int(x.size)


def cr_rate(c: CohortResult, at_day=None):
    """Best overall response CR (by ``at_day`` if given) among all patients (intention to treat)."""
    p = c.patients
    cr = np.asarray(p["cr"], bool)
    if at_day is not None:
        cr = cr & (np.nan_to_num(p["time_to_cr_days"], nan=np.inf) <= at_day)
    return _rate(cr[c.ok])


def orr_rate(c: CohortResult, at_day=None):
    """Best overall response CR or PR."""
    return _rate(np.asarray(c.patients["responder"], bool)[c.ok])


def crs3_rate(c: CohortResult, at_day=None):
    """CRS of grade 3 or more (the model's ASTCT 2019 grade; Lee 2014 and CARTOX read the same)."""
    return _rate(np.asarray(c.patients["crs_grade"])[c.ok] >= 3)


def crs3_penn_rate(c: CohortResult, at_day=None):
    """Share of patients with CRS grade >= 3 on the Penn scale (ELIANA, JULIET)."""
    return _rate(np.asarray(c.patients["crs_grade_penn"])[c.ok] >= 3)


def crs_any_rate(c: CohortResult, at_day=None):
    """CRS of any grade."""
    return _rate(np.asarray(c.patients["crs_grade"])[c.ok] >= 1)


def icans3_rate(c: CohortResult, at_day=None):
    """Neurological events of grade 3 or more (the model's one neurotoxicity grade, read as ICANS and CTCAE)."""
    return _rate(np.asarray(c.patients["icans_grade"])[c.ok] >= 3)


def icans_any_rate(c: CohortResult, at_day=None):
    """Neurological events of any grade (the model's one neurotoxicity grade, read as ICANS and CTCAE)."""
    return _rate(np.asarray(c.patients["icans_grade"])[c.ok] >= 1)


def antigen_negative_progression_share(c: CohortResult, at_day=None):
    """Share of progressions whose tumour was mostly antigen-negative or -low (Plaks 2021's biopsies)."""
    p = c.patients
    return _rate(np.asarray(p["progression_antigen_negative"], bool)[c.ok][progressions(p)[c.ok]])


def progressions(p) -> np.ndarray:
    """(n,) mask of the patients whose PFS event is a progression (tumour), not a GvHD death."""
    return np.asarray(p["pfs_event"], bool) & (np.asarray(p["death_cause"]) != "gvhd")


def _landmark(c: CohortResult, kind: str, at_day):
    if at_day is None:
        raise InputError(f"the quantity {kind}_at needs `at_day` (days)")
    p = c.patients
    lm = landmark(np.asarray(p[f"{kind}_days"])[c.ok], np.asarray(p[f"{kind}_event"])[c.ok], float(at_day))
    if lm["estimate"] is None:
        return float("nan"), float("nan"), int(c.ok.sum())
    se = (lm["high"] - lm["low"]) / (2 * 1.96) if lm["low"] is not None else float("nan")
    return float(lm["estimate"]), float(se), int(c.ok.sum())


def pfs_at(c: CohortResult, at_day=None):
    """Kaplan-Meier progression-free fraction at ``at_day``."""
    return _landmark(c, "pfs", at_day)


def os_at(c: CohortResult, at_day=None):
    """Kaplan-Meier overall survival at ``at_day``."""
    return _landmark(c, "os", at_day)


def blood_median_at(c: CohortResult, at_day=None):
    """Median CAR+ cells per uL of blood at ``at_day`` among patients alive then."""
    if at_day is None:
        raise InputError("the quantity blood_median_at needs `at_day` (days)")
    alive = np.asarray(c.patients["os_days"]) > at_day
    values = values_at(c.t, c.blood, [float(at_day)])[:, 0]
    return _median_log(values[c.ok & alive])


def cmax_copies_median(c: CohortResult, at_day=None):
    """Median peak transgene level (copies/ug) in days 1-28."""
    return _median_log(np.asarray(c.patients["cmax_copies_ug"])[c.ok])


def tmax_median(c: CohortResult, at_day=None):
    """Median day of the peak blood level."""
    return _median_log(np.asarray(c.patients["tmax_days"])[c.ok])


def _stein(c: CohortResult, key: str):
    """Stein 2019 metric of the cohort's median transgene course (the typical patient's curve).

    The Monte-Carlo error is from 20 bootstrap resamples of patients (seeded: the same θ gives the same value).
    """
    copies = c.copies[c.ok]
    if copies.shape[0] < 3:
        return float("nan"), float("nan"), int(copies.shape[0])
    value = stein_metrics(c.t, np.median(copies, axis=0))[key]
    rng = np.random.default_rng(0)
    boots = [stein_metrics(c.t, np.median(copies[rng.integers(0, len(copies), len(copies))], axis=0))[key]
             for _ in range(20)]
    boots = np.log(np.asarray(boots, float)[np.isfinite(boots) & (np.asarray(boots, float) > 0)])
    return float(value), float(np.std(boots)) if boots.size > 2 else float("nan"), int(copies.shape[0])


def fold_expansion(c: CohortResult, at_day=None):
    """Fold expansion of the typical transgene course (Stein's F_B style)."""
    return _stein(c, "fold")


def contraction_rate(c: CohortResult, at_day=None):
    """Contraction rate (1/day) over the 14 days after the peak of the typical course."""
    return _stein(c, "alpha")


def slow_rate(c: CohortResult, at_day=None):
    """Slow-phase decay rate (1/day) between days 180 and 365 of the typical course."""
    return _stein(c, "beta")


def slow_fraction(c: CohortResult, at_day=None):
    """Fraction of the peak entering the slow phase (typical course)."""
    return _stein(c, "f_slow")


#: quantity -> (function, scale).
QUANTITIES = {
    "cr_rate": (cr_rate, RATE), "orr_rate": (orr_rate, RATE), "crs3_rate": (crs3_rate, RATE),
    "crs3_penn_rate": (crs3_penn_rate, RATE),
    "crs_any_rate": (crs_any_rate, RATE), "icans3_rate": (icans3_rate, RATE),
    "icans_any_rate": (icans_any_rate, RATE),
    "antigen_negative_progression_share": (antigen_negative_progression_share, RATE),
    "pfs_at": (pfs_at, RATE), "os_at": (os_at, RATE),
    "blood_median_at": (blood_median_at, POSITIVE), "cmax_copies_median": (cmax_copies_median, POSITIVE),
    "tmax_median": (tmax_median, POSITIVE), "fold_expansion": (fold_expansion, POSITIVE),
    "contraction_rate": (contraction_rate, POSITIVE), "slow_rate": (slow_rate, POSITIVE),
    "slow_fraction": (slow_fraction, POSITIVE),
}


def _graded(column: str, at_least: int, what: str):
    def rate_on_scale(c: CohortResult, at_day=None):
        return _rate(np.asarray(c.patients[column])[c.ok] >= at_least)

    rate_on_scale.__doc__ = f"{what} (column {column})."
    return rate_on_scale


def _scale_quantities() -> dict:
    """A rate per named grading scale, so a target says how its trial graded: ``crs3_<scale>_rate``,
    ``crs_any_<scale>_rate`` (astct2019, lee2014, cartox, penn), ``neurotox3_<scale>_rate`` and
    ``neurotox_any_<scale>_rate`` (icans, ctcae). Scales the model cannot tell apart read the same
    grade (:mod:`celltrial.biology.grading_scales`): ``crs3_lee2014_rate`` equals ``crs3_rate``."""
    out = {}
    for s in CRS_SCALES.values():
        out[f"crs3_{s.name}_rate"] = _graded(s.column, 3, f"CRS grade >= 3, {s.label}")
        out[f"crs_any_{s.name}_rate"] = _graded(s.column, 1, f"CRS of any grade, {s.label}")
    for s in NEUROTOXICITY_SCALES.values():
        out[f"neurotox3_{s.name}_rate"] = _graded(s.column, 3, f"neurotoxicity grade >= 3, {s.label}")
        out[f"neurotox_any_{s.name}_rate"] = _graded(s.column, 1, f"neurotoxicity of any grade, {s.label}")
    return {name: (f, RATE) for name, f in out.items() if name not in QUANTITIES}


QUANTITIES.update(_scale_quantities())

#: quantity -> whether ``at_day`` is "required" or "optional"; the others take no ``at_day``.
AT_DAY = {"cr_rate": "optional", "pfs_at": "required", "os_at": "required", "blood_median_at": "required"}


def quantity(name: str):
    """(function, scale) of quantity ``name``; an error listing the known ones otherwise."""
    if name not in QUANTITIES:
        raise InputError(f"unknown calibration quantity {name!r}{did_you_mean(name, QUANTITIES)}; "
                         f"known: {', '.join(sorted(QUANTITIES))}")
    return QUANTITIES[name]


def mc_interval(name: str, value: float, se: float, n: int) -> tuple:
    """95% Monte-Carlo interval of a simulated summary ``name`` from ``n`` patients with standard error ``se``.

    Rates: Wilson interval of the proportion; landmarks: +-1.96 Greenwood SE; positive values:
    x/ exp(1.96 SE), their SE being on the log scale. NaN values give (NaN, NaN).

    Example:
        >>> [round(x, 3) for x in mc_interval("tmax_median", 10.0, 0.1, 50)]
        [8.22, 12.165]
    """
    if not np.isfinite(value):
        return (float("nan"), float("nan"))
    z = 1.96 * se if np.isfinite(se) else 0.0
    if name in ("pfs_at", "os_at"):
        return (max(value - z, 0.0), min(value + z, 1.0))
    if quantity(name)[1] == RATE:
        lo, hi = proportion_ci(value * n, max(n, 1))
        # the Wilson bounds at 0 or 1 events can miss the estimate by one ulp (0.9999999999999999 < 1.0)
        return (min(float(lo), value), max(float(hi), value))
    return (value * float(np.exp(-z)), value * float(np.exp(z)))


def summarise_cohort(c: CohortResult, wanted) -> tuple:
    """(values, standard errors, n) arrays for ``wanted``: a list of (quantity, at_day) pairs."""
    rows = [quantity(q)[0](c, at_day) for q, at_day in wanted]
    return tuple(np.array([r[k] for r in rows], float) for k in range(3))
