"""Who benefits: baseline covariates and model-derived patient properties as predictors of PFS and
response in each arm, and as modifiers of the treatment effect between arms.

Every covariate is standardised (minus its mean, over its SD, over the patients of the arms
compared; positive quantities spanning decades on a log10 scale first), so effects read "per SD":

* per arm: Cox hazard ratio for PFS (lifelines ``CoxPHFitter``, Efron ties) and the odds ratio for
  objective response (:func:`celltrial.economics.logistic.logistic`), one covariate at a time;
* between the reference arm and each other arm: the Cox model ``PFS ~ arm + z + arm x z`` on both
  arms' patients; ``exp(arm x z)`` is the factor by which the other arm's PFS hazard ratio changes per
  SD of the covariate (below 1: the other arm gains more in patients with higher values). Paired
  designs (the same virtual patient in both arms) use lifelines' cluster-robust (sandwich) errors on
  the patient id. The hazard ratio of the other arm is also given above and below the covariate's median.

Example:
    >>> import numpy as np
    >>> rng = np.random.default_rng(1)
    >>> z = np.tile(rng.normal(size=200), 2)                          # paired: the same 200 patients
    >>> arm = np.repeat(["a", "b"], 200)
    >>> hazard = np.exp(np.where(arm == "b", -1.0 * z, 0.0))         # b helps more at high z
    >>> t = rng.exponential(1 / hazard) * 100
    >>> p = {"arm": arm, "status": np.array(["OK"] * 400), "pfs_days": t, "pfs_event": np.ones(400, bool),
    ...      "responder": t > 50, "patient_id": np.tile(np.arange(200), 2)}
    >>> out = who_benefits(p, {"z": Covariate(z, "z", log=False)}, paired=True)
    >>> out["interactions"][0]["covariates"]["z"]["interaction"]["hr"] < 0.6
    True
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from lifelines import CoxPHFitter
from lifelines.exceptions import ConvergenceError, ConvergenceWarning
from scipy.linalg import LinAlgWarning

from ..errors import InputError
from ..trials.statistics import CONFIDENCE, arm_codes, cox_hazard_ratio, ok_mask
from .logistic import logistic

#: Per-patient table columns read as covariates: column -> (label, log10 scale).
TABLE_COVARIATES = {
    "baseline_burden": ("baseline tumour burden", True),
    "ctdna_d0": ("baseline ctDNA", True),
    "prior_lines": ("prior lines of therapy", False),
    "weight_kg": ("body weight", False),
    "dose_cells": ("cells per dose", True),
    "host_t_left": ("host T cells left after lymphodepletion", False),
}
#: Fewest patients with a finite value for a covariate to be analysed in an arm.
MIN_PATIENTS = 10


@dataclass(frozen=True)
class Covariate:
    """One candidate predictor: (n,) ``values`` aligned with the patients table, a reader's ``label``,
    and whether it is read on a log10 scale (positive quantities over decades)."""

    values: np.ndarray
    label: str
    log: bool = False

    def scaled(self) -> np.ndarray:
        v = np.asarray(self.values, dtype=float)
        if self.log:
            v = np.where(v > 0, np.log10(np.where(v > 0, v, 1.0)), np.nan)
        return v


def _lines(values) -> np.ndarray:
    """Prior lines as numbers: the leading integer of each level ("3+" -> 3), NaN for "" or text."""
    out = np.full(len(values), np.nan)
    for i, v in enumerate(np.asarray(values).astype(str)):
        digits = "".join(ch for ch in v.strip().lstrip(">=≥") if ch.isdigit() or ch == ".")
        out[i] = float(digits) if digits and digits.count(".") <= 1 else np.nan
    return out


def table_covariates(patients: dict) -> dict:
    """The :data:`TABLE_COVARIATES` present in ``patients`` and not constant, as :class:`Covariate`."""
    out = {}
    for column, (label, log) in TABLE_COVARIATES.items():
        if column not in patients:
            continue
        raw = _lines(patients[column]) if column == "prior_lines" else np.asarray(patients[column], dtype=float)
        c = Covariate(raw, label, log)
        finite = c.scaled()[np.isfinite(c.scaled())]
        if finite.size >= MIN_PATIENTS and np.ptp(finite) > 0:
            out[column] = c
    return out


def _cox(frame: pd.DataFrame, term: str, cluster: str | None = None) -> dict:
    """Hazard ratio of ``term`` in a Cox fit of ``pfs_days``/``pfs_event`` on the frame's other columns."""
    out = {"hr": None, "low": None, "high": None, "p": None, "note": None}
    if int(frame["pfs_event"].sum()) < 2:
        out["note"] = "fewer than 2 PFS events"
        return out
    try:
        with warnings.catch_warnings():
            # lifelines warns (instead of failing) on separation or an ill-conditioned fit: make it a note
            warnings.simplefilter("error", ConvergenceWarning)
            warnings.simplefilter("error", LinAlgWarning)
            fit = CoxPHFitter(alpha=1 - CONFIDENCE).fit(frame, "pfs_days", "pfs_event", cluster_col=cluster)
    except (ConvergenceError, ConvergenceWarning, LinAlgWarning, np.linalg.LinAlgError, ValueError) as err:
        out["note"] = f"the Cox model did not converge: {str(err).splitlines()[0]}"
        return out
    row = fit.summary.loc[term]
    level = round(100 * CONFIDENCE)
    out.update(hr=float(row["exp(coef)"]), low=float(row[f"exp(coef) lower {level}%"]),
               high=float(row[f"exp(coef) upper {level}%"]), p=float(row["p"]))
    return out


