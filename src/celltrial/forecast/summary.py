"""A forecast as plain data: the JSON of ``celltrial forecast --json`` (pure; no files, no screen).

Bands are given at the origin and then every ``every`` days (the full 6-hourly grid is in
:attr:`~celltrial.forecast.Forecast.bands`); non-finite numbers become None.

Example:
    >>> band_days(56.0, 30.0, 7.0).tolist()
    [56.0, 63.0, 70.0, 77.0, 84.0, 86.0]
"""

from __future__ import annotations

import math

import numpy as np

from .outcomes import QUANTILES

#: Unit of each banded quantity.
UNITS = {"B_tot": "cells", "ctdna": "hGE/mL", "product_uL": "CAR+ cells/uL", "car_copies": "copies/ug gDNA"}


def band_days(origin: float, horizon: float, every: float) -> np.ndarray:
    """Days reported in the bands: origin, every ``every`` days, and the end."""
    return np.unique(np.append(np.arange(origin, origin + horizon, every), origin + horizon))


def _clean(x):
    if isinstance(x, dict):
        return {str(k): _clean(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_clean(v) for v in x]
    if isinstance(x, (float, np.floating)):
        return float(x) if math.isfinite(x) else None
    if isinstance(x, np.integer):
        return int(x)
    return x


def forecast_dict(fc, *, every: float = 7.0) -> dict:
    """JSON-ready summary of a :class:`~celltrial.forecast.Forecast`."""
    post = fc.posterior
    days = band_days(fc.origin, fc.horizon, every)
    idx = np.clip(np.searchsorted(fc.t, days), 0, fc.t.size - 1)
    q = [f"q{100 * p:g}" for p in QUANTILES]
    bands = {name: {"unit": UNITS.get(name, ""), "day": fc.t[idx].tolist(),
                    **{label: b[k, idx].tolist() for k, label in enumerate(q)}} for name, b in fc.bands.items()}
    params = {n: {"map": float(post.map_values[k]), "typical": float(post.typical[k]),
                  "median": float(np.median(post.values[:, k])),
                  "q10": float(np.quantile(post.values[:, k], 0.1)), "q90": float(np.quantile(post.values[:, k], 0.9)),
                  "prior_sd": float(post.prior_sd[k]), "posterior_sd": float(post.post_sd[k]),
                  "sd_ratio": float(post.post_sd[k] / post.prior_sd[k]), "informed": n not in post.not_informed}
              for k, n in enumerate(post.names)}
    return _clean({
        "patient": fc.patient, "origin_day": fc.origin, "horizon_days": fc.horizon,
        "posterior": {"method": post.method, "draws": int(post.eta.shape[0]), "proposals": post.n_proposals,
                      "ess": post.ess, "is_prior": post.is_prior, "not_informed": list(post.not_informed),
                      "parameters": params},
        "draws_used": fc.n_used, "draws_dropped": fc.n_dropped,
        "p_extinct_at_origin": fc.p_extinct,
        "p_progression_by_days_after_origin": fc.p_progression,
        "bands": bands, "actions": list(fc.actions), "timings_s": fc.timings, "notes": list(fc.notes),
    })

