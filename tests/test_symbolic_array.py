"""The array-level symbolic method: every adjoint rule against the tape and autograd.

Each rule is exercised by a small ``f`` whose data operand comes in several memory
layouts (C, Fortran, a transposed view, a strided slice), and the operands built from
``x`` are reshaped, transposed and sliced views; the gradient must agree with the tape
and with autograd to 1e-12 (normwise).  The compiled gradient is evaluated at points
other than the one the trace carried, so conditions, ties and index adjoints are
checked where they differ from the trace point.
"""

from __future__ import annotations

import io

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import diffcompare
from diffcompare.methods import METHODS
from diffcompare.methods.symbolic_array import differentiate
from diffcompare.methods.symbolic_array.method import symbolic_array_code
from diffcompare.methods.symbolic_array.trace import trace_point
from diffcompare.mlp.model import MLP
from diffcompare.ops import OPS
from diffcompare.suite.functions import rosenbrock
from diffcompare.suite.workloads import bundle_adjustment, gmm, lstm
from diffcompare.truth.accuracy import normwise_relative_error

AGREEMENT = 1e-12  # normwise, against the tape and autograd
SEED = 20261202


def _rng(tag: int) -> np.random.Generator:
    return np.random.default_rng([SEED, tag])


def _data(layout: str, shape=(4, 4), tag: int = 0) -> np.ndarray:
    base = _rng(tag).standard_normal(shape)
    if layout == "C":
        return base
    if layout == "F":
        return np.asfortranarray(base)
    if layout == "transposed":
        return np.ascontiguousarray(base.T).T  # a view whose memory is the transpose's
    big = _rng(tag + 1).standard_normal((shape[0] * 2, shape[1] * 3))
    big[::2, ::3] = base
    return big[::2, ::3]  # strided


LAYOUTS = ("C", "F", "transposed", "strided")


def _assert_agrees(f, x, dim=None):
    dim = x.size if dim is None else dim
    got = METHODS["symbolic_array"].prepare(f, dim).gradient(x)
    assert got.dtype == np.float64 and got.shape == x.shape
    for other in ("tape", "autograd"):
        expected = METHODS[other].prepare(f, dim).gradient(x)
        err = normwise_relative_error(got, expected)
        assert err <= AGREEMENT, f"{other}: {err:.3g}\n{got}\n{expected}"
    return got


# ---------------------------------------------------------------------------------------
# Hard-coded values, in case the comparisons' helpers break.
# ---------------------------------------------------------------------------------------


def test_known_values():
    x = np.array([0.5, -1.5, 2.0])
    np.testing.assert_array_equal(diffcompare.grad(lambda x, xp: xp.sum(x**2), "symbolic_array")(x), 2 * x)
    grad = diffcompare.grad(lambda x, xp: x[0] * x[1] + xp.sin(x[2]), "symbolic_array")(x)
    np.testing.assert_allclose(grad, [-1.5, 0.5, np.cos(2.0)], rtol=1e-15)
    matrix = diffcompare.grad(lambda x, xp: xp.sum(xp.reshape(x, (2, 2)) @ np.eye(2)), "symbolic_array")
    np.testing.assert_array_equal(matrix(np.arange(4.0)), np.ones(4))


# ---------------------------------------------------------------------------------------
# One case per adjoint rule; the data operand D in each layout.
# ---------------------------------------------------------------------------------------


def _square(x, xp):
    return xp.reshape(x, (4, 4))


def _spd(x, xp):
    a = _square(x, xp)
    return a @ a.T + 4.0 * np.eye(4)


