"""diffcompare.adapters.jax.check_custom_derivative on jax.custom_vjp and custom_jvp."""

from __future__ import annotations

import numpy as np
import pytest

jax = pytest.importorskip("jax", reason="jax is not installed (extra 'jax')")
jnp = jax.numpy

from diffcompare.adapters.jax import check_custom_derivative  # noqa: E402


def _scaled_sine(a, b):
    return a * jnp.sin(b), jnp.sum(a) * b**2


def _vjp_rule(error):
    """The VJP of _scaled_sine, with entry 1 of b's gradient multiplied by 1 + error."""

    def backward(residuals, cotangent):
        a, b = residuals
        first, second = cotangent
        grad_a = first * jnp.sin(b) + jnp.sum(second * b**2)
        grad_b = first * a * jnp.cos(b) + second * 2 * jnp.sum(a) * b
        return grad_a, grad_b * jnp.array([1.0, 1.0 + error, 1.0])

    return backward


scaled_sine = jax.custom_vjp(_scaled_sine)
scaled_sine.defvjp(lambda a, b: (_scaled_sine(a, b), (a, b)), _vjp_rule(0.0))
scaled_sine_wrong = jax.custom_vjp(_scaled_sine)
scaled_sine_wrong.defvjp(lambda a, b: (_scaled_sine(a, b), (a, b)), _vjp_rule(1e-3))


def _softplus(x):
    return jnp.logaddexp(0.0, x)


softplus = jax.custom_jvp(_softplus)
softplus.defjvp(lambda primals, tangents: (_softplus(*primals), jax.nn.sigmoid(primals[0]) * tangents[0]))
softplus_wrong = jax.custom_jvp(_softplus)
# the derivative of softplus at -x: a wrong rule, reached through jax's transpose of it
softplus_wrong.defjvp(
    lambda primals, tangents: (_softplus(*primals), jax.nn.sigmoid(-primals[0]) * tangents[0])
)


def _point(seed):
    rng = np.random.default_rng(seed)
    return rng.uniform(0.5, 2.0, 3), rng.uniform(-1.0, 1.0, 3)


def test_correct_custom_vjp_passes_in_float64():
    a, b = _point(0)
    result = check_custom_derivative(scaled_sine, a, b)
    assert result.verdict == "pass", str(result)
    assert result.tolerance < 1e-11  # judged as float64, whatever jax's default
    assert "jax.custom_vjp" in result.notes[0]
    assert jnp.zeros(1).dtype == jnp.float32  # the caller's setting is left alone


def test_wrong_custom_vjp_fails_naming_the_entry():
    a, b = _point(1)
    result = check_custom_derivative(scaled_sine_wrong, a, b)
    assert result.verdict == "fail"
    assert {m.index for m in result.mismatches} == {4}  # b[1], after the 3 entries of a
    assert result.name.startswith("inputs[1][1] of (J^T u)[4]")


def test_custom_jvp_rule_is_checked_through_its_transpose():
    x = np.random.default_rng(2).uniform(-3.0, 3.0, 4)
    good = check_custom_derivative(softplus, x)
    assert good.verdict == "pass" and "dot-product test" in good.notes[0]
    bad = check_custom_derivative(softplus_wrong, x)
    assert bad.verdict == "fail" and len(bad.mismatches) > 0


def test_bad_arguments():
    with pytest.raises(TypeError, match="fun must be a jax.custom_vjp or jax.custom_jvp"):
        check_custom_derivative(jnp.sin, np.ones(2))
    with pytest.raises(ValueError, match="inputs: give at least one"):
        check_custom_derivative(softplus)
