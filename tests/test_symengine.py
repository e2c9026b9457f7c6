"""Method ``"symengine"``: SymPy trace, SymEngine derivative, compiled; exact or refused."""

from __future__ import annotations

import functools
import signal
import sys
import time

import numpy as np
import pytest
import sympy
from conftest import HAVE_SYMENGINE, SUITE_NAMES

import diffcompare
import diffcompare.methods.symengine.gradient as symengine_module
from diffcompare.budget import BudgetExceeded, time_budget
from diffcompare.harness.run import HarnessOptions, run_function
from diffcompare.methods import METHODS
from diffcompare.methods.symengine.gradient import (
    KINK_REWRITES,
    SYMENGINE_MISSING,
    kinks_as_piecewise,
    symengine_gradient,
)
from diffcompare.truth.accuracy import normwise_relative_error
from diffcompare.truth.reference import PreparedReference

if HAVE_SYMENGINE:
    import symengine

# The rewrite to Piecewise is SymPy alone, and a missing package is simulated: those
# tests run without symengine, the others need it.
needs_symengine = pytest.mark.skipif(not HAVE_SYMENGINE, reason="symengine is not installed")

# Normwise error allowed against the 50-digit reference, as for the other exact methods
# (tests/test_suite_accuracy.py), and between SymEngine's gradient and the tape's.
NORMWISE_BOUND = 1e-14
TAPE_AGREEMENT = 2 * NORMWISE_BOUND


@functools.cache
def ordinary_truths(name: str) -> tuple[tuple[np.ndarray, np.ndarray, np.ndarray], ...]:
    """``(point, reference gradient, tape gradient)`` at each ordinary point of suite function ``name``."""
    (record,) = diffcompare.suite([name])
    reference = PreparedReference(record.f, record.dim)
    tape = METHODS["tape"].prepare(record.f, record.dim).gradient
    truths = []
    for point in record.points:
        truth = reference(point)
        assert truth.status == "ok", (name, point, truth.message)
        truths.append((point, truth.value, tape(point)))
    return tuple(truths)


def assert_accurate(gradient, name: str) -> None:
    """``gradient`` matches the reference and the tape at the suite function's ordinary points.

    Raises
    ------
    AssertionError
        Naming the function, the point and the error, if it does not.
    """
    for point, reference, tape in ordinary_truths(name):
        value = gradient(point)
        assert value.dtype == np.float64 and value.shape == point.shape, (name, value.dtype, value.shape)
        error = normwise_relative_error(value, reference)
        assert error <= NORMWISE_BOUND, f"symengine on {name} at {point.tolist()}: {error:.3g}"
        to_tape = normwise_relative_error(value, tape)
        assert to_tape <= TAPE_AGREEMENT, f"symengine vs tape on {name} at {point.tolist()}: {to_tape:.3g}"


@needs_symengine
@pytest.mark.parametrize("name", SUITE_NAMES)
def test_every_suite_function_matches_the_reference_and_the_tape(name):
    (record,) = diffcompare.suite([name])
    assert_accurate(METHODS["symengine"].prepare(record.f, record.dim).gradient, name)


@needs_symengine
@pytest.mark.parametrize("backend", ["llvm", "lambda"])
@pytest.mark.parametrize("name", ["kinks", "piecewise_where", "rosenbrock", "softmax_cross_entropy"])
def test_both_compiled_backends_are_exact(name, backend):
    if backend == "llvm" and not symengine.have_llvm:
        pytest.skip("this symengine was built without LLVM")
    (record,) = diffcompare.suite([name])
    compiled = symengine_gradient(record.f, record.dim, backend=backend)
    assert compiled.backend == backend
    assert_accurate(compiled, name)


@needs_symengine
def test_details_say_which_backend_compiled():
    details = METHODS["symengine"].prepare(lambda x, xp: xp.sum(xp.sin(x)), 3).details
    assert details["backend"] == ("llvm" if symengine.have_llvm else "lambda")
    assert details["terms"] == 3 and details["symengine_ops"] == 3


