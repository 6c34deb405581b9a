"""Quality-adjusted survival of each simulated patient, from the per-patient table.

A partitioned-survival reading of each patient's own course (days from day 0 of the table):

* progression-free from day 0 to ``pfs_days`` when progression or death was observed, else (PFS
  censored: no progression seen) to ``os_days``, at utility ``u_pf``;
* progressed from there to ``os_days`` (death, or the end of follow-up), at utility ``u_pd``;
* toxicity as QALY losses: a CRS episode of maximum grade g costs ``crs[g]`` utility for the
  simulated CRS duration, ICANS of grade g costs ``icans[g]`` for ``icans_episode_days``, and each
  inpatient day costs ``hospital_day`` utility for a day. They fall in the first weeks, so they are
  counted undiscounted.

Beyond follow-up (a horizon longer than follow-up), the patients alive at censoring add the expected
discounted time from :func:`celltrial.economics.extrapolation.tail_years` on their arm's PFS and OS
fits; a patient progression-free at censoring spends ``min(pf, alive)`` of it progression-free (all
of it when the PFS curve had too few events to fit).

Example:
    >>> import numpy as np
    >>> p = {"pfs_days": np.array([365.25]), "pfs_event": np.array([True]), "os_days": np.array([730.5]),
    ...      "os_event": np.array([True]), "crs_grade": np.array([0])}
    >>> u = Utilities(progression_free=0.8, progressed=0.5)
    >>> q = patient_qalys(p, u, rate=0.0, method="annual")
    >>> round(float(q["qalys"][0]), 6), round(float(q["life_years"][0]), 6)   # 0.8 x 1 + 0.5 x 1
    (1.3, 2.0)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import InputError
from .discounting import DAYS_PER_YEAR, integral
from .extrapolation import tail_years

#: Columns :func:`patient_qalys` reads (the optional ones count zero when absent).
QALY_COLUMNS = ("pfs_days", "pfs_event", "os_days", "os_event", "crs_grade")
OPTIONAL_QALY_COLUMNS = ("crs_duration_days", "icans_grade", "hospital_days")


@dataclass(frozen=True)
class Utilities:
    """Health-state utilities (0 dead .. 1 full health) and disutilities (losses, >= 0) by grade 0-4.

    The defaults here are plain numbers for tests; the scenario's ``economics.utilities`` carries the
    sourced defaults (see :mod:`celltrial.scenarios.economics`)."""

    progression_free: float = 0.73
    progressed: float = 0.60
    crs_by_grade: tuple = (0.0, 0.01, 0.05, 0.23, 0.23)
    icans_by_grade: tuple = (0.0, 0.04, 0.04, 0.18, 0.18)
    icans_episode_days: float = 14.0
    hospital_day: float = 0.0
    extra: dict = field(default_factory=dict)

    def __post_init__(self):
        for name in ("progression_free", "progressed"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise InputError(f"economics.utilities.{name}: {getattr(self, name)!r} must lie in [0, 1]")
        for name in ("crs_by_grade", "icans_by_grade"):
            v = getattr(self, name)
            if len(v) != 5 or any(not 0.0 <= x <= 1.0 for x in v):
                raise InputError(f"economics.utilities.{name}: give 5 disutilities in [0, 1] for grades 0-4")


def _grade_loss(grades, by_grade) -> np.ndarray:
    g = np.clip(np.nan_to_num(np.asarray(grades, dtype=float)), 0, 4).astype(int)
    return np.asarray(by_grade, dtype=float)[g]


def toxicity_loss(p: dict, u: Utilities) -> dict:
    """QALYs lost per patient to CRS, ICANS and hospital days (undiscounted, >= 0)."""
    n = np.shape(p["crs_grade"])[0]
    crs_days = np.nan_to_num(np.asarray(p.get("crs_duration_days", np.zeros(n)), dtype=float))
    icans = p.get("icans_grade", np.zeros(n))
    hospital = np.nan_to_num(np.asarray(p.get("hospital_days", np.zeros(n)), dtype=float))
    return {"crs": _grade_loss(p["crs_grade"], u.crs_by_grade) * crs_days / DAYS_PER_YEAR,
            "icans": _grade_loss(icans, u.icans_by_grade) * u.icans_episode_days / DAYS_PER_YEAR,
            "hospital": u.hospital_day * hospital / DAYS_PER_YEAR}


def patient_qalys(p: dict, u: Utilities, *, rate: float, method: str, horizon_days: float | None = None,
                  fits: tuple | None = None, cycle_days: float = 7.0) -> dict:
    """Per-patient discounted QALYs and life-years, and their parts (each an (n,) array).

    Args:
        p: column -> (n,) array with at least :data:`QALY_COLUMNS`.
        rate, method: discounting (see :mod:`celltrial.economics.discounting`).
        horizon_days: time horizon; None or at most the follow-up: no extrapolation.
        fits: (PFS fit, OS fit) of the patients' arm, :class:`SurvivalFit`, for the tail.
        cycle_days: grid of the tail's trapezoid (half-cycle corrected) integral.

    Returns:
        ``qalys``, ``life_years`` and the parts ``progression_free``, ``progressed``, ``crs``, ``icans``,
        ``hospital`` (losses, positive), ``tail_progression_free``, ``tail_progressed`` (QALYs), and
        ``tail_years_progression_free`` (discounted years progression-free beyond follow-up).
    """
    missing = [c for c in QALY_COLUMNS if c not in p]
    if missing:
        raise InputError(f"patient_qalys: the patients table lacks {missing}")
    pfs, os_ = np.asarray(p["pfs_days"], dtype=float), np.asarray(p["os_days"], dtype=float)
    pf_end = np.where(np.asarray(p["pfs_event"], dtype=bool), np.minimum(pfs, os_), os_)
    pf_years = integral(0.0, pf_end, rate, method)
    pd_years = integral(pf_end, os_, rate, method)
    out = {"progression_free": u.progression_free * pf_years, "progressed": u.progressed * pd_years}
    out.update(toxicity_loss(p, u))
    life = pf_years + pd_years
    tail_pf, tail_pd = _tail(p, pf_end, os_, rate, method, horizon_days, fits, cycle_days)
    out["tail_progression_free"] = u.progression_free * tail_pf
    out["tail_years_progression_free"] = tail_pf  # discounted years (for costs beyond follow-up)
    out["tail_progressed"] = u.progressed * tail_pd
    out["life_years"] = life + tail_pf + tail_pd
    out["qalys"] = (out["progression_free"] + out["progressed"] + out["tail_progression_free"]
                    + out["tail_progressed"] - out["crs"] - out["icans"] - out["hospital"])
    return out


def _tail(p, pf_end, os_, rate, method, horizon_days, fits, cycle_days):
    """Discounted years beyond censoring, progression-free and progressed, per patient."""
    zero = np.zeros(os_.shape)
    if horizon_days is None or fits is None or not os_.size or horizon_days <= float(np.max(os_)):
        return zero, zero
    pfs_fit, os_fit = fits
    alive = ~np.asarray(p["os_event"], dtype=bool)
    still_pf = alive & ~np.asarray(p["pfs_event"], dtype=bool)
    kw = {"rate": rate, "method": method, "cycle_days": cycle_days}
    alive_years = np.where(alive, tail_years(os_fit, os_, horizon_days, **kw), 0.0)
    if pfs_fit.chosen is None:  # too few progressions to fit: progression-free stay so while alive
        pf_years = np.where(still_pf, alive_years, 0.0)
    else:  # partitioned survival: a PFS curve above the OS curve cannot leave more time PF than alive
        pf_years = np.minimum(np.where(still_pf, tail_years(pfs_fit, pf_end, horizon_days, **kw), 0.0), alive_years)
    return pf_years, alive_years - pf_years
