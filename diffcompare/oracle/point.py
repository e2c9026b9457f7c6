"""The decision at one point: references, noise, tolerances, votes, kinks and the two modes.

How a point is decided
----------------------
References, each with an error estimate (:mod:`.references`):

* ``richardson``: extrapolated central differences, first a quick two-row ladder per
  component (:data:`QUICK_STEP`, four evaluations of ``f``), then, for components in
  dispute, a ladder of halving steps from a tenth of each coordinate's scale that starts
  afresh while the steps are longer than the scale on which ``f`` varies;
* ``complex_step``: when a black-box ``f`` accepts complex input and, along a random
  direction, agrees with the differences (``np.abs`` or ``np.maximum`` inside ``f``
  break the complex step silently; that check catches them); vetted when a component
  is disputed;
* ``tape``: reverse-mode AD when ``f`` is written as ``f(x, xp)``.

Per component, the reference with the smallest error estimate judges the claimed value
(:mod:`.tolerance`).  A smooth, noise-free ``f`` is decided there.  Otherwise:

* the noise of ``f`` is measured at ``x`` (:mod:`.noise`, Moré and Wild's difference
  tables), and from then on every difference counts it in its error estimate: a noisy
  ``f`` makes an agreeing claim "inconclusive" with the measured noise in the reason,
  never a "fail" nor "a kink";
* references that disagree get up to two more ladders starting on smaller scales; a
  unique largest set of agreeing references (at least two) outvotes the rest, but never
  an exact reference (the tape, the complex step): differences that share a flaw (a
  pole inside their steps) can agree on a wrong value (:meth:`PointCheck.vote`);
* if they still disagree, a claimed value that agrees with one of them is
  inconclusive, and one off all of them is a "fail";
* a claimed value off the reference, or references that split, are tested for a kink
  with the one-sided differences to the left and right of ``x``: if those disagree and
  the claim lies between them, ``x`` sits on a kink and the component is
  inconclusive, never a false "fail";
* a reference too uncertain to see a relative error of
  :data:`~.tolerance.RESOLUTION` (more for an ``f`` computed in float32, whatever type
  carries its values) first gets the one-sided ladders, and otherwise makes an
  agreeing component inconclusive;
* a component still off is measured against the rounding noise of the claim (and the
  tape) near ``x``: a gradient that is zero up to the rounding of its terms, at an
  optimum, passes (:meth:`PointCheck.excuse_rounding`).

Modes: ``"full"`` compares every component.  ``"fast"`` checks the derivative along a
few random directions (``O(1)`` evaluations of ``f``) and, if one fails, finds the
wrong components by group tests (:mod:`.localise`); with the tape at hand every
component is compared directly and the differences check the tape along random
directions.  Where the references disagree along a direction, the point is checked in
full mode instead.
"""

from __future__ import annotations

import itertools
import math
import time
from dataclasses import dataclass, replace

import numpy as np

from ..methods.complex_step.fallback import complex_step_namespace
from ..methods.complex_step.namespace import real_ordered
from ..ops.fallback import numpy_fallback
from .blocks import ParameterBlocks
from .diagnose import RELATIVE, common_factor, describe_factor
from .localise import localise
from .noise import measure_noise
from .references import (
    INITIAL_STEP,
    MAX_LEVELS,
    NOISE_SIGMAS,
    ROUNDING_ULPS,
    Objective,
    ad_jacobian,
    complex_derivative,
    line_derivative,
)
from .result import GradCheckResult, Mismatch, relative
from .tolerance import (
    CLAIMED_RTOL,
    RESOLUTION,
    SAFETY,
    SIGNIFICANT,
    Tolerance,
    disagree,
    mismatch,
    resolution,
    unresolved,
)

__all__ = ["Options", "PointCheck", "AUTO_FULL_LIMIT", "CONFIRM", "EXTRA_LADDERS", "QUICK_STEP", "NOISY"]

#: Largest dimension that mode "auto" checks component by component.
AUTO_FULL_LIMIT = 100

#: Components per point confirmed with one-sided differences (and, in fast mode,
#: isolated by the group tests): enough to report, bounded cost when all are wrong.
CONFIRM = 8

#: First steps of the ladders that settle disputed columns, relative to each
#: coordinate's scale.  Each starts on a smaller scale than the one before (1/27 and
#: 1/690 of the first ladder's 0.1): ladders that share a starting scale share its flaw
#: (all three crossed a pole 1e-6 away and agreed on a wrong value), so they are one
#: vote.  The factors 0.6 and 0.37 keep any two ladders from sharing a step
#: (0.06 / 2^(4 + i) is no 0.1 / 2^j) or aliasing the same period.
EXTRA_LADDERS = (0.06 / 2**4, 0.037 / 2**8)

#: First step of the quick reference every component gets first, relative to its
#: coordinate's scale: two central differences at 2^-13 (1.2e-4) and half that, one
#: Richardson step, four evaluations of f.  The extrapolated value is then good to
#: ``h^4 f^(5)``; its error estimate, the distance to the finer difference, is the
#: larger ``h^2 f''' / 24`` (6e-10 of ``f'''``), with rounding ``eps |f| / h`` (2e-12
#: of ``|f|``) beside it: both far below the 1e-6 a check must resolve, for any f
#: smooth on a scale of 1e-3 of the coordinate's.  Anything else (a kink or pole
#: within the steps, noise, a mismatch) sends the component to the full ladders.
QUICK_STEP = 2.0**-13

#: Measured noise beyond this many ulps of ``|f|`` is reported as noise in ``f``
#: (float64 rounding of a long computation stays well below it).
NOISY = 1024.0

#: Standard deviations of the claim's (and the tape's) measured rounding noise that a
#: failing component may be off by and still pass (see :meth:`PointCheck.excuse_rounding`).
EXCUSE_SIGMAS = 4.0

#: The exact references: never outvoted by differences, which may share a flaw.
EXACT = ("tape", "complex_step")

_EPS = float(np.finfo(np.float64).eps)

#: Rounding two float64 references may differ by, relative to the terms they sum.
_ROUNDING = CLAIMED_RTOL[np.dtype(np.float64)]


