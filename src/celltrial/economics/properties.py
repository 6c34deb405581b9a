"""Model-derived patient properties of a run's patients (T-cell fitness, antigen-negative share,
growth rate, ...): each patient's sampled parameters, drawn again from the scenario and its seed.

A run stores its scenario text and seed, and every patient's parameters come from its own stream
(``patient_id``), so they are recomputed exactly without having been stored. Only parameters with
between-patient variability in some arm are returned, on a log10 scale (their variability is
log-normal), labelled with the model's own description.

Example:
    >>> props = model_properties(scenario, patients)                  # doctest: +SKIP
    >>> props["fit_T"].label                                           # doctest: +SKIP
    'patient T-cell fitness: multiplier of antigen-driven division (fit_T)'
"""

from __future__ import annotations

import numpy as np

from ..errors import InputError
from .benefit import Covariate


def run_covariates(run, parameters: bool = True) -> dict:
    """name -> :class:`Covariate` of a stored run (``celltrial.trials.rundata.RunData``): the patients table's
    covariates, and with ``parameters`` each patient's model properties, drawn again from the run's stored
    scenario text, size and seed (none when the run stored no scenario text)."""
    import yaml

    from ..scenarios.schema import Scenario
    from ..trials.trial import apply_overrides
    from .benefit import table_covariates

    out = table_covariates(run.patients)
    if parameters and run.meta.get("scenario_text"):
        scenario = Scenario.model_validate(yaml.safe_load(run.meta["scenario_text"]))
        scenario = apply_overrides(scenario, patients=run.meta.get("patients_per_arm"),
                                   replicates=run.meta.get("replicates"), seed=run.meta.get("seed"))
        out.update(model_properties(scenario, run.patients, patients_per_arm=run.meta.get("patients_per_arm")))
    return out


def model_properties(scenario, patients: dict, *, patients_per_arm: int | None = None) -> dict:
    """name -> :class:`Covariate` of every varying parameter, aligned with the rows of ``patients``.

    ``patients`` needs ``arm``, ``replicate`` and ``patient``; ``patients_per_arm`` (per replicate)
    defaults to the largest ``patient`` index + 1.
    """
    from ..trials.design import TrialPlan

    missing = [c for c in ("arm", "replicate", "patient") if c not in patients]
    if missing:
        raise InputError(f"model_properties: the patients table lacks {missing}")
    arm = np.asarray(patients["arm"]).astype(str)
    patient = np.asarray(patients["patient"], dtype=np.int64)
    per_arm = int(patients_per_arm or (patient.max(initial=-1) + 1))
    plan = TrialPlan(scenario, patients=max(per_arm, 1))
    names = sorted({n for a in plan.arms for n in a.spec.variability.omega})
    described = {p.name: p.description for p in plan.model.parameters}
    values = {n: np.full(arm.size, np.nan) for n in names}
    rows = np.asarray(patients["replicate"], dtype=np.int64) * per_arm + patient
    for a in plan.arms:
        mine = np.flatnonzero(arm == a.name)
        if mine.size == 0:
            continue
        cohort = plan.sample(a, rows[mine])
        for n in names:
            values[n][mine] = cohort.parameter(n)
    return {n: Covariate(values[n], f"{described.get(n, n)} ({n})", log=True) for n in names}
