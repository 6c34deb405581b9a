"""One virtual patient of a scenario, in full: every state and observable, and the events that shaped it.

The events include the doses and the stochastic population draws (extinction checks), so the
course can be replayed exactly by any SBML tool from :func:`patient_sbml`.

Example:
    >>> from celltrial.scenarios import load_scenario
    >>> plan = TrialPlan(load_scenario("scenarios/quickstart.yaml")[0])    # doctest: +SKIP
    >>> course = simulate_patient(plan, "axi-cel", 0)                        # doctest: +SKIP
    >>> course.columns["B_tot"][0] > 0                                       # doctest: +SKIP
    True
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InputError, did_you_mean
from ..solve import compile as compile_model
from .design import TrialPlan
from .runner import simulate_rows


@dataclass
class PatientCourse:
    """columns: "time" and every state and observable (model identifiers); params: name -> value;
    events: the patient's events in order (doses, drawn population sizes); patient_id: stream id."""

    columns: dict
    params: dict
    events: list
    patient_id: int


def arm_index(plan: TrialPlan, arm: str) -> int:
    names = [a.name for a in plan.arms]
    if arm not in names:
        raise InputError(f"no arm named {arm!r}{did_you_mean(arm, names)}; arms: {names}")
    return names.index(arm)


def simulate_patient(plan: TrialPlan, arm: str, patient: int, *, step: float = 1.0, compiled=None) -> PatientCourse:
    """Patient ``patient`` (row of replicate 0) of ``arm``, saved every ``step`` days to the end of follow-up."""
    index = arm_index(plan, arm)
    if not (isinstance(patient, (int, np.integer)) and 0 <= patient < plan.patients):
        raise InputError(f"patient must be an index in [0, {plan.patients}) (patients per arm), got {patient!r}")
    if not step > 0:
        raise InputError(f"step must be a positive number of days, got {step}")
    end = plan.scenario.follow_up_days
    grid = np.unique(np.append(np.arange(0.0, end, step), end))
    log = []
    compiled = compiled or compile_model(plan.model)
    result, _, cohort, weights, _, logistics, protocol = simulate_rows(plan, compiled, index, [patient], grid=grid,
                                                                       save=None, log=log)
    events = plan.patient_events(plan.arms[index], weights, logistics, protocol)[0] + [e for _, e in log]
    events.sort(key=lambda e: e.time)  # stable: same-time events keep the solver's order
    params = dict(zip(plan.model.parameter_names, cohort.params[0].tolist(), strict=True))
    return PatientCourse(result.patient(0), params, events, int(cohort.patient_ids[0]))
