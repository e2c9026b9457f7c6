"""Every tape rule against an independent high-precision reference (property tests).

Scalar rules are checked to 4 ulp against SymPy's own derivative evaluated with
certified digits.  Array rules (and broadcasting) are checked through directional
derivatives: the operation is evaluated in mpmath at 400 digits (elementwise functions
from mpmath, array operations by numpy on object arrays of mpmath numbers) and
differentiated numerically with ``mpmath.diff``; no derivative rule is involved.
"""

from __future__ import annotations

import functools
import operator

import mpmath
import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from test_ops_linalg import MPMATH_LINALG

from diffcompare.methods.tape.engine import Node, apply, backward
from diffcompare.methods.tape.rules import RULES
from diffcompare.ops import OPS
from diffcompare.ops.table import Refused
from diffcompare.ops.traced import value_of
from diffcompare.truth.accuracy import ulp_error
from diffcompare.truth.reference import PreparedReference

mp = mpmath.mp


def _elementwise(fn):
    return np.frompyfunc(fn, 1, 1)


# mpmath forward of every operation, on object arrays of mpf.
# fmt: off
MPMATH_FORWARD = {
    "negative": operator.neg, "abs": _elementwise(abs),
    "exp": _elementwise(mpmath.exp), "expm1": _elementwise(mpmath.expm1),
    "log": _elementwise(mpmath.log), "log1p": _elementwise(mpmath.log1p),
    "sqrt": _elementwise(mpmath.sqrt),
    "sin": _elementwise(mpmath.sin), "cos": _elementwise(mpmath.cos), "tan": _elementwise(mpmath.tan),
    "arcsin": _elementwise(mpmath.asin), "arccos": _elementwise(mpmath.acos),
    "arctan": _elementwise(mpmath.atan), "arcsinh": _elementwise(mpmath.asinh),
    "sinh": _elementwise(mpmath.sinh), "cosh": _elementwise(mpmath.cosh),
    "tanh": _elementwise(mpmath.tanh),
    "sigmoid": _elementwise(lambda v: 1 / (1 + mpmath.exp(-v))),
    "softplus": _elementwise(lambda v: mpmath.log1p(mpmath.exp(v))),
    "add": operator.add, "subtract": operator.sub, "multiply": operator.mul,
    "divide": operator.truediv, "power": np.frompyfunc(lambda a, b: a ** b, 2, 1),
    "maximum": np.frompyfunc(max, 2, 1), "minimum": np.frompyfunc(min, 2, 1),
    # elementwise group
    "square": _elementwise(lambda v: v * v), "log2": _elementwise(lambda v: mpmath.log(v, 2)),
    "log10": _elementwise(mpmath.log10), "exp2": _elementwise(lambda v: mpmath.power(2, v)),
    "arccosh": _elementwise(mpmath.acosh), "arctanh": _elementwise(mpmath.atanh),
    "erf": _elementwise(mpmath.erf), "erfc": _elementwise(mpmath.erfc),
    "gammaln": _elementwise(mpmath.loggamma), "digamma": _elementwise(mpmath.digamma),
    "sign": _elementwise(mpmath.sign), "floor": _elementwise(mpmath.floor),
    "round": _elementwise(mpmath.nint),
    "hypot": np.frompyfunc(mpmath.hypot, 2, 1), "arctan2": np.frompyfunc(mpmath.atan2, 2, 1),
    "logaddexp": np.frompyfunc(lambda a, b: mpmath.log(mpmath.exp(a) + mpmath.exp(b)), 2, 1),
    "xlogy": np.frompyfunc(lambda a, b: a * mpmath.log(b), 2, 1),
    # elementwise, second wave
    "ceil": _elementwise(mpmath.ceil), "sinc": _elementwise(mpmath.sincpi),
    "gamma": _elementwise(mpmath.gamma), "rgamma": _elementwise(mpmath.rgamma),
    "gammasgn": _elementwise(lambda v: mpmath.sign(mpmath.gamma(v))),
    "erfinv": _elementwise(mpmath.erfinv), "erfcinv": _elementwise(lambda v: mpmath.erfinv(1 - v)),
    "logit": _elementwise(lambda v: mpmath.log(v / (1 - v))),
    "j0": _elementwise(lambda v: mpmath.besselj(0, v)), "j1": _elementwise(lambda v: mpmath.besselj(1, v)),
    "y0": _elementwise(lambda v: mpmath.bessely(0, v)), "y1": _elementwise(lambda v: mpmath.bessely(1, v)),
    "i0": _elementwise(lambda v: mpmath.besseli(0, v)), "i1": _elementwise(lambda v: mpmath.besseli(1, v)),
    "fmax": np.frompyfunc(max, 2, 1), "fmin": np.frompyfunc(min, 2, 1),
    "remainder": np.frompyfunc(lambda a, b: a - b * mpmath.floor(a / b), 2, 1),
    "logaddexp2": np.frompyfunc(lambda a, b: mpmath.log(mpmath.power(2, a) + mpmath.power(2, b), 2), 2, 1),
    "beta": np.frompyfunc(mpmath.beta, 2, 1),
    "betaln": np.frompyfunc(lambda a, b: mpmath.log(mpmath.beta(a, b)), 2, 1),
    "polygamma": np.frompyfunc(lambda n, v: mpmath.polygamma(int(n), v), 2, 1),
    "jn": np.frompyfunc(mpmath.besselj, 2, 1), "yn": np.frompyfunc(mpmath.bessely, 2, 1),
    "iv": np.frompyfunc(mpmath.besseli, 2, 1),
    "ive": np.frompyfunc(lambda n, v: mpmath.besseli(n, v) * mpmath.exp(-abs(v)), 2, 1),
    "gammainc": np.frompyfunc(lambda a, v: mpmath.gammainc(a, 0, v, regularized=True), 2, 1),
    "gammaincc": np.frompyfunc(lambda a, v: mpmath.gammainc(a, v, mpmath.inf, regularized=True), 2, 1),
    "where": np.where,
    "sum": lambda x, axis=None, keepdims=False: np.sum(x, axis=axis, keepdims=keepdims),
    "mean": lambda x, axis=None, keepdims=False: np.mean(x, axis=axis, keepdims=keepdims),
    "max": lambda x, axis=None, keepdims=False: np.max(x, axis=axis, keepdims=keepdims),
    "logsumexp": lambda x, axis=None, keepdims=False: _elementwise(mpmath.log)(
        np.sum(_elementwise(mpmath.exp)(x), axis=axis, keepdims=keepdims)),
    "matmul": np.matmul, "getitem": operator.getitem,
    "reshape": np.reshape, "transpose": np.transpose,
    "concatenate": lambda *arrays, axis=0: np.concatenate(arrays, axis=axis),
    "stack": lambda *arrays, axis=0: np.stack(arrays, axis=axis),
    # linear algebra (xp.linalg): mpmath's LU solve, inverse, det, Cholesky and eigsy
    **MPMATH_LINALG,
    # reductions, scans and shape operations: the definitions, written out in mpmath
    "log_softmax": lambda x, axis=-1: x - _elementwise(mpmath.log)(
        np.sum(_elementwise(mpmath.exp)(x), axis=axis, keepdims=True)),
    "prod": lambda x, axis=None, keepdims=False: np.prod(x, axis=axis, keepdims=keepdims),
    "cumsum": lambda x, axis=None: np.cumsum(x, axis=axis),
    "einsum": lambda *operands, subscripts: np.einsum(subscripts, *operands),
    "sort": lambda x, axis=-1: np.sort(x, axis=axis),
}
# fmt: on


