"""Batched stiff solver: events, in-kernel summaries, segmented simulation."""

from .events import Bolus as Bolus
from .events import ScaleState as ScaleState
from .events import SetParameter as SetParameter
from .events import SetState as SetState
from .events import piecewise_parameter as piecewise_parameter
from .result import Result as Result
from .simulate import Simulation as Simulation
from .simulate import compile as compile
from .simulate import simulate as simulate
from .summaries import AUC as AUC
from .summaries import FirstCrossing as FirstCrossing
from .summaries import LastCrossing as LastCrossing
from .summaries import Max as Max
from .summaries import Min as Min
from .summaries import ValueAt as ValueAt
