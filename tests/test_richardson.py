"""Richardson extrapolation: errors the Taylor series predicts, and an honest error estimate."""

from __future__ import annotations

import mpmath
import numpy as np
import pytest
from conftest import evaluate
from hypothesis import given, settings
from hypothesis import strategies as st

import diffcompare
from diffcompare.methods.central.difference import central_difference, central_step
from diffcompare.methods.richardson.ladder import DEFAULT_LEVELS, richardson_difference
from diffcompare.methods.richardson.method import RichardsonMethod
from diffcompare.truth.accuracy import normwise_relative_error

EPS = np.finfo(np.float64).eps
mp = mpmath.mp

SMOOTH_NAMES = [r.name for r in diffcompare.suite() if r.smooth]

# Normwise relative error at the suite's ordinary points.  Measured: at most 2.6e-13
# (square_roots), then 2.5e-13 (ackley) and 2.2e-13 (sigmoid_sum).
SUITE_NORMWISE = 1e-12
# The estimate is not pessimistic beyond use: measured at most 7.8e-12 of max |gradient|.
SUITE_ESTIMATE = 1e-10


def _counting(f):
    calls = []

    def counted(x, xp):
        calls.append(x.copy())
        return f(x, xp)

    return counted, calls


# --- the Taylor series, term by term ---------------------------------------------------


@settings(max_examples=50, deadline=None)
@given(x=st.floats(-3, 3), h=st.floats(0.01, 0.2))
def test_one_extrapolation_leaves_minus_h4_over_4_on_a_quintic(x, h):
    # D(h) = 5x^4 + 10 x^2 h^2 + h^4 for x^5; (4 D(h/2) - D(h)) / 3 cancels the h^2 term
    # and leaves (h^4/4 - h^4) / 3 = -h^4 / 4, whatever x.  So halving the first step
    # divides this error by 16.
    got = richardson_difference(lambda v, xp: v[0] ** 5, [x], initial_step=h, levels=2)[0][0]
    scale = max(1.0, abs(x))
    rounding = 64 * EPS * max(1.0, abs(x) ** 5) / (h * scale)
    assert abs((got - 5 * x**4) - (-((h * scale) ** 4) / 4)) <= 1e-9 * (h * scale) ** 4 + rounding


@settings(max_examples=60, deadline=None)
@given(coefficients=st.lists(st.floats(-10, 10), min_size=4, max_size=4), x=st.floats(-100, 100))
def test_a_cubic_is_exact_to_rounding(coefficients, x):
    # f''' is constant, so the first extrapolation is exact and only rounding remains,
    # about eps |f| / h for the smallest step h = 0.1 / 2^7 relative, or less.
    a0, a1, a2, a3 = coefficients
    gradient, error = richardson_difference(lambda v, xp: a0 + v[0] * (a1 + v[0] * (a2 + v[0] * a3)), [x])
    exact = a1 + 2 * a2 * x + 3 * a3 * x * x
    scale = max(1.0, abs(x))
    size = abs(a0) + abs(a1) * scale + abs(a2) * scale**2 + abs(a3) * scale**3
    assert abs(gradient[0] - exact) <= error[0]
    assert error[0] <= 4e-11 * size / scale + 1e-300


@settings(max_examples=30, deadline=None)
@given(exponent=st.integers(5, 12), x=st.floats(-2, 2))
def test_central_difference_step_halving_quarters_the_error(exponent, x):
    # (f(x + h) - f(x - h)) / 2h = 3 x^2 + h^2 for x^3: exactly h^2 of truncation
    h = 2.0**-exponent
    for step in (h, h / 2):
        got = central_difference(lambda v, xp: v[0] ** 3, [x], step=step)[0]
        taken = step * max(1.0, abs(x))
        assert abs((got - 3 * x * x) - taken**2) <= 1e-6 * taken**2 + 16 * EPS * 8 / taken


