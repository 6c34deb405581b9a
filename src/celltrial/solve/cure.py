"""Arrays of the stochastic cure that the compiled solver runs between its steps.

The solver checks small clones on a grid of check days inside the kernel (see
``kernels/_cure_template.py``): at each check day it draws the exact birth-death size of
every clone that was below the threshold at the previous check and rounds every clone now
below it to an integer. :class:`CureArrays` holds what that needs per patient; the
protocol layer (:func:`celltrial.protocols.run_with_extinction`) fills it.

Example:
    >>> cure = CureArrays.none(3)
    >>> cure.n_clones, cure.birth.shape
    (0, (3, 0))
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InputError

LOG_FIELDS = 3  # (day, state index, value) per change


@dataclass
class CureArrays:
    """Per-patient state of the in-kernel stochastic cure (shapes: n patients, c clones).

    Attributes:
        idx: (c,) state indices of the clones.
        glob: [t0, every, horizon, threshold]: check day k is min(t0 + k * every, horizon).
        n_checks: index of the last check (the horizon).
        birth: (n, c) per-cell birth rates (1/day).
        n0: (n, c) clone sizes at the last check (after rounding).
        ext: (n, c) extinction days (inf if never).
        ints: (n, 3) next check index, uniforms used, log entries written.
        rng: (n, 4) uint64 PCG64 state [state hi, state lo, inc hi, inc lo] of each patient's stream.
        table: (n, w) explicit uniforms (w = 0: use the streams).
        log: (n, capacity, 3) every change as (day, state index, value), if capacity > 0.
    """

    idx: np.ndarray
    glob: np.ndarray
    n_checks: int
    birth: np.ndarray
    n0: np.ndarray
    ext: np.ndarray
    ints: np.ndarray
    rng: np.ndarray
    table: np.ndarray
    log: np.ndarray

    @property
    def n_clones(self) -> int:
        return int(self.idx.size)

    @classmethod
    def none(cls, n: int) -> CureArrays:
        """No clones: the kernel skips every check."""
        return cls(np.zeros(0, np.int64), np.zeros(4), 0, np.zeros((n, 0)), np.zeros((n, 0)), np.zeros((n, 0)),
                   np.zeros((n, 3), np.int64), np.zeros((n, 4), np.uint64), np.zeros((n, 0)),
                   np.zeros((n, 0, LOG_FIELDS)))

    @classmethod
    def build(cls, idx, birth, *, t0: float, every: float, horizon: float, n_checks: int, threshold: float,
              rng=None, table=None, log_capacity: int = 0) -> CureArrays:
        """Cure arrays for n patients; uniforms from ``rng`` (n, 4) PCG64 states or an (n, w) ``table``."""
        birth = np.ascontiguousarray(birth, dtype=np.float64)
        n, c = birth.shape
        if (rng is None) == (table is None):
            raise InputError("stochastic cure: give either the patients' streams (rng) or a table of uniforms")
        if rng is not None:
            rng = np.ascontiguousarray(rng, dtype=np.uint64)
            if rng.shape != (n, 4):
                raise InputError(f"stochastic cure: rng must have shape {(n, 4)}, got {rng.shape}")
            table = np.zeros((n, 0))
        else:
            table = np.ascontiguousarray(table, dtype=np.float64)
            rng = np.zeros((n, 4), np.uint64)
        return cls(np.asarray(idx, dtype=np.int64), np.array([t0, every, horizon, threshold], dtype=np.float64),
                   int(n_checks), birth, np.zeros((n, c)), np.full((n, c), np.inf), np.zeros((n, 3), np.int64),
                   rng, table, np.zeros((n, int(log_capacity), LOG_FIELDS)))

    def args(self) -> tuple:
        """The kernel's cu_* arguments, in order."""
        return (self.idx, self.glob, self.n_checks, self.birth, self.n0, self.ext, self.ints, self.rng, self.table,
                self.log)

    def changes(self) -> list:
        """Logged changes as (patient row, day, state index, value), in order per patient."""
        written = self.ints[:, 2]
        if self.log.shape[1] and (written > self.log.shape[1]).any():
            raise InputError(f"stochastic cure: the change log overflowed ({int(written.max())} changes, capacity "
                             f"{self.log.shape[1]}); pass a larger log_capacity")
        out = []
        for i in np.flatnonzero(written):
            for day, j, value in self.log[i, : written[i]]:
                out.append((int(i), float(day), int(j), float(value)))
        return out
