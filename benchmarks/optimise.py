"""Optimisation throughput on the MRD-monitoring example: evaluations per minute and where the time goes.

Runs ``scenarios/optimise_mrd_monitoring.yaml``'s search in this process for a fixed number of
evaluations (default 30) into a temporary study folder, then prints:

- evaluations per minute, and patient-evaluations per second, per rung (patients per evaluation);
- the split of wall time between simulating (the evaluator), Optuna's proposals and the study's
  bookkeeping (the rest: logging, Parquet);
- the adaptive (segmented) path against the plain one: patients/s of the searched arm with its
  ctDNA-triggered policy, and of the same arm without a policy (one uninterrupted solve per patient);
- the load average before and after (times on a loaded machine are not evidence).

    python benchmarks/optimise.py [--evaluations 30] [--patients-max 80] [--threads N]

Not a test: keep it short on a shared machine.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "scenarios" / "optimise_mrd_monitoring.yaml"


def _timed_evaluator(evaluator, spent: dict):
    inner = evaluator.evaluate

    def evaluate(values, patients):
        t0 = time.perf_counter()
        out = inner(values, patients)
        spent["simulate"] += time.perf_counter() - t0
        spent.setdefault("by_rung", {}).setdefault(patients, []).append(time.perf_counter() - t0)
        return out

    evaluator.evaluate = evaluate
    return evaluator


def search_throughput(scenario, compiled, evaluations: int, threads) -> dict:
    from celltrial.optimise import Evaluator, StudyFolder, fingerprint, optimise, parse_budget

    spent = {"simulate": 0.0}
    ev = _timed_evaluator(Evaluator(scenario, compiled=compiled, threads=threads), spent)
    with tempfile.TemporaryDirectory() as d:
        t0 = time.perf_counter()
        result = optimise(ev, StudyFolder(d, fingerprint(scenario)), parse_budget(str(evaluations)))
        wall = time.perf_counter() - t0
    rungs = {str(n): {"evaluations": len(t), "seconds_each": round(sum(t) / len(t), 3),
                      "patients_per_s": round(n * len(t) / sum(t), 1)} for n, t in spent["by_rung"].items()}
    return {"evaluations": len(result.rows), "wall_s": round(wall, 2),
            "evaluations_per_min": round(60 * len(result.rows) / wall, 1),
            "simulate_share": round(spent["simulate"] / wall, 3), "other_share": round(1 - spent["simulate"] / wall, 3),
            "rungs": rungs, "pareto_size": len(result.pareto),
            # patients a promotion did not simulate again (optimise/reuse.py)
            "reused_patients": ev.chunks.reused_patients,
            "patient_evaluations": sum(r["patients"] for r in result.rows)}


def adaptive_vs_plain(scenario, compiled, patients: int, threads) -> dict:
    """Patients/s of the searched arm with its adaptive policy and without (the plain path)."""
    from celltrial.trials.trial import run_trial

    arm = scenario.arms[0]
    out = {}
    for label, policy in (("adaptive", arm.policy), ("plain", None)):
        s = scenario.model_copy(update={"arms": [arm.model_copy(update={"policy": policy})], "search": None,
                                        "cohort": scenario.cohort.model_copy(update={"patients": patients})})
        t0 = time.perf_counter()
        run_trial(s, compiled=compiled, threads=threads)
        out[f"{label}_patients_per_s"] = round(patients / (time.perf_counter() - t0), 1)
    out["adaptive_over_plain"] = round(out["plain_patients_per_s"] / out["adaptive_patients_per_s"], 2)
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--evaluations", type=int, default=30)
    parser.add_argument("--patients-max", type=int, default=80)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args(argv)
    from celltrial.biology import standard_model
    from celltrial.scenarios import load_scenario
    from celltrial.solve import compile as compile_model

    compiled = compile_model(standard_model())
    scenario, _ = load_scenario(SCENARIO)
    search = scenario.search
    scenario = scenario.model_copy(update={"search": search.model_copy(update={
        "patients": search.patients.model_copy(update={"max": args.patients_max,
                                                       "start": min(search.patients.start, args.patients_max)})})})
    load = os.getloadavg()[0]
    record = {"cpu_count": os.cpu_count(), "load_before": round(load, 2)}
    record["search"] = search_throughput(scenario, compiled, args.evaluations, args.threads)
    print(f"search: {record['search']['evaluations_per_min']} evaluations/min, simulating "
          f"{100 * record['search']['simulate_share']:.0f}% of the wall time", file=sys.stderr)
    record["paths"] = adaptive_vs_plain(scenario, compiled, args.patients_max, args.threads)
    record["load_after"] = round(os.getloadavg()[0], 2)
    print(json.dumps(record, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
