"""Lot size and inventory of an off-the-shelf product (iPSC-NK, allogeneic CAR-T), at trial level.

An off-the-shelf product is made in lots of ``lot_size_doses`` vials (one vial = one unit dose),
cryopreserved with a shelf life. The trial pharmacy starts with ``initial_lots`` available on
day 0 and follows an (s, Q) rule: whenever the inventory position (on hand + on order - doses
owed to waiting patients) is at most ``reorder_point_doses`` it orders a lot, which becomes
available ``lot_lead_time_days`` later and expires ``shelf_life_days`` after that. Vials are
used oldest lot first (FIFO); what is left in a lot when it expires is wasted.

Patients are simulated independently, so inventory is evaluated **after** simulation, from the
trial's dose demand (the dose log: patient, day since that patient's enrolment, dose multiple)
and enrolment days drawn from an accrual model. Stock-outs are *reported* (doses not given on
their day, the wait until a lot arrives, patients affected); they are **not** fed back into
the patient simulations - there a delayed dose was still given on its planned day.

Conventions: trial day 0 is the first patient's enrolment; a dose of multiple ``m`` uses
``ceil(m)`` vials (1.0 -> 1, 1.5 -> 2, 2.0 -> 2, 0.5 -> 1: a partial dose still opens a vial);
a lot available on day a serves doses on days a <= t < a + shelf life; waiting doses are
served first come, first served; routine re-orders stop on the day of the trial's last dose
(the sponsor closes supply then), but a dose still waiting always gets a lot.

Example:
    >>> spec = InventorySpec(lot_size_doses=10, shelf_life_days=100, lot_lead_time_days=20,
    ...                      initial_lots=1, reorder_point_doses=0, accrual_per_month=3.044)
    >>> res = simulate_inventory(spec, [0, 1, 2], [0.0, 0.0, 0.0])
    >>> res.enrolment_days.tolist(), res.n_lots, res.doses_wasted
    ([0.0, 10.0, 20.0], 1, 7)
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections import deque
from dataclasses import dataclass
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from ..errors import InputError

#: days per month of the accrual rate (365.25 / 12)
DAYS_PER_MONTH = 30.44
#: slack so a multiple such as 2.0000000001 (float noise) is 2 vials, not 3
_CEIL_SLACK = 1e-9
#: event ranks on one day: an expiring lot is gone before an arriving one serves anybody,
#: and both happen before that day's doses
_EXPIRE, _ARRIVE, _DOSE = 0, 1, 2
_DAY, _DOSE_UNIT = {"unit": "day"}, {"unit": "dose"}


class InventorySpec(BaseModel):
    """Lots, shelf life, re-ordering and accrual of one arm's off-the-shelf product."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    lot_size_doses: int = Field(ge=1, description="vials (unit doses) per lot", json_schema_extra=_DOSE_UNIT)
    shelf_life_days: float = Field(gt=0, description="usable time of a lot once available", json_schema_extra=_DAY)
    lot_lead_time_days: float = Field(0.0, ge=0, description="order to release of a lot", json_schema_extra=_DAY)
    initial_lots: int = Field(1, ge=0, description="lots available on trial day 0")
    reorder_point_doses: int = Field(0, ge=0, description="order a lot when on hand + on order - owed <= this",
                                     json_schema_extra=_DOSE_UNIT)
    lot_cost: float | None = Field(None, ge=0, description="cost of one lot (null: not costed)",
                                   json_schema_extra={"unit": "currency"})
    accrual_per_month: float = Field(gt=0, description="patients enrolled per 30.44 days",
                                     json_schema_extra={"unit": "patient/month"})
    accrual: Literal["uniform", "poisson"] = Field(
        "uniform", description="uniform: patient i enrols on day i/rate; poisson: exponential gaps (needs rng)")


