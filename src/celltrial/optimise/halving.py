"""Successive halving across patient counts: promising candidates earn more virtual patients.

Rung ``k`` evaluates a candidate on ``rungs[k]`` patients (growing by ``factor``). Asynchronous
successive halving (ASHA, Li et al. 2020): whenever the best ``1/factor`` of the candidates seen
at rung ``k`` (feasible, by Pareto front, then by the sum of per-objective ranks) holds one not yet
evaluated at rung ``k+1``, it is promoted (higher rungs first); otherwise a new candidate is drawn.
Promotion depends only on the stored evaluations, so a resumed study promotes exactly what an
uninterrupted one would have.

Example:
    >>> rows = [{"trial": t, "rung": 0, "values": {"cost": c}, "feasible": True}
    ...         for t, c in enumerate([5.0, 3.0, 4.0, 1.0])]
    >>> next_promotion(rows, [10, 20], 2, ["cost"], ["minimize"])
    (3, 1)
    >>> next_promotion(rows + [{"trial": 3, "rung": 1, "values": {"cost": 1.2}, "feasible": True}],
    ...                [10, 20], 2, ["cost"], ["minimize"])
    (1, 1)
"""

from __future__ import annotations

import numpy as np

from .pareto import front, minimised, order


def points(rows: list, columns: list, directions: list) -> np.ndarray:
    """(n, m) "smaller is better" objective values of ``rows`` (NaN where a value is missing)."""
    values = [[r["values"].get(c, np.nan) for c in columns] for r in rows]
    return minimised(np.array(values, dtype=float).reshape(len(rows), len(columns)), directions)


def feasible(rows: list) -> np.ndarray:
    return np.array([bool(r["feasible"]) for r in rows], dtype=bool)


def next_promotion(rows: list, rungs: list, factor: int, columns: list, directions: list) -> tuple | None:
    """(trial, rung) of the next promotion, or None when a new candidate should be drawn."""
    done = {(r["trial"], r["rung"]) for r in rows}
    for k in reversed(range(len(rungs) - 1)):
        at_k = [r for r in rows if r["rung"] == k]
        top = len(at_k) // factor
        if top == 0:
            continue
        ok = feasible(at_k)
        for i in order(points(at_k, columns, directions), ok)[:top]:
            if ok[i] and (at_k[i]["trial"], k + 1) not in done:
                return at_k[i]["trial"], k + 1
    return None


def top_rung(rows: list) -> int | None:
    """The highest rung holding a feasible evaluation (None: nothing feasible yet)."""
    rungs = [r["rung"] for r in rows if r["feasible"]]
    return max(rungs) if rungs else None


def pareto_rows(rows: list, columns: list, directions: list) -> list:
    """The feasible non-dominated evaluations of the highest rung with a feasible one (comparable: same patients)."""
    k = top_rung(rows)
    if k is None:
        return []
    at_k = [r for r in rows if r["rung"] == k]
    return [at_k[i] for i in front(points(at_k, columns, directions), feasible(at_k))]
