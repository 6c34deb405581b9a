"""Robustness to the model: the Pareto policies re-run over draws of a calibration posterior.

A calibration (``celltrial calibrate CASE``) leaves an evidence folder: ``summary.json`` naming
the case and ``posterior.csv``, draws of the fitted values on the natural scale (typical values
and between-patient SDs ``omega(name)``). For each of ``draws`` posterior rows picked at random
(seeded, recorded), the reference arm and the Pareto policies are simulated as one paired trial
on the same fresh virtual twins (the re-evaluation's seed) with the drawn values written into the
scenario as the calibration writes them (:func:`celltrial.calibration.population.apply_values`):
so what moves across draws is the uncertain parameters, not the patients.

Reported per policy and objective: the spread of its value and of its difference from the
reference across draws (median, 5th and 95th percentiles) and the share of draws in which it
beats the reference; and a sensitivity ranking: per objective, the fitted parameters ordered by
the mean absolute Spearman rank correlation, over the policies, between the drawn value and the
policy's difference from the reference. With tens of draws a correlation below about 0.4 in
absolute value is not distinguishable from none (|rho| > 0.44 is p < 0.05 at 20 draws), and a
ranking matters only as much as the difference moves at all (``moves``: the widest 5-95 %
range of a policy's difference across draws, in the column's unit).

A posterior applies only to the presets it was fitted for: every fitted parameter's preset must
be the scenario's disease (or a preset sharing it) or the product of an arm, else InputError.

Example:
    >>> np.round(spearman(np.array([1.0, 2.0, 3.0, 4.0]), np.array([10.0, 30.0, 20.0, 40.0])), 2)
    np.float64(0.8)
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import InputError
from .honest import _arm_rows, fresh_scenario
from .metrics import ok_rows

#: Percentiles of the spread across posterior draws.
SPREAD = (5.0, 50.0, 95.0)


@dataclass(frozen=True)
class Posterior:
    """Draws of a calibration's fitted values: ``labels`` (``x_neg``, ``omega(x_neg)``, ...) and ``draws`` (n, p)."""

    folder: Path
    case: str
    parameters: list
    draws: np.ndarray

    @property
    def labels(self) -> list[str]:
        return [p.label for p in self.parameters]


def load_posterior(folder) -> Posterior:
    """The posterior in an evidence folder (``summary.json`` + ``posterior.csv``); InputError naming --posterior."""
    from ..calibration.cases import load_case

    folder = Path(folder)
    summary, draws_csv = folder / "summary.json", folder / "posterior.csv"
    if not summary.is_file() or not draws_csv.is_file():
        raise InputError(f"--posterior: {str(folder)!r} is not a calibration evidence folder (it needs summary.json "
                         "and posterior.csv, as `celltrial calibrate CASE --out FOLDER` writes; shipped: "
                         "docs/calibration/zuma1, docs/calibration/eliana)")
    case = json.loads(summary.read_text()).get("case")
    parameters = [p.build() for p in load_case(case).fit.parameters]
    with open(draws_csv, newline="") as f:
        rows = list(csv.reader(f))
    header, labels = rows[0], [p.label for p in parameters]
    if header != labels:
        raise InputError(f"--posterior: {draws_csv} has columns {header}, but case {case!r} fits {labels}: the "
                         "evidence folder is from another version of the case; re-run the calibration")
    draws = np.array(rows[1:], dtype=float).reshape(-1, len(labels))
    if draws.shape[0] == 0 or not np.all(np.isfinite(draws)):
        raise InputError(f"--posterior: {draws_csv} holds no draws (or non-finite ones)")
    return Posterior(folder, str(case), parameters, draws)


def check_applies(posterior: Posterior, scenario) -> None:
    """InputError unless every fitted parameter belongs to the scenario's disease or one of its arms' products."""
    presets = {scenario.disease, *(a.product for a in scenario.arms)}
    foreign = sorted({p.preset for p in posterior.parameters
                      if p.preset is not None and p.preset not in presets and not presets & set(p.shared_with)})
    if foreign:
        raise InputError(f"--posterior: case {posterior.case!r} fits parameters of preset(s) {foreign}, but this "
                         f"scenario is disease {scenario.disease!r} with products "
                         f"{sorted({a.product for a in scenario.arms})}: its draws do not describe this model. "
                         "Use the evidence folder of a calibration of this disease or product")


def pick(posterior: Posterior, draws: int, seed: int) -> np.ndarray:
    """Row numbers of ``draws`` posterior draws, picked at random without replacement (all when fewer)."""
    n = posterior.draws.shape[0]
    rng = np.random.default_rng([int(seed), 19])
    return np.sort(rng.choice(n, size=min(int(draws), n), replace=False))


