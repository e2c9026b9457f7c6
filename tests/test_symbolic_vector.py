"""The vectorised symbolic method: exact against the tape, independent of n, clear when it cannot."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import diffcompare
from diffcompare.methods.symbolic_vector.gradient import symbolic_vector_gradient
from diffcompare.methods.symbolic_vector.method import SymbolicVectorMethod
from diffcompare.methods.symbolic_vector.namespace import (
    BINARY,
    NORMALIZATIONS,
    REDUCTIONS,
    UNARY,
    UNSUPPORTED,
)
from diffcompare.ops import OPS
from diffcompare.ops.numpy_namespace import numpy_namespace
from diffcompare.suite.functions import rosenbrock
from diffcompare.truth.accuracy import normwise_relative_error

# Normwise agreement with the tape.  Both are exact methods evaluated in float64 with
# different (but equally good) formulas; the largest difference on the suite is
# goldstein_price's, whose polynomial SymPy expands (1.1e-15).
EXACT_NORMWISE = 2e-15

# Suite functions the vectorised form expresses; every other one must raise
# NotImplementedError.  Listed so that coverage cannot silently drop.
# fmt: off
SUPPORTED = frozenset({
    "sum_of_squares", "polynomial", "exp_log", "trigonometric", "inverse_trigonometric", "square_roots",
    "hyperbolic", "tanh_sum", "sigmoid_sum", "softplus_sum", "log1p_expm1", "rational", "power_xy",
    "log_sum_exp", "kinks", "total_variation", "rosenbrock", "beale", "booth", "himmelblau",
    "styblinski_tang", "rastrigin", "ackley", "matyas", "goldstein_price", "dixon_price", "zakharov",
    "three_hump_camel", "mccormick",
})
# fmt: on
UNSUPPORTED_SUITE = {
    "piecewise_where": "greater",
    "matrix_product": "reshape",
    "stack_concat": "stack",
    "least_squares": "matmul",
    "logistic_regression": "matmul",
    "softmax_cross_entropy": "reshape",
    "mlp_loss": "reshape",
}
SUITE_NAMES = [record.name for record in diffcompare.suite()]


def tape_gradient(f, x):
    return diffcompare.grad(f, method="tape")(x)


def test_the_supported_list_names_suite_functions():
    assert SUPPORTED | set(UNSUPPORTED_SUITE) == set(SUITE_NAMES)
    assert not SUPPORTED & set(UNSUPPORTED_SUITE)


@pytest.mark.parametrize("name", SUITE_NAMES)
def test_suite_function_agrees_with_the_tape_or_is_refused(name):
    (record,) = diffcompare.suite([name])
    if name not in SUPPORTED:
        with pytest.raises(
            NotImplementedError,
            match=f"does not support '{UNSUPPORTED_SUITE[name]}': the vectorised form",
        ):
            symbolic_vector_gradient(record.f, record.dim)
        return
    gradient = symbolic_vector_gradient(record.f, record.dim)
    for point in record.points:
        err = normwise_relative_error(gradient(point), tape_gradient(record.f, point))
        assert err <= EXACT_NORMWISE, f"{name} at {point.tolist()}: {err:.3g}"


SCALABLE_SUPPORTED = sorted(r.name for r in diffcompare.suite() if r.scalable and r.name in SUPPORTED)


@pytest.mark.parametrize("name", SCALABLE_SUPPORTED)
def test_scalable_suite_functions_at_fifty_coordinates(name):
    (record,) = diffcompare.suite([name])
    big = record.resized(50)
    gradient = symbolic_vector_gradient(big.f, big.dim)
    for point in big.points:
        assert normwise_relative_error(gradient(point), tape_gradient(big.f, point)) <= EXACT_NORMWISE


@pytest.mark.parametrize("n", [2, 3, 10, 1000])
def test_rosenbrock_agrees_with_the_tape(n):
    gradient = diffcompare.grad(rosenbrock, method="tape")
    compiled = symbolic_vector_gradient(rosenbrock, n)
    for seed in range(3):
        x = np.random.default_rng([seed, n]).uniform(-2.0, 2.0, n)
        assert normwise_relative_error(compiled(x), gradient(x)) <= EXACT_NORMWISE


def test_setup_does_not_depend_on_n():
    small, large = symbolic_vector_gradient(rosenbrock, 10), symbolic_vector_gradient(rosenbrock, 10_000)
    assert small.expression == large.expression
    assert [s.partials for s in small.stages] == [s.partials for s in large.stages]
    assert (small.ops, small.cse_ops) == (large.ops, large.cse_ops)
    assert [r.length for r in large.trace.reductions] == [9_999]
    assert len(large.trace.positions) == 3  # x, x[1:] and x[:-1], not 10,000 symbols


def test_method_reports_its_size():
    prepared = SymbolicVectorMethod().prepare(rosenbrock, 10_000)
    assert prepared.details["reductions"] == 1
    assert prepared.details["expr_ops"] >= prepared.details["cse_ops"] > 0
    assert prepared.gradient(np.ones(10_000)).tolist() == [0.0] * 10_000  # the minimum


# --- known values, computed by hand -----------------------------------------------------


def test_known_value_of_a_product_of_neighbours():
    # f = x0 x1 + x1 x2  ->  (x1, x0 + x2, x1); at (1, 2, 3): (2, 4, 2)
    g = symbolic_vector_gradient(lambda x, xp: xp.sum(x[1:] * x[:-1]), 3)
    assert g(np.array([1.0, 2.0, 3.0])).tolist() == [2.0, 4.0, 2.0]


def test_known_value_of_the_variance():
    # f = mean((x - mean x)^2)  ->  2 (x - mean x) / n, the inner mean's terms cancel;
    # at (1, 2, 3, 6): mean 3, gradient (-1, -0.5, 0, 1.5)
    g = symbolic_vector_gradient(lambda x, xp: xp.mean((x - xp.mean(x)) ** 2), 4)
    assert g(np.array([1.0, 2.0, 3.0, 6.0])).tolist() == [-1.0, -0.5, 0.0, 1.5]


def test_known_value_of_an_element_times_a_sum():
    # f = x0 sum(x) + mean(x^2)  ->  (sum x + x0 + x0, x0 + x1); at (1, 2): (5, 3)
    g = symbolic_vector_gradient(lambda x, xp: x[0] * xp.sum(x) + xp.mean(x**2), 2)
    assert g(np.array([1.0, 2.0])).tolist() == [5.0, 3.0]


def test_known_value_of_a_reversed_slice():
    # f = sum(x[::-1] * (1, 2, 3)) = 3 x0 + 2 x1 + x2
    g = symbolic_vector_gradient(lambda x, xp: xp.sum(x[::-1] * np.array([1.0, 2.0, 3.0])), 3)
    assert g(np.array([0.5, -1.0, 2.0])).tolist() == [3.0, 2.0, 1.0]


def test_known_value_of_logsumexp_and_max():
    # logsumexp' is the softmax: at (0, log 3) it is (1/4, 3/4); max' picks the largest
    g = symbolic_vector_gradient(lambda x, xp: xp.logsumexp(x), 2)
    np.testing.assert_allclose(g(np.array([0.0, math.log(3.0)])), [0.25, 0.75], rtol=4e-16)
    g = symbolic_vector_gradient(lambda x, xp: xp.max(x), 3)
    assert g(np.array([1.0, 5.0, 2.0])).tolist() == [0.0, 1.0, 0.0]


def test_float_constants_keep_every_bit():
    # SymPy prints floats with 15 digits; 0.30000000000000004 needs all 17.
    g = symbolic_vector_gradient(lambda x, xp: xp.sum(0.30000000000000004 * x * x), 2)
    assert g(np.array([1.0, 0.5])).tolist() == [2 * 0.30000000000000004, 0.30000000000000004]


def test_gradient_of_a_constant_function_is_zero():
    g = symbolic_vector_gradient(lambda x, xp: 2.5 + xp.sum(np.ones(3)), 3)
    assert g(np.array([1.0, 2.0, 3.0])).tolist() == [0.0, 0.0, 0.0]


# --- slicing, broadcasting and lengths ---------------------------------------------------

WEIGHTS = np.arange(7.0)

# fmt: off
SLICING_CASES = {
    "slice of an expression":  lambda x, xp: xp.sum((xp.sin(x) * x)[1:] * x[:-1]),
    "slice of a slice":        lambda x, xp: xp.sum(x[1:][::2] ** 2 * x[:-1][::2]),
    "negative steps":          lambda x, xp: xp.sum(x[::-1] * xp.cos(x)) + xp.sum(x[5::-2] ** 3),
    "element of an expression": lambda x, xp: (x**2 + xp.exp(x))[3] * x[-1],
    "length-1 broadcast":      lambda x, xp: xp.sum(x[:1] * x[1:]) + xp.sum(x[2:3] + x),
    "constant array":          lambda x, xp: xp.sum(WEIGHTS * x) + xp.sum((WEIGHTS * x)[2:] ** 2),
    "integer constants":       lambda x, xp: xp.sum(np.arange(7) * x) + xp.sum(np.arange(7)[::-1] * x**2),
    "nested reductions":       lambda x, xp: xp.log(xp.sum(xp.exp(x - xp.max(x)))) * xp.mean(x * xp.sum(x)),
    "iteration":               lambda x, xp: sum(xi * xi for xi in x) * xp.tanh(x[0]),
    "empty slice":             lambda x, xp: xp.sum(x[7:]) + xp.sum(x**2),
    "maximum and minimum":     lambda x, xp: xp.sum(xp.maximum(x[1:], x[:-1])) - xp.sum(xp.minimum(x, 0.25)),
}
# fmt: on


@pytest.mark.parametrize("name", SLICING_CASES)
def test_slicing_agrees_with_the_tape(name):
    f = SLICING_CASES[name]
    x = np.random.default_rng(7).uniform(-1.0, 1.0, 7)
    assert normwise_relative_error(symbolic_vector_gradient(f, 7)(x), tape_gradient(f, x)) <= EXACT_NORMWISE


bounds = st.one_of(st.none(), st.integers(-9, 9))
slices = st.builds(slice, bounds, bounds, st.one_of(st.none(), st.integers(-3, 3).filter(bool)))


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 7), slices, slices)
def test_slices_of_slices_land_where_numpy_puts_them(n, outer, inner):
    # every start, stop and step, negative and out of range, composed twice
    def f(x, xp):
        return xp.sum(x[outer][inner] * WEIGHTS[: len(range(n)[outer][inner])]) + 0.5 * xp.sum(x)

    x = np.random.default_rng(n).uniform(-1.0, 1.0, n)
    assert symbolic_vector_gradient(f, n)(x).tolist() == tape_gradient(f, x).tolist()


@pytest.mark.parametrize(
    "f",
    [
        lambda x, xp: xp.sum(x[1:] + x),
        lambda x, xp: xp.sum(x[1:] * x[:-2]),
        lambda x, xp: xp.sum(np.arange(2.0) * x),
    ],
)
def test_mismatched_lengths_raise(f):
    with pytest.raises(ValueError, match="could not be broadcast together with shapes"):
        symbolic_vector_gradient(f, 4)


def test_non_scalar_output_is_refused():
    with pytest.raises(ValueError, match=r"f must return a scalar.*shape \(3,\)"):
        symbolic_vector_gradient(lambda x, xp: x * 2.0, 3)


# --- what the form cannot express ---------------------------------------------------------

# fmt: off
UNSUPPORTED_CASES = [
    ("matmul",      lambda x, xp: xp.matmul(x, x)),
    ("matmul",      lambda x, xp: x @ x),
    ("reshape",     lambda x, xp: xp.sum(xp.reshape(x, (2, 2)))),
    ("transpose",   lambda x, xp: xp.sum(x.T)),
    ("concatenate", lambda x, xp: xp.sum(xp.concatenate([x, x]))),
    ("stack",       lambda x, xp: xp.sum(xp.stack([x, x]))),
    ("where",       lambda x, xp: xp.sum(xp.where(np.array([True, False, True, False]), x, 0.0))),
    ("greater",     lambda x, xp: xp.sum(xp.where(x > 0, x, -x))),
    ("less",        lambda x, xp: x[0] if x[1] < 0 else x[2]),
    ("sum",         lambda x, xp: xp.sum(xp.sum(x, keepdims=True))),
    ("max",         lambda x, xp: xp.max(x, axis=1)),
    ("getitem",     lambda x, xp: xp.sum(x[[0, 2]])),
    ("getitem",     lambda x, xp: xp.sum(x[None])),
    ("multiply",    lambda x, xp: xp.sum(np.ones((2, 4)) * x)),
    ("add",         lambda x, xp: xp.sum(x + [x[0], x[1], x[2], x[3]])),
    ("asarray",     lambda x, xp: xp.sum(xp.asarray([x[0], x[1]]))),
    ("numpy.spacing", lambda x, xp: xp.sum(np.spacing(x))),
]
# fmt: on


@pytest.mark.parametrize(("op", "f"), UNSUPPORTED_CASES)
def test_unsupported_constructs_name_the_operation(op, f):
    with pytest.raises(NotImplementedError, match=f"does not support '{op}': the vectorised form cannot"):
        symbolic_vector_gradient(f, 4)


def test_every_operation_has_a_rule_or_a_reason():
    handled = (
        set(UNARY) | set(BINARY) | set(REDUCTIONS) | set(NORMALIZATIONS) | set(UNSUPPORTED) | {"getitem"}
    )
    assert handled == set(OPS)
    assert all(UNSUPPORTED.values())


# --- property test: random elementwise programs over slices --------------------------------

_UNARY_SAFE = ("sin", "cos", "tanh", "arctan", "sigmoid", "negative")
_BINARY_SAFE = ("add", "subtract", "multiply")
_REDUCE_SAFE = ("sum", "mean", "logsumexp", "max")


@st.composite
def programs(draw):
    """A straight-line program: leaves (slices of one length ``m``, elements, constants), then operations."""
    n = draw(st.integers(2, 9))
    m = draw(st.integers(1, n))
    leaf = st.one_of(
        st.tuples(st.just("slice"), st.integers(0, n - m)),
        st.tuples(st.just("element"), st.integers(-n, n - 1)),
        st.tuples(st.just("constant"), st.floats(-2.0, 2.0)),
    )
    program = [("slice", draw(st.integers(0, n - m)))] + draw(st.lists(leaf, min_size=1, max_size=3))
    for _ in range(draw(st.integers(2, 8))):
        register = st.integers(0, len(program) - 1)
        program.append(
            draw(
                st.one_of(
                    st.tuples(st.just("unary"), st.sampled_from(_UNARY_SAFE), register),
                    st.tuples(st.just("binary"), st.sampled_from(_BINARY_SAFE), register, register),
                    st.tuples(st.just("reduce"), st.sampled_from(_REDUCE_SAFE), register),
                )
            )
        )
    return n, m, program


def run_program(n, m, program):
    """``f(x, xp)`` executing ``program`` (each instruction appends one register); it
    returns the sum of every register, so that every instruction counts."""

    def f(x, xp):
        registers = []
        for kind, *args in program:
            if kind == "slice":
                registers.append(x[args[0] : args[0] + m])
            elif kind == "element":
                registers.append(x[args[0]])
            elif kind == "constant":
                registers.append(args[0])
            else:
                operands = [registers[i] for i in args[1:]]
                registers.append(getattr(xp, args[0])(*operands))
        total = 0.0
        for register in registers:
            total = total + xp.sum(register)
        return total

    return f


@settings(max_examples=60, deadline=None)
@given(programs(), st.integers(0, 2**32 - 1))
def test_random_slice_programs_agree_with_the_tape(program, seed):
    n, m, instructions = program
    f = run_program(n, m, instructions)
    x = np.random.default_rng(seed).uniform(-1.0, 1.0, n)
    expected = tape_gradient(f, x)
    got = symbolic_vector_gradient(f, n)(x)
    # Different float64 orderings of bounded values: agreement to a few ulps of the
    # gradient's scale (components that cancel to ~0 have no relative accuracy).
    np.testing.assert_allclose(got, expected, rtol=1e-13, atol=1e-13 * (1.0 + np.max(np.abs(expected))))


def test_a_wrong_reduction_rule_is_caught(monkeypatch):
    # Test the tester: mean's weight off by one element must break agreement with the tape.
    from diffcompare.methods.symbolic_vector import gradient as symbolic_vector

    wrong = symbolic_vector.ReductionRule(np.mean, lambda g, elements, value, length: g / (length + 1))
    monkeypatch.setitem(symbolic_vector.REDUCTION_RULES, "mean", wrong)
    f = SLICING_CASES["nested reductions"]
    x = np.random.default_rng(7).uniform(-1.0, 1.0, 7)
    assert normwise_relative_error(symbolic_vector_gradient(f, 7)(x), tape_gradient(f, x)) > 1e-3


# --- f's own value: total traces stand in for the numpy check of a singular point -------

#: Arguments for the rows marked total: zero, the subnormal and tiny, the ordinary, and
#: far enough out that a value or an intermediate overflows.
_GRID = np.array([0.0, 5e-324, 1e-300, 0.5, 1.0, 3.0, 20.0, 700.0, 1e3, 1e300])
_GRID = np.concatenate([-_GRID[::-1], _GRID])
_MODERATE = np.abs(_GRID) <= 20.0
TOTAL_UNARY = sorted(op for op in UNARY if OPS[op].total)
TOTAL_BINARY = sorted(op for op in BINARY if op in OPS and OPS[op].total)


def _own_value(f, x):
    """``f(x)`` as symbolic_vector's waves compute it, for a total trace."""
    compiled = symbolic_vector_gradient(f, x.size)
    assert compiled.total, compiled.trace.restricted
    seen = []
    compiled.checked(x, lambda value, point: seen.append(value))
    return float(seen[0])


