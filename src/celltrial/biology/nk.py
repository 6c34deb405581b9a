"""Off-the-shelf NK cells (iPSC-NK, IL-15-armoured, CIML, CAR-NK), killing via CAR, NKG2D and CD16.

Infused NK cells circulate in ``I_K`` and distribute into tissue as short-lived effectors ``K``
or, for a fraction ``f_KM`` (cytokine-induced memory-like products), long-lived memory-like
cells ``KM``. Killing of each tumour cell saturates in NK numbers, is limited per NK cell
(``kmax_K`` kills a day: ratio-dependent, as for the T cells) and adds three routes: the CAR
(antigen-positive clone only, products with ``car_K`` = 1), NKG2D ligands (both clones; raised
up to ``phi_L``-fold for a few days after radiotherapy, state ``L``) and CD16/ADCC with a
co-administered antibody (``cd16`` = 1 products, antibody state ``Ab``). Host rejection (module
``alloimmunity``) removes NK cells unless HLA-engineered.

Example:
    >>> [s.name for s in nk_cells().states]
    ['I_K', 'K', 'KM']
"""

from __future__ import annotations

from ..model import Module, Observable, Parameter, Rate, State
from .sources import DEPILLIS

_PRODUCT = "[E] product property; set by the product preset"


def _parameters():
    p = Parameter
    return [
        p("eta_K", 2.0, "1/day", (0.05, 20.0), "distribution of infused NK cells into tissue", "[E]"),
        p("f_KM", 0.0, "1", (0.0, 1.0), "memory-like fraction of the NK product (CIML)", _PRODUCT),
        p("p_K", 0.05, "1/day", (0.0, 2.0), "division rate of NK effectors without armour", "[E]"),
        p("p_il15", 0.15, "1/day", (0.0, 2.0), "extra NK division with IL-15 armour",
          "[E] FT596 peaks by day 1 and is gone by ~2 weeks (Ghobadi 2025, science.md 2.1)"),
        p("d_K", 0.3, "1/day", (0.0, 5.0), "death of NK effectors (t1/2 about 2.3 days)",
          "[E] science.md 2.3 (effective clearance t1/2 2-3 days)"),
        p("d_KM", 0.01, "1/day", (0.0, 1.0), "death of memory-like NK cells (t1/2 about 70 days)",
          "[E] science.md 2.3 (slow tail 30-100 days; Bednarski 2022 > 3 months)"),
        p("f_blood_K", 0.05, "1", (0.001, 0.5), "share of tissue NK cells circulating in blood", "[E]"),
        p("gamma_Kcar", 1.0, "1/day", (0.0, 20.0), "maximal CAR-mediated NK kill rate per antigen+ tumour cell",
          "[E] same order as CAR-T (Kimmel gamma_B 1.15)"),
        p("gamma_Kn", 0.15, "1/day", (0.0, 20.0), "maximal NKG2D-mediated NK kill rate per tumour cell",
          "[E] de Pillis 2005 c scaled to a saturating form"),
        p("gamma_adcc", 0.6, "1/day", (0.0, 20.0), "maximal CD16/ADCC kill rate per antibody-coated cell", "[E]"),
        p("k_BK", 1e8, "cells", (1e3, 1e13), "NK cells for half-maximal killing of a tumour cell",
          "[E] a third of an NK dose: off-the-shelf NK cells do not expand, so killing is limited by targets "
          "per NK cell (kmax_K), not by Kimmel's whole-body CAR-T saturation (k_B 2e9)"),
        p("kmax_K", 3.0, "1/day", (0.01, 100.0), "most tumour cells one NK cell kills per day",
          "[E] serial killing by a minority of NK cells, a few targets per cell (Vanherberghen 2013 Blood "
          "121:1326); makes NK killing ratio-dependent like the T cells'"),
        p("phi_L", 6.0, "1", (1.0, 20.0), "fold rise of NKG2D killing at full ligand induction",
          "[E] 4-10x, ligand vs non-ligand parameters of " + DEPILLIS[4:]),
        p("car_K", 0.0, "1", (0.0, 1.0), "CAR present on the NK product (1) or not (0)", _PRODUCT),
        p("cd16", 0.0, "1", (0.0, 1.0), "high-affinity non-cleavable CD16 present (1) or not (0)", _PRODUCT),
        p("il15_K", 0.0, "1", (0.0, 1.0), "IL-15 armour on the NK product (1) or not (0)", _PRODUCT),
        p("has_switch_K", 0.0, "1", (0.0, 1.0), "safety switch on the NK product (1) or not (0)", _PRODUCT),
        p("rej_escape_K", 0.0, "1", (0.0, 1.0),
          "fraction of host rejection escaped (HLA engineering or a tolerant host)", _PRODUCT),
    ]


