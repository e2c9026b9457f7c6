"""The elementwise group of operations, op by op, in every method.

Each operation is a record (:class:`ElementwiseCase`): its mpmath twin, ordinary
points, hard points (near poles, overflow and underflow, a root of the derivative)
and special points whose derivative is a convention (a step, the origin of hypot and
arctan2, ties of clip).  The expected gradients come from mpmath at 50 digits
(``mpmath.diff`` of the mpmath twin, no derivative rule involved) or, at the special
points, from the convention written next to them.  Every exact method must agree to
1e-11 relative; central differences to 1e-6 at the ordinary points.

The hard points are checked for the methods that evaluate this project's rules (the
tape, forward mode) and continuations (the complex step); autograd's and SymPy's
compiled formulas are their own (``1 / (1 - x**2)`` for arctanh cancels near 1), and
what they lose there is what the harness measures, not a fault of the operation.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib.util
from collections.abc import Callable

import mpmath
import numpy as np
import pytest
import scipy.special

import diffcompare
from diffcompare.methods.autograd.namespace import autograd_namespace
from diffcompare.methods.complex_step.namespace import complex_namespace
from diffcompare.methods.forward.namespace import dual_namespace
from diffcompare.methods.symbolic.namespace import sympy_namespace
from diffcompare.methods.symbolic_vector.namespace import sympy_vector_namespace
from diffcompare.methods.tape.namespace import tape_namespace
from diffcompare.ops import ALIASES, OPS
from diffcompare.ops.numpy_namespace import numpy_namespace

RTOL = {"exact": 1e-11, "central": 1e-6}

#: Methods that evaluate this project's derivative rules or analytic continuations.
OWN_RULES = ("tape", "forward", "complex_step")
#: Exact methods checked at ordinary and special points.
EXACT = (*OWN_RULES, "autograd", "symbolic", "symbolic_vector")

HAVE_SYMENGINE = importlib.util.find_spec("symengine") is not None

#: The complex step carries h = 1e-100 times each derivative in an imaginary part: below
#: about 1e-208 that underflows (a limit of the step, not of the operation).
COMPLEX_STEP_SMALLEST = 1e-200

INF = np.inf


@dataclasses.dataclass(frozen=True)
class ElementwiseCase:
    """One operation: ``f(x, xp) = sum(w * g(xp, *args))``, ``args`` cut from ``x``.

    Attributes
    ----------
    op : str
        The operation.
    g : callable
        ``g(xp, *args)``: the operation, or (for the steps) ``x * op(x)``, whose
        derivative is the step's value plus ``x`` times its derivative 0.
    exact : callable
        ``g`` in mpmath, differentiated by ``mpmath.diff``.
    ordinary, hard : tuple of tuples
        Argument tuples (one float per argument).
    special : tuple of (args, partials)
        Points whose derivative is a convention, with the partials of ``g``.
    """

    op: str
    g: Callable
    exact: Callable
    ordinary: tuple
    hard: tuple = ()
    special: tuple = ()

    @property
    def arity(self) -> int:
        return 1 if OPS[self.op].kind == "unary" else 2


def _call(op):
    return lambda xp, *args: getattr(xp, op)(*args)


def _times_x(op):
    return lambda xp, x: x * getattr(xp, op)(x)


# fmt: off
CASES = (
    ElementwiseCase("square", _call("square"), lambda v: v * v,
                    ((-3.5,), (0.25,), (2.0,)), ((1e150,), (-1e-200,), (0.0,))),
    ElementwiseCase("log2", _call("log2"), lambda v: mpmath.log(v, 2),
                    ((0.3,), (2.0,), (7.5,)), ((1e-300,), (1e300,), (1.0,))),
    ElementwiseCase("log10", _call("log10"), mpmath.log10,
                    ((0.3,), (2.0,), (7.5,)), ((1e-300,), (1e300,), (1.0,))),
    ElementwiseCase("exp2", _call("exp2"), lambda v: mpmath.power(2, v),
                    ((-2.5,), (0.0,), (3.25,)), ((-1000.0,), (1000.0,), (1e-20,))),
    ElementwiseCase("arccosh", _call("arccosh"), mpmath.acosh,
                    ((1.5,), (3.0,), (10.0,)), ((1 + 2.0**-40,), (1 + 1e-10,), (1e300,))),
    ElementwiseCase("arctanh", _call("arctanh"), mpmath.atanh,
                    ((-0.5,), (0.1,), (0.75,)), ((1 - 2.0**-30,), (-1 + 2.0**-40,), (1e-200,))),
    ElementwiseCase("erf", _call("erf"), mpmath.erf,
                    ((-1.5,), (0.2,), (2.0,)), ((5.0,), (-9.0,), (26.0,), (1e-300,))),
    ElementwiseCase("erfc", _call("erfc"), mpmath.erfc,
                    ((-1.5,), (0.2,), (2.0,)), ((5.0,), (-9.0,), (26.0,), (1e-300,))),
    # gammaln's derivative digamma has its root at 1.4616...: relative accuracy there
    ElementwiseCase("gammaln", _call("gammaln"), mpmath.loggamma,
                    ((0.5,), (2.5,), (10.0,)), ((1e-8,), (1.4616321449683622,), (1e6,), (1e-300,))),
    ElementwiseCase("digamma", _call("digamma"), mpmath.digamma,
                    ((0.5,), (2.5,), (10.0,)), ((1e-8,), (1.4616321449683622,), (1e6,), (1e-150,))),
    # the steps, as x * step(x): the derivative is the step's value (its own is 0);
    # at a step the convention 0 for the step's derivative
    ElementwiseCase("sign", _times_x("sign"), lambda v: v * mpmath.sign(v),
                    ((-2.5,), (0.5,), (3.0,)), (),
                    (((0.0,), (0.0,)), ((-1e-300,), (-1.0,)))),
    ElementwiseCase("floor", _times_x("floor"), lambda v: v * mpmath.floor(v),
                    ((-2.5,), (0.5,), (3.75,)), (),
                    (((2.0,), (2.0,)), ((-1.0,), (-1.0,)), ((0.0,), (0.0,)))),
    ElementwiseCase("round", _times_x("round"), lambda v: v * mpmath.nint(v),
                    ((-2.25,), (0.75,), (3.4,)), (),
                    (((2.5,), (2.0,)), ((3.5,), (4.0,)), ((-0.5,), (0.0,)), ((1.0,), (1.0,)))),
    ElementwiseCase("hypot", _call("hypot"), mpmath.hypot,
                    ((3.0, 4.0), (-1.5, 0.5), (0.25, -2.0)),
                    ((1e200, 1e200), (1e-200, 3e-200), (0.0, 2.5)),
                    (((0.0, 0.0), (0.0, 0.0)),)),  # the origin: the subgradient 0, as abs'(0)
    ElementwiseCase("arctan2", _call("arctan2"), mpmath.atan2,
                    ((1.0, 2.0), (-0.5, 1.5), (2.0, -3.0)),
                    ((1e-200, 1e-200), (1e200, -1e200), (-3.0, 1e-300)),
                    (((0.0, 0.0), (0.0, 0.0)),        # the origin: the subgradient 0
                     ((0.0, -2.0), (-0.5, 0.0)))),    # on the branch cut: one-sided, both the same
    ElementwiseCase("logaddexp", _call("logaddexp"), lambda a, b: mpmath.log(mpmath.exp(a) + mpmath.exp(b)),
                    ((0.5, -1.0), (2.0, 2.0), (-3.0, 4.0)),
                    ((-700.0, 0.0), (700.0, 699.5), (1e-20, -1e-20), (30.0, -30.0), (-699.9, 0.1))),
    ElementwiseCase("xlogy", _call("xlogy"), lambda a, b: a * mpmath.log(b),
                    ((0.5, 2.0), (-1.5, 0.3), (3.0, 7.0)),
                    ((1e-200, 1e-200), (1e-300, 1e300), (0.0, 2.5), (0.0, 1e-300))),
)
# fmt: on

CASE_BY_OP = {case.op: case for case in CASES}

#: The group's operations: every one has a case here.
GROUP = (
    "square", "hypot", "arctan2", "log2", "log10", "exp2", "logaddexp", "arccosh", "arctanh",
    "erf", "erfc", "gammaln", "digamma", "xlogy", "sign", "floor", "round",
)  # fmt: skip


def test_every_operation_of_the_group_has_a_case_and_a_row():
    assert set(CASE_BY_OP) == set(GROUP)
    assert set(GROUP) <= set(OPS)


def _weights(n: int) -> np.ndarray:
    return 1.0 + np.arange(n) / 8.0  # distinct: a gradient on the wrong element is seen


def _function(case: ElementwiseCase, n: int) -> Callable:
    w = _weights(n)

    def f(x, xp):
        args = [x[k * n : (k + 1) * n] for k in range(case.arity)]
        return xp.sum(w * case.g(xp, *args))

    f.__name__ = f"sum_of_{case.op}"
    return f


@functools.cache  # 800 digits take seconds for digamma and gamma: once, shared by the methods
def _partials(case: ElementwiseCase, args: tuple) -> tuple[float, ...]:
    """The partial derivatives of ``case.exact`` at ``args``: an 800-digit central difference.

    The step is 1e-40 relative to the coordinate (absolute at 0), so it never leaves a
    domain that starts at the coordinate's own scale (1e-300), and the truncation error
    is 1e-80 relative.  The difference of two values cancels their common digits:
    erf(26 + h) - erf(26 - h) is 1e-333 of erf(26), and 800 digits leave more than 400.
    """
    with mpmath.workdps(800):
        point = [mpmath.mpf(a) for a in args]
        partials = []
        for k in range(case.arity):

            def along(t, k=k):
                return case.exact(*point[:k], t, *point[k + 1 :])

            h = (abs(point[k]) or mpmath.mpf(1)) * mpmath.mpf(10) ** -40
            partials.append(float(mpmath.diff(along, point[k], h=h)))
        return tuple(partials)


def _problem(case: ElementwiseCase, points: list[tuple], partials: list[list[float]]):
    """``(x, expected gradient)`` for ``f`` over ``points`` with the given partials."""
    n = len(points)
    x = np.array([p[k] for k in range(case.arity) for p in points], dtype=float)
    w = _weights(n)
    expected = np.array([w[i] * partials[i][k] for k in range(case.arity) for i in range(n)])
    return x, expected


def _assert_close(got, expected, rtol, what):
    got = np.asarray(got, dtype=float)
    infinite = ~np.isfinite(expected)
    assert np.array_equal(got[infinite], expected[infinite]), f"{what}: {got} != {expected}"
    error = np.abs(got[~infinite] - expected[~infinite])
    bound = rtol * np.abs(expected[~infinite])
    assert np.all(error <= bound), f"{what}:\n got      {got}\n expected {expected}"


#: The complex step checks itself with a second step of 1e-50 and refuses a point that
#: close to a singularity: coordinates below this size are left to the other methods.
COMPLEX_STEP_NEAREST = 1e-40


def _usable(method: str, point: tuple, partials: list[float]) -> bool:
    if method != "complex_step":
        return True
    tiny = any(0 < abs(a) < COMPLEX_STEP_NEAREST for a in point)
    return not tiny and all(p == 0 or abs(p) > COMPLEX_STEP_SMALLEST for p in partials)


def _check(case: ElementwiseCase, method: str, points: list[tuple], partials: list[list[float]]):
    kept = [(p, d) for p, d in zip(points, partials, strict=True) if _usable(method, p, d)]
    if not kept:
        return
    x, expected = _problem(case, [p for p, _ in kept], [d for _, d in kept])
    with np.errstate(all="ignore"):
        got = diffcompare.grad(_function(case, len(kept)), method=method)(x)
    rtol = RTOL["central"] if method == "central" else RTOL["exact"]
    _assert_close(got, expected, rtol, f"{method} on {case.op} at {[p for p, _ in kept]}")


@pytest.mark.parametrize("method", [*EXACT, "central"])
@pytest.mark.parametrize("case", CASES, ids=lambda case: case.op)
def test_ordinary_points(case, method):
    points = list(case.ordinary)
    _check(case, method, points, [_partials(case, p) for p in points])


@pytest.mark.parametrize("method", OWN_RULES)
@pytest.mark.parametrize("case", [c for c in CASES if c.hard], ids=lambda case: case.op)
def test_hard_points(case, method):
    points = list(case.hard)
    _check(case, method, points, [_partials(case, p) for p in points])


@pytest.mark.parametrize("method", EXACT)
@pytest.mark.parametrize("case", [c for c in CASES if c.special], ids=lambda case: case.op)
def test_conventions_at_special_points(case, method):
    points = [p for p, _ in case.special]
    _check(case, method, points, [list(d) for _, d in case.special])


def test_the_check_catches_a_wrong_rule(monkeypatch):
    # Test the tester: logaddexp with its two partials swapped must fail.
    from diffcompare.methods.tape.rules import RULES

    first, second = RULES["logaddexp"]
    monkeypatch.setitem(RULES, "logaddexp", (second, first))
    case = CASE_BY_OP["logaddexp"]
    with pytest.raises(AssertionError):
        _check(case, "tape", list(case.ordinary), [_partials(case, p) for p in case.ordinary])


# --- the reference agrees: the 50-digit truth traces the SymPy spellings ----------------------


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.op)
def test_the_truth_agrees_with_mpmath(case):
    points = list(case.ordinary) + [p for p, _ in case.special]
    partials = [_partials(case, p) for p in case.ordinary] + [list(d) for _, d in case.special]
    x, expected = _problem(case, points, partials)
    reference = diffcompare.reference_gradient(_function(case, len(points)), x)
    assert reference.status == "ok", reference.message
    _assert_close(reference.value, expected, RTOL["exact"], f"truth on {case.op}")


# --- symengine: where it can, otherwise refused by name ---------------------------------------

#: What SymEngine cannot do: floor's derivative stays unevaluated, round is a SymPy
#: function it does not know, polygamma does not compile.
SYMENGINE_REFUSES = {
    "floor": "floor",
    "round": "RoundHalfEven",
    "gammaln": "polygamma",
    "digamma": "polygamma",
}


@pytest.mark.skipif(not HAVE_SYMENGINE, reason="symengine is not installed")
@pytest.mark.parametrize("case", CASES, ids=lambda case: case.op)
def test_symengine_computes_or_refuses_by_name(case):
    if case.op in SYMENGINE_REFUSES:
        with pytest.raises(NotImplementedError, match=SYMENGINE_REFUSES[case.op]):
            diffcompare.grad(_function(case, 1), method="symengine")(np.ones(case.arity) * 1.5)
        return
    points = list(case.ordinary) + [p for p, _ in case.special]
    partials = [_partials(case, p) for p in case.ordinary] + [list(d) for _, d in case.special]
    _check(case, "symengine", points, partials)


# --- xlogy at (0, 0) and the subgradient conventions written out ------------------------------


@pytest.mark.parametrize("method", ["tape", "forward", "autograd", "complex_step"])
def test_xlogy_at_the_origin_is_minus_infinity_along_x_and_zero_along_y(method):
    # xlogy(h, 0) = h log 0: d/dx = -inf; xlogy(0, y) = 0 for every y: d/dy = 0.
    with np.errstate(all="ignore"):
        got = diffcompare.grad(lambda x, xp: xp.xlogy(x[0], x[1]), method=method)(np.array([0.0, 0.0]))
    np.testing.assert_array_equal(got, [-INF, 0.0])


def _clip_bounds_traced(x, xp):
    return xp.sum(_weights(3) * xp.clip(x[:3], x[3], x[4]))


CLIP_SPELLINGS = {
    "xp.clip": _clip_bounds_traced,
    "x.clip": lambda x, xp: xp.sum(_weights(3) * x[:3].clip(x[3], x[4])),
    "np.clip": lambda x, xp: xp.sum(_weights(3) * np.clip(x[:3], x[3], x[4])),
    "keywords": lambda x, xp: xp.sum(_weights(3) * xp.clip(x[:3], min=x[3], max=x[4])),
}


@pytest.mark.parametrize("spelling", CLIP_SPELLINGS)
@pytest.mark.parametrize("method", [*EXACT, *(("symengine",) if HAVE_SYMENGINE else ())])
def test_clip_shares_the_derivative_with_a_bound_it_touches(method, spelling):
    # x = (0, 0.5, 1) between the bounds 0 and 1: the first and last touch a bound, and
    # share the derivative with it (1/2 each), as maximum and minimum share ties.
    w = _weights(3)
    expected = [w[0] / 2, w[1], w[2] / 2, w[0] / 2, w[2] / 2]
    got = diffcompare.grad(CLIP_SPELLINGS[spelling], method=method)(np.array([0.0, 0.5, 1.0, 0.0, 1.0]))
    np.testing.assert_allclose(got, expected, rtol=1e-15)


@pytest.mark.parametrize("method", ["tape", "forward", "autograd", "complex_step", "symbolic"])
def test_clip_outside_and_with_one_bound(method):
    def f(x, xp):
        return (
            xp.sum(xp.clip(x, -1.0, 1.0) * 2.0) + xp.sum(xp.clip(x, None, 0.0)) + xp.sum(xp.clip(x, max=0.0))
        )

    got = diffcompare.grad(f, method=method)(np.array([-2.0, 0.5, 3.0]))
    np.testing.assert_array_equal(got, [2.0, 2.0, 0.0])


# --- every spelling: numpy's functions, array methods, aliases, refusals ----------------------

TRACING_METHODS = ("tape", "forward", "autograd", "complex_step", "symbolic", "symbolic_vector")

#: Other spellings of the group's operations, each with the xp spelling it must equal.
SPELLINGS = {
    "np.square": (lambda x, xp: xp.sum(np.square(x)), lambda x, xp: xp.sum(xp.square(x))),
    "np.hypot": (lambda x, xp: np.hypot(x[0], x[1]), lambda x, xp: xp.hypot(x[0], x[1])),
    "xp.atan2": (lambda x, xp: xp.atan2(x[0], x[1]), lambda x, xp: xp.arctan2(x[0], x[1])),
    "np.arctan2": (lambda x, xp: np.arctan2(x[0], x[1]), lambda x, xp: xp.arctan2(x[0], x[1])),
    "np.logaddexp": (lambda x, xp: np.logaddexp(x[0], x[1]), lambda x, xp: xp.logaddexp(x[0], x[1])),
    "xp.acosh": (lambda x, xp: xp.sum(xp.acosh(x + 1.0)), lambda x, xp: xp.sum(xp.arccosh(x + 1.0))),
    "xp.atanh": (lambda x, xp: xp.sum(xp.atanh(x / 4.0)), lambda x, xp: xp.sum(xp.arctanh(x / 4.0))),
    "np.log2": (lambda x, xp: xp.sum(np.log2(x) + np.log10(x) + np.exp2(x)),
                lambda x, xp: xp.sum(xp.log2(x) + xp.log10(x) + xp.exp2(x))),
    "scipy.special.erf": (lambda x, xp: xp.sum(scipy.special.erf(x) * scipy.special.erfc(x)),
                          lambda x, xp: xp.sum(xp.erf(x) * xp.erfc(x))),
    "scipy.special.gammaln": (lambda x, xp: xp.sum(scipy.special.gammaln(x) + scipy.special.psi(x)),
                              lambda x, xp: xp.sum(xp.gammaln(x) + xp.digamma(x))),
    "scipy.special.xlogy": (lambda x, xp: scipy.special.xlogy(x[0], x[1]),
                            lambda x, xp: xp.xlogy(x[0], x[1])),
    "np.sign": (lambda x, xp: xp.sum(x * np.sign(x)), lambda x, xp: xp.sum(x * xp.sign(x))),
    "x.round": (lambda x, xp: xp.sum(x * x.round()), lambda x, xp: xp.sum(x * xp.round(x))),
    "np.round": (lambda x, xp: xp.sum(x * np.round(x)), lambda x, xp: xp.sum(x * xp.round(x))),
    "np.rint": (lambda x, xp: xp.sum(x * np.rint(x)), lambda x, xp: xp.sum(x * xp.rint(x))),
    "np.floor": (lambda x, xp: xp.sum(x * np.floor(x)), lambda x, xp: xp.sum(x * xp.floor(x))),
}  # fmt: skip

#: numpy functions a method cannot see on its values: they raise (never a wrong number).
#: The complex step's values are numpy arrays, and numpy has no complex loop for these.
NO_COMPLEX_LOOP = {"np.hypot", "np.arctan2", "np.logaddexp", "scipy.special.gammaln", "np.floor"}


@pytest.mark.parametrize("method", TRACING_METHODS)
@pytest.mark.parametrize("spelling", SPELLINGS)
def test_other_spellings_are_the_same_operation(spelling, method):
    other, xp_spelling = SPELLINGS[spelling]
    x = np.array([1.25, 2.5])
    if method == "complex_step" and spelling in NO_COMPLEX_LOOP:
        with pytest.raises(TypeError, match="not supported for the input types"):
            diffcompare.grad(other, method=method)(x)
        return
    expected = diffcompare.grad(xp_spelling, method="tape")(x)
    np.testing.assert_allclose(diffcompare.grad(other, method=method)(x), expected, rtol=1e-13)


def test_the_group_aliases_are_the_array_api_and_numpy_spellings():
    assert {alias: ALIASES[alias] for alias in ("atan2", "acosh", "atanh", "rint", "around", "psi")} == {
        "atan2": "arctan2",
        "acosh": "arccosh",
        "atanh": "arctanh",
        "rint": "round",
        "around": "round",
        "psi": "digamma",
    }


NAMESPACES = (
    numpy_namespace,
    autograd_namespace,
    tape_namespace,
    dual_namespace,
    complex_namespace,
    sympy_namespace,
    sympy_vector_namespace,
)


@pytest.mark.parametrize("xp", NAMESPACES, ids=lambda xp: xp.backend)
def test_round_refuses_decimals_by_name(xp):
    with pytest.raises(NotImplementedError, match="round with decimals=2"):
        xp.round(np.array([1.234]), 2)
    np.testing.assert_array_equal(
        np.asarray(xp.round(np.array([0.5, 1.5, 2.5, -0.5])), dtype=float), [0, 2, 2, 0]
    )


@pytest.mark.parametrize("xp", NAMESPACES, ids=lambda xp: xp.backend)
def test_values_on_plain_numbers_are_numpys_and_scipys(xp):
    # On plain float arrays every namespace computes the values numpy and scipy do.
    x, y = np.array([0.5, 1.5, 3.0]), np.array([2.0, -0.25, 0.0])
    expected = {
        "square": np.square(x), "log2": np.log2(x), "exp2": np.exp2(x), "arccosh": np.arccosh(x + 1.0),
        "erf": scipy.special.erf(x), "gammaln": scipy.special.gammaln(x), "digamma": scipy.special.digamma(x),
        "sign": np.sign(y), "floor": np.floor(x), "hypot": np.hypot(x, y), "arctan2": np.arctan2(y, x),
        "logaddexp": np.logaddexp(x, y), "xlogy": scipy.special.xlogy(y, x),
    }  # fmt: skip
    got = {
        "square": xp.square(x), "log2": xp.log2(x), "exp2": xp.exp2(x), "arccosh": xp.arccosh(x + 1.0),
        "erf": xp.erf(x), "gammaln": xp.gammaln(x), "digamma": xp.digamma(x),
        "sign": xp.sign(y), "floor": xp.floor(x), "hypot": xp.hypot(x, y), "arctan2": xp.arctan2(y, x),
        "logaddexp": xp.logaddexp(x, y), "xlogy": xp.xlogy(y, x),
    }  # fmt: skip
    for name, value in expected.items():
        np.testing.assert_allclose(np.asarray(got[name], dtype=float), value, rtol=1e-15, err_msg=name)


def test_import_diffcompare_does_not_load_scipy():
    import subprocess
    import sys

    code = "import sys, diffcompare; print('scipy' in sys.modules, 'sympy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]
