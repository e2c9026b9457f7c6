"""Vector-Jacobian products of the tape's primitives: one line per operation.

``RULES[op]`` is a tuple with one entry per argument: a function
``rule(g, ans, *args, **params)`` returning the gradient with respect to that argument
(in the broadcast shape; the walk undoes broadcasting), or ``None`` where the argument
is not differentiable (a condition).  Operations that take any number of arrays
(``concatenate``, ``stack``) have a single :class:`Variadic` rule that also receives
the argument's position.

Where two formulas are equal in exact arithmetic, the table uses the one that keeps
its digits in float64 (comments at each such line).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..backends.numpy_backend import NUMPY_FUNCTIONS

__all__ = ["RULES", "Scatter", "Variadic"]

_sigmoid = NUMPY_FUNCTIONS["sigmoid"]


@dataclass(frozen=True)
class Variadic:
    """A rule ``rule(index, g, ans, *args, **params)`` shared by every argument."""

    rule: Callable


class Scatter:
    """The gradient of ``x[key]`` with respect to ``x``: ``g`` placed at ``key``.

    The walk adds it into the parent's gradient buffer in place, instead of building a
    zero array the size of ``x`` for every slice taken of it (an MLP's flat parameter
    vector is sliced into four blocks, 100,000 entries each time).
    """

    __slots__ = ("key", "g")

    def __init__(self, key: Any, g: Any):
        self.key = key
        self.g = g

    def add_into(self, buffer: np.ndarray) -> None:
        if _basic(self.key):
            buffer[self.key] += self.g  # distinct positions: plain indexing adds once each
        else:
            np.add.at(buffer, self.key, self.g)  # an index array may repeat a position


def _basic(key: Any) -> bool:
    """Whether ``key`` is basic indexing (ints, slices), which never repeats a position."""
    if type(key) is slice:
        return True
    parts = key if isinstance(key, tuple) else (key,)
    return all(isinstance(p, (int, np.integer, slice)) or p is None or p is Ellipsis for p in parts)


def _reduced_to_input(g, x, axis, keepdims):
    """Reshape a reduction's output gradient so it broadcasts against the input."""
    if axis is not None and not keepdims:
        g = np.expand_dims(g, axis)
    return g


def _sum_rule(g, ans, x, axis=None, keepdims=False):
    # A broadcasting assignment into a new array: np.broadcast_to costs 5 us a call,
    # more than the whole rest of the rule on small arrays.
    grad = np.empty(np.shape(x))
    grad[...] = _reduced_to_input(g, x, axis, keepdims)
    return grad


def _mean_rule(g, ans, x, axis=None, keepdims=False):
    return _sum_rule(g, ans, x, axis, keepdims) * (np.size(ans) / np.size(x))


def _max_rule(g, ans, x, axis=None, keepdims=False):
    # Ties share the gradient equally (the subgradient numpy users expect from autograd).
    hit = x == _reduced_to_input(ans, x, axis, keepdims)
    share = hit / np.sum(hit, axis=axis, keepdims=True)
    return _reduced_to_input(g, x, axis, keepdims) * share


def _logsumexp_rule(g, ans, x, axis=None, keepdims=False):
    # softmax(x) = e / sum(e) with e = exp(x - max x): every e is in (0, 1], so nothing
    # overflows, and unlike exp(x - lse) no rounding error of lse is amplified by exp.
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    softmax = e / np.sum(e, axis=axis, keepdims=True)
    return _reduced_to_input(g, x, axis, keepdims) * softmax


def _tanh_rule(g, ans, x):
    # tanh' = 1 - tanh^2 rounds to 0 once |tanh| rounds to 1 (|x| > 19), and 1/cosh^2
    # overflows past |x| = 355; 4 e / (1 + e)^2 with e = exp(-2|x|) keeps full relative
    # accuracy down to the underflow threshold.
    e = np.exp(-2.0 * np.abs(x))
    return g * (4.0 * e / (1.0 + e) ** 2)


def _power_base_rule(g, ans, x, y):
    # y * x**(y - 1), with the exponent 0 case kept finite at x = 0 (0 * inf would be nan).
    if type(y) in (int, float) and y != 0:  # a constant exponent, as in x**2: no where
        return g * (y * x if y == 2 else y * np.power(x, y - 1))
    return g * y * np.power(x, np.where(y == 0, 1.0, np.subtract(y, 1.0)))


def _power_exponent_rule(g, ans, x, y):
    # d/dy x**y = log(x) x**y; at x = 0 the limit is 0 (log replaced by log 1).
    return g * np.log(np.where(x == 0, 1.0, x)) * ans


def _balanced(x, ans, other):
    # 1 where x alone is the result, 1/2 on ties, 0 where the other argument won.
    return (x == ans) / (1.0 + (x == other))


def _as_matrices(g, a, b):
    a2 = a[np.newaxis, :] if np.ndim(a) == 1 else a
    b2 = b[:, np.newaxis] if np.ndim(b) == 1 else b
    batch = np.broadcast_shapes(np.shape(a2)[:-2], np.shape(b2)[:-2])
    return a2, b2, np.reshape(g, batch + (np.shape(a2)[-2], np.shape(b2)[-1]))