def enrolment_days(spec: InventorySpec, n_patients: int, rng: np.random.Generator | None = None) -> np.ndarray:
    """Trial day (day) each of ``n_patients`` enrols; patient 0 on day 0.

    ``uniform`` is deterministic (patient i on day i / rate); ``poisson`` draws exponential gaps
    of mean 1 / rate from ``rng``, which it then requires.

    Example:
        >>> enrolment_days(InventorySpec(lot_size_doses=1, shelf_life_days=1, accrual_per_month=30.44), 3)
        array([0., 1., 2.])
    """
    if not isinstance(n_patients, (int, np.integer)) or n_patients < 0:
        raise InputError(f"n_patients must be an integer >= 0; got {n_patients!r}")
    mean_gap = DAYS_PER_MONTH / spec.accrual_per_month
    if spec.accrual == "uniform":
        return np.arange(n_patients) * mean_gap
    if not isinstance(rng, np.random.Generator):
        raise InputError("rng: poisson accrual draws enrolment gaps; pass a numpy Generator "
                         "(np.random.default_rng(seed))")
    gaps = rng.exponential(mean_gap, size=max(n_patients - 1, 0))
    return np.concatenate([[0.0], np.cumsum(gaps)])[:n_patients]


def vials_needed(multiples) -> np.ndarray:
    """Vials (unit doses) each dose uses: ``ceil(m)``, at least 1, ignoring float noise below 1e-9.

    Example:
        >>> vials_needed([1.0, 1.5, 2.0, 0.5]).tolist()
        [1, 2, 2, 1]
    """
    m = np.asarray(multiples, dtype=float)
    return np.maximum(np.ceil(m - _CEIL_SLACK), 1).astype(np.int64)


@dataclass(frozen=True)
class InventoryResult:
    """What the inventory did over the trial (days are trial days; doses are vials).

    Per dose (input order): ``patient_ids``, ``due_days``, ``given_days`` (NaN: not given by the
    horizon or due after it), ``vials``. Per lot (initial lots first): ``lot_order_days`` (NaN for
    initial lots), ``lot_arrival_days``, ``lot_used``, ``lot_wasted``.
    """

    enrolment_days: np.ndarray
    patient_ids: np.ndarray
    due_days: np.ndarray
    given_days: np.ndarray
    vials: np.ndarray
    lot_order_days: np.ndarray
    lot_arrival_days: np.ndarray
    lot_used: np.ndarray
    lot_wasted: np.ndarray
    doses_on_hand_at_horizon: int
    lot_size: int
    lot_cost: float | None
    horizon_days: float

    def __post_init__(self):
        for value in vars(self).values():  # results are values: their arrays are read-only
            if isinstance(value, np.ndarray):
                value.flags.writeable = False

    @property
    def n_lots(self) -> int:
        """Lots made (initial and ordered by the horizon, including those still on order)."""
        return len(self.lot_arrival_days)

    @property
    def doses_delivered(self) -> int:
        return int(self.vials[~np.isnan(self.given_days)].sum())

    @property
    def doses_wasted(self) -> int:
        """Vials left in lots that expired by the horizon."""
        return int(self.lot_wasted.sum())

    @property
    def delay_days(self) -> np.ndarray:
        """Wait of each dose (day): 0 on time; censored at the horizon if still waiting; NaN if due after it."""
        waited = np.where(np.isnan(self.given_days), self.horizon_days, self.given_days) - self.due_days
        return np.where(self.due_days > self.horizon_days, np.nan, waited)

    @property
    def stockouts(self) -> np.ndarray:
        """True for each dose that could not be given on its day."""
        return np.nan_to_num(self.delay_days, nan=0.0) > 0

    @property
    def stockout_patients(self) -> np.ndarray:
        return np.unique(self.patient_ids[self.stockouts])

    @property
    def utilisation(self) -> float:
        """Fraction of the vials made that were delivered (NaN when no lot was made)."""
        made = self.n_lots * self.lot_size
        return self.doses_delivered / made if made else math.nan

    @property
    def cost_per_delivered_dose(self) -> float | None:
        """lot_cost x lots / vials delivered (currency per vial, wastage included); None if not costed."""
        if self.lot_cost is None:
            return None
        delivered = self.doses_delivered
        return self.lot_cost * self.n_lots / delivered if delivered else math.nan

    def summary(self) -> dict:
        """Scalars for a report: lots, delivered, wasted, on hand, stock-outs, delay, utilisation, cost."""
        return {"lots": self.n_lots, "doses_delivered": self.doses_delivered, "doses_wasted": self.doses_wasted,
                "doses_on_hand_at_horizon": self.doses_on_hand_at_horizon,
                "stockouts": int(self.stockouts.sum()), "stockout_patients": len(self.stockout_patients),
                "total_delay_days": float(np.nansum(self.delay_days)), "utilisation": self.utilisation,
                "cost_per_delivered_dose": self.cost_per_delivered_dose}


