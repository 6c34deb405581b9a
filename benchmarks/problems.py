"""Benchmark problems: a model, a dosing protocol, a cohort and a reference solver.

``cart6``: the six-state CAR-T / tumour / ctDNA test model, 1 patient-year, daily output,
1e8 cells at day 0 and 5e7 at days 90, 180, 270 (20 % S / 80 % E), log-normal variability
(omega 0.3) on rho, gamma, phi, r_S and B0, atol 1e-3 on every state - the problem of
``shared/reference/perf-anchors.md`` in celltrial's own test model.

``standard``: celltrial's 24-state standard model (``celltrial.biology.standard_model``) for
LBCL patients on the axi-cel-like product: typical values from the ``lbcl`` and
``axi-cel-like`` presets, their log-normal ``variability`` (B0 1.0, g_T 0.7, f_neg 1.5,
p_EFF 0.08, f_engraft 0.8, K_A 0.7, d_EFF 0.2, m_rev 0.8), Flu/Cy lymphodepletion and
1.4e8 CAR+ cells (2e6/kg x 70 kg) at day 0, 1 patient-year, daily output of six clinic
observables (car_T_uL, alc_T, Bp, Bn, ctdna, IL6), atol 1e-3 on every state. Its reference
integrates the right-hand side at the states clipped at zero (all 24 states are declared
non-negative, so the true solution is unchanged): with the plain right-hand side, LSODA
stalls at rtol 1e-11 in patients whose CAR-T pool runs away (see README).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field

import numpy as np

from celltrial.cohorts import CohortSpec, Variability, sample_cohort
from celltrial.model.library import cart6
from celltrial.solve import Bolus, compile
from celltrial.solve.events import apply_event, pack_events
from celltrial.solve.reference import scipy_reference

REF_RTOL, REF_ATOL = 1e-11, 1e-9
# Every engine gets the same rungs, in half-decade steps at atol 1e-3, then tighter atol.
FINE_LADDER = [(1e-4, 1e-3), (3e-5, 1e-3), (1e-5, 1e-3), (3e-6, 1e-3), (1e-6, 1e-3), (3e-7, 1e-3), (1e-7, 1e-3),
               (3e-8, 1e-3), (1e-6, 1e-5), (1e-7, 1e-5), (1e-8, 1e-5), (1e-8, 1e-7), (1e-9, 1e-7), (1e-10, 1e-9)]
CACHE_DIR = "benchmarks/results"  # references and screened cohorts, keyed by problem and cohort


def trajectory_error(x, ref, floor=1.0):
    """max over patients, days and outputs of |x - ref| / max(|ref|, floor)."""
    return float(np.max(np.abs(x - ref) / np.maximum(np.abs(ref), floor)))


@dataclass
class Problem:
    """A benchmark problem.

    ``outputs``: saved quantities (states or observables), None for all states. ``clip_rhs``:
    evaluate the right-hand side of the scipy reference at max(y, 0) for non-negative states.
    ``sizes`` / ``quick_sizes``: patients per engine in the throughput runs.
    """

    name: str
    model: object
    doses: list
    t_end: float
    omega: dict
    atol: float = 1e-3
    typical: dict = field(default_factory=dict)
    outputs: tuple | None = None
    summary: str = "car_per_uL"
    clip_rhs: bool = False
    out_of_bounds: str = "error"
    sizes: dict = field(default_factory=lambda: {"celltrial": 40000, "scipy": 200, "roadrunner": 4000})
    quick_sizes: dict = field(default_factory=lambda: {"celltrial": 4000, "scipy": 40, "roadrunner": 400})
    memory_sizes: tuple = (20000, 100000)
    ladder: list | None = None  # (rtol, atol) rungs for every engine; None: engine.py's default ladders
    runaway_quantity: str | None = None  # patients whose peak of this exceeds runaway_above ...
    runaway_above: float = float("inf")
    screen: bool = False  # ... are left out of the cohort (see ``runaway``)
    compiled: object = field(init=False)

    def __post_init__(self):
        self.compiled = compile(self.model)
        self.days = np.arange(0.0, self.t_end + 1.0)
        self.n_states = len(self.model.states)
        self.atol_vector = np.full(self.n_states, self.atol)
        self.output_names = tuple(self.model.state_names) if self.outputs is None else tuple(self.outputs)
        self.n_out = len(self.output_names)
        self._nonneg = np.array([s.nonnegative for s in self.model.states])
        packed = pack_events(self.model, 1, self.doses)
        self._records = [(float(packed.time[0, j]), int(packed.kind[0, j]), int(packed.index[0, j]),
                          float(packed.value[0, j])) for j in range(int(packed.count[0]))]

    def describe(self):
        text = (f"{self.name}: {self.n_states} states, {self.t_end:g} days, daily output, "
                f"{len(self.doses)} doses, atol {self.atol:g}")
        if self.outputs is not None:
            text += f", outputs {', '.join(self.output_names)}"
        if self.screen:
            text += f", runaway {self.runaway_quantity} (peak > {self.runaway_above:g} or tolerance-sensitive) left out"
        return text

    def cohort(self, n, seed, screen=None):
        """Patients of the cohort (trial order); with screening, the first n that pass it."""
        spec = CohortSpec(typical=self.typical, variability=Variability(omega=self.omega))
        if not (self.screen if screen is None else screen):
            return sample_cohort(self.model, spec, n, seed, out_of_bounds=self.out_of_bounds).params
        text = f"{self.model.fingerprint()} {self.describe()} {self.typical} {self.omega} {self.doses} {n} {seed}"
        key = hashlib.sha256(text.encode()).hexdigest()[:12]
        path = os.path.join(CACHE_DIR, f"cohort_{self.name}_{key}.npy")
        if os.path.exists(path):
            return np.load(path)
        kept, have, first = [], 0, 0
        while have < n:
            block = max(2 * (n - have), 64)
            params = sample_cohort(self.model, spec, block, seed, first_patient=first,
                                   out_of_bounds=self.out_of_bounds).params
            params = params[~self.runaway(params)]
            kept.append(params)
            have, first = have + params.shape[0], first + block
        params = np.concatenate(kept)[:n]
        os.makedirs(CACHE_DIR, exist_ok=True)
        np.save(path, params)
        return params

    def runaway(self, params):
        """(n,) bool: patients to leave out - the peak of ``runaway_quantity`` exceeds ``runaway_above``
        at rtol 1e-6 or at rtol 1e-9, or its final value differs by more than 1 % between the two
        (a trajectory that sensitive to the tolerance has no reference to compare engines against)."""
        from celltrial.solve import Max, simulate

        runs = [simulate(self.compiled, params, t_end=self.t_end, events=self.doses, rtol=rtol, atol=atol,
                         summaries=[Max(self.runaway_quantity, name="peak")], save_at=[self.t_end],
                         save=[self.runaway_quantity], check_bounds=False, max_steps=10**6)
                for rtol, atol in ((1e-6, self.atol), (1e-9, 1e-9))]
        peaks = [r.summaries["peak"] for r in runs]
        last = [r.values[:, -1, 0] for r in runs]
        with np.errstate(invalid="ignore", divide="ignore"):
            spread = np.abs(last[0] - last[1]) / np.maximum(np.abs(last[1]), 1.0)
        return ~((peaks[0] <= self.runaway_above) & (peaks[1] <= self.runaway_above) & (spread <= 1e-2))

    def typical_vector(self):
        """(n_params,) the cohort's typical values (model defaults with ``typical`` overrides)."""
        p = np.array(self.model.default_parameters(), dtype=float)
        for name, value in self.typical.items():
            p[self.model.parameter_names.index(name)] = value
        return p

    def initial(self, p):
        y = np.zeros((1, self.n_states))
        self.compiled.kernels.initial_batch(np.ascontiguousarray(p[None]), y)
        return y[0]

    def apply_doses(self, t, y):
        """State after the events at time ``t`` (boluses, scalings), in the solver's order."""
        y = y.copy()
        for time, kind, idx, value in self._records:
            if time == t:
                apply_event(kind, idx, value, y, None)
        return y

    def segments(self):
        """(start, stop, mask of output days in [start, stop)) between dose times."""
        cuts = sorted({d.time for d in self.doses} | {0.0, self.t_end})
        for lo, hi in zip(cuts[:-1], cuts[1:], strict=True):
            yield lo, hi, (self.days >= lo) & (self.days < hi)

    def rhs(self, p):
        """f(t, y) for scipy (clipped at zero for non-negative states if ``clip_rhs``)."""
        f, nonneg = self.compiled.rhs, self._nonneg
        if self.clip_rhs:
            return lambda _t, y: f(np.where(nonneg & (y < 0.0), 0.0, y), p)
        return lambda _t, y: f(y, p)

    def observe(self, states, p, names=None):
        """(k, len(names)) quantities from (k, n_states) states of one patient (default: outputs)."""
        names = self.output_names if names is None else names
        if all(n in self.model.state_names for n in names):
            return states[:, [self.model.state_names.index(n) for n in names]]
        y = np.ascontiguousarray(states, dtype=float)
        obs = np.zeros((y.shape[0], max(len(self.model.observables), 1)))
        self.compiled.kernels.observe_batch(y, np.ascontiguousarray(np.broadcast_to(p, (y.shape[0], p.size))), obs)
        full = np.hstack([y, obs])
        return full[:, [self.model.quantity_names.index(n) for n in names]]


