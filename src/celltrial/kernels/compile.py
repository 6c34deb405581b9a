"""Compile a declared model to cached numba kernels.

The generated source (model functions + the solver template) is written once to
``$CELLTRIAL_CACHE_DIR`` (default ``~/.cache/celltrial/kernels``) under a name that hashes
the declaration's structure (names, expressions, stoichiometry - not defaults or prose), the
template and the celltrial version; numba caches the machine code next
to it. A second process therefore skips sympy and LLVM entirely and loads the kernels in a
fraction of a second. The first compile time is measured and reported, not hidden.

Example:
    >>> from celltrial.model.library import exponential_model
    >>> compiled = compile_model(exponential_model())
    >>> compiled.info["n_states"]
    1
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .._version import __version__
from ..errors import CompilationError

# appended to every model's generated functions, in this order (the solver calls the cure checks)
_TEMPLATES = tuple(Path(__file__).with_name(f) for f in ("_cure_template.py", "_rodas_template.py"))


# what the generated source depends on besides the model: a change to any of them regenerates it
_GENERATORS = tuple(Path(__file__).with_name(f) for f in ("codegen.py", "sparse_lu.py"))


def _template_text() -> str:
    return "\n\n".join(t.read_text() for t in _TEMPLATES)


def cache_dir() -> Path:
    """Directory holding generated kernel modules and numba's cache."""
    root = os.environ.get("CELLTRIAL_CACHE_DIR")
    base = Path(root) if root else Path.home() / ".cache" / "celltrial" / "kernels"
    base.mkdir(parents=True, exist_ok=True)
    return base


def _module_path(model) -> Path:
    template = _template_text().encode() + b"".join(g.read_bytes() for g in _GENERATORS)
    key = hashlib.sha256(model.structure_fingerprint().encode() + template + __version__.encode()).hexdigest()[:16]
    return cache_dir() / f"ct_{model.name}_{key}.py"


def _write_source(model, path: Path) -> None:
    from .codegen import generate_model_source  # sympy work only on a cache miss

    source = generate_model_source(model) + "\n\n" + _template_text()
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(source)
    os.replace(tmp, path)  # atomic: a concurrent process never sees half a file


def _import(path: Path):
    name = f"celltrial_kernels_{path.stem}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        del sys.modules[name]
        raise CompilationError(f"generated kernels for model in {path} failed to load: {exc}") from exc
    return module


@dataclass
class CompiledModel:
    """A model with its compiled kernels.

    Attributes:
        model: the declaration.
        kernels: the generated module (``advance_batch``, ``model_rhs``, ...).
        path: where the generated source lives.
        info: sizes, flop counts and timings (``generate_s``, ``compile_s``, ``cache_hit``).
    """

    model: object
    kernels: object
    path: Path
    info: dict = field(default_factory=dict)

    @property
    def n_states(self) -> int:
        return self.kernels.N_STATES

    def rhs(self, y, p):
        """dy/dt for one patient (for tests and reference solvers)."""
        out = np.empty(self.n_states)
        self.kernels.rhs_one(np.ascontiguousarray(y, float), np.ascontiguousarray(p, float), out)
        return out


_COMPILED: dict = {}

#: Kernels that the first solve compiles and that take most of the time: when numba holds all of
#: them on disk, a run loads machine code instead of compiling it.
_ENTRY_POINTS = ("start_batch", "advance_batch", "finish_batch")


def is_cached(model) -> bool:
    """True when ``model``'s machine code is in this process or in numba's disk cache (read-only check).

    Lets a command say "compiling ..." before minutes of silence; a wrong guess costs one line.

    Example:
        >>> from celltrial.model.library import exponential_model
        >>> isinstance(is_cached(exponential_model()), bool)
        True
    """
    path = _module_path(model)
    known = _COMPILED.get(path)
    if known is not None and "compile_s" in known.info:
        return True
    if not path.exists():
        return False
    # numba names its index files <module>.<function>-<line>.py<ver>.nbi, in __pycache__ beside the
    # source or under $NUMBA_CACHE_DIR.
    roots = [path.parent / "__pycache__"]
    if os.environ.get("NUMBA_CACHE_DIR"):
        roots.append(Path(os.environ["NUMBA_CACHE_DIR"]))
    found = {f.name[len(path.stem) + 1:].split("-")[0] for root in roots if root.is_dir()
             for f in root.rglob(f"{path.stem}.*.nbi")}
    return all(name in found for name in _ENTRY_POINTS)


def compile_model(model) -> CompiledModel:
    """Generate (or reuse) the kernel source of ``model`` and import it.

    Machine code is produced by numba on first call (or loaded from its disk cache);
    :func:`celltrial.solve.compile` triggers that and records ``info['compile_s']``.
    """
    path = _module_path(model)
    if path in _COMPILED:
        return _COMPILED[path]
    t0 = time.perf_counter()
    hit = path.exists()
    if not hit:
        _write_source(model, path)
    t1 = time.perf_counter()
    kernels = _import(path)
    compiled = CompiledModel(model, kernels, path)
    compiled.info.update(
        n_states=kernels.N_STATES,
        n_params=kernels.N_PARAMS,
        n_obs=kernels.N_OBS,
        lu_nonzeros=kernels.N_LU,
        lu_factor_flops=kernels.LU_FACTOR_FLOPS,
        lu_solve_flops=kernels.LU_SOLVE_FLOPS,
        rhs_ops=kernels.RHS_OPS,
        jac_ops=kernels.JAC_OPS,
        source_cached=hit,
        generate_s=t1 - t0,
    )
    _COMPILED[path] = compiled
    return compiled