def _numpy_value(f, x):
    with np.errstate(all="ignore"):
        return float(f(x, numpy_namespace))


def test_the_total_rows_are_the_expected_ones():
    # a row marked total by mistake lets SymPy simplify a singularity away unchecked
    assert set(TOTAL_UNARY) >= {"exp", "sin", "tanh", "square", "abs", "sigmoid"}
    assert not set(TOTAL_UNARY) & {"log", "sqrt", "tan", "arcsin", "softplus", "gammaln", "logit"}
    assert set(TOTAL_BINARY) >= {"add", "subtract", "multiply", "maximum", "arctan2"}
    assert not set(TOTAL_BINARY) & {"divide", "power", "hypot", "logaddexp", "xlogy"}


@pytest.mark.parametrize("op", TOTAL_UNARY)
def test_a_total_unary_row_is_finite_wherever_its_value_is(op):
    def f(x, xp):
        return xp.sum(getattr(xp, op)(x))

    for point in _GRID:
        x = np.array([point])
        numpy_value, own = _numpy_value(f, x), _own_value(f, x)
        if abs(point) <= 20.0:
            assert math.isfinite(numpy_value), (op, point)  # no pole, no domain edge
        if math.isfinite(numpy_value):
            assert math.isfinite(own), (op, point, numpy_value, own)  # no early overflow