def test_central_difference_default_step_is_unchanged():
    x = np.array([0.5, -4.0, 1e6 + 0.1])

    def f(v, xp):
        return xp.sum(xp.sin(v) * v)

    np.testing.assert_array_equal(central_difference(f, x), central_difference(f, x, step=np.cbrt(EPS)))
    np.testing.assert_array_equal(central_step(x), np.cbrt(EPS) * np.maximum(1.0, np.abs(x)))


@pytest.mark.parametrize(("step", "error"), [("0.1", TypeError), (0.0, ValueError), (-1e-3, ValueError)])
def test_central_difference_bad_steps(step, error):
    with pytest.raises(error, match="step must be"):
        central_difference(lambda v, xp: xp.sum(v), [1.0], step=step)


# --- the error estimate ----------------------------------------------------------------


def _exact(derivative, *args):
    """``derivative`` at the float64 ``args``, computed with 40 digits and rounded."""
    with mp.workdps(40):
        value = derivative(*(mpmath.mpf(a) for a in args))
        return [float(v) for v in value] if isinstance(value, tuple) else float(value)


def _x_tanh_slope(t, a):
    return mpmath.tanh(a * t) + a * t / mpmath.cosh(a * t) ** 2


# One-parameter families f(x; a) and their exact derivatives.  Left out on purpose: an
# f that loses more than a few ulp of its nearby values to cancellation inside itself,
# such as log(cosh(x)) near 0, where the estimate falls short by up to ~9x (see the
# richardson module docstring).
# fmt: off
FAMILIES = {
    "exp":      (lambda v, xp, a: xp.exp(a * v[0]),            lambda t, a: a * mpmath.exp(a * t)),
    "sin":      (lambda v, xp, a: xp.sin(a * v[0]),            lambda t, a: a * mpmath.cos(a * t)),
    "arctan":   (lambda v, xp, a: xp.arctan(a * v[0]),         lambda t, a: a / (1 + (a * t) ** 2)),
    "rational": (lambda v, xp, a: 1.0 / (a + v[0] ** 2),       lambda t, a: -2 * t / (a + t * t) ** 2),
    "x_tanh":   (lambda v, xp, a: xp.tanh(a * v[0]) * v[0],    _x_tanh_slope),
}
# fmt: on


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_the_error_estimate_covers_the_error(name):
    f, derivative = FAMILIES[name]

    @settings(max_examples=50, deadline=None)
    @given(a=st.floats(0.2, 4.0), t=st.floats(-5.0, 5.0))
    def check(a, t):
        gradient, error = richardson_difference(lambda v, xp: f(v, xp, a), [t])
        exact = _exact(derivative, t, a)
        assert abs(gradient[0] - exact) <= error[0], (a, t, gradient[0] - exact, error[0])
        assert error[0] <= 1e-9 * max(1.0, abs(exact))

    check()


def test_the_tableau_stops_once_rounding_takes_over():
    counted, calls = _counting(lambda v, xp: xp.sum(xp.exp(v)))
    gradient, error = richardson_difference(counted, [0.3], levels=30)
    # rows of 2 evaluations: far fewer than 30 rows, no less accurate than the default
    assert len(calls) <= 2 * 10
    assert abs(gradient[0] - np.exp(0.3)) <= error[0] <= 1e-12


def test_entries_from_outside_the_domain_do_not_win():
    # sqrt at 0.05: the first step, 0.1, goes below 0 and gives NaN; the smaller ones do not
    with np.errstate(invalid="ignore"):
        gradient, error = richardson_difference(lambda v, xp: xp.sum(xp.sqrt(v)), [0.05])
    exact = 0.5 / np.sqrt(0.05)
    assert abs(gradient[0] - exact) <= error[0] <= 1e-9


def test_no_finite_entry_gives_nan_with_an_infinite_estimate():
    with np.errstate(invalid="ignore"):
        gradient, error = richardson_difference(lambda v, xp: xp.sum(xp.sqrt(v)), [1e-4])
    assert np.isnan(gradient[0]) and error[0] == np.inf


