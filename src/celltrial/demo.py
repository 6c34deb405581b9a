"""The demo cohort behind ``celltrial demo``: a CAR-T infusion on a log-normal virtual cohort.

Uses the six-state test model (:func:`celltrial.model.library.cart6`), not the standard
biology; it exists to exercise the engine end to end until scenario files arrive.

Example:
    >>> summary = run_demo(patients=50, seed=1, days=60.0)   # doctest: +SKIP
    >>> summary["patients_ok"]                                # doctest: +SKIP
    50
"""

from __future__ import annotations

import time

import numpy as np

from .cohorts import CohortSpec, Variability, sample_cohort
from .model.library import cart6
from .solve import AUC, Bolus, FirstCrossing, Max, ValueAt, compile, simulate

_IIV = {"rho": 0.3, "gamma": 0.3, "phi": 0.3, "r_S": 0.3, "B0": 0.5}


def run_demo(patients: int, seed: int, days: float, threads: int | None = None) -> dict:
    """Simulate ``patients`` virtual patients for ``days`` days; return summary numbers."""
    t0 = time.perf_counter()
    compiled = compile(cart6())
    t1 = time.perf_counter()
    cohort = sample_cohort(compiled.model, CohortSpec(variability=Variability(omega=_IIV)), patients, seed)
    dose = Bolus.split(0.0, 1e8, {"S": 0.2, "E": 0.8})
    summaries = [
        Max("car_per_uL", name="cmax"),
        AUC("car_per_uL", 0.0, 28.0, name="auc28"),
        FirstCrossing("B", threshold=1.0, direction="down", name="t_below_1_cell"),
        ValueAt("B", days, name="B_end"),
    ]
    t2 = time.perf_counter()
    res = simulate(compiled, cohort.params, t_end=days, events=[dose], summaries=summaries, threads=threads,
                   rtol=1e-5, atol=1e-3, check_bounds=False)
    t3 = time.perf_counter()
    s = res.summaries
    cleared = np.isfinite(s["t_below_1_cell"])
    return {
        "patients": patients,
        "patients_ok": int(res.ok().sum()),
        "median Cmax (CAR+ cells/uL)": float(np.median(s["cmax"])),
        "median Tmax (days)": float(np.median(s["cmax_time"])),
        "median AUC0-28 (cells/uL x day)": float(np.median(s["auc28"])),
        "tumour below 1 cell (fraction)": float(cleared.mean()),
        "median day tumour < 1 cell": float(np.median(s["t_below_1_cell"][cleared])) if cleared.any() else None,
        "compile or cache load (s)": round(t1 - t0, 3),
        "simulation wall time (s)": round(t3 - t2, 3),
        "patients per second": round(patients / (t3 - t2), 1),
    }
