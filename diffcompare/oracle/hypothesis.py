"""The oracle in property tests: a strategy of points and a verdict-to-hypothesis bridge.

``points(dim, low, high)`` draws float64 points from a box and shrinks them as
hypothesis shrinks floats (toward 0, integers, short fractions), optionally keeping
every coordinate away from given kinks.  ``require_conclusive(result)`` turns a verdict
into what hypothesis understands: "fail" is an ``AssertionError`` carrying the report,
"inconclusive" rejects the example (``hypothesis.assume(False)``), so a point the
references cannot judge is neither a false alarm nor a silent pass.

Imported on first use: hypothesis is a test dependency, never needed by the oracle itself.

>>> import numpy as np
>>> from hypothesis import given, settings
>>> from diffcompare import check_grad
>>> @settings(max_examples=5, database=None, derandomize=True)
... @given(points(2, -3.0, 3.0))
... def test_sin(x):
...     require_conclusive(check_grad(lambda x: np.sum(np.sin(x)), np.cos, x))
>>> test_sin()
"""

from __future__ import annotations

import numbers

import numpy as np

from .result import GradCheckResult

__all__ = ["points", "require_conclusive"]


def _bounds(value, name: str, dim: int) -> np.ndarray:
    array = np.asarray(value)
    if array.dtype.kind not in "iuf":
        raise TypeError(f"{name} must be a real number or array of shape ({dim},); got {array.dtype}")
    array = np.broadcast_to(array.astype(np.float64), (dim,)) if array.ndim == 0 else array.astype(np.float64)
    if array.shape != (dim,):
        raise ValueError(f"{name} must be a number or have shape ({dim},); got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must be finite")
    return array


def points(dim: int, low=-10.0, high=10.0, *, avoid=(), margin: float = 1e-2):
    """A hypothesis strategy of float64 points in the box ``[low, high]``.

    Parameters
    ----------
    dim : int
        Components per point; each point is a ``numpy.ndarray`` of shape ``(dim,)``.
    low, high : float or array_like
        The box's corners (a number for every coordinate, or shape ``(dim,)``).
    avoid : float or sequence of float, optional
        Kinks of an elementwise ``f`` (0 for ``abs`` or ``relu``): every coordinate is
        kept at least ``margin`` away from each of them.
    margin : float, optional
        The half-width of the excluded interval around each kink.  A central difference
        that straddles a kink sees neither side's slope; the oracle then says
        "inconclusive", which :func:`require_conclusive` rejects, so a margin of the
        order of the oracle's first step (0.1) keeps such rejections rare.

    Returns
    -------
    hypothesis.strategies.SearchStrategy
        Finite points (no NaN, no infinity) that shrink coordinate by coordinate toward
        the simplest value in the allowed set.

    Raises
    ------
    TypeError
        If ``dim`` is not an integer, or a bound or ``avoid`` is not real numbers.
    ValueError
        If ``dim < 1``, a bound or kink is not finite, ``low >= high`` somewhere,
        ``margin`` is negative, or the kinks leave nothing of a coordinate's interval.

    Examples
    --------
    >>> import numpy as np
    >>> from hypothesis import find
    >>> x = find(points(3, -1.0, 1.0, avoid=[0.0], margin=0.25), lambda x: x[0] > 0)
    >>> x.dtype, bool(np.all(np.abs(x) >= 0.25)), bool(0.25 <= x[0] <= 1.0)
    (dtype('float64'), True, True)
    """
    from hypothesis import strategies as st

    if isinstance(dim, bool) or not isinstance(dim, numbers.Integral):
        raise TypeError(f"dim must be an integer; got {type(dim).__name__}")
    if dim < 1:
        raise ValueError(f"dim must be at least 1; got {dim}")
    lows, highs = _bounds(low, "low", dim), _bounds(high, "high", dim)
    if not np.all(lows < highs):
        raise ValueError("low must be below high in every coordinate")
    if (
        isinstance(margin, bool)
        or not isinstance(margin, numbers.Real)
        or not np.isfinite(margin)
        or margin < 0
    ):
        raise ValueError(f"margin must be a non-negative finite number; got {margin!r}")
    kinks = np.asarray(avoid)
    if kinks.dtype == object or (kinks.size and kinks.dtype.kind not in "iuf"):
        raise TypeError(f"avoid must be a number or a sequence of numbers; got {avoid!r}")
    kinks = np.sort(kinks.astype(np.float64).ravel())
    if not np.all(np.isfinite(kinks)):
        raise ValueError("avoid must hold finite numbers")

    coordinates = []
    for i in range(dim):
        # The allowed set of coordinate i is the box interval minus (kink - margin, kink +
        # margin) for each kink: a union of closed intervals, drawn by one_of so that no
        # example is thrown away by a filter (and shrinking goes toward the first piece).
        pieces, start = [], float(lows[i])
        for kink in kinks:
            end = float(kink) - margin
            if end >= start and start <= highs[i]:
                pieces.append((start, min(end, float(highs[i]))))
            start = max(start, float(kink) + margin)
        if start <= highs[i]:
            pieces.append((start, float(highs[i])))
        if not pieces:
            raise ValueError(f"avoid and margin leave no value of coordinate {i} in [{lows[i]}, {highs[i]}]")
        coordinates.append(
            st.one_of(*(st.floats(a, b, allow_nan=False, allow_infinity=False, width=64) for a, b in pieces))
        )
    return st.tuples(*coordinates).map(lambda values: np.array(values, dtype=np.float64))


def require_conclusive(result: GradCheckResult) -> GradCheckResult:
    """Pass a passing result through; reject an inconclusive one; raise on a failure.

    The name says the contract: a property test asks for a conclusive verdict, and an
    example whose verdict is "inconclusive" (a kink, noise, references that disagree) is
    not evidence either way, so it is rejected with ``hypothesis.assume(False)`` rather
    than counted as a pass or a failure.  Hypothesis records it as an event and reports
    the test unsatisfiable if too many examples are rejected.

    Parameters
    ----------
    result : GradCheckResult
        Any verifier's result (``check_grad``, ``check_vjp``, ``check_hessian``, ...).

    Returns
    -------
    GradCheckResult
        ``result`` itself, when its verdict is "pass".

    Raises
    ------
    TypeError
        If ``result`` is not a ``GradCheckResult``.
    AssertionError
        On "fail", with the report (``result.message()``).
    hypothesis.errors.UnsatisfiedAssumption
        On "inconclusive" (by ``hypothesis.assume`` inside a ``@given`` test, which
        rejects the example; raised directly elsewhere).
    """
    if not isinstance(result, GradCheckResult):
        raise TypeError(f"result must be a GradCheckResult; got {type(result).__name__}")
    if result.verdict == "fail":
        raise AssertionError(result.message())
    if result.verdict == "inconclusive":
        import hypothesis
        from hypothesis.control import currently_in_test_context
        from hypothesis.errors import UnsatisfiedAssumption

        if not currently_in_test_context():  # what assume(False) raises, without its warning
            raise UnsatisfiedAssumption(result.reason)
        hypothesis.event(f"{result.check} check inconclusive")
        hypothesis.assume(False)
    return result
