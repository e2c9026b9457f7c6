"""Derivative rules on the memory layouts and shapes an operand can arrive in.

Regression tests of rules that were wrong for one layout (a transposed view with
batch axes) or one spelling of an argument, each against an exact gradient.
"""

from __future__ import annotations

import numpy as np

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
