"""The suite's records: coverage of the issue's list, seeded points, hard points."""

from __future__ import annotations

import numpy as np
import pytest

import diffcompare
from diffcompare.ops.numpy_namespace import numpy_namespace

REQUIRED = [
    "rosenbrock",
    "beale",
    "booth",
    "himmelblau",
    "styblinski_tang",
    "rastrigin",
    "ackley",
    "matyas",
    "goldstein_price",
    "dixon_price",
    "zakharov",
    "least_squares",
    "logistic_regression",
    "softmax_cross_entropy",
    "mlp_loss",
    "power_xy",
    "log_sum_exp",
    "rational",
    "tanh_sum",
    "sigmoid_sum",
    "softplus_sum",
    "inverse_trigonometric",
    "trigonometric",
    "square_roots",
    "exp_log",
    "polynomial",
]


def test_at_least_30_functions_with_unique_names():
    names = [r.name for r in diffcompare.suite()]
    assert len(names) >= 30
    assert len(set(names)) == len(names)
    assert set(REQUIRED) <= set(names)


@pytest.mark.parametrize("record", diffcompare.suite(), ids=lambda r: r.name)
def test_points_are_seeded_inside_the_domain_and_finite(record):
    points = record.points
    assert points.shape == (3, record.dim)
    np.testing.assert_array_equal(points, record.points)  # same seed, same points
    low, high = record.bounds()
    assert np.all((points >= low) & (points <= high))
    for point in list(points) + [np.array(h.x) for h in record.hard_points]:
        assert point.shape == (record.dim,)
        with np.errstate(over="ignore"):  # some hard points overflow f, not its gradient
            value = record.f(point, numpy_namespace)
        assert np.shape(value) == ()
    for hard in record.hard_points:
        assert hard.tag in ("saturation", "near_singularity", "large", "tiny", "cancellation")
        assert hard.note


def test_scalable_functions_resize_with_new_points():
    (rosenbrock,) = diffcompare.suite(["rosenbrock"])
    big = rosenbrock.resized(50)
    assert big.points.shape == (3, 50)
    assert np.isfinite(big.f(big.points[0], numpy_namespace))
    g = diffcompare.grad(big.f, "tape")(big.points[0])
    np.testing.assert_allclose(g, diffcompare.grad(big.f, "autograd")(big.points[0]), rtol=1e-14)