def nonneg_reference(prob, p, method="LSODA", rtol=REF_RTOL, atol=REF_ATOL):
    """(days, n_states) with scipy on the clipped right-hand side, restarted at each dose time."""
    from scipy.integrate import solve_ivp

    out = np.empty((prob.days.size, prob.n_states))
    y = prob.initial(p)
    for lo, hi, sel in prob.segments():
        y = prob.apply_doses(lo, y)
        sol = solve_ivp(prob.rhs(p), (lo, hi), y, method=method, rtol=rtol, atol=atol,
                        t_eval=np.append(prob.days[sel], hi))
        if not sol.success:
            raise RuntimeError(f"{method} reference failed at t = {sol.t[-1]:g}: {sol.message}")
        out[sel] = sol.y[:, :-1].T
        y = sol.y[:, -1].copy()
    out[prob.days == prob.t_end] = y
    return np.where(prob._nonneg & (out < 0.0), 0.0, out)


def reference(prob, params, cache_dir=CACHE_DIR):
    """Tight reference (LSODA, rtol 1e-11, atol 1e-9) of the outputs, cached on disk by problem and cohort."""
    # The model's fingerprint keys the cache to its equations and defaults as well as the cohort.
    text = prob.describe() + prob.model.fingerprint()
    key = hashlib.sha256(params.tobytes() + text.encode()).hexdigest()[:12]
    path = os.path.join(cache_dir, f"reference_{prob.name}_{key}.npy")
    if os.path.exists(path):
        return np.load(path)
    if prob.clip_rhs:
        states = [nonneg_reference(prob, p) for p in params]
    else:
        states = [scipy_reference(prob.compiled, p, prob.initial(p), prob.doses, prob.days, method="LSODA",
                                  rtol=REF_RTOL, atol=REF_ATOL) for p in params]
    ref = np.array([prob.observe(s, p) for s, p in zip(states, params, strict=True)])
    os.makedirs(cache_dir, exist_ok=True)
    np.save(path, ref)
    return ref


