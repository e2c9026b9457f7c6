"""SymPy Jacobians and Hessians of traced functions, and their compiled numpy form.

The expressions are shared by the ``"symbolic"`` operators and the 50-digit truth for
Jacobians and Hessians, so both differentiate the same traced expression the same way
(with the power limits of :func:`~.gradient.powers_with_limits`).

A kink's second derivative follows the tape's convention.  ``Abs`` differentiates to
``sign``, 0 at 0 as the tape's subgradient is; SymPy differentiates ``sign`` again to
``2 DiracDelta``, which has no value on the kink, while the tape's ``sign`` row has no
derivative at all (the partial is 0 everywhere, the kink included), so the derivative
of its subgradient is 0 there.  :func:`without_dirac_deltas` writes that 0 into the
expressions: the compiled Hessian and the truth are then 0 on the kink, as the tape,
the dual numbers and autograd are, instead of NaN (compiled) and no value (truth).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import sympy

from .gradient import differentiate, lambdify_numpy, powers_with_limits, trace_vector

__all__ = ["compile_matrix", "hessian_expressions", "jacobian_expressions", "without_dirac_deltas"]


def without_dirac_deltas(expression: sympy.Expr) -> sympy.Expr:
    """``expression`` with every ``DiracDelta`` (the derivative of ``sign`` or a step) set to 0.

    Examples
    --------
    >>> x = sympy.Symbol("x", real=True)
    >>> without_dirac_deltas(sympy.diff(x * sympy.Abs(x), x, 2))
    2*sign(x)
    """
    if not expression.has(sympy.DiracDelta):
        return expression
    return expression.replace(sympy.DiracDelta, lambda *args: sympy.S.Zero)


def jacobian_expressions(g: Callable, dim: int) -> tuple[tuple, tuple]:
    """``(symbols, J)`` for a vector-valued ``g(x, xp)``: ``J`` row by row, flattened (m * dim)."""
    symbols, outputs = trace_vector(g, dim)
    rows = [powers_with_limits(e) for e in outputs]
    return symbols, tuple(without_dirac_deltas(sympy.diff(row, s)) for row in rows for s in symbols)


def hessian_expressions(f: Callable, dim: int) -> tuple[tuple, tuple]:
    """``(symbols, H)`` for a scalar ``f(x, xp)``: the derivatives of the gradient, flattened.

    Only the upper triangle is differentiated; the lower one repeats it, so that the
    compiled Hessian is symmetric exactly, not merely to rounding.
    """
    symbols, _, gradient = differentiate(f, dim)
    upper = {}
    for i, component in enumerate(gradient):
        component = powers_with_limits(component)
        for j in range(i, dim):
            upper[i, j] = without_dirac_deltas(sympy.diff(component, symbols[j]))
    return symbols, tuple(upper[min(i, j), max(i, j)] for i in range(dim) for j in range(dim))


def compile_matrix(symbols: tuple, expressions: tuple, rows: int) -> Callable[[np.ndarray], np.ndarray]:
    """Compile flattened matrix ``expressions`` to ``x -> (rows, len(expressions) // rows)`` float64."""
    from .gradient import _with_round_trip_floats

    exact = [sympy.sympify(e) for e in _with_round_trip_floats(expressions)]
    function = lambdify_numpy([symbols], exact, sympy.cse(exact))
    shape = (rows, len(expressions) // rows)

    def matrix(x: np.ndarray) -> np.ndarray:
        values = [np.broadcast_to(np.asarray(v, dtype=np.float64), ()) for v in function(x)]
        return np.array(values, dtype=np.float64).reshape(shape)

    return matrix
