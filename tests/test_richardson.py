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


# --- steps that never reach the range where f is smooth --------------------------------


def test_a_pole_closer_than_the_smallest_step_makes_the_estimate_infinite():
    # 1 / (x - 0.5) at 0.5 + 2^-20: every step spans the pole, the differences grow as
    # 1 / h^2 and the best entry, 500, is nowhere near -2^40
    gradient, error = richardson_difference(lambda v, xp: 1.0 / (v[0] - 0.5), [0.5 + 2.0**-20])
    assert gradient[0] == pytest.approx(500.0 + 210000.0 * 2.0**-40, rel=1e-12)
    assert error[0] == np.inf


@pytest.mark.parametrize("x", [1e-300, -1e-300, 1e-9])
def test_a_kink_closer_than_the_smallest_step_makes_the_estimate_infinite(x):
    # |x| + x / 2: every central difference is 1/2 + x / h, about the mean of the slopes
    # 3/2 and -1/2 (the derivative is one of them), so the tableau's entries agree and
    # claimed an error of about 0
    gradient, error = richardson_difference(lambda v, xp: xp.abs(v[0]) + 0.5 * v[0], [x])
    assert gradient[0] == pytest.approx(0.5, abs=1e-6)
    assert error[0] == np.inf


def test_a_kink_farther_than_the_first_step_leaves_the_estimate_finite():
    # the same function at 2: all steps (0.2 down to 1.6e-3) stay on one side
    gradient, error = richardson_difference(lambda v, xp: xp.abs(v[0]) + 0.5 * v[0], [2.0])
    assert abs(gradient[0] - 1.5) <= error[0] <= 1e-12


def test_a_kink_within_the_first_steps_only_leaves_the_estimate_finite():
    # at 0.01 the first steps (0.1, 0.05, 0.025) span the kink, the last ones do not: the
    # gap between the one-sided differences vanishes there and the best entry is exact
    gradient, error = richardson_difference(lambda v, xp: xp.abs(v[0]) + 0.5 * v[0], [0.01])
    assert abs(gradient[0] - 1.5) <= error[0] <= 1e-12


def test_the_gap_test_reads_the_gap_not_the_differences():
    # exp has a gap h f'' that halves: the estimate stays finite however large f'' is
    gradient, error = richardson_difference(lambda v, xp: xp.exp(20.0 * v[0]), [1.0])
    assert abs(gradient[0] - 20.0 * np.exp(20.0)) <= error[0] < np.inf


# Hard points where the estimate is finite and still falls short: the steps, 1e5 down to
# 781 at x ~ 1e6, are far longer than the period 1 of cos(2 pi x) and average it away.
# Differences cannot see that (see the richardson module docstring).
SHORT_ESTIMATES = {("rastrigin", "large")}


@pytest.mark.parametrize(
    "name",
    [
        r.name
        for r in diffcompare.suite()
        if any((r.name, h.tag) not in SHORT_ESTIMATES for h in r.hard_points)
    ],
)
def test_the_estimate_covers_the_error_or_is_infinite_at_the_hard_points(name):
    (record,) = diffcompare.suite([name])
    _, hard = evaluate(name)
    prepared = RichardsonMethod().prepare(record.f, record.dim)
    checked = 0
    for hard_point, e in zip(record.hard_points, hard, strict=True):
        if e.reference.status != "ok" or (name, hard_point.tag) in SHORT_ESTIMATES:
            continue
        with np.errstate(all="ignore"):
            gradient, error = prepared.with_error(e.point)
        covered = np.abs(gradient - e.reference.value) <= error
        assert np.all(covered | (error == np.inf)), (hard_point.tag, gradient, error, e.reference.value)
        checked += 1
    assert checked > 0, f"no hard point of {name} was checked"


def test_the_short_estimates_are_still_short():
    # if the rastrigin points become covered, the exception above should go
    (record,) = diffcompare.suite(["rastrigin"])
    _, hard = evaluate("rastrigin")
    (e,) = [e for h, e in zip(record.hard_points, hard, strict=True) if h.tag == "large"]
    gradient, error = richardson_difference(record.f, e.point)
    assert np.all(np.abs(gradient - e.reference.value) > error)


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
    evaluations = list(calls)
    assert RichardsonMethod.name == "richardson"
    assert prepared.details["f_evals"] == 2 * DEFAULT_LEVELS * 3 + 1
    assert len(evaluations) <= prepared.details["f_evals"]
    np.testing.assert_array_equal(prepared.gradient(x), gradient)
    assert gradient.shape == error.shape == (3,)
    np.testing.assert_array_equal(evaluations[0], x)  # f(x) once, for the one-sided differences
    for point in evaluations[1:]:  # then one coordinate moved at a time
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