# fmt: off
RULE_CASES = {
    # elementwise, factors from sympy.diff of the row's SymPy form
    "exp log":       lambda D: lambda x, xp: xp.sum(xp.exp(_square(x, xp) * D)) + xp.sum(xp.log(x * x + 1.0)),
    "sin cos":       lambda D: lambda x, xp: xp.sum(xp.sin(_square(x, xp)) * xp.cos(D * _square(x, xp).T)),
    "sinh cosh":     lambda D: lambda x, xp: xp.sum(xp.sinh(0.3 * _square(x, xp)) * xp.cosh(D)),
    "expm1 log1p":   lambda D: lambda x, xp: xp.sum(xp.expm1(_square(x, xp) * D) * xp.log1p(_square(x, xp) ** 2)),  # noqa: E501
    "divide":        lambda D: lambda x, xp: xp.sum(D / (2.0 + x[:4] ** 2)) + xp.sum(_square(x, xp) / (3.0 + D**2)),  # noqa: E501
    "square":        lambda D: lambda x, xp: xp.sum(xp.square(_square(x, xp) - D)),
    # elementwise, the rows' own factors (accurate forms)
    "tanh sigmoid":  lambda D: lambda x, xp: xp.sum(xp.tanh(_square(x, xp) @ D) + xp.sigmoid(D - _square(x, xp))),  # noqa: E501
    "sqrt power":    lambda D: lambda x, xp: xp.sum(xp.sqrt(1.0 + _square(x, xp) ** 2) ** 1.5) + xp.sum(xp.abs(D) ** (x[:4] * 0.1 + 1.0)),  # noqa: E501
    "max min abs":   lambda D: lambda x, xp: xp.sum(xp.maximum(_square(x, xp), D) - xp.minimum(x[:4], 0.1) + xp.abs(D - _square(x, xp))),  # noqa: E501
    "where":         lambda D: lambda x, xp: xp.sum(xp.where(_square(x, xp) > D, _square(x, xp) ** 2, -_square(x, xp))),  # noqa: E501
    # reductions
    "sum axes":      lambda D: lambda x, xp: xp.sum(xp.sum(_square(x, xp) * D, axis=0) ** 2) + xp.sum(xp.sum(_square(x, xp), axis=1, keepdims=True) * D),  # noqa: E501
    "mean axes":     lambda D: lambda x, xp: xp.mean(xp.mean(xp.reshape(x, (2, 2, 4)), axis=(0, 2)) ** 2) + xp.mean(_square(x, xp) * D),  # noqa: E501
    "max axis":      lambda D: lambda x, xp: xp.sum(xp.max(_square(x, xp) * D, axis=1) ** 2) + xp.max(x),
    "logsumexp":     lambda D: lambda x, xp: xp.sum(xp.logsumexp(_square(x, xp) + D, axis=0)) + xp.logsumexp(x),  # noqa: E501
    "log_softmax":   lambda D: lambda x, xp: xp.sum(xp.log_softmax(_square(x, xp) @ D, axis=1) * D),
    "prod cumsum":   lambda D: lambda x, xp: xp.sum(xp.prod(_square(x, xp) * 0.5 + D, axis=0)) + xp.sum(xp.cumsum(x * D[0, 0]) ** 2),  # noqa: E501
    "sort":          lambda D: lambda x, xp: xp.sum(xp.sort(_square(x, xp) + D, axis=1) * np.arange(4.0)),
    # products
    "matmul 2-d":    lambda D: lambda x, xp: xp.sum(xp.tanh(D @ _square(x, xp) @ D.T)),
    "matmul 1-d":    lambda D: lambda x, xp: x[:4] @ D @ x[4:8] + xp.sum((_square(x, xp) @ x[8:12]) ** 2) + x[:4] @ x[12:],  # noqa: E501
    "matmul batch":  lambda D: lambda x, xp: xp.sum(xp.reshape(x, (2, 2, 4)) @ xp.reshape(x, (2, 4, 2)) ** 2) + xp.sum(xp.reshape(x, (2, 2, 4)) @ D),  # noqa: E501
    "matmul batch vector": lambda D: lambda x, xp: xp.sum((xp.reshape(x, (2, 2, 4)) @ D[0]) ** 2),
    "einsum":        lambda D: lambda x, xp: xp.sum(xp.einsum("ij,jk->ik", _square(x, xp), D) ** 2) + xp.einsum("ij,ij->", _square(x, xp), D),  # noqa: E501
    "einsum diagonal": lambda D: lambda x, xp: xp.sum(xp.einsum("ii->i", _square(x, xp) * D) ** 2) + xp.sum(xp.einsum("...j,jk->...k", _square(x, xp), D)),  # noqa: E501
    # shapes and indexing
    "reshape transpose": lambda D: lambda x, xp: xp.sum(xp.transpose(xp.reshape(x, (2, 2, 4)), (2, 0, 1)) * xp.reshape(D, (4, 2, 2))),  # noqa: E501
    "getitem basic": lambda D: lambda x, xp: xp.sum(_square(x, xp)[1:, ::-2] * D[:3, :2]) + x[3] * x[-1] + xp.sum(_square(x, xp)[None, 2, :] ** 2),  # noqa: E501
    "getitem fancy": lambda D: lambda x, xp: xp.sum(x[np.array([0, 0, 5, 5, 5, 15])] ** 2) + xp.sum(_square(x, xp)[np.array([1, 1]), np.array([2, 2])] * D[0, :2]),  # noqa: E501
    "getitem mask":  lambda D: lambda x, xp: xp.sum(_square(x, xp)[D > 0] ** 2),
    "take":          lambda D: lambda x, xp: xp.sum(xp.take(_square(x, xp), np.array([3, 3, 0]), axis=1) ** 3) + xp.sum(D * 0.0),  # noqa: E501
    "concatenate":   lambda D: lambda x, xp: xp.sum(xp.concatenate([_square(x, xp), D, _square(x, xp).T], axis=1) ** 2),  # noqa: E501
    "stack":         lambda D: lambda x, xp: xp.sum(xp.stack([x[:4], D[1], x[4:8] * x[8:12]], axis=1) ** 2),
    # linear algebra (the tape's formulas)
    "solve inv":     lambda D: lambda x, xp: xp.sum(xp.linalg.solve(_spd(x, xp), D)) + xp.sum(xp.linalg.inv(_spd(x, xp)) * D),  # noqa: E501
    "det slogdet":   lambda D: lambda x, xp: xp.linalg.det(_spd(x, xp) * 0.2) + xp.linalg.slogdet(_spd(x, xp) + D @ D.T)[1],  # noqa: E501
    "cholesky triangular": lambda D: lambda x, xp: xp.sum(xp.linalg.cholesky(_spd(x, xp)) * D) + xp.sum(xp.linalg.solve_triangular(_spd(x, xp), D[0], lower=True)),  # noqa: E501
    "eigh":          lambda D: lambda x, xp: xp.sum(xp.linalg.eigh(_spd(x, xp) + D @ D.T)[0] ** 2),
}
# fmt: on


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("case", list(RULE_CASES))
def test_every_adjoint_rule_agrees_with_the_tape_and_autograd(case, layout):
    f = RULE_CASES[case](_data(layout))
    for tag in (1, 2):  # never the trace point
        _assert_agrees(f, _rng(tag).uniform(-1.5, 1.5, 16))


