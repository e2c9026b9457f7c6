"""One function, one meaning: every numpy idiom the README promises, under every method.

Each record is a construct written once as ``f(x, xp)`` with a point and what every
method must give there: the value and the gradient (hard-coded, or computed here by
hand-derived numpy formulas), or the named refusal (exception type and a phrase of the
message).  One parametrised test runs each record through the public API,
``diffcompare.grad(f, method=m)(x)``, for every method in :data:`diffcompare.METHODS`.

Conventions at kinks, the same for every method: ``maximum``/``minimum`` at a tie give
each argument half the derivative, ``abs`` at 0 has derivative 0, and a ``max`` reduction
shares the derivative equally among the tied maxima.

The black-box methods (``central``, ``richardson``, ``complex_step``) evaluate ``f``
with numpy on plain (or complex) arrays: they trace nothing, so refusals of a traced
construct do not apply to them.  A record leaves out the two difference quotients where
they have their own answer at a kink (a three-way tie of ``max``: ``(h - 0) / 2h = 1/2``,
not 1/3); the complex step follows the conventions.
``symbolic_vector`` may decline what its slice form cannot express (the limits the
README gives it: matrices, reshapes, stacks of traced values, traced conditions, and
indexing by anything but an int or a slice) with a ``NotImplementedError`` naming the
construct; the record names the phrase, and any other refusal fails.

The value is checked with the numpy namespace (the evaluation ``grad`` itself makes
before any method runs) and with the namespaces of the engines whose traced values are
plain to read (tape, forward mode, autograd, complex step).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest
from autograd.tracer import getval

import diffcompare
from diffcompare.methods.autograd.namespace import autograd_namespace
from diffcompare.methods.complex_step.namespace import complex_namespace, real_ordered
from diffcompare.methods.forward.dual import Dual
from diffcompare.methods.forward.namespace import dual_namespace
from diffcompare.methods.tape.engine import Node
from diffcompare.methods.tape.namespace import tape_namespace
from diffcompare.ops.numpy_namespace import numpy_namespace

HAVE_SYMENGINE = importlib.util.find_spec("symengine") is not None

BLACK_BOX_METHODS = ("central", "complex_step", "richardson")
DIFFERENCE_QUOTIENTS = ("central", "richardson")

#: Agreement asked of each method, (rtol, atol), relative to the expected gradient.
#: Exact methods round once per operation; the expected values here come from a few
#: operations too.  Central differences with the step cbrt(eps) * max(1, |x|) err by
#: about eps^(2/3) ~ 4e-11 times |f| and |f'''|, Richardson's tableau by about 1e-12 on
#: these small, smooth functions.
# fmt: off
TOLERANCE: dict[str, tuple[float, float]] = {
    "symbolic":        (1e-14, 1e-15),
    "symbolic_vector": (1e-14, 1e-15),
    "symengine":       (1e-14, 1e-15),
    "symbolic_array":  (1e-14, 1e-15),
    "autograd":        (1e-14, 1e-15),
    "tape":            (1e-14, 1e-15),
    "forward":         (1e-14, 1e-15),
    "complex_step":    (1e-14, 1e-15),
    "richardson":      (1e-10, 1e-11),
    "central":         (1e-7,  1e-8),
}
# fmt: on


@dataclass(frozen=True)
class Construct:
    """One idiom, the point it is tried at and what every method must give there.

    Attributes
    ----------
    name : str
        Test id.
    f : callable
        ``f(x, xp)``.
    x : tuple of float
        The point.
    value : float or None
        ``f(x)``; None for a refusal.
    gradient : tuple of float or None
        The gradient at ``x``; None for a refusal.
    raises : type or None
        The exception every tracing method raises instead.
    phrase : str
        What that exception's message must contain (case-insensitive).
    vector_declines : str or None
        A phrase of the ``NotImplementedError`` with which ``symbolic_vector`` may
        decline the construct (see the module docstring); None: it must not.
    differences : bool
        Whether central differences and Richardson are held to the gradient (False at
        a kink where a difference quotient has its own answer).
    """

    name: str
    f: Callable
    x: tuple[float, ...]
    value: float | None = None
    gradient: tuple[float, ...] | None = None
    raises: type[BaseException] | None = None
    phrase: str = ""
    vector_declines: str | None = None
    differences: bool = True


P = (0.5, -1.5, 2.0)  # the usual point: no ties, no zeros, mixed signs
Q = (0.5, -1.5, 2.0, 1.25)  # four coordinates for 2 x 2 matrices
T = (1.0, 1.0, 0.5)  # a tie of the first two coordinates
A = np.array([[1.0, 2.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 3.0]])
MASK = np.array([True, False, True])
RESHAPE = "reshape"  # symbolic_vector's refusal of any 2-d form names the reshape


def _quadratic_form_gradient(x):
    # sum(M @ M) for M = [[a, b], [c, d]] = a^2 + 2bc + ab + bd + ac + cd + d^2
    a, b, c, d = x
    return (2 * a + b + c, a + 2 * c + d, a + 2 * b + d, b + c + 2 * d)


def _power_gradient(x):
    # x2**3 + x2**x0 + 2**x0
    x0, _, x2 = x
    return (x2**x0 * np.log(x2) + 2.0**x0 * np.log(2.0), 0.0, 3.0 * x2**2 + x0 * x2 ** (x0 - 1.0))


def _logaddexp(x, xp):
    # numpy's logaddexp, written with the stable formula (value log(2 e^a) at a = b)
    a, b = x[0], x[1]
    return xp.maximum(a, b) + xp.log1p(xp.exp(-xp.abs(a - b)))


# fmt: off
CONSTRUCTS: list[Construct] = [
    # operators
    Construct("add", lambda x, xp: x[0] + x[1] + 1.5 + x[2], P, 2.5, (1.0, 1.0, 1.0)),
    Construct("subtract", lambda x, xp: x[0] - x[2] - (2.0 - x[1]), P, -5.0, (1.0, 1.0, -1.0)),
    Construct("multiply", lambda x, xp: x[0] * x[1] * x[2] * 2.0, P, -3.0, (-6.0, 2.0, -1.5)),
    Construct("divide", lambda x, xp: x[0] / x[2] + 3.0 / x[1], P, -1.75, (0.5, -4.0 / 3.0, -0.125)),
    Construct("power", lambda x, xp: x[2] ** 3 + x[2] ** x[0] + 2.0 ** x[0], P,
              8.0 + 2.0**0.5 + 2.0**0.5, _power_gradient(P)),
    Construct("matmul_vectors", lambda x, xp: x @ x, P, 6.5, (1.0, -3.0, 4.0), vector_declines="matmul"),
    Construct("matmul_matrix", lambda x, xp: x @ (A @ x), P, 13.0, (-2.0, -2.0, 12.0),
              vector_declines="matmul"),
    Construct("negative", lambda x, xp: xp.sum(-x * x), P, -6.5, (-1.0, 3.0, -4.0)),
    Construct("abs_builtin", lambda x, xp: abs(x[0]) + abs(x[1]) * x[2], P, 3.5, (1.0, -2.0, 1.5)),
    # array methods and attributes
    Construct("sum_method", lambda x, xp: (x * x).sum(), P, 6.5, (1.0, -3.0, 4.0)),
    Construct("mean_method", lambda x, xp: (x * 3.0).mean(), P, 1.0, (1.0, 1.0, 1.0)),
    Construct("max_method", lambda x, xp: (x * x).max(), P, 4.0, (0.0, 0.0, 4.0)),
    Construct("reshape_method", lambda x, xp: xp.sum(x.reshape(2, 2)[0] * x.reshape(2, 2)[1]), Q,
              -0.875, (2.0, 1.25, 0.5, -1.5), vector_declines=RESHAPE),
    Construct("transpose_method", lambda x, xp: xp.sum(x.reshape(2, 2).transpose()[0] * x[:2]), Q,
              -2.75, (1.0, 2.0, -1.5, 0.0), vector_declines=RESHAPE),
    Construct("T_attribute", lambda x, xp: xp.sum(x.reshape(2, 2).T @ x[:2]), Q,
              -5.375, (-0.5, 3.75, -1.5, -1.5), vector_declines=RESHAPE),
    Construct("ravel_method", lambda x, xp: xp.sum(x.reshape(2, 2).T.ravel() * x), Q,
              -4.1875, (1.0, 4.0, -3.0, 2.5), vector_declines=RESHAPE),
    Construct("flatten_method", lambda x, xp: xp.sum(x.reshape(2, 2).T.flatten() * x), Q,
              -4.1875, (1.0, 4.0, -3.0, 2.5), vector_declines=RESHAPE),
    Construct("copy_method", lambda x, xp: xp.sum(x.copy() * x), P, 6.5, (1.0, -3.0, 4.0)),
    Construct("shape_attribute", lambda x, xp: xp.sum(x) * x.shape[0] + x.ndim, P, 4.0, (3.0, 3.0, 3.0)),
    # indexing
    Construct("index_int", lambda x, xp: x[1] * x[2], P, -3.0, (0.0, 2.0, -1.5)),
    Construct("index_negative", lambda x, xp: x[-1] ** 2 - x[-3], P, 3.5, (-1.0, 0.0, 4.0)),
    Construct("slices", lambda x, xp: xp.sum(x[1:] * x[:-1]), P, -3.75, (-1.5, 2.5, -1.5)),
    Construct("negative_step", lambda x, xp: xp.sum(x[::-1] * np.array([1.0, 2.0, 3.0])), P,
              0.5, (3.0, 2.0, 1.0)),
    Construct("index_array", lambda x, xp: xp.sum(x[np.array([2, 0, 2])] * x[0]), P,
              2.25, (5.0, 0.0, 1.0), vector_declines="fancy"),
    Construct("boolean_mask_index", lambda x, xp: xp.sum(x[MASK] ** 2), P, 4.25, (1.0, 0.0, 4.0),
              vector_declines="fancy"),
    Construct("boolean_mask_times", lambda x, xp: xp.sum(MASK * x), P, 2.5, (1.0, 0.0, 1.0)),
    Construct("asarray_of_traced_scalars",
              lambda x, xp: xp.sum(xp.asarray([x[0], x[2] * x[1], 1.0]) * np.array([2.0, 3.0, 4.0])), P,
              -4.0, (2.0, 6.0, -4.5), vector_declines="asarray"),
    # numpy's own functions on traced values, builtins
    Construct("np_sum", lambda x, xp: np.sum(x * x), P, 6.5, (1.0, -3.0, 4.0)),
    Construct("np_sin", lambda x, xp: xp.sum(np.sin(x)), P, float(np.sum(np.sin(P))), tuple(np.cos(P))),
    Construct("np_max", lambda x, xp: np.max(x * x), P, 4.0, (0.0, 0.0, 4.0)),
    Construct("np_shape", lambda x, xp: xp.sum(x) * np.shape(x)[0], P, 3.0, (3.0, 3.0, 3.0)),
    Construct("np_ndim", lambda x, xp: xp.sum(x) * (np.ndim(x) + 1), P, 2.0, (2.0, 2.0, 2.0)),
    Construct("np_size", lambda x, xp: xp.sum(x) * np.size(x), P, 3.0, (3.0, 3.0, 3.0)),
    Construct("np_ravel", lambda x, xp: xp.sum(np.ravel(x.reshape(2, 2).T) * x), Q,
              -4.1875, (1.0, 4.0, -3.0, 2.5), vector_declines=RESHAPE),
    Construct("np_copy", lambda x, xp: xp.sum(np.copy(x) * x), P, 6.5, (1.0, -3.0, 4.0)),
    Construct("len", lambda x, xp: xp.sum(x) * len(x), P, 3.0, (3.0, 3.0, 3.0)),
    Construct("builtin_sum", lambda x, xp: sum(x * x), P, 6.5, (1.0, -3.0, 4.0)),
    Construct("np_dot_2d", lambda x, xp: np.sum(np.dot(x.reshape(2, 2), x.reshape(2, 2))), Q,
              float(np.sum(np.dot(np.reshape(Q, (2, 2)), np.reshape(Q, (2, 2))))),
              _quadratic_form_gradient(Q), vector_declines=RESHAPE),
    # comparisons, and functions that do not depend on x: gradient 0
    Construct("sum_of_comparisons", lambda x, xp: xp.sum(x > 0.0) + xp.sum(x < -1.0), P,
              3.0, (0.0, 0.0, 0.0), vector_declines="greater"),
    Construct("comparison_times_x", lambda x, xp: xp.sum((x > 0.0) * x), P, 2.5, (1.0, 0.0, 1.0),
              vector_declines="greater"),
    Construct("constant", lambda x, xp: 3.0, P, 3.0, (0.0, 0.0, 0.0)),
    Construct("integer_constant", lambda x, xp: 3, P, 3.0, (0.0, 0.0, 0.0)),
    Construct("constant_array", lambda x, xp: xp.sum(xp.asarray([1.0, 2.0]) ** 2), P, 5.0, (0.0, 0.0, 0.0)),
    Construct("zero_to_the_y", lambda x, xp: xp.sum(0.0 ** x) + x[0], (0.5, 1.5, 2.0), 0.5, (1.0, 0.0, 0.0)),
    # kinks and ties: half each at a tie, abs'(0) = 0, tied maxima share equally
    Construct("maximum_tie", lambda x, xp: xp.maximum(x[0], x[1]) + x[2], T, 1.5, (0.5, 0.5, 1.0)),
    Construct("minimum_tie", lambda x, xp: xp.minimum(x[0], x[1]) * x[2], (1.0, 1.0, 2.0), 2.0,
              (1.0, 1.0, 1.0)),
    Construct("np_maximum_tie", lambda x, xp: np.maximum(x[0], x[1]) + x[2], T, 1.5, (0.5, 0.5, 1.0)),
    Construct("abs_at_zero", lambda x, xp: xp.abs(x[0]) + abs(x[1]) + x[2], (0.0, 0.0, 0.5), 0.5,
              (0.0, 0.0, 1.0)),
    Construct("max_tie", lambda x, xp: xp.max(x), (2.0, -1.0, 2.0), 2.0, (0.5, 0.0, 0.5)),
    Construct("max_three_way_tie", lambda x, xp: xp.max(x), (1.0, 1.0, 1.0), 1.0, (1 / 3, 1 / 3, 1 / 3),
              differences=False),
    Construct("np_max_tie", lambda x, xp: np.max(x), (2.0, -1.0, 2.0), 2.0, (0.5, 0.0, 0.5)),
    Construct("logaddexp_tie", _logaddexp, (0.5, 0.5, 3.0), 0.5 + np.log(2.0), (0.5, 0.5, 0.0)),
    # reductions and scans: prod at a zero factor, min's ties share like max's
    Construct("prod_method", lambda x, xp: x.prod(), P, -1.5, (-3.0, 1.0, -0.75)),
    Construct("np_prod", lambda x, xp: np.prod(x), P, -1.5, (-3.0, 1.0, -0.75)),
    Construct("prod_at_a_zero", lambda x, xp: xp.prod(x), (0.0, 2.0, 3.0), 0.0, (6.0, 0.0, 0.0)),
    Construct("min_method", lambda x, xp: x.min(), P, -1.5, (0.0, 1.0, 0.0)),
    Construct("np_min", lambda x, xp: np.min(x), P, -1.5, (0.0, 1.0, 0.0)),
    Construct("min_tie", lambda x, xp: xp.min(x), (2.0, -1.0, -1.0), -1.0, (0.0, 0.5, 0.5),
              differences=False),
    Construct("cumsum", lambda x, xp: xp.sum(xp.cumsum(x) ** 2), P, 2.25, (1.0, 0.0, 2.0),
              vector_declines="cumsum"),
    Construct("var_method", lambda x, xp: x.var(), P, 37.0 / 18.0, (1.0 / 9.0, -11.0 / 9.0, 10.0 / 9.0)),
    # named refusals
    Construct("cumprod_method", lambda x, xp: xp.sum(x.cumprod()), P, raises=NotImplementedError,
              phrase="cumprod"),
    Construct("float_of_traced", lambda x, xp: float(x[0]) * x[1], P, raises=TypeError, phrase="float"),
]
# fmt: on

# KNOWN FAILURES: (construct, method) pairs that do not give the common answer yet, each
# run as a strict xfail (so a fix makes the run fail until its entry is deleted here).
# Every tracing method conforms on every record today: the table is empty.
KNOWN_FAILURES: dict[tuple[str, str], str] = {}


def _cases():
    for construct in CONSTRUCTS:
        for method in diffcompare.METHODS:
            if construct.raises is not None and method in BLACK_BOX_METHODS:
                continue
            if not construct.differences and method in DIFFERENCE_QUOTIENTS:
                continue
            marks = []
            if method == "symengine" and not HAVE_SYMENGINE:
                marks.append(pytest.mark.skip(reason="symengine is not installed"))
            reason = KNOWN_FAILURES.get((construct.name, method))
            if reason is not None:
                marks.append(pytest.mark.xfail(strict=True, reason=reason))
            yield pytest.param(construct, method, id=f"{construct.name}-{method}", marks=marks)


#: How each engine whose traced values are plain to read evaluates f (the value check).
# fmt: off
VALUE_OF: dict[str, Callable] = {
    "tape":         lambda f, x: _plain(f(Node(x), tape_namespace)),
    "forward":      lambda f, x: _plain(f(Dual(x, np.eye(x.size)), dual_namespace)),
    "autograd":     lambda f, x: getval(f(x, autograd_namespace)),
    "complex_step": lambda f, x: np.real(np.asarray(f(real_ordered(x.astype(complex)), complex_namespace))),
}
# fmt: on


def _plain(value):
    return getattr(value, "value", value)


@pytest.mark.filterwarnings("ignore:Output seems independent of input")  # autograd, on constants
@pytest.mark.parametrize(("construct", "method"), list(_cases()))
def test_every_method_gives_the_same_answer(construct, method):
    x = np.array(construct.x)
    gradient = diffcompare.grad(construct.f, method=method)
    if construct.raises is not None:
        with pytest.raises(construct.raises) as caught:
            gradient(x)
        assert construct.phrase in str(caught.value).lower(), (method, str(caught.value))
        return
    try:
        got = gradient(x)
    except NotImplementedError as refusal:
        if method != "symbolic_vector" or construct.vector_declines is None:
            raise
        assert construct.vector_declines in str(refusal), str(refusal)
        return
    rtol, atol = TOLERANCE[method]
    np.testing.assert_allclose(got, construct.gradient, rtol=rtol, atol=atol, err_msg=method)
    assert np.asarray(got).dtype == np.float64 and np.shape(got) == x.shape
    if method in VALUE_OF:
        np.testing.assert_allclose(float(VALUE_OF[method](construct.f, x)), construct.value, rtol=1e-15)


@pytest.mark.parametrize("construct", [c for c in CONSTRUCTS if c.raises is None], ids=lambda c: c.name)
def test_the_expected_values_are_numpys(construct):
    # the value grad() evaluates with numpy before any method runs, and the expected
    # gradient against central differences: a check of the table itself
    x = np.array(construct.x)
    np.testing.assert_allclose(float(construct.f(x, numpy_namespace)), construct.value, rtol=1e-15)
    if construct.differences:
        np.testing.assert_allclose(
            diffcompare.central_difference(construct.f, x), construct.gradient, rtol=1e-7, atol=1e-8
        )