@pytest.mark.parametrize("op", TOTAL_BINARY)
def test_a_total_binary_row_is_finite_wherever_its_value_is(op):
    def f(x, xp):
        return xp.sum(getattr(xp, op)(x[:1], x[1:]))

    for a in _GRID[::3]:
        for b in _GRID[1::3]:
            x = np.array([a, b])
            numpy_value, own = _numpy_value(f, x), _own_value(f, x)
            if abs(a) <= 20.0 and abs(b) <= 20.0:
                assert math.isfinite(numpy_value), (op, a, b)
            if math.isfinite(numpy_value):
                assert math.isfinite(own), (op, a, b, numpy_value, own)


@pytest.mark.parametrize(
    ("f", "why"),
    [
        (lambda x, xp: xp.sum((x - 1.0) / (x - 1.0)), ["divide"]),
        (lambda x, xp: xp.sum(x / np.array([1.0, 0.0, 2.0])), ["divide"]),
        (lambda x, xp: xp.sum(xp.log(x)) + xp.sum(xp.sqrt(x)), ["log", "sqrt"]),
        (lambda x, xp: xp.sum(x**-1.0), ["power"]),
        (lambda x, xp: xp.sum(x**0.5), ["power"]),
        (lambda x, xp: xp.sum(x**x), ["power"]),
        (lambda x, xp: xp.sum(np.array([2.0, 0.0, 1.0]) ** x), ["power"]),
        (lambda x, xp: xp.sum(xp.softplus(x)), ["softplus"]),
        (lambda x, xp: xp.sum(x * np.inf), ["a constant that is not finite"]),
        (lambda x, xp: xp.sum(x * np.array([1.0, np.nan, 2.0])), ["a constant that is not finite"]),
    ],
)
def test_a_trace_that_can_be_singular_says_why(f, why):
    compiled = symbolic_vector_gradient(f, 3)
    assert not compiled.total and compiled.trace.restricted == why
    assert SymbolicVectorMethod().prepare(f, 3).checked is None  # grad keeps its numpy check
    with pytest.raises(ValueError, match="needs a total trace"):
        compiled.checked(np.ones(3), lambda value, x: None)


