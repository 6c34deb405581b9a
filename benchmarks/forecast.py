"""Wall time of one patient's forecast with 5 candidate actions (issue 20 target: <= 30 s on 2 cores, warm cache),
and optionally the forecast calibration study on virtual patients with known truth.

The patient is a virtual LBCL patient (axi-cel-like, every random effect of the presets: 14 parameters)
with ctDNA on days 7, 14, 21 and 28 (30 % residual error, LLOQ 0.01 hGE/mL); the forecast runs
200 posterior draws x 5 actions over 180 days. Printed: seconds per stage (MAP alone, posterior
sampling, forward simulation, reading the outcomes), the sampler used, its ESS, and the load average
(the machine is shared: a load above the core count slows every number here).

    python benchmarks/forecast.py [--coverage N] [--ranking M] [--skip-forecast]
    # N virtual patients for the coverage study, M for the action-ranking check (both slow)
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np

TARGET_S = 30.0


def one_forecast(seed: int = 7) -> dict:
    from celltrial.calibration.individual import map_estimate, observed_arrays
    from celltrial.calibration.individual_report import simulate_dataset
    from celltrial.forecast import forecast_patient
    from celltrial.forecast.prior import from_presets

    pop = from_presets("lbcl", "axi-cel-like").population
    rng = np.random.default_rng(seed)
    eta = rng.standard_normal((1, len(pop.names))) * np.asarray(pop.omega)
    [record] = simulate_dataset(pop, [7, 14, 21, 28], observable="ctdna", eta=eta, rng=rng, sigma=0.3, lloq=0.01)
    map_estimate(pop, observed_arrays(pop, [record]), 0.3)  # loads the kernel (not timed)
    start = time.perf_counter()
    map_estimate(pop, observed_arrays(pop, [record]), 0.3)
    map_s = time.perf_counter() - start
    start = time.perf_counter()
    fc = forecast_patient(record, pop, n_draws=200, horizon=180.0, sigma=0.3, seed=seed)
    total = time.perf_counter() - start
    return {"total_s": round(total, 2), "target_s": TARGET_S, "map_s": round(map_s, 2),
            **{f"{k}_s": round(v, 2) for k, v in fc.timings.items()}, "sampler": fc.posterior.method,
            "ess": round(fc.posterior.ess, 1), "actions": len(fc.actions), "draws": int(fc.posterior.eta.shape[0]),
            "observations": record.values.tolist(), "load_average_1min": os.getloadavg()[0]}


def coverage(n: int, seed: int = 11) -> dict:
    from celltrial.forecast.coverage import coverage_study
    from celltrial.forecast.prior import from_presets

    pop = from_presets("lbcl", "axi-cel-like").population
    start = time.perf_counter()
    res = coverage_study(pop, n_patients=n, obs_days=[7, 14, 21, 28], future_days=[42, 56, 90], seed=seed,
                         n_draws=100)
    return {"patients": n, "intervals": res.n, "coverage80": round(res.coverage80, 3),
            "coverage95": round(res.coverage95, 3), "censored_share": round(res.censored, 3),
            "coverage80_quantified": round(res.quantified80, 3), "brier_days": res.brier_days,
            "brier": round(res.brier, 4), "brier_prior": round(res.brier_prior, 4), "progressed": res.progressed,
            "seconds": round(time.perf_counter() - start, 1),
            "load_average_1min": os.getloadavg()[0]}


def ranking(n: int, seed: int = 13) -> dict:
    from celltrial.forecast import default_actions
    from celltrial.forecast.prior import from_presets
    from celltrial.forecast.ranking import ranking_study

    pop = from_presets("lbcl", "axi-cel-like").population
    start = time.perf_counter()
    res = ranking_study(pop, default_actions(threshold=1.0), n_patients=n, obs_days=[7, 14, 21, 28], horizon=180.0,
                        seed=seed, n_draws=50, replicates=20)
    return {"patients": n, "agreement": res.agreement, "prior_agreement": res.prior_agreement,
            "decisive": res.decisive, "decisive_agreement": res.decisive_agreement,
            "decisive_prior_agreement": res.decisive_prior_agreement, "picks": res.picks, "truth_best": res.best,
            "seconds": round(time.perf_counter() - start, 1), "load_average_1min": os.getloadavg()[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--coverage", type=int, default=0, help="virtual patients of the coverage study (0: skip)")
    parser.add_argument("--ranking", type=int, default=0, help="virtual patients of the action-ranking check (0: skip)")
    parser.add_argument("--skip-forecast", action="store_true", help="skip the one-patient timing")
    args = parser.parse_args()
    if not args.skip_forecast:
        print(json.dumps({"forecast": one_forecast()}, indent=2))
    if args.coverage:
        print(json.dumps({"coverage": coverage(args.coverage)}, indent=2))
    if args.ranking:
        print(json.dumps({"ranking": ranking(args.ranking)}, indent=2))


if __name__ == "__main__":
    main()
