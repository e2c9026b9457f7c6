"""What the pytest plugin hands to tests: the :class:`GradChecker` and the marker's points.

Kept apart from :mod:`diffcompare.oracle.plugin` so that the plugin, which pytest loads
in every run of the environment, imports numpy and the oracle only when a test asks
for them.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable

import numpy as np

from .check import check_grad, check_jacobian
from .result import GradCheckResult, require

__all__ = ["GradChecker", "DerivativeChecker", "derivative_checker", "gradcheck_points"]


class GradChecker:
    """The object the ``gradcheck`` fixture returns: the oracle, shaped for tests.

    Each method takes the arguments of :func:`~diffcompare.check_grad` (or
    :func:`~diffcompare.check_jacobian`).  The ``assert_`` methods raise from the
    method itself, with ``__tracebackhide__`` set, so pytest's traceback ends at the
    line of the test that called them and the message is the oracle's: the mismatching
    components (index, claimed, reference), the point index when several points were
    checked, and a ``Repro: x = ...`` line with the point.

    Examples
    --------
    >>> import numpy as np
    >>> checker = GradChecker()
    >>> checker.check(lambda x: np.sum(x**2), lambda x: 2 * x, [1.0, -3.0]).verdict
    'pass'
    >>> checker.assert_correct(lambda x: np.sum(x**2), lambda x: x, [1.0, -3.0])
    Traceback (most recent call last):
    AssertionError: Gradient check fail: all 2 components mismatch; the claim is 0.5 x the reference...
    ...
    """

    def check(self, f: Callable, grad, x=None, **options) -> GradCheckResult:
        """Return :func:`~diffcompare.check_grad` ``(f, grad, x, **options)``."""
        __tracebackhide__ = True
        return check_grad(f, grad, x, **options)

    def check_jacobian(self, f: Callable, jac, x=None, **options) -> GradCheckResult:
        """Return :func:`~diffcompare.check_jacobian` ``(f, jac, x, **options)``."""
        __tracebackhide__ = True
        return check_jacobian(f, jac, x, **options)

    def assert_correct(
        self, f: Callable, grad, x=None, *, allow_inconclusive: bool = False, **options
    ) -> GradCheckResult:
        """Fail the test unless the gradient check passes, as :func:`~diffcompare.assert_grad_correct`.

        Parameters
        ----------
        f, grad, x, **options
            As for :func:`~diffcompare.check_grad`.
        allow_inconclusive : bool, optional
            Let an inconclusive check (a kink, a noisy ``f``) pass the test.

        Returns
        -------
        GradCheckResult
            The result, for a test that wants to look further.

        Raises
        ------
        AssertionError
            With the oracle's message, on "fail" (and on "inconclusive" unless allowed).
        """
        __tracebackhide__ = True
        return require(check_grad(f, grad, x, **options), allow_inconclusive)

    def assert_jacobian_correct(
        self, f: Callable, jac, x=None, *, allow_inconclusive: bool = False, **options
    ) -> GradCheckResult:
        """Fail the test unless the Jacobian check passes; see :meth:`assert_correct`."""
        __tracebackhide__ = True
        return require(check_jacobian(f, jac, x, **options), allow_inconclusive)


class DerivativeChecker:
    """What the ``hessiancheck``, ``hvpcheck``, ``jvpcheck`` and ``vjpcheck`` fixtures return.

    ``check`` is the checker (:func:`~diffcompare.check_hessian`, ...) with the same
    arguments; ``assert_correct`` fails the test with its message, from the test's own
    line (``__tracebackhide__``).

    Examples
    --------
    >>> import numpy as np
    >>> checker = derivative_checker("hessian")
    >>> checker.check(lambda x, xp: xp.sum(x**3), lambda x: np.diag(6 * x), [1.0, 2.0]).verdict
    'pass'
    """

    def __init__(self, check: Callable):
        self._check = check

    def check(self, f: Callable, claimed, x, **options) -> GradCheckResult:
        """Return the checker's result for ``(f, claimed, x, **options)``."""
        __tracebackhide__ = True
        return self._check(f, claimed, x, **options)

    def assert_correct(
        self, f: Callable, claimed, x, *, allow_inconclusive: bool = False, **options
    ) -> GradCheckResult:
        """Fail the test unless the check passes (or is inconclusive and that is allowed)."""
        __tracebackhide__ = True
        return require(self._check(f, claimed, x, **options), allow_inconclusive)