@pytest.mark.parametrize(
    "f",
    [
        lambda x, xp: xp.sum(x / 2.0) + xp.sum(x / np.array([1.0, -3.0, 2.0])),
        lambda x, xp: xp.sum(x**3) + xp.sum(x**2.0) + xp.sum(x**0),
        lambda x, xp: xp.sum(2.0**x) + xp.sum(np.array([0.5, 1.0, 3.0]) ** x),
        lambda x, xp: xp.sum((x - xp.mean(x)) ** 2) + xp.max(x) + xp.logsumexp(x),
        lambda x, xp: xp.sum(xp.log_softmax(x) * np.array([1.0, 0.0, 0.0])),
    ],
)
def test_a_total_trace_computes_the_value_numpy_does(f):
    x = np.array([0.3, -1.2, 2.5])
    compiled = symbolic_vector_gradient(f, 3)
    assert compiled.total, compiled.trace.restricted
    assert _own_value(f, x) == pytest.approx(_numpy_value(f, x), rel=1e-15, abs=1e-15)
    seen = []
    checked = compiled.checked(x, lambda value, point: seen.append(point))
    assert seen[0] is x
    assert normwise_relative_error(checked, compiled(x)) <= 4e-16
    assert normwise_relative_error(checked, tape_gradient(f, x)) <= EXACT_NORMWISE


