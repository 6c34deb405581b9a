"""Cytokine release syndrome: macrophage activation, IL-6, tocilizumab, grades.

Santurio 2025 structure: macrophages are activated through three routes - DAMPs from killed
tumour cells (released-antigen state ``Ag``), antigen engagement of CAR T cells, and
CD40-CD40L contact with activated CAR T cells (the main driver of the IL-6 peak), CAR T cells
being counted in cytokine-competent effector equivalents ``E_T`` - with a
positive feedback of IL-6 signalling on activation. Activated macrophages secrete IL-6
(pg/mL, turnover t1/2 of a few hours). Tocilizumab (amount ``Toc``, mg) blocks IL-6 receptor
signalling - the quantity that drives the clinical grade, ``il6_signal`` - and blocks
receptor-mediated clearance, so serum IL-6 transiently rises; it does not act on T cells.
The ASTCT-like grade is read from the course of ``il6_signal`` against thresholds
``crs_g1``..``crs_g4``, and the Penn grade against the same grade-1 threshold and grades 2-4
scaled by ``r_penn`` (:mod:`celltrial.biology.grading`).

Example:
    >>> [s.name for s in crs().states]
    ['Ma', 'IL6', 'Toc']
"""

from __future__ import annotations

from ..model import Module, Observable, Parameter, Rate, State
from .sources import CALIBRATED, SANTURIO

# With half-saturation near the effector numbers reached at the peak (1e10-1e11), engaged CAR T
# cells - not only the DAMPs of the killed tumour - drive macrophages, so CRS follows dose,
# composition and costimulation as well as burden (Turtle 2016 JCI: dose and burden raise the risk).
# The grade scales agree on whether CRS occurred (99%) but Penn grades the same event higher
# (hypotension needing fluids or low-dose pressors is Penn 3, ASTCT 2), so a Penn-graded trial
# (ELIANA, JULIET) is read with lower thresholds for grades 2-4 rather than with a larger IL-6 scale.
PENN = ("[E] Penn grades higher than Lee/ASTCT for the same event (JULIET regraded: Lee lower for 20 and ASTCT "
        "for 23 of 64 patients, Blood Adv 4:1432; Pennisi 2020 Blood Adv 4:676); "
        "fitted by the ELIANA case")
ENGAGED = "[E] near peak effector numbers, so CRS follows dose x burden (Turtle 2016 J Clin Invest 126:2123)"