def test_every_operation_has_an_independent_reference():
    assert set(MPMATH_FORWARD) == set(OPS)


def _to_mp(array):
    return np.vectorize(lambda v: mpmath.mpf(float(v)), otypes=[object])(np.asarray(array))


def _jacobian_column(op, args, params, differentiable, k, flat):
    """d op(args) / d args[k].flat[flat], every output at once, from a high-precision difference.

    Array operations (reductions, products, linear algebra, whose inputs may be nearly
    singular) work at 400 digits with h = 1e-150: the truncation error (h^2) and the
    rounding error (1e-400 / h) are both below 1e-240 relative to the values.  An
    elementwise operation, whose arguments stay in +-50 and 1e-3 away from 0, works at
    100 digits with h = 1e-40: truncation (h^2 times the ratio of the third derivative to
    the first, ~1e6 at most, Bessel Y next to 0) and rounding (1e-100 / h) are both below
    1e-50, still far below float64, and mpmath's Bessel Y and incomplete gamma cost 30
    times less than at 400 digits.
    """
    digits, step = (100, 40) if OPS[op].kind in ("unary", "binary", "select") else (400, 150)
    with mpmath.workdps(digits):
        h = mpmath.mpf(10) ** -step
        shifted = []
        for sign in (1, -1):
            moved = [_to_mp(a) if j in differentiable else a for j, a in enumerate(args)]
            bumped = moved[k].copy() if np.ndim(moved[k]) else moved[k]
            if np.ndim(bumped):
                bumped.flat[flat] += sign * h
            else:
                bumped = np.asarray(bumped + sign * h, dtype=object)
            moved[k] = bumped
            shifted.append(np.asarray(MPMATH_FORWARD[op](*moved, **params), dtype=object))
        return (shifted[0] - shifted[1]) / (2 * h)


