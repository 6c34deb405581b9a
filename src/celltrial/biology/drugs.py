"""Drugs and radiation: anti-PD-1, radiotherapy pulse, NKG2D ligands, released antigen, ADCC
antibody, safety-switch dimeriser.

- Anti-PD-1 (amount ``PD1``, mg; one-compartment, pembrolizumab-like) lowers the exhaustion
  rate by up to ``e_pd1`` and reverts exhausted cells to effectors (``k_rev``).
- Radiotherapy: a fraction of D Gy is a bolus of D into ``RT_D`` and D^2 into ``RT_D2``
  (see :func:`celltrial.protocols.radiotherapy`); both clear within an hour while killing
  at hazard k_rt*(alpha*RT_D + beta*RT_D2), so the surviving fraction is exactly the
  linear-quadratic exp(-alpha*D - beta*D^2) with the patient's own alpha and beta. The
  pulse induces NKG2D ligands ``L`` (0-1, fading over 1-3 days), releases antigen ``Ag`` and
  kills the in-field share ``f_field`` of product T and NK cells (lymphocytes are very
  radiosensitive), which is why cells are best given after, not before, a fraction.
- ``Ab``: a co-administered antibody (e.g. anti-CD20, mg) for CD16/ADCC.
- ``Sw``: the safety-switch dimeriser (e.g. rimiducid, 1 = a full dose).

Example:
    >>> [s.name for s in drugs_radiation().states]
    ['PD1', 'RT_D', 'RT_D2', 'L', 'Ag', 'Ab', 'Sw']
"""

from __future__ import annotations

from ..model import Module, Observable, Parameter, Rate, State


def _parameters():
    p = Parameter
    return [
        p("V_pd1", 6.0, "L", (1.0, 30.0), "anti-PD-1 volume of distribution", "[K] pembrolizumab Vss about 6-7 L"),
        p("k_pd1", 0.0267, "1/day", (0.001, 1.0), "anti-PD-1 elimination (t1/2 26 days)", "[K] pembrolizumab label"),
        p("EC50_pd1", 0.5, "ug/mL", (0.001, 100.0), "anti-PD-1 level for half-maximal effect", "[E]"),
        p("e_pd1", 0.5, "1", (0.0, 1.0), "maximal reduction of exhaustion by anti-PD-1", "[E] science.md 6.5"),
        p("k_rev", 0.03, "1/day", (0.0, 1.0), "maximal reversion of exhausted cells to effectors",
          "[E] science.md 6.5 (0.02-0.05 /day)"),
        p("alpha_rt", 0.35, "1/Gy", (0.0, 2.0), "linear-quadratic alpha of the tumour",
          "[E] lymphoma 0.3-0.5 (science.md 6.1)"),
        p("beta_rt", 0.035, "1/Gy^2", (0.0, 1.0), "linear-quadratic beta of the tumour", "[K] alpha/beta about 10 Gy"),
        p("alpha_lym", 0.6, "1/Gy", (0.0, 3.0), "linear-quadratic alpha of lymphocytes and NK cells",
          "[K] lymphocytes are among the most radiosensitive cells (SF2 about 0.2-0.3)"),
        p("beta_lym", 0.03, "1/Gy^2", (0.0, 1.0), "linear-quadratic beta of lymphocytes and NK cells", "[E]"),
        p("f_field", 0.3, "1", (0.0, 1.0), "share of tissue product cells inside the radiation field",
          "[E] focal (bridging-type) radiotherapy"),
        p("k_Lind", 1.5, "1", (0.0, 20.0), "NKG2D ligand induction per unit of radiation log-kill", "[E]"),
        p("k_Loff", 0.7, "1/day", (0.05, 10.0), "loss of radiation-induced NKG2D ligands (up 1-3 days)",
          "[E] science.md 6.3 (0.5-1 /day; Kim 2006 peak about 9 h)"),
        p("k_ag", 1.0, "1/day", (0.05, 20.0), "clearance of released antigen and DAMPs", "[E]"),
        p("V_ab", 8.0, "L", (1.0, 30.0), "ADCC antibody volume of distribution", "[K] rituximab-like"),
        p("k_ab", 0.033, "1/day", (0.001, 1.0), "ADCC antibody elimination (t1/2 about 21 days)",
          "[K] rituximab-like"),
        p("EC50_ab", 10.0, "ug/mL", (0.01, 1000.0), "antibody level for half-maximal ADCC", "[E]"),
        p("k_switch", 20.0, "1/day", (0.0, 500.0), "kill rate of switch-bearing cells per unit dimeriser",
          "[E] iCasp9: most cells gone within hours (Di Stasi 2011 NEJM) [K]"),
        p("k_swd", 4.2, "1/day", (0.1, 100.0), "dimeriser elimination (t1/2 about 4 h)", "[E]"),
    ]


def drugs_radiation() -> Module:
    """Anti-PD-1, radiation pulse with NKG2D ligands and antigen release, ADCC antibody, switch drug."""
    return Module(
        "drugs_radiation",
        description="anti-PD-1, radiotherapy (LQ pulse, NKG2D ligands, antigen release), antibody, switch",
        states=[
            State("PD1", "mg", "anti-PD-1 antibody in the body"),
            State("RT_D", "Gy", "radiation dose of the current fraction not yet acted (cleared within an hour)"),
            State("RT_D2", "Gy^2", "square of the fraction dose, pending (linear-quadratic beta term)"),
            State("L", "1", "radiation-induced NKG2D ligand level on tumour cells (0-1)"),
            State("Ag", "cells", "antigen and DAMPs released by killed antigen-positive cells (cell equivalents)"),
            State("Ab", "mg", "co-administered ADCC antibody in the body"),
            State("Sw", "1", "safety-switch dimeriser (1 = one full dose)"),
        ],
        parameters=_parameters(),
        observables=[
            Observable("pd1_occ", "PD1/(PD1 + EC50_pd1*V_pd1)", "1", "anti-PD-1 effect (0-1)"),
            Observable("rt_haz_lym", "f_field*k_rt*(alpha_lym*RT_D + beta_lym*RT_D2)", "1/day",
                       "radiation kill hazard of a product immune cell (in-field share)"),
            Observable("ab_occ", "Ab/(Ab + EC50_ab*V_ab)", "1", "ADCC antibody effect (0-1)"),
        ],
        rates=[
            Rate("pd1_elimination", "k_pd1*PD1", {"PD1": -1}),
            Rate("rt_dose_clearance", "k_rt*RT_D", {"RT_D": -1}),
            Rate("rt_dose2_clearance", "k_rt*RT_D2", {"RT_D2": -1}),
            Rate("nkg2d_induction", "k_Lind*rt_haz*(1 - L)", {"L": 1}),
            Rate("nkg2d_loss", "k_Loff*L", {"L": -1}),
            Rate("antigen_release", "(haz_T + haz_K_pos)*B_seen + rt_haz*(Bp + Bs)", {"Ag": 1}),
            Rate("antigen_clearance", "k_ag*Ag", {"Ag": -1}),
            Rate("ab_elimination", "k_ab*Ab", {"Ab": -1}),
            Rate("switch_drug_elimination", "k_swd*Sw", {"Sw": -1}),
        ],
    )
