"""Reductions, scans and shape operations: every method against the 50-digit truth.

The operations of this group (``softmax``, ``log_softmax``, ``prod``, ``cumsum``,
``var``, ``std``, ``min``, ``einsum``, ``outer``, ``trace``, ``diagonal``, ``triu``,
``tril``, ``squeeze``, ``expand_dims``, ``flip``, ``roll``, ``tile``, ``repeat``,
``take``, ``sort`` and indexing with ``None``) are checked three ways:

- each tracing method's gradient against :func:`diffcompare.reference_gradient` (SymPy,
  50 digits; no derivative rule of the engines involved) at relative 1e-11, central
  differences at 1e-6, at ordinary points and at the hard points of each operation
  (zero factors, ties, a log-softmax of entries near 1e8, repeated einsum labels);
- the new primitives' tape and forward rules against the 400-digit mpmath differences
  of ``test_tape_rules`` (the operation evaluated in mpmath, no rule involved);
- a few hard-coded values, refusals by name, and wrong rules that the checks must catch.
"""

from __future__ import annotations

import dataclasses
import importlib.util
from collections.abc import Callable

import numpy as np
import pytest
from test_forward_mode import check_jvp
from test_tape_rules import check_vjp
from truth_checks import assert_close, case_params, truth_of_cases

import diffcompare
from diffcompare.methods.forward.rules import JVP_RULES
from diffcompare.methods.tape.rules import RULES
from diffcompare.ops import ALIASES, DERIVED, OPS
from diffcompare.ops.namespace import UnsupportedOperationError
from diffcompare.ops.numpy_namespace import numpy_namespace

HAVE_SYMENGINE = importlib.util.find_spec("symengine") is not None

#: Methods differentiated exactly (to rounding) and the tolerance against the truth.
EXACT = ("tape", "forward", "autograd", "complex_step", "symbolic")
RTOL = {"exact": 1e-11, "central": 1e-6}

W6 = 1.0 + np.arange(6.0) / 8.0  # distinct weights: a gradient on the wrong entry shows


@dataclasses.dataclass(frozen=True)
class Case:
    """``f(x, xp)`` using one operation, the points it is checked at, which methods apply."""

    name: str
    f: Callable
    points: tuple[tuple[float, ...], ...]
    methods: tuple[str, ...] = EXACT
    central: bool = True  # False at a kink, where a difference quotient has its own answer


def _m(x, xp, shape):
    return xp.reshape(x, shape)


P6 = (0.3, -1.2, 0.4, 2.0, 0.7, 1.1)
P12 = tuple(np.round(np.sin(np.arange(1.0, 13.0)) * 1.5, 3))

