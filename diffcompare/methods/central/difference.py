"""Central finite differences: ``(f(x + h e_i) - f(x - h e_i)) / 2h`` per coordinate."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ...ops.fallback import numpy_fallback_namespace
from ...validation import as_point, check_callable, check_positive, check_scalar_output

__all__ = ["central_difference", "central_step"]

_EPS = np.finfo(np.float64).eps


#: The ``xp`` central evaluates ``f`` with: the op table, then numpy for every other name.
central_namespace = numpy_fallback_namespace("central")


def central_step(x: np.ndarray) -> np.ndarray:
    """The step ``h_i = cbrt(eps) * max(1, |x_i|)`` for each coordinate.

    Taylor: f(x + h) - f(x - h) = 2 h f'(x) + h^3 f'''(x) / 3 + O(h^5), so the
    truncation error of the quotient is about h^2 |f'''| / 6, while rounding f to
    relative precision eps adds about eps |f| / h.  The sum is smallest at
    h = (3 eps |f| / |f'''|)^(1/3): with f and f''' of comparable size, cbrt(eps)
    (6.1e-6), giving an error near eps^(2/3) (about 4e-11) relative to |f|.  Scaling
    by max(1, |x_i|) keeps the step a fixed fraction of the coordinate when it is
    large, where derivatives vary on the scale of x_i itself.
    """
    return np.cbrt(_EPS) * np.maximum(1.0, np.abs(x))


def central_difference(f: Callable, x, xp=central_namespace, step: float | None = None) -> np.ndarray:
    """Gradient of ``f(x, xp)`` by central differences (2 n evaluations of ``f``).

    Parameters
    ----------
    f : callable
        ``f(x, xp)`` returning a scalar.
    x : array_like of float, shape (n,)
        The point.
    xp : Namespace, optional
        The namespace ``f`` is evaluated with; by default numpy's operations of
        :mod:`diffcompare.ops`, then numpy itself for any other name
        (``xp.linalg.qr``, ``xp.fft.fft``, ``xp.polyval``).
    step : float, optional
        A relative step, positive and finite: ``h_i = step * max(1, |x_i|)``
        (``TypeError`` if it is not a real number, ``ValueError`` if not positive and
        finite).  By default the ``cbrt(eps)`` rule of :func:`central_step`, the best
        step for a single difference.

    Returns
    -------
    numpy.ndarray, shape (n,)

    Examples
    --------
    >>> central_difference(lambda x, xp: xp.sum(x ** 2), [1.0, -2.0]).round(8)
    array([ 2., -4.])
    """
    check_callable(f)
    x = as_point(x)
    if step is None:
        h = central_step(x)
    else:
        h = check_positive(step, "step") * np.maximum(1.0, np.abs(x))
    grad = np.empty_like(x)
    shifted = x.copy()
    for i, (xi, hi) in enumerate(zip(x, h, strict=True)):
        shifted[i] = xi + hi
        upper = shifted[i]
        f_upper = check_scalar_output(f(shifted, xp), xp.backend)
        shifted[i] = xi - hi
        lower = shifted[i]
        f_lower = check_scalar_output(f(shifted, xp), xp.backend)
        shifted[i] = xi
        # Divide by the distance between the points actually evaluated: x_i +- h is
        # rounded, and using 2h instead would add an error of order eps |x_i| / h.
        grad[i] = (f_upper - f_lower) / (upper - lower)
    return grad
