"""Engineered T cells with memory phenotypes: T_SCM -> T_CM -> T_EM -> effector -> exhausted.

Infused cells enter a blood pool ``I_T`` and distribute into tissue (rate ``eta_T``); a
fraction ``f_engraft`` survives and joins the phenotype pools in the product's composition
(``f_S``..``f_EX``). Antigen (``A``, 0-1) drives division; at each antigen-driven division a
subset keeps its phenotype with probability ``q_*`` (self-renewal, falling with
differentiation) and otherwise moves one step down the chain. Lymphodepletion frees
homeostatic space: ``lym_boost`` (Kimmel 2021) adds antigen-independent division. Effectors
exhaust under chronic antigen (less with a PD-1 knockout or anti-PD-1, which also reverts
part of the exhausted pool) and return to memory as antigen falls (Kirouac 2023), giving
Stein's biphasic contraction and long-lived persistence. Blood levels (cells/uL) are the
circulating pool plus a fixed share ``f_blood`` of the tissue pools, so they show the four
clinical phases: distribution, expansion, contraction, persistence. Engrafted engineered
cells circulate less than resting lymphocytes (``f_blood_T`` < host ``f_blood``): most of
the expanded pool sits in tissue and tumour, as Kimmel 2021's whole-body fit implies.

Limited proliferative capacity (Gattinoni 2011 progressive differentiation; Stein 2019's
fold-expansion of 1e2-1e5): every engrafted cell brings a progeny budget that falls with
differentiation (``n_S`` > ``n_CM`` > ``n_EM`` for the memory pools, ``n_EFF`` per effector).
The memory pools share budget ``R_M`` and the effectors ``R_E`` (mean field within each
lineage); each proliferative division spends one unit, a cell that dies takes its share with
it, and an effector born from a memory division brings ``n_EFF`` fresh units (a programmed
burst). Division slows as the budget per cell falls (``pot_M``, ``pot_E``), so expansion is
bounded by what was infused: dose and memory composition set the peak, not only the antigen.
Antigen-driven division also needs the homeostatic-cytokine pulse of lymphodepletion (gate
``ld_gate``: Turtle 2016, Kochenderfer 2017) and the patient's T-cell fitness ``fit_T``
(suppressive myeloid cells cut the CAR-T peak about four-fold: Jain 2021).

Product properties (set by presets, not by the patient): composition ``f_*``, ``allo_T``,
``rej_escape_T`` (HLA engineering), ``imm_T`` (CAR immunogenicity), ``ko_pd1_T``, ``il15_T``,
``has_switch_T``, ``tcr_ko``, ``f_cd4`` (CD4:CD8 composition: CD4+ cells help CD8+ division, ``help_T``,
and lyse more slowly, ``kill_cd4``; both 1 at the 1:1 reference the kinetics were fitted at),
progeny budgets ``n_*``, costimulation-linked ``p_EFF``, ``d_CM``, ``m_rev`` and ``cyt_T``.

Example:
    >>> "EFF" in [s.name for s in engineered_t_cells().states]
    True
"""

from __future__ import annotations

from ..model import Module, Observable, Parameter, Rate, State
from .sources import FITTED, GATTINONI, KIMMEL, KIROUAC, PROGENY

PHENOTYPES = ("S", "CM", "EM", "EFF", "EX")
_CHAIN = {"S": "CM", "CM": "EM", "EM": "EFF"}
_PRODUCT = "[E] product property; set by the product preset"


_p = Parameter


def _states():
    out = [State("I_T", "cells", "infused engineered T cells still circulating (distribution phase)")]
    labels = {"S": "stem-cell memory (T_SCM)", "CM": "central memory (T_CM)", "EM": "effector memory (T_EM)",
              "EFF": "effector", "EX": "exhausted"}
    out += [State(k, "cells", f"{v} engineered T cells outside the circulating pool") for k, v in labels.items()]
    out += [State("R_M", "cells", "progeny the engineered memory pools (T_SCM, T_CM, T_EM) can still produce"),
            State("R_E", "cells", "progeny the engineered effectors can still produce")]
    return out


def _composition_parameters():
    default = {"S": 0.02, "CM": 0.18, "EM": 0.30, "EFF": 0.45, "EX": 0.05}
    return [_p(f"f_{k}", v, "1", (0.0, 1.0), f"fraction of the product that is {k} (normalised over f_*)", _PRODUCT)
            for k, v in default.items()]


