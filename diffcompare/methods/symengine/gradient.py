"""Symbolic differentiation with SymEngine: SymPy trace, SymEngine derivative, compiled code.

``f(x, xp)`` is traced exactly as for method ``"symbolic"``
(:func:`diffcompare.methods.symbolic.gradient.trace`, one real SymPy symbol per
coordinate), then the expression is handed to SymEngine, a C++ library, which
differentiates it and compiles the gradient with ``symengine.Lambdify`` (common
subexpressions eliminated; LLVM machine code when SymEngine was built with LLVM, a tree
of C++ closures otherwise).  SymPy does only the tracing.

What makes the result trustworthy:

- SymEngine leaves ``abs``, ``sign``, ``Max`` and ``Min`` undifferentiated and turns a
  SymPy function it does not know into an opaque object whose derivative comes out as 0.
  Kinks are therefore rewritten into ``Piecewise`` first (:func:`kinks_as_piecewise`;
  SymEngine differentiates a ``Piecewise`` branch by branch), a function SymEngine does
  not know is refused, and a derivative that still holds an unevaluated ``Derivative``
  is refused: ``NotImplementedError``, never a wrong number.
- The tracer gives float64 constants 100 digits
  (:data:`~diffcompare.methods.symbolic.namespace.CONSTANT_DIGITS`) so that
  ``sympy.diff`` folds products of constants without rounding.  SymEngine keeps them as
  100-digit MPFR numbers through its derivative too; ``Lambdify`` rounds each constant
  of the finished gradient to the nearest float64 when it compiles (rounding them
  beforehand with ``xreplace`` took 49 s on the 340-parameter MLP).  The program's own
  constants are doubles, so they reach the compiled code bit for bit, as they do in the
  symbolic method (which prints them with 17 digits).
- SymEngine's inputs are named ``x[0] ... x[n-1]``: ``Lambdify``'s common-subexpression
  temporaries are named ``x0, x1, ...`` and would otherwise be confused with an input
  that the gradient does not use (found by the differential fuzzer).
- The compiled function's output is returned as a float64 vector of the input's length.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import sympy

from ...ops.namespace import UnsupportedOperationError, unsupported
from ..symbolic.gradient import POWER_REWRITES, rewrite_outside_conditions, trace
from ..symbolic.namespace import extremum

__all__ = [
    "BACKENDS",
    "LLVM_MAX_OPS",
    "MAX_DIM",
    "SYMENGINE_MISSING",
    "SymEngineGradient",
    "kinks_as_piecewise",
    "symengine_gradient",
]

#: The error when the optional dependency is not installed.
SYMENGINE_MISSING = "method 'symengine' needs the symengine package: pip install diffcompare[symengine]"

#: ``symengine.Lambdify`` backends: LLVM machine code, or a tree of C++ closures.
BACKENDS = ("llvm", "lambda")


# Each rule gets the arguments twice: ``values``, already rewritten, for the pieces that
# are differentiated, and ``tests``, as traced, for the conditions, which never are.
# (A Piecewise inside a condition would turn it into an ITE, which SymEngine cannot
# convert; abs, max, min and sign in a condition compile as they are.)


def _abs_piecewise(values, tests):
    # Three pieces, not two: the middle one makes the derivative at u = 0 equal to
    # sign(0) = 0, what sympy.diff of Abs gives in the symbolic method and the reference.
    (u,), (test,) = values, tests
    return sympy.Piecewise((u, sympy.Gt(test, 0)), (-u, sympy.Lt(test, 0)), (0, True))


def _sign_piecewise(values, tests):
    (test,) = tests
    return sympy.Piecewise((1, sympy.Gt(test, 0)), (-1, sympy.Lt(test, 0)), (0, True))


def _heaviside_piecewise(values, tests):
    test, at_zero = (*tests, sympy.S.Half)[:2]  # SymPy's value at 0, 1/2 unless given
    return sympy.Piecewise((1, sympy.Gt(test, 0)), (0, sympy.Lt(test, 0)), (at_zero, True))


def _max_piecewise(values, tests):
    # Ties share the derivative equally, as xp.maximum and xp.max do (the same builder).
    return extremum(values, larger=True, tests=tests)


def _min_piecewise(values, tests):
    return extremum(values, larger=False, tests=tests)


# fmt: off
#: SymPy functions whose SymEngine derivative is missing or wrong, each with the rule
#: ``rule(values, tests)`` that builds the ``Piecewise`` of smooth pieces replacing it.
KINK_REWRITES: dict[type, Callable[[tuple, tuple], sympy.Expr]] = {
    sympy.Abs:       _abs_piecewise,
    sympy.sign:      _sign_piecewise,
    sympy.Heaviside: _heaviside_piecewise,
    sympy.Max:       _max_piecewise,
    sympy.Min:       _min_piecewise,
}
# fmt: on


def kinks_as_piecewise(expression: sympy.Expr) -> sympy.Expr:
    """Rewrite ``Abs``, ``sign``, ``Heaviside``, ``Max`` and ``Min`` as ``Piecewise``.

    The value is unchanged everywhere.  The derivative is the one SymPy's own rules give
    (``d|u|/du = sign(u)``, 0 at ``u = 0``), and at a tie of ``Max``/``Min`` the tied
    arguments share the derivative equally, as they do for ``xp.maximum`` and ``xp.max``
    (:func:`~diffcompare.methods.symbolic.namespace.extremum`; for two arguments that is
    SymPy's own ``Heaviside(0) = 1/2``).  Conditions of a ``Piecewise`` are left as they
    are: they are never differentiated.

    Parameters
    ----------
    expression : sympy.Expr
        A traced expression.

    Returns
    -------
    sympy.Expr
        The same function, differentiable by SymEngine.

    Examples
    --------
    >>> x = sympy.Symbol("x", real=True)
    >>> kinks_as_piecewise(sympy.Abs(x) + 1)
    Piecewise((x, x > 0), (-x, x < 0), (0, True)) + 1
    """
    if not expression.has(*KINK_REWRITES):
        return expression
    return rewrite_outside_conditions(expression, KINK_REWRITES)


def _import_symengine():
    try:
        return importlib.import_module("symengine")
    except ImportError as error:
        raise NotImplementedError(SYMENGINE_MISSING) from error


def _if_then_else(test, then, otherwise):
    # SymPy writes a Piecewise inside a condition as ITE (if-then-else of conditions, as
    # from a traced maximum inside a where), which SymEngine lacks; And, Or, Not say the same.
    return sympy.Or(sympy.And(test, then), sympy.And(~test, otherwise))


def _to_symengine(expression: sympy.Expr, symbols: tuple, name: str):
    """``(symengine expression, symengine symbols)``; refuses functions SymEngine does not know."""
    symengine = _import_symengine()
    from symengine.lib.symengine_wrapper import PyFunction

    if expression.has(sympy.ITE):
        expression = expression.replace(sympy.ITE, _if_then_else)
    try:
        converted = symengine.sympify(expression)
    except symengine.SympifyError as error:
        raise NotImplementedError(f"symengine cannot represent {name}: {error}") from error
    # An unknown SymPy function becomes a PyFunction, which symengine.diff treats as a
    # constant (the derivative of Ei(x) comes out as 0).
    foreign = converted.atoms(PyFunction)
    if foreign:
        example = min(map(str, foreign))
        raise NotImplementedError(
            f"symengine cannot differentiate {_head(example)} in {name}: {example} is a SymPy function "
            "that symengine does not know"
        )
    # Lambdify's CSE names its temporaries x0, x1, ..., avoiding only the symbols that
    # occur in the gradient: with inputs named x0 ... as well, an input absent from the
    # gradient (x0 in the gradient of sigmoid(x2)) would be read where the temporary x0
    # is meant, and the result would be wrong.  The inputs are renamed x[0], x[1], ...
    coordinates = [symengine.Symbol(f"x[{i}]") for i in range(len(symbols))]
    renamed = converted.xreplace({symengine.sympify(s): c for s, c in zip(symbols, coordinates, strict=True)})
    return renamed, coordinates


def _head(text: str) -> str:
    return text.split("(", 1)[0]


def _term_by_term(expression, symbols) -> tuple[list, int]:
    """The gradient of ``expression`` and how many top-level terms it was split into.

    ``symengine.diff`` of a sum visits every term for every symbol, so the gradient of
    a sum of n terms costs O(n^2) visits even when each term holds two coordinates
    (Rosenbrock at n = 1000: 8.9 s).  Each term differentiated only by the symbols it
    contains costs the size of the expression (0.08 s).
    """
    import symengine

    position = {s: i for i, s in enumerate(symbols)}
    parts: list[list] = [[] for _ in symbols]
    terms = expression.args if isinstance(expression, symengine.Add) else (expression,)
    for term in terms:
        for s in term.free_symbols:
            parts[position[s]].append(symengine.diff(term, s))
    return [symengine.add(*p) if p else symengine.Integer(0) for p in parts], len(terms)


def _check_complete(gradient, symbols, name: str) -> None:
    """Refuse a gradient that still holds an unevaluated ``Derivative`` (or a ``Subs`` of one)."""
    import symengine

    for s, component in zip(symbols, gradient, strict=True):
        leftover = component.atoms(symengine.Derivative, symengine.Subs)
        if leftover:
            example = min(leftover, key=str)
            function = example
            while isinstance(function, (symengine.Derivative, symengine.Subs)):
                function = function.args[0]
            raise NotImplementedError(
                f"symengine cannot differentiate {_head(str(function))} in {name}: "
                f"the derivative by {s} keeps {example}"
            )


#: Most coordinates compiled: ``Lambdify``'s CSE over one output per coordinate took 0.6 s
#: at Rosenbrock n = 1,000 and 85 s at n = 10,000, in C++ that a time budget cannot stop.
MAX_DIM = 2_000

#: Largest gradient (SymEngine's count_ops, a tree count) that LLVM compiles: its compile
#: time grows faster than the lambda backend's (Rosenbrock n = 1,000, 14,000 ops: 2.9 s
#: against 0.6 s; the MLP 16-16-4, 11 million ops: 23 s against 7.5 s), and a compile
#: cannot be interrupted by a time budget.
LLVM_MAX_OPS = 1_000_000


def _choose_backend(backend: str | None, ops: int = 0) -> str:
    import symengine

    if backend is None:
        return "llvm" if symengine.have_llvm and ops <= LLVM_MAX_OPS else "lambda"
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(map(repr, BACKENDS))} or None; got {backend!r}")
    if backend == "llvm" and not symengine.have_llvm:
        raise ValueError("backend 'llvm' is not available: this symengine was built without LLVM")
    return backend


@dataclass(frozen=True)
class SymEngineGradient:
    """The SymEngine gradient of a traced function, compiled by ``symengine.Lambdify``.

    Attributes
    ----------
    symbols : tuple of sympy.Symbol
        The trace's symbols ``x0 ... x{n-1}``.
    expression : sympy.Expr
        The traced expression, kinks rewritten (:func:`kinks_as_piecewise`) and powers
        given their limits at base 0 (:func:`~diffcompare.methods.symbolic.gradient.powers_with_limits`):
        what was differentiated.
    gradient : tuple
        One SymEngine expression per coordinate, in the symbols ``x[0] ... x[n-1]``,
        constants rounded to float64.
    ops : int
        ``symengine.count_ops`` of the gradient (SymEngine counts ``a - b`` as two
        operations and ``sqrt(a)`` as one, so this is not comparable with SymPy's count).
    terms : int
        Top-level terms of the expression, each differentiated on its own.
    backend : str
        ``"llvm"`` or ``"lambda"``: how ``Lambdify`` compiled the gradient.
    function : callable
        The compiled ``Lambdify`` object.
    """

    symbols: tuple
    expression: sympy.Expr
    gradient: tuple
    ops: int
    terms: int
    backend: str
    function: Callable = field(repr=False)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(self.function(x), dtype=np.float64).reshape(len(self.symbols))


def symengine_gradient(f: Callable, dim: int, backend: str | None = None) -> SymEngineGradient:
    """Differentiate ``f(x, xp)`` with SymEngine for vectors of length ``dim``.

    Parameters
    ----------
    f : callable
        ``f(x, xp)`` returning a scalar.
    dim : int
        Length of ``x``.
    backend : {None, "llvm", "lambda"}
        How ``symengine.Lambdify`` compiles: ``None`` takes LLVM when available and the
        gradient has at most :data:`LLVM_MAX_OPS` operations, the lambda backend otherwise.

    Returns
    -------
    SymEngineGradient
        Callable on a float64 vector; carries the expressions, their size and the backend.

    Raises
    ------
    NotImplementedError
        If symengine is not installed, ``dim`` exceeds :data:`MAX_DIM`, ``f`` cannot be traced (see
        :func:`diffcompare.methods.symbolic.gradient.trace`), or SymEngine cannot differentiate a function
        in it or compile the derivative.
    ValueError
        If ``backend`` is unknown or not available.

    Examples
    --------
    >>> import numpy as np
    >>> g = symengine_gradient(lambda x, xp: xp.sum(x ** 3) + xp.abs(x[0]), 2)
    >>> g(np.array([-1.0, 2.0]))
    array([ 2., 12.])
    """
    symengine = _import_symengine()
    _choose_backend(backend)  # refuse a bad or missing backend before the work
    if dim > MAX_DIM:
        raise NotImplementedError(
            f"method 'symengine' compiles at most {MAX_DIM:,} coordinates; got {dim:,} (Lambdify's "
            "common-subexpression pass grows about quadratically with the number of outputs and "
            "cannot be interrupted); use 'symbolic_vector' or 'tape'"
        )
    name = getattr(f, "__name__", "f")
    try:
        symbols, expression = trace(f, dim)
    except UnsupportedOperationError as error:
        if error.op is None:
            raise
        # SymPy's trace is method "symbolic"'s: the refusal is this method's as well.
        raise unsupported("symengine", error.op, error.reason) from None
    # kinks as Piecewise (kinks_as_piecewise) and powers with their limits at base 0
    # (diffcompare.methods.symbolic.gradient.powers_with_limits), in one walk
    expression = rewrite_outside_conditions(expression, {**KINK_REWRITES, **POWER_REWRITES})
    converted, engine_symbols = _to_symengine(expression, symbols, name)
    gradient, terms = _term_by_term(converted, engine_symbols)
    _check_complete(gradient, engine_symbols, name)
    ops = int(sum(symengine.count_ops(g) for g in gradient))
    backend = _choose_backend(backend, ops)
    # Lambdify rounds each multi-precision constant to the nearest double when it compiles,
    # once, after the derivative has folded them at full precision.
    try:
        function = symengine.Lambdify(engine_symbols, gradient, cse=True, backend=backend, real=True)
    except RuntimeError as error:
        # e.g. a complex infinity in a branch SymEngine keeps although it is never taken
        # (|u|**p rewritten as a Piecewise holds (-u)**p); found by the fuzzer, seed 6982
        raise NotImplementedError(f"SymEngine cannot compile the derivative of {name}: {error}") from error
    return SymEngineGradient(
        symbols=symbols,
        expression=expression,
        gradient=tuple(gradient),
        ops=ops,
        terms=terms,
        backend=backend,
        function=function,
    )