def nk_cells() -> Module:
    """The off-the-shelf NK module."""
    return Module(
        "nk_cells",
        description="off-the-shelf NK cells: distribution, short-lived effectors, memory-like cells, killing",
        states=[
            State("I_K", "cells", "infused NK cells still circulating"),
            State("K", "cells", "NK effector cells in tissue"),
            State("KM", "cells", "memory-like (CIML) NK cells in tissue"),
        ],
        parameters=_parameters(),
        observables=[
            Observable("C_K", "K + KM", "cells", "product NK cells outside the circulating pool"),
            Observable("nk_uL", "(I_K + f_blood_K*C_K)/(1000*V_blood)", "cells/uL", "product NK cells per uL blood"),
            Observable("nkg2d", "gamma_Kn*(1 + (phi_L - 1)*L)", "1/day", "NKG2D-mediated maximal kill rate"),
            Observable("adcc", "cd16*gamma_adcc*ab_occ", "1/day", "CD16/ADCC maximal kill rate"),
            # Handling time: per NK cell at most kmax_K kills a day, so a dose that clears minimal
            # disease only dents a bulky tumour (the targets compete for the same NK cells).
            Observable("nk_max_neg", "nkg2d + adcc", "1/day", "maximal NK kill rate of an antigen-negative cell"),
            Observable("nk_max_pos", "car_K*gamma_Kcar + nk_max_neg", "1/day",
                       "maximal NK kill rate of an antigen-positive cell (adds the CAR)"),
            Observable("nk_load", "(nk_max_pos*B_seen + nk_max_neg*Bn)/kmax_K", "cells",
                       "NK cells' worth of killing the tumour asks for (handling-time term)"),
            Observable("nk_sat", "C_K/(k_BK + C_K + nk_load)*supp", "1",
                       "saturation of NK killing per tumour cell (0-1), net of target load and suppression"),
            Observable("haz_K_pos", "nk_sat*nk_max_pos", "1/day", "NK kill hazard of one antigen-positive tumour cell"),
            Observable("haz_K_neg", "nk_sat*nk_max_neg", "1/day", "NK kill hazard of one antigen-negative tumour cell"),
            Observable("rm_K", "k_switch*Sw*has_switch_K + (1 - rej_escape_K)*rej + rt_haz_lym", "1/day",
                       "removal hazard of product NK cells (safety switch, host rejection, radiation)"),
        ],
        rates=[
            Rate("K_distribution", "eta_K*I_K", {"I_K": -1, "K": "1 - f_KM", "KM": "f_KM"}),
            Rate("I_K_removal", "rm_K*I_K", {"I_K": -1}),
            Rate("K_division", "(p_K + il15_K*p_il15)*K", {"K": 1}),
            Rate("K_death", "d_K*K", {"K": -1}),
            Rate("K_removal", "rm_K*K", {"K": -1}),
            Rate("KM_death", "d_KM*KM", {"KM": -1}),
            Rate("KM_removal", "rm_K*KM", {"KM": -1}),
        ],
    )
