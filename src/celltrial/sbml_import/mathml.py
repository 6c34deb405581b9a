"""SBML math (libsbml's AST) to sympy, in celltrial's expression language.

Every node type is translated exactly or refused with :class:`~celltrial.errors.SBMLImportError`
naming where it occurs; nothing is approximated. Function definitions are expanded inline
(their bodies converted with the arguments bound), ``time`` becomes the symbol the caller
passes (the importer's clock state, or 0 for initial values), and the derivative of
``floor``/``ceiling`` is zero (not sympy's unevaluated Derivative), so the Jacobian stays printable.

Example:
    >>> import libsbml, sympy as sp
    >>> x = sp.Symbol("x", real=True)
    >>> to_sympy(libsbml.parseL3Formula("piecewise(2*x, x > 1, 0)"), {"x": x}, "test")
    Piecewise((2*x, x > 1), (0, True))
"""

from __future__ import annotations

import math

import sympy as sp

from ..errors import SBMLImportError

# floor/ceiling with a zero derivative; the class names stay 'floor'/'ceiling' so sympy prints them
# as math.floor/math.ceil (its printers dispatch on the class name).
floor = type("floor", (sp.floor,), {"fdiff": lambda self, argindex=1: sp.S.Zero})
ceiling = type("ceiling", (sp.ceiling,), {"fdiff": lambda self, argindex=1: sp.S.Zero})

#: The extra names an imported model's expressions may use (passed to the declaration's parser).
EXTRA_FUNCTIONS = {
    "Piecewise": sp.Piecewise, "Min": sp.Min, "Max": sp.Max, "floor": floor, "ceiling": ceiling,
    "sin": sp.sin, "cos": sp.cos, "tan": sp.tan, "asin": sp.asin, "acos": sp.acos, "atan": sp.atan,
    "sinh": sp.sinh, "cosh": sp.cosh, "asinh": sp.asinh, "acosh": sp.acosh, "atanh": sp.atanh,
    "Eq": sp.Eq, "Ne": sp.Ne, "And": sp.And, "Or": sp.Or, "Not": sp.Not,
    "Xor": sp.Xor, "sign": sp.sign, "nan": sp.nan, "oo": sp.oo,
}
AVOGADRO = 6.02214179e23  # the value SBML Level 3 fixes for the avogadro csymbol

_UNARY = {
    "ABS": sp.Abs, "EXP": sp.exp, "LN": sp.log, "SIN": sp.sin, "COS": sp.cos, "TAN": sp.tan,
    "ARCSIN": sp.asin, "ARCCOS": sp.acos, "ARCTAN": sp.atan, "SINH": sp.sinh, "COSH": sp.cosh,
    "TANH": sp.tanh, "ARCSINH": sp.asinh, "ARCCOSH": sp.acosh, "ARCTANH": sp.atanh,
    "FLOOR": floor, "CEILING": ceiling,
    "SEC": lambda a: 1 / sp.cos(a), "CSC": lambda a: 1 / sp.sin(a), "COT": lambda a: 1 / sp.tan(a),
    "SECH": lambda a: 1 / sp.cosh(a), "CSCH": lambda a: 1 / sp.sinh(a), "COTH": lambda a: 1 / sp.tanh(a),
    "ARCSEC": lambda a: sp.acos(1 / a), "ARCCSC": lambda a: sp.asin(1 / a), "ARCCOT": lambda a: sp.atan(1 / a),
    "ARCSECH": lambda a: sp.acosh(1 / a), "ARCCSCH": lambda a: sp.asinh(1 / a),
    "ARCCOTH": lambda a: sp.atanh(1 / a),
}
_RELATIONAL = {"EQ": sp.Eq, "NEQ": sp.Ne, "GT": sp.Gt, "GEQ": sp.Ge, "LT": sp.Lt, "LEQ": sp.Le}
def _xor(*a):
    """Exclusive or as And/Or/Not: sympy's Xor object breaks Piecewise's condition handling."""
    out = sp.false  # an empty xor is false
    for b in a:
        out = sp.Or(sp.And(out, sp.Not(b)), sp.And(sp.Not(out), b))
    return out


