"""Richardson-extrapolated central differences (Ridders' method), with an error estimate.

Taylor, for ``f`` smooth near ``x`` along coordinate ``k``::

    D(h) = (f(x + h e_k) - f(x - h e_k)) / 2h = f' + c_1 h^2 + c_2 h^4 + c_3 h^6 + ...

with ``c_j = f^(2j+1)(x) / (2j+1)!``: the odd terms cancel, so the error is a series in
``t = h^2``.  Differences at several steps are samples of a function of ``t`` whose
value at ``t = 0`` is the derivative; extrapolating the polynomial through ``j + 1``
samples to ``t = 0`` (Neville's scheme) cancels ``c_1`` ... ``c_j`` exactly.  With steps
``h, h / r, h / r^2, ...`` the first extrapolation is ``(r^2 D(h/r) - D(h)) / (r^2 - 1)``,
the next removes ``h^4``, and so on: the tableau ::

    D(h)        T[0][0]
    D(h/r)      T[1][0]  T[1][1]
    D(h/r^2)    T[2][0]  T[2][1]  T[2][2]

where ``T[i][j]`` extrapolates ``T[i][j-1]`` and ``T[i-1][j-1]`` and is in error by about
``c_(j+1)`` times the product of the ``j + 1`` values of ``h^2`` it was built from.

Rounding pulls the other way: each ``f`` value is off by some ``u |f|``, so ``D(h)`` is
off by about ``u |f| / h``, and the extrapolation weights (at most
``(r^2 + 1) / (r^2 - 1)`` per column, 5/3 for ``r = 2``) carry that along.  The
smallest steps are the noisiest, and the best entry is usually in the middle of the
tableau.  It is picked by its error estimate (after Ridders, 1982), the larger of

* the truncation part: the distances from the entry to the two lower-order entries it
  was built from, each an estimate of the same derivative with a larger error;
* the rounding part: ``u F / h`` for each difference, where ``F`` is the largest
  ``|f|`` met so far along the coordinate and ``u`` is :data:`ROUNDING_ULPS` times eps,
  carried through the tableau with the absolute values of the extrapolation weights.
  The distances cannot see rounding: ``T[i][j]`` and ``T[i][j-1]`` share the newest
  difference with weight ~1, so its rounding cancels from their distance, and an
  exactly reproduced entry (a cubic, whose ``c_2, c_3, ...`` vanish) would claim an
  error of 0.  ``F`` rather than ``|f(x +- h)|`` because an ``f`` near one of its zeros
  (``sin`` near pi) is still rounded on the scale of the values around it.

The rounding part grows as the steps shrink, and an entry is chosen only if its
estimate, which is at least its rounding part, beats the best so far.  So once every
new entry's rounding part alone exceeds the best estimate, no later row can win:
rounding has taken over and the tableau stops.  Tests on the estimates themselves
fire too early, in the first rows, before the ``h^2`` series has settled: Ridders' own
(the newest diagonal entry moves away from the previous one) and "the best estimate of
the new row is twice the best so far" both stopped ``arctan(3.57 x)`` at ``x = 0.17``
after three rows with a 4e-4 relative error; the full tableau reaches 6e-15.

All of this assumes the steps are small enough for the Taylor series: ``f`` smooth over
``x +- h``.  A kink or a pole closer to ``x`` than the smallest step breaks it without
the tableau noticing: across a kink the differences are the same at every step (``|x|``
at 1e-300 gives 0 with an estimate of 0), across a pole they grow as ``1 / h^2``, and
the distances between entries are then no measure of the error (``1 / (x - 0.5)`` at
``0.5 + 2^-20`` gave 500 with an estimate of 400; the derivative is -1.1e12).  The
one-sided differences, from one more value ``f(x)``, tell the two apart: their gap ::

    (f(x + h) - f(x)) / h - (f(x) - f(x - h)) / h = h f''(x) + O(h^3)

halves with the step where ``f`` is smooth, stays the same across a kink (it is the
jump in slope) and doubles across a pole.  If, from the last step but one to the last,
the gap does not shrink to :data:`SMOOTH_GAP_RATIO` of itself (beyond its rounding),
the steps never reached the range where ``f`` is smooth and the error estimate is
``inf``; the value is still the tableau's best entry.

The estimate is an estimate, not a bound.  It assumes ``f`` is computed to a few ulp of
the values it takes nearby; an ``f`` that loses more to cancellation inside itself (say
``log(cosh(x))`` near 0, where ``cosh`` rounds on the scale of 1 and the result is
~``x^2 / 2``) makes more rounding than it admits, and the error can exceed the
estimate several times.  Steps far longer than a period of ``f`` (the suite's
``rastrigin``, ``x^2 - 10 cos(2 pi x)``, at ``x ~ 1e6``, where the steps run from 1e5
down to 781) average the oscillation away: the differences see the smooth ``x^2``, whose
gap halves, and no difference of those samples can tell.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable

import numpy as np

from ...ops.fallback import numpy_fallback_namespace
from ...validation import as_point, check_callable, check_positive, check_scalar_output

__all__ = [
    "richardson_difference",
    "Tableau",
    "DEFAULT_INITIAL_STEP",
    "DEFAULT_FACTOR",
    "DEFAULT_LEVELS",
    "ROUNDING_ULPS",
    "SMOOTH_GAP_RATIO",
]

_EPS = float(np.finfo(np.float64).eps)

#: First step relative to ``max(1, |x_k|)``.  The ``t = h^2`` series must already be
#: converging over the first steps, so ``h`` must be well inside the distance over
#: which ``f`` changes (a cosine of ``2 pi x`` turns over in 0.5; a logarithm at 0.15
#: has its singularity 0.15 away); 0.1 is a tenth of the unit scale of the suite's
#: domains.  Too large a first step is not harmless: entries from outside the
#: asymptotic range can agree by chance and win (first steps of 0.5 leave ``ackley``
#: with a 2e-10 relative error, and 1.0 makes ``rastrigin``'s gradient wrong in every
#: digit).  Too small a first step starts near the rounding floor and leaves fewer rows
#: to extrapolate with (0.02: 8e-13 against 3e-13).
DEFAULT_INITIAL_STEP = 0.1

#: Ratio of successive steps.  With 2, each extrapolation removes a ``4^j``-times
#: smaller error term and the rounding weights stay near 1 (at most 5/3).
DEFAULT_FACTOR = 2.0

#: Most rows of the tableau.  The last step is ``0.1 / 2^7`` (~8e-4) of the scale, where
#: a difference's rounding, ~eps ``|f| / h``, is ~3e-13 of ``|f|``: about what the middle
#: rows reach on smooth functions, so the stop above usually comes first (on the suite
#: after 4.7 rows on average; a few coordinates use all 8, and with 10 allowed at most
#: 9, no more accurately).  With 6 rows the steps run out before rounding takes over on
#: ``ackley`` (3e-11 instead of 3e-13).
DEFAULT_LEVELS = 8

#: Relative error of each value of ``f``, in units of eps, taken on the scale of the
#: largest ``|f|`` met along the coordinate.  A short formula is good to an ulp or two,
#: but terms that cancel inside ``f`` leave errors of the terms' size (the suite's
#: ``rational`` is ~0.04 made of two terms near 0.3).  With 8 the estimate covered the
#: true error at every ordinary point of the suite (at most 0.32 of it used; with 1,
#: the error exceeded the estimate 2.2 times).
ROUNDING_ULPS = 8.0


#: Largest ratio of the one-sided differences' gap at the last step to the gap at the
#: step before for which ``f`` counts as smooth over the steps (see the module
#: docstring): the gap halves where ``f`` is smooth and stays or grows across a kink or
#: a pole, so the ratio is about 1/2 or at least 1.  The margin is wide: with 0.55 no
#: estimate at the suite's ordinary points (18 per function) or at 15,000 random points
#: of the test families became ``inf``, and with 0.99 every estimate at a
#: near-singularity hard point that fell short of its error still did.
SMOOTH_GAP_RATIO = 0.75


class Tableau:
    """Neville's extrapolation to ``t = 0`` of differences taken at shrinking steps.

    Each :meth:`add` appends one row: a difference (a number or an array, one entry per
    output of ``f``), the width it was taken over and the rounding part of its error.
    Nodes are ``t = (width / first width)^order``: ``order=2`` for central differences,
    whose error is a series in ``h^2``; ``order=1`` for one-sided ones, a series in
    ``h``.  :attr:`best` and :attr:`error` hold, per entry, the extrapolated value with
    the smallest error estimate so far (see the module docstring).
    """

    def __init__(self, order: int = 2):
        self.order = order
        self.best: np.ndarray | None = None
        self.error: np.ndarray | None = None
        self._first_width = math.nan
        self._nodes: list[float] = []
        self._previous: list[np.ndarray] = []  # row i - 1 of the tableau
        self._previous_rounding: list[np.ndarray] = []  # the rounding part of each of its entries

    def accepts(self, width: float) -> bool:
        """Whether a difference over ``width`` would make a new, smaller node."""
        if not width > 0:
            return False  # the shifted points no longer move in float64
        return not self._nodes or (width / self._first_width) ** self.order < self._nodes[-1]

    def add(self, difference, width: float, rounding) -> bool:
        """Append a row; return False once no later row can beat the best entries."""
        difference = np.asarray(difference, dtype=np.float64)
        rounding = np.asarray(rounding, dtype=np.float64)
        if self.best is None:
            self.best = np.full(difference.shape, math.nan)
            self.error = np.full(difference.shape, math.inf)
            self._first_width = width
        self._nodes.append((width / self._first_width) ** self.order)
        i = len(self._nodes) - 1
        row, row_rounding = [difference], [rounding]
        new_rounding = np.full(difference.shape, math.inf)  # smallest rounding part among candidates
        row_best, row_error = np.full(difference.shape, math.nan), np.full(difference.shape, math.inf)
        with np.errstate(invalid="ignore", over="ignore"):
            for j in range(1, i + 1):
                far, near = self._nodes[i - j], self._nodes[i]
                gap = far - near
                row.append(row[j - 1] + (row[j - 1] - self._previous[j - 1]) * near / gap)
                row_rounding.append((far * row_rounding[j - 1] + near * self._previous_rounding[j - 1]) / gap)
                error = np.maximum(
                    np.maximum(abs(row[j] - row[j - 1]), abs(row[j] - self._previous[j - 1])), row_rounding[j]
                )
                better = (error < self.error) & np.isfinite(row[j])  # not from outside f's domain
                self.best = np.where(better, row[j], self.best)
                self.error = np.where(better, error, self.error)
                new_rounding = np.minimum(new_rounding, row_rounding[j])
                better = (error < row_error) & np.isfinite(row[j])
                row_best, row_error = np.where(better, row[j], row_best), np.where(better, error, row_error)
            # A best entry that the new row contradicts, far beyond both estimates, came
            # from steps where the differences only looked smooth: sin(1000 x) at steps
            # 0.1 / 2^i has 1000 h near multiples of 2 pi, and those rows agree with one
            # another to 1e-12 on a wrong value.  Smaller steps are closer to the limit.
            # "Far beyond" (8 times the row's own estimate): rows of a noisy f also
            # contradict the best entry, but by about their own, growing, uncertainty.
            contradicted = abs(row_best - self.best) > 8.0 * row_error + self.error
            self.best = np.where(contradicted, row_best, self.best)
            self.error = np.where(contradicted, row_error, self.error)
        self._previous, self._previous_rounding = row, row_rounding
        return not (i > 0 and np.all(new_rounding >= self.error))


#: The ``xp`` richardson evaluates ``f`` with: the op table, then numpy for every other name.
richardson_namespace = numpy_fallback_namespace("richardson")


def _partial_derivative(
    f: Callable, x: np.ndarray, f_at_x: float, k: int, xp, initial_step: float, factor: float, levels: int
) -> tuple[float, float]:
    """Ridders' tableau along coordinate ``k``: (estimate, error estimate)."""
    shifted = x.copy()
    xk = x[k]
    tableau = Tableau(order=2)
    size = 0.0  # F, the largest |f| so far
    gap, smooth = math.nan, False  # the one-sided differences' gap; whether it shrank last
    for i in range(levels):
        h = initial_step * max(1.0, abs(xk)) / factor**i
        shifted[k] = xk + h
        upper = shifted[k]
        f_upper = float(check_scalar_output(f(shifted, xp), xp.backend))
        shifted[k] = xk - h
        lower = shifted[k]
        f_lower = float(check_scalar_output(f(shifted, xp), xp.backend))
        shifted[k] = xk
        # The distance between the points actually evaluated, as in central_difference:
        # x_k +- h is rounded, and 2h would add an error of order eps |x_k| / h.
        width = float(upper - lower)
        if not tableau.accepts(width):
            break  # x_k +- h no longer moves in float64, or not to a distinct step
        size = max(size, abs(f_upper), abs(f_lower))
        rounding = ROUNDING_ULPS * _EPS * 2.0 * size / width
        # Three values each off by u max(F, |f(x)|) put the gap off by up to 4 of them over
        # a one-sided step of width / 2.  A NaN gap (a step outside f's domain, or f(x)
        # not finite) is not smooth.
        previous, gap = gap, (f_upper - f_at_x) / (upper - xk) - (f_at_x - f_lower) / (xk - lower)
        gap_rounding = ROUNDING_ULPS * _EPS * 8.0 * max(size, abs(f_at_x)) / width
        smooth = bool(abs(gap) <= SMOOTH_GAP_RATIO * abs(previous) + gap_rounding)
        if not tableau.add((f_upper - f_lower) / width, width, rounding):
            break
    if tableau.best is None:
        return math.nan, math.inf
    return float(tableau.best), float(tableau.error) if smooth else math.inf


