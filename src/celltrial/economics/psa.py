"""Probabilistic sensitivity analysis (PSA) across the draws of a calibration posterior.

For each of ``draws`` posterior rows (picked at random, seeded, recorded), the fitted values are
written into the scenario as the calibration writes them, and every arm is simulated as one paired
trial (one replicate) on the same ``patients`` virtual twins (seed ``seed``): what moves across
draws is the uncertain model parameters, not the patients. Each draw gives, per comparison with the
reference arm and per payment model, the incremental cost (currency per patient, discounted), the
incremental QALYs (per patient, discounted) and the incremental net monetary benefit
``w * dQ - dC`` (currency per patient) at each willingness to pay ``w`` (currency per QALY).

Reported across draws: the cost-effectiveness plane (one point per draw), the acceptability curve
(share of draws with positive incremental NMB over :data:`~.summary.CEAC_GRID`) and, per threshold,
the NMB's mean, 5th and 95th percentiles. Loading and applying the posterior reuse
:mod:`celltrial.optimise.robustness` and :func:`celltrial.calibration.population.apply_values`.
Sampling noise of ``patients`` twins adds to the spread (the same twins in every draw keep it
small but not zero): use enough patients that a replicate trial's plane is tight.

Example:
    >>> r = across_draws([100.0, 300.0], [1.0, 1.0], wtp=[200.0], grid=[0.0, 200.0, 400.0])
    >>> r["acceptability"], r["p_cost_effective"], r["nmb"]["200"]["mean"]
    ([0.0, 0.5, 1.0], {'200': 0.5}, 0.0)
"""

from __future__ import annotations

import numpy as np

from .summary import CEAC_GRID

#: Percentiles of the NMB's spread across draws.
SPREAD = (5.0, 50.0, 95.0)


def across_draws(incremental_cost, incremental_qalys, *, wtp, grid=CEAC_GRID) -> dict:
    """Plane, acceptability curve over ``grid`` and NMB spread at each ``wtp`` from per-draw dC and dQ.

    Args:
        incremental_cost: (draws,) dC per patient of each draw (currency).
        incremental_qalys: (draws,) dQ per patient of each draw (QALY).
        wtp: thresholds (currency per QALY) for the NMB spread and P(cost-effective).
        grid: thresholds of the acceptability curve (currency per QALY).
    """
    dc, dq = np.asarray(incremental_cost, dtype=float), np.asarray(incremental_qalys, dtype=float)
    g = np.asarray(grid, dtype=float)
    accept = ((g[:, None] * dq[None, :] - dc[None, :]) > 0).mean(axis=1)
    nmb, share = {}, {}
    for w in wtp:
        x = float(w) * dq - dc
        low, mid, high = (float(v) for v in np.percentile(x, SPREAD))
        nmb[f"{w:g}"] = {"mean": float(x.mean()), "median": mid, "p5": low, "p95": high}
        share[f"{w:g}"] = float((x > 0).mean())
    return {"draws": int(dc.size), "incremental_cost": dc.tolist(), "incremental_qalys": dq.tolist(),
            "mean_incremental_cost": float(dc.mean()), "mean_incremental_qalys": float(dq.mean()),
            "nmb": nmb, "p_cost_effective": share, "wtp": g.tolist(), "acceptability": accept.tolist()}


def psa_scenario(scenario, patients: int, seed: int):
    """The scenario as one paired trial of ``patients`` twins per arm (one replicate, seed ``seed``), with
    the default ``economics`` block when it has none."""
    from ..scenarios.economics import Economics

    cohort = scenario.cohort.model_copy(update={"patients": int(patients), "replicates": 1, "design": "paired"})
    update = {"cohort": cohort, "seed": int(seed)}
    if scenario.economics is None:
        update["economics"] = Economics()
    return scenario.model_copy(update=update)


def run_psa(scenario, folder, draws: int, patients: int, seed: int, *, compiled=None, threads=None,
            progress=None) -> dict:
    """The PSA of ``scenario`` over ``draws`` draws of the posterior in evidence folder ``folder``.

    Args:
        scenario: a validated scenario with at least two arms (its economics block, or the defaults).
        folder: calibration evidence folder (``summary.json`` + ``posterior.csv``, e.g. docs/calibration/zuma1).
        draws: posterior rows to use (all when the posterior has fewer).
        patients: virtual twins per arm and draw.
        seed: seed of the twins and of the choice of draws.
        progress: called as ``progress(done, total)`` after each draw.
    Returns:
        JSON-ready: the draws (rows, values), per comparison and payment model :func:`across_draws`.
    Raises:
        InputError naming ``--posterior`` (not an evidence folder, or fitted to other presets) or
        ``arms`` (fewer than two).
    """
    from ..calibration.population import apply_values
    from ..errors import InputError
    from ..optimise.robustness import check_applies, load_posterior, pick
    from ..trials.trial import run_trial

    if len(scenario.arms) < 2:
        raise InputError(f"arms: a cost-effectiveness analysis needs two arms or more; {scenario.name!r} has "
                         f"{len(scenario.arms)}")
    posterior = load_posterior(folder)
    check_applies(posterior, scenario)
    base = psa_scenario(scenario, patients, seed)
    rows = pick(posterior, draws, seed)
    found = []
    for k, r in enumerate(rows):
        drawn = apply_values(base, posterior.parameters, posterior.draws[r])
        out = run_trial(drawn, compiled=compiled, threads=threads, keep_patients=False)
        found.append(out.summary["economics"])
        if progress is not None:
            progress(k + 1, len(rows))
    first = found[0]
    wtp = first["settings"]["willingness_to_pay"]
    comparisons = []
    for i, c in enumerate(first["comparisons"]):
        models = {}
        for name in c["payment_models"]:
            blocks = [f["comparisons"][i]["payment_models"][name] for f in found]
            if any(b is None for b in blocks):
                models[name] = None
                continue
            models[name] = across_draws([b["incremental_cost"] for b in blocks],
                                        [b["incremental_qalys"] for b in blocks], wtp=wtp)
        comparisons.append({"arms": c["arms"], "payment_models": models})
    return {"posterior": str(posterior.folder), "case": posterior.case, "draw_rows": rows.tolist(),
            "parameters": posterior.labels, "drawn": posterior.draws[rows].tolist(), "patients": int(patients),
            "seed": int(seed), "reference_arm": first["reference_arm"], "willingness_to_pay": wtp,
            "settings": first["settings"], "comparisons": comparisons}
