"""The complex step: exact to a few ulp where f is analytic, and loud where f is not."""

from __future__ import annotations

import operator

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from diffcompare.methods.complex_step.method import ComplexStepMethod
from diffcompare.methods.complex_step.namespace import complex_namespace, real_ordered
from diffcompare.methods.complex_step.step import complex_step
from diffcompare.methods.tape.method import TapeMethod
from diffcompare.ops import ALIASES, CONSTANTS, CONSTRUCTORS, OPS
from diffcompare.ops.numpy_namespace import numpy_namespace
from diffcompare.truth.accuracy import ulp_error

EPS = np.finfo(np.float64).eps
mp = mpmath.mp
xp = complex_namespace

# Normwise relative error at the suite's ordinary points.  Measured: at most 1.9e-15
# (goldstein_price), then 1.4e-15 (ackley); most functions stay under 4e-16.

# Elementwise operations against their exact derivative, in ulp.  Measured over 2000
# points each: 4 (sigmoid), 3 (tan, tanh), at most 2 for the rest; numpy's complex
# power computes exp(b log a), whose rounding grows with |b log a|: up to 13.
OP_ULPS = {"power": 16.0}
DEFAULT_OP_ULPS = 6.0

# The imaginary part of every intermediate is h times its derivative and must stay a
# normal number (h = 1e-100).  So the operations' test intervals are cut to [-50, 50]
# (exp'(-700) ~ 1e-304 would underflow), and arguments below 1e-50 in size, where a
# derivative such as cos'(t) = -sin t ~ t or d(ab)/db = a is as tiny, are left out
# (0 itself stays in).  These are limits of the step, not of the operations.
LIMIT = 50.0
TINY = 1e-50


def _sigmoid(t):
    return 1 / (1 + mpmath.exp(-t))


# The exact derivative of every unary operation, evaluated by mpmath.
# fmt: off
UNARY_DERIVATIVES = {
    "negative": lambda t: -1,                       "abs": mpmath.sign,
    "exp": mpmath.exp,                              "expm1": mpmath.exp,
    "log": lambda t: 1 / t,                         "log1p": lambda t: 1 / (1 + t),
    "sqrt": lambda t: 1 / (2 * mpmath.sqrt(t)),     "sin": mpmath.cos,
    "cos": lambda t: -mpmath.sin(t),                "tan": lambda t: 1 / mpmath.cos(t) ** 2,
    "arcsin": lambda t: 1 / mpmath.sqrt(1 - t * t), "arccos": lambda t: -1 / mpmath.sqrt(1 - t * t),
    "arctan": lambda t: 1 / (1 + t * t),            "sinh": mpmath.cosh,
    "arcsinh": lambda t: 1 / mpmath.sqrt(1 + t * t),
    "cosh": mpmath.sinh,                            "tanh": lambda t: 1 / mpmath.cosh(t) ** 2,
    "sigmoid": lambda t: _sigmoid(t) * _sigmoid(-t), "softplus": _sigmoid,
}
# Partial derivatives (d/da, d/db) of the binary operations.
BINARY_DERIVATIVES = {
    "add":      lambda a, b: (1, 1),
    "subtract": lambda a, b: (1, -1),
    "multiply": lambda a, b: (b, a),
    "divide":   lambda a, b: (1 / b, -a / b**2),
    "power":    lambda a, b: (b * a ** (b - 1), a**b * mpmath.log(a)),
    "maximum":  lambda a, b: (1, 0) if a > b else (0, 1),
    "minimum":  lambda a, b: (1, 0) if a < b else (0, 1),
}
# fmt: on


def _in(interval):
    low, high = interval
    return st.floats(max(low, -LIMIT), min(high, LIMIT)).filter(lambda t: t == 0 or abs(t) > TINY)


def _exact(derivative, *args):
    """``derivative`` at the float64 ``args``, computed with 40 digits and rounded."""
    with mp.workdps(40):
        value = derivative(*(mpmath.mpf(a) for a in args))
        return [float(v) for v in value] if isinstance(value, tuple) else float(value)


# --- known values ----------------------------------------------------------------------