def _parameters():
    p = Parameter
    return [
        p("k_damp", 0.05, "1/day", (0.0, 50.0), "macrophage activation by DAMPs of killed tumour cells", SANTURIO),
        p("K_damp", 1e11, "cells", (1.0, 1e14), "released-antigen cell-equivalents for half-maximal DAMP route",
          CALIBRATED),
        p("k_eng", 0.05, "1/day", (0.0, 50.0), "activation by antigen-engaged CAR T cells", SANTURIO),
        p("K_eng", 3e10, "cells", (1.0, 1e14), "engaged effector-equivalent CAR T cells for half-maximal activation",
          ENGAGED),
        p("k_cd40", 0.15, "1/day", (0.0, 50.0), "activation by CD40L contact with activated CAR T cells",
          SANTURIO + "; main driver of the IL-6 peak"),
        p("K_cd40", 3e10, "cells", (1.0, 1e14), "activated effector-equivalent CAR T cells for half-maximal CD40 route",
          ENGAGED),
        p("k_fb", 2.0, "1", (0.0, 20.0), "maximal amplification of activation by IL-6 signalling", "[E]"),
        p("K_fb", 500.0, "pg/mL", (1.0, 1e5), "IL-6 signal for half-maximal amplification", "[E]"),
        p("d_Ma", 0.7, "1/day", (0.01, 20.0), "deactivation of macrophages", "[E]"),
        p("il6_base", 3.0, "pg/mL", (0.0, 100.0), "baseline serum IL-6", "[K] healthy serum IL-6 < 5 pg/mL"),
        p("il6_max", 5000.0, "pg/mL", (10.0, 1e6), "serum IL-6 when all macrophages are activated",
          "[E] severe CRS IL-6 peaks of 10^3-10^4 pg/mL (Teachey 2016)"),
        p("k_il6", 7.0, "1/day", (0.5, 100.0), "IL-6 turnover (t1/2 about 2.4 h)", "[E] science.md 5.4 (5-10 /day)"),
        p("f_rm", 0.6, "1", (0.0, 1.0), "share of IL-6 clearance that is receptor-mediated", "[E] science.md 5.3"),
        p("V_toc", 6.4, "L", (1.0, 30.0), "tocilizumab volume of distribution", "[K] Actemra label (6.4 L)"),
        p("k_toc", 0.1155, "1/day", (0.001, 5.0), "tocilizumab elimination (t1/2 6 days in CRS)",
          "[E] label t1/2 11-13 days falls with high IL-6R load"),
        p("EC50_toc", 5.0, "ug/mL", (0.01, 1000.0), "tocilizumab level for half-maximal IL-6R blockade",
          "[E] keeps blockade 0.7-0.9 for about 2 weeks after 8 mg/kg (science.md 5.3)"),
        p("emax_toc", 0.9, "1", (0.0, 1.0), "maximal blockade of IL-6 signalling", "[E] science.md 5.3 (0.7-0.9)"),
        p("crs_g1", 30.0, "pg/mL", (1.0, 1e6), "IL-6 signal threshold for CRS grade 1", CALIBRATED),
        p("crs_g2", 150.0, "pg/mL", (1.0, 1e6), "IL-6 signal threshold for CRS grade 2", CALIBRATED),
        p("crs_g3", 800.0, "pg/mL", (1.0, 1e6), "IL-6 signal threshold for CRS grade 3", CALIBRATED),
        p("crs_g4", 2500.0, "pg/mL", (1.0, 1e6), "IL-6 signal threshold for CRS grade 4", CALIBRATED),
        p("r_penn", 0.5, "1", (0.05, 1.0), "Penn grade 2-4 thresholds as a share of the ASTCT/Lee ones",
          PENN),
    ]


def crs() -> Module:
    """Macrophage-IL-6 CRS layer with tocilizumab."""
    # Cytokine-competent CAR T cells are counted in effector equivalents (E_T): effectors make
    # more IFN-gamma and CD40L than T_SCM/T_CM, which is why memory-rich products cause milder CRS
    # (Hay 2017: no CD8 T_CM selection was a CRS risk factor).
    # cyt_T: cytokine output per engaged CAR T cell is a product property (CD28 > 4-1BB).
    activation = ("(k_damp*Ag/(Ag + K_damp) + k_eng*A*cyt_T*E_T/(cyt_T*E_T + K_eng)"
                  " + k_cd40*A*cyt_T*E_T/(A*cyt_T*E_T + K_cd40))"
                  "*(1 + k_fb*il6_signal/(il6_signal + K_fb))")
    return Module(
        "crs",
        description="cytokine release syndrome: macrophage activation, IL-6, tocilizumab",
        states=[
            State("Ma", "1", "activated fraction of the macrophage pool"),
            State("IL6", "pg/mL", "serum interleukin-6", initial="il6_base"),
            State("Toc", "mg", "tocilizumab in the body"),
        ],
        parameters=_parameters(),
        observables=[
            Observable("toc_occ", "emax_toc*Toc/(Toc + EC50_toc*V_toc)", "1", "IL-6 receptor blockade (0-1)"),
            Observable("il6_signal", "IL6*(1 - toc_occ)", "pg/mL", "IL-6 receptor signalling (drives the grade)"),
            Observable("macro_activation", activation, "1/day", "macrophage activation rate"),
        ],
        rates=[
            Rate("macrophage_activation", "macro_activation*(1 - Ma)", {"Ma": 1}),
            Rate("macrophage_deactivation", "d_Ma*Ma", {"Ma": -1}),
            Rate("il6_secretion", "k_il6*(il6_base + il6_max*Ma)", {"IL6": 1}),
            Rate("il6_clearance", "k_il6*(1 - f_rm*toc_occ/emax_toc)*IL6", {"IL6": -1}),
            Rate("toc_elimination", "k_toc*Toc", {"Toc": -1}),
        ],
    )
