"""Reference derivatives for the oracle, each with its own error estimate.

Every reference is a derivative along a line ``t -> f(x + t d)`` at ``t = 0``: along a
coordinate (``d = e_k``) it is one column of the Jacobian, along a random direction it
is ``J d``.  ``f`` is vector-valued here (shape ``(m,)``; a scalar is ``m = 1``), so a
reference is an ``(m,)`` value with an ``(m,)`` absolute error estimate.

* :func:`line_derivative`: Ridders' extrapolated differences (see
  :mod:`diffcompare.methods.richardson.ladder` for the tableau and its error estimate), central or
  one-sided.  The two one-sided ones, compared, are the kink detector.
* :func:`complex_derivative`: the complex step, exact up to rounding when ``f`` is
  analytic and carries complex input through (see :mod:`diffcompare.methods.complex_step.step`).
* :func:`ad_jacobian`: the reverse-mode tape, for ``f(x, xp)`` functions.
"""

from __future__ import annotations

import math
import warnings
from collections import deque
from collections.abc import Callable

import numpy as np
from numpy.exceptions import ComplexWarning

from ..methods.richardson.ladder import SMOOTH_GAP_RATIO, Tableau
from ..methods.tape.method import tape_gradient

__all__ = [
    "Objective",
    "line_derivative",
    "complex_derivative",
    "ad_jacobian",
    "INITIAL_STEP",
    "MAX_LEVELS",
    "COMPLEX_STEP",
    "ROUNDING_ULPS",
    "NOISE_SIGMAS",
]

#: First step along a line, in units of the direction, which is scaled per coordinate
#: by ``max(1, |x_k|)``: a tenth of the coordinate's scale, as in
#: :data:`diffcompare.methods.richardson.ladder.DEFAULT_INITIAL_STEP`.
INITIAL_STEP = 0.1

#: Most rows of a ladder of steps halving from :data:`INITIAL_STEP`.  The rows stop as
#: soon as rounding takes over (usually after 4 to 8 rows), so the bound matters only
#: where ``f`` varies on a scale far below the coordinate's: ``sin(1000 x)`` needs steps
#: under 1e-4 (row 11), ``|x|`` 1e-7 away from its kink steps under 1e-7 (row 21), a
#: function of ``x / 1e-8`` steps under 1e-9 (row 28).  60 rows reach 2^-59 / 10, about
#: 2e-19 of the scale, below which ``x + h`` rounds back to ``x``.
MAX_LEVELS = 60

#: Rows whose ``|f|`` sets the rounding scale of a difference.  ``|f|`` at the current
#: and the two previous steps: values met at much larger steps (``f`` of ``x / 1e-8`` is
#: ~1e28 at the first step) would inflate the rounding part for good and stop the
#: ladder before it reaches the scale where ``f`` is smooth.
WINDOW = 3

#: Relative error of each value of ``f``, in units of its eps, on the scale of ``|f|``
#: nearby plus the argument rounding (see ``leverage`` in :func:`line_derivative`).
#: Half of :data:`diffcompare.methods.richardson.ladder.ROUNDING_ULPS`, which also had to cover
#: argument rounding; the tolerance multiplies estimates by
#: :data:`~diffcompare.oracle.tolerance.SAFETY` on top.  Near a kink, where steps must
#: be small, this is what lets a relative error of 1e-6 show: ``|x|`` 1e-7 from its
#: kink next to terms of size 6 has an estimated uncertainty of 2.6e-7.
ROUNDING_ULPS = 4.0

#: Standard deviations of measured noise counted as the rounding of one value of ``f``.
#: A ladder picks the entry with the smallest estimate among a dozen, so one sigma
#: would be beaten by chance; and the measured sigma, from nine samples, is itself low
#: by up to a factor of 1.9 in 1 table of 20.  5 sigma-hat covers 2.6 true sigma then.
NOISE_SIGMAS = 5.0

#: Imaginary step of the complex step, relative to the direction (see
#: :mod:`diffcompare.methods.complex_step.step`: any value from ~1e-150 to ~1e-20 gives the same
#: digits).
COMPLEX_STEP = 1e-100


#: A value is evidence of a narrow type only with more significant bits than this.
EVIDENCE_BITS = 8


def _significant_bits(value: float) -> int:
    """Bits from the leading one to the last one of ``value``'s float64 significand."""
    if value == 0.0:
        return 0
    mantissa = int(abs(math.frexp(value)[0]) * 2.0**53)
    return 53 - ((mantissa & -mantissa).bit_length() - 1)


