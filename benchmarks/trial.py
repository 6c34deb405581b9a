"""Wall time of whole virtual trials from the shipped scenarios (warm kernel cache).

Measures, in one process: the quickstart (README main job: 200 patients, 1 year, stochastic
cure checked daily, endpoints, statistics, store) against its target of one minute on 2 cores,
and the seed trial (2 arms x 11 patients x 2,000 replicates, 180 days). Prints the phases
(simulation, statistics) and patient-arms per second, plus a JSON line for the record.

    python benchmarks/trial.py [--skip-seed-trial] [--threads N]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from celltrial.biology import standard_model
from celltrial.cli.runs import execute
from celltrial.solve import compile as compile_model
from celltrial.trials import trial as trial_module

ROOT = Path(__file__).resolve().parents[1]
TARGET_QUICKSTART_S = 60.0


def timed_run(scenario: str, store: Path, threads) -> dict:
    """Run a shipped scenario into ``store``; return wall time split into simulation and statistics."""
    stats = {"s": 0.0}
    real = trial_module.summarise

    def summarise(*args, **kwargs):
        t = time.perf_counter()
        try:
            return real(*args, **kwargs)
        finally:
            stats["s"] += time.perf_counter() - t

    trial_module.summarise = summarise
    try:
        t0 = time.perf_counter()
        outcome = execute(ROOT / "scenarios" / scenario, store_path=store, threads=threads)
        wall = time.perf_counter() - t0
    finally:
        trial_module.summarise = real
    n = len(outcome.run.patients["arm"])
    return {"scenario": scenario, "patient_arms": n, "wall_s": round(wall, 2), "statistics_s": round(stats["s"], 2),
            "patient_arms_per_s": round(n / wall, 1)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-seed-trial", action="store_true")
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    t0 = time.perf_counter()
    compile_model(standard_model())
    print(f"kernel load/compile: {time.perf_counter() - t0:.1f} s (cold cache: a few minutes, once)")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        rows.append(timed_run("quickstart.yaml", Path(tmp) / "b.duckdb", args.threads))
        if not args.skip_seed_trial:
            rows.append(timed_run("tscm_vs_standard.yaml", Path(tmp) / "b.duckdb", args.threads))
    for r in rows:
        print(f"{r['scenario']}: {r['patient_arms']:,} patient-arms in {r['wall_s']:.1f} s "
              f"(statistics {r['statistics_s']:.1f} s), {r['patient_arms_per_s']:,.0f} patient-arms/s")
    q = rows[0]
    print(f"quickstart wall / target ({TARGET_QUICKSTART_S:.0f} s) = {q['wall_s'] / TARGET_QUICKSTART_S:.2f} "
          f"({'met' if q['wall_s'] <= TARGET_QUICKSTART_S else 'NOT met'})")
    print(json.dumps({"threads": args.threads, "runs": rows}))


if __name__ == "__main__":
    main()
