"""The 50-digit truth for Jacobians and Hessians.

SymPy's Jacobian of a traced vector function, or Hessian of a traced scalar one, is
evaluated by the gradient's certified machinery (:class:`~.reference.PreparedReference`:
accuracy-tracked ``evalf``, the exact rational pass, the check at twice the digits),
entry by entry; only the expressions differ.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from ..methods.symbolic.operators import hessian_expressions, jacobian_expressions
from ..validation import as_point, check_callable, check_finite_vector
from .reference import PreparedReference, ReferenceGradient

__all__ = ["reference_hessian", "reference_jacobian"]


def _reshaped(result: ReferenceGradient, shape: tuple[int, int]) -> ReferenceGradient:
    if result.value is None:
        return result
    return dataclasses.replace(result, value=result.value.reshape(shape))


def reference_jacobian(g: Callable, x, digits: int = 50) -> ReferenceGradient:
    """The high-precision Jacobian of a vector-valued ``g(x, xp)`` at ``x``.

    Parameters
    ----------
    g : callable
        ``g(x, xp)`` returning a 1-d array of length ``m``.
    x : array_like of float, shape (n,)
        The point; each float64 coordinate is taken exactly.
    digits : int, optional
        Significant digits (>= 50); a second evaluation at twice that checks the rounding.

    Returns
    -------
    ReferenceGradient
        ``value`` of shape ``(m, n)`` when the status is ``"ok"``.

    Raises
    ------
    TypeError
        If ``g`` is not callable or ``x`` is not a float array.
    ValueError
        If ``x`` is not a finite vector, ``g(x)`` is not a finite 1-d array, or
        ``digits`` is not an integer >= 50.

    Examples
    --------
    >>> reference_jacobian(lambda x, xp: xp.stack([x[0] * x[1], x[1]]), [2.0, 3.0]).value
    array([[3., 2.],
           [0., 1.]])
    """
    check_callable(g, "g")
    x = as_point(x)
    m = check_finite_vector(g, x)
    return _reshaped(PreparedReference(g, x.size, digits, jacobian_expressions)(x), (m, x.size))


def reference_hessian(f: Callable, x, digits: int = 50) -> ReferenceGradient:
    """The high-precision Hessian of a scalar ``f(x, xp)`` at ``x``.

    Parameters
    ----------
    f : callable
        ``f(x, xp)`` returning a scalar.
    x : array_like of float, shape (n,)
        The point; each float64 coordinate is taken exactly.
    digits : int, optional
        Significant digits (>= 50); a second evaluation at twice that checks the rounding.

    Returns
    -------
    ReferenceGradient
        ``value`` of shape ``(n, n)`` when the status is ``"ok"``.

    Raises
    ------
    TypeError
        If ``f`` is not callable or ``x`` is not a float array.
    ValueError
        If ``x`` is not a finite vector or ``digits`` is not an integer >= 50.

    Examples
    --------
    >>> reference_hessian(lambda x, xp: x[0] ** 2 * x[1], [1.0, 2.0]).value
    array([[4., 2.],
           [2., 0.]])
    """
    check_callable(f)
    x = as_point(x)
    return _reshaped(PreparedReference(f, x.size, digits, hessian_expressions)(x), (x.size, x.size))