CASES = (
    # softmax and log_softmax: the log_softmax rule g - sum(g) softmax, any axis
    Case("log_softmax", lambda x, xp: xp.sum(xp.log_softmax(x) * W6), (P6, (0.0,) * 6)),
    Case("log_softmax axis=0", lambda x, xp: xp.sum(xp.log_softmax(_m(x, xp, (2, 3)), axis=0) ** 2), (P6,)),
    Case(
        "log_softmax axis=None",
        lambda x, xp: xp.sum(xp.log_softmax(_m(x, xp, (2, 3)), axis=None) * W6.reshape(2, 3)),
        (P6,),
    ),
    # entries near 1e8: x - logsumexp(x) would keep 8 digits; the float64 closed form
    # of 'symbolic' overflows in exp, so only the engines are held to 1e-11 there
    Case(
        "log_softmax near 1e8",
        lambda x, xp: xp.sum(xp.log_softmax(x) * W6),
        (tuple(1e8 + np.array(P6)),),
        ("tape", "forward", "autograd", "complex_step"),
        central=False,
    ),
    Case("softmax", lambda x, xp: xp.sum(xp.softmax(_m(x, xp, (2, 3))) * W6.reshape(2, 3)), (P6,)),
    Case("softmax axis=0", lambda x, xp: xp.sum(xp.softmax(_m(x, xp, (3, 2)), axis=0) ** 2), (P6,)),
    # prod: products of the other factors, right at one zero and at two
    Case("prod", lambda x, xp: xp.prod(x), (P6, (0.3, 0.0, 0.4, 2.0, 0.7, 1.1))),
    # two zero factors: the gradient is 0, and the complex step's probe (a relative
    # check of the directional derivative) refuses a point where it is exactly 0 but the
    # second-order term is not
    Case(
        "prod at two zeros",
        lambda x, xp: xp.prod(x) + xp.sum(x),
        ((0.0, 0.0, 0.4, 2.0, 0.7, 1.1),),
        ("tape", "forward", "autograd", "symbolic"),
    ),
    Case(
        "prod axis keepdims",
        lambda x, xp: xp.sum(xp.prod(_m(x, xp, (2, 3)), axis=1, keepdims=True) * np.array([[1.0], [2.0]])),
        (P6, (0.0, -1.2, 0.4, 2.0, 0.0, 1.1)),
    ),
    Case("prod axes tuple", lambda x, xp: xp.sum(xp.sin(xp.prod(_m(x, xp, (2, 3, 2)), axis=(0, 2)))), (P12,)),
    Case("x.prod()", lambda x, xp: _m(x, xp, (3, 2)).prod(axis=0).sum(), (P6,)),
    Case("np.prod", lambda x, xp: np.prod(x * x), (P6,)),
    # cumsum
    Case("cumsum", lambda x, xp: xp.sum(xp.cumsum(x) ** 2), (P6,)),
    Case(
        "cumsum axis=1",
        lambda x, xp: xp.sum(xp.sin(xp.cumsum(_m(x, xp, (2, 3)), axis=1)) * W6.reshape(2, 3)),
        (P6,),
    ),
    Case("cumsum axis=None of 2-d", lambda x, xp: xp.sum(xp.cumsum(_m(x, xp, (2, 3))) * W6), (P6,)),
    Case(
        "x.cumsum() and cumulative_sum",
        lambda x, xp: xp.sum(x.cumsum() * xp.cumulative_sum(x, axis=0)),
        (P6,),
    ),
    # var and std (ddof, correction, axis, keepdims)
    Case("var", lambda x, xp: xp.var(x), (P6,)),
    Case(
        "var ddof=1 axis",
        lambda x, xp: xp.sum(xp.var(_m(x, xp, (2, 3)), axis=1, ddof=1) * np.array([1.0, 2.0])),
        (P6,),
    ),
    Case(
        "std keepdims",
        lambda x, xp: xp.sum(xp.std(_m(x, xp, (2, 3)), axis=0, keepdims=True) * np.array([1.0, 2.0, 3.0])),
        (P6,),
    ),
    Case("x.std() and correction", lambda x, xp: x.std() + xp.var(x, correction=1), (P6,)),
    Case("np.var", lambda x, xp: np.var(x) + np.std(x), (P6,)),
    # min: ties share like max
    Case(
        "min",
        lambda x, xp: xp.min(x[:3]) + xp.sum(xp.min(_m(x, xp, (2, 3)), axis=0) * np.array([1.0, 2.0, 3.0])),
        (P6,),
    ),
    Case("min ties", lambda x, xp: xp.min(x[:3]) * 2.0 + x[3], ((1.0, -1.0, -1.0, 2.0),), central=False),
    Case("x.min() np.amin", lambda x, xp: x[:3].min() + np.amin(x[3:] * W6[3:]), (P6,)),
    # einsum: contractions, a repeated label, a label summed in one operand, constants
    Case(
        "einsum matmul",
        lambda x, xp: xp.sum(xp.einsum("ij,jk->ik", _m(x[:6], xp, (2, 3)), _m(x[6:], xp, (3, 2))) ** 2),
        (P12,),
    ),
    Case(
        "einsum implicit",
        lambda x, xp: xp.sum(xp.einsum("ij,jk", _m(x[:6], xp, (2, 3)), _m(x[6:], xp, (3, 2))) ** 2),
        (P12,),
    ),
    Case(
        "einsum trace ii->",
        lambda x, xp: xp.einsum("ii->", _m(x[:9], xp, (3, 3)) * _m(x[3:], xp, (3, 3))),
        (P12,),
    ),
    Case(
        "einsum diagonal ii->i", lambda x, xp: xp.sum(xp.einsum("ii->i", _m(x[:9], xp, (3, 3))) ** 3), (P12,)
    ),
    Case(
        "einsum summed alone",
        lambda x, xp: xp.sum(xp.einsum("ij,j->", _m(x[:6], xp, (2, 3)), x[6:9]) * x[9]),
        (P12,),
    ),
    Case(
        "einsum ellipsis",
        lambda x, xp: xp.sum(xp.sin(xp.einsum("...i,i->...", _m(x[:9], xp, (3, 3)), x[9:]))),
        (P12,),
    ),
    Case(
        "einsum constant",
        lambda x, xp: xp.sum(xp.einsum("ij,ij->i", _m(x, xp, (2, 3)), W6.reshape(2, 3)) ** 2),
        (P6,),
    ),
    Case("np.einsum", lambda x, xp: np.einsum("i,i->", x, x * x), (P6,)),
    # outer, diagonal, trace, triu, tril
    Case("outer", lambda x, xp: xp.sum(xp.outer(x[:2], x[2:]) ** 2), (P6,)),
    Case("diagonal offset", lambda x, xp: xp.sum(xp.diagonal(_m(x, xp, (2, 3)), 1) ** 2), (P6,)),
    Case(
        "diagonal 3-d axes",
        lambda x, xp: xp.sum(xp.diagonal(_m(x, xp, (2, 3, 2)), 0, 0, 2) * np.arange(1.0, 7.0).reshape(3, 2)),
        (P12,),
    ),
    Case(
        "trace",
        lambda x, xp: xp.trace(_m(x[:9], xp, (3, 3)) ** 2) + _m(x[:6], xp, (2, 3)).trace(offset=-1),
        (P12,),
    ),
    Case("x.diagonal()", lambda x, xp: xp.sum(_m(x[:9], xp, (3, 3)).diagonal() ** 2), (P12,)),
    Case(
        "triu tril",
        lambda x, xp: (
            xp.sum(xp.triu(_m(x, xp, (2, 3)), 1) ** 2)
            + xp.sum(xp.tril(_m(x, xp, (3, 2)), -1) * W6.reshape(3, 2))
        ),
        (P6,),
    ),
    # squeeze, expand_dims, flip, roll, tile, repeat, take, None
    Case(
        "squeeze expand_dims",
        lambda x, xp: xp.sum(
            xp.squeeze(_m(x, xp, (1, 6, 1)), axis=2) ** 2 + xp.expand_dims(x, (0, 2))[0, :, 0]
        ),
        (P6,),
    ),
    Case("x.squeeze()", lambda x, xp: xp.sum(_m(x, xp, (1, 2, 3)).squeeze() * W6.reshape(2, 3)), (P6,)),
    Case(
        "flip",
        lambda x, xp: xp.sum(xp.flip(_m(x, xp, (2, 3)), axis=1) * W6.reshape(2, 3)) + xp.sum(xp.flip(x) * W6),
        (P6,),
    ),
    Case(
        "roll",
        lambda x, xp: (
            xp.sum(xp.roll(_m(x, xp, (2, 3)), (1, -1), axis=(0, 1)) * W6.reshape(2, 3))
            + xp.sum(xp.roll(x, 2) * W6)
        ),
        (P6,),
    ),
    Case(
        "tile",
        lambda x, xp: xp.sum(xp.tile(_m(x, xp, (2, 3)), (2, 1, 2)) ** 2 * np.arange(24.0).reshape(2, 2, 6)),
        (P6,),
    ),
    Case(
        "repeat",
        lambda x, xp: xp.sum(
            xp.repeat(_m(x, xp, (2, 3)), [1, 0, 3], axis=1) ** 2 * np.arange(8.0).reshape(2, 4)
        ),
        (P6,),
    ),
    Case("x.repeat()", lambda x, xp: xp.sum(x.repeat(2) ** 2 * np.arange(12.0)), (P6,)),
    Case(
        "take",
        lambda x, xp: (
            xp.sum(xp.take(_m(x, xp, (2, 3)), [2, 0, 2], axis=1) ** 2)
            + xp.sum(xp.take(x, [7, -1], mode="wrap"))
        ),
        (P6,),
    ),
    Case("x.take()", lambda x, xp: xp.sum(x.take([0, 0, 3]) ** 2), (P6,)),
    Case(
        "index None",
        lambda x, xp: (
            xp.sum(x[None, :, None] * np.arange(1.0, 4.0)[:, None, None])
            + xp.sum(_m(x, xp, (2, 3))[:, None] ** 2)
        ),
        (P6,),
    ),
)