def test_known_values():
    got = complex_step(lambda x, xp: x[0] ** 2 * x[1] + xp.sin(x[1]), [3.0, 0.0])
    np.testing.assert_array_equal(got, [0.0, 10.0])
    np.testing.assert_array_equal(complex_step(lambda x, xp: xp.sum(xp.exp(x)), [0.0]), [1.0])


def test_one_evaluation_per_coordinate_and_only_one_coordinate_moved_then_one_probe():
    calls = []

    def f(x, xp):
        calls.append(x.copy())
        return xp.sum(x**2)

    x = np.arange(1.0, 6.0)
    prepared = ComplexStepMethod().prepare(f, 5)
    np.testing.assert_array_equal(prepared.gradient(x), 2 * x)
    assert len(calls) == 6 == prepared.details["f_evals"]
    for k, point in enumerate(calls[:5]):
        np.testing.assert_array_equal(point.real, x)
        np.testing.assert_array_equal(np.flatnonzero(point.imag), [k])
    assert ComplexStepMethod.name == "complex_step"


# --- properties ------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(UNARY_DERIVATIVES))
def test_unary_operations_match_their_exact_derivative(name):
    derivative, fn = UNARY_DERIVATIVES[name], getattr(xp, name)

    @settings(max_examples=40, deadline=None)
    @given(t=_in(OPS[name].domain[0]))
    def check(t):
        got = complex_step(lambda x, xp: xp.sum(fn(x)), [t])[0]
        expected = _exact(derivative, t)
        assert ulp_error(got, expected) <= OP_ULPS.get(name, DEFAULT_OP_ULPS), (t, got, expected)

    check()


@pytest.mark.parametrize("name", sorted(BINARY_DERIVATIVES))
def test_binary_operations_match_their_exact_partials(name):
    derivative, fn = BINARY_DERIVATIVES[name], getattr(xp, name)
    first, second = OPS[name].domain

    @settings(max_examples=30, deadline=None)
    @given(a=_in(first), b=_in(second))
    def check(a, b):
        got = complex_step(lambda x, xp: fn(x[0], x[1]), [a, b])
        if a == b and name in ("maximum", "minimum"):
            expected = [0.5, 0.5]  # a tie: each argument gets half (see the tie test)
        else:
            expected = _exact(derivative, a, b)
        assert np.all(ulp_error(got, expected) <= OP_ULPS.get(name, DEFAULT_OP_ULPS)), (a, b, got, expected)

    check()


def test_every_operation_exists():
    for name in list(OPS) + list(CONSTRUCTORS) + list(ALIASES):
        assert callable(getattr(xp, name)), name
    for name, value in CONSTANTS.items():
        assert getattr(xp, name) == value


@settings(max_examples=60, deadline=None)
@given(
    coefficients=st.lists(_in((-10.0, 10.0)), min_size=4, max_size=4),
    t=_in((-100.0, 100.0)),
)
def test_a_cubic_is_exact_to_rounding(coefficients, t):
    a0, a1, a2, a3 = coefficients
    got = complex_step(lambda x, xp: a0 + x[0] * (a1 + x[0] * (a2 + x[0] * a3)), [t])[0]
    # no cancellation between steps, only the rounding of the derivative's own terms;
    # the truncation term h^2 f''' / 6 = 1e-200 a3 shows only where those are all 0
    scale = abs(a1) + 2 * abs(a2 * t) + 3 * abs(a3 * t * t)
    assert abs(got - (a1 + 2 * a2 * t + 3 * a3 * t * t)) <= 8 * EPS * scale + 2e-200 * abs(a3)


def _smooth(x, xp):
    return xp.exp(xp.sin(x[0])) / (2.0 + x[0] ** 2)


@settings(max_examples=40, deadline=None)
@given(k=st.integers(40, 800), t=st.floats(-3, 3))
def test_power_of_two_steps_give_identical_bits(k, t):
    # Im f(x + ih) / h = f' - h^2 f''' / 6 + ...: below h ~ 1e-12 the h^2 term is under
    # the last digit, and scaling h by a power of two scales every imaginary part
    # exactly (until they underflow), so the result does not change in a single bit.
    assert complex_step(_smooth, [t], step=2.0**-k)[0] == complex_step(_smooth, [t], step=2.0**-40)[0]


