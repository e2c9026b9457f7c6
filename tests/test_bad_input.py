"""Bad input gets a clear error naming the argument and what was expected."""

from __future__ import annotations

import numpy as np
import pytest

import diffcompare
from diffcompare.finite_difference import central_difference
from diffcompare.methods import METHODS


def square(x, xp):
    return xp.sum(x**2)


ALL_METHODS = list(METHODS)


@pytest.mark.parametrize("method", ALL_METHODS)
@pytest.mark.parametrize(
    ("x", "error", "message"),
    [
        (np.ones((2, 2)), ValueError, r"x must be a 1-d array of shape \(n,\); got shape \(2, 2\)"),
        (np.float64(1.0), ValueError, r"got shape \(\)"),
        (np.array([]), ValueError, "at least one element"),
        (np.array([1, 2]), TypeError, "floating-point.*got dtype int64"),
        (np.array([True, False]), TypeError, "got dtype bool"),
        (np.array([1 + 2j, 1.0]), TypeError, "got dtype complex128"),
        (np.array(["a", "b"]), TypeError, "got dtype <U1"),
        (np.array([1.0, np.nan]), ValueError, r"finite; got NaN or inf at index \[1\]"),
        (np.array([np.inf, 1.0]), ValueError, r"at index \[0\]"),
    ],
)
def test_bad_points(method, x, error, message):
    with pytest.raises(error, match=message):
        diffcompare.grad(square, method)(x)


@pytest.mark.parametrize("method", ALL_METHODS)
def test_non_scalar_output(method):
    with pytest.raises(ValueError, match=r"f must return a scalar.*shape \(2,\)"):
        diffcompare.grad(lambda x, xp: x * 2.0, method)(np.array([1.0, 2.0]))


@pytest.mark.parametrize("method", ["autograd", "tape", "central"])
def test_non_numeric_output(method):
    with pytest.raises(TypeError, match="f must return a real scalar"):
        diffcompare.grad(lambda x, xp: "loss", method)(np.array([1.0, 2.0]))


def test_unknown_method():
    expected = ", ".join(repr(name) for name in METHODS)
    with pytest.raises(ValueError, match=f"unknown method 'backward'; expected one of {expected}"):
        diffcompare.grad(square, "backward")
    assert expected.startswith("'symbolic', 'symbolic_vector', 'autograd', 'tape', 'central'")


def test_method_must_be_a_string():
    with pytest.raises(TypeError, match="method must be a string"):
        diffcompare.grad(square, 3)


def test_f_must_be_callable():
    with pytest.raises(TypeError, match="f must be a callable f\\(x, xp\\); got str"):
        diffcompare.grad("x**2", "tape")


def test_python_control_flow_on_symbols_is_a_clear_not_implemented():
    def branchy(x, xp):
        return x[0] ** 2 if x[0] > 0 else -x[0]

    with pytest.raises(NotImplementedError, match="Python control flow.*xp.where"):
        diffcompare.grad(branchy, "symbolic")(np.array([1.0, 2.0]))


@pytest.mark.parametrize("method", ALL_METHODS)
def test_unknown_operation_names_the_operation(method):
    with pytest.raises(NotImplementedError, match="no operation 'erfc'"):
        diffcompare.grad(lambda x, xp: xp.sum(xp.erfc(x)), method)(np.array([1.0, 2.0]))


def test_wrong_length_for_the_reference():
    from diffcompare.reference import PreparedReference

    with pytest.raises(ValueError, match=r"x must have shape \(3,\); got shape \(2,\)"):
        PreparedReference(square, 3)(np.array([1.0, 2.0]))


def test_reference_digits_below_50_are_refused():
    with pytest.raises(ValueError, match="digits must be an integer >= 50"):
        diffcompare.reference_gradient(square, [1.0], digits=30)


def test_suite_rejects_unknown_names_and_bare_strings():
    with pytest.raises(ValueError, match="unknown suite functions \\['nope'\\]"):
        diffcompare.suite(["nope"])
    with pytest.raises(TypeError, match="sequence of function names"):
        diffcompare.suite("rosenbrock")


def test_resizing_a_fixed_size_function_is_refused():
    (beale,) = diffcompare.suite(["beale"])
    with pytest.raises(ValueError, match="fixed dimension 2"):
        beale.resized(5)
    (rosenbrock,) = diffcompare.suite(["rosenbrock"])
    with pytest.raises(ValueError, match="integer >= 2"):
        rosenbrock.resized(1)


def test_float32_points_are_accepted_and_computed_in_float64():
    g = central_difference(square, np.array([1.0, 2.0], dtype=np.float32))
    assert g.dtype == np.float64