@dataclass(frozen=True)
class Options:
    mode: str
    rtol: float | None
    atol: float | None
    seed: int
    complex_step: bool | str
    directions: int
    blocks: ParameterBlocks | None = None  # names the components in what users read


@dataclass
class Entries:
    """Judged entries of some columns: arrays of shape (m, len(columns))."""

    columns: np.ndarray
    claimed: np.ndarray
    value: np.ndarray
    error: np.ndarray
    tolerance: np.ndarray
    bad: np.ndarray
    split: np.ndarray  # references disagree
    uncertain: np.ndarray  # reference too uncertain to resolve
    kink: np.ndarray


def _claimed(grad, x: np.ndarray, shape: tuple[int, int], scalar: bool) -> tuple[np.ndarray, np.dtype]:
    """The claimed derivative at ``x`` as an (m, n) float64 array, and its own dtype."""
    name = "grad" if scalar else "jac"
    value = grad(x.copy()) if callable(grad) else grad
    array = np.asarray(value)
    if array.dtype == object or array.dtype.kind not in "fiu":
        raise TypeError(
            f"{name} must give real floating-point values; got {type(value).__name__} of dtype {array.dtype}"
        )
    expected = (shape[1],) if scalar else shape
    if array.shape != expected:
        raise ValueError(f"{name} must give shape {expected} at x of shape ({shape[1]},); got {array.shape}")
    dtype = array.dtype if array.dtype in CLAIMED_RTOL else np.dtype(np.float64)
    return array.astype(np.float64).reshape(shape), dtype


def _direction(rng: np.random.Generator, scales: np.ndarray) -> np.ndarray:
    """Random signs times weights in [1, 2], times each coordinate's scale.

    Weights bounded away from 0 keep every component visible; unequal weights keep two
    errors from cancelling exactly (a swapped pair has errors +e and -e).
    """
    signs = rng.choice([-1.0, 1.0], size=scales.size)
    return signs * rng.uniform(1.0, 2.0, size=scales.size) * scales


