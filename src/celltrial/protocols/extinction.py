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

Draws come in as an (n_patients, n_checks * n_clones * 3) block of uniforms from each patient's
own "extinction" stream (three per check and clone: rounding to an integer, survivors, their
sizes; all by inverse CDF), so a patient's fate depends only on (seed, patient), never on
chunking or workers.

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
                        threshold: float = DEFAULT_THRESHOLD, log: list | None = None, on_check=None) -> dict:
    """Advance ``sim`` to ``t_end`` in steps of ``check_every`` days, drawing extinctions between steps.

    Args:
        sim: a :class:`~celltrial.solve.Simulation` (any current time).
        t_end: final time (days).
        clones: :class:`Extinction` items (e.g. from the model's tumour clones).
        uniforms: (n_patients, n_checks * len(clones) * DRAWS_PER_CHECK) uniforms on [0, 1) from
            each patient's "extinction" stream, with n_checks = :func:`checks_needed`.
    Returns:
        {state: (n,) time of extinction in days, inf if never}.
    """
    t0 = float(sim.t.min())
    n_checks = checks_needed(t0, t_end, check_every)
    clones = list(clones)
    width = n_checks * len(clones) * DRAWS_PER_CHECK
    uniforms = np.asarray(uniforms, dtype=np.float64)
    if uniforms.shape != (sim.n_patients, width):
        raise InputError(f"extinction: uniforms must have shape {(sim.n_patients, width)} ({n_checks} checks x "
                         f"{len(clones)} clones x {DRAWS_PER_CHECK} draws), got {uniforms.shape}")
    births = [np.broadcast_to(f(*sim.params.T), (sim.n_patients,)) for f in _birth_functions(sim.model, clones)]
    index = [sim.model.state_names.index(c.state) for c in clones]
    extinct_at = {c.state: np.full(sim.n_patients, np.inf) for c in clones}
    for k in range(n_checks):
        t_start = float(sim.t.min())
        t_next = min(t0 + (k + 1) * check_every, float(t_end))
        previous = _round_small_clones(sim, clones, index, uniforms[:, k * len(clones) * DRAWS_PER_CHECK:],
                                       threshold, t_start, extinct_at, log)
        sim.advance(t_next)
        running = sim.status == 0
        events = {}
        for c, (clone, j) in enumerate(zip(clones, index, strict=True)):
            n0, n1 = previous[c], sim.y[:, j]
            small = running & (n0 > 0) & (n0 < threshold)  # n0 was rounded to an integer above
            if not small.any():
                continue
            col = (k * len(clones) + c) * DRAWS_PER_CHECK
            drawn = birth_death_draw(n0[small], n1[small], births[c][small], t_next - t_start,
                                     uniforms[small, col + 1], uniforms[small, col + 2])
            for i, value in zip(np.flatnonzero(small), drawn, strict=True):
                events.setdefault(i, {})[clone.state] = float(value)
                if value == 0:
                    extinct_at[clone.state][i] = t_next
        if events:
            _set_states(sim, events, t_next, log)
            sim.advance(t_next)  # apply them now: the policies (on_check) see the drawn sizes
        if on_check is not None:
            on_check(t_next, sim)
    return extinct_at


def _round_small_clones(sim, clones, index, uniforms, threshold, t_start, extinct_at, log) -> list:
    """Round each clone below ``threshold`` cells to an integer (stochastically, unbiased) in the
    simulation itself, so the interval's ODE and its birth-death draw start from the same count.

    A clone rounded to no cells is extinct now; cells that flow in later (from another niche)
    are rounded again at the next check. Returns the (n,) counts per clone.
    """
    running = sim.status == 0
    counts, changes = [], {}
    for c, (clone, j) in enumerate(zip(clones, index, strict=True)):
        n = sim.y[:, j].copy()
        small = running & (n > 0) & (n < threshold)
        u = uniforms[:, c * DRAWS_PER_CHECK]
        n[small] = np.floor(n[small]) + (u[small] < n[small] - np.floor(n[small]))
        for i in np.flatnonzero(small):
            changes.setdefault(i, {})[clone.state] = float(n[i])
            if n[i] == 0:
                extinct_at[clone.state][i] = t_start
        counts.append(n)
    if changes:
        # applied on entry to the next advance (events due at a patient's time come first); a
        # separate zero-length advance here would start every patient of the chunk with an initial
        # step sized for a zero-length interval, so results would depend on the chunking
        _set_states(sim, changes, t_start, log)
    return counts


def _set_states(sim, changes: dict, t: float, log) -> None:
    """Schedule {patient: {state: value}} as SetState events at ``t`` (logged for replay)."""
    per_patient = [[] for _ in range(sim.n_patients)]
    for i, values in changes.items():
        per_patient[i].append(SetState(t, values))
        if log is not None:
            log.append((i, per_patient[i][-1]))
    sim.schedule(patient_events=per_patient)


def checks_needed(t0: float, t_end: float, check_every: float) -> int:
    """Number of extinction checks (uniform draws per clone) from ``t0`` to ``t_end``."""
    if not (check_every > 0 and math.isfinite(check_every)):
        raise InputError(f"check_every must be a positive number of days, got {check_every}")
    if t_end < t0:
        raise InputError(f"t_end={t_end} is before the current time {t0}")
    return max(1, math.ceil((t_end - t0) / check_every - 1e-9)) if t_end > t0 else 0
