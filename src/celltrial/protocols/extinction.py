"""Stochastic extinction of small cell populations between integration segments (cure).

An ODE never reaches zero, so a tumour driven down to a few cells would always regrow. As in
Kimmel 2021's hybrid simulation, a clone below ``threshold`` cells (100 by default) is
treated as an integer linear birth-death process. Over each check interval of length dt we
know its per-cell birth rate b and, from the deterministic path n0 -> n1, its mean net rate
r = ln(n1/n0)/dt, so its death rate d = b - r. For constant rates the size after dt is
drawn exactly (Kendall 1948): each of the n0 cells leaves no descendants with probability

    alpha = d (e^{r dt} - 1) / (b e^{r dt} - d),

and a surviving lineage has a geometric size with parameter beta = b (e^{r dt} - 1) / (b e^{r dt} - d),
so n(dt) = S + NegBin(S, 1 - beta) with S ~ Binomial(n0, 1 - alpha); its mean is n0 e^{r dt},
the ODE's value. The integer result replaces the state, and the ODE continues from it; a clone
that reaches 0 is extinct for good (its growth is proportional to its size). Rates are the
interval's mean rates (exact when they are constant over dt).

Draws use uniform number (check * n_clones + clone) * 3 + d of each patient's own "extinction"
stream (three per check and clone: rounding to an integer, survivors, their sizes; all by
inverse CDF), so a patient's fate depends only on (seed, patient), never on chunking or
workers. The checks run inside the compiled solver, which steps the patient's PCG64 stream
itself (``kernels/_cure_template.py``); :func:`birth_death_draw` is the same draw with scipy,
kept as the reference the compiled one is tested against.

Example:
    >>> float(extinction_probability(1.0, 1.0, 0.0, 1.0))   # one cell, no birth, no death
    0.0
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import sympy as sp

from ..errors import InputError, did_you_mean
from ..solve.cure import CureArrays
from ..solve.events import SetState

#: Kimmel 2021 switched to a birth-death process below about 100 cells (science.md 1.1, [R]).
DEFAULT_THRESHOLD = 100.0
DRAWS_PER_CHECK = 3


@dataclass(frozen=True)
class Extinction:
    """A population that can go extinct: its state and its per-cell birth rate (expression)."""

    state: str
    birth: str


def _kendall(growth, b, dt):
    """(alpha, beta) of a linear birth-death process over dt with e^{r dt} = growth, birth b."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        r = np.log(np.maximum(growth, 1e-300)) / dt
        d = np.maximum(b - r, 0.0)
        flat = np.abs(r * dt) < 1e-9
        denominator = b * growth - d
        alpha = np.where(flat, b * dt / (1.0 + b * dt), d * (growth - 1.0) / denominator)
        beta = np.where(flat, b * dt / (1.0 + b * dt), b * (growth - 1.0) / denominator)
    alpha = np.clip(np.where(growth <= 0, 1.0, alpha), 0.0, 1.0)
    return alpha, np.clip(np.nan_to_num(beta, nan=0.0), 0.0, 1.0 - 1e-12)


def extinction_probability(n0, n1, birth, dt):
    """Probability (array) that a birth-death population of n0 cells is extinct after ``dt`` days.

    ``n1`` is the deterministic size at the end and ``birth`` the per-cell birth rate (1/day).
    """
    n0, n1, b = (np.asarray(x, dtype=np.float64) for x in (n0, n1, birth))
    growth = np.where(n0 > 0, n1 / np.where(n0 > 0, n0, 1.0), 1.0)
    alpha, _ = _kendall(growth, b, dt)
    return np.where(n0 > 0, alpha ** n0, 0.0)


def birth_death_draw(n0, n1, birth, dt, u_survive, u_size):
    """Integer sizes after ``dt`` of birth-death populations of integer size ``n0`` (inverse CDF)."""
    # scipy.stats costs about half a second to import; only a run with small clones needs it
    from scipy import stats

    n0 = np.asarray(n0, dtype=np.float64)
    growth = np.where(n0 > 0, np.asarray(n1, float) / np.where(n0 > 0, n0, 1.0), 1.0)
    alpha, beta = _kendall(growth, np.asarray(birth, float), dt)
    survivors = stats.binom.ppf(u_survive, n0, 1.0 - alpha)
    survivors = np.where(n0 > 0, np.nan_to_num(survivors, nan=0.0), 0.0)
    extra = np.where(survivors > 0, stats.nbinom.ppf(u_size, np.maximum(survivors, 1.0), 1.0 - beta), 0.0)
    return survivors + np.nan_to_num(extra, nan=0.0)


def _birth_functions(model, clones):
    """Numpy functions of the parameters giving each clone's per-cell birth rate (cached per model:
    building them with sympy costs about 50 ms, once per chunk otherwise)."""
    key = (tuple(model.state_names), tuple(model.parameter_names), tuple(clones))
    if key not in _BIRTHS:
        _BIRTHS[key] = _build_birth_functions(model, clones)
    return _BIRTHS[key]


