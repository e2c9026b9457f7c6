"""Derivative rules on the memory layouts and shapes an operand can arrive in.

Regression tests of rules that were wrong for one layout (a transposed view with
batch axes) or one spelling of an argument, each against an exact gradient.
"""

from __future__ import annotations

import numpy as np
import pytest

import diffcompare

#: The engines whose rules are under test, by method name.
ENGINES = ("tape", "forward")

#: The witness the engines are compared with (an independent implementation of the rules).
WITNESS = "autograd"


# --- regressions ------------------------------------------------------------------------------


def test_regression_matmul_of_a_batch_times_a_transposed_matrix():
    # Issue 12, defect 1: xp.matmul(A, reshape(x, (3, 3)).T) with a constant A of shape
    # (3, 2, 3).  The tape's fast path for a transposed right operand reversed all three
    # axes of the batched gradient (tape and autograd differed by 22.4).  The function is
    # linear, sum_{b,i,j} W[b,i,j] sum_k A[b,i,k] X[j,k], so its gradient with respect to
    # X is sum_{b,i} W[b,i,j] A[b,i,k], exact in a few flops.
    a = np.arange(18.0).reshape(3, 2, 3) / 7.0 - 1.0
    w = 1.0 + np.arange(18.0).reshape(3, 2, 3) / 8.0

    def f(x, xp):
        return xp.sum(xp.matmul(a, xp.reshape(x, (3, 3)).T) * w)

    expected = np.einsum("bij,bik->jk", w, a).ravel()
    for method in (*ENGINES, WITNESS):
        got = diffcompare.grad(f, method=method)(np.linspace(-1.0, 1.0, 9))
        np.testing.assert_allclose(got, expected, rtol=1e-14, atol=1e-14, err_msg=method)


@pytest.mark.parametrize("shape", [(2, 3, 4), (3, 3, 3)])
@pytest.mark.parametrize("axes", [(-1, 0, 1), (1, -1, 0)])
def test_regression_transpose_with_negative_axes(axes, shape):
    # Found with the layout tests: the tape and autograd both invert the permutation with
    # argsort(axes), which orders -1 first; with (-1, 0, 1) that is the identity.  On
    # (2, 3, 4) the tape failed to unbroadcast, on (3, 3, 3) both were silently wrong.
    # f = sum(W * transpose(X, axes)) is linear; its gradient is W moved back.
    w = 1.0 + np.arange(24.0 if shape == (2, 3, 4) else 27.0) / 8.0
    w = w.reshape(np.transpose(np.empty(shape), axes).shape)

    def f(x, xp):
        return xp.sum(xp.transpose(xp.reshape(x, shape), axes) * w)

    expected = np.transpose(w, np.argsort([axis % 3 for axis in axes])).ravel()
    for method in (*ENGINES, WITNESS):
        got = diffcompare.grad(f, method=method)(np.linspace(-1.0, 1.0, w.size))
        np.testing.assert_array_equal(got, expected, err_msg=method)
