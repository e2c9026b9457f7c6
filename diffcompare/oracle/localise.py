"""Finding the wrong components of a gradient by group tests (adaptive bisection).

A group test checks ``sum_{k in S} g_k d_k`` against the directional derivative of
``f`` along ``d`` restricted to ``S``: it fails when some component in ``S`` is wrong
(random weights ``d_k`` of size 1 to 2 make it unlikely that errors cancel).  Starting
from the whole index set, which already failed, each failing group is halved and both
halves are tested; passing halves are dropped.  A single wrong component is found with
two tests per halving, ``2 log2(n)`` in all, and ``w`` of them with about
``2 w log2(n / w)``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__ = ["localise"]


def localise(
    failing: Callable[[np.ndarray], bool], n: int, limit: int
) -> tuple[list[int], list[np.ndarray], list[np.ndarray]]:
    """Components whose group tests fail, found by bisection from the failing set ``0..n-1``.

    Parameters
    ----------
    failing : callable
        ``failing(indices) -> bool``, the group test.
    n : int
        Number of components; the whole set is assumed to fail.
    limit : int
        Stop after this many components are found.

    Returns
    -------
    found : list of int
        The components isolated, in increasing order.
    unresolved : list of numpy.ndarray
        Groups that failed while both of their halves passed (errors that cancel, or
        a group test on the edge of its tolerance).
    pending : list of numpy.ndarray
        Groups that failed their test but were left unsearched because ``limit`` was
        reached: more wrong components lie there.  Empty when the search finished;
        then ``found`` and ``unresolved`` hold every component that fails.

    Examples
    --------
    >>> wrong = {3, 11}
    >>> localise(lambda group: bool(wrong.intersection(group.tolist())), 16, limit=8)
    ([3, 11], [], [])
    >>> found, _, pending = localise(lambda group: True, 16, limit=2)
    >>> found, [group.tolist() for group in pending]
    ([0, 1], [[2, 3], [4, 5, 6, 7], [8, 9, 10, 11, 12, 13, 14, 15]])
    """
    found: list[int] = []
    unresolved: list[np.ndarray] = []
    stack = [np.arange(n)]
    while stack and len(found) < limit:
        group = stack.pop()
        if group.size == 1:
            found.append(int(group[0]))
            continue
        halves = [half for half in np.array_split(group, 2) if failing(half)]
        if not halves:
            unresolved.append(group)
        stack.extend(reversed(halves))  # the left half is examined first
    return sorted(found), unresolved, stack[::-1]