def _cart6():
    comp = {"S": 0.2, "E": 0.8}
    doses = [Bolus.split(0.0, 1e8, comp)] + [Bolus.split(d, 5e7, comp) for d in (90.0, 180.0, 270.0)]
    omega = {"rho": 0.3, "gamma": 0.3, "phi": 0.3, "r_S": 0.3, "B0": 0.3}
    return Problem("cart6", cart6(), doses, 365.0, omega)


def _standard():
    from celltrial.biology import standard_model
    from celltrial.presets import combined_parameters, load_disease, load_product

    disease, product = load_disease("lbcl"), load_product("axi-cel-like")
    doses = product.regimen(0.0, disease.weight_kg)
    return Problem("standard", standard_model(), doses, 365.0, {**disease.variability, **product.variability},
                   typical=combined_parameters(disease, product),
                   outputs=("car_T_uL", "alc_T", "Bp", "Bn", "ctdna", "IL6"), summary="car_T_uL", clip_rhs=True,
                   sizes={"celltrial": 10000, "scipy": 200, "roadrunner": 4000},
                   quick_sizes={"celltrial": 1000, "scipy": 20, "roadrunner": 400},
                   runaway_quantity="C_T", runaway_above=1e13, screen=False, out_of_bounds="resample",
                   ladder=FINE_LADDER)


PROBLEMS = {"cart6": _cart6, "standard": _standard}
