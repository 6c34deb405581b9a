"""A synthetic simulator with a known optimum, for fast tests of the optimisation machinery.

Each virtual patient ``i`` of seed ``s`` gets a noise term drawn from its own stream (so the same
candidate on the same twins gives the same table: common random numbers). Cost per patient is
``(every_days - 63)^2 / 49 + (max_doses - 4)^2 + noise``: on the grid every_days = 7, 14, ..., 182
and max_doses = 0..10 the brute-force optimum is (63, 4). Survival is a fraction falling with the
interval, so cost and survival pull apart (a two-objective front).
"""

import numpy as np

from celltrial.scenarios import parse_scenario

TEXT = """
name: synthetic
title: Synthetic optimisation problem
disease: lbcl
cohort: {patients: 10, design: paired}
arms:
  - name: reference
    product: ft596-like
    policy: {kind: maintenance, every_days: 91, max_doses: 7}
  - name: searched
    product: ft596-like
    policy: {kind: maintenance, every_days: 91, max_doses: 7}
endpoints: {reference_arm: reference}
follow_up_days: 365
seed: 11
search:
  arm: searched
  variables:
    - {path: policy.every_days, low: 7, high: 182, step: 7}
    - {path: policy.max_doses, low: 0, high: 10, integer: true}
  objectives: [OBJECTIVES]
  patients: {start: 8, max: 32, factor: 2}
  seed: 5
"""
COST = "{minimise: cost_per_patient}"
BOTH = "{minimise: cost_per_patient}, {maximise: pfs_d180}"


def scenario(objectives: str = COST, extra: str = ""):
    return parse_scenario(TEXT.replace("OBJECTIVES", objectives) + extra)


def simulate(s) -> dict:
    """A patients table of every arm of ``s``: the columns the optimisation reads, from the arms' policies."""
    n = s.cohort.patients
    parts = []
    for arm in s.arms:
        every, most = arm.policy.every_days, arm.policy.max_doses
        noise = np.array([np.random.default_rng([s.seed, i]).normal(0.0, 0.5) for i in range(n)])
        cost = (every - 63.0) ** 2 / 49.0 + (most - 4.0) ** 2 + noise + 10.0
        pfs_days = np.where(noise + every / 91.0 > 1.0, 200.0, 100.0)
        parts.append({"arm": np.array([arm.name] * n), "patient_id": np.arange(n), "status": np.array(["OK"] * n),
                      "cost_total": cost, "pfs_days": pfs_days, "pfs_event": pfs_days < 200.0,
                      "crs_grade": np.zeros(n, int)})
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
