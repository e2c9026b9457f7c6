"""``diffcompare.hvp``: Hessian-vector products ``H v`` without forming ``H``.

``"tape"`` and ``"forward"`` evaluate their gradient once at the complex point
``x + i h v`` and read ``H v`` off its imaginary part (see
:mod:`diffcompare.operators.hessian`), then once more at about ``x + i sqrt(h) v`` to check
that the step resolves the gradient: two tape gradients, or twice ceil(n / 64) dual-number
evaluations.  ``"autograd"`` is ``autograd.hessian_tensor_product`` (reverse over
reverse, a few gradient costs), ``"central_gradient"`` the central difference of the
tape gradient along ``v``, and ``"symbolic"`` the compiled Hessian times ``v``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..methods.forward.method import forward_gradient
from ..validation import as_point, check_callable, check_finite_value
from .hessian import HESSIAN_METHODS, complex_gradient, tape_gradient_at
from .jacobian import autograd_function, complex_push
from .jvp import central_along
from .registry import PerDimension, choose

__all__ = ["HVP_METHODS", "hvp"]


def _complex_step_along(gradient_at: Callable, engine: str) -> Callable:
    # H v = the complex step of the gradient along v, probed along v (see complex_push)
    def prepare(f: Callable, n: int) -> Callable:
        name = f"the {engine} gradient of f"
        gradient = complex_gradient(gradient_at, f, name)
        return lambda x, v: complex_push(gradient, x, v, name)

    return prepare


def _autograd(f: Callable, n: int) -> Callable:
    from autograd import hessian_tensor_product  # imported when first used

    product = hessian_tensor_product(autograd_function(f))
    return lambda x, v: np.asarray(product(x, v), dtype=np.float64)


def _central_gradient(f: Callable, n: int) -> Callable:
    # (grad(x + h v) - grad(x - h v)) / 2h with the exact tape gradient
    return lambda x, v: central_along(lambda z, xp: tape_gradient_at(f, z), x, v)


def _symbolic(f: Callable, n: int) -> Callable:
    hess = HESSIAN_METHODS["symbolic"](f, n)
    return lambda x, v: hess(x) @ v


#: Method name -> ``prepare(f, n)`` returning ``(x, v) -> H v``.
HVP_METHODS: dict[str, Callable] = {
    "tape": _complex_step_along(tape_gradient_at, "tape"),
    "forward": _complex_step_along(forward_gradient, "forward"),
    "autograd": _autograd,
    "symbolic": _symbolic,
    "central_gradient": _central_gradient,
}


def hvp(f: Callable, method: str = "tape") -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """Return a function that computes the Hessian-vector product ``H(x) v`` of ``f(x, xp)``.

    Parameters
    ----------
    f : callable
        ``f(x, xp)``: a scalar function of a float64 vector ``x``.
    method : str
        A name in :data:`HVP_METHODS`: ``"tape"`` (one tape gradient at ``x + i h v``, and one probe),
        ``"forward"`` (the dual numbers' gradient there), ``"autograd"`` (reverse over
        reverse), ``"symbolic"`` (the compiled Hessian times ``v``) or
        ``"central_gradient"`` (two tape gradients, ``x +- h v``).

    Returns
    -------
    callable
        ``hvp(x, v) -> numpy.ndarray`` of the shape of ``x``.

    Raises
    ------
    TypeError
        If ``f`` is not callable or ``method`` is not a string, or (on call) ``x`` or
        ``v`` is not a float array.
    ValueError
        If ``method`` is unknown, or (on call) ``x`` or ``v`` is not a finite vector,
        ``v`` does not have the length of ``x``, or ``f(x)`` is not a finite scalar; for
        ``"tape"`` and ``"forward"``, if the gradient at complex points drops the
        imaginary part or a singularity or branch point lies within the step along ``v``.

    Examples
    --------
    >>> import diffcompare
    >>> rosenbrock = lambda x, xp: 100 * (x[1] - x[0] ** 2) ** 2 + (1 - x[0]) ** 2
    >>> diffcompare.hvp(rosenbrock)([1.0, 1.0], [1.0, 0.0])
    array([ 802., -400.])
    """
    check_callable(f)
    prepared = PerDimension(choose(HVP_METHODS, method, "hvp"), f)

    def hvp_of_f(x, v) -> np.ndarray:
        x = as_point(x)
        v = as_point(v, "v", dim=x.size)
        check_finite_value(f, x)
        return np.asarray(prepared(x.size)(x, v), dtype=np.float64)

    hvp_of_f.__name__ = f"hvp_{method}_{getattr(f, '__name__', 'f')}"
    return hvp_of_f
