"""Adaptive dosing policies: what a clinic decides from what it observes, vectorised over patients.

A policy sees only observations (assay results drawn from each patient's own "assay" stream,
imaging) and its own record of doses, never the model's true state. At each of its decision
days it returns a :class:`Decision` for every patient: dose or not, a multiplier of the arm's
dose, and the reason. Caps (maximum doses, minimum interval) are applied after the policy, so
every policy obeys them the same way.

Example:
    >>> record = DosingRecord.empty(2)
    >>> record.give(np.array([True, False]), 30.0, np.array([1.0, 1.0]), np.array(["maintenance", ""]))
    >>> record.doses.tolist(), record.last_dose_day.tolist()
    ([1, 0], [30.0, -inf])
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class Observations:
    """What the clinic saw at one decision day (n patients; NaN/False where not measured).

    Attributes:
        day: decision day.
        ctdna_positive: (n,) assay called positive today.
        ctdna_measured: (n,) measured ctDNA (hGE/mL plasma; 0 if no molecule was seen).
        imaging_measurable: (n,) disease measurable by imaging today (False if no scan today).
        alive: (n,) patient alive and on protocol.
    """

    day: float
    ctdna_positive: np.ndarray
    ctdna_measured: np.ndarray
    imaging_measurable: np.ndarray
    alive: np.ndarray
    mrd_positive: np.ndarray | None = None  # (n,) MRD assay positive today (None: no MRD sample today)


@dataclass
class History:
    """The observed history the policy may use (updated after every decision day)."""

    consecutive_positive: np.ndarray  # (n,) positive draws in a row, ending at the last draw
    consecutive_negative: np.ndarray
    nadir: np.ndarray  # (n,) lowest measured ctDNA so far (hGE/mL)
    last_measured: np.ndarray
    first_positive_after_negative: np.ndarray  # (n,) molecular relapse day (inf if none yet)
    seen_negative: np.ndarray
    last_negative_day: np.ndarray  # (n,) day of the last negative draw (-inf if none)
    imaging_cr_day: np.ndarray = None  # (n,) first scan without measurable disease (inf if none)
    imaging_relapse_day: np.ndarray = None  # (n,) first measurable scan after that (inf if none)
    mrd_consecutive_positive: np.ndarray = None  # (n,) MRD-positive samples in a row
    imaging_burden: np.ndarray = None  # (n,) burden the latest scan measured (cells; 0: none measurable; NaN: none)
    imaging_response: np.ndarray = None  # (n,) response code of the latest assessed scan (trials.response; 4: NE)

    @classmethod
    def empty(cls, n: int) -> History:
        return cls(np.zeros(n, np.int64), np.zeros(n, np.int64), np.full(n, np.inf), np.full(n, np.nan),
                   np.full(n, np.inf), np.zeros(n, bool), np.full(n, -np.inf), np.full(n, np.inf),
                   np.full(n, np.inf), np.zeros(n, np.int64), np.full(n, np.nan), np.full(n, 4, np.int8))

    def update_mrd(self, obs: Observations) -> None:
        """An MRD sample: count positive samples in a row."""
        pos = obs.alive & obs.mrd_positive
        self.mrd_consecutive_positive = np.where(obs.alive, np.where(pos, self.mrd_consecutive_positive + 1, 0),
                                                 self.mrd_consecutive_positive)

    def update_imaging(self, obs: Observations) -> None:
        """A scan: remission (no measurable disease) and relapse (measurable again after it)."""
        clear = obs.alive & ~obs.imaging_measurable
        self.imaging_cr_day = np.where(clear & ~np.isfinite(self.imaging_cr_day), obs.day, self.imaging_cr_day)
        relapse = (obs.alive & obs.imaging_measurable & np.isfinite(self.imaging_cr_day)
                   & ~np.isfinite(self.imaging_relapse_day))
        self.imaging_relapse_day = np.where(relapse, obs.day, self.imaging_relapse_day)

    def update(self, obs: Observations) -> None:
        pos, alive = obs.ctdna_positive & obs.alive, obs.alive
        self.consecutive_positive = np.where(alive, np.where(pos, self.consecutive_positive + 1, 0),
                                             self.consecutive_positive)
        self.consecutive_negative = np.where(alive, np.where(pos, 0, self.consecutive_negative + 1),
                                             self.consecutive_negative)
        relapse = pos & self.seen_negative & ~np.isfinite(self.first_positive_after_negative)
        self.first_positive_after_negative = np.where(relapse, obs.day, self.first_positive_after_negative)
        self.seen_negative |= alive & ~pos
        self.last_negative_day = np.where(alive & ~pos, obs.day, self.last_negative_day)
        self.nadir = np.where(alive, np.minimum(self.nadir, obs.ctdna_measured), self.nadir)
        self.last_measured = np.where(alive, obs.ctdna_measured, self.last_measured)


@dataclass
class Decision:
    """Per patient: give a dose now, its multiplier of the arm's dose, and why."""

    dose: np.ndarray
    multiplier: np.ndarray
    reason: np.ndarray

    @classmethod
    def none(cls, n: int) -> Decision:
        return cls(np.zeros(n, bool), np.ones(n), np.full(n, "", dtype=object))


@dataclass
class DosingRecord:
    """Doses the policy has given (not counting the arm's initial regimen)."""

    doses: np.ndarray
    last_dose_day: np.ndarray
    cumulative_multiplier: np.ndarray
    last_multiplier: np.ndarray
    log: list = field(default_factory=list)  # (patient row, day, multiplier, reason)
    lymphodepletions: np.ndarray | None = None  # (n,) Flu/Cy courses given with policy doses

    @classmethod
    def empty(cls, n: int) -> DosingRecord:
        return cls(np.zeros(n, np.int64), np.full(n, -np.inf), np.zeros(n), np.ones(n),
                   lymphodepletions=np.zeros(n, np.int64))

    def give(self, mask, day, multiplier, reason) -> None:
        """Record a dose for the patients in ``mask`` on ``day`` (a day, or (n,) days one per patient)."""
        days = np.broadcast_to(np.asarray(day, dtype=float), mask.shape)
        self.doses += mask
        self.last_dose_day = np.where(mask, days, self.last_dose_day)
        self.last_multiplier = np.where(mask, multiplier, self.last_multiplier)
        self.cumulative_multiplier += np.where(mask, multiplier, 0.0)
        self.log.extend((int(i), float(days[i]), float(multiplier[i]), str(reason[i])) for i in np.flatnonzero(mask))


@dataclass(frozen=True)
class Caps:
    """Limits every policy obeys: at most ``max_doses`` policy doses, ``min_interval_days`` apart."""

    max_doses: int | None = None
    min_interval_days: float = 0.0

    def apply(self, decision: Decision, record: DosingRecord, day: float, alive: np.ndarray) -> Decision:
        allowed = alive & (day - record.last_dose_day >= self.min_interval_days)
        if self.max_doses is not None:
            allowed &= record.doses < self.max_doses
        return Decision(decision.dose & allowed, decision.multiplier, decision.reason)