def _odds(z, responder) -> dict:
    fit = logistic(z[:, None], responder)
    if fit["coef"] is None:
        return {"or": None, "low": None, "high": None, "p": None, "note": fit["note"]}
    return {"or": float(np.exp(fit["coef"][1])), "low": float(np.exp(fit["low"][1])),
            "high": float(np.exp(fit["high"][1])), "p": float(fit["p"][1]), "note": None}


def _standardised(values: np.ndarray) -> np.ndarray:
    finite = values[np.isfinite(values)]
    sd = float(np.std(finite)) if finite.size else 0.0
    return (values - float(np.mean(finite))) / sd if sd > 0 else np.full(values.shape, np.nan)


def _arm_effects(p: dict, rows: np.ndarray, z: np.ndarray) -> dict:
    keep = rows & np.isfinite(z)
    if keep.sum() < MIN_PATIENTS or np.ptp(z[keep]) == 0:  # too few, or a product constant of this arm
        return {"n": int(keep.sum()), "pfs": None, "response": None}
    frame = pd.DataFrame({"pfs_days": p["pfs_days"][keep], "pfs_event": p["pfs_event"][keep], "z": z[keep]})
    return {"n": int(keep.sum()), "pfs": _cox(frame, "z"), "response": _odds(z[keep], p["responder"][keep])}


def _interaction(p: dict, a: np.ndarray, b: np.ndarray, z: np.ndarray, raw: np.ndarray, paired: bool) -> dict:
    keep = (a | b) & np.isfinite(z)
    if min((keep & a).sum(), (keep & b).sum()) < MIN_PATIENTS or min(np.ptp(z[keep & a]), np.ptp(z[keep & b])) == 0:
        none = {"hr": None, "low": None, "high": None, "p": None,
                "note": "too few patients, or constant in an arm (a product property): no interaction"}
        return {"n": int(keep.sum()), "interaction": none, "median": None, "hr_above_median": None,
                "hr_below_median": None}
    frame = pd.DataFrame({"pfs_days": p["pfs_days"][keep], "pfs_event": p["pfs_event"][keep],
                          "arm": b[keep].astype(float), "z": z[keep]})
    frame["arm_x_z"] = frame["arm"] * frame["z"]
    cluster = None
    if paired and "patient_id" in p:
        frame["patient_id"] = np.asarray(p["patient_id"])[keep]
        cluster = "patient_id"
    median = float(np.median(raw[keep]))
    hi, lo = keep & (raw > median), keep & (raw <= median)
    sub = {name: cox_hazard_ratio(p["pfs_days"][m & a], p["pfs_event"][m & a], p["pfs_days"][m & b],
                                  p["pfs_event"][m & b]) for name, m in (("above", hi), ("below", lo))}
    return {"n": int(keep.sum()), "interaction": _cox(frame, "arm_x_z", cluster), "median": median,
            "hr_above_median": sub["above"], "hr_below_median": sub["below"]}


