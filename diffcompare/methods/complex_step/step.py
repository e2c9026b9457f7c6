"""The complex step: ``Im f(x + i h e_k) / h`` per coordinate (n + 1 evaluations of ``f``).

Taylor along the imaginary axis, for ``f`` analytic in ``x_k``::

    f(x + i h e_k) = f(x) + i h f'(x) - h^2 f''(x) / 2 - i h^3 f'''(x) / 6 + O(h^4)

so ``Im f(x + i h e_k) / h = f'(x) - h^2 f'''(x) / 6 + O(h^4)``.  Unlike a finite
difference, no two nearly equal values are subtracted: the derivative is read off the
imaginary part directly and is rounded only once per operation, to about eps relative
to itself, whatever ``h`` is.  So the step can be absurdly small: with ``h = 1e-100``
the truncation term ``h^2 f''' / 6`` is ~1e-200 relative to ``f'`` unless
``|f''' / f'|`` is astronomically large, and the ``-h^2 f'' / 2`` added to the real
part vanishes below its last digit.  Two limits remain.  The series converges only for
``h`` below the distance from ``x`` to the nearest singularity of ``f`` in the complex
plane: at ``x_k = 1e-300`` the branch point of ``sqrt`` and ``log`` at 0 is far closer
than ``h = 1e-100``, and the result is wrong by orders of magnitude.  And every
intermediate's imaginary part is ``h`` times its derivative: below ~2e-308
(derivatives under ~2e-208 with the default step) it turns subnormal and loses digits.

The main limit is analyticity.  ``f`` must compute, for complex ``x``, the analytic
continuation of what it computes for real ``x``: every operation must carry the
imaginary part along.  The namespace :data:`~diffcompare.methods.complex_step.namespace.complex_namespace`
makes ``abs``, ``maximum``, ``minimum`` and ``max`` analytic away from their kinks,
but nothing can help

* at a kink itself (``abs`` at 0, a tie in ``max``): the result is a one-sided
  derivative or the subgradient convention, not "the" derivative;
* a condition within an ulp of a tie, when a complex operation rounds its real part
  differently from the real one (exact ties are fine: ``f`` gets a
  :class:`~diffcompare.methods.complex_step.namespace.RealOrderedArray`, whose comparisons
  look at the real parts only, so it takes the float64 program's branches);
* code that leaves the namespace: ``numpy.real``, ``float()``, ``numpy.linalg.norm``
  or ``numpy.vdot`` (both conjugate or take moduli), or numpy's ``abs`` of a plain
  complex array made with ``numpy.asarray(x)``, on values that depend on ``x``.
  (numpy's ``abs``, ``maximum``, ``minimum`` and ``max`` called on the values ``f`` is
  handed are the namespace's continuations: see
  :class:`~diffcompare.methods.complex_step.namespace.RealOrderedArray`.)

Two such mistakes are caught: a complex value cast to real (``float()``, assigning into
a real array, ``astype(float)``) raises numpy's ``ComplexWarning``, turned here into a
``ValueError``; and a result, or a component of a vector result, that stays real but
changes with ``x`` (the imaginary part was dropped somewhere) raises a ``ValueError``.
A real result that does not change (a constant, a count of comparisons) is what a
function that does not depend on ``x`` returns: its gradient is 0, as for every other
method.  A modulus taken outside the namespace in one term of a complex result cannot
be told from a zero derivative and gives a wrong number silently.

:func:`complex_step_derivative` holds the step and both checks for a scalar or a vector
function, by coordinates or along one direction: the gradient here, and the
complex-step Jacobian, JVP, Hessian and HVP of :mod:`diffcompare.operators`.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable

import numpy as np
from numpy.exceptions import ComplexWarning

from ...validation import as_point, check_callable, check_positive, check_scalar_output
from .fallback import complex_step_namespace
from .namespace import real_ordered

__all__ = ["complex_step", "complex_step_derivative", "complex_values"]

#: Distance, relative to ``max(1, |x_k|)``, of the point at which a component whose
#: derivative came out exactly 0 is checked for depending on x.  A dropped derivative g
#: changes the value there by about 1e-6 |g|, more than its rounding unless |g| is below
#: ~1e-10 of the value; a count of comparisons changes only if one of its jumps lies
#: that close to x.
INDEPENDENCE_STEP = 2.0**-20

#: Agreement the analyticity probe asks for, relative to the size of the terms of the
#: directional derivative (``sum_k |J_ik v_k|``): rounding is ~1e-15 of that and
#: truncation ``h^2`` times the third derivative over the first; a branch point's
#: artefact scales like ``1/h`` or ``1/sqrt(h)`` and misses by far more.
PROBE_RTOL = 1e-6

#: The largest third derivative (per unit of the direction) the probe attributes to
#: truncation.  A derivative no larger than the truncation term at step h, ``h**2`` times
#: this (1e-170 for the default), is zero to within what the step resolves: there (x^3
#: at 0, where the result is -h^2) a relative test would refuse, so the probe only asks
#: that the change be a truncation term at the probe's step.  A larger derivative keeps
#: the relative test: where a coordinate is as small as h (x^3 at 1e-100) the truncation
#: term is as large as the derivative and the result is wrong, and a branch point's
#: value is about ``1 / sqrt(h)`` = 1e50 times too large.
PROBE_THIRD_DERIVATIVE = 1e30


def _not_complex_safe(detail: str, name: str) -> ValueError:
    return ValueError(
        f"{name} is not complex-step safe: {detail}. The complex step needs {name} to carry the "
        "imaginary part of x through every operation: use the operations of xp, and avoid "
        "np.real, np.linalg.norm, float(), np.asarray(x) and arrays built with a real dtype"
    )


def complex_values(evaluate: Callable, z: np.ndarray, name: str = "f"):
    """``evaluate(z)``, with a cast of a complex value to real refused.

    Raises
    ------
    ValueError
        If the evaluation cast a complex value to real (numpy's ``ComplexWarning``):
        the imaginary part that carries the derivative was dropped.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("error", ComplexWarning)
        try:
            return evaluate(z)
        except ComplexWarning as warning:
            raise _not_complex_safe(f"it cast a complex value to real ({warning})", name) from None


def _scalar_value(f: Callable, z: np.ndarray, xp) -> np.ndarray:
    """``f(z)`` as a 0-d complex128 or float64 array, after checking that it is a scalar."""
    value = complex_values(lambda point: f(point, xp), z)
    array = np.asarray(value)
    if array.dtype.kind == "c":
        check_scalar_output(array.real, xp.backend)
        return array.astype(np.complex128)
    check_scalar_output(value, xp.backend)
    return np.asarray(float(array))


def complex_step(f: Callable, x, step: float = 1e-100, xp=complex_step_namespace) -> np.ndarray:
    """Gradient of ``f(x, xp)`` by the complex step (n + 1 evaluations of ``f``).

    Parameters
    ----------
    f : callable
        ``f(x, xp)`` returning a scalar; it must be analytic in each coordinate (see the
        module docstring).
    x : array_like of float, shape (n,)
        The point.
    step : float, optional
        The imaginary step ``h``; any value from ~1e-150 to ~1e-20 gives the same
        digits up to the last few (there is no cancellation to balance against).
    xp : Namespace, optional
        The namespace ``f`` is evaluated with; it must accept complex arrays.  By
        default the complex namespace, then the numpy functions known to be analytic
        (:data:`~diffcompare.methods.complex_step.fallback.ANALYTIC`); any other name
        is refused by name with the reason.

    Returns
    -------
    numpy.ndarray, shape (n,)

    Raises
    ------
    TypeError
        If ``f`` is not callable, ``x`` is not a float array, ``step`` is not a real
        number, or ``f`` returns something other than a number.
    ValueError
        If ``x`` is not a finite 1-d vector, ``step`` is not positive and finite, ``f``
        returns a non-scalar, ``f`` is not complex-step safe (it cast a complex value
        to real, or returned a real value that changes with ``x``), or the result
        depends on the step (a singularity or branch point closer to ``x`` than the
        step).

    Examples
    --------
    >>> complex_step(lambda x, xp: xp.sum(xp.exp(x)), [0.0, 1.0])
    array([1.        , 2.71828183])
    """
    check_callable(f)
    x = as_point(x)
    h = check_positive(step, "step")
    return complex_step_derivative(lambda z: _scalar_value(f, z, xp), x, h)


def complex_step_derivative(
    evaluate: Callable, x: np.ndarray, h: float, direction: np.ndarray | None = None, name: str = "f"
) -> np.ndarray:
    """The complex step of ``evaluate`` at ``x``, checked before it is returned.

    ``evaluate(z)`` returns a scalar or a 1-d array for a complex point ``z`` (a
    :class:`~diffcompare.methods.complex_step.namespace.RealOrderedArray`); wrap it in
    :func:`complex_values` to refuse casts to real.  Without ``direction`` the result
    is the derivative by coordinates: ``Im evaluate(x + i h e_k) / h`` for each k, the
    gradient (shape (n,)) of a scalar or the Jacobian (shape (m, n)) of a vector, n
    evaluations.  With ``direction`` it is ``Im evaluate(x + i h direction) / h``, the
    directional derivative ``J direction`` (shape (m,)), one evaluation.

    Two checks follow, each one more evaluation at most.  A component whose derivative
    came out exactly 0 is evaluated a relative :data:`INDEPENDENCE_STEP` away: if it is
    still real there but its value changed, the imaginary part was dropped and the 0 is
    refused (:func:`_check_independent`).  And the analyticity probe repeats the step
    with a much larger one, about ``sqrt(h)`` (:func:`_check_analytic`): along a seeded
    random direction without ``direction``, along ``direction`` itself with it.

    Raises
    ------
    ValueError
        If a component is real and changes with ``x``, or the result depends on the step.
    """
    z = real_ordered(x.astype(np.complex128))  # comparisons see the real parts, as in float64
    if direction is None:
        values = []
        for k, xk in enumerate(x):
            z[k] = complex(xk, h)
            values.append(np.array(evaluate(z)))  # a copy: f may return (a view of) z
            z[k] = xk
        derivative = np.stack([np.imag(value) for value in values], axis=-1) / h
        rows = np.atleast_2d(derivative)
        probe_direction = _random_direction(np.random.default_rng(0), x.size)
        expected, scale = rows @ probe_direction, np.abs(rows) @ np.abs(probe_direction)
        exactly_zero = ~np.any(rows, axis=1)  # NaN counts as nonzero
        along = "a random direction"
    else:
        z += 1j * h * direction
        values = [np.array(evaluate(z))]
        derivative = np.imag(values[0]) / h
        probe_direction, expected = direction, np.atleast_1d(derivative)
        # Along a given direction J v may cancel to rounding, so |J v| is no measure of
        # the rounding of either result; the probe's power-of-two step ratio (see
        # _check_analytic) makes the two results round alike instead.
        scale = np.abs(expected)
        exactly_zero = expected == 0
        along = "the given direction"
    value_at_x = np.atleast_1d(np.real(values[0]))
    scalar = np.ndim(values[0]) == 0
    _check_independent(evaluate, x, value_at_x, exactly_zero, h, name, scalar)
    _check_analytic(evaluate, x, probe_direction, expected, scale, h, name, along, scalar)
    return np.asarray(derivative, dtype=np.float64)


def _random_direction(rng: np.random.Generator, n: int) -> np.ndarray:
    """Entries of size 0.5 to 1 and random signs: no coordinate left out or dominant."""
    return rng.uniform(0.5, 1.0, n) * rng.choice([-1.0, 1.0], n)


def _check_independent(
    evaluate: Callable,
    x: np.ndarray,
    value: np.ndarray,
    exactly_zero: np.ndarray,
    h: float,
    name: str,
    scalar: bool,
) -> None:
    """Raise ``ValueError`` if a component with derivative exactly 0 is real and changes with x.

    A zero imaginary part carries no derivative.  Either the component does not depend
    on ``x`` there (a constant, a count of comparisons, or a stationary point such as
    ``x^2`` at 0), and its derivative is 0, or an operation outside the namespace
    dropped the imaginary part (``numpy.real``, ``numpy.linalg.norm``), and the zeros
    would be wrong.  One more evaluation, a relative :data:`INDEPENDENCE_STEP` away along
    a seeded random direction and with the imaginary step ``h`` along it, tells them
    apart: a stationary component is complex there, a constant one has not changed, and
    a dropped one is real with a new value.  A jump of a piecewise constant component
    (``sum(x > 0)``) within that distance is refused too: there is no derivative to give.
    """
    if not np.any(exactly_zero):
        return
    direction = _random_direction(np.random.default_rng(1), x.size)
    moved = x + INDEPENDENCE_STEP * np.maximum(1.0, np.abs(x)) * direction
    other = np.atleast_1d(evaluate(real_ordered(moved + 1j * h * direction)))
    dropped = np.flatnonzero(exactly_zero & (np.imag(other) == 0) & (np.real(other) != value))
    if dropped.size == 0:
        return
    i = dropped[0]
    raise _not_complex_safe(
        f"for complex x it returned a real value{'' if scalar else f' in component {i}'} that changes with x "
        f"({float(value[i])!r} at x, {float(np.real(other[i]))!r} a relative {INDEPENDENCE_STEP:.3g} "
        "away), so the imaginary part, which carries the derivative, was dropped somewhere "
        "(a function that does not depend on x returns a real constant: its derivative is 0)",
        name,
    )


def _check_analytic(
    evaluate: Callable,
    x: np.ndarray,
    direction: np.ndarray,
    expected: np.ndarray,
    scale: np.ndarray,
    h: float,
    name: str,
    along: str,
    scalar: bool,
) -> None:
    """Raise ``ValueError`` if the complex step's result depends on its step.

    Where the function is analytic within h of x, ``Im f(x + i h v) / h`` is the
    directional derivative ``J v`` for every small h, up to rounding and an ``h^2``
    relative truncation term.  Where a singularity or branch point is closer than h it
    is not: ``Im log(5e-324 + i h) / h`` is about ``(pi/2) / h``, a finite and wrong
    number.  One more evaluation along ``direction`` (``expected`` is ``J direction``
    from step h) with a second step near ``sqrt(h)`` (9.35e-51 for the default, still
    far below any scale) tells the two apart: a branch point's value changes by orders
    of magnitude.  The second step is h times a power of two, so every imaginary part,
    ``h`` times a derivative, is scaled exactly: where the function is analytic the two
    results round alike, even when ``J v`` cancels to rounding.  Each component is
    tested on its own (``scale`` is the size of its terms); a component already
    non-finite is left alone, visibly wrong.
    """
    finite = np.isfinite(expected)
    if not np.any(finite):
        return
    probe_step = h * 2.0 ** max(1, round(math.log2(1.0 / math.sqrt(h))))
    probe = real_ordered(x + 1j * probe_step * direction)
    result = np.atleast_1d(np.imag(evaluate(probe))) / probe_step
    allowed = np.where(
        scale > h**2 * PROBE_THIRD_DERIVATIVE, PROBE_RTOL * scale, probe_step**2 * PROBE_THIRD_DERIVATIVE
    )
    unreliable = np.flatnonzero(finite & ~(np.abs(result - expected) <= allowed))
    if unreliable.size == 0:
        return
    i = unreliable[0]
    subject = name if scalar else f"component {i} of {name}"
    raise ValueError(
        f"the complex step is not reliable at x: along {along}, {subject} gives {expected[i]:.6g} "
        f"with step {h:g} and {result[i]:.6g} with step {probe_step:.3g}, so the step does not "
        "resolve it at x: a singularity or branch point (log or sqrt at 0) is within the step, or "
        "a coordinate is as small as the step and the higher Taylor terms are as large as the first"
    )
