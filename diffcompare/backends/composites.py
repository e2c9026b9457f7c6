"""Stable formulas for the operations numpy and autograd lack, written once.

Each builder takes an array module (``numpy`` or ``autograd.numpy``) and returns the
operation built from that module's primitives, so autograd differentiates exactly the
formula numpy evaluates.
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType


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
