"""Method ``"forward"``: forward-mode differentiation with dual numbers.

Each evaluation of ``f`` pushes up to :data:`CHUNK` tangent directions through it at
once, so the gradient of an ``n``-dimensional function takes ``ceil(n / CHUNK)``
evaluations and never holds more than ``CHUNK`` tangents per value.
"""

from __future__ import annotations

import numpy as np

from ...validation import check_scalar_output
from ..base import ExactMethod, PreparedGradient
from .dual import Dual
from .namespace import dual_namespace

__all__ = ["CHUNK", "ForwardMethod", "forward_gradient"]

#: Most directions per evaluation of ``f``: memory is O(CHUNK * size of each value).
CHUNK = 64


def forward_gradient(f, x: np.ndarray, chunk: int = CHUNK, check_value=None) -> np.ndarray:
    """Gradient of ``f(x, xp)`` at ``x``, ``chunk`` coordinates per evaluation.

    Parameters
    ----------
    f : callable
        ``f(x, xp)`` returning a scalar.
    x : numpy.ndarray
        Float64 vector of shape ``(n,)``, or complex128 (then so is the gradient: the
        analytic continuation that :mod:`diffcompare.operators.hessian` reads the
        Hessian from).
    chunk : int, optional
        Directions carried per evaluation.
    check_value : callable, optional
        Called as ``check_value(f(x), x)`` on the value of the first evaluation, which
        then runs with numpy's floating-point warnings off (``PreparedGradient.checked``).

    Returns
    -------
    numpy.ndarray
        Shape ``(n,)``; zeros if ``f`` does not depend on ``x``.

    Raises
    ------
    ValueError, TypeError
        If ``f`` does not return a real scalar.

    Examples
    --------
    >>> import numpy as np
    >>> forward_gradient(lambda x, xp: xp.sum(x**2), np.array([1.0, 2.0]))
    array([2., 4.])
    """
    n = x.size
    # complex128 at a complex point: the complex step over forward mode (Hessians)
    grad = np.zeros(n, dtype=np.result_type(x.dtype, np.float64))
    for start in range(0, n, chunk):
        stop = min(start + chunk, n)
        # rows start..stop-1 of the identity: the tangent of f along each coordinate
        seed = np.zeros((stop - start, n))
        seed[np.arange(stop - start), np.arange(start, stop)] = 1.0
        if check_value is not None and start == 0:
            with np.errstate(all="ignore"):  # as the separate numpy check evaluates f
                out = f(Dual(x, seed), dual_namespace)
        else:
            out = f(Dual(x, seed), dual_namespace)
        value = out.value if isinstance(out, Dual) else out
        check_scalar_output(np.real(value) if isinstance(out, Dual) else value, "forward")
        if check_value is not None and start == 0:
            check_value(value, x)
        if not isinstance(out, Dual):  # f does not depend on x
            return grad
        grad[start:stop] = out.tangent
    return grad


class ForwardMethod(ExactMethod):
    name = "forward"

    def evaluations(self, dim):
        return -(-dim // CHUNK)  # dual-number evaluations, CHUNK directions each

    def prepare(self, f, dim):
        return PreparedGradient(
            lambda x: forward_gradient(f, x),
            {"passes": self.evaluations(dim)},
            checked=lambda x, check_value: forward_gradient(f, x, check_value=check_value),
        )