def test_the_cases_cover_every_adjoint_rule():
    # each rule of the table is taken by some case (elementwise rows by their route)
    covered = {"sum", "mean", "max", "logsumexp", "log_softmax", "prod", "cumsum", "sort", "matmul", "einsum",
               "getitem", "reshape", "transpose", "concatenate", "stack", "where", "result",
               "linalg.solve", "linalg.inv", "linalg.det", "linalg.slogdet", "linalg.cholesky",
               "linalg.solve_triangular", "linalg.eigh"}  # fmt: skip
    structural = {op for op, rule in differentiate.ADJOINTS.items() if rule is not differentiate._elementwise}
    assert structural - covered <= {"linalg.norm", "linalg.vector_norm", "linalg.matrix_norm"}


@pytest.mark.parametrize("op", ["linalg.norm", "linalg.vector_norm", "linalg.matrix_norm"])
def test_the_norms(op):
    name = op.split(".")[1]

    def f(x, xp):
        return getattr(xp.linalg, name)(_square(x, xp) + 0.1) + xp.sum(x)

    _assert_agrees(f, _rng(3).uniform(-1.0, 1.0, 16))


# ---------------------------------------------------------------------------------------
# Conventions at kinks and conditions, at points away from the trace point
# ---------------------------------------------------------------------------------------


def test_repeated_fancy_indices_add_up():
    f = lambda x, xp: xp.sum(x[np.array([2, 0, 2, 2])] * np.array([1.0, 2.0, 3.0, 4.0]))  # noqa: E731
    grad = diffcompare.grad(f, "symbolic_array")(np.array([0.5, -1.5, 2.0]))
    np.testing.assert_array_equal(grad, [2.0, 0.0, 8.0])


