"""``diffcompare.jvp``: Jacobian-vector products ``J t`` without forming ``J``.

Forward methods push the one direction ``t`` through ``g``: a dual number with a single
tangent (``"forward"``), ``Im g(x + i h t) / h`` (``"complex_step"``) or a central
difference along ``t`` (``"central"``), or autograd's forward mode, ``autograd.make_jvp``
(``"autograd"``: a tangent carried beside each value by autograd's ``defjvp`` rules, not
the reverse-of-reverse trick of ``make_jvp_reversemode``).  ``"symbolic"`` multiplies
its compiled Jacobian by ``t``, and ``"tape"``, a reverse method, builds the Jacobian with m backward
walks and multiplies: the product costs m reverse passes, not one.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..methods.central.difference import central_namespace
from ..validation import as_point, check_callable, check_finite_vector
from .jacobian import JACOBIAN_METHODS, autograd_function, complex_evaluator, complex_push, forward_push
from .registry import PerDimension, choose

__all__ = ["JVP_METHODS", "jvp"]

_EPS = np.finfo(np.float64).eps


def _forward(g: Callable, n: int) -> Callable:
    return lambda x, t: forward_push(g, x, t[None, :])[:, 0]


def _autograd(g: Callable, n: int) -> Callable:
    from autograd import make_jvp  # imported when first used; forward mode

    push = make_jvp(autograd_function(g))

    def jvp_autograd(x: np.ndarray, t: np.ndarray) -> np.ndarray:
        _, product = push(x)(t)
        # a g that ignores x has a zero tangent of g's shape
        return np.asarray(product, dtype=np.float64)

    return jvp_autograd


def _complex_step(g: Callable, n: int) -> Callable:
    evaluate = complex_evaluator(g)
    return lambda x, t: complex_push(evaluate, x, t)


def central_along(g: Callable, x: np.ndarray, t: np.ndarray, xp=central_namespace) -> np.ndarray:
    """``J t`` as ``(g(x + h t) - g(x - h t)) / 2h``, two evaluations of ``g``.

    The step along ``t`` is the gradient's rule ``cbrt(eps) max(1, |x|)`` (the ``h^2``
    truncation balanced against rounding) with ``|x|`` the largest coordinate, divided
    by the largest ``|t_k|`` so that no coordinate moves further than that.
    """
    scale = np.max(np.abs(t))
    if scale == 0:
        return np.zeros_like(np.asarray(g(x, xp), dtype=np.float64))
    h = np.cbrt(_EPS) * max(1.0, float(np.max(np.abs(x)))) / scale
    upper = np.asarray(g(x + h * t, xp), dtype=np.float64)
    lower = np.asarray(g(x - h * t, xp), dtype=np.float64)
    return (upper - lower) / (2 * h)


def _central(g: Callable, n: int) -> Callable:
    return lambda x, t: central_along(g, x, t)


def _from_jacobian(method: str) -> Callable:
    def prepare(g: Callable, n: int) -> Callable:
        jac = JACOBIAN_METHODS[method](g, n)
        return lambda x, t: jac(x) @ t

    return prepare


#: Method name -> ``prepare(g, n)`` returning ``(x, t) -> J t``.
JVP_METHODS: dict[str, Callable] = {
    "forward": _forward,
    "autograd": _autograd,
    "complex_step": _complex_step,
    "central": _central,
    "symbolic": _from_jacobian("symbolic"),
    "tape": _from_jacobian("tape"),
}


def jvp(g: Callable, method: str = "forward") -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """Return a function that computes the Jacobian-vector product ``J(x) t`` of ``g(x, xp)``.

    Parameters
    ----------
    g : callable
        ``g(x, xp)`` returning a 1-d array of length m.
    method : str
        A name in :data:`JVP_METHODS`: ``"forward"`` (one dual-number evaluation with
        one tangent), ``"autograd"`` (``autograd.make_jvp``, forward mode),
        ``"complex_step"`` (one complex evaluation and one probe), ``"central"`` (two
        evaluations), ``"symbolic"`` (the compiled Jacobian times ``t``) or ``"tape"``
        (the Jacobian by m backward walks, times ``t``).

    Returns
    -------
    callable
        ``jvp(x, t) -> numpy.ndarray`` of shape ``(m,)``; ``t`` has the shape of ``x``.

    Raises
    ------
    TypeError
        If ``g`` is not callable or ``method`` is not a string, or (on call) ``x`` or
        ``t`` is not a float array.
    ValueError
        If ``method`` is unknown, or (on call) ``x`` or ``t`` is not a finite vector,
        ``t`` does not have the length of ``x``, or ``g(x)`` is not a finite 1-d array;
        for ``"complex_step"``, if ``g`` drops the imaginary part or a singularity or
        branch point lies within the step along ``t``.

    Examples
    --------
    >>> import diffcompare
    >>> product = diffcompare.jvp(lambda x, xp: xp.stack([x[0] * x[1], x[1] ** 2]))
    >>> product([1.0, 2.0], [1.0, 0.0])
    array([2., 0.])
    """
    check_callable(g, "g")
    prepared = PerDimension(choose(JVP_METHODS, method, "jvp"), g)

    def jvp_of_g(x, t) -> np.ndarray:
        x = as_point(x)
        t = as_point(t, "t", dim=x.size)
        check_finite_vector(g, x)
        return np.asarray(prepared(x.size)(x, t), dtype=np.float64)

    jvp_of_g.__name__ = f"jvp_{method}_{getattr(g, '__name__', 'g')}"
    return jvp_of_g
