"""Payment models for the product: what the payer pays the maker for each patient, and when.

Every model turns a patient's course into payment events (amount, day) and flows (amount per year
over a span of days); the payer's product cost and the maker's product revenue are the same
payments, so they reconcile patient by patient (refunds are negative payments). Days count from
day 0 of the patients table; dose days are spread evenly from the first infusion to the last dose
(exact for a regular maintenance interval; the per-patient table keeps only the first and last).

Models (``kind``):

* ``list``: the simulated ``cost_product`` (list price x dose multiples), paid on each dose day.
* ``upfront``: one ``price`` on the first infusion; every later dose is included.
* ``outcomes_based``: ``upfront_share`` of ``price`` on the first infusion and the rest in equal parts
  at each milestone (days after the first infusion) reached progression-free (``mode:
  instalments``); or all of it upfront and each part refunded at a milestone not reached
  progression-free (``mode: refund``). Progression-free at a milestone: ``pfs_days`` (progression or
  death, else the last assessment) is at or after it.
* ``per_dose``: ``price`` per dose (scaled by the dose multiple, as the list price), paid per dose
  until ``max_paid_doses`` doses or ``cap`` in total are paid; later doses are free.
* ``subscription``: ``upfront`` on the first infusion, then ``annual_fee`` per patient-year of
  maintenance (first infusion to last dose), accruing continuously.

Example:
    >>> import numpy as np
    >>> p = {"doses": np.array([3]), "dose_multiples": np.array([3.0]), "cost_product": np.array([300.0]),
    ...      "first_dose_day": np.array([0.0]), "last_dose_day": np.array([60.0]),
    ...      "pfs_days": np.array([400.0])}
    >>> m = PaymentModel("cap2", "per_dose", price=100.0, max_paid_doses=2)
    >>> float(product_payments(m, p, list_price=100.0, rate=0.0, method="annual")["paid"][0])
    200.0
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InputError
from .discounting import DAYS_PER_YEAR, factor, integral

KINDS = ("list", "upfront", "outcomes_based", "per_dose", "subscription")
#: Columns the payment models read (``first_dose_day``: see :func:`first_dose_day`).
PAYMENT_COLUMNS = ("doses", "dose_multiples", "cost_product", "last_dose_day", "pfs_days")


@dataclass(frozen=True)
class PaymentModel:
    """One payment model (plain values; the scenario's ``economics.payment_models`` entries map to it).

    ``price`` None means the arm's list price of one dose."""

    name: str
    kind: str
    price: float | None = None
    upfront_share: float = 0.0
    milestones_days: tuple = ()
    mode: str = "instalments"
    max_paid_doses: int | None = None
    cap: float | None = None
    upfront: float | None = None
    annual_fee: float = 0.0

    def __post_init__(self):
        if self.kind not in KINDS:
            raise InputError(f"economics.payment_models.{self.name}.kind: {self.kind!r} is not one of {KINDS}")
        if self.kind == "outcomes_based" and not self.milestones_days and self.upfront_share < 1.0:
            raise InputError(f"economics.payment_models.{self.name}.milestones_days: give at least one milestone "
                             "(or upfront_share: 1)")
        if self.mode not in ("instalments", "refund"):
            raise InputError(f"economics.payment_models.{self.name}.mode: {self.mode!r}; use instalments or refund")


def first_dose_day(p: dict) -> np.ndarray:
    """Day of the first infusion: the manufacturing wait of autologous arms with logistics, else 0."""
    n = np.shape(p["doses"])[0]
    wait = np.asarray(p.get("vein_to_vein_days", np.zeros(n)), dtype=float)
    return np.where(np.isfinite(wait), wait, 0.0)


def _dose_days(p: dict) -> np.ndarray:
    """(n, max doses) days of each dose, NaN past a patient's last; spread evenly first..last."""
    doses = np.asarray(p["doses"], dtype=int)
    first = np.asarray(p["first_dose_day"], dtype=float)
    last = np.asarray(p["last_dose_day"], dtype=float)
    last = np.where(np.isfinite(last), last, first)
    k = np.arange(max(int(doses.max(initial=0)), 1))
    step = np.where(doses > 1, (last - first) / np.maximum(doses - 1, 1), 0.0)
    days = first[:, None] + k[None, :] * step[:, None]
    return np.where(k[None, :] < doses[:, None], days, np.nan)


def _events(model: PaymentModel, p: dict, price: float):
    """(amounts (n, k), days (n, k)) payment events, plus flows [(per year (n,), start (n,), end (n,))]."""
    doses = np.asarray(p["doses"], dtype=int)
    treated = doses > 0
    first = np.asarray(p["first_dose_day"], dtype=float)
    if model.kind in ("list", "per_dose"):
        days = _dose_days(p)
        per_dose = np.asarray(p["dose_multiples"], dtype=float) / np.maximum(doses, 1)
        unit = (np.asarray(p["cost_product"], dtype=float) / np.maximum(doses, 1) if model.kind == "list"
                else price * per_dose)
        amounts = np.where(np.isfinite(days), unit[:, None], 0.0)
        return _capped(model, amounts), days, []
    if model.kind == "upfront":
        return np.where(treated, price, 0.0)[:, None], first[:, None], []
    if model.kind == "subscription":
        upfront = price if model.upfront is None else model.upfront
        last = np.asarray(p["last_dose_day"], dtype=float)
        end = np.where(treated & np.isfinite(last), np.maximum(last, first), first)
        return np.where(treated, upfront, 0.0)[:, None], first[:, None], [(model.annual_fee * treated, first, end)]
    return _outcomes(model, p, price, treated, first)


def _capped(model: PaymentModel, amounts: np.ndarray) -> np.ndarray:
    if model.kind != "per_dose":
        return amounts
    if model.max_paid_doses is not None:
        amounts = amounts * (np.arange(amounts.shape[1]) < model.max_paid_doses)[None, :]
    if model.cap is not None:  # pay each dose only up to what is left under the cap
        paid_before = np.cumsum(amounts, axis=1) - amounts
        amounts = np.clip(model.cap - paid_before, 0.0, amounts)
    return amounts


def _outcomes(model: PaymentModel, p: dict, price: float, treated, first):
    m = np.asarray(model.milestones_days, dtype=float)
    share = (1.0 - model.upfront_share) / max(m.size, 1)
    at = first[:, None] + m[None, :]
    reached = np.asarray(p["pfs_days"], dtype=float)[:, None] >= at
    if model.mode == "instalments":
        upfront, parts = model.upfront_share * price, np.where(reached, share * price, 0.0)
    else:
        upfront, parts = price, np.where(reached, 0.0, -share * price)
    amounts = np.concatenate([np.full((first.size, 1), upfront), parts], axis=1) * treated[:, None]
    return amounts, np.concatenate([first[:, None], at], axis=1), []


def product_payments(model: PaymentModel, p: dict, *, list_price: float, rate: float, method: str) -> dict:
    """Per-patient product payments under ``model``: ``paid`` (undiscounted) and ``paid_discounted``.

    ``p`` needs :data:`PAYMENT_COLUMNS` and ``first_dose_day``; ``list_price`` is the arm's price of
    one dose (the default ``price``). Payer's product cost = maker's product revenue = these payments.
    """
    price = float(list_price if model.price is None else model.price)
    amounts, days, flows = _events(model, p, price)
    safe_days = np.where(np.isfinite(days), days, 0.0)
    paid = amounts.sum(axis=1)
    discounted = (amounts * factor(safe_days, rate, method)).sum(axis=1)
    for per_year, start, end in flows:
        paid = paid + per_year * np.maximum(end - start, 0.0) / DAYS_PER_YEAR
        discounted = discounted + per_year * integral(start, end, rate, method)
    return {"paid": paid, "paid_discounted": discounted}
