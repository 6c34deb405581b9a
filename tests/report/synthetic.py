"""A synthetic but plausible RunData for the report tests and the screenshot check.

Tumour burden follows B(t) = B0 exp(-k t) + B0 r exp(g t) (kill, then regrowth of a residual
fraction r; r = 0 is a cure); endpoints are derived from it so curves, tables and patient
figures agree roughly, as they would in a real run.

Example:
    >>> run = make_run()
    >>> run.arm_names()
    ['axi-cel-like', 'ft596-like']
"""

from __future__ import annotations

import math

import numpy as np
from lifelines import KaplanMeierFitter
from lifelines.statistics import logrank_test
from scipy.stats import binom

from celltrial.trials.columns import COLUMNS
from celltrial.trials.rundata import RunData

DAYS = np.r_[np.arange(0.0, 28.0, 1.0), np.arange(28.0, 366.0, 7.0)]
ASSESS = np.array([28.0, 56.0, 90.0, 180.0, 270.0, 365.0])
RULES = {"imaging_detection_cells": 1e9, "lethal_burden_cells": 1e12, "lloq_cells_uL": 1.0,
         "ctdna_lod_hge_ml": 0.1, "currency": "USD"}
ARMS = {  # name: (cure probability, kill rate scale, Cmax median cells/uL, product cost, manufacturing)
    "axi-cel-like": (0.35, 0.05, 40.0, 373_000.0, 45_000.0),
    "ft596-like": (0.15, 0.025, 8.0, 150_000.0, 8_000.0),
}


def _arm(name, n, rng, params):
    p_cure, k_scale, cmax_med, product_cost, manufacturing = params
    t = DAYS[None, :]
    b0 = 10 ** rng.uniform(9.8, 11.5, n)
    k = k_scale * rng.lognormal(0.0, 0.9, n)
    r = np.where(rng.random(n) < p_cure, 0.0, 10 ** rng.uniform(-6, -1, n))
    g = rng.uniform(0.02, 0.06, n)
    burden = np.minimum(b0[:, None] * (np.exp(-k[:, None] * t) + r[:, None] * np.exp(g[:, None] * t)), 2e12)
    cmax = cmax_med * rng.lognormal(0, 0.8, n)
    tmax = rng.uniform(7, 14, n)
    product = cmax[:, None] * (t / tmax[:, None]) * np.exp(1 - t / tmax[:, None])
    product = np.where(t > 0, product + 0.05 * cmax[:, None] * np.exp(-t / 200), 0.0)
    traj = {"B_tot": burden, "product_uL": product, "car_copies": 50 * product, "ctdna": burden / 1e9,
            "il6_signal": 20 + 500 * rng.random(n)[:, None] * np.exp(-((t - 4) ** 2) / 8)}
    return _endpoints(name, n, rng, b0, burden, traj, product_cost, manufacturing), traj


def _first(mask, values, default):
    """Per row: values[first True column] or default."""
    idx = mask.argmax(axis=1)
    return np.where(mask.any(axis=1), values[idx], default)


