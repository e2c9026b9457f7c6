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
the engines themselves is possible yet: a dual number passes through the tape's
recording (numpy dispatches to the dual numbers' rules), but the backward walk and the
structural rules are written for concrete arrays (``unbroadcast`` calls ``np.asarray``,
the sum rule and the scatter of ``x[key]`` fill new numpy buffers in place), so a
``Dual`` leaf on the tape (forward over reverse) stops in the walk at every suite
function, and a second tape's nodes as values (reverse over reverse) meet the same
places; tape nodes inside a ``Dual`` (reverse over forward) stop in its constructor,
which makes the value and the tangent numpy arrays.

``"symbolic"`` compiles SymPy's second derivatives, ``"autograd"`` is
``autograd.jacobian`` of ``autograd.grad`` (``autograd.hessian``'s reverse-over-reverse).
``"central_gradient"`` takes central differences of the exact tape gradient and
``"central"`` second differences of ``f`` itself, extrapolated in a Neville tableau.
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
    """The Hessian of ``f`` by second differences of ``f``, extrapolated to step 0.

    At one step ``h`` (``h_k`` along coordinate k), Taylor gives, entry by entry, ::

        (f(x + h_k e_k) - 2 f(x) + f(x - h_k e_k)) / h_k^2 = H_kk + c_1 h^2 + c_2 h^4 + ...
        (f(x + h_j e_j + h_k e_k) - f(x + h_j e_j - h_k e_k)
         - f(x - h_j e_j + h_k e_k) + f(x - h_j e_j - h_k e_k)) / (4 h_j h_k) = H_jk + ...

    a series in ``h^2`` (the odd terms cancel), as for the central first difference;
    rounding ``f`` to ``u |f|`` adds about ``4 u |f| / h_k^2`` (``u |f| / (h_j h_k)`` for
    the four corners).  A single step balances the two near ``h = eps^(1/4)`` and loses
    ``sqrt(eps)`` of ``|f|``, which is 1e-5 of ``|H|`` where ``|f|`` is hundreds of times
    the curvature (total variation, log-sum-exp).  So the whole matrix goes through the
    Neville tableau of :mod:`diffcompare.methods.richardson.ladder` instead, one row per
    step, ``h_k = 0.1 max(1, |x_k|) / 2^i`` (the ``"richardson"`` gradient's ladder,
    each step made exactly representable as a difference), and each entry keeps its own
    best extrapolation by its error estimate: the distance to the lower orders it was
    built from, and at least its rounding part, carried from the noise of ``f`` (eight
    ulps of the largest ``|f|`` met) through the extrapolation weights.  Entries whose
    rounding has taken over stop the ladder; on the suite 4.9 of the 8 rows on
    average, each ``2 n^2`` evaluations at most.  A step that leaves ``f``'s domain gives
    non-finite entries, which are never chosen.
    """
    from ..methods.richardson.ladder import (
        DEFAULT_FACTOR,
        DEFAULT_INITIAL_STEP,
        DEFAULT_LEVELS,
        ROUNDING_ULPS,
        Tableau,
    )

    def value(z: np.ndarray) -> float:
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):  # outside the domain: NaN
            return float(np.asarray(f(z, xp), dtype=np.float64))

    n = x.size
    centre = value(x)
    size = abs(centre)  # the largest |f| met: the scale of the rounding of every value
    diagonal = np.eye(n, dtype=bool)
    tableau = Tableau(order=2)
    for level in range(DEFAULT_LEVELS):
        steps = DEFAULT_INITIAL_STEP * np.maximum(1.0, np.abs(x)) / DEFAULT_FACTOR**level
        steps = (x + steps) - x  # the distance actually travelled after rounding
        basis = np.eye(n) * steps  # row k: h_k e_k
        hess = np.empty((n, n))
        for k in range(n):
            upper, lower = value(x + basis[k]), value(x - basis[k])
            hess[k, k] = (upper - 2 * centre + lower) / steps[k] ** 2
            size = max(size, abs(upper), abs(lower))
            for j in range(k):
                corners = (
                    value(x + basis[j] + basis[k]),
                    -value(x + basis[j] - basis[k]),
                    -value(x - basis[j] + basis[k]),
                    value(x - basis[j] - basis[k]),
                )
                hess[j, k] = hess[k, j] = sum(corners) / (4 * steps[j] * steps[k])
                size = max(size, *map(abs, corners))
        rounding = (
            ROUNDING_ULPS
            * _EPS
            * size
            * np.where(diagonal, 4 / steps[:, None] ** 2, 1 / np.outer(steps, steps))
        )
        # every step shrinks by the same factor, so the relative width is the same for all entries
        if not tableau.add(hess, DEFAULT_FACTOR**-level, rounding):
            break
    return tableau.best


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
        differences of ``f`` at up to 8 shrinking steps, extrapolated entry by entry).

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
