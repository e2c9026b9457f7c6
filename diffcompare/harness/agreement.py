"""Cross-method agreement where there is no 50-digit truth to score against.

When SymPy cannot trace ``f`` (an operation it lacks, Python control flow on values) or
``f`` has more coordinates than :data:`~diffcompare.truth.reference.MAX_REFERENCE_DIM`,
no method's error can be measured.  What can be measured is how far the methods are
from each other.  Agreement is not accuracy: methods that share a flaw (the same wrong
rule, the same cancellation) agree on a wrong number.  So the harness names these
figures apart from the errors (``consensus_dist``, ``agrees_with``) and its rows say
"no reference: agreement only".

The *consensus* is the componentwise median of the largest group of exact methods
(``family == "exact"``: tape, forward, autograd, the complex step, the closed forms)
whose gradients all agree pairwise within :data:`AGREEMENT_RTOL`; there is none when
fewer than two exact methods agree, or two such groups are equally large.  Difference
methods never join it: their truncation error is what the consensus should expose.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from ..truth.accuracy import normwise_relative_error

__all__ = ["AGREEMENT_RTOL", "Agreement", "agreement", "gradient_distance"]

#: Two gradients agree when ``max|a - b| <= AGREEMENT_RTOL * max(max|a|, max|b|)``.  Exact
#: methods differ by rounding (~1e-15 of the gradient on well-conditioned points) and
#: central differences by ~1e-10 to 1e-8; a wrong rule or a sign error is off by O(1),
#: and even a wrong term among a hundred by ~1e-2.
AGREEMENT_RTOL = 1e-6


def gradient_distance(a: np.ndarray, b: np.ndarray) -> float:
    """``max|a - b|`` relative to the larger of ``max|a|`` and ``max|b|`` (0 if equal; symmetric).

    Examples
    --------
    >>> gradient_distance(np.array([1.0, 2.0]), np.array([1.0, 2.5]))
    0.2
    """
    scale = max(float(np.max(np.abs(a), initial=0.0)), float(np.max(np.abs(b), initial=0.0)))
    with np.errstate(invalid="ignore"):
        diff = np.where(a == b, 0.0, np.abs(a - b))
    worst = float(np.max(np.where(np.isnan(diff), np.inf, diff), initial=0.0))
    if worst == 0.0:
        return 0.0
    return worst / scale if scale > 0 else worst


@dataclass(frozen=True)
class Agreement:
    """How the gradients of several methods at one point relate.

    Attributes
    ----------
    consensus : tuple of str
        The exact methods whose median is the consensus (empty: no consensus).
    consensus_dist : dict of str to float
        Per method, ``max|g - consensus| / max|consensus|`` (NaN without a consensus).
    agrees_with : dict of str to tuple of str
        Per method, the other methods within :data:`AGREEMENT_RTOL` of it.
    """

    consensus: tuple[str, ...]
    consensus_dist: dict[str, float]
    agrees_with: dict[str, tuple[str, ...]]


def agreement(gradients: Mapping[str, np.ndarray], exact: frozenset[str] | set[str]) -> Agreement:
    """Compare the gradients of several methods at one point with each other.

    Parameters
    ----------
    gradients : mapping of str to numpy.ndarray
        Each method's gradient, in the order to report; non-finite ones agree with
        nothing and never join the consensus.
    exact : set of str
        The names among them of the exact methods.

    Returns
    -------
    Agreement

    Examples
    --------
    >>> g = np.array([1.0, 2.0])
    >>> gradients = {"tape": g, "forward": g, "autograd": -g, "central": g + 1e-9}
    >>> result = agreement(gradients, {"tape", "forward", "autograd"})
    >>> result.consensus, result.agrees_with["autograd"], result.consensus_dist["autograd"]
    (('tape', 'forward'), (), 2.0)
    """
    names = list(gradients)
    finite = {m for m in names if np.all(np.isfinite(gradients[m]))}
    close = {
        (a, b)
        for a, b in itertools.permutations(names, 2)
        if a in finite and b in finite and gradient_distance(gradients[a], gradients[b]) <= AGREEMENT_RTOL
    }
    agrees_with = {m: tuple(other for other in names if (m, other) in close) for m in names}
    members = _largest_agreeing_group([m for m in names if m in exact and m in finite], close)
    if members:
        consensus = np.median(np.stack([gradients[m] for m in members]), axis=0)
        distance = {m: float(normwise_relative_error(gradients[m], consensus)) for m in names}
    else:
        distance = dict.fromkeys(names, float("nan"))
    return Agreement(members, distance, agrees_with)


def _largest_agreeing_group(candidates: list[str], close: set[tuple[str, str]]) -> tuple[str, ...]:
    """The unique largest set of at least two candidates that agree pairwise, or ``()``."""
    # At most the seven exact methods: every subset is cheap to try, largest first.
    for size in range(len(candidates), 1, -1):
        groups = [
            group
            for group in itertools.combinations(candidates, size)
            if all((a, b) in close for a, b in itertools.combinations(group, 2))
        ]
        if len(groups) == 1:
            return groups[0]
        if groups:
            return ()  # two equally large camps: no consensus to speak of
    return ()
