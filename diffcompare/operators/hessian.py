"""``diffcompare.hessian``: the (n, n) Hessian of a scalar ``f(x, xp)`` by six methods.

``"forward"`` and ``"tape"`` take the complex step of their own gradient: column k is
``Im grad f(x + i h e_k) / h`` with ``h = 1e-100``, the dual numbers (or the tape)
evaluated on complex values.  Taylor along the imaginary axis gives
``grad f(x + i h e_k) = grad f(x) + i h H e_k + O(h^2)``, and reading the imaginary part
subtracts nothing, so each column is exact up to rounding for ``f`` analytic near ``x``
(the limits are those of :mod:`diffcompare.methods.complex_step.step`: no ``abs`` at 0,
no ``maximum`` at a tie, nothing within ``h`` of a singularity), and so are its checks:
one more gradient at about ``x + i sqrt(h) d`` must give the same ``H d``, so a branch
point within the step raises ``ValueError`` rather than returning a wrong Hessian, and a
gradient component that stays real while its value changes (a rule that dropped the
imaginary part) is refused.  Neither nesting of
the engines themselves is possible: the tape's rules and the dual numbers' tangents are
plain numpy arrays, so a dual number cannot ride through a tape rule, nor a tape node
through a dual one.

``"symbolic"`` compiles SymPy's second derivatives, ``"autograd"`` is
``autograd.jacobian`` of ``autograd.grad`` (``autograd.hessian``'s reverse-over-reverse).
``"central_gradient"`` takes central differences of the exact tape gradient and
``"central"`` second differences of ``f`` itself.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..methods.central.difference import central_namespace
from ..methods.forward.method import forward_gradient
from ..methods.tape.engine import Node, backward
from ..methods.tape.namespace import tape_namespace
from ..validation import as_point, check_callable, check_finite_value
from .jacobian import autograd_function, central_columns, complex_push
from .registry import PerDimension, choose

__all__ = ["HESSIAN_METHODS", "hessian"]

_EPS = np.finfo(np.float64).eps


def tape_gradient_at(f: Callable, z: np.ndarray) -> np.ndarray:
    """The tape's gradient of ``f`` at a real or complex point ``z`` (dtype of ``z``)."""
    leaf = Node(z)
    out = f(leaf, tape_namespace)
    grad = backward(out).get(leaf) if isinstance(out, Node) else None
    return np.zeros_like(z) if grad is None else np.asarray(grad, dtype=z.dtype)


def complex_gradient(gradient_at: Callable, f: Callable, name: str) -> Callable[[np.ndarray], np.ndarray]:
    """``z -> gradient_at(f, z)`` at a complex point, casts to real refused.

    The point is real-ordered (:func:`~diffcompare.methods.complex_step.namespace.real_ordered`):
    comparisons see the real parts, as in float64, and numpy's ``abs``, ``maximum`` and
    ``minimum`` are their analytic continuations, in ``f`` and in the derivative rules alike.
    """
    from ..methods.complex_step.step import complex_values

    return lambda z: complex_values(lambda point: gradient_at(f, point), z, name)


def _complex_step_columns(gradient_at: Callable, engine: str) -> Callable:
    # H = the complex step of the gradient, column by column, with the gradient as the
    # vector function of complex_push: its probe and its check of real components too
    def prepare(f: Callable, n: int) -> Callable:
        name = f"the {engine} gradient of f"
        gradient = complex_gradient(gradient_at, f, name)
        return lambda x: complex_push(gradient, x, name=name)

    return prepare


def _autograd(f: Callable, n: int) -> Callable:
    import autograd  # imported when first used

    hess = autograd.hessian(autograd_function(f))
    return lambda x: np.asarray(hess(x), dtype=np.float64).reshape(n, n)


def _symbolic(f: Callable, n: int) -> Callable:
    from ..methods.symbolic.operators import compile_matrix, hessian_expressions

    return compile_matrix(*hessian_expressions(f, n), n)


def _central_gradient(f: Callable, n: int) -> Callable:
    # Central differences of the exact gradient, column k with the step cbrt(eps) max(1, |x_k|)
    # (the gradient's truncation h^2 against rounding eps / h), then symmetrised: the
    # truncation errors of H[j, k] and H[k, j] differ, and their mean is as accurate.
    def differences(x: np.ndarray) -> np.ndarray:
        columns = central_columns(lambda z, xp: tape_gradient_at(f, z), x)
        return (columns + columns.T) / 2

    return differences