@needs_symengine
def test_an_unknown_backend_is_refused():
    with pytest.raises(ValueError, match="backend must be one of 'llvm', 'lambda' or None; got 'gcc'"):
        symengine_gradient(lambda x, xp: x[0], 1, backend="gcc")


# ---------------------------------------------------------------------------------------
# Kinks: SymEngine cannot differentiate abs, sign, max or min; rewritten as Piecewise
# they give SymPy's one-sided derivatives, also exactly on the kink.
# ---------------------------------------------------------------------------------------

# fmt: off
KINKED = {
    "abs":            lambda x, xp: xp.sum(xp.abs(x) * x),
    "nested abs":     lambda x, xp: xp.abs(xp.abs(x[0]) - 1.0) * x[1],
    "sqrt of square": lambda x, xp: xp.sqrt(x[0] ** 2) + x[1],  # SymPy makes it Abs(x0)
    "maximum":        lambda x, xp: xp.maximum(x[0], 2.0 * x[1]),
    "minimum":        lambda x, xp: xp.minimum(x[0] ** 2, x[1]),
    "max":            lambda x, xp: xp.max(xp.abs(x) * 2.0),
    "where":          lambda x, xp: xp.sum(xp.where(x > 0, x**2, -x)),
    "abs in where":   lambda x, xp: xp.where(xp.abs(x[1]) > 1, x[1] ** 2, x[0] * x[1]),
    "max in where":   lambda x, xp: xp.where(xp.maximum(x[0], x[1]) > 0, x[0] ** 2, x[1]),  # an ITE
    "nested maximum": lambda x, xp: xp.minimum(xp.maximum(x[0], x[1]), 0.5 * x[0]),
}
# fmt: on

# Ordinary points, ties and points on the kinks.
KINK_POINTS = [[-2.0, 3.0], [-2.0, 0.5], [1.0, 1.0], [0.0, 0.5], [0.0, 0.0], [-1.0, -1.0], [1.0, 0.5]]


@needs_symengine
@pytest.mark.parametrize("name", list(KINKED))
def test_kinked_functions_match_the_symbolic_method_everywhere(name):
    f = KINKED[name]
    compiled = symengine_gradient(f, 2)
    symbolic = diffcompare.symbolic_gradient(f, 2)
    for point in map(np.array, KINK_POINTS):
        np.testing.assert_array_equal(compiled(point), symbolic(point), err_msg=f"{name} at {point}")


@needs_symengine
def test_kinks_known_values():
    # d/dx (|x0| + |x1| + |x2|) + maximum(x0, x1) - 2 minimum(x1, x2), by hand.
    (record,) = diffcompare.suite(["kinks"])
    compiled = symengine_gradient(record.f, 3)
    np.testing.assert_array_equal(compiled(np.array([-1.0, 2.0, 3.0])), [-1.0, 0.0, 1.0])
    np.testing.assert_array_equal(compiled(np.array([1.0, -2.0, -3.0])), [2.0, -1.0, -3.0])
    # sign(0) = 0, and at the two ties each argument gets half: [1/2, 1/2, 0] - 2 [0, 1/2, 1/2]
    np.testing.assert_array_equal(compiled(np.array([0.0, 0.0, 0.0])), [0.5, -0.5, -1.0])


X, Y = sympy.symbols("x y", real=True)

# fmt: off
REWRITTEN = {
    "Abs":          sympy.Abs(X - 1),
    "sign":         sympy.sign(X) * Y,
    "Heaviside":    sympy.Heaviside(X) * Y,
    "Heaviside H0": sympy.Heaviside(X, 0) * Y,
    "Max":          sympy.Max(X, Y, 2 * X),
    "Min":          sympy.Min(X, Y),
    "nested":       sympy.Abs(sympy.Max(X, Y) - sympy.Abs(Y)),
}
# fmt: on
GRID = [-1.5, -1.0, 0.0, 0.5, 1.0, 2.0]


