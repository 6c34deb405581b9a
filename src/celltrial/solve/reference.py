"""An independent reference solution with scipy's ``solve_ivp`` (Radau by default).

Used by the tests and the benchmarks as "independent truth": the integration restarts at
every event time and applies the same events (boluses, scalings, parameter switches) in
Python. Slow (one patient at a time); do not use it for cohorts.

Example:
    >>> import numpy as np
    >>> from celltrial.model.library import exponential_model
    >>> from celltrial.solve import compile
    >>> m = compile(exponential_model())
    >>> out = scipy_reference(m, np.array([0.1, 1.0]), np.array([1.0]), [], np.array([0.0, 10.0]))
    >>> round(float(out[-1, 0]), 6)
    2.718282
"""

from __future__ import annotations

import numpy as np

from ..errors import SolverError
from .events import apply_event, pack_events


def scipy_reference(compiled, p, y0, events, t_eval, method="Radau", rtol=1e-10, atol=1e-10):
    """(len(t_eval), n_states) trajectory of one patient; values on event times are post-event.

    Args:
        compiled: a CompiledModel; p: (n_params,) parameters; y0: (n_states,) state before
        any event at t_eval[0]; events: celltrial events; t_eval: sorted output times (days).
    """
    from scipy.integrate import solve_ivp

    packed = pack_events(compiled.model, 1, events)
    records = [(packed.time[0, j], packed.kind[0, j], packed.index[0, j], packed.value[0, j])
               for j in range(packed.count[0])]
    y, p = np.array(y0, dtype=float), np.array(p, dtype=float)
    t = float(t_eval[0])
    stops = sorted({r[0] for r in records if r[0] > t} | {float(t_eval[-1])})
    out = np.empty((len(t_eval), y.size))
    for stop in [t, *stops]:
        if stop > t:
            sel = (t_eval >= t) & (t_eval < stop)
            frozen = p.copy()  # parameters are constant within a segment
            sol = solve_ivp(lambda _t, yy, q=frozen: compiled.rhs(yy, q), (t, stop), y, method=method,
                            rtol=rtol, atol=atol, dense_output=True)
            if not sol.success:
                raise SolverError(f"scipy_reference: {method} failed at t={sol.t[-1]:g} on the way to {stop:g}: "
                                  f"{sol.message}; this reference is unusable for this patient")
            out[sel] = sol.sol(t_eval[sel]).T
            y, t = sol.y[:, -1].copy(), stop
        for _, kind, idx, val in (r for r in records if r[0] == t):
            apply_event(kind, idx, val, y, p)
    out[t_eval == t] = y
    return out
