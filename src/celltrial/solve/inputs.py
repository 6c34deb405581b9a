"""Validation and broadcasting of solver inputs (parameters, initial states, tolerances).

Example:
    >>> from celltrial.model.library import exponential_model
    >>> resolve_parameters(exponential_model(), {"r": [0.1, 0.2]}).shape
    (2, 2)
"""

from __future__ import annotations

import numpy as np

from ..errors import InputError, did_you_mean


def _as_column(name, value, n):
    arr = np.asarray(value, dtype=np.float64)
    if arr.ndim == 0:
        return np.full(n, float(arr))
    if arr.shape != (n,):
        raise InputError(f"parameter {name!r}: expected a scalar or shape ({n},), got shape {arr.shape}")
    return arr


def resolve_parameters(model, params=None, n_patients=None, check_bounds=True) -> np.ndarray:
    """Return an (n, n_params) float64 array from defaults plus overrides.

    Args:
        params: None (defaults), a dict name -> scalar or (n,) array, or an (n, n_params) array
            in declaration order.
        n_patients: batch size when it cannot be inferred from ``params``.
        check_bounds: reject values outside the declared bounds (never clamp silently).
    """
    names = model.parameter_names
    if isinstance(params, np.ndarray) or (params is not None and not isinstance(params, dict)):
        arr = np.array(params, dtype=np.float64, ndmin=2)
        if arr.ndim != 2 or arr.shape[1] != len(names):
            raise InputError(f"params array: expected shape (n, {len(names)}), got {np.shape(params)}")
    else:
        params = params or {}
        for name in params:
            if name not in names:
                raise InputError(f"unknown parameter {name!r}{did_you_mean(name, names)}")
        lengths = {np.size(v) for v in params.values() if np.ndim(v) > 0}
        n = n_patients if n_patients is not None else (lengths.pop() if len(lengths) == 1 else 1)
        arr = np.tile(model.default_parameters(), (n, 1))
        for name, value in params.items():
            arr[:, names.index(name)] = _as_column(name, value, n)
    if n_patients is not None and arr.shape[0] != n_patients:
        raise InputError(f"params give {arr.shape[0]} patients but n_patients={n_patients}")
    _check_values(model, arr, check_bounds)
    return np.ascontiguousarray(arr)


def _check_values(model, arr, check_bounds):
    bad = ~np.isfinite(arr)
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise InputError(f"parameter {model.parameter_names[j]!r} of patient {i} is {arr[i, j]}; must be finite")
    if not check_bounds:
        return
    for j, p in enumerate(model.parameters):
        lo, hi = p.bounds
        out = (arr[:, j] < lo) | (arr[:, j] > hi)
        if out.any():
            i = int(np.argmax(out))
            raise InputError(
                f"parameter {p.name!r} of patient {i} is {arr[i, j]:g}, outside its bounds [{lo:g}, {hi:g}] "
                f"({int(out.sum())} patient(s) affected); fix the input or widen the declared bounds"
            )


def _state_index(model, name, where) -> int:
    if name not in model.state_names:
        raise InputError(f"{where}: unknown state {name!r}{did_you_mean(name, model.state_names)}")
    return model.state_names.index(name)


def resolve_initial(compiled, params: np.ndarray, y0=None) -> np.ndarray:
    """(n, n_states) initial states: the model's initial expressions, then overrides."""
    model = compiled.model
    n = params.shape[0]
    y = np.zeros((n, len(model.states)))
    compiled.kernels.initial_batch(params, y)
    if y0 is None:
        return y
    if isinstance(y0, dict):
        for name, value in y0.items():
            y[:, _state_index(model, name, "y0")] = _as_column(name, value, n)
    else:
        arr = np.asarray(y0, dtype=np.float64)
        arr = np.broadcast_to(arr, y.shape) if arr.ndim == 1 else arr
        if arr.shape != y.shape:
            raise InputError(f"y0: expected shape {y.shape} or ({y.shape[1]},), got {np.shape(y0)}")
        y[:] = arr
    if not np.isfinite(y).all():
        raise InputError("y0: initial states must be finite")
    neg = [s.name for j, s in enumerate(model.states) if s.nonnegative and (y[:, j] < 0).any()]
    if neg:
        raise InputError(f"y0: non-negative state(s) {neg} have negative initial values")
    return y


def resolve_atol(model, atol=None) -> np.ndarray:
    """Per-state absolute tolerances: declared values, overridden per state (dict) or replaced (scalar/array)."""
    base = np.array([s.atol for s in model.states], dtype=np.float64)
    if atol is None:
        return base
    if isinstance(atol, dict):
        for name, v in atol.items():
            j = _state_index(model, name, "atol")
            if not v > 0:
                raise InputError(f"atol for {name!r} must be positive, got {v}")
            base[j] = v
        return base
    arr = np.broadcast_to(np.asarray(atol, dtype=np.float64), base.shape).copy()
    if not (arr > 0).all():
        raise InputError(f"atol must be positive, got {atol}")
    return arr