def _endpoints(name, n, rng, b0, burden, traj, product_cost, manufacturing):
    det = RULES["imaging_detection_cells"]
    at = np.stack([np.interp(ASSESS, DAYS, b) for b in burden])
    nadir_i = at.argmin(axis=1)
    nadir = at[np.arange(n), nadir_i]
    death = _first(burden >= RULES["lethal_burden_cells"], DAYS, np.nan)
    after_nadir = np.arange(len(ASSESS))[None, :] > nadir_i[:, None]
    prog = _first(after_nadir & (at > 1.25 * np.maximum(nadir, det)[:, None]), ASSESS, np.nan)
    prog = np.fmin(prog, death)
    cr, pr = nadir < det, nadir < 0.5 * b0
    best = np.where(cr, "CR", np.where(pr, "PR", np.where(np.isfinite(prog), "PD", "SD")))
    ttr = _first(at < 0.5 * b0[:, None], ASSESS, np.nan)
    crs = rng.choice(5, n, p=[0.3, 0.35, 0.2, 0.1, 0.05] if name.startswith("axi") else [0.7, 0.2, 0.08, 0.02, 0.0])
    hospital = 14 + 3 * crs + rng.integers(0, 5, n)
    imaging = np.searchsorted(ASSESS, np.fmin(np.nan_to_num(death, nan=366), 366), side="right")
    cols = {
        "arm": np.full(n, name), "replicate": np.zeros(n, int), "patient": np.arange(n), "patient_id": np.arange(n),
        "status": np.full(n, "OK", dtype=object), "weight_kg": rng.normal(75, 12, n), "baseline_burden": b0,
        "prior_lines": np.full(n, "2+"), "bsa_m2": np.full(n, 1.9), "dose_cells": np.full(n, 1.5e8),
        "host_t_left": np.full(n, 0.0133), "best_response": best, "cr": cr, "responder": cr | pr,
        "time_to_response_days": ttr, "time_to_cr_days": np.where(cr, ttr, np.nan),
        "duration_of_response_days": np.where(cr | pr, np.fmin(np.nan_to_num(prog, nan=365.0), 365.0) - ttr, np.nan),
        "dor_event": (cr | pr) & np.isfinite(prog), "pfs_days": np.nan_to_num(prog, nan=365.0),
        "pfs_event": np.isfinite(prog), "os_days": np.nan_to_num(death, nan=365.0), "os_event": np.isfinite(death),
        "death_cause": np.where(np.isfinite(death), "tumour", ""), "cure_day": np.full(n, np.nan),
        "crs_grade": crs, "crs_grade_penn": np.minimum(crs + (crs >= 2), 4),
        "crs_onset_days": np.where(crs > 0, rng.uniform(1, 6, n), np.nan),
        "crs_duration_days": np.where(crs > 0, rng.uniform(1, 8, n), 0.0),
        "crs_peak_il6": traj["il6_signal"].max(axis=1), "gvhd": np.zeros(n, bool),
        "icans_grade": np.maximum(crs - 1, 0), "icans_onset_days": np.where(crs > 1, rng.uniform(3, 8, n), np.nan),
        "progression_antigen_negative": np.zeros(n, bool),
        "expansion_fold": traj["product_uL"].max(axis=1) / np.maximum(traj["product_uL"][:, 1], 1e-9),
        "cmax_cells_uL": traj["product_uL"].max(axis=1), "tmax_days": DAYS[traj["product_uL"].argmax(axis=1)],
        "auc0_28_cells_uL_day": traj["product_uL"][:, :28].sum(axis=1), "time_above_lloq_days": np.full(n, 90.0),
        "cmax_copies_ug": traj["car_copies"].max(axis=1), "ctdna_d0": traj["ctdna"][:, 0],
        "ctdna_d7": traj["ctdna"][:, 7],
        "ctdna_d28": traj["ctdna"][:, 28], "doses": np.ones(n, int), "hospital_days": hospital.astype(float),
        "imaging_tests": imaging, "ctdna_tests": imaging + 2, "cost_product": np.full(n, product_cost),
        "cost_manufacturing": np.full(n, manufacturing), "cost_hospital": hospital * 4200.0,
        "cost_monitoring": imaging * 900.0 + (imaging + 2) * 300.0,
    }
    cols["cost_total"] = sum(cols[k] for k in ("cost_product", "cost_manufacturing", "cost_hospital",
                                               "cost_monitoring"))
    # single-shot arms: no policy, no molecular monitoring decisions
    cols.update(infused=np.ones(n, bool), vein_to_vein_days=np.zeros(n))
    cols.update(policy_doses=np.zeros(n, int), first_policy_dose_day=np.full(n, np.nan), last_dose_day=np.zeros(n),
                dose_multiples=np.ones(n), molecular_relapse_day=np.full(n, np.nan),
                transplant_day=np.full(n, np.nan), bridged=np.zeros(n, bool),
                ctdna_lead_time_days=np.full(n, np.nan))
    assert set(cols) == set(COLUMNS)
    return cols


def _wilson(k, n):
    if n == 0:
        return {"estimate": None, "low": None, "high": None, "events": 0, "n": 0, "method": "wilson"}
    p, z = k / n, 1.96
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return {"estimate": p, "low": centre - half, "high": centre + half, "events": int(k), "n": int(n),
            "method": "wilson"}


