"""What the operation test files share: the 50-digit truth of their cases, cached, and one closeness check."""

from __future__ import annotations

import numpy as np
import pytest

import diffcompare


def truth_of_cases():
    """``reference(case, point)``: the certified gradient of ``case.f`` at ``point``, computed once."""
    cache = {}

    def reference(case, point):
        key = (case.name, point)
        if key not in cache:
            result = diffcompare.reference_gradient(case.f, np.array(point))
            assert result.status == "ok", (case.name, result.message)
            cache[key] = result.value
        return cache[key]

    return reference


def assert_close(got, expected, rtol, what):
    """Normwise: ``max|got - expected| <= rtol * max|expected|``."""
    error = np.max(np.abs(np.asarray(got) - expected))
    scale = max(np.max(np.abs(expected)), 1e-300)
    assert error <= rtol * scale, f"{what}: error {error:.3g} (scale {scale:.3g})\n{got}\n{expected}"


def case_params(cases):
    """One pytest parameter per (case, method) of each case's methods."""
    for case in cases:
        for method in case.methods:
            yield pytest.param(case, method, id=f"{case.name}-{method}")