class Objective:
    """``f`` as a black box ``x -> (m,) float64``, counting its calls.

    ``shape`` is the shape of ``f(x)`` (``()`` for a scalar); ``eps`` is the machine
    epsilon of the dtype ``f`` computes in (float32 output is judged as float32).
    """

    def __init__(self, f: Callable, shape: tuple[int, ...], eps: float):
        self.f = f
        self.shape = shape
        self.eps = eps
        self.evaluations = 0
        #: Absolute noise of each output measured near x (shape (m,)), None until measured.
        self.noise: np.ndarray | None = None
        #: Set when float64 values turned out to be float32 or float16 numbers.
        self.carrier = ""
        self._narrow = [np.float16, np.float32] if eps < float(np.finfo(np.float32).eps) else []
        self._seen: set[float] = set()

    def watch(self, value: np.ndarray, x: np.ndarray) -> None:
        """Recognise an ``f`` computed in float32 (or float16) whatever type carries it.

        ``loss.item()`` and ``float(jax_array)`` return Python floats that are float32
        numbers.  A float64 computation lands on a float32 number with probability
        2^-29 per value, so three distinct values that all do, at points ``x`` that are
        not float32 numbers themselves, are the narrow type's: from then on the
        differences are rounded on its eps.  (At float32 points, such as ``0 +- 2^-13``,
        a piecewise linear ``f`` gives float32 values in float64 too: no evidence.)
        """
        if not self._narrow:
            return
        with np.errstate(all="ignore"):
            if np.all(x.astype(np.float32) == x):
                return
        with np.errstate(all="ignore"):
            self._narrow = [kind for kind in self._narrow if np.all(value.astype(kind) == value)]
        # Only values with more bits than a short cancellation leaves count: a gradient
        # at an optimum, -5.55e-16 = -5 * 2^-53, is a float32 number whatever computed it.
        found = (float(v) for v in value.ravel()[:3] if np.isfinite(v))
        self._seen.update(v for v in found if _significant_bits(v) > EVIDENCE_BITS)
        if self._narrow and len(self._seen) >= 3:
            kind = np.dtype(self._narrow[0])
            self.eps = float(np.finfo(kind).eps)
            self.carrier = f"every value of f is a {kind} number, so f is judged as {kind}"
            self._narrow = []

    @classmethod
    def probe(cls, f: Callable, x: np.ndarray, scalar: bool) -> tuple[Objective, np.ndarray]:
        """Evaluate ``f(x)`` once, check what it returns and build the objective."""
        value = np.asarray(f(x.copy()))
        if value.dtype == object or value.dtype.kind not in "fiub":
            raise TypeError(
                f"f must return real floating-point values; it returned {type(value).__name__} "
                f"of dtype {value.dtype}"
            )
        if scalar and value.shape != ():
            raise ValueError(
                f"f must return a scalar for check_grad; it returned shape {value.shape} "
                "(use check_jacobian for vector-valued f)"
            )
        if not scalar and value.ndim != 1:
            raise ValueError(f"f must return a 1-d array for check_jacobian; it returned shape {value.shape}")
        if not np.all(np.isfinite(value)):
            raise ValueError(f"f(x) must be finite at the point checked; it returned {value}")
        kind = value.dtype if value.dtype.kind == "f" else np.dtype(np.float64)
        objective = cls(f, value.shape, float(np.finfo(kind).eps))
        objective.evaluations = 1
        at_x = value.astype(np.float64).reshape(-1)
        objective.watch(at_x, x)
        return objective, at_x

    def __call__(self, x: np.ndarray) -> np.ndarray:
        self.evaluations += 1
        with np.errstate(all="ignore"):  # steps may leave f's domain: NaN, not a warning
            value = np.asarray(self.f(x), dtype=np.float64)
        if value.shape != self.shape:
            raise ValueError(f"f returned shape {value.shape} at a nearby point, but {self.shape} at x")
        value = value.reshape(-1)
        self.watch(value, x)
        return value