_LOGICAL = {"AND": sp.And, "OR": sp.Or, "XOR": _xor}


def _type_names():
    """libsbml's AST type codes by name (AST_FUNCTION_SIN -> 'FUNCTION_SIN'), built once."""
    import libsbml

    return {getattr(libsbml, k): k[4:] for k in dir(libsbml) if k.startswith("AST_") and k[4:].isupper()}


_NAMES: dict = {}


def number(value: float) -> sp.Expr:
    """An exact sympy number for a double (integers stay integers; 17 digits read back exactly).

    >>> number(2.0), float(number(0.1)) == 0.1
    (2, True)
    """
    if math.isnan(value):
        return sp.nan
    if math.isinf(value):
        return sp.oo if value > 0 else -sp.oo
    if value.is_integer() and abs(value) < 2**53:
        return sp.Integer(int(value))
    return sp.Float(repr(value), 17)


def _is_boolean(x) -> bool:
    # not isinstance(x, Boolean): a sympy Symbol is a Boolean too
    return bool(x.is_Relational) or isinstance(x, (sp.logic.boolalg.BooleanAtom, sp.logic.boolalg.BooleanFunction))


def power(base, exponent):
    """``base ** exponent``; with a symbolic exponent, written so its derivative is finite at base 0.

    sympy differentiates ``x**h`` as ``h*x**h/x``, which is 0/0 at x = 0: a Hill term of a species
    that starts at zero would give the solver a NaN Jacobian. The value is unchanged (``0**h`` at 0).

    >>> x, h = sp.symbols("x h", real=True)
    >>> power(x, h).diff(x).subs({x: 0, h: 2})
    0
    """
    if not exponent.free_symbols or not base.free_symbols or base.is_positive:
        return base ** exponent
    return sp.Piecewise((base ** exponent, sp.Ne(base, 0)), (sp.Integer(0) ** exponent, True))


def as_number(x):
    """A true/false used as a number is 1/0 (SBML's rule)."""
    if _is_boolean(x):
        return sp.Piecewise((1, x), (0, True))
    return x


def as_boolean(x):
    """A number used as a condition is true when non-zero."""
    return x if _is_boolean(x) else sp.Ne(x, 0)


