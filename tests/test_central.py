"""Central differences: properties from the Taylor expansion, not just values."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from diffcompare.methods.central.difference import central_difference, central_step

EPS = np.finfo(np.float64).eps


def test_step_is_cbrt_eps_scaled_by_the_coordinate():
    np.testing.assert_array_equal(central_step(np.array([0.5, -4.0])), np.cbrt(EPS) * np.array([1.0, 4.0]))


@settings(max_examples=50, deadline=None)
@given(a=st.floats(-10, 10), b=st.floats(-10, 10), x=st.floats(-100, 100))
def test_a_quadratic_is_exact_up_to_rounding(a, b, x):
    # f''' = 0, so only rounding remains: about eps |f| / h
    got = central_difference(lambda v, xp: a * v[0] ** 2 + b * v[0], [x])[0]
    bound = 8 * EPS * (abs(a) * x * x + abs(b * x) + 1.0) / central_step(np.array([x]))[0]
    assert abs(got - (2 * a * x + b)) <= bound


def test_the_error_on_a_cubic_is_h_squared():
    # (f(x+h) - f(x-h)) / 2h = 3x^2 + h^2 for f = x^3: the truncation term is exactly h^2
    h = central_step(np.array([1.0]))[0]
    got = central_difference(lambda v, xp: v[0] ** 3, [1.0])[0]
    assert abs((got - 3.0) - h**2) < 0.05 * h**2 + 1e-14


def test_2n_evaluations_and_no_more():
    calls = []

    def f(x, xp):
        calls.append(x.copy())
        return xp.sum(x**2)

    central_difference(f, np.arange(1.0, 6.0))
    assert len(calls) == 10
    for i, point in enumerate(calls):
        assert np.count_nonzero(point != np.arange(1.0, 6.0)) == 1, i


def test_the_step_actually_taken_is_used():
    # at x = 1e6 the step 6.06 is not exact in float64 sums; dividing by the true
    # distance keeps a linear function exact
    got = central_difference(lambda v, xp: 3.0 * v[0], [1e6 + 0.1])[0]
    assert got == 3.0
