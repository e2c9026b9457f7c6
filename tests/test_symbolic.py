"""The symbolic method's expressions, sizes and generated code are inspectable and exact."""

from __future__ import annotations

import inspect
from fractions import Fraction

import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

import diffcompare
from diffcompare.methods.symbolic.gradient import powers_with_limits, trace


def test_expressions_sizes_and_source_are_available():
    compiled = diffcompare.symbolic_gradient(lambda x, xp: xp.sum(xp.sin(x) ** 2), 2)
    x0, x1 = compiled.symbols
    assert compiled.expression == sympy.sin(x0) ** 2 + sympy.sin(x1) ** 2
    assert compiled.gradient == (2 * sympy.sin(x0) * sympy.cos(x0), 2 * sympy.sin(x1) * sympy.cos(x1))
    assert compiled.ops == 8
    assert "def _lambdifygenerated" in compiled.source


def test_cse_shrinks_repeated_subexpressions():
    def nested(x, xp):
        inner = xp.exp(xp.sin(x[0] * x[1]))
        return inner * inner + xp.log(1.0 + inner)

    compiled = diffcompare.symbolic_gradient(nested, 2)
    assert compiled.cse_ops < compiled.ops


def test_float_constants_keep_every_bit():
    # SymPy prints floats with 15 digits; 0.1 * 3 needs all 17 to round-trip.
    compiled = diffcompare.symbolic_gradient(lambda x, xp: 0.30000000000000004 * x[0] * x[0], 1)
    assert compiled(np.array([1.0]))[0] == 2 * 0.30000000000000004


def test_float64_constants_enter_the_expression_exactly():
    _, expression = trace(lambda x, xp: 0.1 * x[0], 1)
    (constant,) = expression.atoms(sympy.Float)
    assert sympy.Float(constant, 30) == sympy.Float(0.1, 30)  # the binary value, not 1/10


def test_where_becomes_piecewise_and_differentiates_per_branch():
    g = diffcompare.grad(lambda x, xp: xp.sum(xp.where(x > 0, x**2, -x)), "symbolic")
    np.testing.assert_array_equal(g(np.array([3.0, -2.0])), [6.0, -1.0])


def test_gradient_of_a_constant_function_is_zero():
    np.testing.assert_array_equal(diffcompare.grad(lambda x, xp: 2.5, "symbolic")([1.0, 2.0]), [0.0, 0.0])


def test_a_maximum_of_linear_forms_has_a_condition_against_zero():
    # Found by the fuzzer: as `2.0*x0 + x1 >= x1 - 2.0*x0` this condition sent SymPy's
    # canonical ordering into endless recursion; as a difference against 0 it is stable.
    # At the tie (x0 = 0) the mean of the two, x1, shares the derivative equally.
    _, expression = trace(lambda x, xp: xp.maximum(2.0 * x[0] + x[1], x[1] - 2.0 * x[0]), 2)
    assert str(expression) == "Piecewise((2.0*x0 + x1, 4.0*x0 > 0), (-2.0*x0 + x1, 4.0*x0 < 0), (x1, True))"


# Selections between two linear forms a and b: the operation, and whether a is chosen
# (in exact arithmetic) given the exact values of a and b.
# fmt: off
SELECTIONS = {
    "maximum": (lambda a, b, xp: xp.maximum(a, b),                lambda a, b: a >= b),
    "minimum": (lambda a, b, xp: xp.minimum(a, b),                lambda a, b: a <= b),
    "where":   (lambda a, b, xp: xp.where(a > b, a, b),           lambda a, b: a > b),
    "max":     (lambda a, b, xp: xp.max(xp.stack([a, b])),        lambda a, b: a >= b),
    "where<":  (lambda a, b, xp: xp.where(a < b, a, b),           lambda a, b: a < b),
}
# fmt: on

# Selections that give tied arguments half the derivative each.
TIE_SHARING = ("maximum", "minimum", "max")

# Small coefficients with few bits, as the fuzzer draws them (they made SymPy recurse
# in about a quarter of all pairs), and arbitrary ones.
COEFFICIENTS = st.one_of(st.sampled_from([-2.0, -1.5, -1.0, -0.5, 0.5, 1.0, 1.5, 2.0, 2.7]), st.floats(-4, 4))