def _kinetic_parameters():
    return [
        _p("eta_T", 3.897, "1/day", (0.05, 20.0), "distribution of infused T cells from blood into tissue",
           "[F] t1/2 of hours (In-111-labelled autologous leukocytes leave blood with t1/2 7.5 h: J Nucl Med "
           "18:1014); sets the distribution trough behind Stein's fold-expansion; " + FITTED),
        _p("f_engraft", 0.009829, "1", (0.001, 1.0), "fraction of distributed T cells that engraft (rest lost)",
           "[E] Kirouac 2023 f_loss analogue; " + FITTED),
        _p("K_A", 8.933e+09, "cells", (1e3, 1e13), "antigen-positive tumour burden giving half-maximal stimulation",
           FITTED),
        _p("w_icd", 0.1, "1", (0.0, 10.0), "antigen stimulation per released-antigen cell-equivalent (ICD)",
           "[E] immunogenic antigen release after RT or killing"),
        _p("p_S", 0.5, "1/day", (0.0, 5.0), "antigen-driven division rate of T_SCM", GATTINONI),
        _p("p_CM", 0.7, "1/day", (0.0, 5.0), "antigen-driven division rate of T_CM", GATTINONI),
        _p("p_EM", 0.9, "1/day", (0.0, 5.0), "antigen-driven division rate of T_EM", GATTINONI),
        _p("p_EFF", 2.146, "1/day", (0.0, 5.0), "antigen-driven division rate of effectors", FITTED),
        _p("q_S", 0.75, "1", (0.5, 1.0), "self-renewal probability per daughter at a T_SCM division", GATTINONI),
        _p("q_CM", 0.6, "1", (0.5, 1.0), "self-renewal probability per daughter at a T_CM division", GATTINONI),
        _p("q_EM", 0.5, "1", (0.0, 1.0), "self-renewal probability per daughter at a T_EM division", GATTINONI),
        _p("h_S", 0.008, "1/day", (0.0, 1.0), "homeostatic (cytokine-driven) division of T_SCM",
           "[E] balances d_S to a slow net decay (Stein beta 0.0032 /day)"),
        _p("h_CM", 0.008929, "1/day", (0.0, 1.0), "homeostatic division of T_CM",
           FITTED),
        _p("h_EM", 0.01, "1/day", (0.0, 1.0), "homeostatic division of T_EM", "[E]"),
        _p("d_S", 0.01037, "1/day", (0.0, 2.0), "death of T_SCM", FITTED),
        _p("d_CM", 0.3, "1/day", (0.0, 2.0), "death of T_CM (4-1BB-like; products override)", FITTED),
        _p("d_EM", 0.08, "1/day", (0.0, 2.0), "death of T_EM", GATTINONI),
        _p("d_EFF", 1.095, "1/day", (0.0, 5.0), "death of effectors (contraction)",
           "[E] Stein alpha 0.16 /day is the net contraction; " + FITTED),
        _p("d_EX", 0.15, "1/day", (0.0, 5.0), "death of exhausted cells", "[E]"),
        _p("x_EX", 0.0489, "1/day", (0.0, 5.0), "antigen-driven exhaustion of effectors",
           "[E] " + KIROUAC[4:] + "; " + FITTED),
        _p("m_rev", 1.012e-05, "1/day", (0.0, 1.0), "effector return to memory (T_CM) as antigen falls",
           KIROUAC + "; " + FITTED),
        _p("K_C", 1e12, "cells", (1e9, 1e14), "engineered T-cell mass scaling the brake on antigen-driven division",
           "[K] total-body lymphocyte mass about 1e12 cells (Trepel 1974); role as in Kimmel's K_C [E]"),
        _p("b_lym", 0.525, "1/day", (0.0, 5.0), "maximal homeostatic division gain in an empty lymphoid space",
           KIMMEL + " (b); applied as an additive division rate [E]"),
        _p("a_sig", 0.423, "1", (0.01, 10.0), "signalling inefficiency of the space boost", KIMMEL + " (a)"),
        _p("w_S", 0.1, "1", (0.0, 1.0), "killing per T_SCM relative to an effector", GATTINONI),
        _p("w_CM", 0.3, "1", (0.0, 1.0), "killing per T_CM relative to an effector", GATTINONI),
        _p("w_EM", 0.6, "1", (0.0, 1.0), "killing per T_EM relative to an effector", GATTINONI),
        _p("w_EX", 0.1, "1", (0.0, 1.0), "killing per exhausted cell relative to an effector", "[E]"),
        _p("gamma_T", 9.083, "1/day", (0.0, 20.0), "maximal T-cell kill rate per antigen-positive tumour cell",
           "[F] with the ratio-dependent killing (Kimmel 2021's gamma_B form, 1.15 /day, refitted); " + FITTED),
        _p("k_BT", 2.024e9, "cells", (1e3, 1e13), "killing-weighted T cells for half-maximal killing",
           KIMMEL + " (k_B)"),
        _p("s_il15", 0.5, "1", (0.0, 1.0), "reduction of T-cell death rates by IL-15 armour", "[E]"),
        _p("e_ko", 0.5, "1", (0.0, 1.0), "reduction of exhaustion by a PD-1/LAG3/CTLA4 knockout",
           "[E] science.md 6.5 (0.3-0.6)"),
        _p("f_blood_T", 0.02789, "1", (1e-4, 0.5), "share of engrafted engineered T cells circulating in blood",
           "[E] activated cells home to tissue; Kimmel 2021's fit implies about 0.2-0.5% (totals vs blood/uL); "
           + FITTED),
        _p("n_S", 1.682e+05, "cells", (1.0, 1e9), "progeny budget of one engrafted T_SCM cell", PROGENY),
        _p("n_CM", 1.682e+04, "cells", (1.0, 1e9), "progeny budget of one engrafted T_CM cell", PROGENY),
        _p("n_EM", 1682, "cells", (1.0, 1e9), "progeny budget of one engrafted T_EM cell", PROGENY),
        _p("n_EFF", 678.7, "cells", (1.0, 1e4), "progeny budget of one new effector (programmed burst)", PROGENY),
        _p("fit_T", 1.0, "1", (0.01, 10.0), "patient T-cell fitness: multiplier of antigen-driven division",
           "[E] patient level; M-MDSC and tumour IFN signalling cut the CAR-T peak about 4-fold (Jain 2021 Blood "
           "137:2621)"),
        _p("ld_floor", 0.5, "1", (0.0, 1.0), "antigen-driven division left without lymphodepletion cytokines",
           "[E] without fludarabine CR fell from 50% to 8% (Turtle 2016 Sci Transl Med 8:355ra116)"),
        _p("kmax_T", 4.416, "1/day", (0.01, 1000.0), "most tumour cells one effector-equivalent kills per day",
           "[F] serial killing: several targets per CAR-T cell per day; makes killing ratio-dependent; " + FITTED),
        _p("f_cd4_ref", 0.5, "1", (0.0, 1.0), "CD4+ share at which the kinetic parameters were fitted",
           "[E] unselected products are taken as about 1:1; the fit's reference, not biology"),
        _p("w_cd4", 0.3, "1", (0.0, 1.0), "killing per CD4+ CAR T cell relative to a CD8+ one",
           "[E] CD4+ CAR T cells lyse targets, more slowly than CD8+ (Sommermeyer 2016 Leukemia 30:492)"),
        _p("a_help", 0.5, "1", (0.0, 1.0), "share of antigen-driven division that needs CD4+ help",
           "[E] CD4+ CAR T cells augment CD8+ expansion and persistence in vivo (Sommermeyer 2016 Leukemia "
           "30:492; Turtle 2016 JCI 126:2123, defined composition)"),
        _p("K_help", 0.1, "1", (0.001, 1.0), "CD4+ share giving half the help", "[E] a minority of CD4+ cells helps"),
        _p("vcn", 1.0, "copies/cell", (0.1, 10.0), "vector copy number per CAR+ cell", "[E]"),
    ]