def test_ties_in_max_share_the_gradient():
    f = lambda x, xp: xp.sum(xp.max(xp.reshape(x, (2, 3)), axis=1) * np.array([3.0, 6.0]))  # noqa: E731
    prepared = METHODS["symbolic_array"].prepare(f, 6)
    np.testing.assert_array_equal(
        prepared.gradient(np.array([1.0, 1.0, 1.0, 2.0, 0.0, 2.0])), [1, 1, 1, 3, 0, 3]
    )
    np.testing.assert_array_equal(
        prepared.gradient(np.array([0.0, 5.0, 1.0, 2.0, 9.0, 2.0])), [0, 3, 0, 0, 6, 0]
    )


def test_conditions_are_symbolic():
    # The trace point has x > 0 everywhere; the compiled gradient must follow the sign
    # of each point it is called at.
    f = lambda x, xp: xp.sum(xp.where(x > 0, x**2, -(x**3))) + xp.sum((x < 0) * x) + xp.sum(x > 0) * x[0]  # noqa: E731
    assert np.all(trace_point(3) > 0)
    x = np.array([-1.0, 2.0, -0.5])
    np.testing.assert_array_equal(
        diffcompare.grad(f, "symbolic_array")(x), [-3.0 + 1.0 + 1.0, 4.0, -0.75 + 1.0]
    )


def test_python_control_flow_on_a_traced_comparison_is_refused_by_name():
    def branchy(x, xp):
        return x[0] if x[0] > 0 else -x[0]

    with pytest.raises(NotImplementedError, match="symbolic_array does not support 'bool': .*xp.where"):
        METHODS["symbolic_array"].prepare(branchy, 2)


# fmt: off
REFUSALS = {
    "traced index":   (lambda x, xp: xp.sum(x[x > 0]), "symbolic_array does not support 'getitem'"),
    "traced order":   (lambda x, xp: xp.jn(x[0], x[1]), "symbolic_array does not support 'jn': no derivative with respect to the order n"),  # noqa: E501
    "numpy function": (lambda x, xp: np.sum(np.fft.rfft(x).real), "symbolic_array does not support 'numpy.fft.rfft'"),  # noqa: E501
    "array method":   (lambda x, xp: xp.sum(x.cumprod()), "symbolic_array does not support 'numpy.ndarray.cumprod'"),  # noqa: E501
}
# fmt: on


@pytest.mark.parametrize("name", list(REFUSALS))
def test_refusals_name_the_operation(name):
    f, message = REFUSALS[name]
    with pytest.raises(NotImplementedError, match=message):
        METHODS["symbolic_array"].prepare(f, 3)


# ---------------------------------------------------------------------------------------
# The suite, MLPs and the ADBench workloads
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("record", diffcompare.suite(), ids=lambda r: r.name)
def test_the_suite_agrees_with_the_tape_and_autograd(record):
    prepared = METHODS["symbolic_array"].prepare(record.f, record.dim)
    for point in record.points:
        got = prepared.gradient(point)
        for other in ("tape", "autograd"):
            expected = METHODS[other].prepare(record.f, record.dim).gradient(point)
            assert normwise_relative_error(got, expected) <= AGREEMENT, (other, point)


@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "relu"])
@pytest.mark.parametrize("loss", ["mse", "softmax_cross_entropy"])
def test_small_mlps(activation, loss):
    net = MLP.random((12, 7, 7, 3), activation, loss, batch=5, seed=4)
    _assert_agrees(net.f, net.random_parameters(seed=5))


@pytest.mark.slow
def test_the_784_128_10_mlp():
    net = MLP.random((784, 128, 10), "tanh", "mse", batch=64, seed=0)
    _assert_agrees(net.f, net.random_parameters(seed=1))


@pytest.mark.parametrize(
    "record",
    [gmm(4, 3, 50, seed=6), bundle_adjustment(3, 5, 12, seed=6), lstm(2, 6, seed=6)],
    ids=lambda r: r.name,
)
def test_the_adbench_workloads(record):
    # GMM: the triangular factors gathered with an integer index array, batched matmul,
    # log-sum-exp with an axis; bundle adjustment: fancy indexing by camera and point;
    # LSTM: a loop of elementwise gates unrolled into one expression
    _assert_agrees(record.f, record.points[0])


