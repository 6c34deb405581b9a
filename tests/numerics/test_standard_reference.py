"""The standard model solved by celltrial against scipy's Radau at tight tolerance (independent truth)."""

import numpy as np

from celltrial.presets import combined_parameters, load_disease, load_product
from celltrial.protocols import lymphodepletion, radiotherapy, t_cell_infusion, tocilizumab
from celltrial.solve import simulate
from celltrial.solve.inputs import resolve_initial, resolve_parameters

from ..helpers import scipy_reference, trajectory_error


def test_standard_model_matches_radau(standard):
    params = combined_parameters(load_disease("lbcl"), load_product("axi-cel-like"))
    events = [lymphodepletion(0.0), t_cell_infusion(0.0, 1.4e8), tocilizumab(5.0)] + radiotherapy([20.0], 4.0)
    t = np.linspace(0.0, 120.0, 121)
    res = simulate(standard, {k: [v] for k, v in params.items()}, t_end=120.0, events=events, save_at=t)
    p = resolve_parameters(standard.model, {k: [v] for k, v in params.items()}, None, True)[0]
    y0 = resolve_initial(standard, p[None, :], None)[0]
    ref = scipy_reference(standard, p, y0, events, t, rtol=1e-10, atol=1e-12)
    names = standard.model.state_names
    for state, floor in {"Bp": 1.0, "EFF": 1.0, "CM": 1.0, "N": 1.0, "IL6": 1e-3, "Toc": 1e-3, "R_allo": 1e-6}.items():
        err = trajectory_error(res[state][0], ref[:, names.index(state)], floor=floor)
        assert err < 1e-4, (state, err)
