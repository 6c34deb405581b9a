"""Reference problems and error metrics shared by the numerics tests and benchmarks."""

import numpy as np
from scipy.integrate import solve_ivp

from celltrial.solve import Bolus


def trajectory_error(x, ref, floor=1.0):
    """max |x - ref| / max(|ref|, floor): relative above `floor`, absolute below it."""
    return float(np.max(np.abs(x - ref) / np.maximum(np.abs(ref), floor)))


def cart_doses(first=1e8, later=5e7, days=(90.0, 180.0, 270.0)):
    """Day-0 infusion plus repeat doses, 20 % stem-like memory / 80 % effector cells."""
    comp = {"S": 0.2, "E": 0.8}
    return [Bolus.split(0.0, first, comp)] + [Bolus.split(d, later, comp) for d in days]


def scipy_reference(compiled, p, y0, doses, t_eval, rtol=1e-10, atol=1e-10):
    """Radau solve restarted at each dose; the value saved on a dose day is post-dose."""
    idx = {n: i for i, n in enumerate(compiled.model.state_names)}
    y = np.array(y0, dtype=float)
    t = float(t_eval[0])
    stops = sorted({d.time for d in doses if d.time > t} | {float(t_eval[-1])})
    out = np.empty((len(t_eval), len(y)))
    for stop in [t, *stops]:
        if stop > t:
            sel = (t_eval >= t) & (t_eval < stop)
            sol = solve_ivp(lambda _t, yy: compiled.rhs(yy, p), (t, stop), y, method="Radau",
                            rtol=rtol, atol=atol, dense_output=True)
            out[sel] = sol.sol(t_eval[sel]).T
            y = sol.y[:, -1].copy()
            t = stop
        for d in (d for d in doses if d.time == t):
            for name, amount in d.amounts.items():
                y[idx[name]] += amount
    out[t_eval == t] = y
    return out
