"""Tumour: antigen-positive and antigen-negative clones, growth, killing, suppression, radiation.

Each clone turns over with natural death ``d_T`` and grows at the net rate ``g_T`` (logistic
slowing towards ``K_T``): births are ``d_T + g_T*(1 - B_tot/K_T)`` per cell, so untreated
relapsed/refractory disease grows in every patient whatever the variability of ``g_T``
(log-normal, hence positive; SCHOLAR-1: CR 7% even with salvage chemotherapy); the
antigen-negative clone (a fraction ``f_neg`` at baseline) pays a fitness
cost ``c_neg`` and escapes direct CAR killing (only a bystander share ``w_bys`` of it while
CAR T cells are engaged, and NK killing), so it carries antigen-escape relapse. Effector
killing saturates in effector numbers (Kimmel 2021) and is damped by tumour-mediated
immunosuppression ``supp``. Radiotherapy arrives as a linear-quadratic log-kill pulse
(states ``RT_D``/``RT_D2`` of module ``drugs_radiation``) that passes through the death flux, so killed
cells shed ctDNA and release antigen. Cure is a stochastic extinction event applied between
segments (:mod:`celltrial.protocols.extinction`), using the clone's low-density birth rate.

Example:
    >>> [s.name for s in tumour().states]
    ['Bp', 'Bn']
"""

from __future__ import annotations

from ..model import Module, Observable, Parameter, Rate, State
from .sources import KIMMEL

#: state -> (birth-rate expression of parameters) for stochastic extinction of each clone.
CLONES = {"Bp": "d_T + g_T", "Bn": "d_T + g_T*(1 - c_neg)"}


def tumour() -> Module:
    """Two tumour clones with growth, immune killing, suppression and radiation kill."""
    p = Parameter
    growth = "g_T*(1 - B_tot/K_T)"
    return Module(
        "tumour",
        description="antigen-positive and antigen-negative tumour clones",
        states=[
            State("Bp", "cells", "antigen-positive tumour cells", initial="B0*(1 - f_neg)"),
            State("Bn", "cells", "antigen-negative tumour cells (antigen-escape clone)", initial="B0*f_neg"),
        ],
        parameters=[
            p("B0", 1e10, "cells", (0.0, 1e13), "tumour burden at time 0 (1 mL of tumour = 1e9 cells)",
              KIMMEL + " (1 mL = 1e9 cells); default [E]"),
            p("f_neg", 1e-7, "1", (0.0, 1.0), "antigen-negative fraction at time 0",
              "[E] CD19-negative relapses are a minority, typically after months"),
            p("g_T", 0.03, "1/day", (0.0, 2.0), "net growth rate of untreated tumour (birth minus death)",
              "[E] disease preset sets it"),
            p("d_T", 0.09, "1/day", (0.0, 2.0), "tumour cell natural death rate (sheds ctDNA)",
              "[E] disease preset sets it"),
            p("K_T", 1e13, "cells", (1e6, 1e15), "tumour carrying capacity (logistic)", "[E]"),
            p("c_neg", 0.1, "1", (0.0, 1.0), "relative cost of antigen loss to the net growth rate", "[E]"),
            p("K_sup", 1e12, "cells", (1e3, 1e16), "burden halving immune killing (immunosuppression)",
              "[E] weak in lymphoma; disease preset sets it"),
            p("w_bys", 0.3, "1", (0.0, 1.0), "bystander killing of antigen-negative cells relative to CAR killing",
              "[E] cytokine/FAS-mediated bystander killing by activated CAR T cells"),
            p("k_rt", 48.0, "1/day", (1.0, 1000.0), "clearance of the radiation pulse (t1/2 about 20 min)",
              "[E] numerical form of the instantaneous linear-quadratic kill"),
        ],
        observables=[
            Observable("B_tot", "Bp + Bn", "cells", "total tumour burden"),
            Observable("supp", "1/(1 + B_tot/K_sup)", "1", "immune killing remaining under tumour suppression"),
            Observable("rt_haz", "k_rt*(alpha_rt*RT_D + beta_rt*RT_D2)", "1/day",
                       "radiation kill hazard of a tumour cell"),
            Observable("haz_bys", "w_bys*haz_T*A", "1/day",
                       "bystander kill hazard of an antigen-negative cell near antigen-engaged CAR T cells"),
            Observable("kill_flux", "(haz_T + haz_K_pos)*Bp + (haz_K_neg + haz_bys)*Bn", "cells/day",
                       "tumour cells killed by product cells"),
            Observable("death_flux", "d_T*B_tot + kill_flux + rt_haz*B_tot", "cells/day",
                       "all tumour cell deaths (natural, immune, radiation)"),
        ],
        rates=[
            Rate("Bp_birth", f"(d_T + {growth})*Bp", {"Bp": 1}),
            Rate("Bn_birth", f"(d_T + {growth}*(1 - c_neg))*Bn", {"Bn": 1}),
            Rate("Bp_death", "d_T*Bp", {"Bp": -1}),
            Rate("Bn_death", "d_T*Bn", {"Bn": -1}),
            Rate("Bp_killing", "(haz_T + haz_K_pos)*Bp", {"Bp": -1}),
            Rate("Bn_killing", "(haz_K_neg + haz_bys)*Bn", {"Bn": -1}),
            Rate("Bp_radiation", "rt_haz*Bp", {"Bp": -1}),
            Rate("Bn_radiation", "rt_haz*Bn", {"Bn": -1}),
        ],
    )