@settings(max_examples=40, deadline=None)
@given(exponent=st.integers(-150, -20), t=st.floats(-3, 3))
def test_any_tiny_step_gives_the_same_digits(exponent, t):
    # Decimal steps round differently, so the derivative's own terms (here at most ~5
    # times f' in size) differ in their last bits, and nothing more.
    def f(x, xp):
        return xp.exp(x[0]) * (2.0 + x[0] ** 2)

    exact = _exact(lambda s: mpmath.exp(s) * ((s + 1) ** 2 + 1), t)
    assert ulp_error(complex_step(f, [t], step=10.0**exponent)[0], exact) <= 8


# --- the namespace's own choices -------------------------------------------------------


def test_abs_is_the_linear_piece_and_zero_at_the_kink():
    got = complex_step(lambda x, xp: xp.sum(xp.abs(x) * x), [-2.0, 3.0, 0.0])
    np.testing.assert_array_equal(got, [4.0, 6.0, 0.0])
    np.testing.assert_array_equal(complex_step(lambda x, xp: xp.sum(xp.abs(x)), [0.0]), [0.0])


@pytest.mark.parametrize(
    ("f", "x"),
    [
        (lambda x, xp: xp.maximum(x[0], x[1]), [1.0, 1.0]),
        (lambda x, xp: xp.minimum(x[0], 2.0 * x[1]), [2.0, 1.0]),
        (lambda x, xp: xp.max(x), [1.0, 3.0, 3.0, -1.0]),
        (lambda x, xp: xp.sum(xp.max(xp.reshape(x, (2, 2)), axis=0)), [2.0, 5.0, 2.0, 1.0]),
        (lambda x, xp: xp.sum(xp.abs(x)), [0.0, -1.0]),
        (lambda x, xp: xp.sum(xp.maximum(x, 0.0)), [0.0, 2.0, -2.0]),
    ],
)
def test_ties_and_kinks_follow_the_tapes_convention(f, x):
    # ties share the derivative equally and abs'(0) = 0, as in the tape's rules
    x = np.array(x)
    np.testing.assert_array_equal(complex_step(f, x), TapeMethod().prepare(f, x.size).gradient(x))


def test_max_keeps_numpys_shapes():
    z = np.arange(6.0).reshape(2, 3) + 1e-100j
    for axis in (None, 0, 1, -1, (0, 1)):
        for keepdims in (False, True):
            expected = np.max(z.real, axis=axis, keepdims=keepdims)
            got = xp.max(z, axis=axis, keepdims=keepdims)
            assert np.shape(got) == np.shape(expected), (axis, keepdims)
            np.testing.assert_array_equal(np.real(got), expected)


@pytest.mark.parametrize(("name", "slope"), [("sigmoid", 0.25), ("softplus", 0.5)])
def test_stable_formulas_keep_their_derivative_at_the_branch_point(name, slope):
    # x = 0 is where the two branches of the stable formula meet: abs and maximum
    # there must pick the same branch as the formula's own comparison
    fn = getattr(xp, name)
    assert complex_step(lambda x, xp: xp.sum(fn(x)), [0.0])[0] == slope
    assert complex_step(lambda x, xp: xp.sum(fn(-x)), [0.0])[0] == -slope


@pytest.mark.parametrize("name", ["sigmoid", "softplus"])
def test_stable_formulas_do_not_overflow(name):
    x = np.array([-800.0, -40.0, 0.0, 40.0, 800.0])
    s = numpy_namespace.sigmoid(x)
    slope = s * numpy_namespace.sigmoid(-x) if name == "sigmoid" else s  # s' = s(x) s(-x), softplus' = s
    fn = getattr(xp, name)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        got = complex_step(lambda v, xp: xp.sum(fn(v)), x)
        real = fn(x)
    np.testing.assert_allclose(got, slope, rtol=4 * EPS, atol=0)
    np.testing.assert_array_equal(real, getattr(numpy_namespace, name)(x))


