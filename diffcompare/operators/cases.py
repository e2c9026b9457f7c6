"""Vector functions made from the suite, for the Jacobian operators and their truth.

Every suite function of one dimension stacked into ``g(x) = [f1(x), f2(x), ...]``, at
seeded points in (0.2, 0.8)^n, and the bundle-adjustment residuals (2 cameras, 3
points, 4 observations, at the workload's three points).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

import numpy as np

from ..suite.records import SuiteFunction, suite
from ..suite.workloads import bundle_adjustment

__all__ = ["StackedFunction", "stacked_suite", "vector_cases"]


class StackedFunction:
    """``g(x, xp) = [f1(x, xp), f2(x, xp), ...]`` for suite records of one dimension.

    A class, not a closure, so that a worker process can receive it (the records are
    sent by reference to their module).
    """

    def __init__(self, records: Sequence[SuiteFunction]) -> None:
        self.records = tuple(records)
        self.__name__ = f"suite_dim{self.records[0].dim}"

    def __call__(self, x, xp):
        return xp.stack([record.f(x, xp) for record in self.records])


def stacked_suite(records: Iterable[SuiteFunction] | None = None, points: int = 3) -> Iterator[tuple]:
    """``(name, g, x)``: the records (default: the suite) stacked by dimension, each at
    ``points`` points drawn uniformly from (0.2, 0.8)^n with the dimension as seed."""
    groups: dict[int, list[SuiteFunction]] = {}
    for record in suite() if records is None else records:
        groups.setdefault(record.dim, []).append(record)
    for dim, group in groups.items():
        g = StackedFunction(group)
        for i, x in enumerate(np.random.default_rng(dim).uniform(0.2, 0.8, (3, dim))[:points]):
            yield f"suite_dim{dim}[{i}]", g, x


def vector_cases():
    """``(name, g, x)`` for the Jacobian operators: the whole suite stacked at three points,
    and the bundle-adjustment residuals."""
    yield from stacked_suite()
    workload = bundle_adjustment(2, 3, 4)
    for i, x in enumerate(workload.points):
        yield f"bundle_adjustment[{i}]", workload.f.residuals, x