def richardson_difference(
    f: Callable,
    x,
    xp=richardson_namespace,
    initial_step: float = DEFAULT_INITIAL_STEP,
    factor: float = DEFAULT_FACTOR,
    levels: int = DEFAULT_LEVELS,
) -> tuple[np.ndarray, np.ndarray]:
    """Gradient of ``f(x, xp)`` by extrapolated central differences, and its error estimate.

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
    initial_step : float, optional
        The first step relative to ``max(1, |x_k|)``.
    factor : float, optional
        Each step is the previous one divided by ``factor`` (> 1).
    levels : int, optional
        Most rows of the tableau (>= 2).  Each row costs 2 evaluations of ``f`` per
        coordinate, and ``f(x)`` is evaluated once, so at most ``2 * levels * n + 1`` in
        all; a coordinate stops early once rounding takes over.

    Returns
    -------
    gradient : numpy.ndarray, shape (n,)
    error_estimate : numpy.ndarray, shape (n,)
        Estimated absolute error of each component; ``inf`` (with a NaN component)
        where no extrapolated entry was finite, and ``inf`` (with the best entry) where
        the steps never reached the range where ``f`` is smooth (a kink or a pole
        closer than the smallest step; see the module docstring).

    Raises
    ------
    TypeError
        If ``f`` is not callable, ``x`` is not a float array, ``initial_step`` or
        ``factor`` is not a real number, ``levels`` is not an integer, or ``f`` returns
        something other than a number.
    ValueError
        If ``x`` is not a finite 1-d vector, ``initial_step`` is not positive and
        finite, ``factor <= 1``, ``levels < 2``, or ``f`` does not return a scalar.

    Examples
    --------
    >>> gradient, error = richardson_difference(lambda x, xp: xp.sum(xp.exp(x)), [0.0, 1.0])
    >>> gradient
    array([1.        , 2.71828183])
    >>> bool(np.all(np.abs(gradient - [1.0, np.e]) <= error)), bool(np.all(error < 1e-11))
    (True, True)
    """
    check_callable(f)
    x = as_point(x)
    initial_step = check_positive(initial_step, "initial_step")
    factor = check_positive(factor, "factor")
    if factor <= 1.0:
        raise ValueError(f"factor must be greater than 1; got {factor!r}")
    if isinstance(levels, bool) or not isinstance(levels, numbers.Integral):
        raise TypeError(f"levels must be an integer; got {type(levels).__name__}")
    if levels < 2:
        raise ValueError(f"levels must be at least 2 (one extrapolation); got {levels}")
    f_at_x = float(check_scalar_output(f(x.copy(), xp), xp.backend))
    gradient = np.empty_like(x)
    error = np.empty_like(x)
    for k in range(x.size):
        gradient[k], error[k] = _partial_derivative(f, x, f_at_x, k, xp, initial_step, factor, int(levels))
    return gradient, error