# ---------------------------------------------------------------------------------------
# The generated code
# ---------------------------------------------------------------------------------------


def test_the_source_is_valid_python_and_does_not_grow_with_n():
    small, large = symbolic_array_code(rosenbrock, 10), symbolic_array_code(rosenbrock, 20000)
    compile(large.numpy_source, "<generated>", "exec")
    assert small.cse_ops == large.cse_ops and small.dag_nodes == large.dag_nodes
    assert len(small.numpy_source.splitlines()) == len(large.numpy_source.splitlines())
    assert "19999" not in large.numpy_source  # no element of x named on its own
    x = _rng(8).uniform(-2.0, 2.0, 20000)
    assert (
        normwise_relative_error(large.gradient(x), METHODS["tape"].prepare(rosenbrock, 20000).gradient(x))
        <= AGREEMENT
    )  # noqa: E501


def test_common_subexpressions_are_one_node():
    code = symbolic_array_code(lambda x, xp: xp.sum(xp.sin(x) * xp.sin(x)) + xp.sum(xp.exp(x)), 5)
    assert code.numpy_source.count("sin(") == 1
    # exp' = exp: the derivative reuses the forward node, so exp appears once
    assert code.numpy_source.count("exp(") == 1


def test_light_simplifications():
    code = symbolic_array_code(
        lambda x, xp: xp.sum(xp.transpose(xp.transpose(xp.reshape(x, (2, 3)))) * 1.0), 6
    )
    assert ".T" not in code.numpy_source and "* 1.0" not in code.numpy_source
    np.testing.assert_array_equal(code.gradient(np.ones(6)), np.ones(6))


def test_blocks_of_a_flat_parameter_vector_go_straight_into_one_buffer():
    # the MLP's layout: disjoint slices covering x, a product computed into its place
    net = MLP.random((6, 4, 2), "tanh", "mse", batch=3, seed=9)
    source = symbolic_array_code(net.f, net.dim).numpy_source
    assert "np.empty(" in source and "out=" in source and "np.zeros(" not in source
    _assert_agrees(net.f, net.random_parameters(seed=10))


def test_overlapping_slices_are_added_into_a_zeroed_buffer():
    f = lambda x, xp: xp.sum(x[:3] * x[1:]) + xp.sum(xp.reshape(x[:4], (2, 2)) @ np.ones((2, 2)))  # noqa: E731
    source = symbolic_array_code(f, 4).numpy_source
    assert "np.zeros(" in source and "+=" in source and "out=" not in source
    _assert_agrees(f, np.array([0.5, -1.5, 2.0, 1.0]))


def test_latex_for_a_small_function():
    latex = symbolic_array_code(
        lambda x, xp: xp.sum(xp.tanh(xp.reshape(x, (2, 2)) @ np.ones((2, 3)))), 4
    ).latex
    assert latex.startswith("\\begin{aligned}") and latex.endswith("\\end{aligned}")
    assert latex.count("{") == latex.count("}")
    assert "\\bar{x} &=" in latex and "^T" in latex  # the matrix product's adjoint: G B^T
    from matplotlib import mathtext

    net = MLP.random((5, 3, 2), "sigmoid", "softmax_cross_entropy", batch=2, seed=13)
    for text in (latex, symbolic_array_code(net.f, net.dim).latex):
        for line in text.splitlines()[1:-1]:
            assert line.count("&=") == 1
            equation = line.removesuffix(" \\\\").replace("&=", "=")
            mathtext.math_to_image(f"${equation}$", io.BytesIO(), format="png")  # renders, or raises


def test_a_deliberately_wrong_rule_is_caught(monkeypatch):
    # test the tester: a sum whose adjoint is doubled must fail the comparison
    right = differentiate.ADJOINTS["sum"]

    def doubled(graph, g, node):
        return [(arg, graph.make("multiply", c, graph.scalar(2.0))) for arg, c in right(graph, g, node)]

    monkeypatch.setitem(differentiate.ADJOINTS, "sum", doubled)
    with pytest.raises(AssertionError, match="tape"):
        _assert_agrees(lambda x, xp: xp.sum(x**2), np.array([0.5, 1.5]))