#: sort cases: f, and the same function with the sort replaced by the fixed gather that
#: the point's order gives (the truth's stand-in: SymPy cannot sort symbols; away from
#: ties the two are the same function near the point).
SORT_CASES = {
    "sort": (
        lambda x, xp: xp.sum(xp.sort(x) * W6),
        lambda order: lambda x, xp: xp.sum(x[order] * W6),
        lambda point: np.argsort(point),
    ),
    "sort axis=0": (
        lambda x, xp: xp.sum(xp.sort(_m(x, xp, (3, 2)), axis=0) ** 2 * W6.reshape(3, 2)),
        lambda order: lambda x, xp: xp.sum(_m(x, xp, (3, 2))[order, np.arange(2)] ** 2 * W6.reshape(3, 2)),
        lambda point: np.argsort(np.reshape(point, (3, 2)), axis=0),
    ),
    "sort axis=None": (
        lambda x, xp: xp.sum(xp.sin(xp.sort(_m(x, xp, (2, 3)), axis=None)) * W6),
        lambda order: lambda x, xp: xp.sum(xp.sin(x[order]) * W6),
        lambda point: np.argsort(point),
    ),
    "np.sort": (
        lambda x, xp: xp.sum(np.sort(x) * W6),
        lambda order: lambda x, xp: xp.sum(x[order] * W6),
        lambda point: np.argsort(point),
    ),
}


