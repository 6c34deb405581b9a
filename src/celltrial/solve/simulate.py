"""Batched simulation of a cohort, in one call or in segments between decision points.

:class:`Simulation` holds the state of every patient between calls, so a policy can
advance all patients to the next decision time, read their observables, schedule doses
(:meth:`Simulation.schedule`) and continue - with no recompilation and one kernel call per
segment. :func:`simulate` is the one-shot convenience, optionally in patient chunks to
bound memory.

Example:
    >>> from celltrial.model.library import exponential_model
    >>> res = simulate(exponential_model(), params={"r": [0.1, -0.1]}, t_end=10.0, save_at=[0.0, 10.0])
    >>> res["x"][:, -1].round(6).tolist()
    [2.718282, 0.367879]
"""

from __future__ import annotations

import math
import time

import numba
import numpy as np

from ..errors import InputError, Status
from ..kernels import CompiledModel, compile_model
from .cure import CureArrays
from .events import concat_sorted, drop_applied, pack_events
from .inputs import resolve_atol, resolve_initial, resolve_parameters
from .result import Result
from .summaries import pack_summaries


def compile(model) -> CompiledModel:  # noqa: A001 - the verb users expect
    """Compile ``model`` (or load it from the disk cache) and record the time taken.

    ``info['compile_s']`` is the time to obtain machine code in this process: seconds on a
    cold cache, a fraction of a second when numba's cache is warm.
    """
    if isinstance(model, CompiledModel):
        return model
    compiled = compile_model(model)
    if "compile_s" not in compiled.info:
        t0 = time.perf_counter()
        sim = Simulation(compiled, n_patients=1, save_at=[0.0], summaries=())
        sim.advance(1e-3)
        sim.result()
        compiled.info["compile_s"] = time.perf_counter() - t0
    return compiled


