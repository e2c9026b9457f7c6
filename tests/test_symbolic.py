"""The symbolic method's expressions, sizes and generated code are inspectable and exact."""

from __future__ import annotations

import numpy as np
import sympy

import diffcompare
from diffcompare.symbolic import trace


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
