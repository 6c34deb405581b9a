"""Trial throughput: ``celltrial run`` end to end at 1e4, 1e5 and 1e6 patients, beside the engine alone.

Measures, in one run on this machine (issue 16):

- end to end: ``celltrial run scenarios/quickstart.yaml -n N`` in a fresh process (summaries and
  per-patient endpoints stored, no trajectories beyond the report's few): wall time, patients/s,
  CPU-s per patient (user + system of the child), peak RSS;
- the engine alone, in this process, on the same quickstart patients at the same tolerance:
  one uninterrupted solve per patient with its doses (no cure, no saved course, no summaries);
  the ratio end-to-end / engine CPU per patient (target <= 1.5);
- the adaptive long-game scenario (``adaptive_vs_maintenance.yaml``: ctDNA-triggered and
  scheduled re-dosing) per patient-year against the quickstart (target <= 1.3);
- the quickstart at ``--threads-patients`` with one and with two solver threads (target near 2x);
- the load average before and after each figure and the CPU model (times on a loaded machine
  are not evidence).

    python benchmarks/trial.py [--sizes 10000 100000 1000000] [--threads N] [--adaptive-patients 4000]
                               [--threads-patients 20000]

Prints one line per figure and a JSON record at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
TARGET_PATIENT_YEARS_S = 600.0  # 1e6 patient-years in 10 minutes


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def run_cli(scenario: str, patients: int, threads, store: Path) -> dict:
    """``celltrial run`` in a child process; wall, CPU and peak RSS of that process."""
    cmd = [sys.executable, "-m", "celltrial.cli", "run", str(ROOT / "scenarios" / scenario), "-n", str(patients),
           "--out", str(store), "--json"]
    if threads:
        cmd += ["--threads", str(threads)]
    load_before = os.getloadavg()[0]
    t0 = time.perf_counter()
    child = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - t0
    out, err = child.stdout.read(), child.stderr.read()
    if status != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{err.decode()[-2000:]}")
    summary = json.loads(out)
    years = summary["follow_up_days"] / 365.0
    cpu = usage.ru_utime + usage.ru_stime
    n = sum(summary["status_counts"].values())  # patients x arms x replicates
    return {"scenario": scenario, "patients": n, "patient_years": n * years, "wall_s": round(wall, 2),
            "patients_per_s": round(n / wall, 1), "cpu_ms_per_patient": round(1000 * cpu / n, 3),
            "cpu_ms_per_patient_year": round(1000 * cpu / (n * years), 3), "peak_rss_mb": round(usage.ru_maxrss / 1024),
            "load_before": round(load_before, 2), "load_after": round(os.getloadavg()[0], 2)}


def engine_only(patients: int, threads) -> dict:
    """CPU-ms per patient of the kernel alone on the quickstart's patients, at the trial's tolerance."""
    from celltrial.scenarios import load_scenario
    from celltrial.solve import Simulation
    from celltrial.solve import compile as compile_model
    from celltrial.trials.design import TrialPlan
    from celltrial.trials.trial import apply_overrides

    scenario, _ = load_scenario(ROOT / "scenarios" / "quickstart.yaml")
    plan = TrialPlan(apply_overrides(scenario, patients=patients))
    compiled = compile_model(plan.model)
    arm = plan.arms[0]
    cohort = plan.sample(arm, np.arange(patients, dtype=np.int64))
    weights = plan.weights(cohort)
    events = plan.patient_events(arm, weights, plan.logistics(arm, cohort.patient_ids),
                                 plan.protocol(arm, cohort, weights))
    load_before = os.getloadavg()[0]
    sim = Simulation(compiled, cohort.params, patient_events=events, rtol=scenario.simulation.rtol,
                     check_bounds=False, threads=threads)
    c0, t0 = time.process_time(), time.perf_counter()
    sim.advance(scenario.follow_up_days)
    cpu, wall = time.process_time() - c0, time.perf_counter() - t0
    res = sim.result()
    return {"patients": patients, "rtol": scenario.simulation.rtol,
            "cpu_ms_per_patient": round(1000 * cpu / patients, 3),
            "wall_s": round(wall, 2), "steps_per_patient": round(float(res.n_steps.mean()), 1),
            "load_before": round(load_before, 2), "load_after": round(os.getloadavg()[0], 2)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--adaptive-patients", type=int, default=4000)
    parser.add_argument("--engine-patients", type=int, default=4000)
    parser.add_argument("--threads-patients", type=int, default=20_000,
                        help="quickstart size run with --threads 1 and 2 for the two-thread speed-up (0: skip)")
    args = parser.parse_args()
    record = {"cpu": cpu_model(), "cores": os.cpu_count(), "threads": args.threads, "runs": []}
    print(f"{record['cpu']}, {record['cores']} cores", flush=True)
    engine = engine_only(args.engine_patients, args.threads)
    record["engine"] = engine
    print(f"engine alone: {engine['cpu_ms_per_patient']:.3f} CPU-ms/patient ({engine['steps_per_patient']:.0f} steps, "
          f"rtol {engine['rtol']:g}; load {engine['load_before']} -> {engine['load_after']})", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        for k, n in enumerate(args.sizes):
            r = run_cli("quickstart.yaml", n, args.threads, Path(tmp) / f"q{k}.duckdb")
            r["vs_engine"] = round(r["cpu_ms_per_patient"] / engine["cpu_ms_per_patient"], 2)
            record["runs"].append(r)
            print(f"quickstart {n:>9,}: {r['wall_s']:8.1f} s wall, {r['patients_per_s']:8,.0f} patients/s, "
                  f"{r['cpu_ms_per_patient']:.3f} CPU-ms/patient ({r['vs_engine']:.2f}x engine, target 1.5), "
                  f"peak RSS {r['peak_rss_mb']:,} MB; load {r['load_before']} -> {r['load_after']}", flush=True)
        quick = run_cli("quickstart.yaml", args.adaptive_patients, args.threads, Path(tmp) / "qa.duckdb")
        adaptive = run_cli("adaptive_vs_maintenance.yaml", args.adaptive_patients, args.threads, Path(tmp) / "a.duckdb")
        if args.threads_patients:
            one, two = (run_cli("quickstart.yaml", args.threads_patients, k, Path(tmp) / f"t{k}.duckdb")
                        for k in (1, 2))
            record["threads_1_vs_2"] = {"one": one, "two": two, "speed_up": round(one["wall_s"] / two["wall_s"], 2)}
            print(f"two threads: {one['wall_s']:.1f} s -> {two['wall_s']:.1f} s wall at {args.threads_patients:,} "
                  f"patients = {one['wall_s'] / two['wall_s']:.2f}x (target near 2x); load {one['load_before']} -> "
                  f"{two['load_after']}", flush=True)
    ratio = adaptive["cpu_ms_per_patient_year"] / quick["cpu_ms_per_patient_year"]
    record.update(adaptive=adaptive, adaptive_quickstart=quick, adaptive_vs_quickstart=round(ratio, 2))
    print(f"adaptive long game: {adaptive['cpu_ms_per_patient_year']:.3f} CPU-ms per patient-year vs quickstart "
          f"{quick['cpu_ms_per_patient_year']:.3f}: {ratio:.2f}x (target 1.3); load {adaptive['load_before']} -> "
          f"{adaptive['load_after']}", flush=True)
    biggest = max(record["runs"], key=lambda r: r["patient_years"])
    per_million = biggest["wall_s"] / biggest["patient_years"] * 1e6
    record["wall_s_per_million_patient_years"] = round(per_million, 1)
    print(f"1e6 patient-years: {per_million / 60:.1f} min wall at the {biggest['patients']:,}-patient rate "
          f"(target {TARGET_PATIENT_YEARS_S / 60:.0f} min)")
    print(json.dumps(record))


if __name__ == "__main__":
    main()
