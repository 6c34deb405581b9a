"""The run summary's ``economics`` block: per arm QALYs, life-years and costs under each payment
model; against the reference arm incremental cost and QALYs, ICER, net monetary benefit, the
cost-effectiveness plane and acceptability curve across replicate trials; a budget-impact view.

Perspective: the payer (health care sector). Costs are the simulated ones (``cost_total``) with
the product part replaced by each payment model's payments; costs other than the product fall in
the first weeks and are counted undiscounted on day 0; product payments are discounted on their
days. Means are per enrolled patient with solver status OK (intention to treat).

Example:
    >>> import numpy as np
    >>> n = 4
    >>> p = {"arm": np.array(["a", "a", "b", "b"]), "replicate": np.zeros(n, int), "status": np.array(["OK"] * n),
    ...      "pfs_days": np.full(n, 365.25), "pfs_event": np.ones(n, bool), "os_days": np.full(n, 365.25),
    ...      "os_event": np.ones(n, bool), "crs_grade": np.zeros(n, int), "doses": np.ones(n, int),
    ...      "dose_multiples": np.ones(n), "cost_product": np.array([10.0, 10, 20, 20]),
    ...      "cost_total": np.array([10.0, 10, 20, 20]), "last_dose_day": np.zeros(n)}
    >>> s = economics_summary(p, {"discounting": {"rate": 0.0}}, prices={"a": 10.0, "b": 20.0},
    ...                       follow_up_days=365.25)
    >>> s["arms"]["a"]["qalys"], s["comparisons"][0]["payment_models"]["list"]["incremental_cost"]
    (0.73, 10.0)
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..errors import InputError
from ..trials.statistics import arm_codes, ok_mask
from .cea import incremental, plane_and_curve
from .discounting import DAYS_PER_YEAR
from .extrapolation import STANDARD, fit_survival
from .payment import PAYMENT_COLUMNS, PaymentModel, first_dose_day, product_payments
from .qaly import QALY_COLUMNS, Utilities, patient_qalys

#: Acceptability curve thresholds (currency per QALY): 0 to 300,000 in steps of 10,000.
CEAC_GRID = tuple(float(w) for w in range(0, 300_001, 10_000))
_DEFAULT_UTILITIES = Utilities()


def _utilities(d: dict) -> Utilities:
    return Utilities(progression_free=d.get("progression_free", _DEFAULT_UTILITIES.progression_free),
                     progressed=d.get("progressed", _DEFAULT_UTILITIES.progressed),
                     crs_by_grade=tuple(d.get("crs_by_grade", _DEFAULT_UTILITIES.crs_by_grade)),
                     icans_by_grade=tuple(d.get("icans_by_grade", _DEFAULT_UTILITIES.icans_by_grade)),
                     icans_episode_days=d.get("icans_episode_days", _DEFAULT_UTILITIES.icans_episode_days),
                     hospital_day=d.get("hospital_day", _DEFAULT_UTILITIES.hospital_day))


def _models(settings: dict) -> list:
    out = [PaymentModel("list", "list")]
    for m in settings.get("payment_models") or []:
        m = dict(m)
        out.append(PaymentModel(m.pop("name"), m.pop("kind"), price=m.pop("price", None),
                                milestones_days=tuple(m.pop("milestones_days", ())), **m))
    return out


def _per_arm(value, arm: str, default):
    """A number for every arm, an arm -> number mapping (missing arms: ``default``), or None -> default."""
    if isinstance(value, dict):
        return value.get(arm, default)
    return default if value is None else value


def _mean(x) -> float | None:
    x = np.asarray(x, dtype=float)
    return float(x.mean()) if x.size else None


class _Settings:
    """The block's settings resolved from the scenario's ``economics`` mapping (``model_dump()``)."""

    def __init__(self, settings: dict, follow_up_days: float):
        disc, ext = settings.get("discounting") or {}, settings.get("extrapolation") or {}
        self.rate, self.method = float(disc.get("rate", 0.035)), disc.get("method", "annual")
        horizon = ext.get("horizon_years")
        self.horizon_days = None if horizon is None else float(horizon) * DAYS_PER_YEAR
        self.extrapolate = self.horizon_days is not None and self.horizon_days > follow_up_days
        self.distributions = tuple(ext.get("distributions") or STANDARD)
        self.cycle_days = float(ext.get("cycle_days", 7.0))
        self.maintenance_cost = ext.get("maintenance_cost_per_year")
        self.utilities = _utilities(settings.get("utilities") or {})
        self.wtp = [float(w) for w in settings.get("willingness_to_pay") or (50_000.0, 100_000.0, 150_000.0)]
        self.models = _models(settings)
        self.cogs = settings.get("cost_of_goods_per_dose")
        self.patients_per_year = int(settings.get("patients_per_year", 1000))
        self.follow_up_days = float(follow_up_days)


def _arm_rows(p: dict, mask: np.ndarray) -> dict:
    rows = {k: np.asarray(v)[mask] for k, v in p.items()}
    rows["first_dose_day"] = first_dose_day(rows)
    return rows


def arm_qalys(rows: dict, s: _Settings) -> tuple:
    """(PFS and OS fits or None, keyword arguments of :func:`patient_qalys`, discounted per-patient QALY
    parts) of one arm's rows: fitted on these rows when the horizon passes the follow-up."""
    fits = None
    if s.extrapolate:
        fits = (fit_survival(rows["pfs_days"], rows["pfs_event"], s.distributions),
                fit_survival(rows["os_days"], rows["os_event"], s.distributions))
    kw = {"horizon_days": s.horizon_days, "fits": fits, "cycle_days": s.cycle_days}
    return fits, kw, patient_qalys(rows, s.utilities, rate=s.rate, method=s.method, **kw)


