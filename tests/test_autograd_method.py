"""The autograd method on what autograd alone does differently from the other tracers."""

from __future__ import annotations

import numpy as np
import pytest

import diffcompare

X = np.array([0.5, -1.5, 2.0])


# autograd warns that the output does not depend on the input: that is the point here
@pytest.mark.filterwarnings("ignore:Output seems independent of input")
@pytest.mark.parametrize(
    "f",
    [
        lambda x, xp: xp.sum(x > 0.0),  # numpy int64
        lambda x, xp: xp.sum(x > 0.0) > 1,  # numpy bool
        lambda x, xp: len(x),  # Python int
        lambda x, xp: 2.5,
    ],
    ids=["int64", "bool", "int", "float"],
)
def test_a_result_that_does_not_depend_on_x_has_gradient_zero(f):
    got = diffcompare.grad(f, method="autograd")(X)
    np.testing.assert_array_equal(got, np.zeros(3))
    assert got.dtype == np.float64
