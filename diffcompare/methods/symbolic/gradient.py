"""Symbolic differentiation: trace ``f`` with SymPy symbols, ``sympy.diff``, ``lambdify``.

One real symbol per coordinate of ``x``.  The traced expression, the derivative
expressions, their operation counts before and after common-subexpression elimination
(CSE) and the generated numpy source are all kept on the result for inspection.

Before ``sympy.diff``, a power with a traced exponent is given the limits of its
derivatives at base 0 (:func:`powers_with_limits`), where SymPy's own rule is NaN; the
traced expression itself, and so every condition built from it, is left as it was.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import sympy
from sympy.printing.numpy import NumPyPrinter

from ...validation import check_callable, check_scalar_output
from .namespace import SymbolicArray, stable_relation, sympy_namespace

__all__ = [
    "POWER_REWRITES",
    "SymbolicGradient",
    "differentiate",
    "powers_with_limits",
    "rewrite_outside_conditions",
    "symbolic_gradient",
    "trace",
    "trace_vector",
]


def trace(f: Callable, dim: int) -> tuple[tuple[sympy.Symbol, ...], sympy.Expr]:
    """Evaluate ``f`` on a vector of ``dim`` real SymPy symbols.

    Returns
    -------
    symbols : tuple of sympy.Symbol
        ``x0 ... x{dim-1}``.
    expression : sympy.Expr
        ``f`` as a SymPy expression.

    Raises
    ------
    NotImplementedError
        If ``f`` branches in Python on a traced value (write it with ``xp.where``) or
        calls an operation the SymPy namespace lacks.
    ValueError, TypeError
        If ``f`` does not return a real scalar, or converts a traced value to a float.
    """
    symbols, out = _traced_output(f, dim)
    if isinstance(out, np.ndarray) and out.shape == ():
        out = out.item()
    check_scalar_output(out, "symbolic")
    return symbols, sympy.sympify(out)


def trace_vector(f: Callable, dim: int) -> tuple[tuple[sympy.Symbol, ...], tuple[sympy.Expr, ...]]:
    """Evaluate a vector-valued ``f`` on ``dim`` real symbols: one expression per output.

    Raises as :func:`trace`, with ``ValueError`` if ``f`` does not return a 1-d array.
    """
    symbols, out = _traced_output(f, dim)
    shape = np.shape(out)
    if len(shape) != 1:
        raise ValueError(f"f must return a 1-d array; with the symbolic namespace it returned shape {shape}")
    entries = [sympy.sympify(e) for e in np.asarray(out, dtype=object).tolist()]
    return symbols, tuple(check_scalar_output(e, "symbolic") for e in entries)


def _traced_output(f: Callable, dim: int):
    """``f`` on a vector of ``dim`` real symbols: the symbols and what ``f`` returned."""
    check_callable(f)
    symbols = sympy.symbols(f"x0:{dim}", real=True)
    x = np.array(symbols, dtype=object).view(SymbolicArray)
    try:
        out = f(x, sympy_namespace)
    except TypeError as error:
        if "truth value of Relational" in str(error):
            raise NotImplementedError(
                "symbolic tracing failed: f uses Python control flow (if, max, min, ...) "
                "on a traced value; write the branch with xp.where or xp.maximum"
            ) from error
        if "loop of ufunc does not support" in str(error):  # e.g. inside np.linalg.norm
            raise NotImplementedError(
                f"symbolic tracing failed: f called a numpy function that SymPy expressions cannot "
                f"pass through ({error}); write f with the operations of xp"
            ) from error
        if "convert expression to float" in str(error):
            raise TypeError(
                "symbolic tracing failed: f converted a traced value to a Python float "
                "(float(), the math module, ...); write it with the operations of xp"
            ) from error
        raise
    return symbols, out


def _differentiated_args(node: sympy.Basic) -> tuple:
    """The arguments of ``node`` that its derivative depends on: not a Piecewise's conditions."""
    if isinstance(node, sympy.Piecewise):
        return tuple(piece.expr for piece in node.args)
    return node.args


def _rebuilt(node: sympy.Basic, changed: dict) -> sympy.Basic:
    """``node`` with its changed differentiated arguments replaced."""
    if isinstance(node, sympy.Piecewise):
        return sympy.Piecewise(*((changed.get(piece.expr, piece.expr), piece.cond) for piece in node.args))
    return node.func(*(changed.get(a, a) for a in node.args))


