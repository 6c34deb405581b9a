"""Pareto ranking of candidates (non-dominated sorting) and the order successive halving promotes in.

Points are rows of objective values turned into "smaller is better" (maximised columns negated).
A point dominates another when it is no worse in every objective and better in one. Infeasible
points (a constraint not met, or a failed evaluation) rank after every feasible one.

Example:
    >>> pts = np.array([[1.0, 3.0], [2.0, 2.0], [3.0, 3.0], [1.0, 1.0]])
    >>> nondominated_ranks(pts).tolist()
    [1, 1, 2, 0]
    >>> order(pts, np.array([True, True, True, False])).tolist()
    [0, 1, 2, 3]
"""

from __future__ import annotations

import numpy as np


def minimised(values: np.ndarray, directions) -> np.ndarray:
    """(n, m) objective values with maximised columns negated (so smaller is always better)."""
    sign = np.array([-1.0 if d == "maximize" else 1.0 for d in directions])
    return np.asarray(values, dtype=float).reshape(-1, len(sign)) * sign


def dominates(a: np.ndarray, b: np.ndarray) -> bool:
    """True when ``a`` is no worse than ``b`` everywhere and better somewhere (minimising)."""
    return bool(np.all(a <= b) and np.any(a < b))


def nondominated_ranks(points: np.ndarray) -> np.ndarray:
    """Front number of each point: 0 for the Pareto front, 1 for the front once it is removed, ..."""
    points = np.asarray(points, dtype=float)
    n = points.shape[0]
    ranks = np.full(n, -1)
    left, front = set(range(n)), 0
    while left:
        current = [i for i in left if not any(dominates(points[j], points[i]) for j in left if j != i)]
        ranks[current] = front
        left -= set(current)
        front += 1
    return ranks


def order(points: np.ndarray, feasible: np.ndarray) -> np.ndarray:
    """Indices from best to worst: feasible first, then by front, then by the sum of per-objective ranks.

    The last key spreads the order within a front in favour of points good in every objective (a
    simple, scale-free tie-break; the front itself is what is reported).
    """
    points = np.asarray(points, dtype=float)
    feasible = np.asarray(feasible, dtype=bool)
    safe = np.where(np.isfinite(points), points, np.inf)
    ranks = np.full(points.shape[0], 10**9)
    if feasible.any():
        ranks[feasible] = nondominated_ranks(safe[feasible])
    spread = np.argsort(np.argsort(safe, axis=0, kind="stable"), axis=0).sum(axis=1)
    return np.lexsort((np.arange(points.shape[0]), spread, ranks, ~feasible))


def front(points: np.ndarray, feasible: np.ndarray) -> np.ndarray:
    """Indices of the feasible non-dominated points (empty when none is feasible)."""
    feasible = np.asarray(feasible, dtype=bool)
    idx = np.flatnonzero(feasible)
    if idx.size == 0:
        return idx
    return idx[nondominated_ranks(np.asarray(points, dtype=float)[idx]) == 0]