references = pytest.fixture(scope="module")(truth_of_cases)


@pytest.mark.filterwarnings("ignore:Output seems independent of input")
@pytest.mark.parametrize(("case", "method"), list(case_params(CASES)))
def test_each_method_against_the_50_digit_truth(case, method, references):
    for point in case.points:
        got = diffcompare.grad(case.f, method=method)(np.array(point))
        assert_close(got, references(case, point), RTOL["exact"], f"{case.name} {method} at {point}")


@pytest.mark.parametrize("case", [c for c in CASES if c.central], ids=lambda c: c.name)
def test_central_differences_agree_with_the_truth(case, references):
    for point in case.points:
        got = diffcompare.central_difference(case.f, np.array(point))
        assert_close(got, references(case, point), RTOL["central"], f"{case.name} central")


@pytest.mark.parametrize("method", ["tape", "forward", "autograd", "complex_step"])
@pytest.mark.parametrize("name", list(SORT_CASES))
def test_sort_against_the_truth_of_its_permutation(name, method):
    f, fixed, order = SORT_CASES[name]
    x = np.array(P6)
    expected = diffcompare.reference_gradient(fixed(order(x)), x)
    assert expected.status == "ok", expected.message
    np.testing.assert_array_equal(f(x, numpy_namespace), fixed(order(x))(x, numpy_namespace))
    assert_close(diffcompare.grad(f, method=method)(x), expected.value, RTOL["exact"], f"{name} {method}")


# (min and max of k entries: the truth traces a Piecewise over k (k - 1) relations whose
# shared-tie pieces grow quickly with k, so these use at most three entries at a time.)


