"""Derivatives known in closed form, checked with no helper from the package or the tests.

If the reference, the error measures or the suite plumbing broke, these still hold.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import diffcompare

METHODS = ["symbolic", "autograd", "tape"]


@pytest.mark.parametrize("method", METHODS)
def test_polynomial(method):
    # f = x^3 y + 2 y^2  ->  (3 x^2 y, x^3 + 4 y); at (2, 3): (36, 20)
    g = diffcompare.grad(lambda x, xp: x[0] ** 3 * x[1] + 2.0 * x[1] ** 2, method)
    assert g(np.array([2.0, 3.0])).tolist() == [36.0, 20.0]


@pytest.mark.parametrize("method", METHODS)
def test_exp_and_log(method):
    # f = exp(x) log(y) -> (exp(x) log(y), exp(x) / y); at (0, e): (1, 1/e)
    g = diffcompare.grad(lambda x, xp: xp.exp(x[0]) * xp.log(x[1]), method)
    result = g(np.array([0.0, math.e]))
    assert result[0] == 1.0
    assert abs(result[1] - 1.0 / math.e) <= 2.3e-16 * (1.0 / math.e)


@pytest.mark.parametrize("method", METHODS)
def test_rosenbrock_at_known_points(method):
    g = diffcompare.grad(lambda x, xp: (1.0 - x[0]) ** 2 + 100.0 * (x[1] - x[0] ** 2) ** 2, method)
    assert g(np.array([1.0, 1.0])).tolist() == [0.0, 0.0]  # the minimum
    # at (0, 0): (-2, 0); at (-1, 2): (-2(2) - 400(-1)(2 - 1), 200(1)) = (396, 200)
    assert g(np.array([0.0, 0.0])).tolist() == [-2.0, 0.0]
    assert g(np.array([-1.0, 2.0])).tolist() == [396.0, 200.0]


@pytest.mark.parametrize("method", METHODS)
def test_trigonometric(method):
    # f = sin(x) cos(y) -> (cos x cos y, -sin x sin y); at (0, 0): (1, 0)
    g = diffcompare.grad(lambda x, xp: xp.sin(x[0]) * xp.cos(x[1]), method)
    assert g(np.array([0.0, 0.0])).tolist() == [1.0, 0.0]


@pytest.mark.parametrize("method", METHODS)
def test_power_with_both_arguments_variable(method):
    # f = x^y -> (y x^(y-1), x^y log x); at (2, 3): (12, 8 log 2)
    g = diffcompare.grad(lambda x, xp: x[0] ** x[1], method)
    result = g(np.array([2.0, 3.0]))
    assert result[0] == 12.0
    assert abs(result[1] - 8.0 * math.log(2.0)) <= 4.5e-16 * 8.0 * math.log(2.0)


@pytest.mark.parametrize("method", METHODS)
def test_quadratic_form(method):
    # f = x^T A x with A = [[2, 1], [1, 3]] -> 2 A x; at (1, -1): (2, -4)
    a = np.array([[2.0, 1.0], [1.0, 3.0]])
    g = diffcompare.grad(lambda x, xp: xp.sum(x * xp.matmul(xp.asarray(a), x)), method)
    assert g(np.array([1.0, -1.0])).tolist() == [2.0, -4.0]


def test_tanh_derivative_in_saturation():
    # tanh'(20) = 1/cosh(20)^2 = 4 e^-40 / (1 + e^-40)^2 = 1.6993417021166355e-17
    assert diffcompare.grad(lambda x, xp: xp.sum(xp.tanh(x)), "tape")(np.array([20.0]))[0] == pytest.approx(
        1.6993417021166355e-17, rel=4.5e-16
    )


def test_central_difference_of_a_quadratic():
    # exact derivative 2x + 3 = 5 at x = 1; rounding leaves about 1e-10
    assert (
        abs(diffcompare.grad(lambda x, xp: xp.sum(x**2 + 3.0 * x), "central")(np.array([1.0]))[0] - 5.0)
        < 1e-9
    )


def test_reference_of_tanh_at_360_is_the_subnormal_true_value():
    # 4 e^-720 / (1 + e^-720)^2: 1 - tanh(360)^2 cancels 312 digits
    value = diffcompare.reference_gradient(lambda x, xp: xp.sum(xp.tanh(x)), [360.0]).value[0]
    assert abs(value - 8.1289232096971726e-313) <= 5e-324  # within one subnormal spacing