def test_nested_reductions_take_one_wave_each():
    # mean(x) is reduced in wave 0; (x - mean)**2 and the partials that read the mean
    # in wave 1; f itself, a reduction, is read from the reduced values
    f = lambda x, xp: xp.sum((x - xp.mean(x)) ** 2)  # noqa: E731
    compiled = symbolic_vector_gradient(f, 4)
    plan = compiled._with_value
    assert [len(wave.reductions) for wave in plan.waves] == [1, 1]
    assert plan.direct == ((plan.items - 1, compiled.expression),)
    x = np.array([1.0, 2.0, 3.0, 6.0])  # mean 3: f = 4 + 1 + 0 + 9
    assert _own_value(f, x) == 14.0
    assert compiled.checked(x, lambda value, point: None).tolist() == [-4.0, -2.0, 0.0, 6.0]


@pytest.mark.parametrize("name", sorted(SUPPORTED))
def test_suite_values_from_the_waves_match_numpy(name):
    (record,) = diffcompare.suite([name])
    compiled = symbolic_vector_gradient(record.f, record.dim)
    if not compiled.total:
        assert SymbolicVectorMethod().prepare(record.f, record.dim).checked is None
        return
    for point in record.points:
        assert _own_value(record.f, point) == pytest.approx(_numpy_value(record.f, point), rel=1e-14)
        checked = compiled.checked(point, lambda value, x: None)
        assert normwise_relative_error(checked, compiled(point)) <= 4e-16


