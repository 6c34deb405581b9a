"""Wall time of the calibration layer (warm kernel cache), measured in one process.

- one population evaluation of the ZUMA-1 case (200 virtual patients, 548 days, endpoints and
  summaries): seconds per parameter set, which sets the cost of a wave of the emulation fit;
- the individual MAP fit of 20 tisa-cel-like patients (2 parameters, BLQ censoring);
- ``celltrial validate --quick`` (every validation case at CI sizes) against its target of
  5 minutes on 2 cores.

    python benchmarks/calibration.py [--skip-validate]
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

TARGET_VALIDATE_QUICK_S = 300.0


def population_evaluation() -> dict:
    from celltrial.calibration.cases import load_case

    case = load_case("zuma1")
    problem = case.problem()
    theta = np.array([[p.to_theta((p.low * p.high) ** 0.5 if p.kind == "typical" else (p.low + p.high) / 2)
                       for p in problem.parameters]])
    problem.simulate(theta)  # loads the kernel
    start = time.perf_counter()
    problem.simulate(np.repeat(theta, 3, axis=0))
    per = (time.perf_counter() - start) / 3
    return {"population_eval_s": round(per, 2), "patients": int(case.scenario.cohort.patients),
            "days": float(case.scenario.follow_up_days)}


def individual_fit() -> dict:
    from celltrial.calibration.individual import PopulationModel, fit_individuals
    from celltrial.calibration.individual_report import simulate_dataset

    pop = PopulationModel.from_presets("b-all", "tisa-cel-like", ["f_engraft", "d_EFF"])
    rng = np.random.default_rng(1)
    records = simulate_dataset(pop, [1, 2, 4, 7, 9, 11, 14, 17, 21, 28, 35, 42, 56, 70, 90], n_patients=20, rng=rng,
                               sigma=0.3, lloq=30.0)
    start = time.perf_counter()
    fit = fit_individuals(records, "b-all", "tisa-cel-like", ["f_engraft", "d_EFF"], sigma=0.3)
    return {"individual_fit_20_patients_s": round(time.perf_counter() - start, 2),
            "converged": int(sum(p.converged for p in fit.patients))}


def validate_quick() -> dict:
    from celltrial.calibration.suite import run_suite

    start = time.perf_counter()
    results = run_suite(quick=True)
    seconds = time.perf_counter() - start
    return {"validate_quick_s": round(seconds, 1), "target_s": TARGET_VALIDATE_QUICK_S,
            "ratio_to_target": round(seconds / TARGET_VALIDATE_QUICK_S, 3),
            "rows_passing": f"{sum(r.passed for c in results for r in c.rows)}/{sum(len(c.rows) for c in results)}"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-validate", action="store_true")
    args = parser.parse_args()
    out = {**population_evaluation(), **individual_fit()}
    print(f"population evaluation (ZUMA-1, {out['patients']} patients x {out['days']:g} days): "
          f"{out['population_eval_s']} s per parameter set")
    print(f"individual MAP fit, 20 patients x 2 parameters: {out['individual_fit_20_patients_s']} s "
          f"({out['converged']}/20 converged)")
    if not args.skip_validate:
        out.update(validate_quick())
        print(f"celltrial validate --quick: {out['validate_quick_s']} s = {out['ratio_to_target']} x the "
              f"{TARGET_VALIDATE_QUICK_S:.0f} s target ({out['rows_passing']} rows pass)")
    print(json.dumps(out))


if __name__ == "__main__":
    main()