def line_derivative(
    objective: Objective,
    x: np.ndarray,
    direction: np.ndarray,
    initial_step: float = INITIAL_STEP,
    side: int = 0,
    f_at_x: np.ndarray | None = None,
    levels: int = MAX_LEVELS,
    conditioning: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Extrapolated derivative of ``f(x + t d)`` at ``t = 0`` and its error estimate.

    ``side`` 0 takes central differences (error series in ``h^2``); +1 and -1 take
    one-sided differences to the right and to the left (series in ``h``).  ``f_at_x``
    is required for one-sided ladders; given to a central one, it lets the ladder
    watch the gap between the one-sided differences (see below).  Where ``direction``
    is a single coordinate, the width of each difference is the distance between the
    points actually evaluated (``x_k +- h`` is rounded).  Entries never finite give a
    NaN value with an infinite error.

    The rounding part of each difference's error is the larger of
    :data:`ROUNDING_ULPS` ulps of the ``|f|`` nearby and :data:`NOISE_SIGMAS` times the
    noise measured in ``f`` (``objective.noise``), when it has been.

    With ``f_at_x``, the ladder watches the gap between one-sided differences,
    ``(f(x + h) - 2 f(x) + f(x - h)) / h`` (central) or ``(f(x + 2h) - 2 f(x + h) +
    f(x)) / h`` (one-sided), which halves with ``h`` where ``f`` is smooth.  Where it
    does not shrink to :data:`~diffcompare.methods.richardson.ladder.SMOOTH_GAP_RATIO`
    of itself beyond its rounding, the steps are still longer than the scale on which
    ``f`` varies (a pole 1e-6 away, a kink 1e-9 away, an oscillation of period 6 at
    ``x = 1000`` where the first step is 100): a second tableau of the same rows
    starts afresh there, and its value is taken once it settles.  So the steps follow
    ``f``'s local scale, not only ``max(1, |x|)``, at no extra evaluation.  Where it
    never settles (a kink at ``x`` itself, whose gap keeps its size at every step) the
    tableau of all rows is taken: central differences then see the mean of the two
    slopes.  With a ladder cut short (``levels`` below :data:`MAX_LEVELS`: the quick
    stage of the oracle, ``check_hvp``'s budget) a gap that does not shrink by the last
    row makes the error estimate infinite: the rows never reached ``f``'s scale.

    ``conditioning`` (central, with ``f_at_x``) adds to the error what the derivative
    itself cannot escape in floating point: any program that computes it at ``x``
    rounds intermediate values such as ``2 pi x`` to within ``eps`` of themselves,
    which is the derivative taken at ``x`` moved by ``eps |x_i|``, off by ``eps |x_i|``
    times the next derivative.  Along ``d`` that is ``eps`` times the leverage below
    times the curvature ``gap / (width / 2)`` of the last row whose gap shrank.  For
    the second order, where ``f`` is a gradient: rastrigin's Hessian at 1e6 is
    ``2 + 395 cos(2 pi x)``, and ``cos`` of a rounded ``2 pi x`` puts any float64
    Hessian 1e-7 off the exact 2.0000001 there.
    """
    (coordinates,) = np.nonzero(direction)
    single = coordinates[0] if coordinates.size == 1 else None
    # Rounding x + h d moves each coordinate by up to eps |x_i|, which moves f by
    # eps |x_i| |df/dx_i|: for sin(1000 x) at x = 0.7 that is 700 eps |f'| / 1000,
    # far above eps |f|.  Relative to the derivative along d, D, the moving
    # coordinates contribute about eps |D| max|x_i / d_i| each, sqrt(k) of them for k
    # moving coordinates whose terms add with random signs.
    leverage = math.sqrt(coordinates.size) * float(np.max(np.abs(x[coordinates] / direction[coordinates])))
    noise = 0.0 if objective.noise is None else NOISE_SIGMAS * objective.noise
    watch = f_at_x is not None
    order = 2 if side == 0 else 1
    # Two tableaux of the same rows: ``plain`` keeps them all, ``local`` starts afresh
    # whenever the gap does not shrink, so that it holds only rows where f is smooth.
    plain, local = Tableau(order), Tableau(order)
    plain_going = True
    recent: deque[float] = deque(maxlen=WINDOW)
    gap, smooth, far, last_width = None, True, None, math.inf
    bend = None  # |curvature| along d at the last row whose gap shrank
    for i in range(levels):
        h = initial_step / 2.0**i
        upper = x + h * direction if side >= 0 else x
        lower = x - h * direction if side <= 0 else x
        if single is not None:
            width = float(upper[single] - lower[single]) / direction[single]
        else:
            width = h * (2.0 if side == 0 else 1.0)
        if not 0 < width < last_width:
            break  # x + h d no longer moves, or not to a distinct step
        last_width = width
        f_upper = objective(upper) if side >= 0 else f_at_x
        f_lower = objective(lower) if side <= 0 else f_at_x
        # Values from outside f's domain (NaN) say nothing about its rounding scale.
        values = np.abs(np.concatenate([f_upper, f_lower]))
        recent.append(float(np.max(values, initial=0.0, where=np.isfinite(values))))
        size = max(recent)
        difference = (f_upper - f_lower) / width
        with np.errstate(invalid="ignore", over="ignore"):  # an infinite scale judges nothing
            scale = size + leverage * np.where(np.isfinite(difference), np.abs(difference), 0.0)
        rounding = np.maximum(ROUNDING_ULPS * objective.eps * scale, noise)
        if watch:
            # Three values, each off by the rounding above, put the gap off by up to
            # four of them over a one-sided step of width / 2 (central), or of width
            # (one-sided, from f(x), f(x +- h) and f(x +- 2h) of the row before).
            near = f_upper if side > 0 else f_lower
            previous = gap
            if side == 0:
                gap = (f_upper - 2.0 * f_at_x + f_lower) / (width / 2.0)
            elif far is not None:
                gap = (far - 2.0 * near + f_at_x) / width
            far = near
            slack = 8.0 * (rounding + ROUNDING_ULPS * objective.eps * np.abs(f_at_x)) / width
            if previous is not None:
                with np.errstate(invalid="ignore"):
                    smooth = bool(np.all(np.abs(gap) <= SMOOTH_GAP_RATIO * np.abs(previous) + slack))
                if not smooth:
                    local = Tableau(order)  # the earlier steps were longer than f's scale
                elif side == 0:
                    bend = np.abs(gap) / (width / 2.0)
        if plain_going:
            plain_going = plain.add(difference, width, 2.0 * rounding / width)
        local_going = local.add(difference, width, 2.0 * rounding / width)
        if not local_going and (_settled(local) or not plain_going):
            break
    # The local tableau once it has settled (an extrapolated entry since its last
    # start), unless the plain one agrees with it more precisely: on a kink at x,
    # whose gap keeps its size at every step, the local one starts afresh until
    # rounding hides the gap and settles on the same mean of the two slopes that the
    # plain one found at long steps, far less precisely.
    tableau = plain
    if _settled(local):
        with np.errstate(invalid="ignore"):
            same = np.abs(local.best - plain.best) <= 2.0 * (local.error + plain.error)
        if not (np.all(same) and np.all(plain.error < local.error)):
            tableau = local
    if tableau.best is None:
        size = int(np.prod(objective.shape, dtype=int))
        return np.full(size, math.nan), np.full(size, math.inf)
    if levels < MAX_LEVELS and watch and not smooth:
        return tableau.best, np.full_like(tableau.error, math.inf)
    if conditioning and bend is not None:
        with np.errstate(invalid="ignore", over="ignore"):
            inherent = objective.eps * leverage * np.where(np.isfinite(bend), bend, 0.0)
        return tableau.best, tableau.error + inherent
    return tableau.best, tableau.error


def _settled(tableau: Tableau) -> bool:
    """Whether every output has an extrapolated entry with a finite error estimate."""
    return tableau.best is not None and bool(np.all(np.isfinite(tableau.error)))


def complex_derivative(
    objective: Objective, x: np.ndarray, direction: np.ndarray
) -> tuple[np.ndarray, np.ndarray] | str:
    """The complex step ``Im f(x + i h d) / h``, or the reason ``f`` cannot take it.

    The error estimate is :data:`ROUNDING_ULPS` ulps of the
    value: the step adds no truncation worth counting (``h^2 f''' / 6`` at
    ``h = 1e-100``), so what is left is the rounding of ``f``'s own operations.
    """
    z = x + 1j * COMPLEX_STEP * direction
    objective.evaluations += 1
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("error", ComplexWarning)
        try:
            value = np.asarray(objective.f(z))
        except ComplexWarning:
            return "f casts complex input to real"
        except Exception as error:  # f is free to refuse complex input
            return f"f raised {type(error).__name__} on complex input: {error}"
    if value.dtype.kind != "c":
        return f"f returned a real {value.dtype} for complex input: the imaginary part was dropped"
    if value.shape != objective.shape:
        return f"f returned shape {value.shape} for complex input"
    derivative = value.imag.reshape(-1) / COMPLEX_STEP
    if not np.all(np.isfinite(derivative)):
        return "the complex step is not finite"
    return derivative, ROUNDING_ULPS * np.finfo(np.float64).eps * abs(derivative)


def ad_jacobian(f: Callable, x: np.ndarray, m: int | None) -> np.ndarray:
    """Jacobian of ``f(x, xp)`` by the tape: one reverse pass per output, shape (m, n).

    ``m`` is None for a scalar ``f``.  Raises whatever the tape raises
    (``NotImplementedError`` naming an op without a rule).
    """
    if m is None:
        return tape_gradient(f, x)[None, :]
    rows = [tape_gradient(lambda z, xp, i=i: f(z, xp)[i], x) for i in range(m)]
    return np.array(rows, dtype=np.float64).reshape(m, x.size)
