"""Host-versus-graft rejection of allogeneic cells and graft-versus-host disease hazard.

No quantitative rejection model is published (science.md 2.3), so this is a transparent
estimate: host alloreactivity ``R_allo`` (0-1) is primed by allogeneic product cells in
proportion to recovered host T cells and is remembered for months (``d_allo``). Rejection
hazard ``rej`` = ``k_rej`` * (N/K_N) * (``r_naive`` + ``R_allo``): low right after
lymphodepletion, rising over 1-3 weeks as the host recovers, immediate on re-exposure.
``H_gvhd`` is the cumulative hazard of clinically significant GvHD from allogeneic T cells
with an intact TCR (NK products carry almost none); P(GvHD by t) = 1 - exp(-H_gvhd).

Example:
    >>> alloimmunity().states[0].name
    'R_allo'
"""

from __future__ import annotations

from ..model import Module, Observable, Parameter, Rate, State
from .sources import HVG


def alloimmunity() -> Module:
    """Host alloreactive memory, rejection hazard and GvHD cumulative hazard."""
    p = Parameter
    return Module(
        "alloimmunity",
        description="host-versus-graft rejection (primed, remembered) and GvHD hazard of allogeneic T cells",
        states=[
            State("R_allo", "1", "host alloreactive response against the product (0-1, remembered)"),
            State("H_gvhd", "1", "cumulative hazard of clinically significant GvHD"),
        ],
        parameters=[
            p("k_sens", 0.3, "1/day", (0.0, 10.0), "priming rate of host alloreactivity", HVG),
            p("K_allo", 1e8, "cells", (1.0, 1e12), "allogeneic cells for half-maximal priming", HVG),
            p("d_allo", 0.0019, "1/day", (0.0, 1.0), "waning of alloreactive memory (t1/2 about 1 year)", HVG),
            p("k_rej", 1.0, "1/day", (0.0, 20.0), "maximal rejection hazard of an allogeneic cell", HVG),
            p("r_naive", 0.1, "1", (0.0, 1.0), "rejection by an unprimed, fully recovered host (relative)", HVG),
            p("k_gvhd_T", 0.02, "1/day", (0.0, 1.0), "GvHD hazard from TCR-intact allogeneic T cells", "[E]"),
            p("k_gvhd_K", 1e-5, "1/day", (0.0, 1.0), "GvHD hazard from NK products (almost none)",
              "[E] no GvHD after CAR-NK (Liu 2020 NEJM) or FT596 (Ghobadi 2025)"),
            p("K_gvhd", 1e9, "cells", (1.0, 1e13), "allogeneic cells for half-maximal GvHD hazard", "[E]"),
        ],
        observables=[
            Observable("allo_load", "allo_T*(1 - rej_escape_T)*(I_T + C_T) + (1 - rej_escape_K)*(I_K + C_K)",
                       "cells", "allogeneic product cells visible to the host"),
            Observable("rej", "k_rej*N/K_N*(r_naive + R_allo)", "1/day",
                       "rejection hazard of one fully HLA-mismatched product cell"),
        ],
        rates=[
            Rate("allo_priming", "k_sens*allo_load/(allo_load + K_allo)*N/K_N*(1 - R_allo)", {"R_allo": 1}),
            Rate("allo_waning", "d_allo*R_allo", {"R_allo": -1}),
            Rate("gvhd_hazard", "k_gvhd_T*allo_T*(1 - tcr_ko)*C_T/(C_T + K_gvhd) + k_gvhd_K*C_K/(C_K + K_gvhd)",
                 {"H_gvhd": 1}),
        ],
    )