def _km(days, events):
    kmf = KaplanMeierFitter().fit(days, events)
    m = kmf.median_survival_time_
    s180 = float(kmf.survival_function_at_times(180.0).iloc[0])
    return ({"estimate": None if not np.isfinite(m) else float(m), "low": None, "high": None},
            {"180": {"estimate": s180, "low": max(0.0, s180 - 0.15), "high": min(1.0, s180 + 0.15)}})


def _arm_summary(p):
    n = len(p["arm"])
    pfs, lm_pfs = _km(p["pfs_days"], p["pfs_event"])
    os_, lm_os = _km(p["os_days"], p["os_event"])
    grades = {str(g): int(np.sum(p["crs_grade"] == g)) for g in range(5)}
    responders = int(p["responder"].sum())
    return {
        "n": n, "status": {"OK": n}, "cr_rate": _wilson(int(p["cr"].sum()), n),
        "orr_rate": _wilson(responders, n), "crs_grade3plus_rate": _wilson(int(np.sum(p["crs_grade"] >= 3)), n),
        "median_pfs_days": pfs, "median_os_days": os_, "landmarks": {"pfs": lm_pfs, "os": lm_os},
        "median_time_to_response_days": float(np.nanmedian(p["time_to_response_days"])) if responders else None,
        "median_duration_of_response_days": {"estimate": None, "low": None, "high": None},
        "cmax_cells_uL_median": float(np.median(p["cmax_cells_uL"])),
        "tmax_days_median": float(np.median(p["tmax_days"])),
        "auc0_28_median": float(np.median(p["auc0_28_cells_uL_day"])),
        "ctdna_d28_median": float(np.median(p["ctdna_d28"])),
        "crs_grade_counts": grades,
        "icans_grade_counts": {str(g): int(np.sum(p["icans_grade"] == g)) for g in range(5)},
        "cost_per_patient": float(p["cost_total"].mean()),
        "cost_per_responder": float(p["cost_total"].sum() / responders) if responders else None,
    }


def _replicates(arm_summaries, r=200):
    arms = {}
    for arm, s in arm_summaries.items():
        n, p = s["n"], s["cr_rate"]["estimate"]
        pmf = {str(k): float(v) for k, v in enumerate(binom.pmf(np.arange(n + 1), n, p)) if v > 1e-4}
        mean, sd = n * p, math.sqrt(n * p * (1 - p))
        count = {"mean": mean, "sd": sd, "quantiles": {"5": mean - 1.64 * sd, "50": mean, "95": mean + 1.64 * sd},
                 "distribution": pmf}
        arms[arm] = {"cr_count": count, "responder_count": count, "crs_grade3plus_count": count}
    success = {"criteria": ["CR rate of ft596-like >= 20%", "CRS grade >= 3 rate of ft596-like <= 10%"],
               "probability": {"estimate": 0.72, "low": 0.65, "high": 0.78, "successes": 144, "n": r}}
    return {"n": r, "arms": arms, "success": success}


POLICY_ARM = "ft596-like"
DOSE_KINDS = {"arm": str, "replicate": np.int64, "patient": np.int64, "day": float, "source": str,
              "multiplier": float, "reason": str}


def _add_dose_log(patients, policy_arm):
    """The dose log (``RunData.extra["doses"]``): a regimen dose on day 0 for everyone; in ``policy_arm``
    maintenance every 91 days (even patients) or ctDNA-triggered doses, escalated once, before a
    progression (odd patients). Updates the policy columns of ``patients`` to match."""
    rows = []
    for i, arm in enumerate(patients["arm"]):
        rows.append((i, 0.0, "regimen", 1.0, "regimen"))
        if arm != policy_arm:
            continue
        end = min(patients["os_days"][i] if patients["os_event"][i] else np.inf, 365.0)
        if i % 2 == 0:
            plan = [(d, 1.0, "maintenance") for d in (91.0, 182.0, 273.0)]
        elif patients["pfs_event"][i] and patients["pfs_days"][i] > 60:
            relapse = patients["pfs_days"][i] - 30.0
            plan = [(relapse, 1.0, "ctDNA positive x2"), (relapse + 28.0, 2.0, "ctDNA still positive: escalated")]
            patients["molecular_relapse_day"][i] = relapse - 28.0
            patients["ctdna_lead_time_days"][i] = 58.0
        else:
            plan = []
        rows += [(i, day, "policy", m, why) for day, m, why in plan if day < end]
    idx = np.array([r[0] for r in rows], dtype=np.int64)
    log = {"arm": patients["arm"][idx], "replicate": patients["replicate"][idx], "patient": patients["patient"][idx]}
    log |= {k: np.array([r[j] for r in rows], dtype=DOSE_KINDS[k])
            for j, k in enumerate(("day", "source", "multiplier", "reason"), start=1)}
    policy = log["source"] == "policy"
    n = len(patients["arm"])
    patients["doses"] = np.bincount(idx, minlength=n)
    patients["policy_doses"] = np.bincount(idx[policy], minlength=n)
    patients["dose_multiples"] = np.bincount(idx, weights=log["multiplier"], minlength=n)
    first = np.full(n, np.inf)
    np.minimum.at(first, idx[policy], log["day"][policy])
    patients["first_policy_dose_day"] = np.where(np.isfinite(first), first, np.nan)
    return log


