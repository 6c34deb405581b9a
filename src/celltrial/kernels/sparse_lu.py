"""Symbolic planning of a sparse LU factorisation for the Rosenbrock iteration matrix.

The matrix ``M = I/(h*gamma) - J`` has the sparsity of the model Jacobian plus the diagonal.
We choose an elimination order by greedy minimum degree, compute the fill-in once, and
emit straight-line code (see :mod:`celltrial.kernels.codegen`): no index arrays, no loops
and no work on structural zeros. Written by hand because no pip-installable library
generates straight-line sparse LU code for numba; the plan is tiny (n <~ 100).

No pivoting is done at run time. The iteration matrix tends to the identity as h -> 0, so
a tiny or non-finite pivot makes the solver reject the step and retry with a smaller h.

Example:
    >>> plan = plan_lu(3, {(0, 1), (1, 2)})
    >>> plan.n, len(plan.slots)
    (3, 5)
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LUPlan:
    """Elimination plan in permuted coordinates.

    Attributes:
        n: matrix size.
        perm: perm[r] is the original state index placed at permuted row/column r.
        slots: {(r, c): k} storage slot of each structurally non-zero entry (after fill-in).
        factor_ops: sequence of ("div", ik, kk) and ("sub", ij, ik, kj) slot operations.
        pivots: slot of each diagonal entry, in elimination order.
    """

    n: int
    perm: tuple
    slots: dict
    factor_ops: tuple
    pivots: tuple

    def lower(self, r):
        return [(c, self.slots[(r, c)]) for c in range(r) if (r, c) in self.slots]

    def upper(self, r):
        return [(c, self.slots[(r, c)]) for c in range(r + 1, self.n) if (r, c) in self.slots]

    def flops(self) -> tuple[int, int]:
        """(flops of one factorisation, flops of one solve), counting mul/add/div as one each."""
        factor = sum(1 if op[0] == "div" else 2 for op in self.factor_ops)
        solve = sum(2 * len(self.lower(r)) + 2 * len(self.upper(r)) + 1 for r in range(self.n))
        return factor, solve


def _min_degree_order(n, pattern):
    neighbours = {i: set() for i in range(n)}
    for i, j in pattern:
        if i != j:
            neighbours[i].add(j)
            neighbours[j].add(i)
    order = []
    remaining = set(range(n))
    while remaining:
        node = min(remaining, key=lambda v: (len(neighbours[v] & remaining), v))
        live = neighbours[node] & remaining
        for a in live:  # eliminating `node` connects its remaining neighbours
            neighbours[a] |= live - {a}
        order.append(node)
        remaining.remove(node)
    return tuple(order)


def plan_lu(n: int, pattern) -> LUPlan:
    """Plan the factorisation of an n x n matrix with the given non-zero pattern (plus diagonal)."""
    perm = _min_degree_order(n, pattern)
    where = {orig: r for r, orig in enumerate(perm)}
    nz = {(where[i], where[j]) for i, j in pattern} | {(r, r) for r in range(n)}
    ops = []
    for k in range(n):
        rows = sorted(i for i in range(k + 1, n) if (i, k) in nz)
        cols = sorted(j for j in range(k + 1, n) if (k, j) in nz)
        for i in rows:
            ops.append(("div", (i, k), (k, k)))
            for j in cols:
                nz.add((i, j))  # fill-in
                ops.append(("sub", (i, j), (i, k), (k, j)))
    slots = {rc: s for s, rc in enumerate(sorted(nz))}
    factor_ops = tuple((op[0], *(slots[rc] for rc in op[1:])) for op in ops)
    pivots = tuple(slots[(k, k)] for k in range(n))
    return LUPlan(n=n, perm=perm, slots=slots, factor_ops=factor_ops, pivots=pivots)