class PointCheck:
    """The references and judgements at one point."""

    # Set by fast_search for the verdict: (claimed, reference, its error, the claim's
    # allowance) along each random direction, and how many components the group tests
    # had isolated if they stopped early.
    directional: tuple[tuple, ...] = ()
    stopped_at: int | None = None

    def __init__(self, f, xp_form, grad, x, scalar, options: Options, point_index: int):
        self.x = x
        self.options = options
        self.notes: list[str] = []
        self.used: list[str] = ["richardson"]
        self.rng = np.random.default_rng([options.seed, point_index])
        self.scales = np.maximum(1.0, np.abs(x))
        black = _black_box(f) if xp_form else f
        self.objective, self.f_at_x = Objective.probe(black, x, scalar)
        m, n = self.f_at_x.size, x.size
        self.claimed, dtype = _claimed(grad, x, (m, n), scalar)
        self.tolerance = Tolerance.choose(dtype, options.rtol, options.atol)
        self.mode = options.mode if options.mode != "auto" else ("full" if n <= AUTO_FULL_LIMIT else "fast")
        self.scalar = scalar
        self.tape_at = lambda z: ad_jacobian(f, z, None if scalar else m)
        self.tape = self._tape(f, scalar) if xp_form else None
        self.grad = grad
        self.complex_ok = False
        self.first_direction: tuple | None = None
        self._sides: dict[int, tuple] = {}
        self._columns: dict[int, list[tuple]] = {}
        self._sound: dict[int, list[tuple]] = {}  # quick references of columns not escalated
        # With the tape at hand the complex step adds nothing; an f(x, xp) the tape cannot
        # follow is a black box like any other, and the complex step may vouch for it.
        self._complex_probed = self.tape is not None or options.complex_step is False
        self.noise_settled = True
        self.complex_noise = 0.0  # relative noise of the complex step, once measured
        # The complex step costs a ladder along a random direction to vet; a full check
        # of a smooth f needs no second reference, so it is vetted when a component is
        # disputed.  Asked for explicitly, or in fast mode, it is vetted now.
        if not self._complex_probed and (options.complex_step is True or self.mode == "fast"):
            self._probe_complex()

    @property
    def resolution(self) -> float:
        """The relative error the check must resolve (larger for an ``f`` in float32)."""
        return resolution(self.objective.eps)

    # -- references ------------------------------------------------------------------

    def _tape(self, f, scalar):
        try:
            jacobian = ad_jacobian(f, self.x, None if scalar else self.f_at_x.size)
        except Exception as error:  # an op without a rule, or code the tape cannot trace
            self.notes.append(
                f"no tape reference ({type(error).__name__}: {error}); f is checked as a black box, "
                "evaluated with numpy (names outside xp's operations are numpy's own)"
            )
            return None
        self.objective.evaluations += self.f_at_x.size
        if not np.all(np.isfinite(jacobian)):
            self.notes.append("no tape reference (its gradient is not finite)")
            return None
        self.used.append("tape")
        return jacobian

    def _probe_complex(self) -> None:
        self._complex_probed = True
        d = _direction(self.rng, self.scales)
        complex_ref = complex_derivative(self.objective, self.x, d)
        if isinstance(complex_ref, str):
            self._no_complex(complex_ref)
            return
        value, error = line_derivative(self.objective, self.x, d, f_at_x=self.f_at_x)
        for start in EXTRA_LADDERS:
            # Differences that cross a pole or alias an oscillation disagree with a
            # correct complex step: shorter steps before calling f non-analytic.
            if not np.any(disagree(complex_ref[0], complex_ref[1], value, error, _ROUNDING * np.abs(value))):
                break
            value, error = line_derivative(self.objective, self.x, d, start, f_at_x=self.f_at_x)
        if np.any(disagree(complex_ref[0], complex_ref[1], value, error, _ROUNDING * np.abs(value))):
            complex_value, difference = float(complex_ref[0][0]), float(value[0])
            self._no_complex(
                f"along a random direction it gives {complex_value!r}, differences {difference!r}: "
                "f is not analytic in complex arithmetic (np.abs, np.maximum, np.real?)"
            )
            return
        self.complex_ok = True
        self.used.append("complex_step")
        self.first_direction = (d, [("richardson", value, error), ("complex_step", *complex_ref)])

    def _no_complex(self, reason: str) -> None:
        if self.options.complex_step is True:
            raise ValueError(f"complex_step=True, but the complex step cannot be used: {reason}")
        self.notes.append(f"no complex step ({reason})")

    def along(
        self, d: np.ndarray, initial_step: float = INITIAL_STEP, levels: int = MAX_LEVELS
    ) -> list[tuple[str, np.ndarray, np.ndarray]]:
        """All references for the derivative along ``d``: (name, value (m,), error (m,)).

        ``levels`` limits the rows of the difference ladder (2 for the quick stage).
        """
        ladder = line_derivative(self.objective, self.x, d, initial_step, f_at_x=self.f_at_x, levels=levels)
        refs = [("richardson", *ladder)]
        if self.complex_ok:
            refs += self.complex_along(d)
        if self.tape is not None:
            value = self.tape @ d
            refs.append(("tape", value, ROUNDING_ULPS * _EPS * (np.abs(self.tape) @ np.abs(d))))
        return refs

    def complex_along(self, d: np.ndarray) -> list[tuple[str, np.ndarray, np.ndarray]]:
        """The complex step along ``d`` with its error widened by its measured noise, as a
        one-reference list; empty where ``f`` refuses it at this point."""
        complex_ref = complex_derivative(self.objective, self.x, d)
        if isinstance(complex_ref, str):
            return []
        value, error = complex_ref
        return [("complex_step", value, np.fmax(error, NOISE_SIGMAS * self.complex_noise * np.abs(value)))]

    def unit(self, k: int) -> np.ndarray:
        """The direction of coordinate ``k``."""
        unit = np.zeros_like(self.x)
        unit[k] = 1.0
        return unit

    def column(self, k: int) -> list[tuple[str, np.ndarray, np.ndarray]]:
        """All references for column ``k`` of the Jacobian, with the full ladder (kept)."""
        if k not in self._columns:
            self._columns[k] = self.along(self.unit(k), INITIAL_STEP * self.scales[k])
        return self._columns[k]

    def quick_column(self, k: int) -> list[tuple[str, np.ndarray, np.ndarray]]:
        """Column ``k`` with the two-row ladder of :data:`QUICK_STEP`: four evaluations."""
        return self.along(self.unit(k), QUICK_STEP * self.scales[k], levels=2)

    def measure_f_noise(self) -> None:
        """Measure the noise of ``f`` at ``x`` once, and vet the complex step.

        Called when a component is disputed, before the full ladders, whose error
        estimates then count the noise (see :func:`~.references.line_derivative`).
        """
        if self.objective.noise is not None:
            return
        d = _direction(self.rng, self.scales)
        floor = NOISY * self.objective.eps * np.abs(self.f_at_x)
        noise, status = measure_noise(self.objective, self.x, d, self.f_at_x, floor)
        if np.any(status == "too_large"):
            # Exact steps keep the rounding of a polynomial nearly the same from sample
            # to sample (rosen at 1 + 1e-10): rounded ones vary it, at the price of the
            # arguments' rounding, which only matters next to a pole.
            again, again_status = measure_noise(self.objective, self.x, d, self.f_at_x, floor, exact=False)
            retry = (status == "too_large") & (again_status == "ok")
            noise, status = np.where(retry, again, noise), np.where(retry, again_status, status)
        self.objective.noise = noise
        self.noise_settled = bool(np.all(status == "ok"))
        self._columns.clear()
        self._sides.clear()
        if not self._complex_probed:
            self._probe_complex()
        if self.noisy:
            self.notes.append(f"f is noisy: {self.noise_description()}")
        elif not self.noise_settled:
            self.notes.append(f"the noise of f is unknown: {self.noise_description()}")
        if self.complex_ok:
            # Noise that multiplies f reaches the imaginary part too (additive noise does
            # not): the complex step's own noise, relative to its value, is measured the
            # same way, on the derivative along d at the nearby points.
            def along_d(z):
                value = complex_derivative(self.objective, z, d)
                return np.full(self.f_at_x.size, np.nan) if isinstance(value, str) else value[0]

            at_x = along_d(self.x)
            noise, status = measure_noise(along_d, self.x, d, at_x)
            with np.errstate(invalid="ignore", divide="ignore"):
                self.complex_noise = np.where(status == "ok", noise / np.abs(at_x), 0.0)
        if self.objective.carrier:
            self.notes.append(self.objective.carrier)

    @property
    def noisy(self) -> bool:
        """Whether the measured noise is beyond what float rounding of ``f`` explains."""
        noise = self.objective.noise
        floor = NOISY * self.objective.eps * np.abs(self.f_at_x)
        return noise is not None and self.noise_settled and bool(np.any(noise > floor))

    def noise_description(self) -> str:
        noise = self.objective.noise
        row = int(np.argmax(noise / np.fmax(np.abs(self.f_at_x), 1e-300)))
        size = abs(float(self.f_at_x[row]))
        relative = f", {noise[row] / size:.1g} of |f|" if size > 0 else ""
        if not self.noise_settled:
            return (
                f"noise at most ~{noise[row]:.1g}{relative}: it could not be told apart from "
                "the change of f at the smallest spacing tried, or f is not finite nearby"
            )
        return f"measured noise ~{noise[row]:.1g}{relative} (Moré-Wild difference table at x)"

    def sides(self, k: int) -> tuple[tuple, tuple]:
        """The right and left one-sided ladders along coordinate ``k``: (value, error) each.

        Kept per column: :meth:`one_sided` and :meth:`kink` may both ask for them.
        """
        if k not in self._sides:
            step = INITIAL_STEP * self.scales[k]
            self._sides[k] = tuple(
                line_derivative(self.objective, self.x, self.unit(k), step, side=side, f_at_x=self.f_at_x)
                for side in (1, -1)
            )
        return self._sides[k]

    def kink(self, k: int, claimed: np.ndarray, tolerance: np.ndarray) -> tuple[np.ndarray, str]:
        """Rows where ``x`` sits on a kink along coordinate ``k`` that explains ``claimed``.

        The one-sided derivatives must disagree, and the claimed value must lie between
        them (within ``tolerance``): every subgradient of a 1-d kink does, so a claim
        outside that range is wrong whatever the kink.  This keeps a steep but smooth
        change (huber 1e-7 from its joint, where the left-sided differences see the
        quadratic piece) from excusing a sign flip.
        """
        right, left = self.sides(k)
        split = disagree(right[0], right[1], left[0], left[1], 0.0)
        low, high = np.fmin(right[0], left[0]), np.fmax(right[0], left[0])
        with np.errstate(invalid="ignore"):
            between = (claimed >= low - tolerance) & (claimed <= high + tolerance)
        row = int(np.argmax(split & between))
        return split & between, f"one-sided derivatives {float(right[0][row])!r} and {float(left[0][row])!r}"

    # -- judging -----------------------------------------------------------------------

    def judge(self, columns: np.ndarray, refs: list[list[tuple]], row_scale: np.ndarray) -> Entries:
        """Judge the claimed entries of ``columns`` given each column's references."""
        names = sorted({name for column in refs for name, _, _ in column})
        m = self.f_at_x.size
        values = np.full((len(names), m, columns.size), np.nan)
        errors = np.full((len(names), m, columns.size), np.inf)
        for j, column in enumerate(refs):
            for name, value, error in column:
                values[names.index(name), :, j] = value
                errors[names.index(name), :, j] = np.where(np.isfinite(value), error, np.inf)
        pick = np.argmin(errors, axis=0)[None] if columns.size else np.zeros((1, m, 0), dtype=int)
        value = np.take_along_axis(values, pick, axis=0)[0]
        error = np.take_along_axis(errors, pick, axis=0)[0]
        allowance = self.tolerance.components(value, row_scale)
        split = np.zeros(value.shape, dtype=bool)
        for a in range(len(names)):
            for b in range(a + 1, len(names)):
                both = np.isfinite(values[a]) & np.isfinite(values[b])
                pair = self.pair_allowance(names[a], names[b], allowance, np.abs(value), row_scale)
                split |= both & disagree(values[a], errors[a], values[b], errors[b], pair)
        claimed = self.claimed[:, columns]
        bad, tolerance = mismatch(claimed, value, error, allowance)
        # References that disagree leave the claim undecided only if it agrees with one
        # of them; a claim off every reference is wrong whichever of them is right.
        off_all = np.ones_like(bad)
        for a in range(len(names)):
            off_all &= ~np.isfinite(values[a]) | mismatch(claimed, values[a], errors[a], allowance)[0]
        split &= ~off_all
        uncertain = unresolved(value, error, allowance, self.resolution, row_scale)
        # At an optimum (the whole gradient below sqrt(eps) |f| per unit of the
        # coordinate) no relative resolution of the gradient means anything: a claim
        # that agrees with a reference known to that absolute precision is zero to the
        # precision of f.
        floor = self.optimum_scale(columns)
        with np.errstate(invalid="ignore"):
            optimum = (row_scale <= floor) & (SAFETY * error <= floor) & ~bad
        if np.any(uncertain & optimum) and not any("zero to the precision of f" in n for n in self.notes):
            self.notes.append(
                "the gradient is zero to the precision of f: its largest component, "
                f"{float(row_scale.max()):.2g}, is below sqrt(eps) |f| = {float(floor.max()):.2g} per unit "
                "of x, and the claim agrees"
            )
        uncertain &= ~optimum
        return Entries(columns, claimed, value, error, tolerance, bad, split, uncertain, np.zeros_like(bad))

    def confirm(self, entries: Entries, row_scale: np.ndarray) -> str:
        """Settle the worst bad, split or uncertain columns: more ladders, the kink test.

        Each gets a second ladder of steps, none shared with the first, and a third if
        the references still disagree; a reference that disagrees with two that agree
        is outvoted.  Steps ``0.1 / 2^i`` alias a period near ``0.1 / 2^k``
        (``sin(1000 x)``: 1000 h near multiples of 2 pi for five rows, which agree on a
        wrong value to 1e-12), and the entries of a noisy ``f`` can agree by chance
        within one ladder, but not on the same value in two.  Returns the first kink.
        """
        disputed = (entries.bad | entries.split | entries.uncertain).any(axis=0)
        ratio = np.where(entries.bad | entries.split, _ratio(entries), -1.0).max(axis=0)
        description = ""
        for j in np.argsort(-ratio, kind="stable")[:CONFIRM]:
            if not disputed[j]:
                break
            k = int(entries.columns[j])
            if self.confirmed_by_exact(entries, j, row_scale):
                continue
            self.measure_f_noise()
            refs = self.vote(k, self.column(k), row_scale)
            again = self.judge(entries.columns[j : j + 1], [refs], row_scale)
            if again.uncertain.any() and not again.bad.any():
                refs = self.one_sided(k, refs, row_scale)
                again = self.judge(entries.columns[j : j + 1], [refs], row_scale)
            for field in ("value", "error", "tolerance", "bad", "split", "uncertain"):
                getattr(entries, field)[:, j] = getattr(again, field)[:, 0]
            # A claim off the reference, or references split (the tape against the
            # differences), may both come from a kink at x: the one-sided ladders tell.
            judged = entries.bad[:, j] | entries.split[:, j]
            if not judged.any():
                continue
            split, detail = self.kink(k, entries.claimed[:, j], entries.tolerance[:, j])
            entries.kink[:, j] = split & judged
            if split.any() and not description:
                description = f"x sits on a kink in coordinate {self.label(k)}: {detail}"
        return description

    def confirmed_by_exact(self, entries: Entries, j: int, row_scale: np.ndarray) -> bool:
        """Whether a claim off a sound quick reference is off an exact one too.

        A quick ladder whose one-sided gap halved saw ``f`` smooth over its steps: no
        kink or pole at ``x`` to test for.  If the tape or the complex step (one more
        evaluation) agrees with it, two independent references put the claim off, and
        the full ladders have nothing to add.
        """
        k = int(entries.columns[j])
        quick = self._sound.get(k)
        if quick is None or entries.split[:, j].any() or entries.uncertain[:, j].any():
            return False
        refs = list(quick)
        if self.tape is None and self.complex_ok:
            refs += self.complex_along(self.unit(k))
        if not any(name in EXACT for name, _, _ in refs):
            return False
        again = self.judge(entries.columns[j : j + 1], [refs], row_scale)
        if not again.bad.any() or again.split.any() or again.uncertain.any():
            return False
        for field in ("value", "error", "tolerance", "bad", "split", "uncertain"):
            getattr(entries, field)[:, j] = getattr(again, field)[:, 0]
        return True

    def vote(self, k: int, refs: list[tuple], row_scale: np.ndarray) -> list[tuple]:
        """The largest set of mutually agreeing references for column ``k``.

        More ladders are added (up to two) while the references disagree; a set of at
        least two that agree, larger than any other, outvotes the rest.
        """
        for start in EXTRA_LADDERS:
            if all(self.agree(a, b, row_scale) for a, b in itertools.combinations(refs, 2)):
                return refs
            value, error = line_derivative(
                self.objective, self.x, self.unit(k), start * self.scales[k], f_at_x=self.f_at_x
            )
            refs = [*refs, (f"richardson_{start:g}", value, error)]
            winners = self.majority(k, refs, row_scale)
            if winners is not None:
                return winners
        exact = [ref for ref in refs if ref[0] in EXACT]
        ladders = [ref for ref in refs if ref[0] not in EXACT]
        if (
            exact
            and all(self.agree(a, b, row_scale) for a, b in itertools.combinations(exact, 2))
            and not any(self.agree(a, b, row_scale) for a, b in itertools.combinations(ladders, 2))
        ):
            # Ladders from different scales that agree with nothing, not even one
            # another, are off by more than they estimate: f rounds on the scale of
            # terms that cancel (rosen 1e-9 from its minimum, where f ~ 1e-16 is made
            # of squares of terms rounded to 1e-16), which no difference can see.
            self.notes.append(
                f"at component {self.label(k)}, the difference ladders disagree with each other beyond their "
                f"estimates; {', '.join(ref[0] for ref in exact)} judged alone"
            )
            return exact
        return refs

    def majority(self, k: int, refs: list[tuple], row_scale: np.ndarray) -> list[tuple] | None:
        """The unique largest set (of at least two) of mutually agreeing references, or None.

        A set must hold every exact reference (the tape, the complex step): differences
        that disagree with one may share a flaw (a pole within their steps), however
        many of them agree.
        """
        agree = np.array([[self.agree(a, b, row_scale) for b in refs] for a in refs])
        exact = {i for i, ref in enumerate(refs) if ref[0] in EXACT}
        for size in range(len(refs), 1, -1):
            sets = [
                c
                for c in itertools.combinations(range(len(refs)), size)
                if agree[np.ix_(c, c)].all() and exact <= set(c)
            ]
            if len(sets) > 1:
                return None
            if sets:
                outvoted = [refs[i][0] for i in range(len(refs)) if i not in sets[0]]
                if outvoted:
                    self.notes.append(
                        f"at component {self.label(k)}, {', '.join(outvoted)} outvoted by the other "
                        "references"
                    )
                return [refs[i] for i in sets[0]]
        return None

    def one_sided(self, k: int, refs: list[tuple], row_scale: np.ndarray) -> list[tuple]:
        """Add the one-sided ladders to references too uncertain to resolve column ``k``.

        Near a kink the central ladder must shrink its steps below the distance to it,
        where rounding ``f`` costs digits; the ladder on the far side never crosses the
        kink and keeps large, accurate steps.  The one on the near side sees the other
        piece: the majority (central and far side) outvotes it.
        """
        right, left = self.sides(k)
        sides = [("richardson_right", *right), ("richardson_left", *left)]
        return self.majority(k, [*refs, *sides], row_scale) or refs

    def agree(self, a: tuple, b: tuple, row_scale: np.ndarray) -> bool:
        """Whether two references agree within their errors and the rounding of a sum."""
        magnitude = np.fmax(np.abs(a[1]), np.abs(b[1]))
        allowance = _ROUNDING * np.fmax(magnitude, row_scale[:, 0])
        allowance = self.pair_allowance(a[0], b[0], allowance, magnitude, row_scale[:, 0])
        return not np.any(disagree(a[1], a[2], b[1], b[2], allowance))

    def optimum_scale(self, columns: np.ndarray) -> np.ndarray:
        """``sqrt(eps) |f|`` per unit of each column's coordinate, shape (m, k): a gradient
        wholly below it is at an optimum, where no relative resolution means anything."""
        return math.sqrt(_EPS) * np.abs(self.f_at_x)[:, None] / self.scales[columns]

    def pair_allowance(self, a: str, b: str, allowance, magnitude, row_scale):
        """The allowance between references ``a`` and ``b`` (names).

        A ladder vets an exact reference only to the resolution the check promises:
        where ``f`` rounds on the scale of terms that cancel (rosen 1e-9 from its
        minimum: ``f ~ 1e-16`` made of terms rounded to 1e-16), differences are off
        by far more than they estimate, 1e-7 of the derivative, while the complex
        step is good to its last digits and then judges the claim alone.
        """
        if (a in EXACT) == (b in EXACT):
            return allowance
        return np.fmax(allowance, self.resolution * np.fmax(magnitude, SIGNIFICANT * row_scale))

    # -- the two modes -------------------------------------------------------------------

    def run(self) -> GradCheckResult:
        start = time.perf_counter()
        columns = np.arange(self.x.size)
        causes: list[str] = []
        searched = self.fast_search() if self.mode == "fast" and self.tape is None else None
        if self.mode == "fast" and self.tape is None and searched is None:  # see fast_search
            self.notes.append(
                "the references disagreed along a random direction, so every component was "
                "checked with all references"
            )
            self.mode = "full"
        if self.mode == "fast" and self.tape is not None and not self.tape_agrees():
            # Differences along a line can converge, at steps far above the distance to
            # a kink, to a value that misses it: two kinks 1e-7 away on either side
            # cancel exactly in every central difference wider than 1e-7.  One
            # coordinate at a time they cannot cancel, so look at every component.
            self.notes.append(
                "the tape and differences disagreed along a random direction, so every component "
                "was checked with all references"
            )
            self.mode = "full"
        if self.mode == "full":
            entries, row_scale = self.full(columns)
        elif self.tape is not None:  # the tape judges every component
            refs = [self.along_tape_only(k) for k in columns]
            row_scale = _row_scale(refs)
            entries = self.judge(columns, refs, row_scale)
            if entries.bad.any():
                entries = self.recheck(entries, row_scale)
        else:
            entries, row_scale, causes = searched
        disputed = entries.bad | entries.split | entries.uncertain
        kink = self.confirm(entries, row_scale) if disputed.any() else ""
        self.excuse_rounding(entries, row_scale)
        if causes and self.noisy:
            causes = [f"f is noisy ({self.noise_description()}): {causes[0]}"]
        result = self.verdict(entries, causes, kink)
        return replace(result, seconds=time.perf_counter() - start)

    def full(self, columns: np.ndarray, floor: np.ndarray | float = 0.0) -> tuple[Entries, np.ndarray]:
        """The given components (all of them in full mode): quick references first.

        A smooth, noise-free ``f`` costs four evaluations per component.  Once any
        component is disputed, the noise of ``f`` is measured and counted in the quick
        references' error estimates; components whose references then split or stay
        too uncertain (or whose quick steps straddled a kink or a pole) get the full
        ladders and, for a black box, the complex step.  A claim off a quick reference
        that is sound stays off: :meth:`confirm` re-examines the worst of those.
        ``floor`` bounds each row's scale from below (fast mode knows it from the
        random directions).  Returns the judged entries and the rows' scales.
        """

        def scale(refs):
            return np.fmax(_row_scale(refs), floor) if refs else np.broadcast_to(floor, (self.f_at_x.size, 1))

        refs = [self.quick_column(int(k)) for k in columns]
        entries = self.judge(columns, refs, scale(refs))
        # A quick ladder whose steps straddle a kink or a pole has an infinite error
        # estimate (see _rough): it cannot disagree with anything, and settles nothing.
        rough = _rough(refs)
        if not ((entries.bad | entries.split | entries.uncertain).any() or rough.any()):
            return entries, scale(refs)
        self.measure_f_noise()
        if self.objective.noise is not None and np.any(self.objective.noise > 0):
            # Each value off by up to NOISE_SIGMAS sigma puts the two differences (widths
            # 2h and h) off by 3 sigma / h and 6 sigma / h, and (4 D(h/2) - D(h)) / 3 off
            # by up to 9 sigma / h.
            for j, k in enumerate(columns):
                name, value, error = refs[j][0]
                h = QUICK_STEP * self.scales[k]
                widened = 3.0 * NOISE_SIGMAS * self.objective.noise / h
                refs[j] = [(name, value, np.fmax(error, widened)), *refs[j][1:]]
            entries = self.judge(columns, refs, scale(refs))
        escalate = (entries.split | entries.uncertain).any(axis=0) | rough
        self._sound = {int(k): refs[j] for j, k in enumerate(columns) if not escalate[j]}
        if escalate.any():
            refs = [self.column(int(k)) if escalate[j] else refs[j] for j, k in enumerate(columns)]
            entries = self.judge(columns, refs, scale(refs))
        return entries, scale(refs)

    def excuse_rounding(self, entries: Entries, row_scale: np.ndarray) -> None:
        """Count the rounding noise of the claim and of the tape in failing entries.

        A gradient that is zero up to rounding (at an optimum, terms of size 1 that
        cancel to 1e-15) is judged against the rounding of its terms, which neither
        its own size nor ``|f|`` shows.  That rounding is measured: the claim (and the
        tape) at eight points 1e-8 of the scale apart along a random direction, whose
        difference table (:mod:`.noise`) separates the rounding from the smooth change.
        Only a deterministic claim is excused this way: rounding repeats exactly at the
        same ``x``, and a claim that changes from call to call is not rounded, it is
        random.  And only a mismatch that rounding could explain is looked at: one
        below :data:`~.tolerance.RESOLUTION` of the gradient's max-norm, or any where
        the whole gradient is below ``sqrt(eps) |f|`` per unit of the coordinate (an
        optimum); a sign flip of an ordinary gradient costs no such measurement.
        """
        failing = entries.bad & ~entries.split & ~entries.kink
        if not failing.any() or not callable(self.grad):
            return
        with np.errstate(invalid="ignore"):
            small = np.abs(entries.claimed - entries.value) <= RESOLUTION * row_scale
            optimum = row_scale <= self.optimum_scale(entries.columns)
        if not np.any(failing & (small | optimum)):
            return
        shape = self.claimed.shape
        again, _ = _claimed(self.grad, self.x, shape, self.scalar)
        if not np.array_equal(again, self.claimed, equal_nan=True):
            self.notes.append("grad returns different values on two calls at the same x")
            return
        d = _direction(self.rng, self.scales)
        # Only noise that settled counts: an upper bound (a claim that jumps between
        # the samples, at a kink of f) excuses nothing.
        noise, status = measure_noise(
            lambda z: _claimed(self.grad, z, shape, self.scalar)[0], self.x, d, self.claimed, exact=False
        )
        noise = np.where(status == "ok", noise, 0.0).reshape(shape)
        if self.tape is not None:
            tape_noise, status = measure_noise(self.tape_at, self.x, d, self.tape, exact=False)
            noise = noise + np.where(status == "ok", tape_noise, 0.0).reshape(shape)
        # One estimate per component from nine samples is itself uncertain by a factor
        # of two or more, and components computed from the same terms share their
        # rounding: the row's largest estimate stands for all of its components.  A
        # component summing a few rounded terms is off by up to about 2 sigma of them,
        # and the estimate may fall short by 2: 4 sigma in all.
        extra = EXCUSE_SIGMAS * np.max(noise, axis=1, keepdims=True)
        with np.errstate(invalid="ignore"):
            excused = failing & (np.abs(entries.claimed - entries.value) <= entries.tolerance + extra)
        if excused.any():
            row, j = (int(i[0]) for i in np.nonzero(excused))
            self.notes.append(
                f"{int(excused.sum())} components differ from the reference by no more than the "
                f"rounding noise of the claim{' and the tape' if self.tape is not None else ''} "
                f"(~{noise[row].max():.1g}; first at component {self.label(int(entries.columns[j]))}), "
                "measured at nearby points: zero up to the rounding of the terms"
            )
        entries.tolerance = np.where(excused, entries.tolerance + extra, entries.tolerance)
        entries.bad &= ~excused

    def along_tape_only(self, k: int) -> list[tuple]:
        return [("tape", self.tape[:, k], ROUNDING_ULPS * _EPS * np.abs(self.tape[:, k]))]

    def recheck(self, entries: Entries, row_scale: np.ndarray) -> Entries:
        """Judge the worst columns the tape found bad again with every reference.

        The quick ladder first: where it agrees with the tape, two references put the
        claim off (see :meth:`confirmed_by_exact`); the others get the noise of ``f``
        measured and the full ladders.
        """
        ratio = np.where(entries.bad, _ratio(entries), 0.0).max(axis=0)
        worst = np.argsort(-ratio, kind="stable")[:CONFIRM]
        worst = worst[ratio[worst] > 0]
        refs = [self.quick_column(int(k)) for k in worst]
        again = self.judge(entries.columns[worst], refs, row_scale)
        rough = _rough(refs)
        escalate = (again.split | again.uncertain).any(axis=0) | rough
        self._sound.update({int(k): refs[j] for j, k in enumerate(worst) if not escalate[j]})
        if escalate.any():
            self.measure_f_noise()
            refs = [self.column(int(k)) if escalate[j] else refs[j] for j, k in enumerate(worst)]
            again = self.judge(entries.columns[worst], refs, row_scale)
        for field in ("value", "error", "tolerance", "bad", "split", "uncertain"):
            getattr(entries, field)[:, worst] = getattr(again, field)
        return entries

    def tape_agrees(self) -> bool:
        """Whether the tape matches the differences along random directions."""
        for _ in range(self.options.directions):
            d = _direction(self.rng, self.scales)
            refs = {name: (value, error) for name, value, error in self.along(d)}
            (value, error), (tape_value, tape_error) = refs["richardson"], refs["tape"]
            allowance = _ROUNDING * (np.abs(self.tape) @ np.abs(d))
            if np.any(disagree(tape_value, tape_error, value, error, allowance)):
                return False
        return True

    def fast_search(self) -> tuple[Entries, np.ndarray, list[str]] | None:
        """Random-direction checks; on failure, group tests to isolate the components.

        None when the references disagree along a direction while the claim agrees
        with one of them: differences along a line through several near kinks can
        miss them (see run), which one coordinate at a time they cannot.
        """
        causes: list[str] = []
        failed: np.ndarray | None = None
        magnitudes = []
        for i in range(self.options.directions):
            if i == 0 and self.first_direction is not None:
                d, refs = self.first_direction
            else:
                d = _direction(self.rng, self.scales)
                refs = self.along(d)
            bad, split, uncertain, value = self.directional_verdict(d, refs)
            if (split | uncertain).any() and self.objective.noise is None:
                # Noise, once measured, widens the ladders' error estimates: look again.
                self.measure_f_noise()
                refs = self.along(d)
                bad, split, uncertain, value = self.directional_verdict(d, refs)
            magnitudes.append(np.abs(value) / np.sum(np.abs(d)))
            if split.any():
                return None
            error = min(refs, key=lambda r: np.max(r[2]))[2]  # of the reference directional_verdict used
            allowance = self.tolerance.directional(self.claimed, d, value)
            self.directional += ((self.claimed @ d, value, error, allowance),)
            if bad.any():
                failed = d if failed is None else failed
            elif uncertain.any():
                causes.append("the references are too uncertain along a random direction (is f noisy?)")
        row_scale = np.max(magnitudes, axis=0)[:, None]
        columns = np.array([], dtype=int)
        if failed is not None:
            found, lost, pending = localise(
                lambda group: self.group_fails(failed, group), self.x.size, CONFIRM
            )
            self.stopped_at = len(found) if pending else None
            if lost:
                # A group that fails while both halves pass: errors that cancel within
                # it, or a line whose differences missed a kink (see run).  Its
                # components are checked one by one.
                found = sorted(set(found).union(*(group.tolist() for group in lost)))
                self.notes.append(
                    f"{sum(g.size for g in lost)} components that group tests could not "
                    "separate were checked one by one"
                )
            columns = np.array(found, dtype=int)
        entries, row_scale = self.full(columns, row_scale)
        return entries, row_scale, causes

    def directional_verdict(self, d, refs):
        names = [name for name, _, _ in refs]
        best = int(np.argmin([np.max(error) for _, _, error in refs]))
        _, value, error = refs[best]
        claimed = self.claimed @ d
        allowance = self.tolerance.directional(self.claimed, d, value)
        bad, _ = mismatch(claimed, value, error, allowance)
        split, off_all = np.zeros_like(bad), np.ones_like(bad)
        for a in range(len(names)):
            off_all &= mismatch(claimed, refs[a][1], refs[a][2], allowance)[0]
            for b in range(a + 1, len(names)):
                split |= disagree(refs[a][1], refs[a][2], refs[b][1], refs[b][2], allowance)
        split &= ~off_all
        return bad, split, unresolved(value, error, allowance, self.resolution, 0.0), value

    def group_fails(self, d: np.ndarray, group: np.ndarray) -> bool:
        """The group test: the quick two-row ladder along ``d`` restricted to ``group``
        (and the exact references), the full ladder only where that one is unsure."""
        restricted = np.zeros_like(d)
        restricted[group] = d[group]
        refs = self.along(restricted, QUICK_STEP, levels=2)
        bad, split, uncertain, _ = self.directional_verdict(restricted, refs)
        if split.any() or uncertain.any() or not np.all(np.isfinite(refs[0][2])):
            bad, _, _, _ = self.directional_verdict(restricted, self.along(restricted))
        return bool(bad.any())

    def verdict(self, entries: Entries, causes: list[str], kink: str) -> GradCheckResult:
        failing = entries.bad & ~entries.split & ~entries.kink
        doubtful = entries.split | entries.kink | (entries.uncertain & ~entries.bad)
        ratio = _ratio(entries)
        checked = entries.bad.size
        if failing.any():
            verdict = "fail"
            count = int(failing.sum())
            reason = (
                f"all {checked} components mismatch"
                if count == checked
                else f"{count} of {checked} components mismatch"
            )
            if self.mode == "fast" and self.tape is None:  # group tests chose the components compared
                total = self.claimed.size
                if self.stopped_at is None:
                    reason = f"{count} of {total} components mismatch (isolated by group tests)"
                else:
                    stopped = f"(the search stopped at {self.stopped_at})"
                    reason = f"at least {count} of {total} components mismatch {stopped}"
            factor = self.common_factor(entries)
            if factor is not None:
                reason += f"; {describe_factor(factor)}"
            pick = np.where(failing, ratio, -1.0)
        elif doubtful.any() or causes or kink:
            verdict = "inconclusive"
            reason = kink or (causes[0] if causes else self.doubt(entries, doubtful))
            pick = np.where(doubtful, ratio, -1.0)
        else:
            verdict = "pass"
            reason = (
                f"all {checked} components agree"
                if checked
                else (f"{self.options.directions} random directional derivatives agree")
            )
            pick = ratio
        mismatches = tuple(
            self.mismatch_record(entries, row, j)
            for row, j in sorted(zip(*np.nonzero(failing), strict=True), key=lambda rj: -ratio[rj])
        )
        worst, reference_error = None, np.nan
        if pick.size:
            row, j = np.unravel_index(int(np.argmax(pick)), pick.shape)
            worst, reference_error = self.mismatch_record(entries, row, j), float(entries.error[row, j])
        return GradCheckResult(
            verdict,
            reason,
            worst,
            reference_error,
            references=tuple(self.used),
            evaluations=self.objective.evaluations,
            seconds=0.0,
            point=self.x,
            point_index=None,
            mismatches=mismatches,
            checked=checked,
            mode=self.mode,
            seed=self.options.seed,
            notes=tuple(self.notes),
        )

    def doubt(self, entries: Entries, doubtful: np.ndarray) -> str:
        """Why a component is inconclusive, naming the measured noise where there is any."""
        row, j = (int(i[0]) for i in np.nonzero(doubtful))
        k = int(entries.columns[j])
        if entries.split[row, j]:
            return f"the references disagree with each other at component {self.label(k)}"
        uncertainty = (
            f"the reference at component {self.label(k)} is known to +- {entries.error[row, j]:.2g} only (on "
            f"{float(entries.value[row, j])!r}), too uncertain to resolve a relative error of "
            f"{self.resolution:g}"
        )
        if self.noisy:
            return f"f is noisy ({self.noise_description()}): {uncertainty}"
        if self.objective.carrier:
            return f"{self.objective.carrier}: {uncertainty}"
        return f"{uncertainty}: is f noisy or low-precision?"

    def label(self, k: int) -> str:
        """Component ``k`` as the user names it (``W1[3, 17]`` with ``shapes=``)."""
        return str(k) if self.options.blocks is None else self.options.blocks.name(k)

    def mismatch_record(self, entries: Entries, row: int, j: int) -> Mismatch:
        k = int(entries.columns[j])
        index = k if self.claimed.shape[0] == 1 and self.objective.shape == () else (int(row), k)
        claimed, reference = float(entries.claimed[row, j]), float(entries.value[row, j])
        abs_error = abs(claimed - reference)
        tolerance = float(entries.tolerance[row, j])
        name = None if self.options.blocks is None else self.options.blocks.name(k)
        return Mismatch(index, claimed, reference, abs_error, relative(abs_error, reference), tolerance, name)

    def common_factor(self, entries: Entries) -> float | None:
        """A factor between the claim and the references over all the evidence (:mod:`.diagnose`).

        The evidence is every judged entry and, in fast mode, the random directional
        derivatives, each with the tolerance it was judged with (on the reference's
        scale) plus :data:`~.diagnose.RELATIVE` of the reference.
        """
        claimed, reference, tolerance = [entries.claimed], [entries.value], [entries.tolerance]
        for along_claimed, along_reference, error, allowance in self.directional:
            # The claim's allowance along d is taken from the claim's own terms; if the
            # claim is c times the truth, |reference / claimed| = 1/|c| brings it to the
            # reference's scale, where the entries' tolerances already are.
            with np.errstate(divide="ignore", invalid="ignore"):
                rescale = np.abs(along_reference / along_claimed)
            claimed.append(along_claimed)
            reference.append(along_reference)
            tolerance.append(SAFETY * error + np.where(np.isfinite(rescale), rescale, 1.0) * allowance)
        reference = np.concatenate([np.ravel(v) for v in reference])
        tolerance = np.concatenate([np.ravel(v) for v in tolerance]) + RELATIVE * np.abs(reference)
        return common_factor(np.concatenate([np.ravel(v) for v in claimed]), reference, tolerance)


