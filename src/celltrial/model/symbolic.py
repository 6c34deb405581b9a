"""Symbolic form of a declared model: parsed expressions, right-hand side and Jacobian.

All expressions are parsed with sympy against the declared names only, so a typo is a
declaration error naming the item, not a silently created symbol. Observables are
substituted into rates (after a cycle check), giving the right-hand side in states and
parameters alone; the Jacobian is its exact symbolic derivative.

Example:
    >>> from celltrial.model.library import exponential_model
    >>> sym = exponential_model().symbolic
    >>> sym.rhs
    [r*x]
"""

from __future__ import annotations

import sympy as sp

from ..errors import DeclarationError, did_you_mean

_FUNCTIONS = {"exp": sp.exp, "log": sp.log, "sqrt": sp.sqrt, "tanh": sp.tanh, "Abs": sp.Abs}
_SYMPY_BUILTINS = {
    "Integer": sp.Integer,
    "Float": sp.Float,
    "Rational": sp.Rational,
    "Symbol": sp.Symbol,
    "Function": sp.Function,  # unknown calls become undefined functions, refused below by name
}


class SymbolicModel:
    """Parsed, validated sympy view of a :class:`~celltrial.model.declaration.Model`."""

    def __init__(self, model):
        self.model = model
        # A model may widen the expression language (e.g. an imported SBML model: piecewise, trig);
        # declared models use the base set, so a typo like `sin` stays an error there.
        self._functions = {**_FUNCTIONS, **getattr(model, "extra_functions", {})}
        self.state_symbols = [sp.Symbol(n, real=True) for n in model.state_names]
        self.parameter_symbols = [sp.Symbol(n, real=True) for n in model.parameter_names]
        self.observable_symbols = [sp.Symbol(n, real=True) for n in model.observable_names]
        self._names = {
            s.name: s for s in self.state_symbols + self.parameter_symbols + self.observable_symbols
        }
        self.observable_exprs = self._resolve_observables()
        self.rate_exprs = {
            r.name: self._substituted(self._parse(r.expression, f"rate {r.name!r}")) for r in model.rates
        }
        self.rhs = self._build_rhs()
        self.initial = self._build_initial()
        self._jacobian = None

    # -- parsing ---------------------------------------------------------------------------
    def _parse(self, text, where, allowed=None):
        allowed = self._names if allowed is None else allowed
        if isinstance(text, bool):
            raise DeclarationError(f"{where}: expected a number or an expression, got {text!r}")
        if isinstance(text, int):
            return sp.Integer(text)
        if isinstance(text, float):
            return sp.Float(text)
        try:
            expr = sp.parse_expr(text, local_dict=dict(allowed), global_dict={**_SYMPY_BUILTINS, **self._functions})
        except Exception as exc:  # sympy raises many types for syntax errors
            raise DeclarationError(f"{where}: cannot parse expression {text!r}: {exc}") from None
        if not isinstance(expr, sp.Expr):
            raise DeclarationError(f"{where}: {text!r} is not an arithmetic expression")
        unknown = sorted(s.name for s in expr.free_symbols if s.name not in allowed)
        if unknown:
            name = unknown[0]
            raise DeclarationError(
                f"{where}: unknown name {name!r} in {text!r}{did_you_mean(name, allowed)}; "
                "declare it as a state, parameter or observable"
            )
        functions = self._functions.values()
        bad = {type(f).__name__ for f in expr.atoms(sp.Function) if type(f) not in functions}
        if bad:
            allowed_names = sorted(k for k, v in self._functions.items() if k in _FUNCTIONS or isinstance(v, type))
            raise DeclarationError(f"{where}: function(s) {sorted(bad)} are not supported; use {allowed_names}")
        return expr

    def _resolve_observables(self):
        """Parse observables and substitute observables used inside others (cycles are errors)."""
        raw = {o.name: self._parse(o.expression, f"observable {o.name!r}") for o in self.model.observables}
        resolved: dict = {}

        def resolve(name, stack):
            if name in resolved:
                return resolved[name]
            if name in stack:
                cycle = " -> ".join([*stack, name])
                raise DeclarationError(f"observables refer to each other in a cycle: {cycle}")
            expr = raw[name]
            subs = {s: resolve(s.name, [*stack, name]) for s in expr.free_symbols if s.name in raw}
            resolved[name] = expr.xreplace(subs)
            return resolved[name]

        return [resolve(o.name, []) for o in self.model.observables]

    def _substituted(self, expr):
        subs = dict(zip(self.observable_symbols, self.observable_exprs, strict=True))
        return expr.xreplace(subs)

    # -- derived forms ---------------------------------------------------------------------
    def _build_rhs(self):
        index = {s.name: i for i, s in enumerate(self.state_symbols)}
        rhs = [sp.Integer(0)] * len(index)
        for rate in self.model.rates:
            for state, coef in rate.stoichiometry.items():
                if state not in index:
                    raise DeclarationError(
                        f"rate {rate.name!r}: stoichiometry names unknown state {state!r}"
                        f"{did_you_mean(state, index)}"
                    )
                c = self._parse(coef, f"rate {rate.name!r} coefficient for {state!r}", self._param_names())
                rhs[index[state]] = rhs[index[state]] + c * self.rate_exprs[rate.name]
        return rhs

    def _param_names(self):
        return {s.name: s for s in self.parameter_symbols}

    def _build_initial(self):
        exprs = []
        for s in self.model.states:
            where = f"state {s.name!r} initial value"
            exprs.append(self._parse(s.initial, where, self._param_names()))
        return exprs

    @property
    def jacobian(self) -> sp.Matrix:
        """d(rhs)/d(states), computed once on first use."""
        if self._jacobian is None:
            self._jacobian = sp.Matrix(self.rhs).jacobian(self.state_symbols)
        return self._jacobian

    def sparsity(self):
        """Set of (row, column) positions where the Jacobian is not identically zero."""
        jac = self.jacobian
        n = len(self.state_symbols)
        return {(i, j) for i in range(n) for j in range(n) if jac[i, j] != 0}
