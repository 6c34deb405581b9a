"""Host T lymphocytes, lymphodepletion and blood volumes.

Host T cells ``N`` recover after Flu/Cy lymphodepletion by Gompertz growth towards the
lymphoid carrying capacity ``K_N``, sharing the space with engineered T cells (Kimmel 2021).
Lymphodepletion itself is an event (see :func:`celltrial.protocols.lymphodepletion`) that
scales ``N`` down, so the depth of depletion is a protocol choice, not a model constant.
Fludarabine also leaves a long CD4 helper T-cell deficit (``H_cd4``, relative to before; the
same event scales it): CD4 counts stay near a fifth of normal a year after axi-cel (Strati 2021
Haematologica 106:2667; Baird 2021 Blood Adv 5:143), far slower than the total T-cell recovery.

Example:
    >>> host_lymphocytes().states[0].name
    'N'
"""

from __future__ import annotations

from ..model import Module, Observable, Parameter, Rate, State
from .sources import AVANZINI, KIMMEL


def host_lymphocytes() -> Module:
    """Host T cells with Gompertz recovery in a space shared with engineered T cells."""
    return Module(
        "host_lymphocytes",
        description="host T lymphocytes: depletion by Flu/Cy and Gompertz recovery (Kimmel 2021)",
        states=[State("N", "cells", "host T lymphocytes (whole body)", initial="N0"),
                State("H_cd4", "1", "host CD4 helper T cells relative to before lymphodepletion (0-1)",
                      initial="1")],
        parameters=[
            Parameter("K_N", 2.5e11, "cells", (1e9, 1e13), "lymphoid carrying capacity for T cells", KIMMEL),
            Parameter("r_N", 0.17, "1/day", (0.0, 2.0), "host T-cell recovery rate", KIMMEL),
            # Near the Gompertz equilibrium K_N: without lymphodepletion there is little free space,
            # hence little homeostatic-cytokine drive for the infused cells (Turtle 2016: no Flu, CR 8%).
            Parameter("N0", 2.25e11, "cells", (0.0, 1e13), "host T cells before lymphodepletion",
                      "[E] 0.9 K_N (homeostasis less prior therapy); Flu/Cy then leaves Kimmel's N(0) = 3e9"),
            Parameter("r_cd4", 0.0007, "1/day", (0.0, 1.0), "recovery of the CD4 helper deficit after Flu/Cy",
                      "[R] median CD4 155/uL a year after axi-cel (Strati 2021 Haematologica 106:2667), about a "
                      "fifth of normal [K]: 1 - exp(-0.0007*365) = 0.23"),
            Parameter("f_blood", 0.02, "1", (0.001, 0.5), "share of lymphocytes circulating in blood",
                      "[K] Westermann & Pabst 1992 (about 2% of lymphocytes are in blood)"),
            Parameter("V_blood", 5000.0, "mL", (200.0, 10000.0), "blood volume", AVANZINI + " (5 L)"),
            Parameter("leuk_other", 2000.0, "cells/uL", (0.0, 50000.0),
                      "non-lymphoid leukocytes in blood (denominator of transgene copies/ug DNA)", "[E]"),
            Parameter("dna_cells", 1.5e5, "cells/ug", (1e4, 1e6), "nucleated cells per ug genomic DNA",
                      "[R] 6.6 pg DNA per diploid cell (science.md 1.2)"),
        ],
        observables=[
            Observable("alc_T", "f_blood*N/(1000*V_blood)", "cells/uL", "host T lymphocytes per uL of blood"),
        ],
        rates=[Rate("host_recovery", "r_N*N*log(K_N/(N + C_T + 1))", {"N": 1}),
               Rate("cd4_recovery", "r_cd4*(1 - H_cd4)", {"H_cd4": 1})],
    )
