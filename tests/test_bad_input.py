"""Bad input gets a clear error naming the argument and what was expected."""

from __future__ import annotations

import re

import numpy as np
import pytest

import diffcompare
from diffcompare.methods import METHODS
from diffcompare.methods.central.difference import central_difference


def square(x, xp):
    return xp.sum(x**2)


ALL_METHODS = list(METHODS)
# The methods that apply derivative rules: exact up to rounding wherever f is smooth.
RULE_METHODS = ("symbolic", "symbolic_vector", "symengine", "symbolic_array", "autograd", "tape", "forward")


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
    assert expected.startswith(
        "'symbolic', 'symbolic_vector', 'symengine', 'symbolic_array', 'autograd', 'tape'"
    )


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
    with pytest.raises(NotImplementedError, match=f"{method} does not support 'frobnicate'"):
        diffcompare.grad(lambda x, xp: xp.sum(xp.frobnicate(x)), method)(np.array([1.0, 2.0]))


def test_wrong_length_for_the_reference():
    from diffcompare.truth.reference import PreparedReference

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


# ---------------------------------------------------------------------------------------
# Singular points: no gradient exists where f itself is infinite or NaN, and every method
# would still return numbers there, some finite and wrong (the complex step of log at 0
# is pi/2 / h; central differences across the pole of 1/x are finite).
# ---------------------------------------------------------------------------------------

SINGULAR = {
    "log at 0": (lambda x, xp: xp.sum(xp.log(x - 0.5)), [0.5, 1.5], "-inf"),
    "1/0": (lambda x, xp: 1.0 / (x[0] - 0.5) + x[1], [0.5, 1.5], "inf"),
    "0/0": (lambda x, xp: (x[0] - 0.5) / (x[0] - 0.5) + x[1], [0.5, 1.5], "nan"),
    "outside the domain": (lambda x, xp: xp.sum(xp.arcsin(x)), [0.5, 1.5], "nan"),
    "a constant inf": (lambda x, xp: xp.sum(x) + np.inf, [0.5, 1.5], "inf"),
}


@pytest.mark.parametrize("method", ALL_METHODS)
@pytest.mark.parametrize("case", list(SINGULAR))
def test_a_singular_point_is_refused_by_every_method(method, case):
    f, x, value = SINGULAR[case]
    with pytest.raises(ValueError, match=rf"f\(x\) is {value} at x = \[0.5, 1.5\]: x is on a singularity"):
        diffcompare.grad(f, method)(np.array(x))


def _next_to_a_pole(x, xp):
    return 1.0 / (x[0] - 0.5) + x[1]


NEXT_TO_THE_POLE = np.array([0.5 + 2.0**-20, 1.5])  # 2^-20 = 9.5e-7 from the pole
EXACT_NEXT_TO_THE_POLE = [-(2.0**40), 1.0]  # -1.1e12
CENTRAL_STEP = float(np.cbrt(np.finfo(np.float64).eps))  # 6.1e-6, beyond the pole


@pytest.mark.parametrize("method", RULE_METHODS)
def test_next_to_a_singularity_the_exact_methods_are_exact(method):
    gradient = diffcompare.grad(_next_to_a_pole, method)(NEXT_TO_THE_POLE)
    np.testing.assert_allclose(gradient, EXACT_NEXT_TO_THE_POLE, rtol=1e-15)


def test_next_to_a_singularity_the_complex_step_is_exact():
    # its step, 1e-100, is far inside the distance to the pole
    gradient = diffcompare.grad(_next_to_a_pole, "complex_step")(NEXT_TO_THE_POLE)
    np.testing.assert_allclose(gradient, EXACT_NEXT_TO_THE_POLE, rtol=1e-15)


def test_next_to_a_singularity_central_differences_step_across_the_pole():
    # With d = 2^-20 the distance to the pole and h the step, (f(x + h) - f(x - h)) / 2h is
    # 1 / (h^2 - d^2): for h > d it has the wrong sign and no relation to -1 / d^2.  Central
    # differences carry no estimate that could say so; this is the value the user gets,
    # and the harness scores it against the reference.  Along x[1] f is linear and the
    # error is rounding only, under eps |f| / h.
    gradient = diffcompare.grad(_next_to_a_pole, "central")(NEXT_TO_THE_POLE)
    d = 2.0**-20
    assert gradient[0] == pytest.approx(1.0 / (CENTRAL_STEP**2 - d**2), rel=1e-9)  # +2.8e10
    assert abs(gradient[1] - 1.0) <= np.finfo(np.float64).eps * (1.0 / d + 1.5) / CENTRAL_STEP


