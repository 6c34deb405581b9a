"""Individual-level recovery case of ``celltrial validate``: known random effects back from NONMEM-style data.

Tisa-cel-like B-ALL patients are simulated at random effects drawn from the prior (fixed seed),
sampled on days 1-90 with 30% proportional error and censoring below 30 copies/ug, written to
and read back from a NONMEM-style CSV, then fitted by MAP. A row passes when every patient's
known value lies within its 95% interval (MAP +- 1.96 SE on the log scale), allowing the one
miss in twenty that 95% intervals make by design: a row fails when the number of misses would
happen with probability below 0.01 at 95% coverage (binomial).

Example:
    >>> FIT
    ('f_engraft', 'd_EFF')
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np
from scipy.stats import binom

from .individual import PopulationModel, fit_individuals
from .individual_report import simulate_dataset
from .nonmem import read_nonmem
from .validation import CaseResult, Row

DISEASE, PRODUCT, FIT = "b-all", "tisa-cel-like", ("f_engraft", "d_EFF")
DAYS = (1, 2, 4, 7, 9, 11, 14, 17, 21, 28, 35, 42, 56, 70, 90)
SIGMA, LLOQ = 0.3, 30.0


def run_individual_recovery(*, quick: bool) -> CaseResult:
    """Simulate, write, read and fit; one row per fitted parameter."""
    start = time.perf_counter()
    n = 6 if quick else 20
    pop = PopulationModel.from_presets(DISEASE, PRODUCT, list(FIT))
    rng = np.random.default_rng(2026)
    eta = rng.standard_normal((n, len(FIT))) * np.asarray(pop.omega)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "recovery.csv"
        simulate_dataset(pop, DAYS, eta=eta, rng=rng, sigma=SIGMA, lloq=LLOQ, path=path)
        records = read_nonmem(path)
    fit = fit_individuals(records, DISEASE, PRODUCT, list(FIT), sigma=SIGMA)
    est = np.array([p.eta for p in fit.patients])
    se = np.array([p.se_eta for p in fit.patients])
    blq = int(sum(r.blq.sum() for r in records))
    rows = []
    for k, name in enumerate(FIT):
        z = (est[:, k] - eta[:, k]) / se[:, k]
        misses = int(np.sum(np.abs(z) > 1.96))
        # 95% intervals miss 1 in 20 by design: fail only when this many misses is unlikely (p < 0.01)
        p_value = float(binom.sf(misses - 1, n, 0.05))
        passed = p_value >= 0.01 and all(p.converged for p in fit.patients)
        rows.append(Row(f"recover {name} per patient", f"{n} known values",
                        f"{n - misses} of {n} inside their 95% intervals (mean abs z {np.mean(np.abs(z)):.2f})",
                        passed, f"{misses} interval(s) missed the known value; P(at least that many | 95% coverage) "
                                f"= {p_value:.3f} (fail below 0.01)"))
    notes = [f"{n} patients x {len(DAYS)} samples, {blq} below the LLOQ of {LLOQ:g} copies/ug (M3 censoring)"]
    return CaseResult("recovery-individual", "Parameter recovery: per-patient MAP from NONMEM-style data", rows,
                      time.perf_counter() - start, notes + list(fit.warnings))
