"""Tumour: antigen-positive (exposed and protected) and antigen-negative cells, growth, killing.

Each clone turns over with natural death ``d_T`` and grows at the net rate ``g_T`` (logistic
slowing towards ``K_T``): births are ``d_T + g_T*(1 - B_tot/K_T)`` per cell, so untreated
relapsed/refractory disease grows in every patient whatever the variability of ``g_T``
(log-normal, hence positive; SCHOLAR-1: CR 7% even with salvage chemotherapy); the
antigen-negative clone (a share ``f_neg`` = exp(-``x_neg``) at baseline) pays a fitness
cost ``c_neg`` and escapes direct CAR killing (only a bystander share ``w_bys`` of it while
CAR T cells are engaged, and NK killing), so it carries antigen-escape relapse. Effector
killing saturates in effector numbers (Kimmel 2021) and is damped by tumour-mediated
immunosuppression ``supp``. A share ``f_prot`` = exp(-``x_prot``) of the antigen-positive cells
sits in protected niches (bulky, hypoxic or myeloid-rich sites that CAR T cells reach and work in
poorly: Jain 2021, Locke 2020), state ``Bs``: immune killing there is ``w_prot`` of the exposed
cells', and cells move between niches at ``m_prot`` (the untreated split stays ``f_prot``). The
share is declared through its exponent so that patient variability (log-normal on ``x_prot``)
spans many orders of magnitude: from no protected disease (cure possible) to most of it (a
partial response). So CAR T cells that clear the exposed disease can leave a partial response
that relapses antigen-positive, which is what most LBCL progressions after CAR-T are (Plaks
2021: about a third antigen-negative). The antigen-negative share is declared the same way, so
a wide spread gives most patients no antigen-negative subclone (less than a cell) and some a
sizeable one that relapses within months, rather than every patient a few hundred cells that
relapse a year or more later (docs/calibration/zuma1-pfs-shape.md). Radiotherapy arrives as a
linear-quadratic log-kill pulse (states ``RT_D``/``RT_D2`` of module ``drugs_radiation``) that
passes through the death flux, so killed cells shed ctDNA and release antigen. Cure is a
stochastic extinction event applied between segments (:mod:`celltrial.protocols.extinction`),
using the clone's low-density birth rate.

Example:
    >>> [s.name for s in tumour().states]
    ['Bp', 'Bs', 'Bn']
"""

from __future__ import annotations

from ..model import Module, Observable, Parameter, Rate, State
from .sources import KIMMEL

#: state -> (net-growth factor, immune kill hazard of one cell): the clones' one declaration.
_CLONE_TABLE = {"Bp": ("", "(haz_T + haz_K_pos)"), "Bs": ("", "(haz_T + haz_K_pos)*w_prot"),
                "Bn": ("*(1 - c_neg)", "(haz_K_neg + haz_bys)")}
#: state -> (birth-rate expression of parameters) for stochastic extinction of each clone.
CLONES = {c: f"d_T + g_T{g}" for c, (g, _) in _CLONE_TABLE.items()}