def test_logsumexp_derivative_is_softmax():
    x = np.array([1000.0, 1000.5, 999.0, -1000.0])
    softmax = np.exp(x - x.max()) / np.sum(np.exp(x - x.max()))
    got = complex_step(lambda v, xp: xp.logsumexp(v), x)
    np.testing.assert_allclose(got, softmax, rtol=4 * EPS, atol=0)


def test_real_inputs_give_numpys_results():
    x = np.array([-2.0, 0.0, 3.5])
    for name in ("abs", "sigmoid", "softplus", "max", "logsumexp"):
        np.testing.assert_array_equal(getattr(xp, name)(x), getattr(numpy_namespace, name)(x), name)
    np.testing.assert_array_equal(xp.maximum(x, 1.0), np.maximum(x, 1.0))


def test_asarray_keeps_complex_input_complex():
    z = np.array([1.0 + 1e-100j, 2.0])
    assert xp.asarray([z[0], z[1]]).dtype == np.complex128
    assert xp.asarray(z, dtype=np.float64).dtype == np.complex128  # casting would drop h f'
    assert xp.asarray([1, 2]).dtype == np.float64


def test_numpy_orders_complex_numbers_lexicographically():
    # Why the complex step hands f a RealOrderedArray: numpy's own `x > 0` on complex
    # arrays lets the imaginary parts (h times the derivatives) decide a tie of the real
    # parts.  If numpy starts refusing or changes the order, the module docstring must change.
    z = np.array([1.0 - 5j, -1.0 + 5j, 0.0 + 1e-100j, 0.0 - 1e-100j])
    np.testing.assert_array_equal(z > 0, [True, False, True, False])


# fmt: off
REAL_PART_COMPARISONS = [
    (operator.gt, [True,  False, False, False]),
    (operator.ge, [True,  False, True,  True]),
    (operator.lt, [False, True,  False, False]),
    (operator.le, [False, True,  True,  True]),
    (operator.eq, [False, False, True,  True]),
    (operator.ne, [True,  True,  False, False]),
]
# fmt: on


@pytest.mark.parametrize(("compare", "expected"), REAL_PART_COMPARISONS)
def test_real_ordered_arrays_compare_real_parts_only(compare, expected):
    z = real_ordered(np.array([1.0 - 5j, -1.0 + 5j, 0.0 + 1e-100j, 0.0 - 1e-100j]))
    zero = real_ordered(np.array(0.0 - 3e-100j))
    for other in (0.0, np.float64(0.0), np.array(0.0), 0j, zero):
        np.testing.assert_array_equal(compare(z, other), expected)
        # the other operand on the left: Python and numpy scalars ask z's reflected operator
        np.testing.assert_array_equal([compare(other, v) for v in z], [compare(0.0, v.real) for v in z])
    assert [bool(compare(v, 0.0)) for v in z] == expected


def test_values_derived_from_the_point_stay_real_ordered():
    z = real_ordered(np.array([1.0 + 1e-100j, 2.0, -3.0]))
    derived = [
        z[0], z[1:], next(iter(z)), 2.0 * z[0], np.float64(2.0) - z, z @ z, z.sum(), z.T,
        xp.exp(z), xp.where(z.real > 1.5, z, -z), xp.stack([z[0], z[1]]), xp.asarray([z[0], 1.0]),
        xp.abs(z), xp.maximum(z, 1.5), xp.max(z), xp.sum(z), xp.sigmoid(z), xp.logsumexp(z),
    ]  # fmt: skip
    assert [type(v).__name__ for v in derived] == ["RealOrderedArray"] * len(derived)
    assert type(z > 0) is np.ndarray and type(z[0] > 0) is np.bool_
    assert type(real_ordered(np.array([1.0, 2.0]))) is np.ndarray  # real values stay plain


def test_a_where_condition_at_a_tie_takes_the_float64_branch():
    # at x = 0, `x > 0` is False in float64, so the program (and the tape) takes the x
    # branch; numpy's order would have said True for 0 + ih and given the slope 3
    def ramp(x, xp):
        return xp.sum(xp.where(x > 0, 3.0 * x, x))

    assert complex_step(ramp, [0.0])[0] == 1.0
    assert TapeMethod().prepare(ramp, 1).gradient(np.array([0.0]))[0] == 1.0


