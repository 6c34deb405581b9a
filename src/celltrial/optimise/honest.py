"""The honest second look: the Pareto set re-run on fresh virtual patients, against the reference arm.

The winners of a search are optimistic (the winner's curse: among many candidates measured with
noise, the best measured is partly the luckiest). So the Pareto policies are simulated again with
a fresh, recorded seed (new virtual patients) in one paired trial with the scenario's reference
arm. For each policy and objective the result holds the search value, the fresh value with a 95 %
interval, the optimism (search minus fresh, signed so that positive means the search flattered the
policy) and the probability that the policy beats the reference: a Bayesian bootstrap (Rubin 1981)
of the paired per-patient differences, ties counted one half.

Example:
    >>> d = np.array([1.0, 0.0, 2.0, -1.0])
    >>> w = np.random.default_rng(1).dirichlet(np.ones(4), size=2000)
    >>> 0.6 < p_better(d, w, "maximize") < 1.0
    True
"""

from __future__ import annotations

import numpy as np

from ..scenarios.loader import scenario_from
from .candidates import reference_index
from .metrics import ok_rows

#: Bayesian bootstrap draws of the intervals and probabilities.
DRAWS = 4000


def p_better(differences: np.ndarray, weights: np.ndarray, direction: str) -> float:
    """P(policy better than reference) from paired per-patient differences (policy - reference)."""
    means = weights @ differences
    better = means > 0 if direction == "maximize" else means < 0
    return float(better.mean() + 0.5 * (means == 0).mean())


def select(pareto: list, columns: list, directions: list, most: int) -> list:
    """At most ``most`` Pareto rows: the best on each objective first, then the rest in trial order."""
    chosen = []
    pick = {"maximize": max, "minimize": min}
    for c, d in zip(columns, directions, strict=True):
        best = pick[d](pareto, key=lambda r, c=c: r["values"][c])
        if best not in chosen:
            chosen.append(best)
    chosen += [r for r in sorted(pareto, key=lambda r: r["trial"]) if r not in chosen]
    return chosen[:most]


def fresh_scenario(evaluator, policies: list, patients: int, seed: int):
    """One paired trial: the reference arm as written, then ``pareto-1``, ``pareto-2``, ... (validated)."""
    base = evaluator.scenario
    reference = base.arms[reference_index(base)]
    arms = [reference] + [evaluator.trial_scenario(r["params"], patients, seed, name=f"pareto-{i + 1}").arms[0]
                          for i, r in enumerate(policies)]
    cohort = base.cohort.model_copy(update={"patients": int(patients), "replicates": 1, "design": "paired"})
    endpoints = base.endpoints.model_copy(update={"reference_arm": reference.name, "success": []})
    data = base.model_copy(update={"arms": arms, "cohort": cohort, "endpoints": endpoints, "seed": int(seed),
                                   "name": f"{base.name}-reevaluation"[:60]}).model_dump(mode="json",
                                                                                       exclude={"search"})
    return scenario_from(data, where="re-evaluation")


def _arm_rows(table: dict, arm: str) -> np.ndarray:
    """Rows of one arm in patient order (paired arms then line up twin by twin)."""
    rows = np.flatnonzero(np.asarray(table["arm"]).astype(str) == arm)
    key = np.asarray(table["patient_id"] if "patient_id" in table else np.arange(len(table["arm"])))[rows]
    return rows[np.argsort(key, kind="stable")]


def _policy_entry(name, row, values, ref, ok, weights, spec) -> dict:
    out = {"policy": name, "trial": row["trial"], "params": row["params"], "search": {}, "fresh": {},
           "fresh_low": {}, "fresh_high": {}, "optimism": {}, "p_beats_reference": {}}
    for o in spec.objectives:
        c, x, r = o.column, values[o.column], ref[o.column]
        both = ok[0] & ok[1]
        w = weights[:, both] / weights[:, both].sum(axis=1, keepdims=True)
        boot = w @ x[both]
        fresh, searched = float(np.mean(x[ok[0]])), float(row["values"][c])
        out["search"][c], out["fresh"][c] = searched, fresh
        out["fresh_low"][c], out["fresh_high"][c] = (float(q) for q in np.quantile(boot, [0.025, 0.975]))
        out["optimism"][c] = searched - fresh if o.direction == "maximize" else fresh - searched
        out["p_beats_reference"][c] = p_better(x[both] - r[both], w, o.direction)
    found = {c.column: float(np.mean(values[c.column][ok[0]])) for c in spec.constraints}
    out["feasible_fresh"] = all(c.violation(found[c.column]) <= 0 for c in spec.constraints)
    # on fresh patients the reference may turn out no worse anywhere and better somewhere: say so
    sign = {"maximize": -1.0, "minimize": 1.0}
    mine = np.array([sign[o.direction] * out["fresh"][o.column] for o in spec.objectives])
    theirs = np.array([sign[o.direction] * float(np.mean(ref[o.column][ok[1]])) for o in spec.objectives])
    out["dominated_by_reference"] = bool(np.all(theirs <= mine) and np.any(theirs < mine))
    return out


def reevaluate(evaluator, pareto: list, *, patients: int, seed: int, simulate=None) -> dict:
    """The re-evaluation report (JSON-ready) of the Pareto rows ``pareto``; ``simulate`` defaults to the evaluator's."""
    spec = evaluator.scenario.search
    columns = [o.column for o in spec.objectives]
    policies = select(pareto, columns, spec.directions, spec.reevaluate.max_policies)
    scenario = fresh_scenario(evaluator, policies, patients, seed)
    table = (simulate or evaluator.simulate)(scenario)
    values, ok = evaluator.per_patient(table), ok_rows(table)
    ref_rows = _arm_rows(table, scenario.arms[0].name)
    weights = np.random.default_rng(seed).dirichlet(np.ones(len(ref_rows)), size=DRAWS)
    ref = {c: v[ref_rows] for c, v in values.items()}
    entries = []
    for i, row in enumerate(policies):
        rows = _arm_rows(table, f"pareto-{i + 1}")
        mine = {c: v[rows] for c, v in values.items()}
        entries.append(_policy_entry(f"pareto-{i + 1}", row, mine, ref, (ok[rows], ok[ref_rows]), weights, spec))
    return {"scenario": scenario, "reference_arm": scenario.arms[0].name, "seed": int(seed),
            "patients": int(patients), "bootstrap_draws": DRAWS, "policies": entries,
            "reference": {c: float(np.mean(ref[c][ok[ref_rows]])) for c in columns},
            "optimism_mean": {c: float(np.mean([e["optimism"][c] for e in entries])) if entries else None
                              for c in columns},
            "recommended": recommended(entries, spec)}


def recommended(entries: list, spec) -> dict:
    """Per objective the policy best on it in the fresh run (among those meeting the constraints there,
    when any does), and ``balanced``: the lowest sum of per-objective ranks."""
    pool = [e for e in entries if e["feasible_fresh"]] or entries
    if not pool:
        return {}
    out, sign = {}, {"maximize": -1.0, "minimize": 1.0}
    ranks = np.zeros(len(pool))
    for o in spec.objectives:
        x = np.array([sign[o.direction] * e["fresh"][o.column] for e in pool])
        out[o.column] = pool[int(np.argmin(x))]["policy"]
        ranks += np.argsort(np.argsort(x, kind="stable"), kind="stable")
    out["balanced"] = pool[int(np.argmin(ranks))]["policy"]
    return out
