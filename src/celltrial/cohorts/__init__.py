"""Virtual cohorts: per-patient random streams, covariates, log-normal variability.

Example:
    >>> from celltrial.cohorts import CohortSpec, Variability, sample_cohort
    >>> from celltrial.model.library import one_compartment_model
    >>> spec = CohortSpec(variability=Variability({"k": 0.3}))
    >>> sample_cohort(one_compartment_model(), spec, n=4, seed=1).params.shape
    (4, 2)
"""

from .covariates import Categorical as Categorical
from .covariates import Covariate as Covariate
from .covariates import LogNormal as LogNormal
from .covariates import Normal as Normal
from .covariates import Uniform as Uniform
from .covariates import sample_covariates as sample_covariates
from .effects import CovariateEffect as CovariateEffect
from .sampling import Cohort as Cohort
from .sampling import sample_cohort as sample_cohort
from .spec import CohortSpec as CohortSpec
from .spec import Variability as Variability
from .streams import PURPOSES as PURPOSES
from .streams import patient_blocks as patient_blocks
from .streams import patient_pcg_states as patient_pcg_states
from .streams import patient_rng as patient_rng

__all__ = [
    "PURPOSES",
    "Categorical",
    "Cohort",
    "CohortSpec",
    "Covariate",
    "CovariateEffect",
    "LogNormal",
    "Normal",
    "Uniform",
    "Variability",
    "patient_blocks",
    "patient_pcg_states",
    "patient_rng",
    "sample_cohort",
    "sample_covariates",
]