def _product_parameters():
    return _composition_parameters() + [
        _p("allo_T", 0.0, "1", (0.0, 1.0), "1 for an allogeneic (e.g. iPSC) T-cell product, 0 autologous", _PRODUCT),
        _p("rej_escape_T", 0.0, "1", (0.0, 1.0), "fraction of host rejection escaped (HLA engineering)", _PRODUCT),
        _p("ko_pd1_T", 0.0, "1", (0.0, 1.0), "PD-1/LAG3/CTLA4 knockout present (1) or not (0)", _PRODUCT),
        _p("il15_T", 0.0, "1", (0.0, 1.0), "IL-15 armour present (1) or not (0)", _PRODUCT),
        _p("has_switch_T", 0.0, "1", (0.0, 1.0), "safety switch (e.g. iCasp9) present (1) or not (0)", _PRODUCT),
        _p("imm_T", 1.0, "1", (0.0, 1.0), "immunogenicity of the CAR transgene relative to a murine scFv",
           "[E] product property: 1 for the FMC63 (murine) scFv of axi-cel, tisa-cel and liso-cel; a fully "
           "human binder would be lower"),
        _p("tcr_ko", 0.0, "1", (0.0, 1.0), "endogenous TCR knocked out (removes GvHD hazard)", _PRODUCT),
        _p("f_cd4", 0.5, "1", (0.0, 1.0), "CD4+ share of the CAR+ T cells (0.5: a 1:1 defined composition)",
           _PRODUCT),
        _p("cyt_T", 1.0, "1", (0.0, 10.0), "cytokine (CRS) drive per engaged CAR T cell, relative to CD28-like",
           "[E] product property: greater with CD28 than 4-1BB (Cappell & Kochenderfer 2021 Nat Rev Clin Oncol "
           "18:715); set by the product preset"),
    ]


