"""Cost-effectiveness between two arms: incremental cost and QALYs, ICER, net monetary benefit,
the cost-effectiveness plane and acceptability curve across replicate trials.

Net monetary benefit at a willingness to pay ``w`` (currency per QALY) is ``w * QALYs - cost``; the
incremental NMB of arm b over arm a is ``w * dQ - dC`` (b is worth adopting at ``w`` when it is > 0).
The ICER ``dC / dQ`` is reported only in the north-east quadrant (more cost, more QALYs) or the
south-west one (less of both); elsewhere one arm dominates and the ICER is None with a note, since a
negative ratio mixes "cheaper and better" with "dearer and worse".

Example:
    >>> incremental(100.0, 1.0, 300.0, 2.0)["icer"]
    200.0
    >>> incremental(100.0, 1.0, 50.0, 2.0)["note"]
    'dominant: fewer costs and more QALYs'
"""

from __future__ import annotations

import numpy as np

#: Most replicate points kept for the plane in the JSON summary (the first ones, in replicate order).
MAX_PLANE_POINTS = 1000


def incremental(cost_a: float, qaly_a: float, cost_b: float, qaly_b: float, wtp=()) -> dict:
    """Arm b vs arm a from mean cost and QALYs per patient: dC, dQ, ICER (None off the NE/SW
    quadrants, with a ``note``) and incremental NMB at each ``wtp`` (key: the threshold as text)."""
    dc, dq = float(cost_b - cost_a), float(qaly_b - qaly_a)
    note, icer = None, None
    if dq > 0 and dc <= 0:
        note = "dominant: fewer costs and more QALYs"
    elif dq < 0 and dc >= 0:
        note = "dominated: more costs and fewer QALYs"
    elif dq == 0:
        note = "equal QALYs: the ICER is undefined"
    else:
        icer = dc / dq
        note = None if dq > 0 else "south-west quadrant: savings per QALY lost"
    return {"incremental_cost": dc, "incremental_qalys": dq, "icer": icer, "note": note,
            "incremental_nmb": {f"{w:g}": float(w * dq - dc) for w in wtp}}


def replicate_means(values, replicate) -> tuple:
    """(replicate ids sorted, mean of ``values`` per replicate)."""
    ids, inverse = np.unique(np.asarray(replicate), return_inverse=True)
    sums = np.bincount(inverse.ravel(), weights=np.asarray(values, dtype=float))
    return ids, sums / np.bincount(inverse.ravel())


def plane_and_curve(arm_a: dict, arm_b: dict, wtp_grid) -> dict | None:
    """Per-replicate (dQ, dC) points and the acceptability curve P(incremental NMB > 0) over
    ``wtp_grid``; None with fewer than two replicates common to both arms.

    ``arm_a``/``arm_b``: {"cost": (n,), "qalys": (n,), "replicate": (n,)} per patient.

    Example:
        >>> a = {"cost": [0.0, 0.0], "qalys": [1.0, 1.0], "replicate": [0, 1]}
        >>> b = {"cost": [100.0, 300.0], "qalys": [2.0, 2.0], "replicate": [0, 1]}
        >>> plane_and_curve(a, b, [0.0, 200.0, 400.0])["acceptability"]
        [0.0, 0.5, 1.0]
    """
    ids_a, ca = replicate_means(arm_a["cost"], arm_a["replicate"])
    _, qa = replicate_means(arm_a["qalys"], arm_a["replicate"])
    ids_b, cb = replicate_means(arm_b["cost"], arm_b["replicate"])
    _, qb = replicate_means(arm_b["qalys"], arm_b["replicate"])
    common, ia, ib = np.intersect1d(ids_a, ids_b, return_indices=True)
    if common.size < 2:
        return None
    dc, dq = cb[ib] - ca[ia], qb[ib] - qa[ia]
    grid = np.asarray(wtp_grid, dtype=float)
    accept = ((grid[:, None] * dq[None, :] - dc[None, :]) > 0).mean(axis=1)
    keep = slice(0, MAX_PLANE_POINTS)
    return {"replicates": int(common.size), "incremental_qalys": dq[keep].tolist(),
            "incremental_cost": dc[keep].tolist(), "wtp": grid.tolist(), "acceptability": accept.tolist()}