class _Ledger:
    """Mutable stock during one event pass (private; the result is built from it at the end)."""

    def __init__(self, spec: InventorySpec, n_doses: int, last_due: float):
        self.spec, self.last_due = spec, last_due
        self.heap, self.seq = [], itertools.count()
        self.order_day, self.arrival_day, self.remaining, self.used, self.wasted = [], [], [], [], []
        self.fifo, self.waiting = deque(), deque()  # lots by age; (dose, vials) owed, first come first
        self.on_hand = self.on_order = self.owed = 0
        self.given = np.full(n_doses, np.nan)

    def push(self, t: float, rank: int, item: int) -> None:
        heapq.heappush(self.heap, (t, rank, next(self.seq), item))

    def order(self, t: float, arrival: float) -> None:
        for column, value in zip((self.order_day, self.arrival_day, self.remaining, self.used, self.wasted),
                                 (t, arrival, 0, 0, 0), strict=True):
            column.append(value)
        self.on_order += self.spec.lot_size_doses
        self.push(arrival, _ARRIVE, len(self.arrival_day) - 1)

    def reorder(self, t: float) -> None:
        # Routine (s, Q) orders only while demand remains; afterwards only what waiting doses need.
        threshold = self.spec.reorder_point_doses if t < self.last_due else -1
        while self.on_hand + self.on_order - self.owed <= threshold:
            self.order(t, t + self.spec.lot_lead_time_days)

    def arrive(self, t: float, lot: int) -> None:
        size = self.remaining[lot] = self.spec.lot_size_doses
        self.on_order, self.on_hand = self.on_order - size, self.on_hand + size
        self.fifo.append(lot)
        self.push(t + self.spec.shelf_life_days, _EXPIRE, lot)
        self.serve(t)

    def expire(self, t: float, lot: int) -> None:
        left = self.remaining[lot]
        if left:
            self.fifo.remove(lot)  # the oldest lot, as every lot keeps for the same time
            self.wasted[lot], self.remaining[lot] = left, 0
            self.on_hand -= left
        self.reorder(t)

    def dose(self, t: float, k: int, vials: int) -> None:
        self.waiting.append((k, vials))
        self.owed += vials
        self.serve(t)
        self.reorder(t)

    def run(self, horizon: float, vials: np.ndarray) -> None:
        """Process events in time order up to ``horizon`` (day)."""
        # One pass over a heap of events: stock couples every dose to all earlier ones (what is
        # left, what expired, what is on order), and arrivals/expiries are created as we go, so
        # the pass cannot be vectorised; it is exact and O(events log events).
        while self.heap and self.heap[0][0] <= horizon:
            t, rank, _, item = heapq.heappop(self.heap)
            if rank == _EXPIRE:
                self.expire(t, item)
            elif rank == _ARRIVE:
                self.arrive(t, item)
            else:
                self.dose(t, item, int(vials[item]))

    def serve(self, t: float) -> None:
        while self.waiting and self.on_hand >= self.waiting[0][1]:
            k, need = self.waiting.popleft()
            self.owed -= need
            self.on_hand -= need
            self.given[k] = t
            while need:  # FIFO: oldest lot first; a dose may span two lots
                lot = self.fifo[0]
                take = min(need, self.remaining[lot])
                self.remaining[lot] -= take
                self.used[lot] += take
                need -= take
                if not self.remaining[lot]:
                    self.fifo.popleft()


