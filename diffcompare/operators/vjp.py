"""``diffcompare.vjp``: vector-Jacobian products ``J^T u`` without forming ``J``.

Reverse methods pull the one cotangent ``u`` back through ``g``: a single backward walk
of the tape seeded with ``u`` (``"tape"``), or autograd's ``make_vjp``
(``"autograd"``).  ``"symbolic"`` multiplies its compiled Jacobian by ``u``, and
``"forward"`` builds the Jacobian with ceil(n / 64) dual-number evaluations and
multiplies.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..validation import as_point, check_callable, check_finite_vector
from .jacobian import JACOBIAN_METHODS, autograd_function, tape_pullback, tape_record
from .registry import PerDimension, choose

__all__ = ["VJP_METHODS", "vjp"]


def _tape(g: Callable, n: int) -> Callable:
    return lambda x, u: tape_pullback(*tape_record(g, x), u)


def _autograd(g: Callable, n: int) -> Callable:
    from autograd import make_vjp  # imported when first used

    pullback = make_vjp(autograd_function(g))

    def vjp_autograd(x: np.ndarray, u: np.ndarray) -> np.ndarray:
        back, _ = pullback(x)
        return np.asarray(back(u), dtype=np.float64)

    return vjp_autograd


def _from_jacobian(method: str) -> Callable:
    def prepare(g: Callable, n: int) -> Callable:
        jac = JACOBIAN_METHODS[method](g, n)
        return lambda x, u: u @ jac(x)

    return prepare


#: Method name -> ``prepare(g, n)`` returning ``(x, u) -> J^T u``.
VJP_METHODS: dict[str, Callable] = {
    "tape": _tape,
    "autograd": _autograd,
    "symbolic": _from_jacobian("symbolic"),
    "forward": _from_jacobian("forward"),
}


def vjp(g: Callable, method: str = "tape") -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """Return a function that computes the vector-Jacobian product ``J(x)^T u`` of ``g(x, xp)``.

    Parameters
    ----------
    g : callable
        ``g(x, xp)`` returning a 1-d array of length m.
    method : str
        A name in :data:`VJP_METHODS`: ``"tape"`` (one recording, one backward walk
        seeded with ``u``), ``"autograd"`` (``autograd.make_vjp``), ``"symbolic"``
        (``u`` times the compiled Jacobian) or ``"forward"`` (``u`` times the Jacobian
        by dual numbers).

    Returns
    -------
    callable
        ``vjp(x, u) -> numpy.ndarray`` of shape ``(n,)``; ``u`` has length m.

    Raises
    ------
    TypeError
        If ``g`` is not callable or ``method`` is not a string, or (on call) ``x`` or
        ``u`` is not a float array.
    ValueError
        If ``method`` is unknown, or (on call) ``x`` or ``u`` is not a finite vector,
        ``g(x)`` is not a finite 1-d array, or ``u`` does not have its length.

    Examples
    --------
    >>> import diffcompare
    >>> pullback = diffcompare.vjp(lambda x, xp: xp.stack([x[0] * x[1], x[1] ** 2]))
    >>> pullback([1.0, 2.0], [1.0, 0.0])
    array([2., 1.])
    """
    check_callable(g, "g")
    prepared = PerDimension(choose(VJP_METHODS, method, "vjp"), g)

    def vjp_of_g(x, u) -> np.ndarray:
        x = as_point(x)
        m = check_finite_vector(g, x)
        u = as_point(u, "u", dim=m)
        return np.asarray(prepared(x.size)(x, u), dtype=np.float64)

    vjp_of_g.__name__ = f"vjp_{method}_{getattr(g, '__name__', 'g')}"
    return vjp_of_g
