"""Simulate an imported SBML model and read results by SBML id, as amounts or concentrations.

States and observables come from the solver; quantities the import made parameters (constant
or boundary species, parameters that only events change) are reconstructed from their value
and the model's SetParameter events, so every SBML id has a trajectory.

Example:
    >>> # see tests/sbml_import/test_import.py::test_simulate_by_sbml_id
"""

from __future__ import annotations

import numpy as np

from ..errors import InputError
from ..solve import simulate
from ..solve.events import SetParameter


def simulate_sbml(model, times, *, params=None, rtol: float = 1e-10, atol: float = 1e-14, hmax=None,
                  max_steps: int = 1_000_000) -> dict:
    """Trajectories of every state, observable and parameter of ``model`` at ``times`` (one patient).

    Args:
        model: an :class:`~celltrial.sbml_import.SBMLModel`.
        times: output times in the model's time unit (sorted, >= 0; the model starts at 0).
        params: parameter overrides {name: value}.
        rtol, atol: solver tolerances (relative; absolute in each state's unit).
        hmax: largest step (default: no limit); max_steps: step budget.

    Returns: {celltrial name: (len(times),) array} plus "status" (0 when integrated to the end).
    """
    times = np.asarray(times, dtype=float)
    if times.size == 0 or times[0] < 0:
        raise InputError("simulate_sbml: give output times >= 0 (SBML models start at time 0)")
    options = {} if hmax is None else {"hmax": float(hmax)}
    res = simulate(model, params, n_patients=1, t_end=float(times[-1]), save_at=times, events=model.events,
                   rtol=rtol, atol=atol, max_steps=max_steps, **options)
    out = {name: res[name][0] for name in model.quantity_names}
    values = dict(zip(model.parameter_names, model.default_parameters().tolist(), strict=True))
    values.update(params or {})
    for name, value in values.items():
        out[name] = _parameter_trajectory(model.events, name, value, times)
    if model.sbml.clock:
        _exact_time(model, out, times)
    out["status"] = int(res.status[0])
    return out


def _exact_time(model, out, times):
    """Observables re-evaluated with the clock at the exact output times.

    The clock state is integrated (t0 + sum of steps), so at t = 2 it may read 1.9999999999999998;
    a rule like floor(time) or piecewise(..., time < 1, ...) must see 2, as SBML means.
    """
    from ..solve import compile as compile_model

    out[model.sbml.clock] = times.copy()
    if not model.observables:
        return
    y = np.ascontiguousarray(np.stack([out[s] for s in model.state_names], axis=1))
    p = np.ascontiguousarray(np.stack([out[q] for q in model.parameter_names], axis=1)) if model.parameters \
        else np.zeros((times.size, 0))
    obs = np.zeros((times.size, len(model.observables)))
    compile_model(model).kernels.observe_batch(y, p, obs)
    for j, name in enumerate(model.observable_names):
        out[name] = obs[:, j].copy()


def _parameter_trajectory(events, name, value, times):
    traj = np.full(times.shape, float(value))
    for ev in events:  # in time order; a value saved at an event time is the post-event value
        if isinstance(ev, SetParameter) and name in ev.values:
            traj[times >= ev.time] = ev.values[name]
    return traj


def sbml_value(model, out: dict, sid: str, as_amount: bool | None = None) -> np.ndarray:
    """The trajectory of SBML id ``sid``; species converted to amount or concentration on request.

    ``as_amount=None`` returns the species in its own units (concentration unless
    hasOnlySubstanceUnits).
    """
    kinds = model.sbml.kinds
    if sid not in kinds:
        raise InputError(f"{sid!r} is not an SBML id of model {model.name!r}")
    element, name, _ = kinds[sid]
    value = out[name]
    if element != "species" or as_amount is None:
        return value
    compartment, in_amounts = model.sbml.species[sid]
    if as_amount == in_amounts:
        return value
    return value * out[compartment] if as_amount else value / out[compartment]
