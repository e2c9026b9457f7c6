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
``ValueError``; and a real result that changes with ``x`` (the imaginary part was
dropped somewhere) raises a ``ValueError``.  A real result that does not change (a
constant, a count of comparisons) is what a function that does not depend on ``x``
returns: its gradient is 0, as for every other method.  A modulus taken outside the
namespace in one term of a complex result cannot be told from a zero derivative and
gives a wrong number silently.
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

__all__ = ["complex_step"]

#: Distance, relative to ``max(1, |x_k|)``, of the real point at which a real result is
#: checked for depending on x.  A dropped gradient g changes f there by about 1e-6 |g|,
#: more than f's rounding unless |g| is below ~1e-10 |f|; a count of comparisons changes
#: only if one of its jumps lies that close to x.
INDEPENDENCE_STEP = 2.0**-20

#: Agreement the analyticity probe asks for, relative to ``sum |grad_k v_k|``: rounding
#: is ~1e-15 of that and truncation ``h^2`` times the third derivative over the first; a
#: branch point's artefact scales like ``1/h`` or ``1/sqrt(h)`` and misses by far more.
PROBE_RTOL = 1e-6

#: The largest third derivative (per unit of the direction) the probe attributes to
#: truncation.  A gradient no larger than the truncation term at step h, ``h**2`` times
#: this (1e-170 for the default), is zero to within what the step resolves: there (x^3
#: at 0, where the result is -h^2) a relative test would refuse, so the probe only asks
#: that the change be a truncation term at ``probe_step``.  A larger gradient keeps the
#: relative test: where a coordinate is as small as h (x^3 at 1e-100) the truncation
#: term is as large as the derivative and the result is wrong, and a branch point's
#: value is about ``1 / probe_step`` = 1e50 times too large.
PROBE_THIRD_DERIVATIVE = 1e30


def _not_complex_safe(detail: str) -> ValueError:
    return ValueError(
        f"f is not complex-step safe: {detail}. The complex step needs f to carry the "
        "imaginary part of x through every operation: use the operations of xp, and avoid "
        "np.real, np.linalg.norm, float(), np.asarray(x) and arrays built with a real dtype"
    )


def _evaluate(f: Callable, z: np.ndarray, xp) -> complex | float:
    """``f(z)`` as a Python complex, or as a Python float if ``f`` returned a real number."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", ComplexWarning)
        try:
            value = f(z, xp)
        except ComplexWarning as warning:
            raise _not_complex_safe(f"it cast a complex value to real ({warning})") from None
    array = np.asarray(value)
    if array.dtype.kind == "c":
        check_scalar_output(array.real, xp.backend)
        return complex(array)
    check_scalar_output(value, xp.backend)
    return float(array)


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
    grad = np.empty_like(x)
    # Real-ordered: f's comparisons then see the real parts only, as in float64.
    shifted = real_ordered(x.astype(np.complex128))
    real_value = None
    for k, xk in enumerate(x):
        shifted[k] = complex(xk, h)
        value = _evaluate(f, shifted, xp)
        grad[k] = value.imag / h  # 0 for a real value
        if type(value) is float:
            real_value = value
        shifted[k] = xk
    if real_value is not None:
        _check_independent(f, x, real_value, xp)
    _check_analytic(f, x, grad, h, xp)
    return grad


def _check_independent(f: Callable, x: np.ndarray, value: float, xp) -> None:
    """Raise ``ValueError`` if ``f``'s real result changes with ``x``.

    A real result carries no derivative.  Either ``f`` does not depend on ``x`` there
    (a constant, a count of comparisons), and its gradient is 0, or an operation outside
    the namespace dropped the imaginary part (``numpy.real``, ``numpy.linalg.norm``), and
    the zeros would be wrong.  One more evaluation, at a real point a relative
    :data:`INDEPENDENCE_STEP` away along a seeded random direction, tells them apart.  A
    jump of a piecewise constant ``f`` (``sum(x > 0)``) within that distance is refused
    too: there is no derivative to give.
    """
    rng = np.random.default_rng(1)
    direction = rng.uniform(0.5, 1.0, x.size) * rng.choice([-1.0, 1.0], x.size)
    moved = x + INDEPENDENCE_STEP * np.maximum(1.0, np.abs(x)) * direction
    other = _evaluate(f, real_ordered(moved.astype(np.complex128)), xp)
    if other == value:
        return
    raise _not_complex_safe(
        f"for complex x it returned a real value that changes with x ({value!r} at x, {other!r} "
        f"a relative {INDEPENDENCE_STEP:.3g} away), so the imaginary part, which carries the "
        "derivative, was dropped somewhere (a function that does not depend on x returns a "
        "real constant: its gradient is 0)"
    )


def _check_analytic(f: Callable, x: np.ndarray, grad: np.ndarray, h: float, xp) -> None:
    """Raise ``ValueError`` if the complex step's result depends on its step.

    Where f is analytic within h of x, ``Im f(x + i h v) / h`` is the directional
    derivative ``grad . v`` for every small h, up to rounding and an ``h^2`` relative
    truncation term.  Where a singularity or branch point is closer than h it is not:
    ``Im log(5e-324 + i h) / h`` is about ``(pi/2) / h``, a finite and wrong number.  One
    more evaluation, along a seeded random direction (no coordinate left out) with a
    second step ``sqrt(h)`` (1e-50 for the default, still far below any scale), tells
    the two apart: a branch point's value changes by orders of magnitude.
    """
    if not np.all(np.isfinite(grad)):
        return  # visibly non-finite already
    rng = np.random.default_rng(0)
    direction = rng.uniform(0.5, 1.0, x.size) * rng.choice([-1.0, 1.0], x.size)
    probe_step = math.sqrt(h)
    probe = real_ordered(x + 1j * probe_step * direction)
    along = _evaluate(f, probe, xp).imag / probe_step
    expected = float(grad @ direction)
    scale = float(np.abs(grad) @ np.abs(direction))
    if scale > h**2 * PROBE_THIRD_DERIVATIVE:
        allowed = PROBE_RTOL * scale
    else:
        allowed = probe_step**2 * PROBE_THIRD_DERIVATIVE
    if abs(along - expected) <= allowed:
        return
    raise ValueError(
        f"the complex step is not reliable at x: along a random direction it gives {expected:.6g} "
        f"with step {h:g} and {along:.6g} with step {probe_step:g}, so the step does not resolve f "
        "at x: a singularity or branch point (log or sqrt at 0) is within the step, or a "
        "coordinate is as small as the step and f's higher Taylor terms are as large as its first"
    )
