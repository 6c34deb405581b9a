"""celltrial's standard biology, declared as composable modules (pure; no solver, no I/O)."""

from .alloimmunity import alloimmunity as alloimmunity
from .crs import crs as crs
from .ctdna import ctdna as ctdna
from .drugs import drugs_radiation as drugs_radiation
from .grading import crs_grade as crs_grade
from .host import host_lymphocytes as host_lymphocytes
from .kinetics import stein_metrics as stein_metrics
from .nk import nk_cells as nk_cells
from .standard import standard_model as standard_model
from .tcells import engineered_t_cells as engineered_t_cells
from .tumour import CLONES as CLONES
from .tumour import tumour as tumour

__all__ = ["CLONES", "alloimmunity", "crs", "ctdna", "drugs_radiation", "engineered_t_cells",
           "crs_grade", "host_lymphocytes", "nk_cells", "standard_model", "stein_metrics", "tumour"]
