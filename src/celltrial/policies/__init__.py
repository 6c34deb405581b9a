"""Adaptive dosing policies: observations -> decisions, with caps and reasons."""

from .base import Caps as Caps
from .base import Decision as Decision
from .base import DosingRecord as DosingRecord
from .base import History as History
from .base import Observations as Observations
from .controller import PolicyController as PolicyController
from .library import BridgeToTransplant as BridgeToTransplant
from .library import CtDNATrigger as CtDNATrigger
from .library import Maintenance as Maintenance
from .library import MRDTrigger as MRDTrigger
from .library import Policy as Policy
from .library import PolicySpec as PolicySpec
from .library import RelapseTrigger as RelapseTrigger