@pytest.mark.parametrize("compare", [c for c, _ in REAL_PART_COMPARISONS])
def test_exact_ties_follow_the_tape_whichever_way_the_point_moves(compare):
    # x[0] == x[1] exactly: the two coordinates' steps move the two sides apart in
    # opposite directions, and neither may change the branch the program takes
    def kinked(x, xp):
        return xp.where(compare(x[0], x[1]), 3.0 * x[0] - x[1], x[0] + 2.0 * x[1])

    @settings(max_examples=20, deadline=None)
    @given(t=_in((-10.0, 10.0)))
    def check(t):
        x = np.array([t, t])
        np.testing.assert_array_equal(complex_step(kinked, x), TapeMethod().prepare(kinked, 2).gradient(x))

    check()


# The suite at its ordinary points is checked for every method, this one included, in
# test_suite_accuracy.py: every suite function runs in complex arithmetic (all are written
# against xp, without numpy's abs, real or float()).


# --- bad input -------------------------------------------------------------------------


def square(x, xp):
    return xp.sum(x**2)


@pytest.mark.parametrize(
    ("x", "error", "message"),
    [
        (np.array([1, 2]), TypeError, "floating-point.*got dtype int64"),
        (np.array([1 + 2j, 1.0]), TypeError, "got dtype complex128"),
        (np.ones((2, 2)), ValueError, r"shape \(n,\)"),
        (np.array([1.0, np.nan]), ValueError, "finite"),
    ],
)
def test_bad_points(x, error, message):
    with pytest.raises(error, match=message):
        ComplexStepMethod().prepare(square, 2).gradient(x)


def test_bad_outputs():
    with pytest.raises(ValueError, match=r"f must return a scalar.*shape \(2,\)"):
        complex_step(lambda x, xp: x * 2.0, [1.0, 2.0])
    with pytest.raises(TypeError, match="f must return a real scalar"):
        complex_step(lambda x, xp: "loss", [1.0, 2.0])
    with pytest.raises(TypeError, match="f must be a callable"):
        complex_step("f", [1.0])


@pytest.mark.parametrize(
    ("f", "detail"),
    [
        (lambda x, xp: xp.sum(np.real(x) ** 2), "returned a real value that changes with x"),
        (lambda x, xp: np.sum(np.abs(np.asarray(x))), "returned a real value that changes with x"),
        (lambda x, xp: float(x[0]) ** 2, "cast a complex value to real"),
        (lambda x, xp: xp.sum(xp.exp(x.astype(np.float64))), "cast a complex value to real"),
        (lambda x, xp: _assign_into_real(x, xp), "cast a complex value to real"),
    ],
    ids=["numpy-real", "abs-of-a-plain-array", "float", "astype", "assignment"],
)
def test_functions_that_drop_the_imaginary_part_are_refused(f, detail):
    with pytest.raises(ValueError, match=f"f is not complex-step safe: .*{detail}"):
        complex_step(f, [1.0, -2.0])


def test_numpy_linalg_and_fft_on_the_steps_values_are_refused_by_name():
    # numpy.linalg.norm and numpy.linalg.qr of a complex array are not the continuations
    # of the real ones (a modulus, Householder reflections with conjugates): called on
    # the values f is handed, they are refused with the reason, not run into a wrong number
    with pytest.raises(
        NotImplementedError, match="complex_step does not support 'numpy.linalg.norm': .*moduli"
    ):
        complex_step(lambda x, xp: np.linalg.norm(x), [1.0, -2.0])
    with pytest.raises(NotImplementedError, match="'numpy.linalg.qr': .*conjugate transposes"):
        complex_step(lambda x, xp: xp.sum(np.linalg.qr(xp.reshape(x, (2, 2)))[1]), [1.0, -2.0, 0.5, 3.0])
    with pytest.raises(NotImplementedError, match="'numpy.fft.fft': its values are complex"):
        complex_step(lambda x, xp: xp.sum(np.fft.fft(x)), [1.0, -2.0])


