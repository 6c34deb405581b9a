"""Parameter-recovery validation: simulate data from known parameters, calibrate, recover them.

Population level (:func:`population_recovery`): a "published trial" of ``data_patients``
virtual patients is simulated at known values (antigen-negative share exponent and IL-6 scale) with
its own seed; its CR, any-grade and grade >= 3 CRS counts become rate targets; the emulation
fit (different seed, so a different virtual cohort: as with a real trial) must bring the known
values inside their 95% credible intervals.

Individual level (``individual_validation.run_individual_recovery``): NONMEM-style data of a few tisa-cel-like
patients simulated at known random effects, with residual error and BLQ censoring, fitted by
MAP with the population prior; the known values must lie inside their 95% intervals.

Example:
    >>> TRUE_VALUES["x_neg"] < TRUE_VALUES["il6_max"]
    True
"""

from __future__ import annotations

import time

from .cases import load_case
from .fit import calibrate
from .population import FitParameter, PopulationProblem
from .targets import RateTarget
from .validation import CaseResult, Row

# x_neg 5.81: a typical antigen-negative share exp(-5.81) = 3e-3; the prior spans shares 1e-5 to 0.1
TRUE_VALUES = {"x_neg": 5.81, "il6_max": 4000.0}
PRIORS = {"x_neg": (2.3, 11.5), "il6_max": (1000.0, 30000.0)}
WANTED = [("cr_rate", None), ("crs_any_rate", None), ("crs3_rate", None)]


def _short_scenario(patients: int, seed: int):
    base = load_case("zuma1").scenario
    assessments = base.assessments.model_copy(update={"imaging_days": [28.0, 90.0], "ctdna_days": [28.0]})
    return base.model_copy(update={"cohort": base.cohort.model_copy(update={"patients": patients}),
                                   "assessments": assessments, "follow_up_days": 90.0, "seed": seed})


def population_recovery(*, quick: bool, compiled=None) -> CaseResult:
    """Recover two population values from simulated trial summaries (see the module docstring)."""
    start = time.perf_counter()
    params = [FitParameter(k, "typical", *PRIORS[k]) for k in TRUE_VALUES]
    data_n, fit_n = (300, 100) if quick else (600, 200)
    truth = PopulationProblem(_short_scenario(data_n, 7001), params, WANTED, compiled=compiled)
    theta_true = [p.to_theta(TRUE_VALUES[p.name]) for p in params]
    observed, _, _ = truth.simulate([theta_true])
    targets = [RateTarget(name=q, quantity=q, events=int(round(observed[0, j] * data_n)), n=data_n,
                          source="[E] simulated at known values (recovery case)")
               for j, (q, _) in enumerate(WANTED)]
    problem = PopulationProblem(_short_scenario(fit_n, 7002), params, WANTED, compiled=truth.compiled)
    fit = calibrate(problem, targets, design_points=12 if quick else 20, waves=1 if quick else 2, seed=3,
                    check_draws=4, n_steps=800 if quick else 1500)
    rows = []
    for p in params:
        v = fit.values[p.label]
        inside = v["low"] <= TRUE_VALUES[p.name] <= v["high"]
        rows.append(Row(f"recover {p.label}", f"{TRUE_VALUES[p.name]:.4g} (known)",
                        f"{v['median']:.4g} (95% CrI {v['low']:.3g}–{v['high']:.3g})", bool(inside),
                        "the known value lies inside the 95% credible interval" if inside else
                        "the known value lies outside the 95% credible interval"))
    notes = [f"data: {data_n} virtual patients (seed 7001) at the known values; fit: {fit_n} others (seed 7002), "
             f"{'1 wave of 12' if quick else '2 waves of 20'} design points; targets CR, any and grade >= 3 CRS"]
    return CaseResult("recovery-population", "Parameter recovery: population values from trial summaries", rows,
                      time.perf_counter() - start, notes + fit.warnings)
