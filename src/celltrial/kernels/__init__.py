"""Compiled kernels: code generation from the symbolic model and the numba Rodas4 solver."""

from .compile import CompiledModel as CompiledModel
from .compile import cache_dir as cache_dir
from .compile import compile_model as compile_model

__all__ = ["CompiledModel", "cache_dir", "compile_model"]
