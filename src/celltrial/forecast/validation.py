"""The ``forecast`` case of ``celltrial validate``: forecast calibration on virtual patients with known truth.

Quick: 8 LBCL axi-cel-like patients with three random effects (B0, g_T, x_prot; importance
sampling); full: 20 patients with every random effect of the presets (14; MCMC). Each sees ctDNA
on days 7-28 and is forecast on days 42, 56 and 90 (:func:`.coverage.coverage_study`). Rows:

- 80 % and 95 % prediction intervals of ctDNA: fail when the number of misses (or of hits) would
  happen with probability below 0.01 at nominal coverage (two-sided binomial);
- P(progression within 62 days of the last observation): the Brier score must not exceed that
  of the population forecast (the same doses, no observations).

Example:
    >>> coverage_row("80 %", 0.8, 19, 24).passed
    True
"""

from __future__ import annotations

import time

from scipy.stats import binomtest

from ..calibration.validation import CaseResult, Row
from .coverage import coverage_study
from .prior import from_presets

QUICK_FIT = ("B0", "g_T", "x_prot")


def coverage_row(label: str, nominal: float, hits: int, n: int) -> Row:
    """A row passing unless ``hits`` of ``n`` is implausible at ``nominal`` coverage (two-sided p < 0.01)."""
    p = float(binomtest(hits, n, nominal).pvalue)
    return Row(f"ctDNA {label} prediction intervals", f"nominal {nominal:.0%}", f"{hits} of {n} covered "
               f"({hits / n:.0%})", p >= 0.01, f"two-sided binomial p = {p:.3f} at nominal coverage (fail below 0.01)")


def run_forecast_calibration(*, quick: bool) -> CaseResult:
    """Simulate, forecast and score (see the module docstring)."""
    start = time.perf_counter()
    fit = list(QUICK_FIT) if quick else None
    pop = from_presets("lbcl", "axi-cel-like", fit=fit).population
    n = 8 if quick else 20
    res = coverage_study(pop, n_patients=n, obs_days=[7, 14, 21, 28], future_days=[42, 56, 90], seed=5,
                         n_draws=40 if quick else 100)
    rows = [coverage_row("80 %", 0.8, round(res.coverage80 * res.n), res.n),
            coverage_row("95 %", 0.95, round(res.coverage95 * res.n), res.n),
            Row(f"P(progression within {res.brier_days:g} days): Brier score", f"population forecast "
                f"{res.brier_prior:.3f}", f"{res.brier:.3f}", res.brier <= res.brier_prior,
                f"{res.progressed:.0%} of the virtual patients progressed; the data must not make the forecast worse "
                "than the population's")]
    notes = [f"{n} virtual patients x 3 future ctDNA draws; {res.censored:.0%} of the truths below the LLOQ "
             f"(0.01 hGE/mL; intervals and truths compared on the censored scale); 80 % coverage over quantified "
             f"truths only: {res.quantified80:.0%}",
             f"random effects: {', '.join(pop.names)}"]
    return CaseResult("forecast", "Forecast calibration: prediction intervals on virtual patients with known truth",
                      rows, time.perf_counter() - start, notes)
