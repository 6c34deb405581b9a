"""Stochastic extinction of small cell populations between integration segments (cure).

An ODE never reaches zero, so a tumour driven down to a few cells would always regrow. As in
Kimmel 2021's hybrid simulation, a clone below ``threshold`` cells (100 by default) is
treated as a linear birth-death process: over each check interval of length dt we know its
per-cell birth rate b and, from the deterministic path n0 -> n1, its mean net rate
r = ln(n1/n0)/dt, so its death rate d = b - r. The probability that all n0 lineages are
extinct at the end of the interval is p^n0 with Kendall's closed form

    p = d (e^{r dt} - 1) / (b e^{r dt} - d)

(exact for constant rates; here it uses the interval's mean rates). A uniform draw from the
patient's own "extinction" stream decides; an extinct clone is set to 0 and a surviving one
to n1 / (1 - P), its size conditional on survival, so the expected size matches the ODE.

Draws come in as an (n_patients, n_checks * n_clones) block, one fixed column per check and
clone, so a patient's fate depends only on (seed, patient), never on chunking or workers.

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
from ..solve.events import SetState

#: Kimmel 2021 switched to a birth-death process below about 100 cells (science.md 1.1, [R]).
DEFAULT_THRESHOLD = 100.0
_NEGLIGIBLE = 1e-12


@dataclass(frozen=True)
class Extinction:
    """A population that can go extinct: its state and its per-cell birth rate (expression)."""

    state: str
    birth: str


def extinction_probability(n0, n1, birth, dt):
    """Probability (array) that a birth-death population of n0 cells is extinct after ``dt`` days.

    ``n1`` is the deterministic size at the end and ``birth`` the per-cell birth rate (1/day).
    """
    n0, n1, b = (np.asarray(x, dtype=np.float64) for x in (n0, n1, birth))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        growth = np.where(n0 > 0, n1 / n0, 1.0)  # e^{r dt}
        r = np.log(np.maximum(growth, 1e-300)) / dt
        d = np.maximum(b - r, 0.0)
        flat = np.abs(r * dt) < 1e-9
        p_flat = b * dt / (1.0 + b * dt)
        p = np.where(flat, p_flat, d * (growth - 1.0) / (b * growth - d))
        p = np.clip(np.where(n1 <= 0, 1.0, p), 0.0, 1.0)
        prob = np.where(n0 > 0, p ** n0, 0.0)
    return prob


def _birth_functions(model, clones):
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


def run_with_extinction(sim, t_end: float, clones, uniforms, *, check_every: float = 1.0,
                        threshold: float = DEFAULT_THRESHOLD) -> dict:
    """Advance ``sim`` to ``t_end`` in steps of ``check_every`` days, drawing extinctions between steps.

    Args:
        sim: a :class:`~celltrial.solve.Simulation` (any current time).
        t_end: final time (days).
        clones: :class:`Extinction` items (e.g. from the model's tumour clones).
        uniforms: (n_patients, n_checks * len(clones)) uniforms on [0, 1) from each patient's
            "extinction" stream, with n_checks = :func:`checks_needed`.
    Returns:
        {state: (n,) time of extinction in days, inf if never}.
    """
    t0 = float(sim.t.min())
    n_checks = checks_needed(t0, t_end, check_every)
    clones = list(clones)
    uniforms = np.asarray(uniforms, dtype=np.float64)
    if uniforms.shape != (sim.n_patients, n_checks * len(clones)):
        raise InputError(f"extinction: uniforms must have shape {(sim.n_patients, n_checks * len(clones))} "
                         f"({n_checks} checks x {len(clones)} clones), got {uniforms.shape}")
    births = [np.broadcast_to(f(*sim.params.T), (sim.n_patients,)) for f in _birth_functions(sim.model, clones)]
    index = [sim.model.state_names.index(c.state) for c in clones]
    previous = [sim.y[:, j].copy() for j in index]
    extinct_at = {c.state: np.full(sim.n_patients, np.inf) for c in clones}
    for k in range(n_checks):
        t_next = min(t0 + (k + 1) * check_every, float(t_end))
        dt = t_next - float(sim.t.min())
        sim.advance(t_next)
        running = sim.status == 0
        events = {}
        for c, (clone, j) in enumerate(zip(clones, index, strict=True)):
            n0, n1 = previous[c], sim.y[:, j]
            small = running & (n0 > 0) & (np.minimum(n0, n1) < threshold)
            prob = np.zeros(sim.n_patients)
            prob[small] = extinction_probability(n0[small], n1[small], births[c][small], dt)
            dies = small & (uniforms[:, k * len(clones) + c] < prob)
            rescale = small & ~dies & (prob > _NEGLIGIBLE)
            for i in np.flatnonzero(dies):
                events.setdefault(i, {})[clone.state] = 0.0
                extinct_at[clone.state][i] = t_next
            for i in np.flatnonzero(rescale):
                events.setdefault(i, {})[clone.state] = float(n1[i] / (1.0 - prob[i]))
        if events:
            per_patient = [[] for _ in range(sim.n_patients)]
            for i, values in events.items():
                per_patient[i].append(SetState(t_next, values))
            sim.schedule(patient_events=per_patient)
            sim.advance(t_next)  # apply them now, so the next interval starts from the new sizes
        previous = [sim.y[:, j].copy() for j in index]
    return extinct_at


def checks_needed(t0: float, t_end: float, check_every: float) -> int:
    """Number of extinction checks (uniform draws per clone) from ``t0`` to ``t_end``."""
    if not (check_every > 0 and math.isfinite(check_every)):
        raise InputError(f"check_every must be a positive number of days, got {check_every}")
    if t_end < t0:
        raise InputError(f"t_end={t_end} is before the current time {t0}")
    return max(1, math.ceil((t_end - t0) / check_every - 1e-9)) if t_end > t0 else 0