def make_run(n=40, seed=7, arms=ARMS, trajectories=True, replicates=True, title="CD19 CAR-T vs CAR-NK in LBCL",
             doses=True):
    """A RunData with ``n`` patients per arm, trajectories on :data:`DAYS`, a summary dict and (``doses``) a
    dose log in ``extra["doses"]`` with policy doses in the arm :data:`POLICY_ARM` (when the run has it)."""
    rng = np.random.default_rng(seed)
    patients, traj_parts = {}, []
    for name, params in arms.items():
        cols, traj = _arm(name, n, rng, params)
        for k, v in cols.items():
            patients[k] = np.concatenate([patients[k], v]) if k in patients else v
        ids = {"arm": np.repeat(cols["arm"], len(DAYS)), "replicate": np.zeros(n * len(DAYS), int),
               "patient": np.repeat(np.arange(n), len(DAYS)), "day": np.tile(DAYS, n)}
        traj_parts.append(ids | {q: v.ravel() for q, v in traj.items()})
    trajectories_long = {k: np.concatenate([t[k] for t in traj_parts]) for k in traj_parts[0]} if trajectories else None
    extra = {"doses": _add_dose_log(patients, POLICY_ARM)} if doses else {}
    arm_names = list(arms)
    summaries = {a: _arm_summary({k: v[patients["arm"] == a] for k, v in patients.items()}) for a in arm_names}
    comparisons = []
    for other in arm_names[1:]:
        comp = {"arms": [arm_names[0], other]}
        for e in ("pfs", "os"):
            ref, oth = (patients["arm"] == arm_names[0]), (patients["arm"] == other)
            lr = logrank_test(patients[f"{e}_days"][ref], patients[f"{e}_days"][oth],
                              patients[f"{e}_event"][ref], patients[f"{e}_event"][oth])
            comp[e] = {"logrank": {"statistic": float(lr.test_statistic), "p": float(lr.p_value)},
                       "hazard_ratio": {"hr": 1.8, "low": 1.1, "high": 2.9, "p": float(lr.p_value)}}
        comparisons.append(comp)
    summary = {"arms": summaries, "comparisons": comparisons,
               "replicates": _replicates(summaries) if replicates else None}
    meta = {
        "scenario_name": "cd19-cart-vs-nk", "scenario_title": title, "scenario_text": "name: cd19-cart-vs-nk\n",
        "seed": seed, "patients_per_arm": n, "replicates": 200 if replicates else 1, "design": "paired",
        "follow_up_days": 365.0, "package_version": "0.1.0", "git_revision": "dc6412a", "model": "standard (24 states)",
        "started": "2026-03-01T10:00:00Z", "finished": "2026-03-01T10:04:12Z", "status": "finished",
        "endpoint_rules": dict(RULES), "chunks": 1,
        "parameter_changes": [{"arm": "ft596-like", "parameter": "k_kill", "preset_value": 0.8, "value": 0.5,
                               "reason": "sensitivity: weaker killing"}],
        "extrapolation": ["Repeat-dose NK expansion is extrapolated from single-dose data.",
                          "Cost of the NK product is an assumed list price."],
    }
    arm_list = [{"name": a, "product": a, "description": f"{a} product", "dose": "1e8 cells", "regimen": "LD + day 0"}
                for a in arm_names]
    return RunData("run-0001", meta, arm_list, patients, summary, trajectories_long, extra)
