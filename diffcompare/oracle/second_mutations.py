"""A mutation suite for second-order checkers: correct Hessians and HVPs, and wrong ones.

Every :class:`HessianCase` is a suite function at one of its ordinary or hard points
with its exact Hessian from an independent source, autograd's ``hessian`` (forward
over reverse through autograd's own rules, not diffcompare's tape).  :data:`MUTATIONS`
turns the exact Hessian into a wrong one in named ways; a checker must pass every
correct Hessian and HVP and catch every mutation.

>>> case = cases()[0]
>>> wrong = mutated_hessian(case, "sign_flip")
>>> int(np.count_nonzero(wrong != case.hessian)) in (1, 2)
True
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import numpy as np

__all__ = ["HessianCase", "MUTATIONS", "HVP_MUTATIONS", "cases", "mutated_hessian", "SIGNIFICANT", "DISTINCT"]

#: A mutated entry is at least this fraction of the Hessian's max-norm (as for the
#: first-order suite: a relative error on an entry that is rounding noise next to the
#: others cannot be seen, and the oracle does not promise it).
SIGNIFICANT = 1e-3
#: A transposed block must differ from its transpose by this fraction of its norm.
DISTINCT = 1e-3
#: The one-sided change of the asymmetric mutation: far below what differences can
#: resolve (1e-6), so only the symmetry test can catch it.
ASYMMETRY = 1e-8


@dataclass(frozen=True, eq=False)
class HessianCase:
    """A suite function at one point with its exact Hessian.

    Attributes
    ----------
    name : str
        ``"<function>/<ordinary|tag>-<i>"``.
    f : callable
        ``f(x, xp)``.
    x : numpy.ndarray
    hessian : numpy.ndarray
        autograd's Hessian at ``x``, shape ``(n, n)``, made exactly symmetric by
        averaging with its transpose (the two halves differ by rounding only).
    hard : bool
        Whether ``x`` is one of the function's hard points.
    """

    name: str
    f: Callable
    x: np.ndarray
    hessian: np.ndarray
    hard: bool

    @property
    def seed(self) -> int:
        """A seed of the case's own, for the entry a mutation picks."""
        return zlib.crc32(self.name.encode())


@cache
def cases() -> tuple[HessianCase, ...]:
    """Every suite function at its ordinary and hard points where f and its Hessian are
    finite and the Hessian has a normal (not subnormal) entry."""
    import autograd

    from ..methods.autograd.namespace import as_traced, autograd_namespace
    from ..ops.numpy_namespace import numpy_namespace
    from ..suite.records import suite

    found = []
    for record in suite():
        hessian = autograd.hessian(lambda x, f=record.f: f(as_traced(x), autograd_namespace))
        points = [(f"ordinary-{i}", p, False) for i, p in enumerate(record.points)]
        points += [
            (f"{h.tag}-{i}", np.array(h.x, dtype=float), True) for i, h in enumerate(record.hard_points)
        ]
        for label, x, hard in points:
            with np.errstate(all="ignore"):
                value = np.asarray(hessian(x), dtype=np.float64)
                at_x = float(record.f(x, numpy_namespace))
            if not (np.isfinite(at_x) and np.all(np.isfinite(value))):
                continue
            if np.max(np.abs(value)) < np.finfo(np.float64).tiny:
                continue  # zero or subnormal: nothing a relative mutation could change
            value = 0.5 * (value + value.T)
            x.setflags(write=False)
            found.append(HessianCase(f"{record.name}/{label}", record.f, x, value, hard))
    return tuple(found)


def _significant_entry(h: np.ndarray, rng: np.random.Generator, off_diagonal: bool) -> tuple[int, int] | None:
    mask = np.abs(h) >= SIGNIFICANT * np.max(np.abs(h))
    if off_diagonal:
        mask &= ~np.eye(h.shape[0], dtype=bool)
    mask = np.triu(mask | mask.T)
    rows, columns = np.nonzero(mask)
    if rows.size == 0:
        return None
    k = rng.integers(rows.size)
    return int(rows[k]), int(columns[k])


def _scaled(factor: float, off_diagonal: bool = False, symmetric: bool = True):
    def mutate(h, rng):
        entry = _significant_entry(h, rng, off_diagonal)
        if entry is None:
            return None
        i, j = entry
        h = h.copy()
        h[i, j] *= factor
        if symmetric:
            h[j, i] = h[i, j]
        return h

    return mutate


def _transposed_block(h, rng):
    # The off-diagonal block of a 2x2 block partition written transposed (B^T where B
    # belongs), and its mirror likewise: still symmetric, wrong where B is not.
    k = h.shape[0] // 2
    if k < 2:
        return None
    block = h[:k, k : 2 * k]
    if np.max(np.abs(block - block.T)) < DISTINCT * np.max(np.abs(h)):
        return None
    h = h.copy()
    h[:k, k : 2 * k] = block.T
    h[k : 2 * k, :k] = block
    return h


def _dropped_cross_term(h, rng):
    # A mixed partial forgotten: one significant off-diagonal pair set to zero.
    entry = _significant_entry(h, rng, off_diagonal=True)
    if entry is None:
        return None
    i, j = entry
    h = h.copy()
    h[i, j] = h[j, i] = 0.0
    return h


# fmt: off
#: Name -> mutation(hessian, rng) returning the wrong Hessian, or None where it does not apply.
MUTATIONS: dict[str, Callable] = {
    "entry_1e-3":       _scaled(1 + 1e-3),
    "entry_1e-6":       _scaled(1 + 1e-6),
    "transposed_block": _transposed_block,
    "asymmetric":       _scaled(1 + ASYMMETRY, off_diagonal=True, symmetric=False),
    "dropped_term":     _dropped_cross_term,
    "sign_flip":        _scaled(-1.0),
}
# fmt: on

#: The mutations an HVP can carry: an asymmetry of 1e-8 is no HVP error the oracle
#: promises to see (its resolution is 1e-6), and only a full Hessian has a symmetry test.
HVP_MUTATIONS = tuple(name for name in MUTATIONS if name != "asymmetric")


def mutated_hessian(case: HessianCase, name: str) -> np.ndarray | None:
    """The exact Hessian with mutation ``name``, or None where it does not apply."""
    return MUTATIONS[name](case.hessian, np.random.default_rng([case.seed, zlib.crc32(name.encode())]))
