"""Diagnosing a wrong gradient as a whole: one factor between the claim and the truth.

A gradient that is wrong everywhere by the same factor is a different bug from a wrong
component: a forgotten ``1/N`` of a mean, a step size or learning rate multiplied in, a
sign flipped for the whole loss.  :func:`common_factor` looks for that factor over all
the evidence a check has (the components it compared, the directional derivatives).
"""

from __future__ import annotations

import numpy as np

__all__ = ["RELATIVE", "common_factor", "describe_factor"]

#: How closely every pair must agree on the factor, relatively, beyond the references'
#: own errors.  A claim that is c times a right gradient agrees to its rounding; one
#: that is nearly a factor must not pass for one (Beale's gradient taken at a point
#: shifted by 1e-5 is 0.99993 times the true one, component ratios 9e-7 apart).
RELATIVE = 1e-9


def common_factor(claimed, reference, tolerance) -> float | None:
    """The factor ``c != 1`` with ``claimed = c * reference`` on every pair, or None.

    Pairs whose ``|reference|`` is within its ``tolerance`` of 0 cannot tell ``c``; they
    must hold a claim near 0 too (``c * 0 = 0``).  At least two other pairs must fix
    ``c``, so that one wrong component is never called a factor.

    Parameters
    ----------
    claimed, reference : array_like
        The claimed derivatives and their references, pairwise (any equal shapes).
    tolerance : array_like
        How far each reference may be from the truth, in its own units (broadcast):
        a pair agrees with ``c`` when ``|claimed - c * reference| <= |c| * tolerance``.
        Callers add :data:`RELATIVE` times ``|reference|`` to the references' errors.

    Returns
    -------
    float or None
        ``c``, or None when the pairs agree with no common factor, agree with ``c = 1``
        (the claim is right there), or say nothing: non-finite values, fewer than two
        pairs away from 0, or a claim of 0 everywhere.

    Raises
    ------
    ValueError
        If ``claimed`` and ``reference`` hold different numbers of values.

    Examples
    --------
    >>> common_factor([2.0, -4.0, 0.0], [1.0, -2.0, 0.0], 1e-9)
    2.0
    >>> common_factor([-1.0, 3.0], [1.0, -3.0], 1e-9)
    -1.0
    >>> common_factor([2.0, -2.0, 3.0], [1.0, -2.0, 3.0], 1e-9) is None  # one wrong component
    True
    """
    claimed = np.asarray(claimed, dtype=np.float64).ravel()
    reference = np.asarray(reference, dtype=np.float64).ravel()
    if claimed.shape != reference.shape:
        raise ValueError(
            "claimed and reference must hold the same number of values; "
            f"got {claimed.size} and {reference.size}"
        )
    tolerance = np.broadcast_to(np.asarray(tolerance, dtype=np.float64).ravel(), reference.shape)
    if not (
        np.all(np.isfinite(claimed)) and np.all(np.isfinite(reference)) and np.all(np.isfinite(tolerance))
    ):
        return None
    informative = np.abs(reference) > tolerance
    if np.count_nonzero(informative) < 2:
        return None
    # The ratios claimed/reference, weighted by their precision: a ratio is known to
    # tolerance/|reference| relatively, so the most precise pairs set c (a reference
    # known to 1e-6 must not pull c off one known to 1e-15).
    ratio = claimed[informative] / reference[informative]
    weight = 1.0 / np.fmax(tolerance[informative] / np.abs(reference[informative]), 1e-15) ** 2
    c = float(weight @ ratio / np.sum(weight))
    if c == 0.0 or not np.isfinite(c):
        return None
    if np.all(np.abs(claimed - reference) <= tolerance):
        return None  # c = 1 fits: there is nothing to diagnose
    if np.all(np.abs(claimed - c * reference) <= abs(c) * tolerance):
        return c
    return None


def describe_factor(c: float) -> str:
    """What a common factor ``c`` says about the claim, for a verdict's reason.

    Examples
    --------
    >>> describe_factor(1000.0)
    'the claim is 1000 x the reference everywhere: a missing factor?'
    >>> describe_factor(-1.0000000001)
    'the claim has the opposite sign everywhere'
    >>> describe_factor(1 + 2e-8)
    'the claim is 1.00000002 x the reference everywhere: a missing factor?'
    """
    shown = f"{c:.6g}"
    if shown == "-1":
        return "the claim has the opposite sign everywhere"
    if shown == "1":  # a factor near 1 is shown with the digits that tell it from 1
        shown = f"{c:.12g}"
    what = "a missing factor and a flipped sign?" if c < 0 else "a missing factor?"
    return f"the claim is {shown} x the reference everywhere: {what}"
