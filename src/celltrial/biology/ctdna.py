"""Circulating tumour DNA, the true level (the noisy assay is a separate layer).

Avanzini 2020: ctDNA is shed only by dying tumour cells, ``q_d`` haploid genome equivalents
per death, and cleared with a 30-minute half-life. The clearance is so fast that the plasma
level follows the death flux within hours, so it is declared as a quasi-steady-state
observable: ctDNA = q_d * deaths / (ln2/t_half * V_plasma) + background. At the lung
defaults (d = 0.136 /day, q_d = 1.4e-4) 1e9 cells give about 0.21 hGE/mL.

Example:
    >>> ctdna().observables[0].name
    'ctdna'
"""

from __future__ import annotations

from ..model import Module, Observable, Parameter
from .sources import AVANZINI


def ctdna() -> Module:
    """Quasi-steady ctDNA (hGE per mL of plasma) from the tumour death flux."""
    p = Parameter
    return Module(
        "ctdna",
        description="ctDNA shed by dying tumour cells (Avanzini 2020), quasi-steady in plasma",
        parameters=[
            p("q_d", 3e-3, "hGE/death", (0.0, 1.0), "ctDNA shed per tumour cell death",
              "[E] LBCL default so 1e11 cells give 1e2-1e3 hGE/mL (science.md 4.1); lung 1.4e-4 " + AVANZINI[4:]),
            p("ct_half", 0.5 / 24, "day", (1e-3, 1.0), "ctDNA half-life in plasma (30 min)", AVANZINI),
            p("f_plasma", 0.55, "1", (0.3, 0.8), "plasma fraction of blood", AVANZINI),
            p("ct_bg", 0.0, "hGE/mL", (0.0, 100.0), "tumour-independent background (assay-level false signal)",
              "[E] 0 by default; the assay layer models false positives"),
        ],
        observables=[
            Observable("ctdna", "q_d*death_flux*ct_half/(log(2)*V_blood*f_plasma) + ct_bg", "hGE/mL",
                       "tumour-derived cell-free DNA in plasma", kind="quasi_steady_state",
                       note="30-minute half-life: tracks the death flux within hours"),
        ],
    )