def differentiated_parts(expression: sympy.Basic) -> list:
    """Every subexpression of ``expression`` outside the conditions of its Piecewise."""
    parts, stack = [], [expression]
    while stack:
        node = stack.pop()
        parts.append(node)
        stack.extend([p.expr for p in node.args] if isinstance(node, sympy.Piecewise) else node.args)
    return parts


def test_every_rewrite_rule_is_tested():
    assert {f for e in REWRITTEN.values() for f in KINK_REWRITES if e.has(f)} == set(KINK_REWRITES)


@pytest.mark.parametrize("name", list(REWRITTEN))
def test_rewriting_keeps_the_value_and_removes_the_kink_functions(name):
    expression = REWRITTEN[name]
    rewritten = kinks_as_piecewise(expression)
    assert not any(isinstance(part, tuple(KINK_REWRITES)) for part in differentiated_parts(rewritten))
    for x in GRID:
        for y in GRID:
            at = {X: x, Y: y}
            assert float(rewritten.subs(at)) == float(expression.subs(at)), (name, x, y)


@pytest.mark.parametrize("name", list(REWRITTEN))
def test_rewritten_derivatives_are_sympys_away_from_ties(name):
    expression = REWRITTEN[name]
    rewritten = kinks_as_piecewise(expression)
    for s in (X, Y):
        for x in GRID:
            for y in GRID:
                at = {X: x + 0.25, Y: y + 0.125}  # off every kink of these expressions
                expected = sympy.diff(expression, s).subs(at)
                assert float(sympy.diff(rewritten, s).subs(at)) == float(expected), (name, s, x, y)


def test_conditions_are_left_alone():
    condition = sympy.Abs(X) > 1
    expression = sympy.Piecewise((sympy.Abs(Y), condition), (Y, True))
    rewritten = kinks_as_piecewise(expression)
    assert rewritten.args[0].cond == condition
    assert not rewritten.args[0].expr.has(sympy.Abs)


def test_an_expression_without_kinks_is_returned_as_it_is():
    expression = sympy.sin(X) * Y
    assert kinks_as_piecewise(expression) is expression


# ---------------------------------------------------------------------------------------
# Never a wrong number: what SymEngine cannot differentiate is refused.
# ---------------------------------------------------------------------------------------


@needs_symengine
def test_an_undifferentiated_function_is_refused_by_name():
    def floored(x, xp):
        return sympy.floor(x[0].item()) + x[1]

    with pytest.raises(
        NotImplementedError,
        match=r"symengine cannot differentiate floor in floored: "
        r"the derivative by x\[0\] keeps Derivative\(floor\(x\[0\]\), x\[0\]\)",
    ):
        symengine_gradient(floored, 2)


@needs_symengine
def test_without_its_rewrite_abs_is_refused_not_differentiated(monkeypatch):
    monkeypatch.delitem(KINK_REWRITES, sympy.Abs)
    (record,) = diffcompare.suite(["kinks"])
    refusal = r"cannot differentiate abs in kinks: the derivative by x\[0\] keeps Derivative\(abs\(x\[0\]\)"
    with pytest.raises(NotImplementedError, match=refusal):
        METHODS["symengine"].prepare(record.f, record.dim)


@needs_symengine
def test_a_sympy_function_symengine_does_not_know_is_refused():
    # symengine.diff would give 0 for Ei(x0): it treats a foreign function as a constant.
    def exponential_integral(x, xp):
        return sympy.Ei(x[0].item()) + x[1]

    with pytest.raises(NotImplementedError, match="cannot differentiate Ei in exponential_integral: Ei"):
        symengine_gradient(exponential_integral, 2)


# ---------------------------------------------------------------------------------------
# The tester: a wrong rule or a dropped term must fail assert_accurate.
# ---------------------------------------------------------------------------------------


@needs_symengine
def test_a_wrong_abs_rule_fails_the_accuracy_check(monkeypatch):
    def abs_without_the_minus(values, tests):
        (u,), (test,) = values, tests
        return sympy.Piecewise((u, sympy.Gt(test, 0)), (u, True))

    monkeypatch.setitem(KINK_REWRITES, sympy.Abs, abs_without_the_minus)
    (record,) = diffcompare.suite(["kinks"])
    with pytest.raises(AssertionError, match="symengine on kinks"):
        assert_accurate(symengine_gradient(record.f, record.dim), "kinks")