# --- symbolic_vector and symengine: where they can, otherwise refused by name --------------


@pytest.mark.parametrize("name", ["log_softmax", "prod", "var", "x.std() and correction", "min", "flip"])
def test_symbolic_vector_on_1d_forms(name, references):
    f = {
        "log_softmax": lambda x, xp: xp.sum(xp.log_softmax(x) * W6),
        "prod": lambda x, xp: xp.prod(x) + x.prod(),
        "var": lambda x, xp: xp.var(x, ddof=1),
        "x.std() and correction": lambda x, xp: x.std() + xp.var(x, correction=1),
        "min": lambda x, xp: xp.min(x[:3]) + np.min(x[3:] * x[3:]),
        "flip": lambda x, xp: xp.sum(xp.flip(x) * W6) + xp.sum(xp.softmax(x) * W6),
    }[name]
    case = Case(f"vector {name}", f, (P6, (0.3, 0.0, 0.4, 0.0, 0.7, 1.1)))
    for point in case.points:
        got = diffcompare.grad(f, method="symbolic_vector")(np.array(point))
        assert_close(got, references(case, point), RTOL["exact"], name)


@pytest.mark.parametrize(
    ("f", "op"),
    [
        (lambda x, xp: xp.sum(xp.cumsum(x)), "cumsum"),
        (lambda x, xp: xp.einsum("i,i->", x, x), "einsum"),
        (lambda x, xp: xp.sum(xp.sort(x)), "sort"),
        (lambda x, xp: xp.sum(xp.roll(x, 1) * x), "getitem"),
        (lambda x, xp: xp.prod(x, keepdims=True)[0], "prod"),
    ],
)
def test_symbolic_vector_refuses_what_it_cannot_express_by_name(f, op):
    with pytest.raises(NotImplementedError, match=f"symbolic_vector does not support '{op}'"):
        diffcompare.grad(f, method="symbolic_vector")(np.array(P6))


@pytest.mark.skipif(not HAVE_SYMENGINE, reason="symengine is not installed")
@pytest.mark.parametrize(
    "name", ["log_softmax", "prod", "cumsum axis=1", "einsum trace ii->", "var ddof=1 axis"]
)
def test_symengine_against_the_truth(name, references):
    case = next(c for c in CASES if c.name == name)
    for point in case.points:
        got = diffcompare.grad(case.f, method="symengine")(np.array(point))
        assert_close(got, references(case, point), RTOL["exact"], name)


# --- the new primitives' rules against 400-digit mpmath differences -------------------------

RNG_SEED = 41


@pytest.mark.parametrize("check", [check_vjp, check_jvp], ids=["tape", "forward"])
@pytest.mark.parametrize(
    ("op", "shape", "params"),
    [
        ("log_softmax", (3, 4), {"axis": -1}),
        ("log_softmax", (2, 3, 2), {"axis": (0, 2)}),
        ("log_softmax", (3, 4), {"axis": None}),
        ("prod", (3, 4), {"axis": None}),
        ("prod", (3, 4), {"axis": 0, "keepdims": True}),
        ("prod", (2, 3, 2), {"axis": (0, -1)}),
        ("cumsum", (3, 4), {"axis": None}),
        ("cumsum", (3, 4), {"axis": 0}),
        ("cumsum", (2, 3, 2), {"axis": -2}),
        ("sort", (5,), {}),
        ("sort", (3, 4), {"axis": 0}),
        ("sort", (3, 4), {"axis": None}),
    ],
    ids=repr,
)
def test_rules_of_the_new_primitives(check, op, shape, params):
    rng = np.random.default_rng(RNG_SEED)
    x = rng.uniform(-2.0, 2.0, shape)
    check(op, [x], params, {0}, rng, positions=4)


