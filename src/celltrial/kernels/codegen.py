"""Generate the numba source of a model's kernels from its symbolic declaration.

Emitted functions (all scalar code over one patient, straight-line, CSE'd):

* ``model_rhs(_Y, _P, _F)`` - right-hand side dy/dt into ``_F``;
* ``model_jac_lu(_Y, _P, ghinv, _A)`` - forms ``I*ghinv - J`` on the sparse pattern and
  factorises it in place (returns False on a tiny or non-finite pivot);
* ``model_lu_solve(_A, _B)`` - solves in place with the factors;
* ``model_observe(_Y, _P, _Q)`` - observables; ``model_initial(_P, _Y)`` - initial state.

User names never appear in the code (states become ``_y3``, parameters ``_p7``), so no name
can clash with Python or with the solver's own variables.

Example:
    >>> from celltrial.model.library import exponential_model
    >>> "def model_rhs" in generate_model_source(exponential_model())
    True
"""

from __future__ import annotations

import sympy as sp
from sympy.printing.pycode import PythonCodePrinter

from .sparse_lu import LUPlan, plan_lu

_DECORATOR = '@numba.njit(cache=True, error_model="numpy")'
# Only the Jacobian-and-LU function is inlined into the solver: it is called once per step. The
# right-hand side (6 calls a step), the LU solves (6) and the observables (saves, summaries, events)
# stay calls: inlining them copied each body into every call site, and LLVM's time on the standard
# model went from 61 s to about 155 s, for a step about 5% faster.
_INLINED = {"model_jac_lu"}


class _Printer(PythonCodePrinter):
    """Python printer emitting plain float literals and ``math.*`` calls numba understands."""

    def _print_Float(self, expr):
        return repr(float(expr))

    def _print_Rational(self, expr):
        return repr(float(expr))

    def _print_Integer(self, expr):
        return f"{int(expr)}.0"

    def _print_Pow(self, expr, rational=False):
        base, exp = expr.as_base_exp()
        if exp.is_Integer and 1 <= abs(int(exp)) <= 4:
            # Small integer powers become products: exact in IEEE arithmetic and faster than pow.
            b = self.parenthesize(base, 100)
            prod = "*".join([b] * abs(int(exp)))
            return f"({prod})" if exp > 0 else f"(1.0/({prod}))"
        if exp == sp.Rational(1, 2):
            return f"math.sqrt({self._print(base)})"
        return f"math.pow({self._print(base)}, {self._print(exp)})"


_PRINTER = _Printer({"standard": "python3"})


def _renamer(symbolic):
    subs = {s: sp.Symbol(f"_y{i}", real=True) for i, s in enumerate(symbolic.state_symbols)}
    subs.update({s: sp.Symbol(f"_p{i}", real=True) for i, s in enumerate(symbolic.parameter_symbols)})
    return subs


def _body(exprs, targets, subs, used_inputs=True):
    """Straight-line code assigning each expression to its target after CSE."""
    exprs = [sp.sympify(e).xreplace(subs) for e in exprs]
    # no optimizations="basic": its pre-processing took 9 of the 11 s of generating the standard
    # model's kernels (cold start), and step cost was unchanged within noise without it
    replacements, reduced = sp.cse(exprs, symbols=sp.numbered_symbols("_c"))
    lines = [f"    {sym} = {_PRINTER.doprint(val)}" for sym, val in replacements]
    lines += [f"    {tgt} = {_PRINTER.doprint(val)}" for tgt, val in zip(targets, reduced, strict=True)]
    return lines


def _unpack(n_states, n_params, states=True):
    lines = [f"    _y{i} = _Y[{i}]" for i in range(n_states)] if states else []
    return lines + [f"    _p{i} = _P[{i}]" for i in range(n_params)]


def _function(name, args, docline, lines):
    decorator = _DECORATOR[:-1] + ', inline="always")' if name in _INLINED else _DECORATOR
    return "\n".join([decorator, f"def {name}({args}):", f'    """{docline}"""', *lines, ""])


def _rhs_source(sym, subs, ns, np_):
    lines = _unpack(ns, np_) + _body(sym.rhs, [f"_F[{i}]" for i in range(ns)], subs)
    return _function("model_rhs", "_Y, _P, _F", "dy/dt for one patient.", lines)


def _pivot_check(slot):
    """Reject a tiny/non-finite pivot, then store its reciprocal: solves multiply, never divide."""
    return [
        f"    if not abs(_a{slot}) > 1e-12 * ghinv:",
        "        return False",
        f"    _a{slot} = 1.0 / _a{slot}",
    ]


