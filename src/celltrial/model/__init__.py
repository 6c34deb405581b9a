"""Model declaration: states, parameters, observables and rate terms, composed from modules."""

from .declaration import Model as Model
from .declaration import Module as Module
from .declaration import Observable as Observable
from .declaration import Parameter as Parameter
from .declaration import Rate as Rate
from .declaration import State as State

__all__ = ["Model", "Module", "Observable", "Parameter", "Rate", "State"]