def test_the_details_put_the_sizes_side_by_side():
    prepared = METHODS["symbolic_array"].prepare(rosenbrock, 50)
    assert prepared.details["tape_nodes"] == 12
    assert prepared.details["cse_ops"] == symbolic_array_code(rosenbrock, 50).cse_ops


# ---------------------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------------------


def test_bad_arguments_are_named():
    with pytest.raises(TypeError, match="dim must be an integer"):
        symbolic_array_code(rosenbrock, 2.0)
    with pytest.raises(ValueError, match="dim must be at least 1"):
        symbolic_array_code(rosenbrock, 0)
    with pytest.raises(TypeError, match="f must be a callable"):
        symbolic_array_code("x**2", 3)
    gradient = symbolic_array_code(rosenbrock, 3).gradient
    with pytest.raises(ValueError, match=r"x must have shape \(3,\)"):
        gradient(np.ones(4))
    with pytest.raises(ValueError, match="x must be finite"):
        gradient(np.array([1.0, np.nan, 0.0]))


@pytest.mark.parametrize(
    "f",
    [
        lambda x, xp: xp.sum(xp.reshape(x, (4, 4)) - xp.minimum(x[:4], 0.1)),
        lambda x, xp: xp.sum(-xp.sin(x[:4]) + np.ones((3, 4))) * 2.0,
        lambda x, xp: xp.sum(xp.exp(xp.sum(xp.reshape(x, (4, 4)), axis=1, keepdims=True) - x[:4])),
    ],
)
def test_an_adjoint_kept_small_counts_every_broadcast_entry(f):
    # a reduction's adjoint flows through elementwise operations unbroadcast; where an
    # operand was broadcast, each of its broadcast copies still adds its share
    _assert_agrees(f, _rng(11).uniform(-1.0, 1.0, 16))


def test_the_harness_rows_put_cse_ops_beside_the_tapes_nodes():
    from diffcompare.harness.run import HarnessOptions, run_suite

    options = HarnessOptions(methods=("symbolic_array", "tape"), timing=False)
    table = run_suite(diffcompare.suite(["rosenbrock"]), options).set_index("method")
    row = table.loc["symbolic_array"].iloc[0]
    (record,) = diffcompare.suite(["rosenbrock"])
    assert row["status"] == "ok" and row["cse_ops"] == symbolic_array_code(rosenbrock, record.dim).cse_ops
    assert row["tape_nodes"] == table.loc["tape"].iloc[0]["tape_nodes"] == 12


def test_a_matrix_outside_its_domain_at_the_trace_point_is_no_obstacle():
    # [[x0 - 1, x1], [x1, x2]] is not positive definite where the trace carries x
    # (every entry in (0.3, 0.7)); the gradient is asked for where it is.
    def f(x, xp):
        a = xp.stack([xp.stack([x[0] - 1.0, x[1]]), xp.stack([x[1], x[2]])])
        return xp.sum(xp.linalg.cholesky(a)) + xp.linalg.slogdet(a)[1]

    _assert_agrees(f, np.array([3.0, 0.4, 2.0]))


ELEMENTWISE = [
    name
    for name, spec in OPS.items()
    if spec.kind in ("unary", "binary") and spec.domain is not None and None not in spec.domain
]


@pytest.mark.parametrize("op", ELEMENTWISE)
def test_every_elementwise_row_agrees_with_the_tape(op):
    # by sympy.diff (BY_SYMPY) or by the row's own factor: the tape's numbers either way
    spec = OPS[op]
    rng = _rng(12)
    points = [rng.uniform(*interval, 6) for interval in spec.domain]

    def f(x, xp):
        args = [x[6 * i : 6 * (i + 1)] for i in range(len(points))]
        return xp.sum(getattr(xp, op)(*args) * np.arange(1.0, 7.0))

    x = np.concatenate(points)
    got = METHODS["symbolic_array"].prepare(f, x.size).gradient(x)
    expected = METHODS["tape"].prepare(f, x.size).gradient(x)
    assert normwise_relative_error(got, expected) <= AGREEMENT


