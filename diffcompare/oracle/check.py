"""The oracle's verifiers: ``check_grad``, ``check_jacobian`` and their ``assert_`` forms.

They validate the arguments, draw the points and hand each point to
:class:`~diffcompare.oracle.point.PointCheck`, whose module describes how a verdict is
reached.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable
from dataclasses import replace

import numpy as np

from ..validation import as_point, check_callable, takes_namespace
from .blocks import ParameterBlocks
from .entries import check_directions, check_option_seed, check_tolerances
from .point import Options, PointCheck
from .result import VERDICTS, GradCheckResult, require

__all__ = ["check_grad", "check_jacobian", "assert_grad_correct", "assert_jacobian_correct"]


def check_grad(
    f: Callable,
    grad,
    x=None,
    *,
    mode: str = "auto",
    rtol: float | None = None,
    atol: float | None = None,
    seed: int = 0,
    box=None,
    n_points: int | None = None,
    complex_step: bool | str = "auto",
    directions: int = 2,
    shapes=None,
) -> GradCheckResult:
    """Check a hand-written gradient against error-controlled references.

    Parameters
    ----------
    f : callable
        ``f(x)`` returning a float (a black box), or ``f(x, xp)`` written against an
        array namespace (two required positional parameters): then the tape's exact
        gradient is a reference too.  An ``f(x, xp)`` the tape cannot follow (an
        operation it lacks, such as ``xp.linalg.qr``) is checked as a black box, with
        numpy's own functions for names outside the op table; the notes say so.
    grad : callable or array_like
        ``grad(x)`` returning the claimed gradient, shape ``(n,)``; its dtype sets the
        tolerance (a float32 gradient is judged as float32).  An array is accepted for a
        single point.
    x : array_like, optional
        One point (shape ``(n,)``, or ``(1, n)``) or several (rows of a 2-d array of
        shape ``(n_points, n)``).  A column ``(n, 1)`` is refused: pass ``x.ravel()``.
    mode : {"auto", "full", "fast"}, optional
        "full" compares every component; "fast" checks random directional derivatives
        (a few dozen evaluations of ``f`` for any ``n``) and localises wrong components
        only on failure; "auto" is "full" up to ``n = 100``.
    rtol, atol : float, optional
        Replace the claimed gradient's rounding allowance (default: 1024 ulps of its
        dtype times the gradient's scale) by ``atol + rtol * |reference|``.
    seed : int, optional
        Seeds the random directions and the points drawn from ``box``.
    box : tuple of array_like, optional
        ``(low, high)``: with ``n_points``, check seeded uniform random points in the
        box instead of ``x``.
    n_points : int, optional
        How many points to draw from ``box``.
    complex_step : {"auto", True, False}, optional
        Use the complex step as a second reference for a black-box ``f`` ("auto": when
        ``f`` accepts complex input and agrees with differences along a random
        direction; True: require it).
    directions : int, optional
        Random directions checked in fast mode.
    shapes : dict of str to tuple of int, optional
        How ``x`` is laid out in named blocks, in order, each raveled in C order (``x``
        is ``np.concatenate([W1.ravel(), b1, ...])`` for ``{"W1": (784, 128), "b1":
        (128,), ...}``; ``()`` is a scalar).  Components are then named in the reason,
        the message and ``Mismatch.name`` (``"W1[3, 17]"``); ``Mismatch.index`` stays
        the flat position, and the repro line the flat ``x``.

    Returns
    -------
    GradCheckResult
        Verdict ("pass", "fail" or "inconclusive"), reason, worst component and the
        evidence; with several points, the worst point, and every point in
        ``per_point``.

    Raises
    ------
    TypeError
        If ``f`` or ``grad`` is of the wrong kind, or returns non-real values, or
        ``shapes`` is not a dict of str names to tuples of ints.
    ValueError
        If ``x`` is not a finite vector (or matrix of points), is a column ``(n, 1)``,
        ``f(x)`` is not a finite scalar, ``grad`` returns the wrong shape, an option is
        out of range, or the sizes in ``shapes`` do not sum to ``x``'s length.

    Examples
    --------
    >>> import numpy as np
    >>> f = lambda x: np.sum(np.sin(x) * x)
    >>> check_grad(f, lambda x: np.cos(x) * x + np.sin(x), [0.5, 2.0]).verdict
    'pass'
    >>> wrong = check_grad(f, lambda x: np.cos(x) * x - np.sin(x), [0.5, 2.0])
    >>> wrong.verdict, wrong.index
    ('fail', 1)

    With ``x = np.concatenate([W.ravel(), b])``, components are named by their block:

    >>> def wrong(x):
    ...     g = x**2
    ...     g[5] += 1.0  # a bug in W[1, 2]
    ...     return g
    >>> result = check_grad(lambda x: np.sum(x**3) / 3, wrong, np.linspace(0.5, 2.0, 9),
    ...                     shapes={"W": (2, 3), "b": (3,)})
    >>> result.index, result.name
    (5, 'W[1, 2]')
    """
    return _check(
        f, grad, x, True, box, n_points, _options(mode, rtol, atol, seed, complex_step, directions), shapes
    )


def check_jacobian(
    f: Callable,
    jac,
    x=None,
    *,
    mode: str = "auto",
    rtol: float | None = None,
    atol: float | None = None,
    seed: int = 0,
    box=None,
    n_points: int | None = None,
    complex_step: bool | str = "auto",
    directions: int = 2,
    shapes=None,
) -> GradCheckResult:
    """Check a hand-written Jacobian of a vector-valued ``f``; as :func:`check_grad`.

    ``f(x)`` (or ``f(x, xp)``) returns shape ``(m,)`` and ``jac(x)`` shape ``(m, n)``;
    components are indexed ``(row, column)``.  With ``shapes=``, ``Mismatch.name``
    names the column (``"W1[3, 17]"``) and messages show ``(row, W1[3, 17])``.

    Examples
    --------
    >>> import numpy as np
    >>> f = lambda x: np.array([x[0] * x[1], np.exp(x[0])])
    >>> jac = lambda x: np.array([[x[1], x[0]], [np.exp(x[0]), 0.0]])
    >>> check_jacobian(f, jac, [1.0, 2.0]).verdict
    'pass'
    """
    return _check(
        f, jac, x, False, box, n_points, _options(mode, rtol, atol, seed, complex_step, directions), shapes
    )


def assert_grad_correct(f: Callable, grad, x=None, *, allow_inconclusive: bool = False, **options) -> None:
    """Raise ``AssertionError`` unless :func:`check_grad` passes.

    Takes the arguments of :func:`check_grad`.  An inconclusive check raises too (with
    its reason) unless ``allow_inconclusive`` is True.  The message lists the
    mismatching components (index, claimed, reference, errors) and a repro line.

    Examples
    --------
    >>> import numpy as np
    >>> assert_grad_correct(lambda x: np.sum(x**3), lambda x: 3 * x**2, [1.0, -2.0])
    >>> assert_grad_correct(lambda x: np.sum(x**3), lambda x: 3 * x, [1.0, -2.0])
    Traceback (most recent call last):
    AssertionError: Gradient check fail: 1 of 2 components mismatch...
    ...
    """
    require(check_grad(f, grad, x, **options), allow_inconclusive)


def assert_jacobian_correct(f: Callable, jac, x=None, *, allow_inconclusive: bool = False, **options) -> None:
    """Raise ``AssertionError`` unless :func:`check_jacobian` passes; see :func:`assert_grad_correct`."""
    require(check_jacobian(f, jac, x, **options), allow_inconclusive)


def _options(mode, rtol, atol, seed, complex_step, directions) -> Options:
    if mode not in ("auto", "full", "fast"):
        raise ValueError(f"mode must be 'auto', 'full' or 'fast'; got {mode!r}")
    check_tolerances(rtol, atol)
    check_option_seed(seed)
    if complex_step not in ("auto", True, False):
        raise ValueError(f"complex_step must be 'auto', True or False; got {complex_step!r}")
    check_directions(directions)
    return Options(mode, rtol, atol, int(seed), complex_step, int(directions))


def _blocks(shapes, points: np.ndarray) -> ParameterBlocks | None:
    return None if shapes is None else ParameterBlocks.from_shapes(shapes, size=points.shape[1])


def _points(x, box, n_points, seed: int) -> np.ndarray:
    """The points to check, as rows of a 2-d float64 array."""
    if box is None:
        if x is None:
            raise ValueError("x is required (or box=(low, high) with n_points)")
        if n_points is not None:
            raise ValueError("n_points needs box=(low, high)")
        array = np.asarray(x) if not isinstance(x, np.ndarray) else x
        if array.ndim == 2 and array.shape[0] > 1 and array.shape[1] == 1:
            raise ValueError(
                f"x has shape {array.shape}, a column, which would read as {array.shape[0]} points of "
                f"dimension 1: pass x.ravel() to check one point of dimension {array.shape[0]}; "
                "several points go in the rows of x, shape (n_points, n)"
            )
        if array.ndim == 2:
            return np.array([as_point(row, f"x[{i}]") for i, row in enumerate(array)])
        return as_point(x)[None, :]
    if x is not None:
        raise ValueError("give either x or box, not both")
    if not (isinstance(box, tuple | list) and len(box) == 2):
        raise ValueError("box must be a pair (low, high) of arrays of shape (n,)")
    corners = [np.asarray(c, dtype=float) if np.asarray(c).dtype.kind in "iu" else c for c in box]
    low = as_point(corners[0], "box low")
    high = as_point(corners[1], "box high", dim=low.size)
    if not np.all(low < high):
        raise ValueError("box must have low < high in every coordinate")
    if isinstance(n_points, bool) or not isinstance(n_points, numbers.Integral) or n_points < 1:
        raise ValueError(f"n_points must be a positive integer with box; got {n_points!r}")
    rng = np.random.default_rng(seed)
    return low + (high - low) * rng.random((int(n_points), low.size))


def _check(f, grad, x, scalar: bool, box, n_points, options: Options, shapes) -> GradCheckResult:
    check_callable(f, "f")
    if grad is None:
        raise TypeError("grad must be a callable grad(x) or an array; got None")
    points = _points(x, box, n_points, options.seed)
    if not callable(grad) and (box is not None or len(points) > 1):
        raise TypeError("grad must be a callable grad(x) when several points are checked")
    options = replace(options, blocks=_blocks(shapes, points))
    xp_form = takes_namespace(f)
    results = [
        PointCheck(f, xp_form, grad, point, scalar, options, i).run() for i, point in enumerate(points)
    ]
    if len(results) == 1:
        return results[0]
    ranked = sorted(
        range(len(results)), key=lambda i: (VERDICTS.index(results[i].verdict), _severity(results[i]))
    )
    worst = ranked[-1]
    return replace(
        results[worst],
        point_index=worst,
        evaluations=sum(r.evaluations for r in results),
        seconds=sum(r.seconds for r in results),
        per_point=tuple(replace(r, point_index=i) for i, r in enumerate(results)),
    )


def _severity(result: GradCheckResult) -> float:
    ratio = result.abs_error / result.tolerance if result.tolerance > 0 else 0.0
    return ratio if np.isfinite(ratio) else np.inf