def test_next_to_a_singularity_richardson_says_its_estimate_does_not_hold():
    # Every step (0.1 / 2^i, down to 7.8e-4) spans the pole, so the differences are
    # 1 / (h^2 - d^2) and grow as the steps shrink.  The tableau's best entry is the first
    # extrapolation, (4 D(h / 2) - D(h)) / 3 = 500 + 210000 d^2; the gap between the
    # one-sided differences doubles with every halving, so the estimate is infinite.
    gradient, error = diffcompare.richardson_difference(_next_to_a_pole, NEXT_TO_THE_POLE)
    assert gradient[0] == pytest.approx(500.0 + 210000.0 * 2.0**-40, rel=1e-12)
    assert error[0] == np.inf
    # along x[1] f is linear: the estimate is finite and covers the error
    assert abs(gradient[1] - 1.0) <= error[1] <= 1e-7
    np.testing.assert_array_equal(diffcompare.grad(_next_to_a_pole, "richardson")(NEXT_TO_THE_POLE), gradient)


def test_every_method_has_a_test_next_to_a_singularity():
    assert {*RULE_METHODS, "complex_step", "central", "richardson"} == set(ALL_METHODS)


# ---------------------------------------------------------------------------------------
# A derivative that overflows (log at the smallest subnormal: f = -744.4, f' = 2e323) or is
# infinite (sqrt at 0): exact methods say inf, difference methods NaN (their steps leave
# the domain or the differences overflow), the complex step refuses; what no method may
# do is return a finite number for that component.  The other component, along which f
# is linear, stays right: exact for the exact methods, within the rounding bound of the
# differences.
# ---------------------------------------------------------------------------------------

UNBOUNDED = {
    "overflowing derivative": (lambda x, xp: xp.log(x[0]) + x[1], [5e-324, 1.5]),
    "infinite derivative": (lambda x, xp: xp.sqrt(x[0] - 0.5) + x[1], [0.5, 1.5]),
}


@pytest.mark.parametrize("method", RULE_METHODS)
@pytest.mark.parametrize("case", list(UNBOUNDED))
def test_an_unbounded_derivative_is_inf_from_the_exact_methods(method, case):
    f, x = UNBOUNDED[case]
    with np.errstate(all="ignore"):
        gradient = diffcompare.grad(f, method)(np.array(x))
    np.testing.assert_array_equal(gradient, [np.inf, 1.0])


@pytest.mark.parametrize("case", list(UNBOUNDED))
def test_an_unbounded_derivative_is_nan_from_central_differences(case):
    f, x = UNBOUNDED[case]
    with np.errstate(all="ignore"):
        gradient = diffcompare.grad(f, "central")(np.array(x))
    assert np.isnan(gradient[0])
    # rounding only: two values of f, each within an ulp of |f(x)|, over the step 2h
    step = np.cbrt(np.finfo(np.float64).eps) * x[1]
    with np.errstate(all="ignore"):
        size = abs(float(f(np.array(x), np))) + 1.0
    assert abs(gradient[1] - 1.0) <= np.finfo(np.float64).eps * size / step


@pytest.mark.parametrize("case", list(UNBOUNDED))
def test_an_unbounded_derivative_is_nan_with_an_infinite_estimate_from_richardson(case):
    f, x = UNBOUNDED[case]
    with np.errstate(all="ignore"):
        gradient, error = diffcompare.richardson_difference(f, x)
        np.testing.assert_array_equal(diffcompare.grad(f, "richardson")(np.array(x)), gradient)
    assert np.isnan(gradient[0]) and error[0] == np.inf
    assert abs(gradient[1] - 1.0) <= error[1] <= 1e-9


@pytest.mark.parametrize("case", list(UNBOUNDED))
def test_an_unbounded_derivative_is_refused_by_the_complex_step(case):
    f, x = UNBOUNDED[case]
    with pytest.raises(ValueError, match="the complex step is not reliable at x: along a random direction"):
        with np.errstate(all="ignore"):
            diffcompare.grad(f, "complex_step")(np.array(x))


def test_every_method_is_tested_on_an_unbounded_derivative():
    assert {*RULE_METHODS, "central", "richardson", "complex_step"} == set(ALL_METHODS)


# ---------------------------------------------------------------------------------------
# f calls something outside xp: numpy's own functions on a traced value are recorded when
# xp has the same operation, refused by full name otherwise; conversions to a Python
# float (math.sin) are refused by every tracing method.
# ---------------------------------------------------------------------------------------

TRACING = ["symbolic", "symbolic_vector", "symengine", "symbolic_array", "tape", "forward"]


@pytest.mark.parametrize("method", TRACING)
def test_numpy_functions_with_an_xp_twin_are_recorded(method):
    def f(x, xp):
        return np.sum(np.sin(x)) + np.sum(np.exp(x) * x) + np.mean(x**2)

    x = np.array([0.5, 1.5])
    expected = np.cos(x) + np.exp(x) * (1.0 + x) + x
    np.testing.assert_allclose(diffcompare.grad(f, method)(x), expected, rtol=1e-15)