def _assign_into_real(x, xp):
    out = xp.zeros(2)
    out[0] = x[0]
    return xp.sum(out**2)


@pytest.mark.parametrize(
    "f",
    [
        lambda x, xp: 3.0,
        lambda x, xp: 3,
        lambda x, xp: np.True_,
        lambda x, xp: xp.sum(xp.asarray([1.0, 2.0]) ** 2),
        lambda x, xp: xp.sum(x > 0.0) + xp.sum(x < -1.0),
    ],
    ids=["float", "int", "bool", "constant-array", "count-of-comparisons"],
)
def test_a_function_that_does_not_depend_on_x_has_gradient_zero(f):
    # a real result that does not change with x carries no derivative: 0, as the tape says
    x = np.array([1.0, -2.0])
    np.testing.assert_array_equal(complex_step(f, x), [0.0, 0.0])
    np.testing.assert_array_equal(complex_step(f, x), TapeMethod().prepare(f, x.size).gradient(x))


def test_a_jump_next_to_x_is_refused_not_given_gradient_zero():
    # x[0] != 0 changes within the independence check's step: no derivative to give
    with pytest.raises(ValueError, match=r"real value that changes with x \(1.0 at x, 2.0 a relative"):
        complex_step(lambda x, xp: xp.sum(x != 0.0), [0.0, 1.0])


@pytest.mark.parametrize(
    ("f", "x"),
    [
        (lambda x, xp: np.sum(np.abs(x)), [0.0, -1.0, 2.0]),
        (lambda x, xp: abs(x[0]) * x[1] + abs(x[1]), [-1.5, 2.0]),
        (lambda x, xp: np.maximum(x[0], x[1]) + np.minimum(x[1], 2.0 * x[0]), [1.0, 1.0]),
        (lambda x, xp: np.max(x) + x.max(), [1.0, 3.0, 3.0]),
        (lambda x, xp: xp.sum(xp.where(np.greater(x, 0.0), 3.0 * x, x)), [0.0, 1.0]),
    ],
    ids=["np.abs", "abs()", "np.maximum-np.minimum", "np.max-x.max", "np.greater"],
)
def test_numpy_functions_of_the_values_mean_the_namespaces(f, x):
    # numpy's own abs, maximum, minimum, max and comparisons of the values f is handed,
    # as the tape records them: continuations, ties shared, conditions on real parts
    x = np.array(x)
    np.testing.assert_array_equal(complex_step(f, x), TapeMethod().prepare(f, x.size).gradient(x))


@pytest.mark.parametrize(
    ("step", "error"),
    [
        ("1e-100", TypeError),
        (True, TypeError),
        (0.0, ValueError),
        (-1e-100, ValueError),
        (np.inf, ValueError),
    ],
)
def test_bad_steps(step, error):
    with pytest.raises(error, match="step must be"):
        complex_step(square, [1.0], step=step)


# --- the analyticity probe ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("f", "x"),
    [
        (lambda x, xp: xp.log(x[0]) + x[1], [5e-324, 1.5]),  # pi/2 / h, not 2e323
        (lambda x, xp: xp.sqrt(x[0] - 0.5) + x[1], [0.5, 1.5]),  # infinite derivative
        (lambda x, xp: xp.sum(xp.sqrt(x)), [1e-300, 2.0]),  # the branch point within h
    ],
)
def test_a_singularity_within_the_step_is_refused_not_a_finite_number(f, x):
    with pytest.raises(ValueError, match="complex step is not reliable at x.*with step 9.35e-51"):
        complex_step(f, x)


def test_the_probe_passes_where_f_is_analytic_however_large_the_derivative():
    # exp(200 x): derivatives from 1e-87 to 1e87 across the box, all analytic
    for x0 in (-1.0, 0.0, 1.0):
        gradient = complex_step(lambda x, xp: xp.exp(200.0 * x[0]) + xp.sin(1000.0 * x[1]), [x0, x0])
        np.testing.assert_allclose(gradient, [200 * np.exp(200 * x0), 1000 * np.cos(1000 * x0)], rtol=1e-13)