@pytest.mark.parametrize(("initial_step", "levels"), [(1e-300, 8), (0.1, 80)])
def test_steps_below_the_spacing_of_x_end_the_tableau(initial_step, levels):
    # x +- h == x: no step left to divide by; the tableau ends with what it has
    gradient, error = richardson_difference(
        lambda v, xp: xp.sum(xp.exp(v)), [1.0], initial_step=initial_step, levels=levels
    )
    if initial_step < 1e-200:
        assert np.isnan(gradient[0]) and error[0] == np.inf
    else:
        assert abs(gradient[0] - np.e) <= error[0] <= 1e-11


# --- the suite ------------------------------------------------------------------------


@pytest.mark.parametrize("name", SMOOTH_NAMES)
def test_suite_at_ordinary_points(name):
    (record,) = diffcompare.suite([name])
    ordinary, _ = evaluate(name)
    prepared = RichardsonMethod().prepare(record.f, record.dim)
    for e in ordinary:
        assert e.reference.status == "ok", e.reference.message
        gradient, error = prepared.with_error(e.point)
        where = f"richardson on {name} at {e.point.tolist()}"
        err = normwise_relative_error(gradient, e.reference.value)
        assert err <= SUITE_NORMWISE, f"{where}: {err:.3g}"
        assert np.all(np.abs(gradient - e.reference.value) <= error), where
        assert np.max(error) <= SUITE_ESTIMATE * np.max(np.abs(e.reference.value)), where


# --- the method ----------------------------------------------------------------------


def test_method_interface_and_evaluation_count():
    counted, calls = _counting(lambda v, xp: xp.sum(xp.sin(v) * v))
    x = np.array([0.5, -1.0, 2.0])
    prepared = RichardsonMethod().prepare(counted, 3)
    gradient, error = prepared.with_error(x)
    assert RichardsonMethod.name == "richardson"
    assert prepared.details["f_evals"] == 2 * DEFAULT_LEVELS * 3
    assert len(calls) <= prepared.details["f_evals"]
    np.testing.assert_array_equal(prepared.gradient(x), gradient)
    assert gradient.shape == error.shape == (3,)
    for point in calls:  # one coordinate moved at a time
        assert np.count_nonzero(point != x) == 1


# --- bad input -------------------------------------------------------------------------


def square(x, xp):
    return xp.sum(x**2)


@pytest.mark.parametrize(
    ("x", "error", "message"),
    [
        (np.array([1, 2]), TypeError, "floating-point.*got dtype int64"),
        (np.ones((2, 2)), ValueError, r"shape \(n,\)"),
        (np.array([np.inf, 1.0]), ValueError, "finite"),
    ],
)
def test_bad_points(x, error, message):
    with pytest.raises(error, match=message):
        RichardsonMethod().prepare(square, 2).gradient(x)


def test_bad_outputs():
    with pytest.raises(ValueError, match=r"f must return a scalar.*shape \(2,\)"):
        richardson_difference(lambda x, xp: x * 2.0, [1.0, 2.0])
    with pytest.raises(TypeError, match="f must return a real scalar"):
        richardson_difference(lambda x, xp: "loss", [1.0, 2.0])


@pytest.mark.parametrize(
    ("keyword", "value", "error", "message"),
    [
        ("initial_step", "0.1", TypeError, "initial_step must be a real number"),
        ("initial_step", 0.0, ValueError, "initial_step must be positive"),
        ("factor", 1.0, ValueError, "factor must be greater than 1"),
        ("factor", np.nan, ValueError, "factor must be positive and finite"),
        ("levels", 2.5, TypeError, "levels must be an integer"),
        ("levels", 1, ValueError, "levels must be at least 2"),
    ],
)
def test_bad_parameters(keyword, value, error, message):
    with pytest.raises(error, match=message):
        richardson_difference(square, [1.0], **{keyword: value})
