"""The certified directional derivative: the full 50-digit reference projected on the
direction agrees with it, a wrong gradient is measured as wrong, failures are statuses."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from diffcompare.methods import METHODS
from diffcompare.suite.records import suite
from diffcompare.suite.workloads import gmm, workloads
from diffcompare.truth.directional import (
    DirectionalReference,
    directional_derivative,
    directional_error,
    random_direction,
)
from diffcompare.truth.reference import reference_gradient

# A spread of the suite's operations: elementwise rows, arithmetic, kinks, where, matmul,
# reshapes, stacks, reductions, logsumexp, data; plus the three workloads.
NAMES = [
    "exp_log", "inverse_trigonometric", "tanh_sum", "sigmoid_sum", "power_xy", "log_sum_exp", "kinks",
    "piecewise_where", "matrix_product", "stack_concat", "ackley", "softmax_cross_entropy", "mlp_loss",
    "gmm",
    # SymPy's full reference takes seconds on these two
    pytest.param("bundle_adjustment", marks=pytest.mark.slow), pytest.param("lstm", marks=pytest.mark.slow),
]  # fmt: skip


@pytest.mark.parametrize("name", NAMES)
def test_agrees_with_the_full_reference_projected_on_the_direction(name):
    (record,) = suite([name])
    for index, x in enumerate(record.points[:1]):
        v = random_direction(record.dim, 7, name, index)
        truth = directional_derivative(record.f, x, v)
        full = reference_gradient(record.f, x)
        assert truth.status == "ok" and full.status == "ok", truth.message
        # the full reference is rounded to float64 per component: its dot product with v
        # carries that rounding, a few ulps of |g| |v|
        assert directional_error(full.value, truth) <= 4e-16


def test_known_value_and_exactness_of_inputs():
    # d/dt exp(x + t v) . 1 at x = (0, 1), v = (1, 1): e^0 + e^1
    truth = directional_derivative(lambda x, xp: xp.sum(xp.exp(x)), [0.0, 1.0], [1.0, 1.0])
    assert truth.value == 1.0 + np.e and truth.digits == 50
    # x^2 at a double whose square is not a double: 2 x v exactly, rounded once
    x = 1.0 + 2.0**-30
    truth = directional_derivative(lambda x, xp: x[0] ** 2, [x], [3.0])
    assert truth.value == 6.0 * x


def test_a_wrong_gradient_is_measured_as_wrong():
    record = gmm(3, 4, 20, seed=1)
    x = record.points[0]
    v = random_direction(record.dim, 3, "gmm")
    truth = directional_derivative(record.f, x, v)
    right = METHODS["tape"].prepare(record.f, record.dim).gradient(x)
    assert directional_error(right, truth) <= 1e-15
    wrong = right.copy()
    wrong[5] += 1e-3 * np.max(np.abs(right))  # one component off by 0.1 % of the largest
    assert directional_error(wrong, truth) > 1e-6
    assert directional_error(1.01 * right, truth) == pytest.approx(
        0.01 * abs(truth.value) / (1.01 * np.linalg.norm(right) * np.linalg.norm(v)), rel=1e-6
    )
    assert directional_error(np.full_like(right, np.nan), truth) == np.inf


def test_failures_are_statuses():
    def qr(x, xp):
        return xp.linalg.qr(xp.reshape(x, (2, 2)))[1][1, 1]

    v = np.ones(4)
    refused = directional_derivative(qr, np.arange(1.0, 5.0), v)
    assert refused.status == "error" and "directional does not support 'linalg.qr'" in refused.message
    pole = directional_derivative(lambda x, xp: xp.sum(xp.log(x)), [0.0, 1.0], [1.0, 1.0])
    assert pole.status == "nonfinite" and pole.value is None
    with pytest.raises(ValueError, match="cannot score"):
        directional_error([1.0, 1.0], pole)


def test_bad_arguments_raise_naming_them():
    f = workloads()[0].f
    with pytest.raises(TypeError, match="^f must be a callable"):
        directional_derivative(3, [1.0], [1.0])
    with pytest.raises(ValueError, match="^v must"):
        directional_derivative(f, np.zeros(12), np.zeros(11))
    with pytest.raises(ValueError, match="^digits must be"):
        directional_derivative(f, np.zeros(12), np.ones(12), digits=30)
    with pytest.raises(ValueError, match="^dim must be"):
        random_direction(0, 1)
    with pytest.raises(ValueError, match="^seed must be"):
        random_direction(3, -1)
    with pytest.raises(ValueError, match="entries; the direction has"):
        directional_error([1.0], DirectionalReference(1.0, np.ones(2), "ok", 50))


def test_directions_are_seeded_per_key():
    assert np.array_equal(random_direction(5, 1, "f", 0), random_direction(5, 1, "f", 0))
    assert not np.array_equal(random_direction(5, 1, "f", 0), random_direction(5, 1, "f", 1))
    assert not np.array_equal(random_direction(5, 1, "f", 0), random_direction(5, 2, "f", 0))


def test_constant_factors_do_not_round_the_tangent():
    # x . data along v is data . v exactly, rounded once; adding the float64 products
    # d_i v_i (each rounded once) exactly would round to a different double here
    data = np.array([1.2739233746429086, 0.5395734275277406, 0.08194704787238938])
    v = [-0.9669447289429418, 0.6265404784005448, 0.8255111545554434]
    exact = float(sum(Fraction(a) * Fraction(b) for a, b in zip(data, v, strict=True)))
    assert float(sum(Fraction(float(a * b)) for a, b in zip(data, v, strict=True))) != exact
    truth = directional_derivative(lambda x, xp: xp.sum(x * data), [1.0, 2.0, 3.0], v)
    assert truth.value == exact
