"""Immune effector cell-associated neurotoxicity (ICANS): a lagged neuro-inflammation index.

ICANS follows CRS: no severe ICANS without CRS first (Gust 2017: all 28 grade >= 3 patients),
and grade >= 3 is about 4-5 times likelier after grade 4 CRS (ELIANA: 32% vs 7%). Serum IL-6
(not its receptor signal: tocilizumab does not prevent ICANS and raises serum IL-6) opens the
blood-brain barrier; engaged CAR T cells add their own drive, more with CD28 costimulation
(``neuro_T``, a product property; Brudno 2020: the hinge/transmembrane domain moves severe
neurotoxicity from 50% to 5%). The index ``NT`` (0 to about 1) follows this drive with a lag of
``1/k_nt`` days, scaled by the patient's endothelial susceptibility ``susc_nt`` (Gust 2017:
pre-lymphodepletion endothelial activation raises the risk). The grade is read from the peak
of ``NT`` against thresholds ``icans_g1``..``icans_g4`` as the CRS grade is read from IL-6
(:func:`celltrial.biology.grading.crs_grade` serves both).

Example:
    >>> [s.name for s in icans().states]
    ['NT']
"""

from __future__ import annotations

from ..model import Module, Observable, Parameter, Rate, State

_LAG = "[E] ICANS follows CRS by about 2 days (Santomasso 2018 Cancer Discov 8:958; Gust 2017 Cancer Discov 7:1404)"
_GRADE = "[E] grade threshold on the neuro-inflammation index; shared across diseases, fitted to ZUMA-1 and ELIANA"


def _parameters():
    p = Parameter
    return [
        p("k_nt", 0.5, "1/day", (0.05, 10.0), "turnover of the neuro-inflammation index (lag about 2 days)", _LAG),
        p("K_nt", 2000.0, "pg/mL", (1.0, 1e6), "serum IL-6 giving half the maximal blood-brain barrier drive",
          "[E] severe ICANS with IL-6 peaks of 10^3-10^4 pg/mL (Santomasso 2018)"),
        p("neuro_T", 1.0, "1", (0.0, 10.0), "extra neuro-inflammatory drive of engaged CAR T cells (CD28-like 1)",
          "[E] product property; higher neurotoxicity with CD28 CARs (Cappell & Kochenderfer 2021)"),
        p("susc_nt", 1.0, "1", (0.0, 10.0), "patient's endothelial susceptibility to neurotoxicity",
          "[E] patient level (Gust 2017: endothelial activation before lymphodepletion)"),
        p("icans_g1", 0.25, "1", (0.0, 100.0), "index threshold for ICANS grade 1", _GRADE),
        p("icans_g2", 0.45, "1", (0.0, 100.0), "index threshold for ICANS grade 2", _GRADE),
        p("icans_g3", 0.7, "1", (0.0, 100.0), "index threshold for ICANS grade 3", _GRADE),
        p("icans_g4", 1.2, "1", (0.0, 100.0), "index threshold for ICANS grade 4", _GRADE),
    ]


def icans() -> Module:
    """Lagged neuro-inflammation index driven by serum IL-6 and engaged CAR T cells."""
    drive = "susc_nt*IL6/(IL6 + K_nt)*(1 + neuro_T*A*cyt_T*E_T/(A*cyt_T*E_T + K_cd40))"
    return Module(
        "icans",
        description="ICANS: neuro-inflammation index lagging serum IL-6 and CAR T-cell engagement",
        states=[State("NT", "1", "neuro-inflammation index (ICANS grade from its peak)")],
        parameters=_parameters(),
        observables=[Observable("icans_drive", drive, "1", "level the neuro-inflammation index moves towards")],
        rates=[Rate("icans_rise", "k_nt*icans_drive", {"NT": 1}),
               Rate("icans_resolution", "k_nt*NT", {"NT": -1})],
    )


__all__ = ["icans"]