def check_vjp(op, args, params, differentiable, rng, positions=3):
    """Each checked component of the VJP equals sum_j g_j dop_j/dx to rounding error.

    The bound is 1e-13 * sum_j |g_j| |dop_j/dx|, the size of the terms the VJP adds up,
    so cancellation among them cannot cause a false alarm.
    """
    nodes = [Node(np.asarray(a, dtype=np.float64)) if k in differentiable else a for k, a in enumerate(args)]
    out = apply(op, *nodes, **params)
    g = rng.standard_normal(np.shape(value_of(out)))
    # A piecewise-constant operation records nothing: its output is no node, gradient 0.
    grads = backward(out, seed=g) if isinstance(out, Node) else {}
    for k in differentiable:
        vjp = np.broadcast_to(grads.get(nodes[k], 0.0), np.shape(args[k]))
        size = max(np.size(args[k]), 1)
        for flat in rng.choice(size, min(size, positions), replace=False):
            column = _jacobian_column(op, args, params, differentiable, k, flat)
            with mpmath.workdps(50):
                terms = np.ravel(_to_mp(g) * column)
                exact = float(mpmath.fsum(terms))
                scale = float(mpmath.fsum(abs(t) for t in terms))
            claimed = float(np.ravel(vjp)[flat])
            assert abs(claimed - exact) <= 1e-13 * scale + 1e-300, (op, k, flat, claimed, exact)


def _interval(op, position=0):
    low, high = OPS[op].domain[position]
    return st.floats(low, high, allow_nan=False, allow_infinity=False)


def _array(op, shape, position=0):
    # Arrays stay within +-50 and away from 0 so that no derivative is 1e-300 times
    # its function (the scalar test covers the whole domain).
    low, high = OPS[op].domain[position]
    elements = st.floats(max(low, -50.0), min(high, 50.0)).filter(lambda v: abs(v) > 1e-3)
    return hnp.arrays(np.float64, shape, elements=elements)


@functools.cache
def _unary_reference(op):
    """SymPy's derivative of op, evaluated with certified digits (no tape rule involved)."""
    return PreparedReference(lambda x, xp: xp.sum(getattr(xp, op)(x)), 1)


UNARY = [name for name, spec in OPS.items() if spec.kind == "unary"]
BINARY = [name for name, spec in OPS.items() if spec.kind == "binary"]