class _Converter:
    def __init__(self, symbols, where, time, functions):
        self.symbols, self.where, self.time, self.functions = symbols, where, time, functions

    def fail(self, what):
        raise SBMLImportError(f"{self.where}: {what} is not supported by the SBML importer")

    def __call__(self, node):
        if not _NAMES:
            _NAMES.update(_type_names())
        kind = _NAMES.get(node.getType(), "UNKNOWN")
        args = [self(node.getChild(i)) for i in range(node.getNumChildren())] if kind not in (
            "FUNCTION", "LAMBDA") else None
        return self.convert(kind, node, args)

    def convert(self, kind, node, args):
        if kind in ("INTEGER",):
            return sp.Integer(node.getInteger())
        if kind in ("REAL", "REAL_E"):
            return number(node.getReal())
        if kind == "RATIONAL":
            return sp.Rational(node.getNumerator(), node.getDenominator())
        if kind == "NAME":
            return self.name(node.getName())
        if kind == "NAME_TIME":
            return self.time
        if kind == "NAME_AVOGADRO":
            return number(AVOGADRO)
        if kind == "CONSTANT_E":
            return number(math.e)
        if kind == "CONSTANT_PI":
            return number(math.pi)
        if kind in ("CONSTANT_TRUE", "CONSTANT_FALSE"):
            return sp.true if kind == "CONSTANT_TRUE" else sp.false
        if kind == "FUNCTION":
            return self.user_function(node)
        return self.operator(kind, args)

    def operator(self, kind, a):
        if kind.startswith("LOGICAL_"):
            return self.logical(kind[8:], [as_boolean(x) for x in a])
        a = [as_number(x) for x in a]
        if kind == "PLUS":
            return sp.Add(*a)
        if kind == "TIMES":
            return sp.Mul(*a)
        if kind == "MINUS":
            return -a[0] if len(a) == 1 else a[0] - a[1]
        if kind == "DIVIDE":
            return a[0] / a[1]
        if kind in ("POWER", "FUNCTION_POWER"):
            return power(a[0], a[1])
        if kind == "FUNCTION_ROOT":
            return sp.sqrt(a[0]) if len(a) == 1 else a[1] ** (1 / a[0])
        if kind == "FUNCTION_LOG":
            return sp.log(a[0], 10) if len(a) == 1 else sp.log(a[1]) / sp.log(a[0])
        if kind.startswith("FUNCTION_") and kind[9:] in _UNARY and len(a) == 1:
            return _UNARY[kind[9:]](a[0])
        if kind == "FUNCTION_PIECEWISE":
            return self.piecewise(a)
        if kind in ("FUNCTION_MIN", "FUNCTION_MAX"):
            return (sp.Min if kind == "FUNCTION_MIN" else sp.Max)(*a)
        if kind in ("FUNCTION_QUOTIENT", "FUNCTION_REM"):
            q = a[0] / a[1]
            whole = sp.sign(q) * floor(sp.Abs(q))  # truncation towards zero, as SBML defines them
            return whole if kind == "FUNCTION_QUOTIENT" else a[0] - a[1] * whole
        if kind.startswith("RELATIONAL_"):
            return self.relational(kind[11:], a)
        names = {"FUNCTION_DELAY": "the delay csymbol", "FUNCTION_RATE_OF": "the rateOf csymbol"}
        self.fail(names.get(kind, f"MathML element {kind.lower()}"))

    def logical(self, op, a):
        if op in _LOGICAL:
            return _LOGICAL[op](*a)
        if op == "NOT":
            return sp.Not(a[0])
        if op == "IMPLIES":
            return sp.Or(sp.Not(a[0]), a[1])
        self.fail(f"MathML element {op.lower()}")

    def relational(self, op, a):
        if op == "NEQ" or len(a) == 2:
            return _RELATIONAL[op](*a)
        return sp.And(*(_RELATIONAL[op](x, y) for x, y in zip(a, a[1:], strict=False)))

    def piecewise(self, a):
        pieces = [(as_number(a[i]), as_boolean(a[i + 1])) for i in range(0, len(a) - 1, 2)]
        # no <otherwise>: SBML leaves the value undefined; NaN says so instead of a guess
        pieces.append((as_number(a[-1]) if len(a) % 2 else sp.nan, True))
        return sp.Piecewise(*pieces)

    def name(self, sid):
        if sid not in self.symbols:
            raise SBMLImportError(f"{self.where}: unknown identifier {sid!r} in math")
        value = self.symbols[sid]
        return value() if callable(value) else value

    def user_function(self, node):
        fname = node.getName()
        fd = self.functions.get(fname)
        if fd is None:
            raise SBMLImportError(f"{self.where}: unknown function {fname!r} (no functionDefinition)")
        body = fd.getBody()
        n = fd.getNumArguments()
        if body is None or n != node.getNumChildren():
            raise SBMLImportError(f"functionDefinition {fname!r}: called with {node.getNumChildren()} "
                                  f"arguments, defined with {n}")
        bound = {fd.getArgument(i).getName(): self(node.getChild(i)) for i in range(n)}
        # a function body sees only its arguments (and time, constants, other functions)
        return _Converter(bound, f"functionDefinition {fname!r}", self.time, self.functions)(body)


def to_sympy(node, symbols: dict, where: str, time=sp.S.Zero, functions=None, boolean=False) -> sp.Expr:
    """Convert the libsbml AST ``node`` to sympy.

    Args:
        node: a libsbml ``ASTNode`` (None means the element has no math: refused).
        symbols: SBML id -> sympy expression (or a zero-argument callable giving one, for lazy lookups).
        where: the SBML element, named in errors (e.g. "kineticLaw of reaction 'R1'").
        time: what the ``time`` csymbol stands for.
        functions: function id -> libsbml FunctionDefinition.
        boolean: the math is a condition (a trigger): return true/false, not 1/0.
    """
    if node is None:
        raise SBMLImportError(f"{where}: has no math")
    out = _Converter(symbols, where, time, functions or {})(node)
    return as_boolean(out) if boolean else as_number(out)
