"""Forward mode: every JVP rule against an independent high-precision reference.

Scalar rules are checked to 4 ulp against SymPy's own derivative evaluated with
certified digits.  Array rules (and broadcasting) are checked one basis direction at a
time: the tangent of the output along ``e_i`` must equal column ``i`` of the Jacobian,
which the helpers of ``test_tape_rules`` compute by a 400-digit central difference of
the operation evaluated in mpmath (no derivative rule involved).  The ``"forward"``
method must then agree with the tape on the whole suite.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from test_tape_rules import (
    UNARY_ULPS,
    _array,
    _interval,
    _jacobian_column,
    _unary_reference,
    draw_binary_arguments,
)

import diffcompare
from diffcompare.methods.forward.dual import Dual, align_tangent, apply
from diffcompare.methods.forward.method import ForwardMethod, forward_gradient
from diffcompare.methods.forward.namespace import dual_namespace
from diffcompare.methods.forward.rules import JVP_RULES, Outputs, Variadic
from diffcompare.methods.tape.method import tape_gradient
from diffcompare.ops import ALIASES, CONSTANTS, CONSTRUCTORS, OPS
from diffcompare.ops.namespace import UnsupportedOperationError
from diffcompare.truth.accuracy import normwise_relative_error, ulp_distance, ulp_error

UNARY = [name for name, spec in OPS.items() if spec.kind == "unary"]
BINARY = [name for name, spec in OPS.items() if spec.kind == "binary"]

#: How far a basis-direction tangent may be from the Jacobian column, relative to it.
JVP_RTOL = 1e-13
#: How far the forward gradient may be from the tape's on the suite.
SUITE_ULPS, SUITE_NORMWISE = 4.0, 1e-14


def check_jvp(op, args, params, differentiable, rng, positions=3):
    """Tangents along basis directions equal the Jacobian's columns to rounding error.

    Up to ``positions`` coordinates of every differentiable argument are seeded, all in
    one evaluation (one direction each), so the vectorised tangents and the sum of the
    arguments' contributions are exercised together.
    """
    seeds = []
    for k in sorted(differentiable):
        size = max(np.size(args[k]), 1)
        seeds += [(k, int(flat)) for flat in rng.choice(size, min(size, positions), replace=False)]
    duals = list(args)
    for k in differentiable:
        tangent = np.zeros((len(seeds), max(np.size(args[k]), 1)))
        for row, (j, flat) in enumerate(seeds):
            if j == k:
                tangent[row, flat] = 1.0
        value = np.asarray(args[k], dtype=np.float64)
        duals[k] = Dual(value, tangent.reshape((len(seeds),) + value.shape))
    out = apply(op, *duals, **params)
    if not isinstance(out, Dual):  # a piecewise-constant operation: no tangent, derivative 0
        out = Dual(out, np.zeros((len(seeds),) + np.shape(out)))
    assert out.tangent.shape == (len(seeds),) + out.value.shape, (op, out.tangent.shape)
    for row, (k, flat) in enumerate(seeds):
        column = _jacobian_column(op, args, params, differentiable, k, flat)
        exact = np.asarray(column, dtype=object).astype(np.float64)
        claimed = out.tangent[row]
        error = np.abs(claimed - exact)
        assert np.all(error <= JVP_RTOL * np.abs(exact) + 1e-300), (op, k, flat, claimed, exact)


# --- the table ------------------------------------------------------------------------------


def test_every_operation_has_a_tangent_rule_and_nothing_else_does():
    assert set(JVP_RULES) == set(OPS)
    for name, rule in JVP_RULES.items():
        if not isinstance(rule, Variadic):
            for rules in rule.results if isinstance(rule, Outputs) else (rule,):
                assert len(rules) >= 1, name


def test_the_forward_namespace_covers_every_operation_and_alias():
    for name in list(OPS) + list(CONSTRUCTORS) + list(ALIASES):
        assert callable(getattr(dual_namespace, name)), name
    for alias, target in ALIASES.items():
        assert getattr(dual_namespace, alias) is getattr(dual_namespace, target)
    for name, value in CONSTANTS.items():
        assert getattr(dual_namespace, name) == value


# --- hard-coded values, in case the reference helpers break ----------------------------------


@pytest.mark.parametrize(
    ("f", "x", "expected"),
    [
        (lambda x, xp: x[0] ** 3 * x[1], [2.0, 3.0], [36.0, 8.0]),
        (lambda x, xp: xp.sum(xp.tanh(x)), [0.0, 20.0], [1.0, 1.6993417021166355e-17]),
        (lambda x, xp: xp.sum(xp.sigmoid(x)), [0.0, 3.0], [0.25, 0.04517665973091213]),
        (
            lambda x, xp: xp.arcsin(x[0]) + xp.logsumexp(x[1:]),
            [0.5, 2.0, 2.0],
            [1.1547005383792515, 0.5, 0.5],
        ),
    ],
)
def test_known_gradients(f, x, expected):
    grad = forward_gradient(f, np.array(x))
    assert np.all(ulp_error(grad, expected) <= 2), (grad, expected)


# --- rules against the reference --------------------------------------------------------------


@pytest.mark.parametrize("op", UNARY)
@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_unary_rule_to_the_last_few_ulp(op, data):
    x = data.draw(_interval(op))
    if op == "abs":
        assume(abs(x) > 1e-20)  # mpmath.diff steps by about 1e-25: stay off the kink
    out = apply(op, Dual(np.array(x), np.ones(1)))
    claimed = out.tangent[0] if isinstance(out, Dual) else 0.0  # piecewise constant: no tangent
    reference = _unary_reference(op)(np.array([x]))
    assert reference.status == "ok", reference.message
    assert ulp_error(claimed, reference.value[0]) <= UNARY_ULPS.get(op, 4), (
        op,
        x,
        float(claimed),
        reference.value[0],
    )


@pytest.mark.parametrize("op", UNARY)
@settings(max_examples=10, deadline=None)
@given(data=st.data())
def test_unary_rule_on_arrays(op, data):
    x = data.draw(_array(op, hnp.array_shapes(max_dims=3, max_side=3)))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    check_jvp(op, [x], {}, {0}, rng)


@pytest.mark.parametrize("op", BINARY)
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_binary_rule_with_broadcasting(op, data):
    shapes = data.draw(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3))
    args, traceable = draw_binary_arguments(op, data, shapes.input_shapes)
    # a dual meeting a constant (of any broadcast shape) as well as two duals
    differentiable = data.draw(st.sampled_from([d for d in ({0}, {1}, {0, 1}) if d <= traceable]))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    check_jvp(op, args, {}, differentiable, rng)


@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_where_rule(data):
    shapes = data.draw(hnp.mutually_broadcastable_shapes(num_shapes=3, max_dims=3, max_side=3))
    condition = data.draw(hnp.arrays(bool, shapes.input_shapes[0]))
    a = data.draw(_array("where", shapes.input_shapes[1], 1))
    b = data.draw(_array("where", shapes.input_shapes[2], 2))
    differentiable = data.draw(st.sampled_from([{1}, {2}, {1, 2}]))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    check_jvp("where", [condition, a, b], {}, differentiable, rng)


@pytest.mark.parametrize("op", ["sum", "mean", "max", "logsumexp"])
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_reduction_rule(op, data):
    x = data.draw(
        hnp.arrays(
            np.float64, hnp.array_shapes(max_dims=3, max_side=4), elements=st.floats(-5, 5), unique=True
        )
    )
    if op == "max":  # the maximum must be unique to have a derivative
        assume(np.min(np.diff(np.unique(x))) > 1e-3 if x.size > 1 else True)
    axis = data.draw(st.none() | st.integers(-x.ndim, x.ndim - 1) | hnp.valid_tuple_axes(x.ndim, min_size=1))
    keepdims = data.draw(st.booleans())
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    check_jvp(op, [x], {"axis": axis, "keepdims": keepdims}, {0}, rng)


def test_max_ties_share_the_derivative_like_the_tape():
    x = Dual(np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]]), np.ones((1, 2, 3)))
    np.testing.assert_array_equal(apply("max", x, axis=1).tangent, [[1.0, 1.0]])
    t = apply("maximum", Dual(np.array(2.0), np.ones(1)), 2.0).tangent
    np.testing.assert_array_equal(t, [0.5])


MATMUL_SHAPES = [
    ((3,), (3,)),
    ((2, 3), (3,)),
    ((3,), (3, 4)),
    ((2, 3), (3, 4)),
    ((5, 2, 3), (3, 4)),
    ((2, 3), (5, 3, 4)),
    ((5, 2, 3), (5, 3, 4)),
    ((1, 2, 3), (5, 3, 2)),
    ((3,), (5, 3, 4)),
    ((5, 2, 3), (3,)),
    ((2, 1, 2, 3), (5, 3, 2)),
]


@pytest.mark.parametrize(("shape_a", "shape_b"), MATMUL_SHAPES)
@pytest.mark.parametrize("differentiable", [{0}, {1}, {0, 1}], ids=["left", "right", "both"])
def test_matmul_rule(shape_a, shape_b, differentiable):
    rng = np.random.default_rng(7)
    check_jvp("matmul", [rng.standard_normal(shape_a), rng.standard_normal(shape_b)], {}, differentiable, rng)


GETITEM_CASES = [
    ((4, 5), 1),
    ((4, 5), -1),
    ((4, 5), slice(1, 3)),
    ((4, 5), (slice(None), 2)),
    ((4, 5), (1, slice(None, None, -1))),
    ((4, 5), [0, 2, 2]),
    ((4, 5), (np.array([0, 1, 1]), np.array([2, 3, 3]))),
    ((4, 5), np.array([True, False, True, False])),
    ((4, 5), (Ellipsis, None, 1)),
    ((4, 5), ()),
    ((5,), 3),
    # advanced indices separated by a slice: numpy moves their axes to the front
    ((3, 4, 5), (np.array([0, 2, 2]), slice(None), np.array([1, 4, 4]))),
    ((3, 4, 5), (Ellipsis, [1, 1])),
    ((3, 4, 5), (1, slice(None), np.array([[0, 1], [3, 3]]))),
    ((3, 4, 5), np.arange(60).reshape(3, 4, 5) % 3 == 0),
]


@pytest.mark.parametrize(("shape", "key"), GETITEM_CASES, ids=repr)
def test_getitem_rule_including_repeated_indices(shape, key):
    rng = np.random.default_rng(11)
    check_jvp("getitem", [rng.standard_normal(shape), key], {}, {0}, rng, positions=5)


@pytest.mark.parametrize(
    ("shape", "new_shape"),
    [((2, 6), (3, 4)), ((2, 6), (12,)), ((12,), (2, 3, 2)), ((2, 6), (-1, 2)), ((1,), ())],
)
def test_reshape_rule(shape, new_shape):
    rng = np.random.default_rng(13)
    check_jvp("reshape", [rng.standard_normal(shape), new_shape], {}, {0}, rng)


@pytest.mark.parametrize("axes", [None, (0, 2, 1), (2, 0, 1), (1, 2, 0), (-1, 0, -2)])
def test_transpose_rule(axes):
    rng = np.random.default_rng(17)
    check_jvp("transpose", [rng.standard_normal((2, 3, 4)), axes], {}, {0}, rng)


@pytest.mark.parametrize("axis", [0, 1, -1, None])
def test_concatenate_rule(axis):
    rng = np.random.default_rng(19)
    arrays = []
    for i in range(3):
        shape = [2, 3]
        shape[0 if axis is None else axis] += i  # different lengths along the joined axis
        arrays.append(rng.standard_normal(shape))
    check_jvp("concatenate", arrays, {"axis": axis}, {0, 2}, rng)  # the middle one constant


@pytest.mark.parametrize("axis", [0, 1, 2, -1, -3])
def test_stack_rule(axis):
    rng = np.random.default_rng(23)
    arrays = [rng.standard_normal((2, 3)) for _ in range(3)]
    check_jvp("stack", arrays, {"axis": axis}, {0, 1}, rng)


@pytest.mark.parametrize("y", [-3, -1, 0, 1, 2, 5])
def test_power_with_a_constant_integer_exponent(y):
    x = np.array([0.3, 1.7, 6.0])
    check_jvp("power", [x, y], {}, {0}, np.random.default_rng(29))


def test_a_dual_broadcast_against_a_larger_array_gets_the_broadcast_tangent_shape():
    x = Dual(np.array([1.0, 2.0, 3.0]), np.eye(3)[:2])
    assert (x * np.ones((4, 3))).tangent.shape == (2, 4, 3)
    assert apply("where", np.ones((4, 1), bool), x, 0.0).tangent.shape == (2, 4, 3)
    assert (x[0] + np.zeros((2, 5))).tangent.shape == (2, 2, 5)
    np.testing.assert_array_equal(align_tangent(np.ones((2, 3)), 3).shape, (2, 1, 1, 3))


@pytest.mark.parametrize(("op", "at"), [("sqrt", 0.0), ("arcsin", 1.0), ("arccos", -1.0)])
def test_a_direction_that_does_not_move_the_argument_adds_nothing_where_the_derivative_is_infinite(op, at):
    # Along e_0 the derivative is infinite; along e_1 the argument does not move, so the
    # tangent is 0 (0 * inf would be NaN, and the tape, which never visits that path, says 0).
    x = Dual(np.array([at, 2.0]), np.eye(2))
    with np.errstate(all="ignore"):
        out = apply(op, x[0])
    assert abs(out.tangent[0]) == np.inf
    assert out.tangent[1] == 0.0


def test_a_nan_tangent_stays_nan_where_the_derivative_is_infinite():
    # the fix-up above is for directions that do not move the argument, not for NaN ones
    x = Dual(np.array([0.0]), np.array([[1.0], [np.nan]]))
    with np.errstate(all="ignore"):
        out = apply("sqrt", x)
    assert out.tangent[0, 0] == np.inf and np.isnan(out.tangent[1, 0])


def test_power_at_zero_with_a_fractional_exponent_and_a_still_direction():
    # x0 ** 0.5 + x1 at (0, 1): d/dx1 is 1, not NaN from 0 * 0.5 * 0 ** -0.5
    with np.errstate(all="ignore"):
        gradient = forward_gradient(lambda v, xp: v[0] ** 0.5 + v[1], np.array([0.0, 1.0]))
    np.testing.assert_array_equal(gradient, [np.inf, 1.0])


# --- the method -----------------------------------------------------------------------------

SUITE = {record.name: record for record in diffcompare.suite()}


def _agrees(forward, tape):
    # Normwise: forward and reverse mode add the same chain-rule products in different
    # orders, so a component that is small only by cancellation may differ relatively.
    return (
        ulp_distance(forward, tape) <= SUITE_ULPS or normwise_relative_error(forward, tape) <= SUITE_NORMWISE
    )


@pytest.mark.parametrize("name", list(SUITE))
def test_forward_method_agrees_with_the_tape_on_the_suite(name):
    record = SUITE[name]
    prepared = ForwardMethod().prepare(record.f, record.dim)
    for x in record.points:
        forward, tape = prepared.gradient(x), tape_gradient(record.f, x)
        assert forward.shape == x.shape
        assert _agrees(forward, tape), (name, x, forward, tape)


_WEIGHTS = np.random.default_rng(31).standard_normal((15, 4))


def _matrix_loss(x, xp):
    m = xp.reshape(x, (10, 15))
    hidden = xp.tanh(xp.matmul(m, xp.asarray(_WEIGHTS)))
    return xp.sum(hidden**2) + xp.mean(xp.max(m, axis=0)) + xp.sum(xp.logsumexp(m.T, axis=1))


def test_several_chunks_on_a_matrix_function_agree_with_the_tape():
    prepared = ForwardMethod().prepare(_matrix_loss, 150)
    assert prepared.details == {"passes": 3}  # 64 + 64 + 22 directions
    x = np.random.default_rng(37).standard_normal(150)
    forward, tape = prepared.gradient(x), tape_gradient(_matrix_loss, x)
    assert _agrees(forward, tape), (forward, tape)
    np.testing.assert_array_equal(forward_gradient(_matrix_loss, x, chunk=150), forward)


def test_chunk_boundaries_are_exact_on_a_linear_function():
    c = np.arange(1.0, 151.0)
    grad = ForwardMethod().prepare(lambda x, xp: xp.sum(c * x), 150).gradient(np.zeros(150))
    np.testing.assert_array_equal(grad, c)


def test_constant_function_has_zero_gradient():
    prepared = ForwardMethod().prepare(lambda x, xp: 3.0, 2)
    np.testing.assert_array_equal(prepared.gradient(np.ones(2)), [0.0, 0.0])


def test_a_vector_output_is_refused():
    with pytest.raises(ValueError, match=r"the forward namespace it returned shape \(2,\)"):
        ForwardMethod().prepare(lambda x, xp: x * 2.0, 2).gradient(np.ones(2))


# --- the checks above must be able to fail ----------------------------------------------------


def test_the_checker_catches_a_sign_error(monkeypatch):
    monkeypatch.setitem(JVP_RULES, "sin", (lambda t, ans, x: -t * np.cos(x),))
    with pytest.raises(AssertionError):
        check_jvp("sin", [np.array([0.3, 1.2, -2.0])], {}, {0}, np.random.default_rng(0))


def test_the_checker_catches_a_transposed_matmul_rule(monkeypatch):
    wrong = (lambda t, ans, a, b: np.matmul(t, np.swapaxes(b, -1, -2)), JVP_RULES["matmul"][1])
    monkeypatch.setitem(JVP_RULES, "matmul", wrong)
    rng = np.random.default_rng(1)
    with pytest.raises(AssertionError):
        check_jvp("matmul", [rng.standard_normal((3, 3)), rng.standard_normal((3, 3))], {}, {0}, rng)


def test_the_checker_catches_a_reduction_over_the_direction_axis(monkeypatch):
    # the classic forward-mode slip: reducing the tangent over the value's axis number
    wrong = (lambda t, ans, x, axis=None, keepdims=False: np.sum(t, axis=axis, keepdims=keepdims),)
    monkeypatch.setitem(JVP_RULES, "sum", wrong)
    # (3 directions of a 3 x 3 input: the wrong tangent even has the right shape)
    rng = np.random.default_rng(2)
    with pytest.raises(AssertionError):
        check_jvp("sum", [rng.standard_normal((3, 3))], {"axis": 0, "keepdims": False}, {0}, rng)


# --- interface and failure modes -------------------------------------------------------------


def test_an_operation_without_a_rule_names_itself():
    x = Dual(np.array([0.5, 1.5]), np.eye(2))
    with pytest.raises(NotImplementedError, match="cbrt"):
        np.cbrt(x)
    with pytest.raises(NotImplementedError, match="no tangent rule for operation 'spacing'"):
        apply("spacing", x)
    with pytest.raises(UnsupportedOperationError, match="forward does not support 'fft': it is no op"):
        _ = dual_namespace.fft


def test_detaching_a_dual_is_refused():
    x = Dual(np.array([0.5, 1.5]), np.eye(2))
    with pytest.raises(TypeError, match="drop its tangent"):
        float(x[0])
    with pytest.raises(TypeError, match="drop its tangent"):
        np.asarray(x)


def test_comparisons_give_plain_booleans_in_either_order():
    x = Dual(np.array([-1.0, 2.0]), np.eye(2))
    np.testing.assert_array_equal(x > 0, [False, True])
    np.testing.assert_array_equal(np.zeros(2) < x, [False, True])

    def f(x, xp):
        return x[0] ** 2 if x[0] > 0 else -x[0]

    np.testing.assert_array_equal(forward_gradient(f, np.array([3.0, 1.0])), [6.0, 0.0])
    np.testing.assert_array_equal(forward_gradient(f, np.array([-3.0, 1.0])), [-1.0, 0.0])


def test_numpy_arrays_on_the_left_and_numpy_ufuncs_carry_tangents():
    x = Dual(np.array([0.5, 1.5]), np.eye(2))
    y = np.array([2.0, 3.0]) * x + np.exp(x) + np.ones((2, 2)) @ x
    np.testing.assert_allclose(y.tangent, np.diag([2.0, 3.0] + np.exp(x.value)) + 1.0, rtol=1e-15)


def test_asarray_stacks_nested_lists_of_duals():
    x = Dual(np.array([1.0, 2.0]), np.eye(2))
    m = dual_namespace.asarray([[x[0], x[1]], [x[1], 5.0]])
    np.testing.assert_array_equal(m.value, [[1.0, 2.0], [2.0, 5.0]])
    np.testing.assert_array_equal(m.tangent, [[[1.0, 0.0], [0.0, 0.0]], [[0.0, 1.0], [1.0, 0.0]]])


def test_dual_methods_match_namespace_functions():
    x = Dual(np.arange(6.0).reshape(2, 3), np.eye(6).reshape(6, 2, 3))
    y = x.sum(axis=0).mean() + x.T.max() + x.reshape(3, 2)[1, 0] + x.transpose((1, 0))[2, 1]
    expected = np.full((2, 3), 1.0 / 3.0)  # mean of the 3 column sums
    expected[1, 2] += 2.0  # max, and transpose[2, 1]
    expected[0, 2] += 1.0  # reshape(3, 2)[1, 0] is element 2
    np.testing.assert_allclose(y.tangent, expected.ravel(), rtol=1e-15)
    assert x.transpose(1, 0).shape == x.transpose().shape == (3, 2)


def test_caller_mistakes_are_value_errors():
    with pytest.raises(ValueError, match="directions first"):
        Dual(np.zeros(3), np.zeros(3))
    with pytest.raises(ValueError, match="different numbers of directions"):
        _ = Dual(np.zeros(2), np.zeros((1, 2))) + Dual(np.zeros(2), np.zeros((2, 2)))