def _cd4_help(share: str) -> str:
    """Antigen-driven division allowed by CD4+ help at a CD4+ ``share`` (expression)."""
    return f"(1 - a_help + a_help*{share}/({share} + K_help))"


def _cd4_lysis(share: str) -> str:
    """Lysis per CAR T cell at a CD4+ ``share``, CD8+ lysis = 1 (expression)."""
    return f"(1 - {share} + w_cd4*{share})"


def _observables():
    weights = "w_S*S + w_CM*CM + w_EM*EM + EFF + w_EX*EX"
    return [
        Observable("C_T", "S + CM + EM + EFF + EX", "cells", "engineered T cells outside the circulating pool"),
        # Abs keeps the signal in [0, 1) even if an external solver lets a state dip below zero.
        Observable("A", "(Abs(B_seen) + w_icd*Abs(Ag))/(Abs(B_seen) + w_icd*Abs(Ag) + K_A)", "1",
                   "antigen stimulation of CAR T cells (0-1)"),
        # Free lymphoid space, max(K_N - N - C_T, 0): Kimmel's gain is symmetric about K_N, which
        # his Gompertz factor ln(K_C/(N+C)) tames; as an additive division rate it must vanish
        # once the space is full, or T cells grow without bound (found by the engine benchmark).
        Observable("space", "(K_N - N - C_T + Abs(K_N - N - C_T))/2", "cells",
                   "free lymphoid space left by lymphodepletion"),
        Observable("ld_sig", "space**2/(a_sig*(N + C_T)**2 + space**2)", "1",
                   "homeostatic-cytokine signal of the lymphoid space freed by lymphodepletion (0-1)"),
        Observable("lym_boost", "b_lym*ld_sig", "1/day",
                   "homeostatic division gain from lymphodepletion (Kimmel 2021 r_C - rho_C, one-sided)"),
        Observable("ld_gate", "ld_floor + (1 - ld_floor)*ld_sig", "1",
                   "antigen-driven division allowed by the lymphodepletion cytokine pulse (0-1)"),
        Observable("M_T", "S + CM + EM", "cells", "engineered memory T cells (T_SCM, T_CM, T_EM)"),
        # +1 cell keeps 0/0 away before infusion; the budget per cell r gives r/(r + 1).
        Observable("pot_M", "R_M/(R_M + M_T + 1)", "1", "division allowed by the memory progeny budget (0-1)"),
        Observable("pot_E", "R_E/(R_E + EFF + 1)", "1", "division allowed by the effector progeny budget (0-1)"),
        # Both CD4:CD8 factors are 1 at the reference composition, where the kinetics were fitted.
        Observable("help_T", f"{_cd4_help('f_cd4')}/{_cd4_help('f_cd4_ref')}", "1",
                   "antigen-driven division allowed by CD4+ help, relative to the reference composition"),
        Observable("kill_cd4", f"{_cd4_lysis('f_cd4')}/{_cd4_lysis('f_cd4_ref')}", "1",
                   "killing per CAR T cell of this CD4:CD8 composition, relative to the reference"),
        Observable("drive_T", "A*cap_T*fit_T*ld_gate*help_T", "1",
                   "antigen-driven division drive before budgets"),
        # Antigen-driven division slows as the engineered pool approaches the lymphoid mass,
        # so chronic antigen (a relapsing tumour under suppression) cannot grow it without bound.
        # exp, not K/(K + C): long-lived memory cells with death barely above their homeostatic
        # division would otherwise settle at many times K_C under chronic antigen.
        Observable("cap_T", "exp(-C_T/K_C)", "1", "room left for antigen-driven T-cell division (0-1)"),
        Observable("E_T", weights, "cells", "killing-weighted engineered T cells (effector equivalents)"),
        # Ratio-dependent (handling-time) killing: per target, saturating in effectors as in
        # Kimmel 2021; per effector, at most kmax_T kills a day, so expansion relative to burden
        # decides the response (Locke 2020: peak CAR-T / tumour burden).
        # CD4:CD8 composition scales lysis (kill_cd4), not the cytokine-competent count E_T behind CRS.
        Observable("haz_T", "gamma_T*E_T*kill_cd4/(k_BT + E_T*kill_cd4 + gamma_T*B_seen/kmax_T)*supp", "1/day",
                   "T-cell kill hazard of one antigen-positive tumour cell"),
        Observable("surv_T", "1 - il15_T*s_il15", "1", "death-rate multiplier from IL-15 armour"),
        Observable("exh_T", "x_EX*A*(1 - ko_pd1_T*e_ko)*(1 - e_pd1*pd1_occ)", "1/day", "exhaustion rate of effectors"),
        Observable("rm_T", "k_switch*Sw*has_switch_T + allo_T*(1 - rej_escape_T)*rej + E_car + rt_haz_lym",
                   "1/day", "removal hazard of product T cells (safety switch, host rejection, anti-CAR memory, "
                   "radiation)"),
        Observable("car_T_uL", "(I_T + f_blood_T*C_T)/(1000*V_blood)", "cells/uL", "CAR+ T cells per uL of blood"),
    ]