def test_a_dying_temporary_is_reused_but_never_under_a_view():
    # exp(X) dies in its own adjoint's product, so that product may be computed into it;
    # once a transpose views it, never (the view could be read after the product)
    import re

    def plain(x, xp):
        x2 = xp.reshape(x, (2, 2))
        return xp.sum(xp.exp(x2) * xp.sin(x2))

    def viewed(x, xp):
        x2 = xp.reshape(x, (2, 2))
        return xp.sum(xp.transpose(xp.exp(x2)) * xp.sin(x2))

    x = np.array([0.5, -1.5, 2.0, 1.0])
    for f, has_view in ((plain, False), (viewed, True)):
        source = symbolic_array_code(f, 4).numpy_source
        (exp_name,) = re.findall(r"(v\d+) = exp\(", source)
        targets = set(re.findall(r"out=(\w+)\)", source))
        assert targets, source  # some dying temporary is reused
        if has_view:
            assert f"{exp_name}.T" in source and exp_name not in targets, source
        assert "del " in source  # temporaries are freed after their last use
        _assert_agrees(f, x)


def test_non_finite_constants_are_valid_source():
    # an infinite bound in f (minimum with inf is the identity): a literal Python can read
    f = lambda x, xp: xp.sum(xp.minimum(x, np.inf) * xp.maximum(x, -np.inf) * 2.0)  # noqa: E731
    code = symbolic_array_code(f, 3)
    assert "float('inf')" in code.numpy_source or "float('-inf')" in code.numpy_source
    _assert_agrees(f, np.array([0.5, -1.5, 2.0]))


# subscripts -> operand shapes; the first operand is built from x, the second is data
EINSUMS = {
    "bij,bjk->bik": ((2, 3, 4), (2, 4, 5)),
    "ij,kj->ik": ((3, 4), (5, 4)),
    "abc,cad->bd": ((2, 3, 4), (4, 2, 5)),
    "i,i->i": ((6,), (6,)),
    "ij,j->i": ((3, 4), (4,)),
    "ij,jk->ki": ((3, 4), (4, 2)),
    "nki,kij->nkj": ((4, 2, 3), (2, 3, 3)),
    "i,j->ij": ((3,), (4,)),  # an outer product: einsum's own loop
}


@pytest.mark.parametrize("subscripts", list(EINSUMS))
def test_einsums_run_as_batched_products_agree(subscripts):
    first, second = EINSUMS[subscripts]
    data = _rng(14).standard_normal(second)
    size = int(np.prod(first))

    def f(x, xp):
        return xp.sum(xp.sin(xp.einsum(subscripts, xp.reshape(x, first), data)))

    code = symbolic_array_code(f, size)
    lowered = "contract_" + subscripts.replace(",", "_").replace("->", "_to_") + "("
    assert (lowered in code.numpy_source) == (subscripts != "i,j->ij"), code.numpy_source
    _assert_agrees(f, _rng(15).uniform(-1.0, 1.0, size))


@st.composite
def reductions(draw):
    """A shape, a reduction, an axis argument numpy accepts for it, and keepdims."""
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=3)))
    op = draw(st.sampled_from(["sum", "mean", "max", "logsumexp", "prod"]))
    axes = st.sampled_from(range(-len(shape), len(shape)))
    axis = draw(
        st.none() | axes | st.lists(st.sampled_from(range(len(shape))), min_size=1, unique=True).map(tuple)
    )
    return shape, op, axis, draw(st.booleans())


@settings(max_examples=40, deadline=None)
@given(reductions())
def test_reductions_over_any_axes_agree_with_the_tape(case):
    shape, op, axis, keepdims = case
    size = int(np.prod(shape))
    weights = _rng(16).uniform(0.5, 1.5, np.shape(np.sum(np.empty(shape), axis=axis, keepdims=keepdims)))

    def f(x, xp):
        reduced = getattr(xp, op)(xp.sin(xp.reshape(x, shape)) + 1.5, axis=axis, keepdims=keepdims)
        return xp.sum(reduced * weights)

    x = _rng(17).uniform(-1.0, 1.0, size)
    got = METHODS["symbolic_array"].prepare(f, size).gradient(x)
    expected = METHODS["tape"].prepare(f, size).gradient(x)
    assert normwise_relative_error(got, expected) <= AGREEMENT