def derivative_checker(kind: str) -> DerivativeChecker:
    """The :class:`DerivativeChecker` for ``kind``: "hessian", "hvp", "jvp" or "vjp"."""
    from . import products, second_order  # loaded when a test asks for them

    checks = {
        "hessian": second_order.check_hessian,
        "hvp": second_order.check_hvp,
        "jvp": products.check_jvp,
        "vjp": products.check_vjp,
    }
    if kind not in checks:
        raise ValueError(f"kind must be one of {sorted(checks)}; got {kind!r}")
    return DerivativeChecker(checks[kind])


def gradcheck_points(n_points, low, high, dim=None, seed=0) -> np.ndarray:
    """The points the ``gradcheck_points`` marker gives ``grad_point``: seeded, uniform in a box.

    The same draw as ``check_grad(..., box=(low, high), n_points=n_points, seed=seed)``.

    Parameters
    ----------
    n_points : int
        How many points, at least 1.
    low, high : float or array_like
        The box's corners: real scalars (then ``dim`` is required) or 1-d arrays of one
        length; ``low < high`` in every coordinate.
    dim : int, optional
        The dimension; must match the arrays' length when they are given.
    seed : int, optional
        Seeds ``numpy.random.default_rng``: the same seed gives the same points.

    Returns
    -------
    numpy.ndarray
        Shape ``(n_points, dim)``, float64, one point per row.

    Raises
    ------
    TypeError
        If ``n_points``, ``dim`` or ``seed`` is not an integer, or ``low``/``high`` is
        not real.
    ValueError
        If a count is out of range, the corners are not finite, of different lengths,
        not 0-d or 1-d, do not match ``dim``, or ``low >= high`` somewhere.

    Examples
    --------
    >>> gradcheck_points(2, low=0.0, high=1.0, dim=3, seed=0).shape
    (2, 3)
    >>> gradcheck_points(1, low=[0.0, 10.0], high=[0.5, 11.0]).round(2)
    array([[ 0.32, 10.27]])
    """
    count = _integer(n_points, "n_points", minimum=1)
    size = None if dim is None else _integer(dim, "dim", minimum=1)
    seed = _integer(seed, "seed", minimum=0)
    low, high = _corner(low, "low"), _corner(high, "high")
    lengths = {corner.size for corner in (low, high) if corner.ndim == 1}
    if len(lengths) > 1:
        raise ValueError(f"low and high must have the same length; got {low.size} and {high.size}")
    if lengths and size is not None and lengths != {size}:
        raise ValueError(f"dim={size} does not match the length {lengths.pop()} of low/high")
    if not lengths and size is None:
        raise ValueError("dim is required when low and high are both scalars")
    size = lengths.pop() if lengths else size
    low, high = np.broadcast_to(low, (size,)), np.broadcast_to(high, (size,))
    if not np.all(low < high):
        raise ValueError(
            f"low < high must hold in every coordinate; not at index {np.flatnonzero(low >= high).tolist()}"
        )
    rng = np.random.default_rng(seed)
    return low + (high - low) * rng.random((count, size))


def _integer(value, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer; got {value!r} ({type(value).__name__})")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}; got {value!r}")
    return int(value)


def _corner(value, name: str) -> np.ndarray:
    try:
        array = np.asarray(value)
    except Exception as error:  # ragged lists and the like
        raise ValueError(f"{name} must be a real number or a 1-d array; cannot convert it: {error}") from None
    if array.dtype == object or array.dtype.kind not in "iuf":
        raise TypeError(
            f"{name} must be a real number or a 1-d array of them; got {value!r} (dtype {array.dtype})"
        )
    if array.ndim > 1 or array.size == 0:
        raise ValueError(f"{name} must be a real number or a non-empty 1-d array; got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must be finite; got {value!r}")
    return array.astype(np.float64)
