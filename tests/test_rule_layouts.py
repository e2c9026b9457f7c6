"""Derivative rules on the memory layouts and shapes an operand can arrive in.

Regression tests of rules that were wrong for one layout (a transposed view with
batch axes) or one spelling of an argument, each against an exact gradient.
"""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

import diffcompare


def _have(package: str) -> bool:
    return importlib.util.find_spec(package) is not None


#: The engines whose rules are under test, by method name.
ENGINES = ("tape", "forward")

#: The witness the engines are compared with (an independent implementation of the rules).
WITNESS = "autograd"

# Normwise relative tolerances: max |got - expected| <= rtol * max |expected|.  Two
# exact methods differ only by rounding in a few operations on values of order 1
# (about 1e-15).  Central differences with the cbrt(eps) step are accurate to about
# eps^(2/3) = 4e-11 relative to |f| (see diffcompare.finite_difference.central_step);
# f is a weighted sum of at most a few dozen sines, so 1e-7 leaves a wide margin.  A
# layout bug is an error of order 1.
RTOL = {"exact": 1e-12, "central": 1e-7}


def _assert_close(got, expected, rtol, what):
    error = np.max(np.abs(got - expected))
    scale = np.max(np.abs(expected))
    assert error <= rtol * scale, f"{what}: error {error:.3g} (scale {scale:.3g})\n{got}\n{expected}"


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


_DOT_SHAPES = ((2, 3, 4), (2, 4, 3))


def _dot_operands(x, xp):
    return xp.reshape(x[:24], _DOT_SHAPES[0]), xp.reshape(x[24:], _DOT_SHAPES[1])


#: sum(dot(a, b)**2) written with numpy's dot and with the namespace's.
DOT_SPELLINGS = {
    "np.dot": lambda x, xp: xp.sum(np.dot(*_dot_operands(x, xp)) ** 2),
    "xp.dot": lambda x, xp: xp.sum(xp.dot(*_dot_operands(x, xp)) ** 2),
}

#: Methods that trace N-d arrays (the vectorised symbolic form refuses the reshapes).
_N_D_METHODS = [
    m for m in diffcompare.METHODS if m != "symbolic_vector" and (m != "symengine" or _have("symengine"))
]

_DOT_REFUSAL = r"^dot of operands of shapes \(2, 3, 4\) and \(2, 4, 3\): dot is supported for 1-d and 2-d"

#: The engines that see np.dot through __array_function__ and refuse N-d operands;
#: every other method evaluates np.dot with numpy itself (on floats, complex numbers,
#: SymPy expressions or autograd's boxes), which is numpy's dot.
_REFUSE_NUMPY_DOT = ("tape", "forward")


@pytest.mark.parametrize("spelling", DOT_SPELLINGS)
@pytest.mark.parametrize("method", _N_D_METHODS)
def test_regression_dot_of_n_d_operands_is_numpys_dot_or_refused(method, spelling):
    # Issue 12, defect 3: dot was an alias of matmul, but for N-d operands numpy's dot
    # pairs every matrix of a with every matrix of b (shape (2, 3, 2, 3) here), matmul
    # pairs them batch by batch (2, 3, 3); np.dot on the tape was recorded as matmul
    # (74.31 in numpy against 40.00 on the tape).  Every method must compute numpy's dot
    # or refuse, naming dot and the shapes.  Exact gradient, with d = dot(a, b):
    # d/da[i,j,m] = 2 sum_{k,l} d[i,j,k,l] b[k,m,l], d/db[k,m,l] = 2 sum_{i,j} d[i,j,k,l] a[i,j,m].
    x = np.linspace(-1.0, 1.0, 48)
    gradient = diffcompare.grad(DOT_SPELLINGS[spelling], method=method)
    if spelling == "xp.dot" or method in _REFUSE_NUMPY_DOT:
        with pytest.raises(NotImplementedError, match=_DOT_REFUSAL):
            gradient(x)
        return
    a, b = _dot_operands(x, np)
    d = np.einsum("ijm,kml->ijkl", a, b)
    expected = 2.0 * np.concatenate(
        [np.einsum("ijkl,kml->ijm", d, b).ravel(), np.einsum("ijkl,ijm->kml", d, a).ravel()]
    )
    _assert_close(gradient(x), expected, RTOL["central"], method)