def rewrite_outside_conditions(expression: sympy.Expr, rules: dict) -> sympy.Expr:
    """Apply ``rules`` to every node of ``expression`` that is differentiated.

    Parameters
    ----------
    expression : sympy.Expr
        A traced expression.
    rules : dict
        SymPy type -> ``rule(values, tests)``, called for each node of that type with its
        arguments twice: ``values``, already rewritten, and ``tests``, as traced, for the
        conditions it builds (a Piecewise inside a condition would turn it into an
        ``ITE``).  It returns the node's replacement, or ``None`` to keep the node.

    Returns
    -------
    sympy.Expr
        The rewritten expression; the conditions of its ``Piecewise`` are left as they
        are (they are never differentiated), and so is a node no rule changed.

    Examples
    --------
    >>> x = sympy.Symbol("x", real=True)
    >>> rewrite_outside_conditions(sympy.sin(x) + 1, {sympy.sin: lambda values, tests: sympy.cos(*values)})
    cos(x) + 1
    """
    # An iterative post-order walk (a deep expression would overflow a recursive one).
    # ``changed`` holds the rewrite of every visited node that has one; a subexpression
    # shared by several parents is visited once.
    changed: dict = {}
    visited: set = set()
    stack = [expression]
    while stack:
        node = stack[-1]
        if node in visited:
            stack.pop()
            continue
        pending = [a for a in _differentiated_args(node) if a not in visited]
        if pending:
            stack.extend(pending)
            continue
        stack.pop()
        visited.add(node)
        rule = rules.get(type(node))
        replacement = None if rule is None else rule(tuple(changed.get(a, a) for a in node.args), node.args)
        if replacement is not None:
            changed[node] = replacement
        elif any(a in changed for a in _differentiated_args(node)):
            changed[node] = _rebuilt(node, changed)
    return changed.get(expression, expression)


def _power_with_limits(values, tests):
    # SymPy differentiates b**e into b**e log(b) de + e b**e / b db: NaN at b = 0
    # (0 log 0, 0/0), where the derivatives have limits: d/de 0**e = 0, and
    # d/db = e 0**(e - 1), which is 0 for e > 1, 1 at e = 1, inf for 0 < e < 1, and 0 at
    # e = 0 (b**0 is the constant 1); the tape's values.  At b = 0 the power becomes
    # b * slope(e) + value(e), with pieces constant in e: the same value, those
    # derivatives.  A numeric exponent or a nonzero numeric base needs nothing.
    (base, exponent), (base_test, exponent_test) = values, tests
    # is_zero, not != 0: a Float zero (0.0 ** x) compares unequal to the Integer 0 in SymPy.
    if not exponent.free_symbols or (base.is_number and not base.is_zero):
        return None
    value = sympy.Piecewise(
        (0, stable_relation(sympy.Gt, exponent_test, 0)), (1, sympy.Eq(exponent_test, 0)), (sympy.oo, True)
    )
    slope = sympy.Piecewise(
        (0, stable_relation(sympy.Gt, exponent_test, 1)),
        (1, sympy.Eq(exponent_test, 1)),
        (sympy.oo, stable_relation(sympy.Gt, exponent_test, 0)),
        (0, sympy.Eq(exponent_test, 0)),
        (-sympy.oo, True),
    )
    return sympy.Piecewise((base**exponent, sympy.Ne(base_test, 0)), (base * slope + value, True))


#: The rewrite of :func:`powers_with_limits`, for :func:`rewrite_outside_conditions`.
POWER_REWRITES = {sympy.Pow: _power_with_limits}


def powers_with_limits(expression: sympy.Expr) -> sympy.Expr:
    """``expression`` with the derivatives of ``b**e`` (``e`` traced) at ``b = 0`` made their limits.

    Each such power outside a condition becomes ``Piecewise((b**e, Ne(b, 0)), (z, True))``
    where ``z`` has the value ``0**e`` and, as derivatives, the limits the tape uses:
    ``d/de 0**e = 0`` for ``e > 0`` and ``d/db = e 0**(e - 1)``.  The value is unchanged.

    Examples
    --------
    >>> x, y = sympy.symbols("x y", real=True)
    >>> sympy.diff(powers_with_limits(x**y), y)
    Piecewise((x**y*log(x), Ne(x, 0)), (0, True))
    """
    return rewrite_outside_conditions(expression, POWER_REWRITES)


def differentiate(f: Callable, dim: int):
    """Trace ``f`` and return ``(symbols, expression, gradient expressions)``.

    The gradient is that of :func:`powers_with_limits` of the traced expression.
    """
    symbols, expression = trace(f, dim)
    differentiated = powers_with_limits(expression)
    return symbols, expression, tuple(sympy.diff(differentiated, s) for s in symbols)


def _with_round_trip_floats(expressions):
    """Give every float constant 17 significant digits before printing.

    SymPy keeps a float64 constant exactly but prints it with 15 digits, so lambdify
    would silently compile 2*pi as 6.28318530717959 (off by 4e-16 relative); 17
    digits round-trip every double.
    """
    constants = set().union(*(e.atoms(sympy.Float) for e in expressions))
    exact = {c: sympy.Float(c, 17) for c in constants}
    return [e.xreplace(exact) for e in expressions]


def _operation_count(expressions) -> int:
    return int(sum(sympy.count_ops(e) for e in expressions))


@dataclass(frozen=True)
class SymbolicGradient:
    """The SymPy gradient of a traced function, compiled to numpy.

    Attributes
    ----------
    symbols, expression, gradient
        The symbols, the traced expression and one derivative expression per symbol.
    ops, cse_ops : int
        Operation counts of the gradient before and after CSE.
    source : str
        The generated numpy function (a readable list of CSE assignments).
    """

    symbols: tuple
    expression: sympy.Expr
    gradient: tuple
    ops: int
    cse_ops: int
    function: Callable = field(repr=False)
    source: str = field(repr=False)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(self.function(x), dtype=np.float64).reshape(len(self.symbols))