def _count_ops(exprs):
    """Arithmetic operations after common-subexpression elimination."""
    if not exprs:
        return 0
    replacements, reduced = sp.cse(exprs)
    return int(sp.count_ops([e for _, e in replacements] + list(reduced)))


def _jac_lu_source(sym, subs, plan: LUPlan, np_):
    jac = sym.jacobian
    ns = plan.n
    targets, exprs = [], []
    for (r, c), slot in sorted(plan.slots.items(), key=lambda kv: kv[1]):
        i, j = plan.perm[r], plan.perm[c]
        entry = -jac[i, j]
        targets.append(f"_a{slot}")
        exprs.append(entry + sp.Symbol("ghinv") if r == c else entry)
    lines = _unpack(ns, np_) + _body(exprs, targets, subs)
    checked = set()
    for op in plan.factor_ops:
        if op[0] == "div":
            _, ik, kk = op
            if kk not in checked:  # check a pivot before its first use
                checked.add(kk)
                lines += _pivot_check(kk)
            lines.append(f"    _a{ik} = _a{ik} * _a{kk}")
        else:
            _, ij, ik, kj = op
            lines.append(f"    _a{ij} = _a{ij} - _a{ik} * _a{kj}")
    for p in plan.pivots:
        if p not in checked:
            lines += _pivot_check(p)
    lines += [f"    _A[{s}] = _a{s}" for s in range(len(plan.slots))]
    lines.append("    return True")
    doc = "Form I*ghinv - J and factorise it in place; diagonal slots hold reciprocal pivots."
    return _function("model_jac_lu", "_Y, _P, ghinv, _A", doc, lines)


def _lu_solve_source(plan: LUPlan):
    lines = [f"    _x{r} = _B[{plan.perm[r]}]" for r in range(plan.n)]
    for r in range(plan.n):  # forward substitution, unit lower triangle
        terms = " - ".join(f"_A[{s}] * _x{c}" for c, s in plan.lower(r))
        if terms:
            lines.append(f"    _x{r} = _x{r} - {terms}")
    for r in reversed(range(plan.n)):  # back substitution
        terms = " - ".join(f"_A[{s}] * _x{c}" for c, s in plan.upper(r))
        num = f"(_x{r} - {terms})" if terms else f"_x{r}"
        lines.append(f"    _x{r} = {num} * _A[{plan.slots[(r, r)]}]")
    lines += [f"    _B[{plan.perm[r]}] = _x{r}" for r in range(plan.n)]
    return _function("model_lu_solve", "_A, _B", "Solve with the factors from model_jac_lu, in place.", lines)


def _observe_source(sym, subs, ns, np_):
    exprs = sym.observable_exprs
    lines = _unpack(ns, np_) + _body(exprs, [f"_Q[{i}]" for i in range(len(exprs))], subs)
    if not exprs:
        lines.append("    pass")
    return _function("model_observe", "_Y, _P, _Q", "Observables for one patient.", lines)


def _initial_source(sym, subs, ns, np_):
    lines = _unpack(ns, np_, states=False) + _body(sym.initial, [f"_Y[{i}]" for i in range(ns)], subs)
    return _function("model_initial", "_P, _Y", "Initial state from parameters.", lines)


def generate_model_source(model) -> str:
    """Return Python source defining the model kernels and the constants the solver needs."""
    sym = model.symbolic
    ns, np_, no = len(model.states), len(model.parameters), len(model.observables)
    plan = plan_lu(ns, sym.sparsity())
    subs = _renamer(sym)
    legend = [f"#   _y{i} = {n}" for i, n in enumerate(model.state_names)]
    legend += [f"#   _p{i} = {n}" for i, n in enumerate(model.parameter_names)]
    lu_factor_flops, lu_solve_flops = plan.flops()
    header = [
        f"# Generated by celltrial from model {model.name!r}; do not edit (regenerated on change).",
        *legend,
        "import math",
        "",
        "import numba",
        "import numpy as np",
        "",
        f"N_STATES = {ns}",
        f"N_PARAMS = {np_}",
        f"N_OBS = {no}",
        f"N_LU = {len(plan.slots)}",
        f"LU_FACTOR_FLOPS = {lu_factor_flops}",
        f"LU_SOLVE_FLOPS = {lu_solve_flops}",
        f"RHS_OPS = {_count_ops(sym.rhs)}",
        f"JAC_OPS = {_count_ops(list(sym.jacobian))}",
    ]
    parts = [
        "\n".join(header),
        _rhs_source(sym, subs, ns, np_),
        _jac_lu_source(sym, subs, plan, np_),
        _lu_solve_source(plan),
        _observe_source(sym, subs, ns, np_),
        _initial_source(sym, subs, ns, np_),
    ]
    return "\n\n".join(parts)