def care_costs(rows: dict, arm: str, s: _Settings, q: dict) -> np.ndarray:
    """Per-patient costs other than the product (currency): the simulated ones, plus the ongoing
    maintenance cost beyond follow-up (``extrapolation.maintenance_cost_per_year``, per discounted
    progression-free tail year of patients progression-free with more than one dose at censoring)."""
    care = np.asarray(rows["cost_total"], dtype=float) - np.asarray(rows["cost_product"], dtype=float)
    per_year = _per_arm(s.maintenance_cost, arm, None)
    if per_year is None:
        return care
    on = (np.asarray(rows["doses"], dtype=float) > 1) & ~np.asarray(rows["pfs_event"], dtype=bool)
    return care + float(per_year) * np.where(on, q["tail_years_progression_free"], 0.0)


def _arm_block(rows: dict, arm: str, s: _Settings, list_price: float) -> tuple:
    """(JSON block, per-patient {model: payer cost}, per-patient QALYs) of one arm."""
    fits, kw, q = arm_qalys(rows, s)
    q0 = patient_qalys(rows, s.utilities, rate=0.0, method=s.method, **kw)
    care = care_costs(rows, arm, s, q)
    cogs = _per_arm(s.cogs, arm, None)
    doses = np.asarray(rows["doses"], dtype=float)
    models, payer = {}, {}
    for m in s.models:
        # a price given per arm resolves here; the model then prices at its "list" price
        pay = product_payments(replace(m, price=None), rows, list_price=float(_per_arm(m.price, arm, list_price)),
                               rate=s.rate, method=s.method)
        payer[m.name] = care + pay["paid_discounted"]
        models[m.name] = {
            "kind": m.kind, "payer_cost_per_patient": _mean(payer[m.name]),
            "product_payment_per_patient": _mean(pay["paid_discounted"]),
            "product_payment_undiscounted_per_patient": _mean(pay["paid"]),
            "maker_revenue_per_patient": _mean(pay["paid_discounted"]),
            "maker_margin_per_patient": None if cogs is None else _mean(
                pay["paid"] - float(cogs) * np.asarray(rows["dose_multiples"], dtype=float)),
        }
    maintenance = np.maximum(np.nan_to_num(np.asarray(rows["last_dose_day"], dtype=float) - rows["first_dose_day"]),
                             0.0) / DAYS_PER_YEAR
    block = {"n": int(doses.size), "qalys": _mean(q["qalys"]), "qalys_undiscounted": _mean(q0["qalys"]),
             "life_years": _mean(q["life_years"]), "life_years_undiscounted": _mean(q0["life_years"]),
             "qaly_parts": {k: _mean(q[k]) for k in ("progression_free", "progressed", "tail_progression_free",
                                                      "tail_progressed", "crs", "icans", "hospital")},
             "care_cost_per_patient": _mean(care), "doses_per_patient": _mean(doses),
             "maintenance_years_per_patient": _mean(maintenance), "list_price_per_dose": float(list_price),
             "payment_models": models,
             "extrapolation": None if fits is None else {"pfs": fits[0].as_dict(), "os": fits[1].as_dict()}}
    if s.maintenance_cost is not None:
        sim = np.asarray(rows["cost_total"], dtype=float) - np.asarray(rows["cost_product"], dtype=float)
        block["cost_beyond_follow_up_per_patient"] = _mean(care - sim)
    return block, payer, q["qalys"]


