"""Host immunity against the product (allogeneic rejection, anti-CAR memory) and GvHD hazard.

No quantitative rejection model is published (science.md 2.3), so this is a transparent
estimate: host alloreactivity ``R_allo`` (0-1) is primed by allogeneic product cells in
proportion to recovered host T cells and is remembered for months (``d_allo``). Rejection
hazard ``rej`` = ``k_rej`` * (N/K_N) * (``r_naive`` + ``R_allo``): low right after
lymphodepletion, rising over 1-3 weeks as the host recovers, immediate on re-exposure.
``H_gvhd`` is the cumulative hazard of clinically significant GvHD from allogeneic T cells
with an intact TCR (NK products carry almost none); P(GvHD by t) = 1 - exp(-H_gvhd).

Anti-CAR immunity (autologous products too): the CAR transgene (a murine scFv such as FMC63)
primes host T cells against CAR T cells (Turtle 2016 JCI 126:2123: CD8 responses to the
transgene limited persistence); primed cells ``P_car`` become memory ``R_car`` (0-1) over about two
weeks (``k_mat``: a primary response peaks one to three weeks after first antigen [K]), so the
first expansion is over before memory is ready. Priming needs CD4 help (``H_cd4``), which a
fludarabine-containing lymphodepletion removes for months, so it blunts priming (Turtle 2016:
transgene responses after Cy without Flu; Gauthier 2021 Blood 137:323: Flu before the first
infusion predicts response to the second). Memory is recalled by a new infusion (the bolus
of circulating product cells, ``I_T``, boosts it as a vaccine dose would), not by the cells of
the infusion that primed it: the effector response ``E_car`` (the rejection hazard of one CAR T
cell, 1/day) jumps by ``k_rej_car`` * ``R_car`` * ln(1 + cells/``K_boost``) and contracts at
``d_Ecar``. So the first dose expands, contracts and persists as its kinetics were fitted, while
a second infusion meets a primed host that cuts its expansion (and the first dose's remaining
cells). Memory lasts months and a later lymphodepletion does not remove it [E].

Example:
    >>> alloimmunity().states[0].name
    'R_allo'
"""

from __future__ import annotations

from ..model import Module, Observable, Parameter, Rate, State
from .sources import HVG


def alloimmunity() -> Module:
    """Host alloreactive and anti-CAR memory, their rejection hazards and the GvHD cumulative hazard."""
    p = Parameter
    return Module(
        "alloimmunity",
        description="host rejection of the product (allogeneic and anti-CAR; primed, remembered) and GvHD hazard",
        states=[
            State("R_allo", "1", "host alloreactive response against the product (0-1, remembered)"),
            State("P_car", "1", "host T cells primed against the CAR transgene, not yet memory (0-1)"),
            State("R_car", "1", "host memory against the CAR transgene (0-1, remembered)"),
            State("E_car", "1/day", "recalled anti-CAR effector response: rejection hazard of one CAR T cell"),
            State("H_gvhd", "1", "cumulative hazard of clinically significant GvHD"),
        ],
        parameters=[
            p("k_sens", 0.3, "1/day", (0.0, 10.0), "priming rate of host alloreactivity", HVG),
            p("K_allo", 1e8, "cells", (1.0, 1e12), "allogeneic cells for half-maximal priming", HVG),
            p("d_allo", 0.0019, "1/day", (0.0, 1.0), "waning of alloreactive memory (t1/2 about 1 year)", HVG),
            p("k_rej", 1.0, "1/day", (0.0, 20.0), "maximal rejection hazard of an allogeneic cell", HVG),
            p("r_naive", 0.1, "1", (0.0, 1.0), "rejection by an unprimed, fully recovered host (relative)", HVG),
            p("k_car", 0.3, "1/day", (0.0, 10.0), "priming rate of anti-CAR T cells with full CD4 help and "
              "stimulus", "[E] weeks without fludarabine (Turtle 2016 JCI 126:2123), slower with its CD4 "
              "deficit; patient variability in the disease presets"),
            p("K_car", 1e9, "cells", (1.0, 1e13), "CAR T cells at which anti-CAR priming is half on",
              "[E] above a persisting pool (about 1e6-1e8 cells), below an expansion peak (1e9-1e11)"),
            p("K_boost", 1e7, "cells", (1.0, 1e12), "infused CAR T cells that boost primed anti-CAR memory",
              "[E] clinical doses (1e8 or more) boost fully"),
            p("k_mat", 0.07, "1/day", (0.001, 10.0), "maturation of primed anti-CAR T cells into memory",
              "[E] textbook: a primary T-cell response peaks one to three weeks after first antigen (t1/2 10 days)"),
            p("d_car", 0.0019, "1/day", (0.0, 1.0), "waning of anti-CAR memory (t1/2 about 1 year)", "[E]"),
            p("k_rej_car", 2.015, "1/day", (0.0, 50.0), "anti-CAR rejection hazard of one CAR T cell per unit of "
              "memory and of ln(1 + dose/K_boost)", "[F] second CD19 CAR-T infusions: 39% respond (Gauthier 2021 "
              "Blood 137:323); scripts/calibrate_redose.py, log in docs/calibration/redose-fit.log"),
            p("d_Ecar", 0.1, "1/day", (0.01, 10.0), "contraction of the recalled anti-CAR effector response",
              "[E] a recall response contracts over weeks"),
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
            Observable("car_load", "I_T + C_T", "cells", "CAR T cells the host sees (whole body)"),
            Observable("s_car", "car_load**2/(car_load**2 + K_car**2)", "1",
                       "anti-CAR priming stimulus of the CAR T load (0-1)"),
        ],
        rates=[
            Rate("allo_priming", "k_sens*allo_load/(allo_load + K_allo)*N/K_N*(1 - R_allo)", {"R_allo": 1}),
            Rate("allo_waning", "d_allo*R_allo", {"R_allo": -1}),
            Rate("car_priming", "k_car*imm_T*s_car*H_cd4*(1 - P_car - R_car)", {"P_car": 1}),
            Rate("car_maturation", "k_mat*P_car", {"P_car": -1, "R_car": 1}),
            Rate("car_waning", "d_car*R_car", {"R_car": -1}),
            # eta_T*I_T/(I_T + K_boost) integrates to ln(1 + dose/K_boost) over an infusion's bolus
            Rate("car_recall", "k_rej_car*imm_T*R_car*eta_T*I_T/(I_T + K_boost)", {"E_car": 1}),
            Rate("car_effector_decay", "d_Ecar*E_car", {"E_car": -1}),
            Rate("gvhd_hazard", "k_gvhd_T*allo_T*(1 - tcr_ko)*C_T/(C_T + K_gvhd) + k_gvhd_K*C_K/(C_K + K_gvhd)",
                 {"H_gvhd": 1}),
        ],
    )
