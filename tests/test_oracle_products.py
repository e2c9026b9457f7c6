"""check_jvp, check_vjp and the dot-product test check_jvp_vjp."""

from __future__ import annotations

import numpy as np
import pytest

import diffcompare


def g(x):
    return np.array([x[0] * x[1], np.sin(x[0]), np.sum(x**2), np.exp(x[2]) * x[1]])


def jacobian(x):
    return np.array(
        [
            [x[1], x[0], 0.0],
            [np.cos(x[0]), 0.0, 0.0],
            2 * x,
            [0.0, np.exp(x[2]), np.exp(x[2]) * x[1]],
        ]
    )


def g_xp(x, xp):
    return xp.stack([x[0] * x[1], xp.sin(x[0]), xp.sum(x**2), xp.exp(x[2]) * x[1]])


X = np.array([1.0, 2.0, -0.5])


def off_by(entry, relative):
    def wrong(x):
        jac = jacobian(x)
        jac[entry] *= 1 + relative
        return jac

    return wrong


@pytest.mark.parametrize("mode", ["full", "fast"])
@pytest.mark.parametrize("form", [g, g_xp], ids=["black_box", "xp"])
def test_correct_products_pass(mode, form):
    assert diffcompare.check_jvp(form, lambda x, t: jacobian(x) @ t, X, mode=mode).verdict == "pass"
    assert diffcompare.check_vjp(form, lambda x, u: jacobian(x).T @ u, X, mode=mode).verdict == "pass"


@pytest.mark.parametrize("relative", [1e-3, 1e-6])
def test_wrong_jvp_entry_is_named(relative):
    wrong = off_by((3, 2), relative)
    result = diffcompare.check_jvp(g, lambda x, t: wrong(x) @ t, X)
    assert result.verdict == "fail" and result.index == (3, 2) and result.check == "JVP"
    assert result.message().startswith("JVP check fail: 1 of 12 entries mismatch")
    fast = diffcompare.check_jvp(g, lambda x, t: wrong(x) @ t, X, mode="fast")
    assert fast.verdict == "fail" and fast.index == 3


@pytest.mark.parametrize("relative", [1e-3, 1e-6])
def test_wrong_vjp_component_is_named(relative):
    wrong = off_by((0, 1), relative)
    result = diffcompare.check_vjp(g, lambda x, u: wrong(x).T @ u, X)
    assert result.verdict == "fail" and result.index == 1 and result.name.startswith("(J^T u)[1]")
    fast = diffcompare.check_vjp(g, lambda x, u: wrong(x).T @ u, X, mode="fast")
    assert fast.verdict == "fail" and "Repro: x = np.array([1.0, 2.0, -0.5])" in fast.message()


def test_complex_step_is_used_when_g_is_analytic_and_dropped_when_not():
    analytic = diffcompare.check_jvp(g, lambda x, t: jacobian(x) @ t, X)
    assert "complex_step" in analytic.references
    kinked = diffcompare.check_jvp(lambda x: np.abs(x), lambda x, t: np.sign(x) * t, X)
    assert kinked.verdict == "pass" and "complex_step" not in kinked.references
    assert any("no complex step" in note for note in kinked.notes)


def test_dot_product_test_sees_a_tiny_inconsistency_without_differences():
    jvp = lambda x, t: jacobian(x) @ t  # noqa: E731
    assert diffcompare.check_jvp_vjp(g, jvp, lambda x, u: jacobian(x).T @ u, X).verdict == "pass"
    result = diffcompare.check_jvp_vjp(g, jvp, lambda x, u: jacobian(x).T @ u * (1 + 1e-10), X)
    assert result.verdict == "fail" and result.reason.startswith("jvp and vjp are not adjoint")
    assert result.evaluations == 1  # g only gave m
    # a transposition bug in the vjp (J u read as J^T u) fails check_vjp with jvp= even
    # before any reference is consulted
    square = lambda x: np.array([x[0] * x[1], x[1] ** 2 * x[2], x[0]])  # noqa: E731
    jac = lambda x: np.array([[x[1], x[0], 0.0], [0.0, 2 * x[1] * x[2], x[1] ** 2], [1.0, 0.0, 0.0]])  # noqa: E731
    result = diffcompare.check_vjp(square, lambda x, u: jac(x) @ u, X, jvp=lambda x, t: jac(x) @ t)
    assert result.verdict == "fail" and "not adjoint" in result.reason


def test_assert_forms():
    diffcompare.assert_jvp_correct(g, lambda x, t: jacobian(x) @ t, X)
    diffcompare.assert_vjp_correct(g, lambda x, u: jacobian(x).T @ u, X)
    with pytest.raises(AssertionError, match="JVP check fail"):
        diffcompare.assert_jvp_correct(g, lambda x, t: -jacobian(x) @ t, X)
    with pytest.raises(AssertionError, match="VJP check fail"):
        diffcompare.assert_vjp_correct(g, lambda x, u: jacobian(x).T @ (2 * u), X)


@pytest.mark.parametrize(
    "call, error, text",
    [
        (lambda: diffcompare.check_jvp(None, lambda x, t: t, X), TypeError, "g must be"),
        (lambda: diffcompare.check_jvp(g, "jvp", X), TypeError, "jvp must be callable"),
        (lambda: diffcompare.check_jvp(g, lambda x, t: t, X), ValueError, "jvp must give shape"),
        (lambda: diffcompare.check_vjp(g, lambda x, u: u, X), ValueError, "vjp must give shape"),
        (lambda: diffcompare.check_vjp(g, lambda x, u: x, X, jvp=3), TypeError, "jvp must be callable"),
        (lambda: diffcompare.check_jvp(g, lambda x, t: t, X, mode="quick"), ValueError, "mode"),
        (lambda: diffcompare.check_jvp(g, lambda x, t: t, X, complex_step="yes"), ValueError, "complex_step"),
        (lambda: diffcompare.check_jvp(lambda x: 1.0, lambda x, t: t, X), ValueError, "1-d array"),
        (lambda: diffcompare.check_jvp_vjp(g, lambda x, t: t, None, X), TypeError, "vjp must be callable"),
        (lambda: diffcompare.check_jvp(g, lambda x, t: t, X, seed=-1), TypeError, "seed"),
    ],
)
def test_bad_input_is_refused_by_name(call, error, text):
    with pytest.raises(error, match=text):
        call()
