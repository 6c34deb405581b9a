"""Run a policy inside a segmented simulation: observe on draw days, decide, schedule doses.

The controller is called after the daily checks of the simulation on its :meth:`PolicyController.wake_days`
(see :func:`~celltrial.protocols.extinction.run_with_extinction`'s ``on_check``). On each pending
draw day it turns the true ctDNA into an assay result with the patient's own uniforms,
updates the observed history, and on decision days asks the policy, applies the caps and
schedules the doses for "now" (they are given at the start of the next segment). Days are
handled at the first daily check at or after them.

Example:
    >>> from celltrial.policies.library import Maintenance
    >>> c = PolicyController(Maintenance(every_days=90), assay=None, draw_days=[], uniforms=None,
    ...                      follow_up=365.0, n=2, dose_events=lambda rows, day, m: {})
    >>> c.decision_days.tolist()
    [90.0, 180.0, 270.0, 360.0]
"""

from __future__ import annotations

import numpy as np

from ..trials.response import NE, classify
from .base import Decision, DosingRecord, History, Observations


class PolicyController:
    """Policy state for one chunk of patients.

    Args:
        policy: a policy (e.g. :class:`~celltrial.policies.library.CtDNATrigger`).
        assay: the ctDNA assay (``observe(concentration, u_count, u_fp)``), or None if no draws.
        draw_days: ctDNA draw days.
        uniforms: (n, n_draws, 2) uniforms from each patient's "assay" stream (draw-major).
        follow_up: last day (days).
        n: patients in the chunk.
        dose_events: ``dose_events(rows, day, multipliers) -> {row: [events]}`` builds the doses.
        alive: ``alive(observables) -> (n,) bool`` (default: everyone).
        first_infusion: (n,) day of each patient's first infusion (inf if none); policy doses wait
            ``policy.start_after_days`` after it.
        dose_price: product price of one dose (for ``policy.budget``).
        transplant_day: (n,) per-patient transplant days (bridge-to-transplant policies).
        imaging_days, detection: scan days and the smallest burden a scan sees (cells); scans are
            observed as measurable disease or not.
        mrd_uniforms: (n, n_samples) uniforms of the patients' "mrd" streams (MRD-sampling policies).
        scan_shift: (n,) days each patient's scans move (its manufacturing wait; 0 off the shelf).
        baseline: (n,) burden the baseline scan measured (cells); with ``response`` the controller reads
            each scan as the trial's response rule does (``history.imaging_response``, ``imaging_burden``).
        response: ``{"pr_fraction": ..., "increase": ...}`` of the response rule (``endpoints``).
        steps: a :class:`~celltrial.policies.steps.StepRunner` (conditional protocol steps), or None.
    """

    def __init__(self, policy, *, assay, draw_days, uniforms, follow_up, n, dose_events, alive=None,
                 first_infusion=None, dose_price=0.0, transplant_day=None, imaging_days=(), detection=1e9,
                 mrd_uniforms=None, scan_shift=None, baseline=None, response=None, steps=None):
        self.policy, self.assay, self.uniforms = policy, assay, uniforms
        self.draw_days = np.asarray(sorted(draw_days), dtype=float)
        self.detection = float(detection)
        # each patient's scans follow its own first infusion (a manufacturing wait moves them); a scan
        # is read at the first daily check on or after it
        shift = np.zeros(n) if scan_shift is None else np.asarray(scan_shift, dtype=float)
        scans = np.ceil(np.asarray(sorted(imaging_days), dtype=float)[None, :] + shift[:, None] - 1e-9)
        self.scans = np.where(scans <= follow_up, scans, np.inf)
        self.imaging_days = np.unique(self.scans[np.isfinite(self.scans)])
        days = policy.decision_days(follow_up, self.draw_days, self.imaging_days) if getattr(
            policy, "reads_imaging", False) else policy.decision_days(follow_up, self.draw_days)
        self.decision_days = np.asarray(days, dtype=float)
        self.steps = steps
        self.days = np.union1d(np.union1d(self.draw_days, self.decision_days), self.imaging_days)
        if steps is not None:
            self.days = np.union1d(self.days, steps.wake_days())
        self.mrd = policy.mrd_assay() if hasattr(policy, "mrd_assay") else None
        self.mrd_days = policy.mrd_sample_days(follow_up, self.draw_days) if self.mrd is not None else np.zeros(0)
        self.mrd_uniforms = mrd_uniforms
        # every call the policy saw: (assay "ctdna"/"mrd", draw index k, day, positive, measured, alive);
        # the store keeps these as the arm's assay calls, so a stored call is the one acted on
        self.calls: list = []
        self.next = 0
        self.history, self.record = History.empty(n), DosingRecord.empty(n)
        self.dose_events, self.alive = dose_events, alive
        self.n = n
        first = np.zeros(n) if first_infusion is None else np.asarray(first_infusion, dtype=float)
        self.not_before = first + policy.start_after_days  # inf: never infused, never re-dosed
        self.dose_price, self.spent = float(dose_price), np.zeros(n)
        self.transplant_day = transplant_day
        self.baseline, self.response = baseline, response
        self.scan_burden = np.full(self.scans.shape, np.nan)  # (n, scans) burden each scan measured
        if baseline is not None:  # the baseline scan is the latest until the first assessment
            base = np.asarray(baseline, dtype=float)
            self.history.imaging_burden = np.where(base >= self.detection, base, 0.0)

    def wake_days(self, check_every: float = 1.0) -> np.ndarray:
        """Check days (multiples of ``check_every``) the controller must be called at: the first
        check on or after each draw, scan and decision day."""
        return np.unique(np.ceil(self.days / check_every - 1e-9) * check_every)

    def __call__(self, t: float, sim) -> None:
        while self.next < self.days.size and self.days[self.next] <= t + 1e-9:
            day = self.days[self.next]
            self.next += 1
            self._visit(day, t, sim)

    def _visit(self, day, t, sim) -> None:
        values = sim.observables()
        alive = (sim.status == 0) & (self.alive(values) if self.alive else True)
        ctdna = self._observe(day, values["ctdna"], alive)
        scanned = (self.scans == day).any(axis=1) & alive  # who has a scan today
        obs = Observations(day, ctdna[0] if ctdna else np.zeros(self.n, bool),
                           ctdna[1] if ctdna else np.full(self.n, np.nan),
                           scanned & (values["B_tot"] >= self.detection), alive)
        k = np.searchsorted(self.mrd_days, day)
        if k < self.mrd_days.size and self.mrd_days[k] == day and self.mrd_uniforms is not None:
            positive, measured = self.mrd.measure(values["B_tot"], self.mrd_uniforms[:, k])
            obs.mrd_positive = alive & positive
            self.calls.append(("mrd", int(k), float(day), obs.mrd_positive, np.where(alive, measured, np.nan), alive))
            self.history.update_mrd(obs)
        if ctdna is not None:
            self.history.update(obs)
        if scanned.any():
            self.history.update_imaging(Observations(day, obs.ctdna_positive, obs.ctdna_measured,
                                                     obs.imaging_measurable, scanned))
            self._read_scans(day, scanned, values["B_tot"])
        if self.steps is not None:  # protocol steps first: a policy dose the same day sees their doses
            spent = self.record.cumulative_multiplier.copy()
            self._schedule(sim, self.steps.visit(day, t, values, alive, self.history, self.record))
            self.spent += self.dose_price * (self.record.cumulative_multiplier - spent)
        if not np.isin(day, self.decision_days):
            return
        extra = {} if self.transplant_day is None else {"transplant_day": self.transplant_day}
        decision = self.policy.decide(obs, self.history, self.record, **extra)
        decision = self.policy.caps.apply(decision, self.record, day, alive & (day >= self.not_before - 1e-9))
        if self.policy.budget is not None:  # the budget caps product spending per patient
            cost = self.dose_price * decision.multiplier
            decision.dose &= self.spent + cost <= self.policy.budget + 1e-6
            self.spent += np.where(decision.dose, cost, 0.0)
        self._give(decision, day, t, sim)

    def _observe(self, day, concentration, alive):
        k = np.searchsorted(self.draw_days, day)
        if self.assay is None or k >= self.draw_days.size or self.draw_days[k] != day:
            return None
        u = self.uniforms[:, k, :]
        positive, measured = self.assay.observe(concentration, u[:, 0], u[:, 1])
        positive, measured = np.asarray(positive) & alive, np.where(alive, measured, np.nan)
        self.calls.append(("ctdna", int(k), float(day), positive, measured, np.asarray(alive, bool).copy()))
        return positive, measured

    def _read_scans(self, day, scanned, burden) -> None:
        """Store what today's scans measured (0: nothing measurable) and read the response category so far."""
        today = (self.scans == day) & scanned[:, None]
        measured = np.where(burden >= self.detection, burden, 0.0)
        self.scan_burden = np.where(today, measured[:, None], self.scan_burden)
        self.history.imaging_burden = np.where(scanned, measured, self.history.imaging_burden)
        if self.baseline is None or self.response is None:
            return
        # the trial's own rule on the observed scans (assessments stop at the first PD, so a patient who
        # progressed stays PD: the latest assessed category is the clinic's current reading)
        codes = classify(self.scans, self.scan_burden, np.asarray(self.baseline, dtype=float), np.full(self.n, np.inf),
                         detection=self.detection, **self.response)
        assessed = codes != NE
        last = codes.shape[1] - 1 - np.argmax(assessed[:, ::-1], axis=1)
        self.history.imaging_response = np.where(assessed.any(axis=1), codes[np.arange(self.n), last], NE)

    def _give(self, decision: Decision, day, t, sim) -> None:
        if not decision.dose.any():
            return
        self.record.give(decision.dose, day, decision.multiplier, decision.reason)
        if getattr(self.policy, "relymphodeplete", False):
            self.record.lymphodepletions += decision.dose
        rows = np.flatnonzero(decision.dose)
        self._schedule(sim, self.dose_events(rows, t, decision.multiplier[rows]))

    def _schedule(self, sim, events: dict) -> None:
        if events:
            sim.schedule(patient_events=[events.get(i, []) for i in range(self.n)])
