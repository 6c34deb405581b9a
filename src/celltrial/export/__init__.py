"""Exports of models and results: SBML for other simulators, CSV/Parquet tables for analysis.

Example:
    >>> from celltrial.model.library import exponential_model
    >>> parameter_table(exponential_model(), [[0.1, 1.0]])["r"].tolist()
    [0.1]
"""

from .sbml import export_sbml as export_sbml
from .tables import parameter_table as parameter_table
from .tables import read_parameter_table as read_parameter_table
from .tables import write_parameter_table as write_parameter_table
from .tables import write_trajectory_csv as write_trajectory_csv

__all__ = [
    "export_sbml",
    "parameter_table",
    "read_parameter_table",
    "write_parameter_table",
    "write_trajectory_csv",
]