@needs_symengine
@pytest.mark.parametrize("name", ["rosenbrock", "kinks", "styblinski_tang"])
def test_a_dropped_term_fails_the_accuracy_check(monkeypatch, name):
    convert = symengine_module._to_symengine

    def dropping_the_last_term(expression, symbols, name):
        converted, engine_symbols = convert(expression, symbols, name)
        return symengine.add(*converted.args[:-1]), engine_symbols

    monkeypatch.setattr(symengine_module, "_to_symengine", dropping_the_last_term)
    (record,) = diffcompare.suite([name])
    with pytest.raises(AssertionError, match=f"symengine on {name}"):
        assert_accurate(symengine_gradient(record.f, record.dim), name)


# ---------------------------------------------------------------------------------------
# Constants, sums and sizes.
# ---------------------------------------------------------------------------------------


@needs_symengine
def test_float_constants_keep_every_bit():
    compiled = symengine_gradient(lambda x, xp: 0.30000000000000004 * x[0] * x[0], 1)
    assert compiled(np.array([1.0]))[0] == 2 * 0.30000000000000004


@needs_symengine
def test_products_of_constants_fold_in_100_digits_and_round_once():
    # The derivative of x**49 / 49.0 is 49 * c * x**48 with c = 1/49.0.  Folded in
    # float64, 49 * fl(1/49) is 1 - 2^-53; folded with c's 100 digits and rounded once,
    # it is 1, as in the symbolic method and the reference.
    assert 49.0 * (1.0 / 49.0) != 1.0
    compiled = symengine_gradient(lambda x, xp: x[0] ** 49 / 49.0, 1)
    assert compiled(np.array([1.0]))[0] == 1.0


@needs_symengine
def test_a_constant_function_and_an_unused_coordinate_have_zero_partials():
    np.testing.assert_array_equal(symengine_gradient(lambda x, xp: 2.5, 2)(np.array([1.0, 2.0])), [0.0, 0.0])
    np.testing.assert_array_equal(symengine_gradient(lambda x, xp: x[0] ** 2, 3)(np.ones(3)), [2.0, 0.0, 0.0])


@needs_symengine
def test_a_sum_is_differentiated_term_by_term():
    (record,) = diffcompare.suite(["rosenbrock"])
    big = record.resized(200)
    compiled = symengine_gradient(big.f, big.dim)
    assert compiled.terms == 2 * 199  # the traced sum collects into 100 (...)^2 and (1 - ...)^2 terms
    tape = diffcompare.grad(big.f, "tape")
    for point in big.points:
        assert normwise_relative_error(compiled(point), tape(point)) <= TAPE_AGREEMENT


@needs_symengine
@needs_symengine
@pytest.mark.parametrize("backend", ["llvm", "lambda"])
@pytest.mark.parametrize("used", [0, 1, 2])
def test_an_unused_input_is_not_taken_for_a_cse_temporary(used, backend):
    # Found by the fuzzer: Lambdify's CSE named exp(-x2) "x0", and the compiled gradient
    # of sigmoid(x2) read the input x0 in its place.
    if backend == "llvm" and not symengine.have_llvm:
        pytest.skip("this symengine was built without LLVM")

    def sigmoid_of_one(x, xp):
        return xp.sigmoid(x[used]) + xp.sigmoid(x[used]) ** 2

    x = np.array([0.4294233279801185, -0.49405366249090976, 1.207604827943229])
    s = 1.0 / (1.0 + np.exp(-x[used]))
    expected = np.zeros(3)
    expected[used] = (1 + 2 * s) * s * (1 - s)
    compiled = symengine_gradient(sigmoid_of_one, 3, backend=backend)
    np.testing.assert_allclose(compiled(x), expected, rtol=1e-15, atol=0)