@pytest.mark.parametrize("op", UNARY)
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_unary_rule_to_the_last_few_ulp(op, data):
    x = data.draw(_interval(op))
    if op == "abs":
        assume(abs(x) > 1e-20)  # mpmath.diff steps by about 1e-25: stay off the kink
    node = Node(np.array(x))
    out = apply(op, node)
    claimed = backward(out)[node] if isinstance(out, Node) else 0.0  # piecewise constant: no node
    reference = _unary_reference(op)(np.array([x]))
    assert reference.status == "ok", reference.message
    assert ulp_error(claimed, reference.value[0]) <= UNARY_ULPS.get(op, 4), (
        op,
        x,
        float(claimed),
        reference.value[0],
    )


#: Rules whose factor is a scipy function accurate to a few ulp only (Cephes' Bessel
#: functions, up to 10 ulp; erfinv's exp(erfinv^2) multiplies erfinv's own rounding
#: by 2 erfinv^2 <= 3.3 on its test domain): the factor's error plus the rule's rounding.
UNARY_ULPS = {**dict.fromkeys(("j0", "j1", "y0", "y1", "i0", "i1"), 16), "erfinv": 8, "erfcinv": 8}


@pytest.mark.parametrize("op", UNARY)
@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_unary_rule_on_arrays(op, data):
    x = data.draw(_array(op, hnp.array_shapes(max_dims=3, max_side=3)))
    if op == "abs":
        assume(np.all(np.abs(x) > 1e-3))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    check_vjp(op, [x], {}, {0}, rng)


@pytest.mark.parametrize("op", BINARY)
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_binary_rule_with_broadcasting(op, data):
    shapes = data.draw(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3))
    args, differentiable = draw_binary_arguments(op, data, shapes.input_shapes)
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    check_vjp(op, args, {}, differentiable, rng)


def draw_binary_arguments(op, data, shapes):
    """Arguments of binary ``op`` in its domain, and the positions that may be traced.

    A refused argument (an order, a shape parameter) is a constant from
    :data:`CONSTANT_ARGUMENTS`; pairs are kept away from kinks and jumps.
    """
    args, differentiable = [], set()
    for k, factor in enumerate(OPS[op].derivative):
        if isinstance(factor, Refused):
            values = st.sampled_from(CONSTANT_ARGUMENTS.get(op, (0.0, 1.0, 2.0, 3.0)))
            args.append(data.draw(hnp.arrays(np.float64, shapes[k], elements=values)))
        else:
            args.append(data.draw(_array(op, shapes[k], k)))
            differentiable.add(k)
    if op in ("maximum", "minimum", "fmax", "fmin"):
        assume(np.all(np.abs(np.subtract(*args)) > 1e-3))  # away from the kink
    if op == "remainder":
        quotient = np.divide(*args)
        assume(np.all(np.abs(quotient - np.round(quotient)) > 1e-3))  # away from the jumps
    return args, differentiable


#: The values a constant (refused) argument is drawn from, where not 0, 1, 2, 3.
CONSTANT_ARGUMENTS = {"gammainc": (0.5, 1.0, 2.0, 3.5), "gammaincc": (0.5, 1.0, 2.0, 3.5)}


@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_where_rule(data):
    shapes = data.draw(hnp.mutually_broadcastable_shapes(num_shapes=3, max_dims=3, max_side=3))
    condition = data.draw(hnp.arrays(bool, shapes.input_shapes[0]))
    a = data.draw(_array("where", shapes.input_shapes[1], 1))
    b = data.draw(_array("where", shapes.input_shapes[2], 2))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    check_vjp("where", [condition, a, b], {}, {1, 2}, rng)


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
    axis = data.draw(st.none() | st.integers(-x.ndim, x.ndim - 1))
    keepdims = data.draw(st.booleans())
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    check_vjp(op, [x], {"axis": axis, "keepdims": keepdims}, {0}, rng)


MATMUL_SHAPES = [
    ((3,), (3,)),
    ((2, 3), (3,)),
    ((3,), (3, 4)),
    ((2, 3), (3, 4)),
    ((5, 2, 3), (3, 4)),
    ((2, 3), (5, 3, 4)),
    ((5, 2, 3), (5, 3, 4)),
    ((1, 2, 3), (5, 3, 2)),
]