def who_benefits(patients: dict, covariates: dict, *, reference_arm: str | None = None, paired: bool = False) -> dict:
    """Per-arm associations and treatment x covariate interactions (see the module docstring).

    Args:
        patients: column -> (n,) array with ``arm``, ``status``, ``pfs_days``, ``pfs_event``,
            ``responder`` (and ``patient_id`` for paired designs).
        covariates: name -> :class:`Covariate` aligned with the rows (e.g. :func:`table_covariates`).
        reference_arm: the arm others are compared with (default: the first).
        paired: the same virtual patients in every arm (cluster-robust errors on ``patient_id``).

    Returns:
        ``{"covariates": {name: {"label", "log10", "sd"}}, "arms": {arm: {name: {"n", "pfs", "response"}}},
        "interactions": [{"arms": [ref, other], "covariates": {name: {...}}, "summary": text}]}``
    """
    need = [c for c in ("arm", "status", "pfs_days", "pfs_event", "responder") if c not in patients]
    if need:
        raise InputError(f"who_benefits: the patients table lacks {need}")
    names, codes = arm_codes(patients["arm"])
    ref = reference_arm or (names[0] if names else None)
    if names and ref not in names:
        raise InputError(f"who_benefits: reference_arm {ref!r} is not one of {names}")
    ok = ok_mask(patients)
    p = {k: np.asarray(v) for k, v in patients.items()}
    p["pfs_event"] = p["pfs_event"].astype(bool)
    p["responder"] = p["responder"].astype(bool)
    info, arms = {}, {n: {} for n in names}
    scaled = {}
    for cname, cov in covariates.items():
        raw = cov.scaled()
        if raw.shape != ok.shape:
            raise InputError(f"who_benefits: covariate {cname!r} has {raw.size} values for {ok.size} patients")
        raw = np.where(ok, raw, np.nan)
        scaled[cname] = (raw, _standardised(raw))
        finite = raw[np.isfinite(raw)]
        info[cname] = {"label": cov.label, "log10": cov.log, "sd": float(np.std(finite)) if finite.size else None}
        for i, arm in enumerate(names):
            arms[arm][cname] = _arm_effects(p, (codes == i) & ok, scaled[cname][1])
    interactions = []
    for j, other in enumerate(names):
        if other == ref:
            continue
        a, b = (codes == names.index(ref)) & ok, (codes == j) & ok
        block = {c: _interaction(p, a, b, z, raw, paired) for c, (raw, z) in scaled.items()}
        interactions.append({"arms": [ref, other], "covariates": block,
                             "summary": plain_summary(ref, other, block, info)})
    return {"covariates": info, "arms": arms, "interactions": interactions}


def plain_summary(ref: str, other: str, block: dict, info: dict, alpha: float = 0.05) -> str:
    """One sentence: the covariate that most changes the benefit of ``other`` over ``ref`` (smallest
    interaction p below ``alpha``), with the hazard ratios above and below its median; or that none does.

    Example:
        >>> block = {"z": {"interaction": {"hr": 0.5, "p": 0.001}, "median": 2.0,
        ...                "hr_above_median": {"hr": 0.4}, "hr_below_median": {"hr": 0.9}}}
        >>> plain_summary("a", "b", block, {"z": {"label": "burden", "log10": True}})[:60]
        'Patients with burden above 100 (the median) gain most from b'
    """
    found = [(v["interaction"]["p"], k) for k, v in block.items() if v["interaction"]["p"] is not None]
    significant = sorted(x for x in found if x[0] < alpha)
    if not significant:
        return (f"No covariate detectably changes the PFS benefit of {other} over {ref} "
                f"(every interaction p >= {alpha:g}, {len(found)} tested).")
    pval, name = significant[0]
    v, label = block[name], info[name]["label"]
    median = 10 ** v["median"] if info[name]["log10"] else v["median"]
    side = "above" if v["interaction"]["hr"] < 1 else "below"
    hr = {s: (v[f"hr_{s}_median"] or {}).get("hr") for s in ("above", "below")}
    fmt = lambda x: "n/a" if x is None else f"{x:.2f}"  # noqa: E731 - one-line formatter
    other_side = "below" if side == "above" else "above"
    # the relative wording must not call a worse arm a gain: "lose least" when it is worse on both sides
    verb = "gain most from" if hr[side] is not None and hr[side] < 1 else "lose least with"
    return (f"Patients with {label} {side} {median:.3g} (the median) {verb} {other} over {ref}: PFS hazard "
            f"ratio {fmt(hr[side])} {side} vs {fmt(hr[other_side])} {other_side} the median (interaction p = "
            f"{pval:.2g}, {len(found)} covariates tested; not adjusted for multiplicity).")