def _ratio(entries: Entries) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.abs(entries.claimed - entries.value) / entries.tolerance
    return np.where(np.isnan(ratio), np.inf, ratio)


def _rough(refs: list[list[tuple]]) -> np.ndarray:
    """Per column, whether its ladder (the first reference) has an infinite error
    estimate: a quick ladder whose steps straddled a kink or a pole."""
    return np.array([not np.all(np.isfinite(column[0][2])) for column in refs], dtype=bool)


def _row_scale(refs: list[list[tuple]]) -> np.ndarray:
    """The largest finite |reference| of each row over the columns given: shape (m, 1)."""
    magnitudes = [np.abs(value) for column in refs for _, value, _ in column]
    stacked = np.array(magnitudes)
    return np.max(np.where(np.isfinite(stacked), stacked, 0.0), axis=0)[:, None]


def _black_box(f):
    """``f(x, xp)`` as ``x -> f(x)``: numpy's op table, then numpy for any other name.

    Complex input (the complex step) gets the complex step's namespace, which takes from
    numpy only the functions that are analytic continuations and refuses the others.
    """

    def black_box(z):
        if np.iscomplexobj(z):
            return f(real_ordered(np.asarray(z)), complex_step_namespace)
        return f(z, numpy_fallback)

    return black_box
