"""diffcompare.adapters.autograd.check_primitive on primitives with defvjp (and defjvp)."""

from __future__ import annotations

import numpy as np
import pytest
from autograd.extend import defjvp, defvjp, primitive

from diffcompare.adapters.autograd import check_primitive


def _scaled_log(a, b):
    return a * np.log(b)


@primitive
def scaled_log(a, b):
    return _scaled_log(a, b)


defvjp(
    scaled_log,
    lambda ans, a, b: lambda g: g * np.log(b),
    lambda ans, a, b: lambda g: g * a / b,
)


@primitive
def scaled_log_wrong(a, b):
    return _scaled_log(a, b)


# the VJP for b is 1e-3 too large in its entry 2
defvjp(
    scaled_log_wrong,
    lambda ans, a, b: lambda g: g * np.log(b),
    lambda ans, a, b: lambda g: g * a / b * np.array([1.0, 1.0, 1.001]),
)


@primitive
def row_norms(m):
    """sqrt of the row sums of squares: a matrix in, a vector out."""
    return np.sqrt(np.sum(m**2, axis=1))


defvjp(row_norms, lambda ans, m: lambda g: (g / ans)[:, None] * m)
defjvp(row_norms, lambda g, ans, m: np.sum(g * m, axis=1) / ans)


@primitive
def row_norms_wrong_jvp(m):
    return np.sqrt(np.sum(m**2, axis=1))


defvjp(row_norms_wrong_jvp, lambda ans, m: lambda g: (g / ans)[:, None] * m)
# the tangent's columns reversed: not the adjoint of the (correct) VJP
defjvp(row_norms_wrong_jvp, lambda g, ans, m: np.sum(g[:, ::-1] * m, axis=1) / ans)


@primitive
def no_vjp(x):
    return x


def _point(seed):
    rng = np.random.default_rng(seed)
    return rng.uniform(-2.0, 2.0, 3), rng.uniform(0.5, 3.0, 3)


def test_correct_primitive_passes():
    a, b = _point(0)
    result = check_primitive(scaled_log, a, b)
    assert result.verdict == "pass", str(result)
    assert result.checked == 3 * 6 and "scaled_log" in result.notes[0]


def test_wrong_vjp_fails_naming_the_entry():
    a, b = _point(1)
    result = check_primitive(scaled_log_wrong, a, b)
    assert result.verdict == "fail"
    assert {m.index for m in result.mismatches} == {5}  # b[2], after the 3 entries of a
    assert result.name.startswith("inputs[1][2] of (J^T u)[5]")
    assert result.rel_error == pytest.approx(1e-3, rel=1e-6)


def test_matrix_input_and_jvp():
    m = np.random.default_rng(2).uniform(0.5, 2.0, (3, 4))
    good = check_primitive(row_norms, m)
    assert good.verdict == "pass" and "dot-product test" in good.notes[0], str(good)
    bad = check_primitive(row_norms_wrong_jvp, m)
    assert bad.verdict == "fail" and bad.reason.startswith("jvp and vjp are not adjoint")
    assert bad.mismatches == ()  # the VJP itself is right


def test_fast_mode_also_fails_a_wrong_vjp():
    a, b = _point(3)
    assert check_primitive(scaled_log_wrong, a, b, mode="fast").verdict == "fail"
    assert check_primitive(scaled_log, a, b, mode="fast").verdict == "pass"


@pytest.mark.parametrize(
    ("call", "kind", "match"),
    [
        (lambda: check_primitive(np.sin, np.ones(2)), TypeError, "fun must be an autograd primitive"),
        (lambda: check_primitive(no_vjp, np.ones(2)), ValueError, "fun no_vjp has no VJP"),
        (lambda: check_primitive(scaled_log), ValueError, "inputs: give at least one"),
        (lambda: check_primitive(scaled_log, ["a"], [1.0]), TypeError, r"inputs\[0\] must hold real"),
        (lambda: check_primitive(scaled_log, [1.0], [np.inf]), ValueError, r"inputs\[1\] must be finite"),
        (lambda: check_primitive(scaled_log, [1.0], [2.0], seed=-1), TypeError, "seed must be"),
    ],
)
def test_bad_arguments(call, kind, match):
    with pytest.raises(kind, match=match):
        call()