@pytest.mark.parametrize("check", [check_vjp, check_jvp], ids=["tape", "forward"])
@pytest.mark.parametrize(
    ("subscripts", "shapes", "traced"),
    [
        ("ij,jk->ik", ((2, 3), (3, 4)), {0, 1}),
        ("ij,jk->ik", ((2, 3), (3, 4)), {1}),
        ("ii->", ((3, 3),), {0}),
        ("ii->i", ((3, 3),), {0}),
        ("iij,j->ij", ((2, 2, 3), (3,)), {0, 1}),
        ("ij,j->", ((2, 3), (3,)), {0, 1}),
        ("bij,bjk->bik", ((2, 2, 3), (2, 3, 2)), {0, 1}),
        ("...i,i", ((2, 3), (3,)), {0, 1}),
        ("i,i,i->", ((3,), (3,), (3,)), {0, 2}),
    ],
    ids=repr,
)
def test_einsum_rules(check, subscripts, shapes, traced):
    rng = np.random.default_rng(RNG_SEED)
    operands = [rng.uniform(-2.0, 2.0, shape) for shape in shapes]
    check("einsum", operands, {"subscripts": subscripts}, traced, rng, positions=4)


# --- hard-coded values, in case the references break ------------------------------------------

TRACING = ("tape", "forward", "autograd", "complex_step")


@pytest.mark.parametrize("method", (*TRACING, "symbolic"))
def test_prod_at_zeros_known_values(method):
    grad = diffcompare.grad(lambda x, xp: xp.prod(x), method=method)
    np.testing.assert_array_equal(grad(np.array([0.0, 2.0, 3.0])), [6.0, 0.0, 0.0])
    if method != "complex_step":  # its probe refuses a zero gradient with a second-order term
        np.testing.assert_array_equal(grad(np.array([0.0, 0.0, 3.0])), [0.0, 0.0, 0.0])


@pytest.mark.parametrize("method", TRACING)
def test_sort_ties_share_like_max(method):
    # sort's last slot is max: tied entries each get 1/k of its weight, as max's do
    x = np.array([1.0, 3.0, 3.0, 2.0, 3.0])
    weights = np.array([1.0, 2.0, 4.0, 8.0, 16.0])
    grad = diffcompare.grad(lambda v, xp: xp.sum(xp.sort(v) * weights), method=method)(x)
    np.testing.assert_allclose(grad, [1.0, 28.0 / 3, 28.0 / 3, 2.0, 28.0 / 3], rtol=1e-15)
    top = diffcompare.grad(lambda v, xp: xp.sort(v)[-1], method=method)(x)
    np.testing.assert_allclose(top, diffcompare.grad(lambda v, xp: xp.max(v), method=method)(x), rtol=1e-15)


@pytest.mark.parametrize("method", TRACING)
def test_einsum_trace_known_value(method):
    grad = diffcompare.grad(lambda x, xp: xp.einsum("ii->", xp.reshape(x, (2, 2))) * x[1], method=method)
    np.testing.assert_array_equal(grad(np.array([1.0, 2.0, 3.0, 4.0])), [2.0, 5.0, 0.0, 2.0])


def test_log_softmax_keeps_its_digits_near_1e8():
    x = 1e8 + np.array([0.0, 1.0, 2.0])
    exact = np.array([0.0, 1.0, 2.0]) - np.log(np.sum(np.exp([0.0, 1.0, 2.0])))
    np.testing.assert_allclose(numpy_namespace.log_softmax(x), exact, rtol=1e-15)
    naive = x - numpy_namespace.logsumexp(x)
    assert np.max(np.abs(naive - exact) / np.abs(exact)) > 1e-10  # what the formula avoids


# --- tables and refusals ------------------------------------------------------------------------


def test_the_group_is_in_the_tables():
    rows = {"log_softmax", "prod", "cumsum", "einsum", "sort"}
    derived = {"softmax", "min", "var", "std", "outer", "trace", "diagonal", "triu", "tril", "squeeze"}
    derived |= {"expand_dims", "flip", "roll", "tile", "repeat", "take"}
    assert rows <= set(OPS) and derived <= set(DERIVED)
    assert rows <= set(RULES) and rows <= set(JVP_RULES)
    assert ALIASES["amin"] == "min" and ALIASES["cumulative_sum"] == "cumsum"


