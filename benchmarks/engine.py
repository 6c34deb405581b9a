"""Engine benchmark: one cohort, one model, three engines, speed *and* accuracy reached.

Runs in one process (libRoadRunner in a pool of 2 worker processes):

1. a tight reference (scipy LSODA, rtol 1e-11, atol 1e-9; agrees with Radau to ~1e-8) on the
   first ``--ref`` patients;
2. for each engine, the cheapest (rtol, atol) on a ladder whose trajectory error on those
   patients is <= ``--target`` (max over states and days of |x - ref| / max(|ref|, 1));
3. throughput at that tolerance: celltrial (batched, 2 threads), a scipy ``solve_ivp`` LSODA
   loop, and libRoadRunner (CVODE) over celltrial's exported SBML with per-variable absolute
   tolerances (a scalar atol is scaled by initial values in roadrunner: a known trap);
4. the FLOP floor of celltrial's own work (RHS, Jacobian, LU, solves, stage algebra x steps)
   and how far the measured time is from it;
5. peak memory of summaries-only runs at two cohort sizes (fresh subprocesses; unscreened cohorts).

Before each timed run it records the load (1-minute load average and the cores other
processes kept busy over 1 s) and waits, up to 4 x 15 s, while other processes load the machine.

Usage: ``python benchmarks/engine.py [--problem cart6|standard] [--quick] [--sizes celltrial=N,...]
[--json out.json]``. Patients per engine default to the problem's ``sizes`` (``quick_sizes``).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import platform
import subprocess
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from problems import PROBLEMS, reference, trajectory_error  # noqa: E402

PEAK_GFLOPS = 166.0  # 2 cores x 2 FMA-512 ports x 8 doubles x 2 flop x 2.6 GHz (perf-anchors.md)
# (rtol, atol) pairs in increasing cost; each engine runs at the first that reaches the target.
_COMMON = [(1e-5, 1e-3), (1e-6, 1e-3), (1e-7, 1e-3), (1e-6, 1e-5), (1e-7, 1e-5), (1e-8, 1e-5), (1e-8, 1e-7),
           (1e-9, 1e-7), (1e-10, 1e-9)]
LADDERS = {"celltrial": [(1e-4, 1e-3), (3e-5, 1e-3), *_COMMON], "scipy": _COMMON, "roadrunner": _COMMON}


# ---- engines ------------------------------------------------------------------------------------
def run_celltrial(prob, params, tol, threads=2, summaries_only=False):
    from celltrial.solve import AUC, Max, simulate

    rtol, atol = tol
    out = dict(summaries=[Max(prob.summary), AUC(prob.summary, 0.0, 28.0)]) if summaries_only else \
        dict(save_at=prob.days, save=prob.output_names)
    t0 = time.perf_counter()
    res = simulate(prob.compiled, params, t_end=prob.t_end, events=prob.doses, rtol=rtol, atol=atol,
                   threads=threads, check_bounds=False, **out)
    wall = time.perf_counter() - t0
    return res.values, wall, {"steps": float(res.n_steps.mean()), "rejected": float(res.n_rejected.mean()),
                              "ok": int(res.ok().sum())}


def run_scipy(prob, params, tol):
    from scipy.integrate import solve_ivp

    t0 = time.perf_counter()
    out = np.empty((params.shape[0], prob.days.size, prob.n_out))
    states = np.empty((prob.days.size, prob.n_states))
    nfev, failed = 0, 0
    for i, p in enumerate(params):
        y = prob.initial(p)
        for lo, hi, sel in prob.segments():
            y = prob.apply_doses(lo, y)
            t_eval = np.append(prob.days[sel], hi)  # restart exactly at the next dose
            sol = solve_ivp(lambda _t, yy, p=p: prob.compiled.rhs(yy, p), (lo, hi), y, method="LSODA",
                            rtol=tol[0], atol=tol[1], t_eval=t_eval)
            failed += not sol.success
            states[sel] = sol.y[:, :-1].T if sol.success else np.nan
            nfev += sol.nfev
            y = sol.y[:, -1].copy()
        states[prob.days == prob.t_end] = y
        out[i] = prob.observe(states, p)  # the states themselves unless the problem saves observables
    return out, time.perf_counter() - t0, {"rhs_evals": nfev / params.shape[0], "failed": failed}


def _rr_worker(args):
    sbml, pnames, snames, all_states, outputs, chunk, y0s, (rtol, atol), days, t_end = args
    import roadrunner

    r = roadrunner.RoadRunner(sbml)
    r.integrator.relative_tolerance = rtol
    for s in all_states:
        r.integrator.setIndividualTolerance(s, float(atol))
    r.timeCourseSelections = ["time", *outputs]
    out = np.empty((len(chunk), days.size, len(outputs)))
    failed = 0
    t0 = time.perf_counter()
    for k, (p, y0) in enumerate(zip(chunk, y0s, strict=True)):
        r.resetAll()
        for n, v in zip(pnames, p, strict=True):
            r.setValue(n, float(v))
        for s, v in zip(snames, y0, strict=True):
            r.setValue(s, float(v))
        try:
            out[k] = r.simulate(0.0, t_end, days.size)[:, 1:]
        except RuntimeError:  # CVODE gave up (e.g. CV_TOO_MUCH_WORK)
            out[k], failed = np.nan, failed + 1
    return out, time.perf_counter() - t0, failed


def run_roadrunner(prob, params, tol, processes=2):
    from celltrial.export import export_sbml

    # The SBML carries the cohort's typical values; each patient sets only the parameters and
    # initial states that differ from them somewhere in the cohort (a setValue costs ~8 us).
    typical = prob.typical_vector()
    sbml = export_sbml(prob.model, typical, events=prob.doses)
    y0 = np.array([prob.apply_doses(0.0, prob.initial(p)) for p in params])
    y0_typical = prob.apply_doses(0.0, prob.initial(typical))
    vary_p = np.flatnonzero((params != typical).any(axis=0))
    vary_y = np.flatnonzero((y0 != y0_typical).any(axis=0))
    pnames = [prob.model.parameter_names[j] for j in vary_p]
    snames = [prob.model.state_names[j] for j in vary_y]
    parts = np.array_split(np.arange(params.shape[0]), processes)
    jobs = [(sbml, pnames, snames, prob.model.state_names, prob.output_names, params[ix][:, vary_p],
             y0[ix][:, vary_y], tol, prob.days, prob.t_end) for ix in parts]
    t0 = time.perf_counter()
    with mp.get_context("spawn").Pool(processes) as pool:
        results = pool.map(_rr_worker, jobs)
    wall = time.perf_counter() - t0
    inner = max(r[1] for r in results)
    return np.concatenate([r[0] for r in results]), wall, {"wall_without_pool_start_s": inner,
                                                           "failed": sum(r[2] for r in results)}


ENGINES = {"celltrial": run_celltrial, "scipy": run_scipy, "roadrunner": run_roadrunner}


# ---- measurement ----------------------------------------------------------------------------------
def pick_tolerance(name, prob, ref_params, ref, target):
    tried = []
    ladder = prob.ladder or LADDERS[name]
    for tol in ladder:
        values, _, _ = ENGINES[name](prob, ref_params, tol)
        err = trajectory_error(values, ref)
        tried.append((tol, err))
        if err <= target:
            return tol, err, tried
    return ladder[-1], tried[-1][1], tried


def flop_floor(prob, steps_per_patient):
    info = prob.compiled.info
    n = prob.n_states
    stage_algebra = 64 * n  # Rodas4 stage combinations, error norm and update, per state (counted)
    per_step = 6 * info["rhs_ops"] + info["jac_ops"] + info["lu_factor_flops"] + 6 * info["lu_solve_flops"]
    per_step += stage_algebra
    return per_step, per_step * steps_per_patient


def memory_probe(problem, n, rtol):
    code = (
        "import resource, sys; sys.path.insert(0, 'benchmarks'); from problems import PROBLEMS;"
        "from celltrial.solve import simulate, Max, AUC;"
        f"prob = PROBLEMS[{problem!r}](); params = prob.cohort({n}, seed=5, screen=False);"
        f"simulate(prob.compiled, params, t_end=prob.t_end, events=prob.doses, rtol={rtol!r}, atol=prob.atol,"
        " summaries=[Max(prob.summary), AUC(prob.summary, 0, 28)], chunk_size=20000, check_bounds=False);"
        # VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the parent across fork+exec.
        "print([int(l.split()[1]) / 1024 for l in open('/proc/self/status') if l.startswith('VmHWM')][0])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def _busy_jiffies():
    with open("/proc/stat") as fh:
        cpu = [int(x) for x in fh.readline().split()[1:8]]
    return cpu[0] + cpu[1] + cpu[2] + cpu[5] + cpu[6]  # user, nice, system, irq, softirq


def machine_load(max_waits=4, wait_s=15.0, threshold=1.5):
    """Load before a timed run: (1-min load average, cores busy with other work over 1 s, waits).

    The 1-minute load average also counts this process's own recent work, so a high value
    only makes us wait (up to ``max_waits`` times) while other processes keep > 0.3 cores busy.
    """
    hz = os.sysconf("SC_CLK_TCK")
    waits = 0
    while True:
        own0, all0, t0 = sum(os.times()[:4]), _busy_jiffies(), time.perf_counter()
        time.sleep(1.0)
        own = sum(os.times()[:4]) - own0
        other = max(0.0, (_busy_jiffies() - all0) / hz - own) / (time.perf_counter() - t0)
        load1 = os.getloadavg()[0]
        if waits >= max_waits or load1 <= threshold or other <= 0.3:
            return {"loadavg_1min": round(load1, 2), "other_cores_busy": round(other, 2), "waits": waits}
        waits += 1
        time.sleep(wait_s)


def _parse_sizes(text, sizes):
    out = dict(sizes)
    for item in filter(None, (text or "").split(",")):
        name, _, value = item.partition("=")
        if name not in ENGINES:
            raise SystemExit(f"--sizes: unknown engine {name!r}; choose from {sorted(ENGINES)}")
        out[name] = int(value)
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--problem", default="cart6", choices=sorted(PROBLEMS))
    ap.add_argument("--quick", action="store_true", help="small cohorts (a smoke run, noisy numbers)")
    ap.add_argument("--sizes", help="patients per engine, e.g. celltrial=4000,scipy=40,roadrunner=1000")
    ap.add_argument("--target", type=float, default=1e-3, help="trajectory error to reach")
    ap.add_argument("--ref", type=int, default=20, help="patients with a tight reference")
    ap.add_argument("--no-memory", action="store_true", help="skip the peak-memory probes")
    ap.add_argument("--json", help="write all numbers to this file")
    args = ap.parse_args(argv)
    t_start = time.perf_counter()
    print(f"load average at start: {os.getloadavg()}")

    prob = PROBLEMS[args.problem]()
    sizes = _parse_sizes(args.sizes, prob.quick_sizes if args.quick else prob.sizes)
    report = {"machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
              "problem": prob.describe(), "target_error": args.target, "compile": prob.compiled.info,
              "command": " ".join(["python", "benchmarks/engine.py", *(argv if argv is not None else sys.argv[1:])])}
    print(prob.describe())
    print(f"kernels: {prob.compiled.info.get('compile_s', float('nan')):.2f} s to machine code in this process "
          f"(source cached: {prob.compiled.info['source_cached']}; a cold compile is benchmarks/startup.py)")
    t0 = time.perf_counter()
    ref_params = prob.cohort(args.ref, seed=12345)
    ref = reference(prob, ref_params)
    print(f"reference ({args.ref} patients, LSODA rtol 1e-11): {time.perf_counter() - t0:.1f} s")
    rows = {}
    for name in ENGINES:
        rtol, err, tried = pick_tolerance(name, prob, ref_params, ref, args.target)
        params = prob.cohort(sizes[name], seed=12345)
        load = machine_load()
        _, wall, extra = ENGINES[name](prob, params, rtol)
        extra["load"] = [load]
        if name == "celltrial":
            # The first large output array of a process pays the VM's page faults (~4 us/page
            # here); a long-running process (replicate trials) reuses freed memory. Report both.
            extra["first_run_patients_per_s"] = sizes[name] / wall
            walls = []
            for _ in range(2):
                extra["load"].append(machine_load())
                walls.append(ENGINES[name](prob, params, rtol)[1])
            wall = min(walls)
            summ = min(run_celltrial(prob, params, rtol, summaries_only=True)[1] for _ in range(2))
            extra["summaries_only_patients_per_s"] = sizes[name] / summ
        rows[name] = {"tolerance": rtol, "error": err, "ladder": tried, "patients": sizes[name], "wall_s": wall,
                      "patients_per_s": sizes[name] / wall, **extra}
        print(f"{name:>10}: (rtol, atol) {rtol} -> error {err:.2e}; {sizes[name]} patients in {wall:.2f} s = "
              f"{sizes[name] / wall:,.0f} patients/s {extra}")
        print(f"{'':>12}ladder: " + ", ".join(f"{t}: {e:.1e}" for t, e in tried))
    ct = rows["celltrial"]
    per_step, per_patient = flop_floor(prob, ct["steps"])
    floor_s = per_patient * ct["patients"] / (PEAK_GFLOPS * 1e9)
    report["flops"] = {"per_step": per_step, "per_patient": per_patient, "floor_s": floor_s,
                       "measured_s": ct["wall_s"], "distance": ct["wall_s"] / floor_s,
                       "achieved_gflops": per_patient * ct["patients"] / ct["wall_s"] / 1e9}
    print(f"FLOP floor: {per_step} flop/step x {ct['steps']:.0f} steps = {per_patient / 1e3:.0f} kflop/patient; "
          f"{ct['patients']} patients >= {floor_s * 1e3:.1f} ms at {PEAK_GFLOPS:g} GFLOP/s; measured "
          f"{ct['wall_s'] * 1e3:.0f} ms = {ct['wall_s'] / floor_s:.0f}x the floor "
          f"({report['flops']['achieved_gflops']:.2f} GFLOP/s)")
    ratios = {"vs_roadrunner_2proc": ct["patients_per_s"] / rows["roadrunner"]["patients_per_s"],
              "vs_scipy_loop": ct["patients_per_s"] / rows["scipy"]["patients_per_s"]}
    print(f"celltrial / roadrunner(2 processes) = {ratios['vs_roadrunner_2proc']:.1f}x (target >= 10x); "
          f"celltrial / scipy LSODA loop = {ratios['vs_scipy_loop']:.0f}x (target >= 200x)")
    report.update(engines=rows, ratios=ratios)
    if not args.no_memory:
        sizes_mem = prob.memory_sizes if not args.quick else tuple(n // 10 for n in prob.memory_sizes)
        mem = {n: memory_probe(args.problem, n, ct["tolerance"][0]) for n in sizes_mem}
        print("peak RSS, summaries only: " + ", ".join(f"{n} patients {mb:.0f} MB" for n, mb in mem.items()))
        report["peak_rss_mb"] = mem
    report["total_s"] = time.perf_counter() - t_start
    print(f"total {report['total_s']:.0f} s; load average at end: {os.getloadavg()}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(report, fh, indent=2, default=str)


if __name__ == "__main__":
    main()