class Simulation:
    """State of a batch of patients that can be advanced piece by piece.

    Args:
        model: a Model or CompiledModel.
        params: see :func:`~celltrial.solve.inputs.resolve_parameters`.
        n_patients: batch size if ``params`` does not fix it.
        y0: None (model's initial expressions), dict of state overrides, or an array.
        events: events for every patient; ``patient_events``: one list per patient.
        t0: start time (days).
        save_at: times (days) at which to store trajectories; None stores none.
        save: names of quantities to store (default: all states and observables).
        summaries: in-kernel summaries (see :mod:`celltrial.solve.summaries`).
        rtol: relative tolerance; atol: per-state absolute tolerances (dict or scalar).
        hmax: largest step (days); max_steps: step budget per patient (accepted + rejected).
        threads: worker threads (default: numba's default, all cores).
    """

    def __init__(self, model, params=None, *, n_patients=None, y0=None, events=(), patient_events=None,
                 t0=0.0, save_at=None, save=None, summaries=(), rtol=1e-6, atol=None, hmax=math.inf,
                 max_steps=100_000, threads=None, check_bounds=True):
        self.compiled = model if isinstance(model, CompiledModel) else compile(model)
        self.model = self.compiled.model
        self.params = resolve_parameters(self.model, params, n_patients, check_bounds)
        n = self.params.shape[0]
        self.y = resolve_initial(self.compiled, self.params, y0)
        if not rtol > 0:
            raise InputError(f"rtol must be positive, got {rtol}")
        self.rtol, self.hmax, self.max_steps, self.threads = float(rtol), float(hmax), int(max_steps), threads
        self.atol = resolve_atol(self.model, atol)
        self.nonneg = np.array([s.nonnegative for s in self.model.states], dtype=np.bool_)
        self.events = pack_events(self.model, n, events, patient_events)
        self._setup_outputs(n, save_at, save)
        self.summaries = pack_summaries(self.model, summaries)
        self.acc = self.summaries.initial_accumulators(n)
        self.state = np.zeros((n, 4))
        self.state[:, 0] = t0
        self.state[:, 2] = -1.0
        self.ctrl = np.zeros((n, 5), np.int64)
        self.iptr = np.zeros((n, 2), np.int64)
        self.t0 = float(t0)
        self.cure = CureArrays.none(n)
        s = self.summaries
        self.compiled.kernels.start_batch(
            self.y, self.params, self.state, self.events.time, self.events.kind, self.events.index,
            self.events.value, self.events.count, self.iptr, s.kind, s.quantity, s.a, s.threshold, s.direction,
            self.acc,
        )

    def _setup_outputs(self, n, save_at, save):
        names = self.model.quantity_names
        save = names if save is None else tuple(save)
        unknown = [q for q in save if q not in names]
        if unknown:
            raise InputError(f"save: unknown quantities {unknown}; choose from {list(names)}")
        ts = np.asarray([] if save_at is None else save_at, dtype=np.float64).ravel()
        if ts.size and (np.any(np.diff(ts) < 0) or not np.isfinite(ts).all()):
            raise InputError("save_at must be finite and sorted in increasing order")
        self.save_t = np.ascontiguousarray(ts)
        self.save_names = tuple(save) if ts.size else ()
        self.save_q = np.array([names.index(q) for q in self.save_names], dtype=np.int64)
        # np.empty, not np.full: first touch of a large array is slow here (page faults), so the
        # kernel's own writes touch it in parallel; finish_batch writes NaN where nothing was saved.
        self.save_out = np.empty((n, ts.size, self.save_q.size))

    @property
    def n_patients(self) -> int:
        return self.params.shape[0]

    @property
    def t(self) -> np.ndarray:
        """(n,) current time of each patient (days)."""
        return self.state[:, 0].copy()

    @property
    def status(self) -> np.ndarray:
        return self.ctrl[:, 2].astype(np.int8)

    def observables(self) -> dict:
        """Current value of every state and observable, name -> (n,) array."""
        obs = np.zeros((self.n_patients, max(len(self.model.observables), 1)))
        self.compiled.kernels.observe_batch(self.y, self.params, obs)
        out = {name: self.y[:, j].copy() for j, name in enumerate(self.model.state_names)}
        out.update({name: obs[:, j].copy() for j, name in enumerate(self.model.observable_names)})
        return out

    def set_cure(self, cure: CureArrays) -> None:
        """Let the solver run the stochastic cure of ``cure`` (built for these patients) from now on."""
        if cure.birth.shape[0] != self.n_patients:
            raise InputError(f"cure arrays are for {cure.birth.shape[0]} patients, the simulation has "
                             f"{self.n_patients}")
        self.cure = cure

    def schedule(self, events=(), patient_events=None) -> None:
        """Add events (doses, parameter switches) for the future; times before now are refused."""
        new = pack_events(self.model, self.n_patients, events, patient_events)
        real = np.isfinite(new.time)
        if (real & (new.time < self.state[:, :1])).any():
            i = int(np.argwhere(real & (new.time < self.state[:, :1]))[0, 0])
            raise InputError(f"cannot schedule an event before patient {i}'s current time {self.state[i, 0]:g}")
        # drop events already applied first, so repeated scheduling keeps the arrays narrow
        self.events = concat_sorted(drop_applied(self.events, self.iptr[:, 0]), new)
        self.iptr[:, 0] = 0

    def advance(self, t_end: float) -> Simulation:
        """Integrate every patient still running to ``t_end`` (days); events at t_end wait."""
        if not math.isfinite(t_end) or t_end < self.state[:, 0].max(initial=self.t0):
            raise InputError(f"advance: t_end={t_end} must be finite and not before the current time")
        k, s, e = self.compiled.kernels, self.summaries, self.events
        previous = numba.get_num_threads()
        if self.threads is not None:
            numba.set_num_threads(int(self.threads))
        try:
            k.advance_batch(
                float(t_end), self.y, self.params, self.state, self.ctrl, e.time, e.kind, e.index, e.value,
                e.count, self.iptr, self.save_t, self.save_q, self.save_out, s.kind, s.quantity, s.a, s.b,
                s.threshold, s.direction, self.acc, self.atol, self.rtol, self.nonneg, self.hmax, self.max_steps,
                # interleaved blocks (several per thread, for balance) each reuse one set of buffers
                min(self.n_patients, 8 * numba.get_num_threads()), *self.cure.args(),
            )
        finally:
            numba.set_num_threads(previous)
        return self

    def result(self) -> Result:
        """Outputs so far (fills values that fall exactly on the final time; NaN where none yet).

        The arrays are shared with this Simulation, not copied (they can be hundreds of MB):
        a later :meth:`advance` fills further save times in place.
        """
        s = self.summaries
        self.compiled.kernels.finish_batch(
            self.y, self.params, self.state, self.ctrl, self.iptr, self.save_t, self.save_q, self.save_out,
            s.kind, s.quantity, s.a, self.acc,
        )
        return Result(
            t=self.save_t.copy(),
            names=self.save_names,
            values=self.save_out,
            summaries=s.unpack(self.acc),
            status=self.status,
            n_steps=self.ctrl[:, 3].copy(),
            n_rejected=self.ctrl[:, 4].copy(),
            info={"rtol": self.rtol, "atol": dict(zip(self.model.state_names, self.atol.tolist(), strict=True)),
                  "model": self.model.name},
        )


def simulate(model, params=None, *, t_end, n_patients=None, chunk_size=None, patient_events=None,
             y0=None, **options) -> Result:
    """Simulate a cohort from ``t0`` to ``t_end`` days and return a :class:`Result`.

    ``chunk_size`` runs the patients in consecutive chunks (bounding memory for trajectories);
    results are identical for every chunk size. Other options as for :class:`Simulation`.
    """
    compiled = compile(model)
    full = resolve_parameters(compiled.model, params, n_patients, options.pop("check_bounds", True))
    n = full.shape[0]
    size = n if not chunk_size else int(chunk_size)
    if size < 1:
        raise InputError(f"chunk_size must be >= 1, got {chunk_size}")
    parts = []
    for lo in range(0, n, size):
        sl = slice(lo, min(lo + size, n))
        sim = Simulation(
            compiled,
            full[sl],
            y0=_slice_rows(y0, sl, n),
            patient_events=None if patient_events is None else patient_events[sl],
            check_bounds=False,
            **options,
        )
        parts.append(sim.advance(t_end).result())
    result = parts[0] if len(parts) == 1 else Result.concatenate(parts)
    result.info["status_ok"] = int((result.status == Status.OK).sum())
    return result


def _slice_rows(y0, sl, n):
    if y0 is None:
        return None
    if isinstance(y0, dict):
        return {k: (v[sl] if np.ndim(v) > 0 else v) for k, v in y0.items()}
    arr = np.asarray(y0)
    return arr[sl] if arr.ndim == 2 else arr
