"""The operation tables: every operation exists in every backend and has a tape rule."""

from __future__ import annotations

import numpy as np
import pytest

from diffcompare.methods.autograd.namespace import autograd_namespace
from diffcompare.methods.symbolic.namespace import sympy_namespace
from diffcompare.methods.tape.namespace import tape_namespace
from diffcompare.methods.tape.rules import RULES, Outputs, Variadic
from diffcompare.ops import ALIASES, CONSTANTS, CONSTRUCTORS, DERIVED, OPS
from diffcompare.ops.namespace import Namespace, UnsupportedOperationError
from diffcompare.ops.numpy_namespace import numpy_namespace
from diffcompare.ops.table import Refused

NAMESPACES = [numpy_namespace, autograd_namespace, sympy_namespace, tape_namespace]


@pytest.mark.parametrize("xp", NAMESPACES, ids=lambda xp: xp.backend)
def test_every_operation_is_callable_in_every_backend(xp):
    for name in list(OPS) + list(CONSTRUCTORS) + list(ALIASES) + list(DERIVED):
        assert callable(getattr(xp, name)), (xp.backend, name)
    for name, value in CONSTANTS.items():
        assert getattr(xp, name) == value


def test_every_operation_has_a_tape_rule_and_nothing_else_does():
    assert set(RULES) == set(OPS)
    for name, rule in RULES.items():
        if isinstance(rule, Variadic):
            continue
        for rules in rule.results if isinstance(rule, Outputs) else (rule,):
            assert len(rules) >= 1, name


def test_aliases_point_to_real_operations_and_share_one_rule():
    for alias, target in ALIASES.items():
        assert target in OPS or target in DERIVED, alias
        assert alias not in OPS and alias not in DERIVED, alias
        assert getattr(tape_namespace, alias) is getattr(tape_namespace, target)
        assert getattr(numpy_namespace, alias) is getattr(numpy_namespace, target)


def test_operation_domains_cover_every_elementwise_argument():
    for spec in OPS.values():
        if spec.kind in ("unary", "binary"):
            assert len(spec.domain) == (1 if spec.kind == "unary" else 2), spec.name
            for interval, factor in zip(spec.domain, spec.derivative, strict=True):
                if interval is None:  # only an argument that is never differentiated
                    assert isinstance(factor, Refused), spec.name
                    continue
                assert interval[0] < interval[1], spec.name


def test_a_namespace_must_cover_exactly_the_table():
    functions = {name: np.exp for name in list(OPS) + list(CONSTRUCTORS)}
    del functions["exp"]
    with pytest.raises(ValueError, match=r"missing \['exp'\]"):
        Namespace("broken", functions)
    functions["exp"] = np.exp
    functions["no_such_operation"] = np.exp
    with pytest.raises(ValueError, match=r"unknown \['no_such_operation'\]"):
        Namespace("broken", functions)


def test_missing_operations_are_not_implemented_and_hasattr_still_works():
    with pytest.raises(UnsupportedOperationError, match="tape does not support 'fft': it is no op"):
        _ = tape_namespace.fft
    assert isinstance(UnsupportedOperationError("x"), NotImplementedError)
    assert not hasattr(numpy_namespace, "fft")


@pytest.mark.parametrize("name", ["sigmoid", "softplus"])
def test_numpy_special_functions_are_overflow_free(name):
    fn = getattr(numpy_namespace, name)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        values = fn(np.array([-800.0, -40.0, 0.0, 40.0, 800.0]))
    assert np.all(np.isfinite(values))


def test_numpy_logsumexp_is_shifted():
    x = np.array([[1000.0, 1000.0], [-1000.0, -1000.0]])
    np.testing.assert_allclose(
        numpy_namespace.logsumexp(x, axis=1), [1000.0 + np.log(2), -1000.0 + np.log(2)]
    )
    assert numpy_namespace.logsumexp(x, axis=1, keepdims=True).shape == (2, 1)


def test_sympy_comparisons_stay_symbolic():
    import sympy

    x = np.array(sympy.symbols("a b", real=True), dtype=object)
    from diffcompare.methods.symbolic.namespace import SymbolicArray

    condition = x.view(SymbolicArray) > 0
    assert all(isinstance(c, sympy.core.relational.Relational) for c in condition.tolist())


def _every_namespace():
    from diffcompare.methods.complex_step.namespace import complex_namespace
    from diffcompare.methods.forward.namespace import dual_namespace
    from diffcompare.methods.symbolic_vector.namespace import sympy_vector_namespace

    return [*NAMESPACES, dual_namespace, complex_namespace, sympy_vector_namespace]


def test_derived_operations_are_neither_primitives_nor_aliases():
    assert not set(DERIVED) & (set(OPS) | set(ALIASES))


@pytest.mark.parametrize("xp", _every_namespace(), ids=lambda xp: xp.backend)
def test_dot_is_numpys_dot_for_every_number_of_axes(xp):
    # numpy's dot is matmul only when both operands have 1 or 2 axes: for N-d operands it
    # pairs every matrix of a with every matrix of b (a tensordot), and with a 0-d
    # operand it is a product.
    a, b = np.arange(6.0).reshape(2, 3), np.arange(12.0).reshape(3, 4)
    cube, stack = np.arange(12.0).reshape(2, 2, 3), np.arange(24.0).reshape(2, 3, 4)
    cases = [(a, b), (a[0], b), (a, b[:, 0]), (a[0], a[1]), (cube, b), (a, stack), (cube, stack), (2.0, b)]
    for left, right in cases:
        expected = np.dot(left, right)
        got = np.asarray(xp.dot(left, right), dtype=float)
        assert got.shape == expected.shape, (np.shape(left), np.shape(right))
        np.testing.assert_array_equal(got, expected)