def spearman(x: np.ndarray, y: np.ndarray) -> float:
    """Spearman rank correlation (average ranks for ties); NaN when either is constant."""
    from scipy.stats import rankdata

    rx, ry = rankdata(x), rankdata(y)
    if np.ptp(rx) == 0 or np.ptp(ry) == 0:
        return float("nan")
    return float(np.corrcoef(rx, ry)[0, 1])


def _spread(x: np.ndarray) -> dict:
    low, mid, high = (float(v) for v in np.percentile(x, SPREAD))
    return {"median": mid, "p5": low, "p95": high, "sd": float(np.std(x, ddof=1)) if x.size > 1 else 0.0}


def _means_per_draw(evaluator, scenario, values: np.ndarray, posterior, simulate) -> dict:
    """Arm name -> column -> mean over the arm's OK patients, for the scenario with one draw's values."""
    from ..calibration.population import apply_values

    table = simulate(apply_values(scenario, posterior.parameters, values))
    per, ok = evaluator.per_patient(table), ok_rows(table)
    out = {}
    for arm in scenario.arms:
        rows = _arm_rows(table, arm.name)
        rows = rows[ok[rows]]
        out[arm.name] = {c: float(np.mean(v[rows])) if rows.size else float("nan") for c, v in per.items()}
    return out


def _policy_entry(name: str, found: list, reference: str, spec, labels: list, drawn: np.ndarray) -> dict:
    sign = {"maximize": 1.0, "minimize": -1.0}
    entry = {"policy": name, "value": {}, "difference": {}, "p_beats_reference": {}, "sensitivity": {}}
    for o in spec.objectives:
        c = o.column
        x = np.array([d[name][c] for d in found])
        diff = x - np.array([d[reference][c] for d in found])
        entry["value"][c], entry["difference"][c] = _spread(x), _spread(diff)
        better = sign[o.direction] * diff
        entry["p_beats_reference"][c] = float(np.mean(better > 0) + 0.5 * np.mean(better == 0))
        entry["sensitivity"][c] = {lab: spearman(drawn[:, j], diff) for j, lab in enumerate(labels)}
    return entry


def moves(entries: list, columns: list) -> dict:
    """Per objective: the widest 5-95 % range across draws of a policy's difference from the reference."""
    return {c: max((e["difference"][c]["p95"] - e["difference"][c]["p5"] for e in entries), default=0.0)
            for c in columns}


def ranking(entries: list, columns: list, labels: list) -> dict:
    """Per objective: parameters by mean |rho| over the policies (largest first), as (label, mean |rho|) pairs."""
    out = {}
    for c in columns:
        score = {lab: np.nanmean([abs(e["sensitivity"][c][lab]) for e in entries])
                 if any(np.isfinite(e["sensitivity"][c][lab]) for e in entries) else float("nan") for lab in labels}
        out[c] = sorted(((lab, float(s)) for lab, s in score.items()),
                        key=lambda t: (-t[1] if np.isfinite(t[1]) else np.inf, t[0]))
    return out


def robustness(evaluator, policies: list, posterior: Posterior, *, draws: int, patients: int, seed: int,
               simulate=None, progress=None) -> dict:
    """The Pareto ``policies`` (rows or re-evaluation entries with ``params``) over ``draws`` posterior draws.

    Args:
        evaluator: the study's :class:`~celltrial.optimise.Evaluator`.
        policies: in the re-evaluation's order (named ``pareto-1``, ``pareto-2``, ...).
        patients: virtual patients per arm and draw (the same twins in every draw: seed ``seed``).
        progress: called as ``progress(done, total)`` after each draw.
    Returns:
        A JSON-ready dict: the draws used (row numbers and values), per-policy spreads, the ranking.
    """
    check_applies(posterior, evaluator.scenario)
    spec = evaluator.scenario.search
    rows = pick(posterior, draws, seed)
    scenario = fresh_scenario(evaluator, policies, patients, seed)
    reference = scenario.arms[0].name
    found, simulate = [], simulate or evaluator.simulate
    for k, r in enumerate(rows):
        found.append(_means_per_draw(evaluator, scenario, posterior.draws[r], posterior, simulate))
        if progress is not None:
            progress(k + 1, len(rows))
    drawn = posterior.draws[rows]
    entries = [_policy_entry(a.name, found, reference, spec, posterior.labels, drawn) for a in scenario.arms[1:]]
    columns = [o.column for o in spec.objectives]
    return {"posterior": str(posterior.folder), "case": posterior.case, "draw_rows": rows.tolist(),
            "parameters": posterior.labels, "drawn": drawn.tolist(), "patients": int(patients), "seed": int(seed),
            "reference_arm": reference, "reference": {c: _spread(np.array([d[reference][c] for d in found]))
                                                      for c in columns},
            "policies": entries, "moves": moves(entries, columns),
            "ranking": ranking(entries, columns, posterior.labels)}