@pytest.mark.parametrize("method", ["symbolic", "reference"])
def test_sympy_tracing_refuses_sort_with_the_reason(method):
    def f(x, xp):
        return xp.sum(xp.sort(x) * W6)

    if method == "reference":
        result = diffcompare.reference_gradient(f, np.array(P6))
        assert (
            result.status == "error" and "sort" in result.message and "cannot sort symbols" in result.message
        )
        return
    with pytest.raises(UnsupportedOperationError, match="'sort': SymPy cannot sort symbols"):
        diffcompare.grad(f, method=method)(np.array(P6))


@pytest.mark.parametrize("method", ["tape", "forward", "autograd"])
def test_sorting_a_traced_value_in_place_is_refused(method):
    def f(x, xp):
        x.sort()
        return xp.sum(x)

    with pytest.raises(UnsupportedOperationError, match=r"in place.*xp.sort\(x\)"):
        diffcompare.grad(f, method=method)(np.array(P6))


def test_complex_step_sorts_by_real_parts_and_ties_share():
    x = np.array([2.0, 1.0, 2.0])
    grad = diffcompare.grad(lambda v, xp: xp.sum(np.sort(v) * np.array([1.0, 2.0, 4.0])), "complex_step")(x)
    np.testing.assert_array_equal(grad, [3.0, 1.0, 3.0])


@pytest.mark.parametrize(
    ("f", "error", "message"),
    [
        (lambda x, xp: xp.var(x, ddof=6), ValueError, "ddof=6 leaves no degrees of freedom"),
        (lambda x, xp: xp.var(x, ddof=1, correction=1), ValueError, "ddof or correction"),
        (lambda x, xp: xp.var(x, ddof="1"), TypeError, "ddof must be a real number"),
        (lambda x, xp: xp.einsum(x, x), TypeError, "each sub(list|script)"),
        (lambda x, xp: xp.einsum("ij->", x), ValueError, "operand 0"),
        (lambda x, xp: xp.sum(xp.squeeze(x, axis=0)), ValueError, "size not equal to one"),
    ],
)
@pytest.mark.parametrize("method", ["tape", "forward", "autograd"])
def test_bad_arguments_name_the_argument(method, f, error, message):
    with pytest.raises(error, match=message):
        diffcompare.grad(f, method=method)(np.array(P6))


# --- the checks above must be able to fail -------------------------------------------------------


def test_the_checks_catch_prod_as_ans_over_x(monkeypatch):
    def ans_over_x(g, ans, x, axis=None, keepdims=False):
        with np.errstate(divide="ignore", invalid="ignore"):
            return g * ans / x

    monkeypatch.setitem(RULES, "prod", (ans_over_x,))
    got = diffcompare.grad(lambda x, xp: xp.prod(x), method="tape")(np.array([0.0, 2.0, 3.0]))
    assert not np.array_equal(got, [6.0, 0.0, 0.0])


def test_the_checks_catch_a_sort_rule_that_ignores_the_permutation(monkeypatch):
    monkeypatch.setitem(RULES, "sort", (lambda g, ans, x, axis=-1: g,))
    rng = np.random.default_rng(3)
    with pytest.raises(AssertionError):
        check_vjp("sort", [rng.uniform(-2.0, 2.0, 5)], {}, {0}, rng, positions=5)


def test_the_checks_catch_an_einsum_rule_that_drops_the_diagonal(monkeypatch):
    def everywhere(index, g, ans, *operands, subscripts):
        return np.broadcast_to(g, np.shape(operands[index]))  # d trace / dA = I, not ones

    monkeypatch.setitem(RULES, "einsum", type(RULES["einsum"])(everywhere))
    rng = np.random.default_rng(4)
    with pytest.raises(AssertionError):
        check_vjp("einsum", [rng.uniform(-2.0, 2.0, (3, 3))], {"subscripts": "ii->"}, {0}, rng, positions=9)
