"""Imported SBML model, a cohort: celltrial vs libRoadRunner (2 processes) at equal trajectory error.

The model is Kimmel 2021 (BIOMD0000001041) imported with ``celltrial.import_sbml``. Patients
differ in four parameters, log-normal around the file's values (CV 30 %: an illustrative spread,
not the paper's fitted variability): tumour growth ``r_B``, killing ``gamma_B``, CAR-T
proliferation ``rho_C`` and CAR-T carrying capacity ``K_C``. Days 0-200, daily outputs.

1. reference: libRoadRunner at rtol 1e-13 on the first ``--ref`` patients;
2. each engine runs at the cheapest (rtol, atol) on a ladder whose error on those patients is
   <= ``--target`` (max over patients, days and states of |x - ref| / max(|ref|, 1e-6 x peak));
3. throughput on ``--patients`` patients: celltrial batched (2 threads, compile excluded and
   reported), roadrunner in a pool of 2 processes (each loads the model once, then per patient
   resets, sets the four parameters and simulates; pool start and model load not timed).

Usage: ``python benchmarks/sbml.py [--patients 10000] [--ref 20] [--target 1e-4] [--json out.json]``.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import time
from pathlib import Path

import numpy as np

MODEL = Path(__file__).resolve().parents[2] / "shared" / "biomodels" / "BIOMD0000001041" / "Kimmel2021.xml"
VARIED = ("r_B", "gamma_B", "rho_C", "K_C")
DAYS = np.arange(0.0, 201.0)
LADDER = [(1e-5, 1e-6), (1e-6, 1e-8), (1e-7, 1e-9), (1e-8, 1e-10), (1e-9, 1e-11), (1e-10, 1e-12)]


def cohort(model, n, seed=7):
    rng = np.random.default_rng(seed)
    base = dict(zip(model.parameter_names, model.default_parameters(), strict=True))
    sigma = np.sqrt(np.log(1 + 0.3**2))
    return {k: base[k] * rng.lognormal(-sigma**2 / 2, sigma, n) for k in VARIED}


def run_celltrial(model, params, tol):
    from celltrial import simulate

    t0 = time.perf_counter()
    res = simulate(model, params, t_end=float(DAYS[-1]), save_at=DAYS, rtol=tol[0], atol=tol[1], threads=2)
    return np.stack([res[s] for s in model.state_names], axis=2), time.perf_counter() - t0


_RR = {}


def _rr_init(tol, selections):
    import roadrunner

    r = roadrunner.RoadRunner(str(MODEL))
    r.integrator.relative_tolerance, r.integrator.absolute_tolerance = tol
    r.integrator.maximum_num_steps = 1_000_000
    r.timeCourseSelections = selections
    _RR["r"] = r


def _rr_one(values):
    r = _RR["r"]
    r.resetAll()
    for k, v in values.items():
        r[k] = v
    return np.asarray(r.simulate(float(DAYS[0]), float(DAYS[-1]), len(DAYS)))


def run_roadrunner(model, params, tol, processes=2):
    selections = [f"[{sid}]" for sid, (el, name, kind) in model.sbml.kinds.items() if name in model.state_names]
    n = len(next(iter(params.values())))
    rows = [{k: float(v[i]) for k, v in params.items()} for i in range(n)]
    with mp.get_context("spawn").Pool(processes, _rr_init, (tol, selections)) as pool:
        pool.map(_rr_one, rows[:processes], chunksize=1)  # workers started and the model loaded: not timed
        t0 = time.perf_counter()
        out = np.stack(pool.map(_rr_one, rows, chunksize=max(1, n // (8 * processes))))
        return out, time.perf_counter() - t0


def error(x, ref):
    floor = 1e-6 * np.abs(ref).max(axis=(0, 1), keepdims=True)
    return float(np.max(np.abs(x - ref) / np.maximum(np.abs(ref), floor)))


def cheapest(run, model, params, ref, target):
    for tol in LADDER:
        err = error(run(model, params, tol)[0], ref)
        if err <= target:
            return tol, err
    return LADDER[-1], err


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--patients", type=int, default=10_000)
    ap.add_argument("--ref", type=int, default=20)
    ap.add_argument("--target", type=float, default=1e-4)
    ap.add_argument("--json", default="")
    args = ap.parse_args(argv)
    from celltrial import compile as compile_model
    from celltrial import import_sbml

    model = import_sbml(MODEL)
    t0 = time.perf_counter()
    compile_model(model)
    compile_s = time.perf_counter() - t0
    params = cohort(model, args.patients)
    small = {k: v[: args.ref] for k, v in params.items()}
    ref = run_roadrunner(model, small, (1e-13, 1e-15))[0]
    out = {"patients": args.patients, "target": args.target, "compile_s": round(compile_s, 2),
           "load_1min": os.getloadavg()[0]}
    for name, run in (("celltrial", run_celltrial), ("roadrunner", run_roadrunner)):
        tol, err = cheapest(run, model, small, ref, args.target)
        seconds = run(model, params, tol)[1]
        out[name] = {"rtol": tol[0], "atol": tol[1], "error": err, "seconds": round(seconds, 3)}
    out["speedup"] = round(out["roadrunner"]["seconds"] / out["celltrial"]["seconds"], 2)
    print(json.dumps(out, indent=1))
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
