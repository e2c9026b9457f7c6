"""How far a claimed derivative may be from a reference: tolerances as data, keyed by dtype.

A claimed value ``g`` passes against a reference ``r`` with error estimate ``e`` when ::

    |g - r| <= SAFETY * e + allowance

The first term is the reference's own uncertainty.  The second is the rounding the
claimed gradient is allowed: by default ``CLAIMED_RTOL[dtype]`` times the larger of
``|r|`` and the largest ``|r|`` of its row (the gradient's max-norm), because a
hand-written gradient computes small components from terms on the scale of the large
ones and can lose that much to cancellation.  A user's ``rtol``/``atol`` replace the
allowance (``atol + rtol |r|``, as in ``numpy.isclose``), never the reference term.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["CLAIMED_RTOL", "SAFETY", "RESOLUTION", "SIGNIFICANT", "Tolerance", "resolution"]

#: Rounding a correct gradient may carry, relative to the gradient's scale: 1024 ulps
#: for float64 (sums of thousands of terms, a few cancellations), 128 for float32
#: (1.5e-5: a float32 gradient good to 4 digits only is wrong), 16 ulps for float16,
#: whose 11 bits leave nothing to spare.
CLAIMED_RTOL = {
    np.dtype(np.float16): 16 * float(np.finfo(np.float16).eps),
    np.dtype(np.float32): 128 * float(np.finfo(np.float32).eps),
    np.dtype(np.float64): 1024 * float(np.finfo(np.float64).eps),
}

#: Multiple of a reference's error estimate that still counts as agreement.  Ridders'
#: estimate covered the true error with at most 0.32 of it used on the suite's
#: ordinary points (see :mod:`diffcompare.methods.richardson.ladder`); 2 leaves a factor 6.
SAFETY = 2.0

#: The relative error a check must be able to see for a "pass" to mean something.
#: Where the reference's own uncertainty is larger than this (a noisy ``f``, one
#: evaluated in low precision, a step ladder that never settles) and larger than the
#: claimed allowance, a claimed value that agrees is "inconclusive", not "pass".
#: Differences alone cannot do much better in hard places: ``|x|`` 1e-7 from its kink,
#: next to other terms of size 1, needs steps under 1e-7, where rounding ``f`` leaves
#: an uncertainty near 1e-7 of the derivative.  This is for an ``f`` computed in
#: float64; see :func:`resolution` for lower precisions.
RESOLUTION = 1e-6


#: Components smaller than this fraction of the gradient's max-norm are resolved on
#: that fraction's scale: differences have an absolute error set by ``|f|`` and the
#: step, so a component 1e-9 of the others could never be seen to 1e-6 of itself.
SIGNIFICANT = 1e-3


def resolution(f_eps: float) -> float:
    """The relative error a check can promise to see when ``f`` rounds to ``f_eps``.

    Differences of an ``f`` computed in float32 (eps 1.2e-7) are good to ~1e-4 of the
    gradient's scale at best, so ~1e-3 on a component a tenth of that scale: 1e5 eps
    (1.2e-2) is what can be promised.
    """
    return max(RESOLUTION, 1e5 * f_eps)


@dataclass(frozen=True)
class Tolerance:
    """The allowance for claimed values: default by dtype, or the user's ``rtol``/``atol``."""

    rtol: float
    atol: float
    user: bool

    @classmethod
    def choose(cls, dtype: np.dtype, rtol: float | None, atol: float | None) -> Tolerance:
        if rtol is None and atol is None:
            return cls(CLAIMED_RTOL[np.dtype(dtype)], 0.0, user=False)
        return cls(0.0 if rtol is None else rtol, 0.0 if atol is None else atol, user=True)

    def components(self, reference: np.ndarray, row_scale: np.ndarray) -> np.ndarray:
        """Allowance for each entry of an (m, k) block of reference values.

        ``row_scale`` (shape (m, 1)) is the max-norm of each row of the whole Jacobian,
        which a block of a few columns cannot see by itself.
        """
        magnitude = np.abs(reference)
        if self.user:
            return self.atol + self.rtol * magnitude
        return self.rtol * np.fmax(magnitude, row_scale)

    def directional(self, claimed: np.ndarray, direction: np.ndarray, reference: np.ndarray) -> np.ndarray:
        """Allowance for ``claimed @ direction``: rounding of each term of the sum."""
        if self.user:
            return self.atol * np.sum(np.abs(direction)) + self.rtol * np.abs(reference)
        return self.rtol * (np.abs(claimed) @ np.abs(direction))


def disagree(value, error, other, other_error, allowance) -> np.ndarray:
    """Where two references are further apart than both their uncertainties allow."""
    with np.errstate(invalid="ignore"):
        return ~(np.abs(value - other) <= SAFETY * (error + other_error) + allowance)


def mismatch(claimed, value, error, allowance) -> tuple[np.ndarray, np.ndarray]:
    """(where ``claimed`` is off the reference, the tolerance used); NaN claims are off."""
    tolerance = SAFETY * error + allowance
    with np.errstate(invalid="ignore"):
        return ~(np.abs(claimed - value) <= tolerance), tolerance


def unresolved(value, error, allowance, relative: float, row_scale) -> np.ndarray:
    """Where the reference is too uncertain to see an error of ``relative`` times
    ``|value|``, or for components below :data:`SIGNIFICANT` of the gradient's max-norm
    ``row_scale``, times that fraction of it."""
    with np.errstate(invalid="ignore"):
        scale = np.fmax(np.abs(value), SIGNIFICANT * row_scale)
        return ~(SAFETY * error <= np.maximum(allowance, relative * scale))
