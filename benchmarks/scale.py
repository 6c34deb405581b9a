"""Scale-out: a quickstart trial in process vs on a Dask LocalCluster with 1 and 2 workers.

Measures, in one run on this machine (issue 17):

- ``celltrial run scenarios/quickstart.yaml -n N`` in a fresh process, in process and with
  ``--cluster local --workers 1`` and ``--workers 2``: wall time, patients/s, CPU-s per patient
  (client, workers and scheduler together), peak RSS of the client and of the largest worker
  (the process tree sampled every 0.5 s), and the cost of the cluster over in process (target
  <= 10 % on 2 cores for the same number of cores used);
- the scheduler's overhead per task: 2,000 empty tasks on a 2-worker LocalCluster;
- the payload a worker returns per chunk (Parquet bytes per patient) and so what the client must
  absorb per second at the measured rate;
- the load average before and after each figure and the CPU model.

    python benchmarks/scale.py [--patients 1000000] [--one-worker-patients 200000] [--chunk-size N]
                               [--skip-in-process]

The one-worker run is smaller by default (it takes twice as long; its rate is what it measures).

Prints one line per figure and a JSON record at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from trial import cpu_model  # noqa: E402 - the same CPU reading as the trial benchmark


def _sample_tree(pid: int, peaks: dict, stop: threading.Event) -> None:
    """Record the peak RSS (MB) of the process ``pid`` and of its largest descendant until ``stop``."""
    try:
        root = psutil.Process(pid)
    except psutil.Error:
        return
    while not stop.is_set():
        try:
            peaks["client"] = max(peaks["client"], root.memory_info().rss / 2**20)
            times = root.cpu_times()
            peaks["client_cpu_s"] = times.user + times.system  # the last reading before it exits
            for child in root.children(recursive=True):
                try:
                    peaks["worker"] = max(peaks["worker"], child.memory_info().rss / 2**20)
                except psutil.Error:
                    pass
        except psutil.Error:
            return
        stop.wait(0.5)


def run_cli(patients: int, chunk_size: int | None, store: Path, cluster_workers: int | None) -> dict:
    """``celltrial run`` in a child process: wall, CPU of the whole tree, peak RSS of client and workers."""
    cmd = [sys.executable, "-m", "celltrial.cli", "run", str(ROOT / "scenarios" / "quickstart.yaml"), "-n",
           str(patients), "--out", str(store), "--json"] + (["--chunk-size", str(chunk_size)] if chunk_size else [])
    if cluster_workers:
        cmd += ["--cluster", "local", "--workers", str(cluster_workers)]
    load_before = os.getloadavg()[0]
    peaks, stop = {"client": 0.0, "worker": 0.0, "client_cpu_s": 0.0}, threading.Event()
    t0 = time.perf_counter()
    child = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
    sampler = threading.Thread(target=_sample_tree, args=(child.pid, peaks, stop), daemon=True)
    sampler.start()
    out, err = child.communicate()
    wall = time.perf_counter() - t0
    stop.set()
    sampler.join()
    if child.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{err.decode()[-2000:]}")
    cpu = _children_cpu()
    summary = json.loads(out)
    n = sum(summary["status_counts"].values())
    return {"mode": f"cluster, {cluster_workers} worker(s)" if cluster_workers else "in process",
            "patients": n, "wall_s": round(wall, 1), "patients_per_s": round(n / wall, 1),
            "cpu_ms_per_patient": round(1000 * cpu / n, 3),
            "client_cpu_ms_per_patient": round(1000 * peaks["client_cpu_s"] / n, 3),
            "peak_rss_client_mb": round(peaks["client"]),
            "peak_rss_worker_mb": round(peaks["worker"]) if cluster_workers else None,
            "load_before": round(load_before, 2), "load_after": round(os.getloadavg()[0], 2), "summary": summary}


_CPU_SEEN = [0.0]


def _children_cpu() -> float:
    """CPU seconds of reaped children (and their reaped descendants) since the last call."""
    usage = os.times()
    total = usage.children_user + usage.children_system
    spent, _CPU_SEEN[0] = total - _CPU_SEEN[0], total
    return spent


def _noop(x):
    return x


def scheduler_overhead(tasks: int = 2000) -> dict:
    """Wall ms per empty task on a 2-worker LocalCluster (submit, schedule, run, gather)."""
    from celltrial.cluster import DaskExecutor

    with DaskExecutor("local", workers=2) as executor:
        client = executor.client
        client.gather(client.map(_noop, range(50), pure=False))  # warm the connections
        t0 = time.perf_counter()
        client.gather(client.map(_noop, range(tasks), pure=False))
        wall = time.perf_counter() - t0
    return {"tasks": tasks, "ms_per_task": round(1000 * wall / tasks, 3)}


def payload_bytes(chunk_size: int) -> dict:
    """Parquet bytes a worker returns for one quickstart chunk, per patient."""
    from celltrial.cluster.tasks import run_chunk
    from celltrial.scenarios import load_scenario
    from celltrial.trials.trial import apply_overrides

    scenario, _ = load_scenario(ROOT / "scenarios" / "quickstart.yaml")
    scenario = apply_overrides(scenario, patients=chunk_size)
    payload = run_chunk(scenario, None, 0, 0, 0, chunk_size)
    size = sum(len(payload[k] or b"") for k in ("patients", "doses", "trajectories"))
    return {"chunk_patients": chunk_size, "bytes_per_patient": round(size / chunk_size, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=1_000_000)
    parser.add_argument("--one-worker-patients", type=int, default=200_000, help="0: skip the one-worker run")
    parser.add_argument("--chunk-size", type=int, default=None, help="default: the scenario's (2,000)")
    parser.add_argument("--skip-in-process", action="store_true")
    args = parser.parse_args()
    record = {"cpu": cpu_model(), "cores": os.cpu_count(), "patients": args.patients,
              "chunk_size": args.chunk_size or "scenario default"}
    print(f"{record['cpu']}, {record['cores']} cores", flush=True)
    record["scheduler"] = scheduler_overhead()
    print(f"scheduler: {record['scheduler']['ms_per_task']:.2f} ms wall per empty task (2 workers)", flush=True)
    record["payload"] = payload_bytes(2000)
    print(f"payload: {record['payload']['bytes_per_patient']:.0f} Parquet bytes per patient", flush=True)
    _children_cpu()
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        modes = ([] if args.skip_in_process else [None]) + [2] + ([1] if args.one_worker_patients else [])
        for k, workers in enumerate(modes):
            n = args.one_worker_patients if workers == 1 else args.patients
            r = run_cli(n, args.chunk_size, Path(tmp) / f"s{k}.duckdb", workers)
            runs.append(r)
            print(f"{r['mode']:>20}: {r['wall_s']:8.1f} s wall, {r['patients_per_s']:8,.0f} patients/s, "
                  f"{r['cpu_ms_per_patient']:.3f} CPU-ms/patient (client alone {r['client_cpu_ms_per_patient']:.3f}), "
                  f"peak RSS client {r['peak_rss_client_mb']:,} MB"
                  + (f", worker {r['peak_rss_worker_mb']:,} MB" if workers else "")
                  + f"; load {r['load_before']} -> {r['load_after']}", flush=True)
    summaries = [(r["patients"], r.pop("summary")) for r in runs]
    full = [summary for n, summary in summaries if n == args.patients]
    record["same_summary"] = all(s == full[0] for s in full)
    record["runs"] = runs
    if not args.skip_in_process:
        base_rate = runs[0]["patients_per_s"]
        record["cluster_cost_vs_in_process"] = {r["mode"]: round(base_rate / r["patients_per_s"] - 1, 3)
                                                for r in runs[1:]}
        print(f"cluster time per patient vs in process: {record['cluster_cost_vs_in_process']} (target <= 0.10 for "
              f"2 workers); summaries of the {args.patients:,}-patient runs identical: {record['same_summary']}")
    rate = max(r["patients_per_s"] for r in runs)
    record["client_bytes_per_s"] = round(rate * record["payload"]["bytes_per_patient"])
    print(f"the client absorbs {record['client_bytes_per_s'] / 1e6:.2f} MB/s of Parquet at {rate:,.0f} patients/s")
    print(json.dumps(record))


if __name__ == "__main__":
    main()
