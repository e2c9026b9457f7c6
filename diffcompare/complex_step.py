"""The complex step: ``Im f(x + i h e_k) / h`` per coordinate (n evaluations of ``f``).

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
imaginary part along.  The namespace :data:`~diffcompare.backends.complex_backend.complex_namespace`
makes ``abs``, ``maximum``, ``minimum`` and ``max`` analytic away from their kinks,
but nothing can help

* at a kink itself (``abs`` at 0, a tie in ``max``): the result is a one-sided
  derivative or the subgradient convention, not "the" derivative;
* a comparison in ``f`` whose real parts tie (``x > 0`` at ``x_k == 0``): numpy then
  lets the imaginary part decide (see :mod:`~diffcompare.backends.complex_backend`);
* code that leaves the namespace: ``numpy.abs``, ``numpy.real``, ``float()``,
  ``numpy.linalg.norm`` or ``numpy.vdot`` (both conjugate or take moduli) on values
  that depend on ``x``.

Two such mistakes are caught: a complex value cast to real (``float()``, assigning into
a real array, ``astype(float)``) raises numpy's ``ComplexWarning``, turned here into a
``ValueError``; and a real result (the imaginary part was dropped somewhere) raises a
``ValueError``.  An ``abs`` taken outside the namespace in one term of a complex
result cannot be told from a zero derivative and gives a wrong number silently.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np
from numpy.exceptions import ComplexWarning

from .backends.complex_backend import complex_namespace
from .validation import as_point, check_callable, check_positive, check_scalar_output

__all__ = ["complex_step"]


def _not_complex_safe(detail: str) -> ValueError:
    return ValueError(
        f"f is not complex-step safe: {detail}. The complex step needs f to carry the "
        "imaginary part of x through every operation: use xp.abs, xp.maximum, ... "
        "instead of numpy's, and avoid np.real, float() and arrays built with a real dtype"
    )


def _evaluate(f: Callable, z: np.ndarray, xp) -> complex:
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
    raise _not_complex_safe(
        f"for complex x it returned a real {type(value).__name__} of dtype {array.dtype}, so the "
        "imaginary part, which carries the derivative, was dropped (a constant f, which does not "
        "depend on x at all, also returns a real value)"
    )


def complex_step(f: Callable, x, step: float = 1e-100, xp=complex_namespace) -> np.ndarray:
    """Gradient of ``f(x, xp)`` by the complex step (n evaluations of ``f``).

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
        The namespace ``f`` is evaluated with; it must accept complex arrays.

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
        returns a non-scalar, or ``f`` is not complex-step safe (it cast a complex value
        to real or returned a real value).

    Examples
    --------
    >>> complex_step(lambda x, xp: xp.sum(xp.exp(x)), [0.0, 1.0])
    array([1.        , 2.71828183])
    """
    check_callable(f)
    x = as_point(x)
    h = check_positive(step, "step")
    grad = np.empty_like(x)
    shifted = x.astype(np.complex128)
    for k, xk in enumerate(x):
        shifted[k] = complex(xk, h)
        grad[k] = _evaluate(f, shifted, xp).imag / h
        shifted[k] = xk
    return grad