@needs_symengine
def test_grad_uses_it_by_name():
    g = diffcompare.grad(lambda x, xp: xp.sum(xp.abs(x) ** 3), "symengine")
    np.testing.assert_array_equal(g([-2.0, 1.0]), [-12.0, 3.0])


# ---------------------------------------------------------------------------------------
# Without the package: a clear NotImplementedError, an ``unsupported`` harness row.
# ---------------------------------------------------------------------------------------


def test_without_symengine_prepare_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "symengine", None)  # import symengine now fails
    with pytest.raises(NotImplementedError) as raised:
        METHODS["symengine"].prepare(lambda x, xp: xp.sum(x**2), 2)
    assert str(raised.value) == SYMENGINE_MISSING
    assert SYMENGINE_MISSING == (
        "method 'symengine' needs the symengine package: pip install diffcompare[symengine]"
    )


def test_without_symengine_the_harness_reports_unsupported(monkeypatch):
    monkeypatch.setitem(sys.modules, "symengine", None)
    (record,) = diffcompare.suite(["booth"])
    rows = run_function(record, HarnessOptions(methods=("symengine", "tape"), timing=False, budget_s=20.0))
    symengine_rows = [row for row in rows if row["method"] == "symengine"]
    assert symengine_rows and all(row["status"] == "unsupported" for row in symengine_rows)
    assert all("pip install diffcompare[symengine]" in row["message"] for row in symengine_rows)


@needs_symengine
@pytest.mark.skipif(not hasattr(signal, "setitimer"), reason="time_budget runs unlimited without setitimer")
def test_a_budget_expiring_inside_symengine_is_budget_exceeded(monkeypatch):
    # symengine.sympify loses the alarm's exception when it lands in one of its isinstance
    # checks and goes on into the wrong branch: AttributeError: 'Integer' object has no
    # attribute 'as_base_exp' (seen under the harness's budget, a few times in a hundred).
    def sympify_losing_the_alarm(expression):
        deadline = time.monotonic() + 2.0
        try:
            while time.monotonic() < deadline:
                pass
        except BudgetExceeded:
            pass
        raise AttributeError("'Integer' object has no attribute 'as_base_exp'")

    monkeypatch.setattr(symengine, "sympify", sympify_losing_the_alarm)
    with pytest.raises(BudgetExceeded) as caught:
        with time_budget(0.05):
            symengine_gradient(lambda x, xp: xp.sum(x**2), 2)
    assert isinstance(caught.value.__cause__, AttributeError)


def test_a_derivative_symengine_cannot_compile_is_refused_by_name():
    # Found by the fuzzer (seed 6982 before the elementwise group changed its draws):
    # |sqrt(u)| ** v, whose Piecewise form keeps a (-sqrt(u)) ** v branch that is never
    # taken but holds a complex infinity, which Lambdify refuses.
    def f(x, xp):
        return xp.abs(xp.sqrt(x[0])) ** x[1]

    with pytest.raises(NotImplementedError, match="SymEngine cannot compile the derivative.*infinity"):
        METHODS["symengine"].prepare(f, 2)


@needs_symengine
def test_a_gradient_too_large_for_llvm_is_compiled_by_the_lambda_backend(monkeypatch):
    monkeypatch.setattr(symengine_module, "LLVM_MAX_OPS", 10)
    (rosenbrock,) = diffcompare.suite(["rosenbrock"])
    compiled = symengine_gradient(rosenbrock.f, 6)
    assert compiled.backend == "lambda" and compiled.ops > 10
    x = np.linspace(-1.2, 1.3, 6)
    tape = METHODS["tape"].prepare(rosenbrock.f, 6).gradient
    np.testing.assert_allclose(compiled(x), tape(x), rtol=1e-14)


@needs_symengine
def test_more_coordinates_than_it_compiles_are_declined_before_any_work(monkeypatch):
    def must_not_be_traced(x, xp):
        raise AssertionError("traced")

    with pytest.raises(NotImplementedError, match=r"compiles at most 2,000 coordinates; got 2,001"):
        symengine_gradient(must_not_be_traced, 2001)