def simulate_inventory(spec: InventorySpec, patient_ids, dose_days, dose_multiples=None, *,
                       n_patients: int | None = None, horizon_days: float | None = None,
                       rng: np.random.Generator | None = None) -> InventoryResult:
    """Run the trial's inventory over its dose demand, exactly (event by event).

    **Main arguments** (1-d arrays of one length, one row per dose given, e.g. the dose log's
    ``patient``, ``day`` and ``multiplier`` columns for one arm and replicate; see
    :func:`demand_from_log`):
        spec: lots, shelf life, re-ordering and accrual.
        patient_ids: integer patient index >= 0; patient i is the i-th to enrol.
        dose_days: day of the dose since that patient's enrolment (day, >= 0).
        dose_multiples: multiple of the arm's dose (default 1); uses ``ceil(m)`` vials.

    **Other arguments**:
        n_patients: patients enrolled (default max id + 1); patients without doses still enrol.
        horizon_days: trial day the books close (default: never - every lot ends used or
            expired). Doses due after it are left out; a dose still waiting at it is a stock-out
            with its wait censored there; unexpired stock is ``doses_on_hand_at_horizon``.
        rng: numpy Generator, required for ``poisson`` accrual.

    Returns an :class:`InventoryResult`. Raises :class:`InputError` naming the bad argument.

    Example:
        >>> spec = InventorySpec(lot_size_doses=4, shelf_life_days=30, accrual_per_month=30.44)
        >>> simulate_inventory(spec, [0, 0], [0.0, 7.0], [1.0, 2.0]).doses_delivered
        3
    """
    pid, due_rel, vials, n = _demand_arrays(patient_ids, dose_days, dose_multiples, n_patients)
    horizon = math.inf if horizon_days is None else float(horizon_days)
    if not horizon >= 0:
        raise InputError(f"horizon_days must be >= 0 (trial day); got {horizon_days!r}")
    enrol = enrolment_days(spec, n, rng)
    due = enrol[pid] + due_rel  # vectorised; the pass below must then go in time order
    ledger = _Ledger(spec, len(due), float(due.max()) if len(due) else -math.inf)
    for _ in range(spec.initial_lots):
        ledger.order(math.nan, 0.0)
    for k in np.lexsort((np.arange(len(due)), pid, due)):
        ledger.push(float(due[k]), _DOSE, int(k))
    ledger.run(horizon, vials)
    return InventoryResult(
        enrol, pid, due, ledger.given, vials, np.array(ledger.order_day, float),
        np.array(ledger.arrival_day, float), np.array(ledger.used, np.int64), np.array(ledger.wasted, np.int64),
        int(ledger.on_hand), spec.lot_size_doses, spec.lot_cost, horizon)


def demand_from_log(log) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(patient_ids, dose_days, dose_multiples) from a dose log: a pandas DataFrame or a dict of
    arrays with columns ``patient`` and ``day`` and optionally ``multiplier`` (default 1). Filter it
    to one arm and one replicate first: each is its own trial with its own inventory.

    Example:
        >>> demand_from_log({"patient": [0, 1], "day": [0.0, 0.0]})[2].tolist()
        [1.0, 1.0]
    """
    missing = [c for c in ("patient", "day") if c not in log]
    if missing:
        raise InputError(f"dose log: missing column(s) {missing}; it needs 'patient', 'day' (and 'multiplier')")
    day = np.asarray(log["day"], dtype=float)
    multiple = np.asarray(log["multiplier"], dtype=float) if "multiplier" in log else np.ones(len(day))
    return np.asarray(log["patient"]), day, multiple


def _demand_arrays(patient_ids, dose_days, dose_multiples, n_patients):
    """Validated (patient index, day, vials) arrays and the number of patients."""
    try:
        days = np.asarray(dose_days, dtype=float)
        multiples = np.ones(days.shape) if dose_multiples is None else np.asarray(dose_multiples, dtype=float)
    except (TypeError, ValueError) as exc:
        raise InputError(f"dose_days and dose_multiples must be numbers: {exc}") from None
    raw = np.asarray(patient_ids)
    if days.ndim != 1 or raw.shape != days.shape or multiples.shape != days.shape:
        raise InputError(f"patient_ids, dose_days and dose_multiples must be 1-d arrays of one length; got shapes "
                         f"{raw.shape}, {days.shape} and {multiples.shape}")
    if raw.size and (raw.dtype.kind not in "iuf" or not np.all(np.isfinite(raw)) or np.any(raw < 0)
                     or np.any(raw != np.round(raw))):
        raise InputError("patient_ids must be integer patient indices >= 0 (patient i enrols i-th)")
    if not np.all(np.isfinite(days)) or np.any(days < 0):
        raise InputError("dose_days must be finite days since the patient's enrolment, >= 0")
    if not np.all(np.isfinite(multiples)) or np.any(multiples <= 0):
        raise InputError("dose_multiples must be finite multiples of the arm's dose, > 0")
    needed = int(raw.max()) + 1 if raw.size else 0
    if n_patients is not None and (not isinstance(n_patients, (int, np.integer)) or n_patients < needed):
        raise InputError(f"n_patients must be an integer >= the largest patient id + 1 ({needed}); got {n_patients!r}")
    return raw.astype(np.int64), days, vials_needed(multiples), needed if n_patients is None else int(n_patients)