def _rates():
    f_sum = "(f_S + f_CM + f_EM + f_EFF + f_EX)"
    budget_in = f"f_engraft*(f_S*n_S + f_CM*n_CM + f_EM*n_EM)/{f_sum}"
    rates = [Rate("T_distribution", "eta_T*I_T",
                  {"I_T": -1, **{k: f"f_engraft*f_{k}/{f_sum}" for k in PHENOTYPES},
                   "R_M": budget_in, "R_E": f"f_engraft*f_EFF*n_EFF/{f_sum}"}),
             Rate("I_T_removal", "rm_T*I_T", {"I_T": -1})]
    for k, nxt in _CHAIN.items():
        # Each proliferative division spends one unit of the memory budget; a daughter that
        # becomes an effector brings a fresh effector budget n_EFF.
        to_next = {nxt: f"2*(1 - q_{k})", "R_M": -1}
        if nxt == "EFF":
            to_next["R_E"] = f"2*(1 - q_{k})*n_EFF"
        rates += [
            Rate(f"{k}_antigen_division", f"p_{k}*drive_T*pot_M*{k}", {k: f"2*q_{k} - 1", **to_next}),
            Rate(f"{k}_homeostatic_division", f"h_{k}*{k}", {k: 1}),
            Rate(f"{k}_lymphodepletion_division", f"lym_boost*pot_M*{k}", {k: 1, "R_M": -1}),
            Rate(f"{k}_death", f"d_{k}*surv_T*{k}", {k: -1}),
        ]
    memory_exit = "(d_S*S + d_CM*CM + d_EM*EM)*surv_T + rm_T*M_T"
    effector_exit = "d_EFF*surv_T + exh_T + m_rev*(1 - A) + rm_T"
    rates += [
        Rate("EFF_division", "(p_EFF*drive_T + lym_boost)*pot_E*EFF", {"EFF": 1, "R_E": -1}),
        Rate("EFF_death", "d_EFF*surv_T*EFF", {"EFF": -1}),
        Rate("EFF_to_memory", "m_rev*(1 - A)*EFF", {"EFF": -1, "CM": 1}),
        Rate("exhaustion", "exh_T*EFF", {"EFF": -1, "EX": 1}),
        Rate("exhaustion_reversal", "k_rev*pd1_occ*EX", {"EX": -1, "EFF": 1}),
        Rate("EX_death", "d_EX*surv_T*EX", {"EX": -1}),
        # A cell that leaves a lineage takes its share of the lineage's budget (mean field).
        Rate("memory_budget_loss", f"R_M*({memory_exit})/(M_T + 1)", {"R_M": -1}),
        Rate("effector_budget_loss", f"({effector_exit})*R_E", {"R_E": -1}),
    ]
    rates += [Rate(f"{k}_removal", f"rm_T*{k}", {k: -1}) for k in PHENOTYPES]
    return rates


def engineered_t_cells() -> Module:
    """The engineered T-cell module (autologous CAR-T or iPSC CAR-T, by product parameters)."""
    return Module(
        "engineered_t_cells",
        description="phenotype-resolved engineered T cells (T_SCM, T_CM, T_EM, effector, exhausted)",
        states=_states(),
        parameters=_kinetic_parameters() + _product_parameters(),
        observables=_observables(),
        rates=_rates(),
    )


__all__ = ["PHENOTYPES", "engineered_t_cells"]
