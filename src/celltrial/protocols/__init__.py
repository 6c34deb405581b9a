"""Protocols: dosing events of the standard model and stochastic extinction between segments."""

from .doses import FLU_CY_REMAINING as FLU_CY_REMAINING
from .doses import adcc_antibody as adcc_antibody
from .doses import anti_pd1 as anti_pd1
from .doses import lymphodepletion as lymphodepletion
from .doses import nk_infusion as nk_infusion
from .doses import radiotherapy as radiotherapy
from .doses import safety_switch as safety_switch
from .doses import t_cell_infusion as t_cell_infusion
from .doses import tocilizumab as tocilizumab
from .extinction import Extinction as Extinction
from .extinction import extinction_probability as extinction_probability
from .extinction import run_with_extinction as run_with_extinction

__all__ = ["FLU_CY_REMAINING", "Extinction", "adcc_antibody", "anti_pd1", "extinction_probability",
           "lymphodepletion", "nk_infusion", "radiotherapy", "run_with_extinction", "safety_switch",
           "t_cell_infusion", "tocilizumab"]
