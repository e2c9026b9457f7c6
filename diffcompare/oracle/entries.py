"""Judging claimed entries against references with error estimates, for the checks of
Hessians, Hessian-vector products and Jacobian products.

Each entry has a claimed value, a reference value and the reference's own error
estimate.  The rule is :mod:`~diffcompare.oracle.tolerance`'s, the one ``check_grad``
uses: a claim is off when it is further from the reference than ``SAFETY`` times the
reference's error plus the claim's rounding allowance; a reference that cannot see a
relative error of :data:`~diffcompare.oracle.tolerance.RESOLUTION` (on the row's scale
for small entries) makes an agreeing claim "inconclusive", never "pass".
"""

from __future__ import annotations

import numbers
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .result import GradCheckResult, Mismatch, relative
from .tolerance import CLAIMED_RTOL, RESOLUTION, Tolerance, mismatch, unresolved

__all__ = ["Judged", "judge", "claimed_array", "check_options", "seeded_direction", "result_from"]


@dataclass(frozen=True)
class Judged:
    """Entries of shape (m, k): claims, references, their errors and the judgement.

    ``label(row, column)`` gives the index a :class:`Mismatch` carries and the name it
    shows (None for plain indices).
    """

    claimed: np.ndarray
    value: np.ndarray
    error: np.ndarray
    tolerance: np.ndarray
    bad: np.ndarray
    uncertain: np.ndarray
    label: Callable[[int, int], tuple[int | tuple[int, int], str | None]]

    def record(self, row: int, column: int) -> Mismatch:
        index, name = self.label(row, column)
        claimed, reference = float(self.claimed[row, column]), float(self.value[row, column])
        abs_error = abs(claimed - reference)
        return Mismatch(
            index, claimed, reference, abs_error, relative(abs_error, reference),
            float(self.tolerance[row, column]), name,
        )  # fmt: skip


def judge(
    claimed: np.ndarray,
    value: np.ndarray,
    error: np.ndarray,
    tolerance: Tolerance,
    label: Callable,
    row_scale: np.ndarray | None = None,
) -> Judged:
    """Judge (m, k) claims against references; ``row_scale`` (m, 1) defaults to the
    max-norm of each row of ``value``."""
    if row_scale is None:
        finite = np.where(np.isfinite(value), np.abs(value), 0.0)
        row_scale = np.max(finite, axis=1, keepdims=True, initial=0.0)
    allowance = tolerance.components(np.where(np.isfinite(value), value, 0.0), row_scale)
    # Below the smallest normal number, values are rounding of underflow (an entry of
    # 5e-324 where the reference is 0): no error a claim can be blamed for.
    allowance = np.fmax(allowance, np.finfo(np.float64).tiny)
    known = np.isfinite(value) & np.isfinite(error)
    bad, bound = mismatch(claimed, value, error, allowance)
    # A reference that is NaN or of unknown error can neither convict nor acquit.
    bad = bad & known
    uncertain = ~known | unresolved(value, error, allowance, RESOLUTION, row_scale)
    return Judged(claimed, value, error, bound, bad, uncertain, label)


def claimed_array(function, name: str, args: tuple, shape: tuple[int, ...]) -> tuple[np.ndarray, np.dtype]:
    """``function(*args)`` as a float64 array of ``shape``, and the dtype it came in."""
    value = function(*(a.copy() for a in args))
    array = np.asarray(value)
    if array.dtype == object or array.dtype.kind not in "fiu":
        raise TypeError(
            f"{name} must give real floating-point values; got {type(value).__name__} of dtype {array.dtype}"
        )
    if array.shape != shape:
        raise ValueError(f"{name} must give shape {shape}; got {array.shape}")
    dtype = array.dtype if array.dtype in CLAIMED_RTOL else np.dtype(np.float64)
    return array.astype(np.float64), dtype


def check_options(rtol, atol, seed, directions=None, mode=None) -> None:
    """Raise TypeError/ValueError naming the first bad option."""
    if mode is not None and mode not in ("fast", "full"):
        raise ValueError(f"mode must be 'fast' or 'full'; got {mode!r}")
    check_tolerances(rtol, atol)
    check_option_seed(seed)
    if directions is not None:
        check_directions(directions)


