"""celltrial: in-silico trials of cell therapies.

The public surface is re-exported here; implementation modules are free to change.

Example:
    >>> import celltrial
    >>> celltrial.__version__
    '0.1.0'
"""

from ._version import __version__ as __version__
from .errors import CelltrialError as CelltrialError
from .errors import DeclarationError as DeclarationError
from .errors import InputError as InputError
from .errors import Status as Status
from .model import Model as Model
from .model import Module as Module
from .model import Observable as Observable
from .model import Parameter as Parameter
from .model import Rate as Rate
from .model import State as State
from .sbml_import import import_sbml as import_sbml
from .solve import AUC as AUC
from .solve import Bolus as Bolus
from .solve import FirstCrossing as FirstCrossing
from .solve import LastCrossing as LastCrossing
from .solve import Max as Max
from .solve import Min as Min
from .solve import Result as Result
from .solve import ScaleState as ScaleState
from .solve import SetParameter as SetParameter
from .solve import SetState as SetState
from .solve import Simulation as Simulation
from .solve import ValueAt as ValueAt
from .solve import compile as compile  # noqa: A004 - the verb users expect
from .solve import simulate as simulate