_BIRTHS: dict = {}


def _build_birth_functions(model, clones):
    names = model.parameter_names
    symbols = {n: sp.Symbol(n) for n in names}
    out = []
    for clone in clones:
        if clone.state not in model.state_names:
            raise InputError(f"extinction: unknown state {clone.state!r}{did_you_mean(clone.state, model.state_names)}")
        expr = sp.sympify(clone.birth, locals=symbols)
        unknown = sorted(str(s) for s in expr.free_symbols if str(s) not in names)
        if unknown:
            raise InputError(f"extinction: birth rate of {clone.state!r} uses unknown parameters {unknown}")
        out.append(sp.lambdify([symbols[n] for n in names], expr, "numpy"))
    return out


def run_with_extinction(sim, t_end: float, clones, uniforms=None, *, streams=None, check_every: float = 1.0,
                        threshold: float = DEFAULT_THRESHOLD, log: list | None = None, on_check=None,
                        wake_days=None) -> dict:
    """Advance ``sim`` to ``t_end`` with the stochastic cure checked every ``check_every`` days.

    The checks run inside the compiled solver (``kernels/_cure_template.py``): at each check day
    every clone that was below ``threshold`` at the previous check gets its exact birth-death size
    and every clone now below it is rounded to an integer. The integrator lands on check days only
    while a clone is small, so a plain arm is one kernel call however long the follow-up.

    Args:
        sim: a :class:`~celltrial.solve.Simulation` (any current time).
        t_end: final time (days).
        clones: :class:`Extinction` items (e.g. from the model's tumour clones).
        uniforms: (n_patients, n_checks * len(clones) * DRAWS_PER_CHECK) uniforms on [0, 1), with
            n_checks = :func:`checks_needed`; or None with ``streams``.
        streams: (n_patients, 4) PCG64 states of each patient's "extinction" stream
            (:func:`celltrial.cohorts.patient_pcg_states`): the same numbers as ``uniforms`` drawn
            from them, without building the table.
        log: if given, receives every drawn or rounded size as (patient row, SetState), for replay.
        on_check: ``on_check(day, sim)`` after the checks of each day in ``wake_days``.
        wake_days: days the hook needs (default: every check day); the run stops only there.
    Returns:
        {state: (n,) time of extinction in days, inf if never}.
    """
    t0 = float(sim.t.min())
    n_checks = checks_needed(t0, t_end, check_every)
    clones = list(clones)
    if uniforms is not None:
        width = n_checks * len(clones) * DRAWS_PER_CHECK
        uniforms = np.asarray(uniforms, dtype=np.float64)
        if uniforms.shape != (sim.n_patients, width):
            raise InputError(f"extinction: uniforms must have shape {(sim.n_patients, width)} ({n_checks} checks x "
                             f"{len(clones)} clones x {DRAWS_PER_CHECK} draws), got {uniforms.shape}")
    births = [np.broadcast_to(f(*sim.params.T), (sim.n_patients,)) for f in _birth_functions(sim.model, clones)]
    index = [sim.model.state_names.index(c.state) for c in clones]
    capacity = (n_checks + 1) * len(clones) * 2 if log is not None else 0
    cure = CureArrays.build(index, np.stack(births, axis=1) if births else np.zeros((sim.n_patients, 0)), t0=t0,
                            every=float(check_every), horizon=float(t_end), n_checks=n_checks,
                            threshold=float(threshold), rng=streams, table=uniforms, log_capacity=capacity)
    sim.set_cure(cure)
    for day in _stops(t0, float(t_end), float(check_every), n_checks, on_check, wake_days):
        sim.advance(day)
        if on_check is not None:
            on_check(day, sim)
    if log is not None:
        names = sim.model.state_names
        log.extend((i, SetState(day, {names[j]: value})) for i, day, j, value in cure.changes())
    return {c.state: cure.ext[:, k].copy() for k, c in enumerate(clones)}


def _stops(t0, t_end, every, n_checks, on_check, wake_days) -> list:
    """Days the run stops at: the hook's days (every check day by default) and the end."""
    if on_check is None:
        return [t_end] if t_end > t0 else []
    if wake_days is None:
        return [min(t0 + (k + 1) * every, t_end) for k in range(n_checks)]
    days = np.asarray(wake_days, dtype=float)
    return np.unique(np.append(days[(days > t0) & (days < t_end)], t_end)).tolist()


def checks_needed(t0: float, t_end: float, check_every: float) -> int:
    """Number of extinction checks (uniform draws per clone) from ``t0`` to ``t_end``."""
    if not (check_every > 0 and math.isfinite(check_every)):
        raise InputError(f"check_every must be a positive number of days, got {check_every}")
    if t_end < t0:
        raise InputError(f"t_end={t_end} is before the current time {t0}")
    return max(1, math.ceil((t_end - t0) / check_every - 1e-9)) if t_end > t0 else 0