@pytest.mark.parametrize(("shape_a", "shape_b"), MATMUL_SHAPES)
def test_matmul_rule(shape_a, shape_b):
    rng = np.random.default_rng(7)
    check_vjp("matmul", [rng.standard_normal(shape_a), rng.standard_normal(shape_b)], {}, {0, 1}, rng)


GETITEM_KEYS = [
    1,
    -1,
    slice(1, 3),
    (slice(None), 2),
    (1, slice(None, None, -1)),
    [0, 2, 2],
    (np.array([0, 1, 1]), np.array([2, 3, 3])),
    np.array([True, False, True, False]),
    (Ellipsis, None, 1),
]


@pytest.mark.parametrize("key", GETITEM_KEYS, ids=repr)
def test_getitem_rule_including_repeated_indices(key):
    rng = np.random.default_rng(11)
    check_vjp("getitem", [rng.standard_normal((4, 5)), key], {}, {0}, rng)


@pytest.mark.parametrize(
    ("shape", "new_shape"), [((2, 6), (3, 4)), ((2, 6), (12,)), ((12,), (2, 3, 2)), ((2, 6), (-1, 2))]
)
def test_reshape_rule(shape, new_shape):
    rng = np.random.default_rng(13)
    check_vjp("reshape", [rng.standard_normal(shape), new_shape], {}, {0}, rng)


@pytest.mark.parametrize("axes", [None, (0, 2, 1), (2, 0, 1), (1, 2, 0)])
def test_transpose_rule(axes):
    rng = np.random.default_rng(17)
    check_vjp("transpose", [rng.standard_normal((2, 3, 4)), axes], {}, {0}, rng)


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_concatenate_rule(axis):
    rng = np.random.default_rng(19)
    shapes = [(2, 3), (2, 3), (2, 3)]
    arrays = []
    for i, shape in enumerate(shapes):
        shape = list(shape)
        shape[axis] += i  # different lengths along the joined axis
        arrays.append(rng.standard_normal(shape))
    check_vjp("concatenate", arrays, {"axis": axis}, {0, 1, 2}, rng)


@pytest.mark.parametrize("axis", [0, 1, 2, -1])
def test_stack_rule(axis):
    rng = np.random.default_rng(23)
    arrays = [rng.standard_normal((2, 3)) for _ in range(3)]
    check_vjp("stack", arrays, {"axis": axis}, {0, 1, 2}, rng)


@settings(max_examples=40, deadline=None)
@given(x=st.floats(0.1, 10.0), y=st.integers(-4, 4))
def test_power_with_a_constant_integer_exponent(x, y):
    node = Node(np.array(x))
    claimed = backward(apply("power", node, y))[node]
    with mpmath.workdps(50):
        exact = float(mpmath.diff(lambda t: t**y, mpmath.mpf(x)))
    assert ulp_error(claimed, exact) <= 4


# --- the checks above must be able to fail ------------------------------------------------


def test_the_checker_catches_a_sign_error(monkeypatch):
    monkeypatch.setitem(RULES, "sin", (lambda g, ans, x: -g * np.cos(x),))
    with pytest.raises(AssertionError):
        check_vjp("sin", [np.array([0.3, 1.2, -2.0])], {}, {0}, np.random.default_rng(0))


def test_the_checker_catches_a_transposed_matmul_rule(monkeypatch):
    wrong = (lambda g, ans, a, b: g @ b, RULES["matmul"][1])
    monkeypatch.setitem(RULES, "matmul", wrong)
    rng = np.random.default_rng(1)
    with pytest.raises(AssertionError):
        check_vjp("matmul", [rng.standard_normal((3, 3)), rng.standard_normal((3, 3))], {}, {0}, rng)


def test_the_checker_catches_a_missing_broadcast_sum(monkeypatch):
    # a rule that returns the gradient for only one broadcast copy
    monkeypatch.setitem(RULES, "add", (lambda g, ans, a, b: g, lambda g, ans, a, b: g[0]))
    rng = np.random.default_rng(2)
    with pytest.raises(AssertionError):
        check_vjp("add", [rng.standard_normal((3, 2)), rng.standard_normal(2)], {}, {1}, rng)
