"""Protocol events of the standard model: lymphodepletion, infusions, radiotherapy, drugs, switch.

Each helper returns solver events (values, not code paths) naming the standard model's
states, so a regimen is a plain list that can be inspected, concatenated and exported.

Example:
    >>> [type(e).__name__ for e in radiotherapy([0.0, 1.0], dose_gy=2.0)]
    ['Bolus', 'Bolus']
"""

from __future__ import annotations

import math

from ..errors import InputError
from ..solve.events import Bolus, ScaleState

#: Host T cells left at the Flu/Cy nadir: Kimmel 2021's N(0) = 3e9 cells at infusion from N0 = 2.25e11.
FLU_CY_REMAINING = 0.0133


def _positive(name, value, allow_zero=True):
    ok = isinstance(value, (int, float)) and math.isfinite(value) and (value >= 0 if allow_zero else value > 0)
    if not ok:
        raise InputError(f"{name} must be a {'non-negative' if allow_zero else 'positive'} number, got {value!r}")
    return float(value)


def _times(times):
    times = [times] if isinstance(times, (int, float)) else list(times)
    if not times:
        raise InputError("give at least one time (days)")
    return [float(t) for t in times]


def lymphodepletion(time: float = 0.0, remaining: float = FLU_CY_REMAINING,
                    cd4_remaining: float | None = None) -> ScaleState:
    """Lymphodepletion: host T cells scaled to ``remaining`` and CD4 help to ``cd4_remaining`` (0-1;
    default: ``remaining``) at ``time`` (days). The defaults are the reference Flu/Cy course; other
    regimens get their depths from :class:`celltrial.protocols.conditioning.Conditioning`.

    Flu/Cy is given on days -5 to -3; its effect is placed at its nadir, the infusion day
    (time 0, applied before an infusion at the same time), where Kimmel 2021 measured N(0).
    """
    cd4 = remaining if cd4_remaining is None else cd4_remaining
    for name, value in (("remaining", remaining), ("cd4_remaining", cd4)):
        if not 0.0 <= _positive(name, value) <= 1.0:
            raise InputError(f"{name} must lie in [0, 1] (fraction of host T cells left), got {value}")
    return ScaleState(float(time), {"N": float(remaining), "H_cd4": float(cd4)})


def t_cell_infusion(time: float, car_cells: float) -> Bolus:
    """Infuse ``car_cells`` engineered (CAR+) T cells at ``time``; composition is a product parameter."""
    return Bolus(float(time), {"I_T": _positive("car_cells", car_cells)})


def nk_infusion(time: float, cells: float) -> Bolus:
    """Infuse ``cells`` product NK cells at ``time``."""
    return Bolus(float(time), {"I_K": _positive("cells", cells)})


def radiotherapy(times, dose_gy: float) -> list:
    """One fraction of ``dose_gy`` Gy at each time: linear-quadratic kill with the patient's alpha, beta."""
    d = _positive("dose_gy", dose_gy)
    return [Bolus(t, {"RT_D": d, "RT_D2": d * d}) for t in _times(times)]


def anti_pd1(times, mg: float = 200.0) -> list:
    """Anti-PD-1 doses of ``mg`` (pembrolizumab 200 mg every 3 weeks is the usual schedule)."""
    return [Bolus(t, {"PD1": _positive("mg", mg, allow_zero=False)}) for t in _times(times)]


def tocilizumab(time: float, weight_kg: float = 70.0, mg_per_kg: float = 8.0, max_mg: float = 800.0) -> Bolus:
    """Tocilizumab 8 mg/kg (at most 800 mg) at ``time``."""
    mg = min(_positive("mg_per_kg", mg_per_kg) * _positive("weight_kg", weight_kg, False), max_mg)
    return Bolus(float(time), {"Toc": mg})


def adcc_antibody(times, mg: float = 700.0) -> list:
    """A co-administered ADCC antibody (e.g. rituximab 375 mg/m2, about 700 mg) at each time."""
    return [Bolus(t, {"Ab": _positive("mg", mg, allow_zero=False)}) for t in _times(times)]


def safety_switch(time: float, doses: float = 1.0) -> Bolus:
    """Trigger the safety switch (e.g. rimiducid for iCasp9) at ``time``."""
    return Bolus(float(time), {"Sw": _positive("doses", doses, allow_zero=False)})