def _matmul_left_rule(g, ans, a, b):
    a2, b2, g2 = _as_matrices(g, a, b)
    grad = np.matmul(g2, np.swapaxes(b2, -1, -2))
    return grad[..., 0, :] if np.ndim(a) == 1 else grad


def _matmul_right_rule(g, ans, a, b):
    a2, b2, g2 = _as_matrices(g, a, b)
    if g2.ndim == 2 and np.ndim(b) == 2 and b.flags.f_contiguous and not b.flags.c_contiguous:
        # b is a transposed view (h @ w.T): return (g^T a)^T, laid out like b, so that
        # the transpose and reshape back to w's storage are views, not a strided copy.
        # Only without batch axes: with them, .T would reverse the batch axes too, and
        # the sum over the batch is left to the walk's unbroadcast.
        return np.matmul(np.swapaxes(g2, -1, -2), a2).T
    grad = np.matmul(np.swapaxes(a2, -1, -2), g2)
    return grad[..., :, 0] if np.ndim(b) == 1 else grad


def _getitem_rule(g, ans, x, key):
    # Placed into the gradient of x by the walk (see Scatter), summing where a key
    # repeats an index.
    return Scatter(key, g)


def _transpose_rule(g, ans, x, axes=None):
    if axes is None:
        return np.transpose(g)
    # The inverse permutation; negative axes first made non-negative, or argsort would
    # order (-1, 0, 1) as if it were the identity.
    return np.transpose(g, np.argsort([axis % np.ndim(x) for axis in axes]))


def _concatenate_rule(index, g, ans, *arrays, axis=0):
    stops = np.cumsum([np.shape(a)[axis] for a in arrays])
    start = stops[index] - np.shape(arrays[index])[axis]
    return np.take(g, np.arange(start, stops[index]), axis=axis)


def _stack_rule(index, g, ans, *arrays, axis=0):
    return np.take(g, index, axis=axis)


# fmt: off
RULES: dict[str, tuple[Callable | None, ...] | Variadic] = {
    "negative":    (lambda g, ans, x: -g,),
    "abs":         (lambda g, ans, x: g * np.sign(x),),
    "exp":         (lambda g, ans, x: g * ans,),
    "expm1":       (lambda g, ans, x: g * np.exp(x),),  # not ans + 1: cancels for x << 0
    "log":         (lambda g, ans, x: g / x,),
    "log1p":       (lambda g, ans, x: g / (1.0 + x),),
    "sqrt":        (lambda g, ans, x: g / (2.0 * ans),),
    "sin":         (lambda g, ans, x: g * np.cos(x),),
    "cos":         (lambda g, ans, x: -g * np.sin(x),),
    "tan":         (lambda g, ans, x: g / np.cos(x) ** 2,),
    # (1 - x)(1 + x), not 1 - x*x: near |x| = 1 the product keeps every digit.
    "arcsin":      (lambda g, ans, x: g / np.sqrt((1.0 - x) * (1.0 + x)),),
    "arccos":      (lambda g, ans, x: -g / np.sqrt((1.0 - x) * (1.0 + x)),),
    "arctan":      (lambda g, ans, x: g / (1.0 + x * x),),
    "sinh":        (lambda g, ans, x: g * np.cosh(x),),
    "cosh":        (lambda g, ans, x: g * np.sinh(x),),
    "tanh":        (_tanh_rule,),
    # s(x) s(-x), not s (1 - s): 1 - s cancels once s is close to 1.
    "sigmoid":     (lambda g, ans, x: g * ans * _sigmoid(-x),),
    "softplus":    (lambda g, ans, x: g * _sigmoid(x),),
    "add":         (lambda g, ans, a, b: g, lambda g, ans, a, b: g),
    "subtract":    (lambda g, ans, a, b: g, lambda g, ans, a, b: -g),
    "multiply":    (lambda g, ans, a, b: g * b, lambda g, ans, a, b: g * a),
    # -ans / b, not -a / b**2: b**2 overflows or underflows long before ans does.
    "divide":      (lambda g, ans, a, b: g / b, lambda g, ans, a, b: -g * ans / b),
    "power":       (_power_base_rule, _power_exponent_rule),
    "maximum":     (lambda g, ans, a, b: g * _balanced(a, ans, b), lambda g, ans, a, b: g * _balanced(b, ans, a)),
    "minimum":     (lambda g, ans, a, b: g * _balanced(a, ans, b), lambda g, ans, a, b: g * _balanced(b, ans, a)),
    "where":       (None, lambda g, ans, c, a, b: np.where(c, g, 0.0), lambda g, ans, c, a, b: np.where(c, 0.0, g)),
    "sum":         (_sum_rule,),
    "mean":        (_mean_rule,),
    "max":         (_max_rule,),
    "logsumexp":   (_logsumexp_rule,),
    "matmul":      (_matmul_left_rule, _matmul_right_rule),
    "getitem":     (_getitem_rule,),
    "reshape":     (lambda g, ans, x, shape: np.reshape(g, np.shape(x)),),
    "transpose":   (_transpose_rule,),
    "concatenate": Variadic(_concatenate_rule),
    "stack":       Variadic(_stack_rule),
}
# fmt: on
