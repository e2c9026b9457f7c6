"""A mutation suite for the Jacobian-product checkers: correct JVPs and VJPs, and wrong ones.

Every :class:`ProductCase` is a vector function ``g(x, xp)`` at one point: the suite's
functions of one dimension stacked into ``g(x) = [f1(x), f2(x), ...]`` at seeded points
of :data:`BOXES` (as in the operators' agreement study, plus a wider box), and the
bundle-adjustment residuals at the workload's points.  The correct products are diffcompare's own
operators: forward mode for ``J t`` (one dual-number pass) and the tape for ``J^T u``
(one reverse pass).  :data:`MUTATIONS` turns them into wrong ones in named ways, each
a fixed change of the Jacobian at the case's point (``J + D``, built from the forward
Jacobian there) or a wrong vector handed on; a checker must pass every correct product
and catch every mutation.

>>> case = cases()[0]
>>> wrong = mutant(case, "sign_flip")
>>> t = np.ones(case.x.size)
>>> bool(np.any(wrong.jvp(case.x, t) != case.jvp(case.x, t)))
True
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import numpy as np

__all__ = ["ProductCase", "Mutant", "MUTATIONS", "cases", "mutant", "SIGNIFICANT", "POINTS", "BOXES"]

#: A mutated entry is at least this fraction of the Jacobian's max-norm, as in the
#: second-order suite: an error on an entry that is rounding noise next to the others
#: is no error a check of the products can promise to see.
SIGNIFICANT = 1e-3
#: Seeded points per stacked dimension in each box: (0.2, 0.8)^n, where every suite
#: function is defined, and (2, 8)^n, where exponentials and powers grow apart.
POINTS = 3
BOXES = {"": (0.2, 0.8), "wide": (2.0, 8.0)}


@dataclass(frozen=True, eq=False)
class ProductCase:
    """A vector function at one point with its correct products.

    Attributes
    ----------
    name : str
        ``"suite_dim<n>[<i>]"``, ``"suite_dim<n>/wide[<i>]"`` or ``"bundle_adjustment[<i>]"``.
    g : callable
        ``g(x, xp)`` returning shape ``(m,)``.
    x : numpy.ndarray
    jacobian : numpy.ndarray
        The forward-mode Jacobian at ``x``, shape ``(m, n)``: what the mutations change.
    jvp, vjp : callable
        The correct ``jvp(x, t)`` (forward mode) and ``vjp(x, u)`` (the tape).
    """

    name: str
    g: Callable
    x: np.ndarray
    jacobian: np.ndarray
    jvp: Callable
    vjp: Callable

    @property
    def seed(self) -> int:
        """A seed of the case's own, for the entry a mutation picks."""
        return zlib.crc32(self.name.encode())


@dataclass(frozen=True)
class Mutant:
    """A wrong ``jvp(x, t)`` and the matching wrong ``vjp(x, u)`` (the same bug in each)."""

    jvp: Callable
    vjp: Callable


def _stacked(records) -> Callable:
    return lambda x, xp: xp.stack([record.f(x, xp) for record in records])


@cache
def cases() -> tuple[ProductCase, ...]:
    """The stacked suite functions and the bundle-adjustment residuals where ``g`` and
    its Jacobian are finite and the Jacobian has a normal entry."""
    from ..operators import jacobian, jvp, vjp
    from ..ops.numpy_namespace import numpy_namespace
    from ..suite.records import suite
    from ..suite.workloads import bundle_adjustment

    groups: dict[int, list] = {}
    for record in suite():
        groups.setdefault(record.dim, []).append(record)
    found = [
        (f"suite_dim{dim}{'/' * bool(box)}{box}[{i}]", _stacked(records), x)
        for dim, records in sorted(groups.items())
        for box, (low, high) in BOXES.items()
        for i, x in enumerate(
            np.random.default_rng([dim, zlib.crc32(box.encode())]).uniform(low, high, (POINTS, dim))
        )
    ]
    workload = bundle_adjustment(2, 3, 4)
    found += [(f"bundle_adjustment[{i}]", workload.f.residuals, x) for i, x in enumerate(workload.points)]
    built = []
    for name, g, x in found:
        x = np.array(x, dtype=np.float64)
        with np.errstate(all="ignore"):
            if not np.all(np.isfinite(np.asarray(g(x, numpy_namespace), dtype=np.float64))):
                continue  # outside some function's domain
            value = np.asarray(jacobian(g, "forward")(x), dtype=np.float64)
        if not np.all(np.isfinite(value)) or np.max(np.abs(value)) < np.finfo(np.float64).tiny:
            continue
        x.setflags(write=False)
        built.append(ProductCase(name, g, x, value, jvp(g, "forward"), vjp(g, "tape")))
    return tuple(built)


def _changed(case: ProductCase, change: np.ndarray) -> Mutant:
    """The products of ``J + change`` at the case's point."""
    return Mutant(
        lambda x, t: case.jvp(x, t) + change @ t,
        lambda x, u: case.vjp(x, u) + change.T @ u,
    )


def _significant_entry(jacobian: np.ndarray, rng: np.random.Generator) -> tuple[int, int]:
    rows, columns = np.nonzero(np.abs(jacobian) >= SIGNIFICANT * np.max(np.abs(jacobian)))
    k = rng.integers(rows.size)
    return int(rows[k]), int(columns[k])


def _entry(factor: float) -> Callable:
    """One significant entry of ``J`` times ``factor``."""

    def mutate(case: ProductCase, rng: np.random.Generator) -> Mutant:
        i, k = _significant_entry(case.jacobian, rng)
        change = np.zeros_like(case.jacobian)
        change[i, k] = (factor - 1.0) * case.jacobian[i, k]
        return _changed(case, change)

    return mutate


def _transposed(case: ProductCase, rng: np.random.Generator) -> Mutant | None:
    # The leading square block of J written transposed (the index order of a
    # hand-written loop swapped): wrong where that block is not symmetric.
    k = min(case.jacobian.shape)
    block = case.jacobian[:k, :k]
    if k < 2 or np.max(np.abs(block - block.T)) < SIGNIFICANT * np.max(np.abs(case.jacobian)):
        return None
    change = np.zeros_like(case.jacobian)
    change[:k, :k] = block.T - block
    return _changed(case, change)


def _wrong_direction(case: ProductCase, rng: np.random.Generator) -> Mutant | None:
    # The product taken along the vector shifted by one place (an off-by-one index):
    # J roll(t) and J^T roll(u).
    m, n = case.jacobian.shape
    if m < 2 or n < 2:
        return None
    return Mutant(
        lambda x, t: case.jvp(x, np.roll(t, 1)),
        lambda x, u: case.vjp(x, np.roll(u, 1)),
    )


# fmt: off
#: Name -> mutation(case, rng) returning the wrong products, or None where it does not apply.
MUTATIONS: dict[str, Callable] = {
    "entry_1e-3":      _entry(1 + 1e-3),
    "entry_1e-6":      _entry(1 + 1e-6),
    "transposed":      _transposed,
    "dropped_term":    _entry(0.0),
    "sign_flip":       _entry(-1.0),
    "wrong_direction": _wrong_direction,
}
# fmt: on


def mutant(case: ProductCase, name: str) -> Mutant | None:
    """The case's products with mutation ``name``, or None where it does not apply."""
    return MUTATIONS[name](case, np.random.default_rng([case.seed, zlib.crc32(name.encode())]))
