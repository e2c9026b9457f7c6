"""Shapes and linear algebra, second wave: every method against the 50-digit truth.

The operations written with others (swapaxes, moveaxis, rollaxis, ravel, atleast_*d,
broadcast_to, flipud, fliplr, rot90, diag, diagflat, pad, the split family, the stacks,
append, select, diff, gradient, linspace, tensordot, inner, kron, cross, dot of N-d
operands, linalg.matrix_power, linalg.multi_dot), einsum's sublist form, logsumexp's
weights and reductions of lists of traced values: each method's gradient against
:func:`diffcompare.reference_gradient` (SymPy at 50 digits, no rule of the engines
involved) at 1e-11, central differences at 1e-6, at ordinary and at hard points
(parallel vectors in cross, equal endpoints in linspace, negative powers), on
transposed and strided operands; the forward values against numpy's own functions;
refusals by name.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np
import pytest
from truth_checks import assert_close, case_params, truth_of_cases

import diffcompare
from diffcompare.ops.numpy_namespace import numpy_namespace as xp_numpy

EXACT = ("tape", "forward", "autograd", "complex_step", "symbolic")
RTOL = {"exact": 1e-11, "central": 1e-6}

P12 = tuple(np.round(np.sin(np.arange(1.0, 13.0)) * 1.5, 3))
W = 1.0 + np.arange(64.0) / 16.0  # distinct weights: a gradient on the wrong entry shows


def weighted(y, xp):
    if isinstance(y, (list, tuple)):
        return sum(weighted(part, xp) * (k + 1.5) for k, part in enumerate(y))
    shape = tuple(y.shape)
    n = int(np.prod(shape))
    return xp.sum(y * W[:n].reshape(shape)) if shape else y


def m(x, xp, shape):
    return xp.reshape(x, shape)


@dataclasses.dataclass(frozen=True)
class Case:
    name: str
    f: Callable
    points: tuple[tuple[float, ...], ...] = (P12,)
    methods: tuple[str, ...] = EXACT


def case(name, body, points=(P12,), methods=EXACT):
    return Case(name, lambda x, xp: weighted(body(x, xp), xp), points, methods)


PARALLEL = (1.0, 2.0, -0.5, 2.0, 4.0, -1.0) + P12[6:]  # cross of parallel vectors is 0

CASES = (
    case("ravel of a transposed view", lambda x, xp: xp.ravel(xp.transpose(m(x, xp, (3, 4)))) ** 2),
    case("swapaxes", lambda x, xp: xp.swapaxes(m(x, xp, (2, 3, 2)), 0, 2) * x[0]),
    case("moveaxis", lambda x, xp: xp.moveaxis(m(x, xp, (2, 3, 2)), 0, -1) ** 2),
    case("moveaxis of several axes", lambda x, xp: xp.moveaxis(m(x, xp, (2, 3, 2)), [0, 1], [2, 0]) ** 2),
    case("rollaxis", lambda x, xp: xp.rollaxis(m(x, xp, (2, 3, 2)), 2, 0) * x[3]),
    case("atleast_1d of a scalar", lambda x, xp: xp.atleast_1d(x[0] * x[1])),
    case("atleast_2d, several", lambda x, xp: list(xp.atleast_2d(x[:3] ** 2, x[3]))),
    case("atleast_3d", lambda x, xp: xp.atleast_3d(m(x, xp, (3, 4))) ** 2),
    case("broadcast_to", lambda x, xp: xp.broadcast_to(x[:3], (2, 3)) ** 2),
    case("flipud of a strided slice", lambda x, xp: xp.flipud(m(x, xp, (4, 3))[::2]) * x[:6].reshape(2, 3)),
    case("fliplr", lambda x, xp: xp.fliplr(m(x, xp, (3, 4))) * m(x, xp, (3, 4))),
    case("rot90 k=3, axes=(1, 2)", lambda x, xp: xp.rot90(m(x, xp, (2, 3, 2)), 3, axes=(1, 2)) ** 2),
    case("diag extract, k=1", lambda x, xp: xp.diag(m(x, xp, (3, 4)) ** 2, k=1)),
    case("diag build, k=-1", lambda x, xp: xp.diag(x[:4] ** 2, k=-1)),
    case("diagflat", lambda x, xp: xp.diagflat(m(x[:4], xp, (2, 2)) ** 2, 1)),
    case(
        "pad constant 0.5", lambda x, xp: xp.pad(m(x, xp, (3, 4)) ** 2, ((1, 2), (0, 1)), constant_values=0.5)
    ),
    case("pad reflect", lambda x, xp: xp.pad(m(x, xp, (3, 4)) ** 2, 2, mode="reflect")),
    case("pad wrap", lambda x, xp: xp.pad(x**2, (3, 5), mode="wrap")),
    case("split", lambda x, xp: xp.split(m(x, xp, (3, 4)) ** 2, 2, axis=1)),
    case("array_split uneven", lambda x, xp: xp.array_split(m(x, xp, (6, 2)) ** 2, 4, axis=0)),
    case("vsplit at indices", lambda x, xp: xp.vsplit(m(x, xp, (4, 3)) ** 2, [1, 3])),
    case("hsplit", lambda x, xp: xp.hsplit(m(x, xp, (3, 4)) ** 2, 2)),
    case("dsplit", lambda x, xp: xp.dsplit(m(x, xp, (1, 3, 4)) ** 2, [1, 2])),
    case("vstack of a vector and a matrix", lambda x, xp: xp.vstack((x[:3], m(x[3:], xp, (3, 3)) ** 2))),
    case("row_stack", lambda x, xp: xp.row_stack((x[:3], x[3:6] ** 2))),
    case("hstack of matrices", lambda x, xp: xp.hstack((m(x[:6], xp, (3, 2)), m(x[6:], xp, (3, 2)) ** 2))),
    case("hstack with a constant", lambda x, xp: xp.hstack((x**2, np.ones(2)))),
    case("dstack", lambda x, xp: xp.dstack((m(x[:6], xp, (2, 3)), m(x[6:], xp, (2, 3)) ** 2))),
    case("column_stack", lambda x, xp: xp.column_stack((x[:4], m(x[4:], xp, (4, 2)) ** 2))),
    case("append flat", lambda x, xp: xp.append(m(x[:6], xp, (2, 3)), x[6:] ** 2)),
    case("append axis=0", lambda x, xp: xp.append(m(x[:6], xp, (2, 3)), m(x[6:], xp, (2, 3)) ** 2, axis=0)),
    case(
        "select, first true wins",
        lambda x, xp: xp.select(
            [np.arange(12) % 2 == 0, np.arange(12) % 3 == 0], [x**2, xp.sin(x)], default=1.5
        ),
    ),
    case("diff n=2, axis=0", lambda x, xp: xp.diff(m(x, xp, (4, 3)) ** 2, n=2, axis=0)),
    case("diff with prepend and append", lambda x, xp: xp.diff(x**2, prepend=0.5, append=x[:1])),
    case("gradient of a matrix", lambda x, xp: list(xp.gradient(m(x, xp, (3, 4)) ** 2))),
    case("gradient with a spacing, one axis", lambda x, xp: xp.gradient(m(x, xp, (3, 4)) ** 2, 0.5, axis=1)),
    case("linspace of traced endpoints", lambda x, xp: xp.linspace(x[0], x[1] ** 2, 7)),
    case("linspace without endpoint, vectors", lambda x, xp: xp.linspace(x[:3], x[3:6], 4, endpoint=False)),
    case("linspace of equal endpoints", lambda x, xp: xp.linspace(x[0], x[0], 5), ((0.7,) + P12[1:],)),
    case("tensordot axes=2", lambda x, xp: xp.tensordot(m(x, xp, (2, 3, 2)), m(x[:6], xp, (3, 2)) ** 2, 2)),
    case(
        "tensordot axis pairs",
        lambda x, xp: xp.tensordot(m(x, xp, (2, 3, 2)), m(x[:6], xp, (2, 3)), ([0, 1], [0, 1])),
    ),
    case("tensordot axes=0", lambda x, xp: xp.tensordot(x[:4], x[4:7] ** 2, axes=0)),
    case("inner", lambda x, xp: xp.inner(m(x, xp, (4, 3)), m(x[:6], xp, (2, 3)) ** 2)),
    case("dot of N-d operands", lambda x, xp: xp.dot(m(x, xp, (2, 2, 3)), m(x, xp, (2, 3, 2)) ** 2)),
    case("dot of a matrix and a scalar", lambda x, xp: xp.dot(m(x, xp, (3, 4)), x[5])),
    case("kron", lambda x, xp: xp.kron(m(x[:6], xp, (2, 3)), m(x[6:10], xp, (2, 2)) ** 2)),
    case("kron of a vector and a matrix", lambda x, xp: xp.kron(x[:3], m(x[6:10], xp, (2, 2)) ** 2)),
    case(
        "cross along axes",
        lambda x, xp: xp.cross(m(x[:9], xp, (3, 3)), m(x[3:], xp, (3, 3)) ** 2, axisa=0, axisb=1, axisc=0),
    ),
    case("cross of parallel vectors", lambda x, xp: xp.cross(x[:3], x[3:6]), (PARALLEL,)),
    case("cross of 2-vectors", lambda x, xp: xp.cross(m(x[:6], xp, (3, 2)), m(x[6:], xp, (3, 2)))),
    case("matrix_power 5", lambda x, xp: xp.linalg.matrix_power(m(x[:9], xp, (3, 3)) / 2.0, 5)),
    case(
        "matrix_power -2 of a stack",
        lambda x, xp: xp.linalg.matrix_power(m(x[:8], xp, (2, 2, 2)) + 3.0 * np.eye(2), -2),
        methods=("tape", "forward", "autograd", "complex_step"),
    ),
    case(
        "multi_dot",
        lambda x, xp: xp.linalg.multi_dot([x[:3], m(x[:9], xp, (3, 3)), m(x[3:], xp, (3, 3)), x[9:]]),
    ),
    case(
        "einsum sublists",
        lambda x, xp: xp.einsum(m(x[:6], xp, (2, 3)), [0, 1], m(x, xp, (3, 4)), [1, 2], [0, 2]),
    ),
    case(
        "einsum sublists with an ellipsis",
        lambda x, xp: xp.einsum(m(x, xp, (2, 2, 3)), [Ellipsis, 0, 1], m(x, xp, (2, 3, 2)), [Ellipsis, 1, 2]),
    ),
    case(
        "logsumexp with weights",
        lambda x, xp: xp.logsumexp(m(x, xp, (3, 4)), b=np.exp(W[:12]).reshape(3, 4), axis=0),
    ),
    case(
        "logsumexp with a zero weight",
        lambda x, xp: xp.logsumexp(x, b=np.where(np.arange(12) == 3, 0.0, 1.0)),
        methods=("tape", "forward", "autograd", "complex_step"),
    ),
    case("mean of a list", lambda x, xp: xp.mean([x[0], x[1] ** 2, x[2] + 2.0])),
    case("var of a list", lambda x, xp: xp.var([x[0], x[1] ** 2, x[2] + 2.0])),
    case("norm of a list", lambda x, xp: xp.linalg.norm([x[0], x[1] ** 2, x[2] + 2.0])),
)


references = pytest.fixture(scope="module")(truth_of_cases)


@pytest.mark.filterwarnings("ignore:Output seems independent of input")
@pytest.mark.parametrize(("case", "method"), list(case_params(CASES)))
def test_each_method_against_the_50_digit_truth(case, method, references):
    for point in case.points:
        got = diffcompare.grad(case.f, method=method)(np.array(point))
        assert_close(got, references(case, point), RTOL["exact"], f"{case.name} {method} at {point}")


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_central_differences_agree_with_the_truth(case, references):
    for point in case.points:
        got = diffcompare.central_difference(case.f, np.array(point))
        assert_close(got, references(case, point), RTOL["central"], f"{case.name} central")


A = np.sin(np.arange(24.0)).reshape(2, 3, 4)
M = np.cos(np.arange(12.0)).reshape(3, 4)
S = np.cos(np.arange(9.0)).reshape(3, 3) + 3.0 * np.eye(3)

#: numpy's function and xp's on plain arrays: the same values (the forward pass).
SAME_VALUES = [
    ("swapaxes", (A, 0, 2), {}),
    ("moveaxis", (A, [0, 2], [1, 0]), {}),
    ("rollaxis", (A, 2, 1), {}),
    ("rot90", (A, -1, (0, 2)), {}),
    ("diag", (M, -2), {}),
    ("pad", (M, ((2, 1), (1, 3))), {"mode": "symmetric"}),
    ("pad", (M, 1), {"constant_values": ((1.0, 2.0), (3.0, 4.0))}),
    ("diff", (M,), {"n": 3, "axis": 1}),
    ("gradient", (M, 2.0, 0.5), {}),
    ("linspace", (1.0, 3.0, 7), {"endpoint": False}),
    ("linspace", (np.zeros(2), np.array([1.0, 2.0]), 5), {"axis": 1}),
    ("tensordot", (A, M.T, ([1, 2], [1, 0])), {}),
    ("tensordot", (A, A, ([-1], [-1])), {}),
    ("inner", (A, M), {}),
    ("dot", (A, A.transpose(1, 2, 0)), {}),
    ("dot", (A, M[0]), {}),
    ("kron", (A, M), {}),
    ("cross", (A[..., :3], M[:, 1:]), {"axis": -1}),
    ("cross", (M[:2, :3], M[1:, :3]), {"axisc": 0}),
    ("select", ([M > 0.5, M < -0.5], [M, 2 * M]), {"default": -1.0}),
    ("append", (M, A[0]), {"axis": 0}),
]


@pytest.mark.parametrize(("name", "args", "kwargs"), SAME_VALUES, ids=[s[0] for s in SAME_VALUES])
def test_values_are_numpys(name, args, kwargs):
    got = getattr(xp_numpy, name)(*args, **kwargs)
    expected = getattr(np, name)(*args, **kwargs)
    for g, e in zip(
        got if isinstance(got, tuple) else [got],
        expected if isinstance(got, tuple) else [expected],
        strict=True,
    ):
        np.testing.assert_allclose(g, e, rtol=1e-14, atol=1e-15)
        assert np.shape(g) == np.shape(e)


def test_matrix_power_and_multi_dot_values():
    np.testing.assert_allclose(xp_numpy.linalg.matrix_power(S, -3), np.linalg.matrix_power(S, -3), rtol=1e-13)
    np.testing.assert_array_equal(xp_numpy.linalg.matrix_power(S, 0), np.eye(3))
    np.testing.assert_allclose(
        xp_numpy.linalg.multi_dot([M[0], M.T, S, S[0]]), np.linalg.multi_dot([M[0], M.T, S, S[0]])
    )


def test_logsumexp_weights_are_scipys():
    from scipy.special import logsumexp

    b = np.abs(M) + 0.1
    np.testing.assert_allclose(xp_numpy.logsumexp(M, b=b, axis=1), logsumexp(M, b=b, axis=1), rtol=1e-14)


def test_einsum_sublists_are_numpys_subscripts():
    np.testing.assert_allclose(
        xp_numpy.einsum(A, [0, 1, 2], M, [1, 2], [0]), np.einsum(A, [0, 1, 2], M, [1, 2], [0]), rtol=1e-14
    )


@pytest.mark.parametrize("method", ("tape", "forward"))
def test_known_gradient_of_kron(method):
    # d/dx sum(kron([x0, x1], [1, 2])) = [3, 3]: every entry of a meets both of b once.
    got = diffcompare.grad(lambda x, xp: xp.sum(xp.kron(x, np.array([1.0, 2.0]))), method)(
        np.array([0.3, -1.0])
    )
    np.testing.assert_array_equal(got, [3.0, 3.0])


REFUSED = [
    (lambda x, xp: xp.sum(xp.ravel(xp.reshape(x, (2, 2)), order="F")), NotImplementedError, "C order only"),
    (lambda x, xp: xp.sum(xp.pad(x, 1, mode="mean")), NotImplementedError, "mode='mean'"),
    (
        lambda x, xp: xp.sum(xp.pad(x, 1, mode="reflect", reflect_type="odd")),
        NotImplementedError,
        "reflect_type",
    ),
    (lambda x, xp: xp.sum(xp.linspace(x[0], x[1], 3, dtype=np.float32)), TypeError, "dtype must be float64"),
    (lambda x, xp: xp.sum(xp.gradient(x, edge_order=2)), NotImplementedError, "edge_order=2"),
    (lambda x, xp: xp.sum(xp.gradient(x, np.arange(4.0))), NotImplementedError, "coordinate arrays"),
    (lambda x, xp: xp.logsumexp(x, return_sign=True), NotImplementedError, "return_sign"),
    (lambda x, xp: xp.sum(xp.cross(x, x)), ValueError, "2 or 3 components"),
    (lambda x, xp: xp.sum(xp.tensordot(x, x, ([0], [0, 0]))), ValueError, "tensordot: axes"),
    (lambda x, xp: xp.sum(xp.einsum(x, [0, 99])), ValueError, r"\[0, 52\)"),
    (lambda x, xp: xp.sum(xp.select([x > 0], [x, x])), ValueError, "same length"),
    (lambda x, xp: xp.sum(xp.sin(x.astype("float32"))), NotImplementedError, "astype"),
]


@pytest.mark.parametrize("method", ("tape", "forward"))
@pytest.mark.parametrize(("f", "error", "message"), REFUSED, ids=[r[2] for r in REFUSED])
def test_bad_arguments_and_refusals_name_what_they_are(f, error, message, method):
    with pytest.raises(error, match=message):
        diffcompare.grad(f, method)(np.array([0.3, -1.2, 0.7, 1.9]))