@pytest.mark.parametrize("method", TRACING)
@pytest.mark.parametrize(
    ("f", "name"),
    [
        (lambda x, xp: np.sum(np.fft.rfft(x).real), "numpy.fft.rfft"),
        (lambda x, xp: np.sum(np.cbrt(x / 2.0)), "numpy.cbrt"),
    ],
)
def test_numpy_functions_without_an_xp_twin_are_refused_by_name(method, f, name):
    with pytest.raises(NotImplementedError, match=name):
        diffcompare.grad(f, method)(np.array([0.5, 1.5]))


@pytest.mark.parametrize("method", [*TRACING, "autograd"])
@pytest.mark.parametrize(
    ("f", "name"),
    [
        (lambda x, xp: np.sum(x.cumprod()), "cumprod"),
        (lambda x, xp: np.sum(np.cumprod(x)), "cumprod"),
    ],
)
def test_array_methods_outside_the_table_are_refused_by_name(method, f, name):
    with pytest.raises(NotImplementedError, match=name):
        diffcompare.grad(f, method)(np.array([0.5, 1.5, 2.0, 3.0]))


# symbolic_vector refuses the reshape first; np.dot on SymPy's object arrays is numpy's
# own N-d dot, which the engines that see it through __array_function__ refuse.
DOT_N_D = [
    *(("xp", m) for m in ("symbolic", "symengine", "symbolic_array", "autograd", "tape", "forward")),
    *(("np", m) for m in ("symbolic_array", "autograd", "tape", "forward")),
]


@pytest.mark.parametrize(("spelling", "method"), DOT_N_D)
def test_dot_of_n_d_operands_is_numpys_tensordot(spelling, method):
    # numpy's dot pairs every matrix of a with every matrix of b (not batch by batch):
    # the (2, 1, 2) . (2, 2, 1) product has shape (2, 1, 2, 1).
    def f(x, xp):
        a = xp.reshape(x, (2, 1, 2))
        dot = xp.dot if spelling == "xp" else np.dot
        return xp.sum(dot(a, xp.reshape(x, (2, 2, 1))) * np.arange(1.0, 5.0).reshape(2, 1, 2, 1))

    x = np.array([0.5, 1.5, 2.0, 3.0])
    truth = diffcompare.reference_gradient(f, x)
    assert truth.status == "ok", truth.message
    np.testing.assert_allclose(diffcompare.grad(f, method)(x), truth.value, rtol=1e-13)


@pytest.mark.parametrize("method", TRACING)
def test_a_conversion_to_a_python_float_is_refused(method):
    import math

    with pytest.raises(TypeError, match="float"):
        diffcompare.grad(lambda x, xp: math.sin(x[0]), method)(np.array([0.5, 1.5]))


# ---------------------------------------------------------------------------------------
# Text is never evaluated: no interface takes a function as text, and every one refuses a
# string before doing anything with it.
# ---------------------------------------------------------------------------------------

PAYLOAD = "__import__('pathlib').Path({marker!r}).touch() or x[0]"


@pytest.mark.parametrize(
    "call",
    [
        lambda text: diffcompare.grad(text, "symbolic"),
        lambda text: diffcompare.reference_gradient(text, [1.0]),
        lambda text: diffcompare.symbolic_gradient(text, 1),
        lambda text: diffcompare.check_grad(text, lambda x: x, [1.0]),
        lambda text: diffcompare.check_grad(lambda x: x[0], text, [1.0]),
    ],
    ids=["grad", "reference_gradient", "symbolic_gradient", "check_grad f", "check_grad grad"],
)
def test_text_in_place_of_a_function_is_refused_unevaluated(call, tmp_path):
    marker = tmp_path / "evaluated"
    with pytest.raises(TypeError, match="must be a callable|grad must give real floating-point"):
        call(PAYLOAD.format(marker=str(marker)))
    assert not marker.exists()


@pytest.mark.parametrize(
    ("f", "message"),
    [
        (lambda x, xp: x[0] ** 2 if x[0] > 0 else -x[0], "Python control flow.*xp.where"),
        (lambda x, xp: xp.sum(xp.frobnicate(x)), "symbolic does not support 'frobnicate'"),
        (lambda x, xp: xp.sum(x) + np.inf, "f must return a finite value"),
    ],
    ids=["python if", "unknown operation", "constant inf"],
)
def test_what_sympy_cannot_trace_is_a_reference_status_not_an_exception(f, message):
    result = diffcompare.reference_gradient(f, [1.0, 2.0])
    assert result.status == "error" and result.value is None
    assert re.search(message, result.message)


def test_a_long_point_is_not_spelled_out_in_the_singular_point_message():
    with pytest.raises(ValueError, match=r"f\(x\) is -inf at x = <1000 values>"):
        diffcompare.grad(lambda x, xp: xp.sum(xp.log(x)), "tape")(np.zeros(1000))
