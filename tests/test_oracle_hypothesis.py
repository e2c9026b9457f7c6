"""The oracle in property tests: points() and require_conclusive()."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, find, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable

from diffcompare import check_grad
from diffcompare.oracle.hypothesis import points, require_conclusive

FAST = settings(max_examples=15, database=None, derandomize=True, deadline=None)
# find() stops at the first example that satisfies it and shrinks that: room to search
SEARCH = settings(FAST, max_examples=200)


def softplus_sum(x):
    return np.sum(np.logaddexp(0.0, x))


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def abs_sum(x):
    return np.sum(np.abs(x))


def one_sided_sign(x):
    """The right derivative of |x|: 1 at 0, which central differences (0) do not see."""
    return np.where(x >= 0, 1.0, -1.0)


def test_points_are_finite_float64_in_the_box():
    low, high = np.array([-2.0, 0.5, 10.0]), np.array([-1.0, 3.0, 1e6])
    seen = []

    @FAST
    @given(points(3, low, high))
    def collect(x):
        seen.append(x)

    collect()
    assert len(seen) >= 10
    for x in seen:
        assert x.shape == (3,) and x.dtype == np.float64
        assert np.all(np.isfinite(x)) and np.all(low <= x) and np.all(x <= high)


def test_points_shrink_toward_simple_values():
    # the smallest example with a coordinate above 0.3 is (1, 0): an integer and zero
    x = find(points(2, -1.0, 1.0), lambda x: x[0] > 0.3, settings=SEARCH)
    np.testing.assert_array_equal(x, [1.0, 0.0])


def test_points_keep_away_from_kinks():
    seen = []

    @FAST
    @given(points(2, -1.0, 1.0, avoid=[0.5, 0.0, 3.0, -7.0], margin=0.05))
    def collect(x):
        seen.append(x)

    collect()
    stacked = np.array(seen)
    assert np.min(np.abs(stacked)) >= 0.05 and np.min(np.abs(stacked - 0.5)) >= 0.05
    # a coordinate that must get close to 0 stops at the margin, not at 0
    closest = find(points(1, -1.0, 1.0, avoid=[0.0], margin=0.05), lambda x: 0 < x[0] < 0.2, settings=SEARCH)
    assert 0.05 <= closest[0] < 0.2
    # a single kink may be given as a number; the default margin is 0.01
    near = find(points(1, 0.0, 1.0, avoid=0.5), lambda x: 0.4 < x[0] < 0.6, settings=SEARCH)
    assert abs(near[0] - 0.5) >= 0.01


@FAST
@given(points(3, -20.0, 20.0))
def test_property_correct_gradient_passes(x):
    result = require_conclusive(check_grad(softplus_sum, sigmoid, x))
    assert result.verdict == "pass"


def test_property_wrong_gradient_fails_with_the_report():
    @FAST
    @given(points(1, -5.0, 5.0))
    def property_of_wrong(x):
        require_conclusive(check_grad(softplus_sum, lambda x: sigmoid(x) * (1 + 1e-4 * (x > 1)), x))

    # hypothesis finds a point with a coordinate above 1 and re-raises the oracle's report
    with pytest.raises(AssertionError, match=r"Gradient check fail.*\n.*Mismatched components"):
        property_of_wrong()


def test_inconclusive_rejects_the_example():
    reached = []
    rejected = []

    # half the examples put coordinate 0 on the kink of |x|, where the one-sided
    # derivative is inconclusive; the rest are away from it and pass
    @FAST
    @given(st.sampled_from([0.0, 0.75]), points(1, 1.0, 2.0))
    def on_and_off_the_kink(first, rest):
        x = np.concatenate([[first], rest])
        result = check_grad(abs_sum, one_sided_sign, x)
        rejected.append(result.verdict == "inconclusive")
        require_conclusive(result)
        reached.append(result.verdict)

    on_and_off_the_kink()
    assert any(rejected) and not all(rejected)
    # exactly the examples that were not inconclusive got past the call, all of them passes
    assert reached == ["pass"] * (len(rejected) - sum(rejected))


def test_always_inconclusive_is_unsatisfiable():
    # one inconclusive verdict, handed to every example: hypothesis rejects them all
    # (several hundred) and gives up, saying so
    inconclusive = check_grad(abs_sum, one_sided_sign, np.array([0.0]))
    assert inconclusive.verdict == "inconclusive"

    @settings(FAST, max_examples=1, suppress_health_check=[HealthCheck.filter_too_much])
    @given(points(1, -1.0, 1.0))
    def always_inconclusive(x):
        require_conclusive(inconclusive)

    with pytest.raises(Unsatisfiable):
        always_inconclusive()


def test_require_conclusive_outside_given():
    from hypothesis.errors import UnsatisfiedAssumption

    inconclusive = check_grad(abs_sum, one_sided_sign, np.array([0.0, 1.0]))
    assert inconclusive.verdict == "inconclusive"
    with pytest.raises(UnsatisfiedAssumption):
        require_conclusive(inconclusive)


@pytest.mark.parametrize(
    ("call", "kind", "match"),
    [
        (lambda: points(1.5), TypeError, "dim must be an integer"),
        (lambda: points(0), ValueError, "dim must be at least 1"),
        (lambda: points(2, [0.0, 1.0, 2.0], 3.0), ValueError, r"low must be a number or have shape \(2,\)"),
        (lambda: points(2, 1.0, 1.0), ValueError, "low must be below high"),
        (lambda: points(1, -np.inf, 1.0), ValueError, "low must be finite"),
        (lambda: points(1, "a", 1.0), TypeError, "low must be a real number"),
        (lambda: points(1, margin=-1.0), ValueError, "margin must be a non-negative"),
        (lambda: points(1, avoid=[np.nan]), ValueError, "avoid must hold finite numbers"),
        (lambda: points(1, avoid=["kink"]), TypeError, "avoid must be a number or a sequence"),
        (lambda: points(1, -1.0, 1.0, avoid=[0.0], margin=2.0), ValueError, "leave no value of coordinate 0"),
        (lambda: require_conclusive("pass"), TypeError, "result must be a GradCheckResult"),
    ],
)
def test_bad_arguments(call, kind, match):
    with pytest.raises(kind, match=match):
        call()
