"""Vector functions made from the suite, for the Jacobian operators and their truth.

Every suite function of one dimension stacked into ``g(x) = [f1(x), f2(x), ...]``, at
three seeded points in (0.2, 0.8)^n, and the bundle-adjustment residuals (2 cameras, 3
points, 4 observations, at the workload's three points).
"""

from __future__ import annotations

import numpy as np

from ..suite.records import suite
from ..suite.workloads import bundle_adjustment

__all__ = ["vector_cases"]


def _stacked(records):
    return lambda x, xp: xp.stack([record.f(x, xp) for record in records])


def vector_cases():
    """``(name, g, x)`` for the Jacobian operators."""
    groups = {}
    for record in suite():
        groups.setdefault(record.dim, []).append(record)
    for dim, records in groups.items():
        g = _stacked(records)
        for i, x in enumerate(np.random.default_rng(dim).uniform(0.2, 0.8, (3, dim))):
            yield f"suite_dim{dim}[{i}]", g, x
    workload = bundle_adjustment(2, 3, 4)
    for i, x in enumerate(workload.points):
        yield f"bundle_adjustment[{i}]", workload.f.residuals, x