def second_differences(f: Callable, x: np.ndarray, xp=central_namespace) -> np.ndarray:
    """The Hessian of ``f`` by second differences of ``f``: ``2 n^2`` evaluations at most.

    Taylor: ``(f(x + h) - 2 f(x) + f(x - h)) / h^2 = f'' + h^2 f'''' / 12 + O(h^4)``, while
    rounding ``f`` to relative precision eps adds about ``4 eps |f| / h^2``.  The sum is
    smallest near ``h = eps^(1/4)`` (with ``f`` and ``f''''`` of comparable size), giving an
    error near ``sqrt(eps)`` (1.5e-8) relative to ``|f|``; the mixed partials use the
    four corners ``f(x +- h_j e_j +- h_k e_k) / (4 h_j h_k)``, with the same orders.  The
    step is scaled by ``max(1, |x_k|)`` and made exactly representable as a difference.
    """

    def value(z: np.ndarray) -> float:
        return float(np.asarray(f(z, xp), dtype=np.float64))

    steps = np.sqrt(np.sqrt(_EPS)) * np.maximum(1.0, np.abs(x))
    steps = (x + steps) - x  # the distance actually travelled after rounding
    n = x.size
    hess = np.empty((n, n))
    centre = value(x)
    basis = np.eye(n) * steps  # row k: h_k e_k
    for k in range(n):
        hess[k, k] = (value(x + basis[k]) - 2 * centre + value(x - basis[k])) / steps[k] ** 2
        for j in range(k):
            corners = (
                value(x + basis[j] + basis[k])
                - value(x + basis[j] - basis[k])
                - value(x - basis[j] + basis[k])
                + value(x - basis[j] - basis[k])
            )
            hess[j, k] = hess[k, j] = corners / (4 * steps[j] * steps[k])
    return hess


#: Method name -> ``prepare(f, n)`` returning ``x -> H``; the setup runs once per ``n``.
HESSIAN_METHODS: dict[str, Callable] = {
    "tape": _complex_step_columns(tape_gradient_at, "tape"),
    "forward": _complex_step_columns(forward_gradient, "forward"),
    "symbolic": _symbolic,
    "autograd": _autograd,
    "central_gradient": _central_gradient,
    "central": lambda f, n: lambda x: second_differences(f, x),
}


def hessian(f: Callable, method: str = "symbolic") -> Callable[[np.ndarray], np.ndarray]:
    """Return a function that computes the Hessian of a scalar ``f(x, xp)``.

    Parameters
    ----------
    f : callable
        ``f(x, xp)``: a scalar function of a float64 vector ``x``.
    method : str
        A name in :data:`HESSIAN_METHODS`: ``"tape"`` and ``"forward"`` (the complex
        step of the tape's or the dual numbers' gradient, n gradients at complex points and one probe),
        ``"symbolic"`` (SymPy's second derivatives, compiled once per n),
        ``"autograd"`` (reverse over reverse), ``"central_gradient"`` (central
        differences of the tape gradient, symmetrised) or ``"central"`` (second
        differences of ``f``).

    Returns
    -------
    callable
        ``hessian(x) -> numpy.ndarray`` of shape ``(n, n)``, float64.

    Raises
    ------
    TypeError
        If ``f`` is not callable or ``method`` is not a string, or (on call) ``x`` is
        not a float array.
    ValueError
        If ``method`` is unknown, or (on call) ``x`` is not a finite 1-d vector or
        ``f(x)`` is not a finite scalar (checked before the method runs); for ``"tape"``
        and ``"forward"``, if the gradient at complex points drops the imaginary part or
        a singularity or branch point lies within the step.

    Examples
    --------
    >>> import diffcompare
    >>> rosenbrock = lambda x, xp: 100 * (x[1] - x[0] ** 2) ** 2 + (1 - x[0]) ** 2
    >>> diffcompare.hessian(rosenbrock, method="tape")([1.0, 1.0])
    array([[ 802., -400.],
           [-400.,  200.]])
    """
    check_callable(f)
    prepared = PerDimension(choose(HESSIAN_METHODS, method, "hessian"), f)

    def hessian_of_f(x) -> np.ndarray:
        x = as_point(x)
        check_finite_value(f, x)
        return prepared(x.size)(x)

    hessian_of_f.__name__ = f"hessian_{method}_{getattr(f, '__name__', 'f')}"
    return hessian_of_f
