"""Checkers for second-order derivatives: ``check_hessian`` and ``check_hvp``.

The reference for column ``k`` of the Hessian is the derivative of the **exact
gradient** along ``e_k``, not a second difference of ``f``.  A second difference
divides the rounding of ``f`` by ``h^2``: ``eps |f| / h^2`` against a truncation of
``h^2 f'''' / 12``, so at best ``sqrt(eps)``, 1e-8 of the scale, before any
extrapolation.  A first difference of a gradient exact to rounding has truncation
``h^2 g''' / 6`` and rounding ``eps |g| / h``, best near ``h ~ eps^(1/3)`` at 1e-11; the
oracle's Ridders ladder (:func:`~diffcompare.oracle.references.line_derivative`) picks
the step per column from that balance and extrapolates the ``h^2`` series away, with
an error estimate of its own.  That estimate sets each entry's tolerance
(:mod:`.entries`), so a correct Hessian at a hard point is not failed, and where it is
too loose to see a relative error of 1e-6 the verdict is "inconclusive", never "pass".

The exact gradient is the tape's, for ``f(x, xp)``.  A black-box ``f`` (or one the
tape cannot follow) that carries complex input through gets the complex-step gradient
``Im f(x + i h e_k) / h``, exact to rounding, once it agrees with differences at ``x``;
a failure against it must be confirmed by the reference from differences.  Otherwise
the gradient is central differences of ``f`` with a fixed step
``max(eps^(1/3), sqrt(eps) |x_k|)``: smooth in ``x`` but noisy at the ``eps^(2/3)``
level; that noise is measured (:mod:`.noise`) and widens the tolerance, its truncation
gets an error floor, and a failure must be confirmed by a second difference gradient
of shorter steps.

Fast mode checks ``H d`` along a few seeded random directions within
:data:`HVP_BUDGET` gradients and, on a failure, names the wrong entry from one more
ladder (:func:`_pinpoint`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from ..methods.tape.method import tape_gradient
from ..validation import as_point, check_callable, check_finite_value, takes_namespace
from .entries import Judged, check_options, claimed_array, judge, result_from, seeded_direction
from .localise import localise
from .noise import measure_noise
from .references import (
    INITIAL_STEP,
    MAX_LEVELS,
    ROUNDING_ULPS,
    Objective,
    complex_derivative,
    line_derivative,
)
from .result import GradCheckResult, Mismatch, relative, require
from .tolerance import RESOLUTION, SAFETY, Tolerance

__all__ = [
    "check_hessian",
    "check_hvp",
    "assert_hessian_correct",
    "assert_hvp_correct",
    "GradientSource",
    "HVP_BUDGET",
    "HESSIAN_FULL_UP_TO",
]

_EPS = float(np.finfo(np.float64).eps)

#: Gradient evaluations a fast-mode ``check_hvp`` or ``check_hessian`` spends at most,
#: at any ``n``, with the tape's gradient: one at ``x``, two per row of each
#: direction's ladder, and what is left for the ladder that names a wrong entry.
HVP_BUDGET = 40

#: Step of the fallback's central-difference gradient (unless ``sqrt(eps) |x_k|`` is
#: larger, so that ``x_k + h`` moves by ~1e8 ulps): truncation ``h^2 f''' / 6`` equals
#: rounding ``eps |f| / h`` near ``h = eps^(1/3)``.
FALLBACK_STEP = _EPS ** (1.0 / 3.0)


#: ``check_hessian``'s "auto" mode is "full" up to this ``n``.  A full check costs
#: about 8 gradients a column, ``8 n`` in all (240 here, some 30 ms for a gradient of
#: ~0.1 ms); beyond it "fast" keeps to :data:`HVP_BUDGET` and still names a wrong entry.
HESSIAN_FULL_UP_TO = 30

#: The least error of a reference, relative to the largest entry of its row of ``H``
#: (or to its component of ``H d``).  Extrapolated differences of an exact gradient reach about 1e-12 of that
#: scale, and Ridders' estimate of what is left can be optimistic: for scikit-learn's
#: multinomial loss at its optimum, a column came out 2.3e-12 off (the tape's
#: gradient: 8e-13) where it estimated 1.6e-13, and the shipped Hessian, right to
#: 6e-17, was failed.  1e-10 is 1e-4 of the least error the checks promise to see
#: (1e-6 of an entry 1e-3 of the scale).
REFERENCE_FLOOR = 1e-10

#: References exact to rounding, whose mismatches need no second opinion.
EXACT_REFERENCES = ("tape", "given_gradient")


class GradientSource:
    """The gradient of ``f`` at nearby points, as a counted vector-valued objective.

    ``reference`` is ``"given_gradient"`` for a caller's ``grad`` that ``check_grad``
    does not fail at ``x``, else ``"tape"`` when the tape traces ``f(x, xp)``.  Otherwise it is
    ``"complex_step_gradient"`` where ``f`` carries complex input through and that
    gradient agrees with central differences at ``x`` (exact to rounding, as the
    tape's), else ``"central_gradient"`` (the fallback, its measured noise set on the
    objective); ``notes`` say why.
    """

    def __init__(
        self, f, x: np.ndarray, seed: int, step_factor: float = 1.0, complex_step: bool = True, grad=None
    ):
        self.notes: list[str] = []
        if grad is not None:
            objective = _given_gradient(f, grad, x, seed, self.notes)
            if objective is not None:
                self.reference = "given_gradient"
                self.objective = objective
                self.at_x = objective(x)
                return
        self.reference = "tape"
        xp_form = takes_namespace(f)
        if xp_form:
            check_finite_value(f, x)
            why = _tape_failure(f, x)
            if why is None:
                self.objective = Objective(lambda z: tape_gradient(f, z), (x.size,), _EPS)
                self.at_x = self.objective(x)
                return
            from ..ops.fallback import numpy_fallback

            def value(z):
                return f(z, numpy_fallback)
        else:
            why = "f is a black box f(x)"
            value = f
        self.reference = "central_gradient"
        at_x = np.asarray(value(x.copy()))
        if at_x.dtype == object or at_x.dtype.kind not in "fiub":
            raise TypeError(
                f"f must return a real scalar; it returned {type(at_x).__name__} of dtype {at_x.dtype}"
            )
        if at_x.shape != ():
            raise ValueError(f"f must return a scalar; it returned shape {at_x.shape}")
        if not np.isfinite(at_x):
            raise ValueError(f"f(x) must be finite at the point checked; it returned {at_x}")
        # On f's curvature scale, as the ladders' steps (see reach), not |x_k| times it.
        steps = step_factor * np.maximum(FALLBACK_STEP, np.sqrt(_EPS) * np.abs(x))

        def difference(z, steps):
            out = np.empty(z.size)
            for k in range(z.size):
                upper, lower = z.copy(), z.copy()
                upper[k] += steps[k]
                lower[k] -= steps[k]
                out[k] = (float(value(upper)) - float(value(lower))) / (upper[k] - lower[k])
            return out

        def central_gradient(z):
            # A fixed step (set at x, not at z) keeps this a smooth function of z.
            return difference(z, steps)

        self.objective = Objective(central_gradient, (x.size,), _EPS)
        self.at_x = self.objective(x)
        if complex_step:
            found = _complex_gradient(value, x, difference, float(at_x), steps)
            if not isinstance(found, str):
                self.reference = "complex_step_gradient"
                self.objective = Objective(found, (x.size,), _EPS)
                self.objective.evaluations = 3  # the difference gradients it was compared with
                self.at_x = self.objective(x)
                self.notes.append(
                    f"no exact gradient ({why}): the reference differentiates the complex-step gradient "
                    "Im f(x + i h e_k) / h, which agreed with central differences of f at x"
                )
                return
            why = f"{why}; no complex step: {found.split(':')[0]}"  # the error's text would drown it
        rng = np.random.default_rng([seed, 1])
        direction = seeded_direction(rng, np.maximum(1.0, np.abs(x)))
        sigma, _ = measure_noise(self.objective, x, direction, self.at_x)
        # Samples along one direction can miss the noise of a component (they came out
        # equal for cbrt at 0.5): never below the rounding a central difference must
        # have, ROUNDING_ULPS ulps of |f| on each side over a width of 2 h_k.
        floor = ROUNDING_ULPS * _EPS * abs(float(at_x)) / steps
        self.objective.noise = np.maximum(sigma, floor)
        self.notes.append(
            f"no exact gradient ({why}): the reference differentiates central differences of f "
            f"(step max({FALLBACK_STEP:.2g}, 1.5e-8 |x_k|)), whose measured noise widens the tolerance"
        )

    def along(self, x, direction, initial_step=INITIAL_STEP, levels=MAX_LEVELS):
        """The derivative of the gradient along ``direction``, ``H d``, and its error,
        which counts what rounding ``x`` inside any computation of ``H d`` costs (see
        ``conditioning`` in :func:`~diffcompare.oracle.references.line_derivative`)."""
        return line_derivative(
            self.objective, x, direction, initial_step, f_at_x=self.at_x, levels=levels, conditioning=True
        )

    def column(self, x: np.ndarray, k: int):
        """Column ``k`` of the Hessian and its error, with the full ladder."""
        unit = np.zeros_like(x)
        unit[k] = 1.0
        return self.along(x, unit, INITIAL_STEP * float(reach(x)[k]))


def _given_gradient(f, grad, x: np.ndarray, seed: int, notes: list[str]) -> Objective | None:
    """The caller's gradient as the reference, unless ``check_grad`` fails it at ``x``.

    A library that ships a Hessian ships its gradient (statsmodels' ``score``,
    scikit-learn's ``gradient``): exact to rounding, its differences resolve a Hessian
    as the tape's do, where differences of a black-box ``f`` rarely can.  A wrong
    gradient would make a right Hessian look wrong, so it is checked first against
    ``f`` (its evaluations of ``f`` are not counted as gradients) and not used if it
    fails; the notes say which.
    """
    from .check import check_grad

    claimed_array(grad, "grad", (x,), (x.size,))
    verdict = check_grad(f, grad, x, seed=seed)
    if verdict.verdict == "fail":
        notes.append(
            f"the given gradient fails check_grad at x ({verdict.reason}; worst {verdict.index}): "
            "not used as the reference"
        )
        return None
    notes.append(
        f"reference: differences of the given gradient (check_grad at x: {verdict.verdict}"
        + (f", {verdict.reason}" if verdict.verdict != "pass" else "")
        + ")"
    )
    return Objective(lambda z: claimed_array(grad, "grad", (z,), (x.size,))[0], (x.size,), _EPS)


def _complex_gradient(value, x: np.ndarray, difference, f_at_x: float, steps: np.ndarray):
    """``z -> Im f(z + i h e_k) / h`` for every ``k``, or the reason ``f`` cannot take it.

    One evaluation of ``f`` per component and no truncation (``h`` = 1e-100), so its
    derivatives along lines are nearly as good as the tape's.  Used only where it
    agrees at ``x`` with ``difference(z, steps)``, central differences of ``f``: to
    :data:`RESOLUTION` of the larger of ``|g|`` and ``|f|``, beyond the differences'
    rounding and their truncation, which the gradients of steps ``h`` and ``h / 2``
    show (it shrinks by 4 with the halving: ``4/3`` of their gap bounds the shorter
    one's).  A complex step through ``abs`` or ``conj`` is no derivative, and
    disagrees.  At a nearby point where it fails (NaN), the ladder treats the value as
    unknown.
    """
    scalar = Objective(value, (), _EPS)

    def gradient(z: np.ndarray) -> np.ndarray:
        out = np.empty(z.size)
        for k in range(z.size):
            found = complex_derivative(scalar, z, np.eye(1, z.size, k).ravel())
            out[k] = np.nan if isinstance(found, str) else found[0][0]
        return out

    first = complex_derivative(scalar, x, np.eye(1, x.size, 0).ravel())
    if isinstance(first, str):
        return first
    at_x = gradient(x)
    with np.errstate(all="ignore"):  # steps may leave f's domain: NaN, not a warning
        long, short = difference(x, steps), difference(x, steps / 2)
    rounding = 8 * ROUNDING_ULPS * _EPS * abs(f_at_x) / (steps / 2)
    scale = max(float(np.max(np.abs(short), initial=0.0)), abs(f_at_x))
    with np.errstate(invalid="ignore"):
        allowed = RESOLUTION * scale + rounding + 4.0 / 3.0 * np.abs(long - short)
        off = ~(np.abs(at_x - short) <= allowed)
    if off.any():
        k = int(np.flatnonzero(off)[0])
        return (
            f"the complex step gives component {k} of the gradient as {float(at_x[k])!r}, "
            f"central differences {float(short[k])!r} (f is not analytic here?)"
        )
    return gradient


def reach(x: np.ndarray) -> np.ndarray:
    """Each coordinate's first step, in units of :data:`INITIAL_STEP`.

    1, not ``max(1, |x_k|)`` as for first derivatives: the gradient varies on the scale
    of ``f``'s curvature, which a large coordinate does not widen (``sin`` at 1e5 still
    has period 2 pi, and steps of 1e4 alias it).  Only where 0.1 would be below
    ``sqrt(eps) |x_k|``, so that ``x_k + h`` hardly moves, the step grows with ``x_k``.
    """
    return np.maximum(1.0, np.sqrt(_EPS) * np.abs(x) / INITIAL_STEP)


def _tape_failure(f, x: np.ndarray) -> str | None:
    """Why the tape gives no usable gradient of ``f`` at ``x``, or None."""
    try:
        with np.errstate(all="ignore"):
            gradient = tape_gradient(f, x)
    except Exception as error:  # an op without a rule, code the tape cannot trace
        # the first clause names the operation; the list of supported ones would drown it
        return f"the tape cannot trace f: {type(error).__name__}: {str(error).split(';')[0]}"
    if not np.all(np.isfinite(gradient)):
        return "the tape's gradient is not finite"
    return None


def _validate(f, function, name: str, x, rtol, atol, seed, directions, mode, grad, auto=False) -> np.ndarray:
    check_callable(f, "f")
    if not callable(function):
        raise TypeError(f"{name} must be callable; got {type(function).__name__}")
    if grad is not None and not callable(grad):
        raise TypeError(f"grad must be callable grad(x) or None; got {type(grad).__name__}")
    if auto and mode not in ("auto", "fast", "full"):  # check_hessian's modes, as check_grad's
        raise ValueError(f"mode must be 'auto', 'fast' or 'full'; got {mode!r}")
    check_options(rtol, atol, seed, directions, None if auto else mode)
    return as_point(x)


def check_hessian(
    f,
    hess,
    x,
    *,
    mode: str = "auto",
    directions: int = 2,
    grad=None,
    rtol: float | None = None,
    atol: float | None = None,
    seed: int = 0,
) -> GradCheckResult:
    """Check a hand-written Hessian against differences of the exact gradient.

    A claim passes where every entry (or, in fast mode, every component of ``H d``)
    agrees with its reference to within the reference's error estimate plus the
    claim's rounding, and the claim is symmetric.

    Parameters
    ----------
    f : callable
        ``f(x, xp)`` (the tape's gradient is the reference) or a black box ``f(x)``
        (differences of a difference gradient, with a note and a wider tolerance).
    hess : callable
        ``hess(x)`` returning the claimed Hessian, shape ``(n, n)``.
    x : array_like
        The point, shape ``(n,)``.
    mode : {"auto", "full", "fast"}, optional
        "full" compares every entry with a column of references (about 8 gradients per
        column); "fast" checks ``H d`` for ``directions`` seeded random directions, as
        :func:`check_hvp` does, with at most :data:`HVP_BUDGET` (40) gradients at any
        ``n``, and names the wrong entry on a failure; "auto" is "full" up to
        ``n = 30`` (:data:`HESSIAN_FULL_UP_TO`).  Both test symmetry entry by entry.
    directions : int, optional
        Random directions in fast mode (1 to 19).
    grad : callable, optional
        ``grad(x)``, an exact gradient of ``f`` you have (a library's score): the
        reference differentiates it instead of the tape's or differences of ``f``,
        after ``check_grad(f, grad, x)``; if that fails, ``grad`` is not used and the
        notes say so.
    rtol, atol : float, optional
        Replace the claim's rounding allowance (1024 ulps of its dtype times the row's
        scale) by ``atol + rtol * |reference|``.
    seed : int, optional
        Seeds the random directions and the fallback's noise measurement.

    Returns
    -------
    GradCheckResult
        ``check == "Hessian"``; indices are ``(row, column)``.  "fail" also when the
        claim is not symmetric (a C^2 ``f`` has a symmetric Hessian): the reason names
        the pair.

    Raises
    ------
    TypeError
        If ``f``, ``hess`` or ``grad`` is not callable, ``hess`` or ``grad`` gives
        non-real values, or an option is of the wrong type.
    ValueError
        If ``x`` is not a finite vector, ``f(x)`` is not a finite scalar, ``hess`` or
        ``grad`` gives the wrong shape, or an option is out of range.

    Examples
    --------
    >>> import numpy as np
    >>> f = lambda x, xp: xp.sum(xp.sin(x)) * x[0]
    >>> def hess(x):
    ...     h = np.diag(-np.sin(x) * x[0])
    ...     h[0, :] += np.cos(x)
    ...     h[:, 0] += np.cos(x)
    ...     return h
    >>> check_hessian(f, hess, [0.5, 2.0]).verdict
    'pass'
    >>> check_hessian(f, lambda x: hess(x) * [[1, 1], [1, 1.001]], [0.5, 2.0]).index
    (1, 1)
    """
    start = time.perf_counter()
    x = _validate(f, hess, "hess", x, rtol, atol, seed, directions, mode, grad, auto=True)
    n = x.size
    mode = ("full" if n <= HESSIAN_FULL_UP_TO else "fast") if mode == "auto" else mode
    _check_fast_directions(mode, directions)
    claimed, dtype = claimed_array(hess, "hess", (x,), (n, n))
    source = GradientSource(f, x, seed, grad=grad)
    tolerance = Tolerance.choose(dtype, rtol, atol)
    value, doubt, unsettled = None, None, False
    if mode == "fast":
        blocks = _fast_blocks(lambda v: claimed @ v, source, x, tolerance, directions, seed)
        unsettled = not any(b.judged.bad.any() for b in blocks) and any(
            np.isinf(b.judged.error).any() for b in blocks
        )
        if unsettled:
            # A direction mixes every coordinate, so its ladder must reach the shortest
            # scale among them (a pole 1e-6 away needs some 30 rows, not the budget's 9);
            # columns take each coordinate's own, and decide where one of them can.
            source.notes.append(
                f"the random directions' ladders did not settle within {HVP_BUDGET} gradients: "
                "every column was checked"
            )
    if mode == "full" or unsettled:
        columns = [source.column(x, k) for k in range(n)]
        value = np.column_stack([c[0] for c in columns])
        error = _reference_floor(np.column_stack([c[1] for c in columns]), value)
        judged = judge(claimed, value, error, tolerance, lambda i, k: ((int(i), int(k)), None))
        judged, doubt = _excuse_kinks(judged, source, x)
        blocks = [Block(judged, lambda other, k: other.column(x, k))]
    failure = _asymmetry(claimed, value, tolerance)
    return _finish("Hessian", blocks, f, x, seed, mode, source, doubt, start, failure)


def _reference_floor(error: np.ndarray, value: np.ndarray) -> np.ndarray:
    """The references' errors, at least :data:`REFERENCE_FLOOR` of each row's scale.

    The floor also covers what the fallback's difference gradient adds unseen: its
    truncation moves each entry by about ``h^2 f'''' / 6``, smoothly, so the ladder
    cannot see it; for f smooth on the scale of its coordinates that is
    ``FALLBACK_STEP^2`` (3.7e-11) of the row's scale, below the floor.
    """
    finite = np.where(np.isfinite(value), np.abs(value), 0.0)
    return np.fmax(error, REFERENCE_FLOOR * np.max(finite, axis=1, keepdims=True, initial=0.0))


#: The fallback's second difference gradient takes steps this much shorter: its
#: truncation, ``h^2 f'''' / 6`` in the Hessian, is 64 times smaller, its rounding 8
#: times larger.
SECOND_STEP = 1.0 / 8.0


def _unconfirmed(
    blocks: list[Block], f, x: np.ndarray, seed: int, source: GradientSource
) -> tuple[list[Block], str | None]:
    """Failing entries of a reference without the tape that a second reference does not
    confirm, made inconclusive, and the reason for the first of them.

    A central-difference gradient is checked against one of shorter steps
    (:func:`_excuse_step_dependence`).  A complex-step gradient has no truncation, but
    the complex arithmetic inside ``f`` need not round as the real one does: where a
    sigmoid saturates at 300 its gradient came out flat to the last bit, while the
    Hessian there is 1e-13, 100 ulps of the gradient over a step of 0.1.  So a claim off
    it fails only where it is also off the reference from differences of ``f``, beyond
    that one's own error.
    """
    if source.reference == "central_gradient":
        return _excuse_step_dependence(blocks, f, x, seed, source)
    if not any(block.judged.bad.any() for block in blocks):
        return blocks, None
    differences = GradientSource(f, x, seed, complex_step=False)
    reason = None
    confirmed = []
    for block in blocks:
        judged = block.judged
        allowance = judged.tolerance - SAFETY * judged.error

        def unconfirmed(k, judged=judged, block=block, allowance=allowance):
            value, error = block.recompute(differences, k)
            error = _reference_floor(error[:, None], value[:, None])[:, 0]
            with np.errstate(invalid="ignore"):
                off = ~(np.abs(judged.claimed[:, k] - value) <= SAFETY * error + allowance[:, k])

            def why(i):
                return (
                    f"{judged.record(i, k).label} is off the complex-step gradient's reference "
                    f"{float(judged.value[i, k])!r} but not off the one from differences of f, "
                    f"{float(value[i])!r} +- {float(error[i]):.2g}: without an exact gradient the mismatch "
                    "is not confirmed"
                )

            return ~off, why

        judged, first = _excused(judged, unconfirmed)
        reason = reason or first
        confirmed.append(Block(judged, block.recompute))
    source.objective.evaluations += differences.objective.evaluations
    return confirmed, reason


def _excused(judged: Judged, excuse: Callable) -> tuple[Judged, str | None]:
    """``judged`` with the failing entries that ``excuse`` clears made inconclusive.

    ``excuse(j)`` is asked only for columns ``j`` that hold a failing entry; it returns
    the rows it clears (a boolean array) and ``why(i)``, the reason for row ``i``.  The
    reason returned is that of the first entry cleared.
    """
    bad, uncertain = judged.bad.copy(), judged.uncertain.copy()
    reason = None
    for j in np.flatnonzero(bad.any(axis=0)):
        cleared, why = excuse(int(j))
        moved = bad[:, j] & cleared
        if moved.any():
            reason = reason or why(int(np.flatnonzero(moved)[0]))
            bad[:, j] &= ~moved
            uncertain[:, j] |= moved
    return replace(judged, bad=bad, uncertain=uncertain), reason


def _excuse_step_dependence(
    blocks: list[Block], f, x: np.ndarray, seed: int, source: GradientSource
) -> tuple[list[Block], str | None]:
    """Failing entries of a fallback reference that a second one, from a difference
    gradient of shorter steps, does not confirm.

    The difference gradient's own truncation is not in the ladder's error estimate (it
    is smooth in ``x``, so the ladder cannot see it): 1e-11 of a Hessian entry at
    rosenbrock's cancellation point, all of it near a pole; f's own rounding inside
    terms that cancel (``x1 - x0**2`` near rosenbrock's minimum) biases it by ``eps /
    h``, smoothly too.  Where the two references disagree beyond their errors, the
    entry is inconclusive.  Each block's column is
    recomputed the way it was first computed (a column of ``H``, or ``H d``).
    """
    if not any(block.judged.bad.any() for block in blocks):
        return blocks, None
    finer = GradientSource(f, x, seed, step_factor=SECOND_STEP, complex_step=False)
    reason = None
    excused = []
    for block in blocks:
        judged = block.judged

        def split(k, judged=judged, block=block):
            value, error = block.recompute(finer, k)
            with np.errstate(invalid="ignore"):
                apart = ~(
                    np.abs(value - judged.value[:, k])
                    <= SAFETY * (error + judged.error[:, k]) + judged.tolerance[:, k]
                )

            def why(i):
                return (
                    f"the difference gradients of two steps give {judged.record(i, k).label} as "
                    f"{float(judged.value[i, k])!r} and {float(value[i])!r} (+- {float(error[i]):.2g}): "
                    "without an exact gradient the reference depends on its step here"
                )

            return apart, why

        judged, first = _excused(judged, split)
        reason = reason or first
        excused.append(Block(judged, block.recompute))
    source.objective.evaluations += finer.objective.evaluations
    return excused, reason


def _excuse_kinks(
    judged: Judged, source: GradientSource, x: np.ndarray, coordinates=None
) -> tuple[Judged, str | None]:
    """Entries that fail in a column where the gradient has a kink next to ``x``.

    The Hessian jumps there (``where(x > 0, x**2, -x**3)`` 1e-200 from its switch), so
    central differences see the mean of the two sides, and no claim can be judged.
    The one-sided derivatives of the gradient along ``e_k`` tell: where they differ
    beyond both error estimates and the allowance, the entry is inconclusive.  They
    are computed for failing columns only.  ``coordinates[j]`` is the coordinate of
    the block's column ``j`` (default: ``j``).
    """

    def kinked(j):
        k = int(j if coordinates is None else coordinates[j])
        unit = np.zeros_like(x)
        unit[k] = 1.0
        step = INITIAL_STEP * float(reach(x)[k])
        right = line_derivative(source.objective, x, unit, step, side=1, f_at_x=source.at_x)
        left = line_derivative(source.objective, x, unit, step, side=-1, f_at_x=source.at_x)
        with np.errstate(invalid="ignore"):
            split = ~(np.abs(right[0] - left[0]) <= SAFETY * (right[1] + left[1]) + judged.tolerance[:, j])

        def why(i):
            return (
                f"the gradient has a kink next to x along coordinate {k}: the one-sided derivatives of "
                f"entry ({i}, {k}) are {float(right[0][i])!r} and {float(left[0][i])!r}, so the Hessian "
                "jumps there"
            )

        return split, why

    return _excused(judged, kinked)


def _asymmetry(
    claimed: np.ndarray, reference: np.ndarray | None, tolerance: Tolerance
) -> tuple[str, Mismatch] | None:
    """The worst pair (i, j) where the claim is not symmetric beyond its rounding.

    ``reference`` is the full mode's reference Hessian; in fast mode (None) the mirror
    entry of the claim stands in for it.
    """
    if reference is None:
        reference = claimed.T
    scale = np.max(np.where(np.isfinite(claimed), np.abs(claimed), 0.0), axis=1, keepdims=True, initial=0.0)
    allowance = tolerance.components(np.where(np.isfinite(claimed), claimed, 0.0), scale)
    allowance = np.maximum(allowance, allowance.T)
    with np.errstate(invalid="ignore"):
        gap = np.abs(claimed - claimed.T)
        ratio = np.triu(np.where(gap > allowance, gap / np.where(allowance > 0, allowance, np.inf), 0.0), 1)
        ratio = np.where(
            np.isnan(gap), 0.0, np.where(np.isposinf(ratio) | (ratio > 0) & (allowance == 0), np.inf, ratio)
        )
    if not np.any(ratio > 0):
        return None
    i, j = np.unravel_index(int(np.argmax(ratio)), ratio.shape)
    # Name the one of the pair further from its reference.
    if abs(claimed[j, i] - reference[j, i]) > abs(claimed[i, j] - reference[i, j]):
        i, j = j, i
    i, j = int(i), int(j)
    abs_error = abs(float(claimed[i, j] - reference[i, j]))
    record = Mismatch(
        (i, j), float(claimed[i, j]), float(reference[i, j]), abs_error,
        relative(abs_error, float(reference[i, j])), float(allowance[i, j]),
    )  # fmt: skip
    reason = (
        f"the claimed Hessian is not symmetric: entry ({i}, {j}) is {float(claimed[i, j])!r} but ({j}, {i}) "
        f"is {float(claimed[j, i])!r} (a C^2 f has a symmetric Hessian)"
    )
    return reason, record


def check_hvp(
    f,
    hvp,
    x,
    *,
    mode: str = "fast",
    directions: int = 2,
    grad=None,
    rtol: float | None = None,
    atol: float | None = None,
    seed: int = 0,
) -> GradCheckResult:
    """Check a hand-written Hessian-vector product ``hvp(x, v) = H v``.

    Each reference is ``(g(x + h v) - g(x - h v)) / 2h`` of the gradient ``g`` (the
    tape's for ``f(x, xp)``, else as in :func:`check_hessian`), extrapolated over
    halving steps with an error estimate.

    Parameters
    ----------
    f : callable
        ``f(x, xp)``, or a black box ``f(x)`` (see :func:`check_hessian`).
    hvp : callable
        ``hvp(x, v)`` returning the claimed ``H v``, shape ``(n,)``.
    x : array_like
        The point, shape ``(n,)``.
    mode : {"fast", "full"}, optional
        "fast" checks ``directions`` seeded random directions with at most
        :data:`HVP_BUDGET` (40) gradient evaluations at any ``n`` (with the tape's
        gradient), naming the wrong entry on a failure within the same budget: the
        claimed column of the failing component against one more ladder, then its
        row by group tests of ``hvp`` alone.  "full" checks ``hvp(x, e_k)`` for
        every ``k``: every entry of ``H``.
    directions : int, optional
        Random directions in fast mode (1 to 19); the ladder along each gets
        ``39 // (2 directions)`` rows (9 for the default 2).
    grad, rtol, atol, seed
        As for :func:`check_hessian`; ``seed`` seeds the directions.

    Returns
    -------
    GradCheckResult
        ``check == "HVP"``; entries of ``H`` are indexed ``(row, column)``; a
        failure along a random direction that bisection could not pin down names
        the component of ``H v`` and the direction.

    Raises
    ------
    TypeError, ValueError
        As for :func:`check_hessian`; also if ``directions`` is out of range.

    Examples
    --------
    >>> import numpy as np
    >>> f = lambda x, xp: xp.sum(x**4) / 4
    >>> check_hvp(f, lambda x, v: 3 * x**2 * v, [1.0, -2.0, 0.5]).verdict
    'pass'
    >>> check_hvp(f, lambda x, v: 3 * x * v, [1.0, -2.0, 0.5]).verdict
    'fail'
    """
    start = time.perf_counter()
    x = _validate(f, hvp, "hvp", x, rtol, atol, seed, directions, mode, grad)
    _check_fast_directions(mode, directions)
    n = x.size
    probe = np.zeros(n)
    probe[0] = 1.0
    _, dtype = claimed_array(hvp, "hvp", (x, probe), (n,))
    source = GradientSource(f, x, seed, grad=grad)
    tolerance = Tolerance.choose(dtype, rtol, atol)

    def product(v: np.ndarray) -> np.ndarray:
        return claimed_array(hvp, "hvp", (x, v), (n,))[0]

    doubt = None
    if mode == "full":
        blocks = []
        for k in range(n):
            value, error = source.column(x, k)
            error = _reference_floor(error[:, None], value[:, None])
            judged = judge(
                product(np.eye(1, n, k).ravel())[:, None], value[:, None], error, tolerance,
                lambda i, _, k=k: ((int(i), k), None),
            )  # fmt: skip
            judged, kink = _excuse_kinks(judged, source, x, [k])
            doubt = doubt or kink
            blocks.append(Block(judged, lambda other, _, k=k: other.column(x, k)))
    else:
        blocks = _fast_blocks(product, source, x, tolerance, directions, seed)
    return _finish("HVP", blocks, f, x, seed, mode, source, doubt, start)


def _finish(
    check: str, blocks: list, f, x, seed: int, mode: str, source, doubt, start: float, failure=None
) -> GradCheckResult:
    """The verdict of ``check_hessian`` or ``check_hvp`` over its judged blocks, once a
    reference without an exact gradient has had its mismatches confirmed."""
    if source.reference not in EXACT_REFERENCES:
        blocks, split = _unconfirmed(blocks, f, x, seed, source)
        doubt = doubt or split
    result = result_from(
        [block.judged for block in blocks],
        check=check,
        noun=_fast_noun(blocks),
        point=x,
        seed=seed,
        mode=mode,
        references=(source.reference, "richardson"),
        evaluations=source.objective.evaluations,
        counted="the gradient",
        notes=source.notes,
        failure=failure,
        doubt=doubt,
    )
    return replace(result, seconds=time.perf_counter() - start)


@dataclass(frozen=True)
class Block:
    """Judged entries and how to recompute the references of column ``j`` of the block
    from another :class:`GradientSource` (the fallback's confirmation)."""

    judged: Judged
    recompute: Callable[[GradientSource, int], tuple[np.ndarray, np.ndarray]]


def _check_fast_directions(mode: str, directions: int) -> None:
    if mode == "fast" and 2 * directions > HVP_BUDGET - 1:
        raise ValueError(f"directions must be at most {(HVP_BUDGET - 1) // 2} in fast mode; got {directions}")


def _fast_noun(blocks: list[Block]) -> str:
    """ "entries" for entries of ``H`` (full mode, or a failure pinned down), else
    "components" (of ``H d`` along random directions)."""
    return "entries" if isinstance(blocks[0].judged.label(0, 0)[0], tuple) else "components"


def _fast_blocks(
    product: Callable[[np.ndarray], np.ndarray],
    source: GradientSource,
    x: np.ndarray,
    tolerance: Tolerance,
    directions: int,
    seed: int,
) -> list[Block]:
    """``H d`` for seeded random directions, within :data:`HVP_BUDGET` gradients.

    ``product(v)`` is the claimed ``H v``.  Each direction's ladder gets
    ``(HVP_BUDGET - 1) // (2 directions)`` rows; a cut-short ladder whose gap has not
    started to shrink reports an infinite error (steps longer than f's scale, or a
    kink next to x), so no kink test is needed here.  On the first failing direction
    the wrong entries are pinned down (:func:`_pinpoint`) with what is left of the
    budget; where they cannot be, the failing direction is the evidence.
    """
    levels = (HVP_BUDGET - 1) // (2 * directions)
    rng = np.random.default_rng([seed, 0])
    scales = reach(x)  # see reach: the steps of a Hessian column
    blocks = []
    for r in range(directions):
        d = seeded_direction(rng, scales)
        value, error = source.along(x, d, levels=levels)
        error = _reference_floor(error[:, None], value[:, None])
        judged = judge(
            product(d)[:, None], value[:, None], error, tolerance,
            lambda i, _, r=r: (int(i), f"(H v)[{int(i)}] along random direction {r}"),
        )  # fmt: skip
        block = Block(judged, lambda other, _, d=d: other.along(x, d, levels=levels))
        if judged.bad.any():
            return _pinpoint(product, source, x, tolerance, judged, seed) or [*blocks, block]
        blocks.append(block)
    return blocks


def _pinpoint(
    product: Callable[[np.ndarray], np.ndarray],
    source: GradientSource,
    x: np.ndarray,
    tolerance: Tolerance,
    failed: Judged,
    seed: int,
) -> list[Block]:
    """The wrong entries of ``H`` behind a failing component ``i`` of ``H d``, with one
    more ladder: the reference column ``H e_i``, which is also row ``i`` (a C^2 ``f``
    has a symmetric Hessian).

    The claimed column ``i`` is compared entry by entry; if it agrees, the wrong
    entries lie in the claimed row ``i`` only (an asymmetric claim), and group tests of
    ``product`` over halves of the direction's support find them against the same
    reference column, spending no gradient at all.  The ladder gets what is left of
    :data:`HVP_BUDGET`; an empty list means nothing could be pinned down.
    """
    levels = (HVP_BUDGET - source.objective.evaluations) // 2
    if levels < 2:
        return []
    ratio = np.abs(failed.claimed - failed.value) / np.where(failed.tolerance > 0, failed.tolerance, np.inf)
    i = int(np.argmax(np.where(failed.bad, np.where(np.isfinite(ratio), ratio, np.inf), -1.0)[:, 0]))
    n = x.size
    unit = np.eye(1, n, i).ravel()
    value, error = source.along(x, unit, INITIAL_STEP * float(reach(x)[i]), levels=levels)
    error = _reference_floor(error[:, None], value[:, None])[:, 0]
    row_scale = np.array([[np.max(np.where(np.isfinite(value), np.abs(value), 0.0), initial=0.0)]])

    def column_reference(other: GradientSource, _) -> tuple[np.ndarray, np.ndarray]:
        return other.along(x, unit, INITIAL_STEP * float(reach(x)[i]), levels=levels)

    column = judge(
        product(unit)[:, None], value[:, None], error[:, None], tolerance, lambda k, _: ((int(k), i), None)
    )
    if column.bad.any():
        return [Block(column, column_reference)]

    # Unit weights would let two wrong entries of opposite sign cancel; seeded ones
    # of 1 to 2 make that unlikely, as in the first-order search.
    signed = seeded_direction(np.random.default_rng([seed, 3, i]), np.ones(n))

    def row_judged(group: np.ndarray) -> Judged:
        weights = np.zeros(n)
        weights[group] = signed[group]
        return judge(
            np.array([[product(weights)[i]]]),
            np.array([[value[group] @ weights[group]]]),
            np.array([[error[group] @ np.abs(weights[group])]]),
            tolerance,
            lambda *_: ((i, int(group[0])), None),
            row_scale=row_scale,
        )

    found, _, _ = localise(lambda group: bool(row_judged(group).bad.any()), n, limit=3)
    if not found:
        return []
    row = judge(
        np.array([[product(np.eye(1, n, j).ravel())[i] for j in found]]),
        value[found][None, :],
        error[found][None, :],
        tolerance,
        lambda _, c: ((i, found[int(c)]), None),
        row_scale=row_scale,
    )
    if not row.bad.any():
        return []

    def row_reference(other: GradientSource, c: int) -> tuple[np.ndarray, np.ndarray]:
        reference, reference_error = column_reference(other, 0)
        return reference[[found[c]]], reference_error[[found[c]]]

    return [Block(row, row_reference)]


def assert_hessian_correct(f, hess, x, *, allow_inconclusive: bool = False, **options) -> None:
    """Raise ``AssertionError`` with the report unless :func:`check_hessian` passes.

    Examples
    --------
    >>> import numpy as np
    >>> assert_hessian_correct(lambda x, xp: xp.sum(x**3), lambda x: np.diag(6 * x), [1.0, 2.0])
    """
    require(check_hessian(f, hess, x, **options), allow_inconclusive)


def assert_hvp_correct(f, hvp, x, *, allow_inconclusive: bool = False, **options) -> None:
    """Raise ``AssertionError`` with the report unless :func:`check_hvp` passes.

    Examples
    --------
    >>> assert_hvp_correct(lambda x, xp: xp.sum(x**3), lambda x, v: 6 * x * v, [1.0, 2.0])
    """
    require(check_hvp(f, hvp, x, **options), allow_inconclusive)