def test_most_scalable_suite_functions_are_total():
    # the point of the shortcut: the suite's smooth test functions need no numpy check
    records = diffcompare.suite(sorted(SUPPORTED))
    total = {r.name for r in records if symbolic_vector_gradient(r.f, r.dim).total}
    assert {"rosenbrock", "styblinski_tang", "zakharov", "sum_of_squares", "rastrigin"} <= total
    assert not total & {"exp_log", "square_roots", "rational", "power_xy"}  # log, sqrt, 1/x, x**y


@pytest.mark.parametrize(
    ("f", "in_order"),
    [
        (rosenbrock, True),  # one wave of partials: returned as they are
        (lambda x, xp: xp.sum(x * x) * x[0], False),  # reads sum(x * x) before the walk
        (lambda x, xp: xp.logsumexp(x), False),  # the softmax weights read the elements
    ],
)
def test_the_plain_gradient_takes_its_shortcut_only_when_one_wave_returns_the_partials(f, in_order):
    compiled = symbolic_vector_gradient(f, 4)
    assert compiled._gradient.in_order is in_order
    assert compiled._with_value is None or not compiled._with_value.in_order  # f's value comes too
    x = np.array([0.5, -1.5, 2.0, 0.25])
    assert normwise_relative_error(compiled(x), tape_gradient(f, x)) <= EXACT_NORMWISE