def _select(condlist, choicelist, default=0):
    # SymPy prints a piecewise result (the derivative of a nested Max) as select(...),
    # and numpy.select refuses conditions that are not boolean arrays: Python's True,
    # numpy booleans from scalar comparisons, and an inner select's 0.0/1.0 result
    # (its nan default makes it float) all are.  None of them is ever nan: every
    # select SymPy prints ends with the condition True.
    return np.select([np.asarray(c).astype(bool) for c in condlist], choicelist, default)


#: SymPy functions numpy lacks: an expression holding one is printed for scipy.special.
SCIPY_FUNCTIONS = (
    sympy.erf, sympy.erfc, sympy.loggamma, sympy.polygamma,
    # elementwise, second wave
    sympy.gamma, sympy.beta, sympy.erfinv, sympy.erfcinv, sympy.besselj, sympy.bessely,
    sympy.besseli, sympy.lowergamma, sympy.uppergamma,
)  # fmt: skip


class _SubtractionFirst:
    """A printer mixin: a sum that starts ``-a + b`` is printed ``b - a``.

    numpy evaluates ``-a + b`` as a negation and an addition, ``b - a`` as one
    subtraction with the same result bit for bit (floating-point addition commutes and
    negation is exact), one pass over the arrays fewer.
    """

    def _as_ordered_terms(self, expr, order=None):
        terms = super()._as_ordered_terms(expr, order=order)
        if len(terms) > 1 and terms[0].could_extract_minus_sign() and not terms[1].could_extract_minus_sign():
            terms = [terms[1], terms[0], *terms[2:]]
        return terms


class _NumPyPrinter(_SubtractionFirst, NumPyPrinter):
    pass


@functools.cache
def _scipy_printer() -> type:
    from sympy.printing.numpy import SciPyPrinter  # imported only for special functions

    return type("_SciPyPrinter", (_SubtractionFirst, SciPyPrinter), {})


def lambdify_numpy(arguments, expressions, cse: tuple):
    """``sympy.lambdify`` to numpy with the given CSE and a ``select`` that takes scalars.

    Names are printed unqualified (``sin``, not ``numpy.sin``) so that the namespace's
    ``select`` replaces numpy's; every other name is numpy's own, or scipy.special's for
    the special functions (:data:`SCIPY_FUNCTIONS`: scipy is imported only for them).
    """
    settings = {"fully_qualified_modules": False, "inline": True, "allow_unknown_functions": True}
    # A complex infinity SymPy folded into a branch (1/x in the piece where a Piecewise
    # argument is 0) has no numpy spelling: nan there, visibly not a number.
    if any(sympy.sympify(e).has(sympy.zoo) for e in expressions):
        expressions = [sympy.sympify(e).xreplace({sympy.zoo: sympy.nan}) for e in expressions]
        replacements, reduced = cse
        cse = (
            [
                (symbol, sympy.sympify(value).xreplace({sympy.zoo: sympy.nan}))
                for symbol, value in replacements
            ],
            [sympy.sympify(e).xreplace({sympy.zoo: sympy.nan}) for e in reduced],
        )
    special = any(sympy.sympify(e).has(*SCIPY_FUNCTIONS) for e in expressions)
    if special:
        printer, modules = _scipy_printer()(settings), [{"select": _select}, "numpy", "scipy"]
    else:
        printer, modules = _NumPyPrinter(settings), [{"select": _select}, "numpy"]
    return sympy.lambdify(arguments, expressions, modules=modules, printer=printer, cse=lambda _: cse)


def symbolic_gradient(f: Callable, dim: int) -> SymbolicGradient:
    """Differentiate ``f(x, xp)`` symbolically for vectors of length ``dim``.

    Parameters
    ----------
    f : callable
        ``f(x, xp)`` returning a scalar.
    dim : int
        Length of ``x``.

    Returns
    -------
    SymbolicGradient
        Callable on a float64 vector; carries the expressions and their sizes.

    Examples
    --------
    >>> import numpy as np
    >>> g = symbolic_gradient(lambda x, xp: xp.sum(x ** 3), 2)
    >>> g.gradient
    (3*x0**2, 3*x1**2)
    >>> g(np.array([1.0, 2.0]))
    array([ 3., 12.])
    """
    symbols, expression, gradient = differentiate(f, dim)
    replacements, reduced = sympy.cse(_with_round_trip_floats(gradient))
    cse_ops = _operation_count(r for _, r in replacements) + _operation_count(reduced)
    function = lambdify_numpy([symbols], list(gradient), (replacements, reduced))
    return SymbolicGradient(
        symbols=symbols,
        expression=expression,
        gradient=gradient,
        ops=_operation_count(gradient),
        cse_ops=cse_ops,
        function=function,
        source=inspect.getsource(function),
    )
