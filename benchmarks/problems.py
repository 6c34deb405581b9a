"""Benchmark problems: a model, a dosing protocol, a cohort and a reference solver.

``cart6``: the six-state CAR-T / tumour / ctDNA test model, 1 patient-year, daily output,
1e8 cells at day 0 and 5e7 at days 90, 180, 270 (20 % S / 80 % E), log-normal variability
(omega 0.3) on rho, gamma, phi, r_S and B0, atol 1e-3 on every state - the problem of
``shared/reference/perf-anchors.md`` in celltrial's own test model.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from celltrial.cohorts import CohortSpec, Variability, sample_cohort
from celltrial.model.library import cart6
from celltrial.solve import Bolus, compile
from celltrial.solve.reference import scipy_reference


def trajectory_error(x, ref, floor=1.0):
    """max over patients, days and states of |x - ref| / max(|ref|, floor)."""
    return float(np.max(np.abs(x - ref) / np.maximum(np.abs(ref), floor)))


@dataclass
class Problem:
    name: str
    model: object
    doses: list
    t_end: float
    omega: dict
    atol: float = 1e-3
    compiled: object = field(init=False)

    def __post_init__(self):
        self.compiled = compile(self.model)
        self.days = np.arange(0.0, self.t_end + 1.0)
        self.n_states = len(self.model.states)
        self.atol_vector = np.full(self.n_states, self.atol)

    def describe(self):
        return (f"{self.name}: {self.n_states} states, {self.t_end:g} days, daily output, "
                f"{len(self.doses)} doses, atol {self.atol:g}")

    def cohort(self, n, seed):
        spec = CohortSpec(variability=Variability(omega=self.omega))
        return sample_cohort(self.model, spec, n, seed).params

    def initial(self, p):
        y = np.zeros((1, self.n_states))
        self.compiled.kernels.initial_batch(np.ascontiguousarray(p[None]), y)
        return y[0]

    def apply_doses(self, t, y):
        y = y.copy()
        for d in self.doses:
            if d.time == t:
                for name, amount in d.amounts.items():
                    y[self.model.state_names.index(name)] += amount
        return y

    def segments(self):
        """(start, stop, mask of output days in [start, stop)) between dose times."""
        cuts = sorted({d.time for d in self.doses} | {0.0, self.t_end})
        for lo, hi in zip(cuts[:-1], cuts[1:], strict=True):
            yield lo, hi, (self.days >= lo) & (self.days < hi)


def reference(prob, params, cache_dir="benchmarks/results"):
    """Tight reference (LSODA, rtol 1e-11, atol 1e-9), cached on disk by problem and cohort."""
    import hashlib
    import os

    key = hashlib.sha256(params.tobytes() + prob.describe().encode()).hexdigest()[:12]
    path = os.path.join(cache_dir, f"reference_{prob.name}_{key}.npy")
    if os.path.exists(path):
        return np.load(path)
    ref = np.array([scipy_reference(prob.compiled, p, prob.initial(p), prob.doses, prob.days, method="LSODA",
                                    rtol=1e-11, atol=1e-9) for p in params])
    os.makedirs(cache_dir, exist_ok=True)
    np.save(path, ref)
    return ref


def _cart6():
    comp = {"S": 0.2, "E": 0.8}
    doses = [Bolus.split(0.0, 1e8, comp)] + [Bolus.split(d, 5e7, comp) for d in (90.0, 180.0, 270.0)]
    omega = {"rho": 0.3, "gamma": 0.3, "phi": 0.3, "r_S": 0.3, "B0": 0.3}
    return Problem("cart6", cart6(), doses, 365.0, omega)


PROBLEMS = {"cart6": _cart6}
