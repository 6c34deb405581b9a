"""Trial-level inventory of off-the-shelf lots, from the dose log of each arm that declares one.

Each replicate trial is its own clinic: its doses (the dose log's ``patient``, ``day`` and
``multiplier``, days since each patient's enrolment) are replayed through
:func:`celltrial.protocols.inventory.simulate_inventory`. Enrolment gaps of a ``poisson``
accrual are drawn from a stream spawned from the trial seed, arm and replicate, so the result
does not depend on chunking. Stock-outs are reported, not fed back into the patients.

Example:
    >>> summarise_inventory([])
    {}
"""

from __future__ import annotations

import numpy as np

from ..protocols.inventory import simulate_inventory

#: Keys averaged over replicates (and their per-replicate maximum where it matters).
KEYS = ("lots", "doses_delivered", "doses_wasted", "stockouts", "stockout_patients", "total_delay_days")


def arm_inventory(scenario, arm_index: int, doses: dict, patients: int) -> dict | None:
    """Inventory summary of one arm over its replicates, or None when the arm declares no inventory."""
    arm = scenario.arms[arm_index]
    if arm.inventory is None:
        return None
    mine = np.asarray(doses["arm"]) == arm.name
    reps, patient, day, multiple = (np.asarray(doses[k])[mine] for k in ("replicate", "patient", "day", "multiplier"))
    per_rep = []
    for r in range(scenario.cohort.replicates):
        keep = reps == r
        rng = np.random.default_rng([scenario.seed, arm_index, r, 0x1A7])
        res = simulate_inventory(arm.inventory, patient[keep], day[keep], multiple[keep],
                                 n_patients=patients, horizon_days=None, rng=rng)
        per_rep.append(res.summary())
    return summarise_inventory(per_rep)


def summarise_inventory(per_rep: list) -> dict:
    """Means over replicate trials (and the maximum stock-outs), JSON-ready."""
    if not per_rep:
        return {}
    out = {f"{k}_mean": float(np.mean([r[k] for r in per_rep])) for k in KEYS}
    out["stockouts_max"] = int(max(r["stockouts"] for r in per_rep))
    util = [r["utilisation"] for r in per_rep if r["utilisation"] is not None and np.isfinite(r["utilisation"])]
    out["utilisation_mean"] = float(np.mean(util)) if util else None
    cost = [r["cost_per_delivered_dose"] for r in per_rep
            if r["cost_per_delivered_dose"] is not None and np.isfinite(r["cost_per_delivered_dose"])]
    out["cost_per_delivered_dose_mean"] = float(np.mean(cost)) if cost else None
    out["replicates"] = len(per_rep)
    return out