def tumour() -> Module:
    """Tumour clones with growth, immune killing, protected niches, suppression and radiation kill."""
    p = Parameter
    growth = "g_T*(1 - B_tot/K_T)"
    return Module(
        "tumour",
        description="antigen-positive (exposed and protected) and antigen-negative tumour cells",
        states=[
            State("Bp", "cells", "antigen-positive tumour cells exposed to immune killing",
                  initial="B0*(1 - exp(-x_neg))*(1 - exp(-x_prot))"),
            State("Bs", "cells", "antigen-positive tumour cells in protected niches",
                  initial="B0*(1 - exp(-x_neg))*exp(-x_prot)"),
            State("Bn", "cells", "antigen-negative tumour cells (antigen-escape clone)", initial="B0*exp(-x_neg)"),
        ],
        parameters=[
            p("B0", 1e10, "cells", (0.0, 1e13), "tumour burden at time 0 (1 mL of tumour = 1e9 cells)",
              KIMMEL + " (1 mL = 1e9 cells); default [E]"),
            # exp(-1e4) is 0: the upper bound is "no antigen-negative subclone"
            p("x_neg", 16.0, "1", (0.01, 1e4), "antigen-negative share exp(-x_neg) of the tumour at time 0",
              "[E] CD19-negative relapses are a minority (Plaks 2021: about a third of LBCL progressions after "
              "CAR-T); disease presets set it"),
            p("g_T", 0.03, "1/day", (0.0, 2.0), "net growth rate of untreated tumour (birth minus death)",
              "[E] disease preset sets it"),
            p("d_T", 0.09, "1/day", (0.0, 2.0), "tumour cell natural death rate (sheds ctDNA)",
              "[E] disease preset sets it"),
            p("K_T", 1e13, "cells", (1e6, 1e15), "tumour carrying capacity (logistic)", "[E]"),
            # exp(-50) of 1e13 cells is already under one cell; the wide upper bound keeps patient
            # variability (log-normal) from being truncated
            p("x_prot", 50.0, "1", (0.01, 1000.0), "protected share exp(-x_prot) of antigen-positive tumour cells",
              "[E] bulky, hypoxic or myeloid-rich sites (Jain 2021 Blood 137:2621; Locke 2020 Blood Adv "
              "4:4898); 50 (none) unless a disease preset sets it"),
            p("w_prot", 0.05, "1", (0.0, 1.0), "immune killing in protected niches relative to exposed cells",
              "[E] poor infiltration and function of CAR T cells in bulky, suppressive sites"),
            p("m_prot", 0.02, "1/day", (0.0, 1.0), "exchange of tumour cells between protected and exposed sites",
              "[E] weeks (dissemination and re-seeding of lymphoma sites)"),
            p("c_neg", 0.1, "1", (0.0, 1.0), "relative cost of antigen loss to the net growth rate", "[E]"),
            p("K_sup", 1e12, "cells", (1e3, 1e16), "burden halving immune killing (immunosuppression)",
              "[E] weak in lymphoma; disease preset sets it"),
            p("w_bys", 0.3, "1", (0.0, 1.0), "bystander killing of antigen-negative cells relative to CAR killing",
              "[E] cytokine/FAS-mediated bystander killing by activated CAR T cells"),
            p("k_rt", 48.0, "1/day", (1.0, 1000.0), "clearance of the radiation pulse (t1/2 about 20 min)",
              "[E] numerical form of the instantaneous linear-quadratic kill"),
        ],
        observables=[
            Observable("B_tot", "Bp + Bs + Bn", "cells", "total tumour burden"),
            Observable("f_neg", "exp(-x_neg)", "1", "antigen-negative share of the tumour at time 0"),
            Observable("f_prot", "exp(-x_prot)", "1", "share of antigen-positive tumour cells in protected niches"),
            Observable("B_seen", "Bp + w_prot*Bs", "cells",
                       "antigen-positive cells as CAR T cells meet them (protected ones count w_prot)"),
            Observable("supp", "1/(1 + B_tot/K_sup)", "1", "immune killing remaining under tumour suppression"),
            Observable("rt_haz", "k_rt*(alpha_rt*RT_D + beta_rt*RT_D2)", "1/day",
                       "radiation kill hazard of a tumour cell"),
            Observable("haz_bys", "w_bys*haz_T*A", "1/day",
                       "bystander kill hazard of an antigen-negative cell near antigen-engaged CAR T cells"),
            Observable("kill_flux", "(haz_T + haz_K_pos)*B_seen + (haz_K_neg + haz_bys)*Bn", "cells/day",
                       "tumour cells killed by product cells"),
            Observable("death_flux", "d_T*B_tot + kill_flux + rt_haz*B_tot", "cells/day",
                       "all tumour cell deaths (natural, immune, radiation)"),
        ],
        rates=[rate for c, (g, kill) in _CLONE_TABLE.items() for rate in (
            Rate(f"{c}_birth", f"(d_T + {growth}{g})*{c}", {c: 1}),
            Rate(f"{c}_death", f"d_T*{c}", {c: -1}),
            Rate(f"{c}_killing", f"{kill}*{c}", {c: -1}),
            Rate(f"{c}_radiation", f"rt_haz*{c}", {c: -1}),
        )] + [
            # two-way exchange whose balance keeps the untreated split at f_prot
            Rate("Bs_release", "m_prot*Bs", {"Bs": -1, "Bp": 1}),
            Rate("Bp_shelter", "m_prot*f_prot/(1 - f_prot)*Bp", {"Bp": -1, "Bs": 1}),
        ],
    )