@pytest.mark.parametrize("name", sorted(SELECTIONS))
def test_selections_between_linear_forms_differentiate_exactly(name):
    select, takes_a = SELECTIONS[name]

    @settings(max_examples=25, deadline=None)
    @given(
        p=st.lists(COEFFICIENTS, min_size=4, max_size=4),
        x=st.lists(st.floats(-3, 3), min_size=2, max_size=2),
    )
    def check(p, x):
        def f(v, xp):
            return select(p[0] * v[0] + v[1] * p[1], v[1] * p[3] - p[2] * v[0], xp)

        gradient = diffcompare.symbolic_gradient(f, 2)(np.array(x))
        exact_p, exact_x = [Fraction(c) for c in p], [Fraction(c) for c in x]
        a = exact_p[0] * exact_x[0] + exact_p[1] * exact_x[1]
        b = exact_p[3] * exact_x[1] - exact_p[2] * exact_x[0]
        slopes = {True: [p[0], p[1]], False: [-p[2], p[3]]}
        # The compiled condition is the float64 difference a - b, with SymPy's
        # coefficients rounded to double: within its rounding of 0 either branch may win,
        # and maximum, minimum and max may find a tie, where the two share the slope.
        rounding = 1e-14 * (abs(a) + abs(b) + sum(abs(c) for c in exact_p))
        allowed = [slopes[takes_a(a, b)]] if abs(a - b) > rounding else list(slopes.values())
        if abs(a - b) <= rounding and name in TIE_SHARING:
            allowed.append(list((np.array(slopes[True]) + slopes[False]) / 2))
        assert any(np.allclose(gradient, slope, rtol=1e-15, atol=0) for slope in allowed), (p, x, gradient)

    check()


def test_powers_get_their_limits_only_where_they_are_differentiated():
    x, y = sympy.symbols("x y", real=True)
    unchanged = x**2 + 2**y + sympy.sqrt(x)  # numeric exponent, nonzero numeric base
    assert powers_with_limits(unchanged) is unchanged
    selected = sympy.Piecewise((x**y, x**y < 1), (y, True))
    rewritten = powers_with_limits(selected)
    assert rewritten.args[0].cond == selected.args[0].cond  # the condition keeps its power
    assert rewritten.args[0].expr != x**y and rewritten.args[0].expr.has(sympy.Ne(x, 0))
    assert sympy.diff(rewritten, y).subs({x: 0, y: 2}) == 0
    assert sympy.diff(rewritten, x).subs({x: 0, y: 2}) == 0
    assert sympy.diff(rewritten, x).subs({x: 0, y: 1}) == 1


@pytest.mark.parametrize(
    ("make", "printed"),
    [
        (lambda a, b, c: -a + b, "b - a"),  # swapped: one subtraction, not a negation and an add
        (lambda a, b, c: -a + b + c, "b - a + c"),  # ((b - a) + c) == ((-a + b) + c) bit for bit
        (lambda a, b, c: a - b, "a - b"),  # already first: left alone
        (lambda a, b, c: -a - b, "-a - b"),  # nothing positive to lead
        (lambda a, b, c: -a + sympy.erf(b), "erf(b) - a"),  # the scipy printer too
    ],
)
def test_a_sum_is_printed_with_a_positive_term_first(make, printed):
    from diffcompare.methods.symbolic.gradient import lambdify_numpy

    a, b, c = sympy.symbols("a b c", real=True)
    expression = make(a, b, c)
    function = lambdify_numpy((a, b, c), [expression], sympy.cse([expression]))
    assert f"return [{printed}]" in inspect.getsource(function)
    rng = np.random.default_rng(17)
    values = [rng.standard_normal(1000) * 10.0 ** rng.integers(-20, 20, 1000) for _ in range(3)]
    (result,) = function(*values)
    plain = sympy.lambdify((a, b, c), expression, modules=["numpy", "scipy"])
    np.testing.assert_array_equal(result, plain(*values))  # the same bits
