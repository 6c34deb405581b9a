"""Compare an imported model, simulated by celltrial, with libRoadRunner on the same SBML file.

Both run at tight tolerances (roadrunner's CVODE at rtol 1e-14: at 1e-12 it is itself ~4e-6 off
its converged solution on the Lotka-Volterra model of Chaudhury 2020, while celltrial at 1e-10
is within 3e-8 of its own 1e-13 solution). Output times that fall on an event are left out:
which side of the jump a simulator reports there is a convention, not accuracy. The error of a
quantity is ``max |celltrial - roadrunner| /
max(|roadrunner|, floor)`` over the output times, where ``floor = 1e-9 * max |roadrunner|`` of
that quantity keeps values near extinction (a tumour at 1e-12 of its peak) from dividing by zero.

Example:
    >>> # see tests/sbml_import/test_biomodels.py; needs libroadrunner (pip install libroadrunner)
"""

from __future__ import annotations

import numpy as np

from ..errors import MissingDependencyError
from .model import import_sbml
from .run import simulate_sbml


def roadrunner_module():
    try:
        import roadrunner
    except ImportError:
        raise MissingDependencyError("the comparison needs libroadrunner: pip install libroadrunner") from None
    return roadrunner


def _selection(model, sid) -> str:
    element, _, _ = model.sbml.kinds[sid]
    if element == "species" and not model.sbml.species[sid][1]:
        return f"[{sid}]"  # roadrunner's concentration of a species; its plain id is the amount
    return sid


def roadrunner_trajectories(path, ids, times, rtol=1e-14, atol=1e-16) -> np.ndarray:
    """(len(times), len(ids)) trajectories from libRoadRunner (CVODE) at the given tolerances."""
    rr_mod = roadrunner_module()
    model = import_sbml(path)
    r = rr_mod.RoadRunner(str(path))
    r.integrator.relative_tolerance = rtol
    r.integrator.absolute_tolerance = atol
    r.integrator.maximum_num_steps = 1_000_000
    r.timeCourseSelections = ["time", *(_selection(model, sid) for sid in ids)]
    out = np.asarray(r.simulate(float(times[0]), float(times[-1]), len(times)))
    np.testing.assert_allclose(out[:, 0], times, rtol=0, atol=1e-9 * max(1.0, float(times[-1])))
    return out[:, 1:]


def compared_ids(model) -> list:
    """SBML ids of the quantities that change: states (not the clock) and assignment-rule variables."""
    dynamic = {n for n in model.quantity_names if n != model.sbml.clock}
    return [sid for sid, (el, name, _) in model.sbml.kinds.items() if name in dynamic and "/" not in sid]


def compare(path, t_end: float, n_points: int = 1001, rtol: float = 1e-10) -> dict:
    """{SBML id: relative error} of celltrial against libRoadRunner over [0, t_end]."""
    model = import_sbml(path)
    times = np.linspace(0.0, float(t_end), int(n_points))
    ids = compared_ids(model)
    ours = simulate_sbml(model, times, rtol=rtol, atol=1e-14)
    theirs = roadrunner_trajectories(path, ids, times)
    keep = ~np.isin(times, [e.time for e in model.events])
    errors = {}
    for j, sid in enumerate(ids):
        ref = theirs[keep, j]
        floor = 1e-9 * max(float(np.max(np.abs(ref))), 1e-300)
        mine = ours[model.sbml.kinds[sid][1]][keep]
        errors[sid] = float(np.max(np.abs(mine - ref) / np.maximum(np.abs(ref), floor)))
    return errors