def test_generated_total_expressions_agree_with_numpy_on_finiteness_and_value():
    # Random expressions of the fuzzer (every op of the table, wrapped into its domain):
    # where symbolic_vector traces one as total, its own value must be finite exactly
    # where numpy's is (in the box and where exp and powers overflow, 1e3 out), equal
    # it in the box, and leave the gradient as the plain waves give it.
    from diffcompare.fuzz.generator import build_expression

    total = 0
    for seed in range(300):
        expression = build_expression(seed)
        try:
            compiled = symbolic_vector_gradient(expression.f, expression.dim)
        except (NotImplementedError, ValueError):
            continue  # declined by name: reshapes, matmul, traced conditions, ...
        if not compiled.total:
            continue
        total += 1
        rng = np.random.default_rng(seed)
        dim = expression.dim
        inside = [np.array(expression.point), np.zeros(dim), rng.uniform(-2.0, 2.0, dim)]
        for x in [*inside, 1e3 * rng.uniform(-1.0, 1.0, dim)]:
            own, numpy_value = [], _numpy_value(expression.f, x)
            with np.errstate(all="ignore"):
                checked = compiled.checked(x, lambda value, point, own=own: own.append(float(value)))
                plain = compiled(x)
            assert math.isfinite(own[0]) == math.isfinite(numpy_value), (seed, expression.text, x, own)
            # the same partials, but from a wave whose CSE also shares the value's terms
            scale = np.max(np.abs(plain), initial=0.0, where=np.isfinite(plain))
            np.testing.assert_allclose(checked, plain, rtol=1e-15, atol=1e-15 * scale)
            if np.all(np.abs(x) <= 2.0) and math.isfinite(numpy_value):
                assert own[0] == pytest.approx(numpy_value, rel=1e-13, abs=1e-14), (seed, expression.text, x)
    assert total >= 60  # about 3 in 10 generated expressions are total
