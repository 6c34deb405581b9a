"""Does celltrial's SBML export reproduce its trajectories in libRoadRunner?

For each of the first ``--patients`` patients of a problem's cohort: export that patient (its
parameters and the problem's events) with ``celltrial.export.export_sbml``, simulate it in
libRoadRunner (CVODE, rtol 1e-10, per-variable atol 1e-9), and compare every state and
observable, daily, with (a) celltrial at rtol 1e-10 / atol 1e-9 and (b) an independent scipy
reference (LSODA, rtol 1e-11, atol 1e-9; for problems with ``clip_rhs``, on the right-hand
side clipped at zero). Errors are max over patients and days of |x - ref| / max(|ref|, 1).
Also reports whether LSODA and Radau on the plain (unclipped) right-hand side complete.

Usage: ``python benchmarks/sbml_check.py [--problem standard] [--patients 20]``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from problems import PROBLEMS, nonneg_reference  # noqa: E402

TIGHT = (1e-10, 1e-9)


def roadrunner_patient(prob, p, names, tol=TIGHT):
    import roadrunner

    from celltrial.export import export_sbml

    sbml = export_sbml(prob.model, p, events=prob.doses)
    r = roadrunner.RoadRunner(sbml)
    r.integrator.relative_tolerance = tol[0]
    for s in prob.model.state_names:
        r.integrator.setIndividualTolerance(s, tol[1])
    r.timeCourseSelections = ["time", *names]
    try:
        return r.simulate(0.0, prob.t_end, prob.days.size)[:, 1:], "ok"
    except RuntimeError as exc:  # CVODE gave up; the message names the time
        return np.full((prob.days.size, len(names)), np.nan), str(exc).split(";")[0]


def plain_scipy_status(prob, p, method, rtol, atol, max_rhs=300_000):
    """'ok', or where scipy stopped on the unclipped right-hand side (RHS budget or failure)."""
    from scipy.integrate import solve_ivp

    class Budget(Exception):
        pass

    count, last = [0], [0.0]

    def f(t, y):
        count[0] += 1
        last[0] = t
        if count[0] > max_rhs:
            raise Budget
        return prob.compiled.rhs(y, p)

    y = prob.initial(p)
    try:
        for lo, hi, _ in prob.segments():
            y = prob.apply_doses(lo, y)
            sol = solve_ivp(f, (lo, hi), y, method=method, rtol=rtol, atol=atol)
            if not sol.success:
                return f"failed at t = {sol.t[-1]:.1f}: {sol.message}"
            y = sol.y[:, -1].copy()
    except Budget:
        return f"stalled: {max_rhs} RHS evaluations used, stuck at t = {last[0]:.1f}"
    return "ok"


def main(argv=None):
    from celltrial.solve import simulate

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--problem", default="standard", choices=sorted(PROBLEMS))
    ap.add_argument("--patients", type=int, default=20)
    ap.add_argument("--no-plain", action="store_true", help="skip the unclipped LSODA/Radau status check")
    ap.add_argument("--fraction", type=int, metavar="N",
                    help="only report the share of N patients (unscreened cohort) that the screen leaves out")
    args = ap.parse_args(argv)
    print(f"load average at start: {os.getloadavg()}")
    prob = PROBLEMS[args.problem]()
    if args.fraction:
        flagged = prob.runaway(prob.cohort(args.fraction, seed=12345, screen=False))
        print(f"{prob.name}: the screen leaves out {flagged.sum()} of {args.fraction} patients ({flagged.mean():.1%})")
        return
    names = prob.model.quantity_names
    params = prob.cohort(args.patients, seed=12345, screen=False)  # the whole cohort, screened or not
    t0 = time.perf_counter()
    ref = np.array([prob.observe(nonneg_reference(prob, p), p, names) for p in params])
    print(f"reference: {time.perf_counter() - t0:.1f} s")
    radau = np.array([prob.observe(nonneg_reference(prob, p, "Radau", 1e-10, 1e-9), p, names) for p in params])
    res = simulate(prob.compiled, params, t_end=prob.t_end, events=prob.doses, save_at=prob.days, save=names,
                   rtol=TIGHT[0], atol=TIGHT[1], max_steps=10**7, threads=2, check_bounds=False)
    t0 = time.perf_counter()
    runs = [roadrunner_patient(prob, p, names) for p in params]
    rr = np.array([r[0] for r in runs])
    print(f"roadrunner (export + load + simulate, {args.patients} patients): {time.perf_counter() - t0:.1f} s")
    flagged = prob.runaway(params) if prob.runaway_quantity else None
    for i, (_, status) in enumerate(runs):
        if status != "ok":
            print(f"    roadrunner failed, patient {i}: {status}")
    if flagged is not None:
        peak = ref[:, :, names.index(prob.runaway_quantity)].max(axis=1)
        print(f"patients the problem's screen leaves out (runaway {prob.runaway_quantity}): "
              f"{np.flatnonzero(flagged).tolist()}; their reference peaks: {peak[flagged]}")

    def err(x, y, rows=slice(None)):  # (patients, days, quantities) -> per quantity (NaN: failed run)
        return np.max(np.abs(x[rows] - y[rows]) / np.maximum(np.abs(y[rows]), 1.0), axis=(0, 1))

    groups = {"all patients": slice(None)}
    if flagged is not None:
        groups = {"patients kept by the screen": ~flagged, "patients left out (runaway)": flagged}

    pairs = {"roadrunner(SBML) vs reference": (rr, ref), "roadrunner(SBML) vs celltrial": (rr, res.values),
             "celltrial vs reference": (res.values, ref), "Radau vs LSODA reference": (radau, ref)}
    for group, rows in groups.items():
        print(f"-- {group}: {np.ones(len(params), bool)[rows].sum()} patients")
        for label, (x, y) in pairs.items():
            e = err(x, y, rows)
            worst = np.argsort(np.nan_to_num(e, nan=np.inf))[::-1][:3]
            states = e[: prob.n_states].max()
            obs = e[prob.n_states:].max() if len(names) > prob.n_states else float("nan")
            print(f"{label:>32}: max {e.max():.2e} (states {states:.2e}, observables {obs:.2e}); worst "
                  + ", ".join(f"{names[j]} {e[j]:.1e}" for j in worst))
    print(f"peak |state| over these patients: {np.abs(ref[:, :, :prob.n_states]).max():.3g}")
    if not args.no_plain:
        for method, tol in (("LSODA", (1e-11, 1e-9)), ("Radau", (1e-10, 1e-9))):
            status = [plain_scipy_status(prob, p, method, *tol) for p in params]
            bad = {i: s for i, s in enumerate(status) if s != "ok"}
            print(f"plain (unclipped) RHS, {method} rtol {tol[0]:g}: {len(params) - len(bad)}/{len(params)} complete"
                  + "".join(f"\n    patient {i}: {s}" for i, s in bad.items()))


if __name__ == "__main__":
    main()
