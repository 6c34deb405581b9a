"""One-patient forecasting: posterior of the patient's parameters, forecast bands, and next moves compared.

Pure: nothing here prints, plots or touches files (the CLI is :mod:`celltrial.cli.forecast`).

Example:
    >>> from celltrial.forecast import Action
    >>> Action(name="wait", kind="none").kind
    'none'
"""

from .actions import Action as Action
from .actions import default_actions as default_actions
from .actions import load_actions as load_actions
from .actions import parse_actions as parse_actions
from .forecast import Forecast as Forecast
from .forecast import forecast_patient as forecast_patient
from .posterior import Posterior as Posterior
from .posterior import sample_posterior as sample_posterior

__all__ = ["Action", "Forecast", "Posterior", "default_actions", "forecast_patient", "load_actions",
           "parse_actions", "sample_posterior"]