def check_tolerances(rtol, atol) -> None:
    """Raise TypeError/ValueError unless each of ``rtol``, ``atol`` is None or a real >= 0."""
    for name, option in (("rtol", rtol), ("atol", atol)):
        if option is not None:
            if isinstance(option, bool) or not isinstance(option, numbers.Real):
                raise TypeError(f"{name} must be a real number; got {type(option).__name__}")
            if not (np.isfinite(option) and option >= 0):
                raise ValueError(f"{name} must be non-negative and finite; got {option!r}")


def check_option_seed(seed) -> None:
    """Raise TypeError unless ``seed`` is a non-negative integer (booleans excluded)."""
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise TypeError(f"seed must be a non-negative integer; got {seed!r}")


def check_directions(directions) -> None:
    """Raise ValueError unless ``directions`` is a positive integer (booleans excluded)."""
    if isinstance(directions, bool) or not isinstance(directions, numbers.Integral) or directions < 1:
        raise ValueError(f"directions must be a positive integer; got {directions!r}")


def seeded_direction(rng: np.random.Generator, scales: np.ndarray) -> np.ndarray:
    """Random signs times weights in [1, 2] times each coordinate's scale: no entry is
    hidden by a tiny weight, and unequal weights keep opposite errors from cancelling."""
    signs = rng.choice([-1.0, 1.0], size=scales.size)
    return signs * rng.uniform(1.0, 2.0, size=scales.size) * scales


def result_from(
    judged: list[Judged],
    *,
    check: str,
    noun: str,
    point: np.ndarray,
    seed: int,
    mode: str,
    references: tuple[str, ...],
    evaluations: int,
    counted: str,
    notes: list[str],
    failure: tuple[str, Mismatch] | None = None,
    doubt: str | None = None,
) -> GradCheckResult:
    """The verdict over judged blocks, worded as ``check_grad``'s.

    ``failure`` is a failure found by other means (an asymmetric Hessian, a jvp and a
    vjp that are not adjoint): its reason and entry, used when no entry mismatches its
    reference and appended to the reason otherwise.  ``doubt`` makes a would-be pass
    inconclusive with that reason.
    """
    records, candidates = [], []
    checked = sum(j.bad.size for j in judged)
    for block in judged:
        ratio = np.abs(block.claimed - block.value) / np.where(block.tolerance > 0, block.tolerance, np.inf)
        ratio = np.where(np.isfinite(ratio), ratio, np.inf)
        for row, column in zip(*np.nonzero(block.bad), strict=True):
            records.append(
                (float(ratio[row, column]), block.record(row, column), float(block.error[row, column]))
            )
        candidates += [(block, ratio)]
    records.sort(key=lambda r: -r[0])
    uncertain = [(b, r) for b, r in candidates if np.any(b.uncertain & ~b.bad)]
    if records:
        verdict = "fail"
        count = len(records)
        reason = (
            f"all {checked} {noun} mismatch" if count == checked else f"{count} of {checked} {noun} mismatch"
        )
        if failure is not None:
            reason += f"; also {failure[0]}"
        worst, error = records[0][1], records[0][2]
    elif failure is not None:
        verdict, reason = "fail", failure[0]
        worst, error = failure[1], np.nan
    elif uncertain or doubt:
        verdict = "inconclusive"
        if doubt:
            reason = doubt
            worst, error = _largest(candidates)
        else:
            block, ratio = uncertain[0]
            row, column = (int(i[0]) for i in np.nonzero(block.uncertain & ~block.bad))
            worst, error = block.record(row, column), float(block.error[row, column])
            reason = (
                f"the reference at {worst.label} is known to +- {error:.2g} only (on {worst.reference!r}), "
                f"too uncertain to resolve a relative error of {RESOLUTION:g}"
            )
    else:
        verdict = "pass"
        reason = f"all {checked} {noun} agree"
        worst, error = _largest(candidates)
    return GradCheckResult(
        verdict,
        reason,
        worst,
        error,
        references=references,
        evaluations=evaluations,
        seconds=0.0,
        point=point,
        point_index=None,
        mismatches=tuple(r[1] for r in records),
        checked=checked,
        mode=mode,
        seed=seed,
        notes=tuple(notes),
        check=check,
        counted=counted,
    )


def _largest(candidates) -> tuple[Mismatch | None, float]:
    """The entry closest to its tolerance, for the report of a pass."""
    best = None
    for block, ratio in candidates:
        if ratio.size:
            row, column = np.unravel_index(int(np.argmax(ratio)), ratio.shape)
            if best is None or ratio[row, column] > best[0]:
                best = (ratio[row, column], block.record(row, column), float(block.error[row, column]))
    return (None, np.nan) if best is None else (best[1], best[2])
