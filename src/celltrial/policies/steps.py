"""Conditional steps at run time: each patient's step days, the reading of the condition, the administrations.

A :class:`StepRunner` is built per chunk from a :class:`~celltrial.policies.conditional.ConditionalSteps`
and called by the :class:`~celltrial.policies.controller.PolicyController` on every day it visits. A
step's day is the patient's regimen day 0 plus ``on_day``, read at the first daily check on or after
it (as scans are); patients never infused have no step day. The items of a step are realised once
(regimen algebra) and, for each patient, shifted to the check day (plus a re-manufacture wait when they
contain an infusion of an autologous product) and cut at the follow-up. Product doses go into the
dosing record (one entry per infusion, on its own day, so they reach the dose log, ``policy_doses``
and costs); Flu/Cy courses are counted in ``record.lymphodepletions``.

Example:
    >>> from celltrial.policies.conditional import ConditionalSteps
    >>> spec = ConditionalSteps.model_validate({"steps": [{"on_day": 28, "when": {"response": ["PR", "SD"]},
    ...                                                    "give": [{"action": "infusion"}]}]})
    >>> runner = StepRunner(spec, np.array([0.0, 3.5, np.inf]), follow_up=365.0, delay=None,
    ...                     events=lambda row, table: [])
    >>> runner.days[:, 0].tolist(), runner.wake_days().tolist()
    ([28.0, 32.0, inf], [28.0, 32.0])
"""

from __future__ import annotations

import numpy as np

from ..protocols.regimens import Regimen
from .conditional import Seen, progressed


class StepRunner:
    """The steps of one chunk of patients.

    Args:
        spec: the :class:`~celltrial.policies.conditional.ConditionalSteps`.
        start: (n,) day each patient's regimen day 0 fell on (inf: never infused, no step).
        follow_up: last day (days); step days and administrations after it are dropped.
        delay: ``delay(rows) -> (len(rows),) days`` until a step with an infusion can start (an autologous
            product is re-manufactured), or None (off the shelf: no wait).
        events: ``events(row, table) -> [solver events]`` of a patient's shifted dose table.
        mrd_uniforms: (n, number of MRD steps) uniforms of the patients' "mrd" streams, or None.
    """

    def __init__(self, spec, start, *, follow_up, delay, events, mrd_uniforms=None):
        self.spec, self.follow_up, self.delay, self.events = spec, float(follow_up), delay, events
        on = np.array([s.on_day for s in spec.steps], dtype=float)
        days = np.ceil(np.asarray(start, dtype=float)[:, None] + on[None, :] - 1e-9)
        self.days = np.where(days <= self.follow_up, days, np.inf)  # (n, steps)
        self.tables = [(Regimen(items=s.give).realise(self.follow_up),
                        Regimen(items=s.otherwise).realise(self.follow_up) if s.otherwise else None)
                       for s in spec.steps]
        self.mrd_column = {k: j for j, k in enumerate(spec.mrd_steps())}
        self.mrd_uniforms = mrd_uniforms

    def wake_days(self) -> np.ndarray:
        """Days some patient has a step on."""
        return np.unique(self.days[np.isfinite(self.days)])

    def visit(self, day, t, values, alive, history, record) -> dict:
        """Read the steps due today and give their items; returns {row: [events]} to schedule."""
        out: dict = {}
        for k, step in enumerate(self.spec.steps):
            due = alive & (self.days[:, k] == day)
            if not due.any():
                continue
            held = step.when.holds(self.seen(k, values, history))
            due &= step.eligible(progressed(history))
            give, otherwise = self.tables[k]
            for table, mask, flag in ((give, due & held, True), (otherwise, due & ~held, False)):
                if table is not None and mask.any():
                    self._administer(table, np.flatnonzero(mask), t, record, step.reason(k, flag), out)
        return out

    def seen(self, k: int, values, history) -> Seen:
        """What the clinic knows on step ``k``'s day: the history, plus an MRD sample if the step takes one."""
        ctdna = np.where(history.consecutive_positive > 0, 1, np.where(history.consecutive_negative > 0, 0, -1))
        mrd = None
        step = self.spec.steps[k]
        if step.when.mrd is not None and self.mrd_uniforms is not None:
            mrd = step.when.mrd_assay.observe(values["B_tot"], self.mrd_uniforms[:, self.mrd_column[k]])
        return Seen(history.imaging_response, history.imaging_burden, ctdna, mrd)

    def _administer(self, table, rows, t, record, reason, out) -> None:
        """Give ``table`` to ``rows`` from check day ``t``; record its product doses and Flu/Cy courses."""
        infusion, ld = table.action == "infusion", table.action == "lymphodepletion"
        wait = self.delay(rows) if infusion.any() and self.delay is not None else np.zeros(rows.size)
        start = t + np.asarray(wait, dtype=float)
        for row, s in zip(rows, start, strict=True):
            events = self.events(int(row), table.shift(float(s)).before(self.follow_up))
            out.setdefault(int(row), []).extend(events)
        n = record.doses.size
        for j in np.flatnonzero(infusion):  # one record entry per infusion, on the day it is given
            days = np.full(n, np.nan)
            days[rows] = start + table.day[j]
            mask = np.zeros(n, bool)
            mask[rows] = days[rows] < self.follow_up
            record.give(mask, days, np.full(n, table.amount[j]), np.full(n, reason, dtype=object))
        record.lymphodepletions[rows] += (start[:, None] + table.day[ld][None, :] < self.follow_up).sum(axis=1)
