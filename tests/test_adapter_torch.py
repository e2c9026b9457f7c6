"""diffcompare.adapters.torch.check_function on custom torch.autograd.Functions."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="torch is not installed (extra 'torch')")

from diffcompare.adapters.torch import check_function  # noqa: E402


def _scale_and_square(a, b):
    """The outputs: (a * sin(b) broadcast over the rows of a, sum(a) * b**2)."""
    return a * torch.sin(b), a.sum() * b**2


class ScaleAndSquare(torch.autograd.Function):
    """Two inputs (a 2x3 matrix and a 3-vector), two outputs, saved tensors."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return _scale_and_square(a, b)

    @staticmethod
    def backward(ctx, grad_first, grad_second):
        a, b = ctx.saved_tensors
        grad_a = grad_first * torch.sin(b) + (grad_second * b**2).sum()
        grad_b = (grad_first * a * torch.cos(b)).sum(0) + grad_second * 2 * a.sum() * b
        return grad_a, grad_b


class WrongEntry(ScaleAndSquare):
    """As ScaleAndSquare, but the gradient of b[1] is 1e-3 too large."""

    @staticmethod
    def backward(ctx, grad_first, grad_second):
        grad_a, grad_b = ScaleAndSquare.backward(ctx, grad_first, grad_second)
        return grad_a, grad_b * torch.tensor([1.0, 1.001, 1.0], dtype=torch.float64)


class ExpWithJvp(torch.autograd.Function):
    """exp with a backward and a forward-mode jvp."""

    @staticmethod
    def forward(ctx, x):
        y = torch.exp(x)
        ctx.save_for_backward(y)
        ctx.save_for_forward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad * y

    @staticmethod
    def jvp(ctx, tangent):
        (y,) = ctx.saved_tensors
        return tangent * y


class ExpWithWrongJvp(ExpWithJvp):
    """The jvp of exp(x) reversed along x: correct backward, a jvp that is not its adjoint."""

    @staticmethod
    def jvp(ctx, tangent):
        (y,) = ctx.saved_tensors
        return tangent.flip(0) * y


def _inputs(seed):
    rng = np.random.default_rng(seed)
    return torch.tensor(rng.uniform(0.5, 2.0, (2, 3))), rng.uniform(-1.0, 1.0, 3)


def test_correct_function_passes():
    a, b = _inputs(0)
    result = check_function(ScaleAndSquare, a, b)
    assert result.verdict == "pass", str(result)
    assert result.check == "VJP" and result.checked == 3 * 9  # three random u, 9 input entries
    assert "ScaleAndSquare.backward" in result.notes[0] and "inputs[0] (2, 3)" in result.notes[0]


def test_wrong_backward_fails_naming_the_entry():
    a, b = _inputs(1)
    result = check_function(WrongEntry, a, b)
    assert result.verdict == "fail"
    # only b[1] (flat component 7 of x = [a.ravel(), b]) is wrong, for every random u
    assert {m.index for m in result.mismatches} == {7}
    assert result.name.startswith("inputs[1][1] of (J^T u)[7]")
    assert "inputs[1][1]" in result.message()
    assert result.rel_error == pytest.approx(1e-3, rel=1e-6)


def test_jvp_is_checked_against_backward():
    x = torch.tensor([0.3, -1.2, 2.0], dtype=torch.float64)
    good = check_function(ExpWithJvp, x)
    assert good.verdict == "pass" and "dot-product test" in good.notes[0]
    bad = check_function(ExpWithWrongJvp, x)
    assert bad.verdict == "fail" and bad.reason.startswith("jvp and vjp are not adjoint")
    # the backward itself agrees with the differences: no entry of J^T u mismatches
    assert bad.mismatches == ()


def test_function_without_jvp_skips_the_dot_product_test():
    a, b = _inputs(2)
    assert "dot-product" not in check_function(ScaleAndSquare, a, b).notes[0]


def test_float32_inputs_are_checked_in_float64():
    a, b = _inputs(3)
    result = check_function(ScaleAndSquare, a.float(), b.astype(np.float32))
    # a float64 claim is held to float64 rounding: 1024 ulps of its scale
    assert result.verdict == "pass" and result.tolerance < 1e-11


@pytest.mark.parametrize(
    ("call", "kind", "match"),
    [
        (lambda: check_function(lambda x: x, torch.ones(2)), TypeError, "fn_class must be a subclass"),
        (lambda: check_function(ScaleAndSquare), ValueError, "inputs: give at least one"),
        (
            lambda: check_function(ExpWithJvp, torch.ones(2, dtype=torch.complex128)),
            TypeError,
            r"inputs\[0\]",
        ),
        (lambda: check_function(ExpWithJvp, [1.0, np.nan]), ValueError, r"inputs\[0\] must be finite"),
        (lambda: check_function(ExpWithJvp, np.ones(0)), ValueError, r"inputs\[0\] must not be empty"),
        (lambda: check_function(ExpWithJvp, [1.0], mode="slow"), ValueError, "mode must be"),
    ],
)
def test_bad_arguments(call, kind, match):
    with pytest.raises(kind, match=match):
        call()