def economics_summary(patients: dict, settings: dict, *, prices: dict, follow_up_days: float,
                      reference_arm: str | None = None) -> dict:
    """The ``economics`` block (JSON-ready) of a run; see the module docstring.

    Args:
        patients: column -> (n,) array with ``arm``, ``replicate``, ``status``, ``cost_total`` and the
            columns of :data:`QALY_COLUMNS` and :data:`PAYMENT_COLUMNS`.
        settings: the scenario's ``economics`` block as a mapping (``Economics.model_dump()``); missing
            keys take the defaults.
        prices: arm -> list price of one dose (currency).
        follow_up_days: the run's follow-up (day); a horizon beyond it is extrapolated.
        reference_arm: arm the others are compared with (default: the first).
    """
    need = ("arm", "replicate", "status", "cost_total", *QALY_COLUMNS, *PAYMENT_COLUMNS)
    missing = [c for c in need if c not in patients]
    if missing:
        raise InputError(f"economics: the patients table lacks {missing}")
    s = _Settings(settings, follow_up_days)
    names, codes = arm_codes(patients["arm"])
    ref = reference_arm or (names[0] if names else None)
    if names and ref not in names:
        raise InputError(f"economics: reference arm {ref!r} is not one of {names}")
    unpriced = [a for a in names if a not in prices]
    if unpriced:
        raise InputError(f"economics: prices lack arms {unpriced}")
    ok = ok_mask(patients)
    arms, per_patient = {}, {}
    for i, name in enumerate(names):
        rows = _arm_rows(patients, (codes == i) & ok)
        arms[name], payer, qalys = _arm_block(rows, name, s, float(prices[name]))
        per_patient[name] = (payer, qalys, rows["replicate"], rows["doses"])
    comparisons = [_comparison(per_patient, arms, ref, other, s) for other in names if other != ref]
    return {"settings": _settings_echo(s), "reference_arm": ref, "arms": arms, "comparisons": comparisons,
            "budget_impact": _budget(arms, s)}


def _comparison(per_patient: dict, arms: dict, ref: str, other: str, s: _Settings) -> dict:
    out = {"arms": [ref, other], "payment_models": {}}
    qa, qb = arms[ref]["qalys"], arms[other]["qalys"]
    for m in s.models:
        ca, cb = (arms[a]["payment_models"][m.name]["payer_cost_per_patient"] for a in (ref, other))
        block = incremental(ca, qa, cb, qb, s.wtp) if None not in (ca, cb, qa, qb) else None
        if block is not None:
            side = [{"cost": per_patient[a][0][m.name], "qalys": per_patient[a][1], "replicate": per_patient[a][2]}
                    for a in (ref, other)]
            block["replicates"] = plane_and_curve(*side, CEAC_GRID)
        out["payment_models"][m.name] = block
    return out


def _budget(arms: dict, s: _Settings) -> dict:
    n = s.patients_per_year
    out = {"patients_per_year": n, "arms": {}}
    for name, a in arms.items():
        out["arms"][name] = {
            "doses_per_year": None if a["doses_per_patient"] is None else n * a["doses_per_patient"],
            "maintenance_patient_years_per_year": None if a["maintenance_years_per_patient"] is None
            else n * a["maintenance_years_per_patient"],
            "product_spend_per_year": {k: None if m["product_payment_undiscounted_per_patient"] is None
                                       else n * m["product_payment_undiscounted_per_patient"]
                                       for k, m in a["payment_models"].items()},
        }
    return out


def _settings_echo(s: _Settings) -> dict:
    u = s.utilities
    return {"perspective": "payer (health care sector)", "discount_rate": s.rate, "discounting": s.method,
            "horizon_days": s.horizon_days if s.extrapolate else s.follow_up_days,
            "extrapolation": "parametric (lowest AIC of " + ", ".join(s.distributions) + ")" if s.extrapolate
            else "none (within-trial: the horizon is the follow-up)",
            "half_cycle": "trapezoid on a grid of " + f"{s.cycle_days:g} days" if s.extrapolate else None,
            "utilities": {"progression_free": u.progression_free, "progressed": u.progressed,
                          "crs_by_grade": list(u.crs_by_grade), "icans_by_grade": list(u.icans_by_grade),
                          "icans_episode_days": u.icans_episode_days, "hospital_day": u.hospital_day},
            "willingness_to_pay": s.wtp, "payment_models": [m.name for m in s.models]}
