"""The reference against an independent high-precision witness, and its statuses."""

from __future__ import annotations

import mpmath
import numpy as np
import pytest
import sympy
from conftest import SUITE_NAMES

import diffcompare
from diffcompare.accuracy import ulp_error
from diffcompare.reference import MAX_REFERENCE_DIM, PreparedReference
from diffcompare.symbolic import trace


def _witness(f, x):
    """mpmath.diff of f itself at 60 digits: no sympy.diff involved."""
    symbols, expression = trace(f, len(x))
    evaluate = sympy.lambdify([symbols], expression, modules="mpmath")
    point = [mpmath.mpf(float(v)) for v in x]
    out = []
    with mpmath.workdps(60):
        for i in range(len(x)):

            def along(t, i=i):
                moved = list(point)
                moved[i] = moved[i] + t
                return evaluate(moved)

            out.append(float(mpmath.diff(along, 0)))
    return np.array(out)


@pytest.mark.parametrize("name", SUITE_NAMES)
def test_reference_matches_numerical_differentiation_at_60_digits(name):
    (record,) = diffcompare.suite([name])
    point = record.points[0]
    reference = diffcompare.reference_gradient(record.f, point)
    assert reference.status == "ok"
    assert np.all(ulp_error(reference.value, _witness(record.f, point)) <= 1)


def test_cancellation_beyond_100_digits_is_resolved():
    # 1 - tanh(x)^2 at 360 cancels 312 digits: plain 50- and 100-digit evaluations both
    # give 0; the certified evaluation must not.
    value = diffcompare.reference_gradient(lambda x, xp: xp.sum(xp.tanh(x)), [360.0]).value
    assert value[0] > 0


def test_singular_point_is_a_status_not_a_number():
    result = diffcompare.reference_gradient(lambda x, xp: xp.sum(xp.log(x)), [0.0, 1.0])
    assert result.status == "nonfinite"
    assert result.value is None
    assert "infinite" in result.message or "zoo" in result.message


def test_complex_derivative_is_nonfinite():
    result = diffcompare.reference_gradient(lambda x, xp: xp.sum(xp.sqrt(x)), [-1.0])
    assert result.status == "nonfinite"


def test_overflowing_derivative_is_flagged():
    result = diffcompare.reference_gradient(lambda x, xp: xp.sum(xp.exp(x)), [710.0])
    assert result.status == "nonfinite"
    assert "overflows float64" in result.message


def test_too_many_coordinates_is_said_not_faked():
    prepared = PreparedReference(lambda x, xp: xp.sum(x**2), MAX_REFERENCE_DIM + 1)
    result = prepared(np.ones(MAX_REFERENCE_DIM + 1))
    assert result.status == "too_large"
    assert result.value is None
    assert "exceeds" in result.message


def test_the_reference_is_deterministic():
    (record,) = diffcompare.suite(["mlp_loss"])
    first = diffcompare.reference_gradient(record.f, record.points[1]).value
    second = diffcompare.reference_gradient(record.f, record.points[1]).value
    np.testing.assert_array_equal(first, second)
