"""The operation table of a numpy-like array module, built once for numpy and autograd.

``autograd.numpy`` mirrors numpy's names, so one builder serves both backends; the
operations numpy lacks (sigmoid, softplus, logsumexp) are stable formulas written with
the module's own primitives, so autograd differentiates exactly the formula numpy
evaluates.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from types import ModuleType

import numpy as np


def make_sigmoid(m: ModuleType) -> Callable:
    # exp(-|x|) never overflows; the two branches are the same function, each free of
    # cancellation on its own half-line, and both are finite everywhere (so the
    # derivative of the unused branch cannot turn into nan through `where`).
    def sigmoid(x):
        e = m.exp(-m.abs(x))
        return m.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))

    return sigmoid


def make_softplus(m: ModuleType) -> Callable:
    # log(1 + exp(x)) = max(x, 0) + log1p(exp(-|x|)): no overflow for large x and no
    # loss of the tiny result exp(x) for very negative x.
    def softplus(x):
        return m.maximum(x, 0.0) + m.log1p(m.exp(-m.abs(x)))

    return softplus


def make_logsumexp(m: ModuleType) -> Callable:
    # Shifting by the maximum keeps every exp() in [0, 1]; the shift cancels exactly in
    # the mathematics, so its derivative contributes nothing but rounding.
    def logsumexp(x, axis=None, keepdims=False):
        shift = m.max(x, axis=axis, keepdims=True)
        out = m.log(m.sum(m.exp(x - shift), axis=axis, keepdims=True)) + shift
        if keepdims:
            return out
        return m.reshape(out, m.shape(m.sum(x, axis=axis)))

    return logsumexp


def array_module_functions(m: ModuleType, asarray: Callable) -> dict[str, Callable]:
    """Every operation of :mod:`diffcompare.ops` taken from array module ``m``.

    Constructors other than ``asarray`` always come from numpy: they build constants.
    """
    # fmt: off
    return {
        "negative": m.negative, "abs": m.abs, "exp": m.exp, "expm1": m.expm1,
        "log": m.log, "log1p": m.log1p, "sqrt": m.sqrt,
        "sin": m.sin, "cos": m.cos, "tan": m.tan,
        "arcsin": m.arcsin, "arccos": m.arccos, "arctan": m.arctan,
        "sinh": m.sinh, "cosh": m.cosh, "tanh": m.tanh,
        "sigmoid": make_sigmoid(m), "softplus": make_softplus(m),
        "add": m.add, "subtract": m.subtract, "multiply": m.multiply,
        "divide": m.divide, "power": m.power,
        "maximum": m.maximum, "minimum": m.minimum, "where": m.where,
        "sum": m.sum, "mean": m.mean, "max": m.max, "logsumexp": make_logsumexp(m),
        "matmul": m.matmul, "getitem": operator.getitem,
        "reshape": m.reshape, "transpose": m.transpose,
        "concatenate": m.concatenate, "stack": m.stack,
        "asarray": asarray, "zeros": np.zeros, "ones": np.ones, "arange": np.arange,
        "eye": np.eye,
    }
    # fmt: on
