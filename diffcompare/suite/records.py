"""Test-function records: one definition, its domain and its seeded points.

A :class:`SuiteFunction` holds ``f(x, xp)`` with everything the harness and the tests
need to evaluate it: its dimension, the box its ordinary points are drawn from, and the
tagged hard points (saturation, near a singularity, huge or tiny arguments,
cancellation) where formulas lose digits.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np

__all__ = ["HardPoint", "SuiteFunction", "SEED", "suite"]

#: Seed of every random draw in the suite (points and data).
SEED = 20261123

#: Ordinary points drawn per function.
ORDINARY_POINTS = 3


@dataclass(frozen=True)
class HardPoint:
    """A point chosen to stress the numerics.

    Attributes
    ----------
    tag : str
        ``"saturation"``, ``"near_singularity"``, ``"large"``, ``"tiny"`` or
        ``"cancellation"``.
    x : tuple of float
        The point.
    note : str
        What happens there.
    formula_limited : bool
        True where every exact method loses digits to the formula itself (the
        derivative's own evaluation is ill-conditioned), so no rule choice can help.
    """

    tag: str
    x: tuple[float, ...]
    note: str
    formula_limited: bool = False


@dataclass(frozen=True)
class SuiteFunction:
    """One test function and where to evaluate it.

    Attributes
    ----------
    name : str
        Unique name.
    f : callable
        ``f(x, xp)`` returning a scalar.
    dim : int
        Length of ``x``.
    domain : tuple
        ``(low, high)`` for every coordinate, or one such pair per coordinate; the
        ordinary points are drawn uniformly from this box.
    hard_points : tuple of HardPoint
        Tagged points that stress the numerics.
    scalable : bool
        True if ``f`` accepts any ``dim >= min_dim`` (see :meth:`resized`).
    min_dim : int
        Smallest dimension for scalable functions.
    smooth : bool
        False for functions with kinks (abs, max); ordinary points avoid them with
        probability one.
    notes : str
        What the function exercises.
    symbolic_reference : bool
        False where tracing ``f`` into SymPy (one expression per data point) would be
        too slow even though ``dim`` is small: the harness then measures random
        directional derivatives at 50 digits instead of the full reference.
    """

    name: str
    f: Callable
    dim: int
    domain: tuple
    hard_points: tuple[HardPoint, ...] = ()
    scalable: bool = False
    min_dim: int = 1
    smooth: bool = True
    notes: str = ""
    symbolic_reference: bool = True

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """Lower and upper corners of the domain box, each of shape ``(dim,)``."""
        box = np.asarray(self.domain, dtype=np.float64)
        box = np.broadcast_to(box, (self.dim, 2)) if box.ndim == 1 else box
        return box[:, 0].copy(), box[:, 1].copy()

    @property
    def points(self) -> np.ndarray:
        """Ordinary points, shape ``(3, dim)``, drawn with :data:`SEED`, the name and dim."""
        return self.points_for(SEED)

    def points_for(self, seed: int, count: int = ORDINARY_POINTS) -> np.ndarray:
        """``count`` ordinary points drawn with ``seed``, shape ``(count, dim)``.

        One random stream per (seed, name, dim): the same seed gives the same points, and
        the first points of a longer draw are the points of a shorter one.
        """
        if not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f"seed must be a non-negative integer; got {seed!r}")
        if not isinstance(count, (int, np.integer)) or count < 0:
            raise ValueError(f"count must be a non-negative integer; got {count!r}")
        rng = np.random.default_rng([int(seed), zlib.crc32(self.name.encode()), self.dim])
        low, high = self.bounds()
        return rng.uniform(low, high, size=(int(count), self.dim))

    def resized(self, dim: int) -> SuiteFunction:
        """The same function at another dimension (scalable functions only).

        Raises
        ------
        ValueError
            If the function is not scalable or ``dim < min_dim``.
        """
        if not self.scalable:
            raise ValueError(f"{self.name} has a fixed dimension {self.dim}; it cannot be resized")
        if not isinstance(dim, (int, np.integer)) or dim < self.min_dim:
            raise ValueError(f"dim for {self.name} must be an integer >= {self.min_dim}; got {dim!r}")
        return replace(self, dim=int(dim), hard_points=())


def suite(names: Sequence[str] | None = None) -> tuple[SuiteFunction, ...]:
    """The suite of test functions.

    Parameters
    ----------
    names : sequence of str, optional
        Only these functions, in this order; the workloads (``gmm``,
        ``bundle_adjustment``, ``lstm``, at their small default sizes) may be named too.
        Without names: the test functions, not the workloads (see
        :func:`~diffcompare.suite.workloads.workloads`).

    Returns
    -------
    tuple of SuiteFunction

    Raises
    ------
    ValueError
        If a name is not in the suite.

    Examples
    --------
    >>> rosenbrock, = suite(["rosenbrock"])
    >>> rosenbrock.dim, rosenbrock.points.shape
    (4, (3, 4))
    """
    from .functions import SUITE

    if names is None:
        return SUITE
    if isinstance(names, str):
        raise TypeError("names must be a sequence of function names, not a single string")
    from .workloads import workloads

    by_name = {record.name: record for record in (*SUITE, *workloads())}
    unknown = [n for n in names if n not in by_name]
    if unknown:
        raise ValueError(f"unknown suite functions {unknown}; known: {', '.join(by_name)}")
    return tuple(by_name[n] for n in names)
