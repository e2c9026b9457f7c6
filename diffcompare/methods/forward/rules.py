"""Jacobian-vector products of the primitives: one line per operation.

Tangents carry ``k`` directions at once, on a leading axis: the tangent of a value of
shape ``s`` has shape ``(k,) + s``.  ``JVP_RULES[op]`` is a tuple with one entry per
argument: a function ``rule(t, ans, *args, **params)`` mapping that argument's tangent
``t`` to its contribution to the output's tangent (``apply`` adds the contributions
up), or ``None`` where the argument is not differentiable (a condition).  For the
elementwise operations ``t`` arrives already aligned with the output (see
:func:`~diffcompare.methods.forward.dual.align_tangent`), so a factor of the argument's shape
broadcasts against it from the right.  Operations that take any number of arrays
(``concatenate``, ``stack``) have a single :class:`Variadic` rule that receives every
argument's tangent at once.

The formulas are those of the tape's VJP table (:mod:`diffcompare.methods.tape.rules`): where
two formulas are equal in exact arithmetic, the one that keeps its digits in float64.
Each rule computes its derivative factor on the value's shape and touches the ``k``
times larger tangent once; for a unit tangent the result is the tape's, bit for bit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ...ops.numpy_namespace import NUMPY_FUNCTIONS

__all__ = ["JVP_RULES", "Variadic"]

_sigmoid = NUMPY_FUNCTIONS["sigmoid"]


@dataclass(frozen=True)
class Variadic:
    """A rule ``rule(tangents, ans, *args, **params)`` over all arguments at once.

    ``tangents`` has one entry per argument, zeros for the constant ones.
    """

    rule: Callable


def _shift(axis):
    """The tangent's axis for value axis ``axis`` (an int or a tuple of ints).

    The tangent has one extra leading axis, so non-negative axes move up by one;
    negative axes count from the end, which the two arrays share.
    """
    if isinstance(axis, tuple):
        return tuple(_shift(a) for a in axis)
    return axis + 1 if axis >= 0 else axis


def _reduced_axes(axis, ndim):
    """The tangent axes that a reduction of a ``ndim``-d value over ``axis`` removes."""
    return tuple(range(1, ndim + 1)) if axis is None else _shift(axis)


def _reduced_to_input(ans, axis, keepdims):
    """Reshape a reduction's result so it broadcasts against the input."""
    if axis is not None and not keepdims:
        ans = np.expand_dims(ans, axis)
    return ans


def _sum_rule(t, ans, x, axis=None, keepdims=False):
    return np.sum(t, axis=_reduced_axes(axis, np.ndim(x)), keepdims=keepdims)


def _mean_rule(t, ans, x, axis=None, keepdims=False):
    return _sum_rule(t, ans, x, axis, keepdims) * (np.size(ans) / np.size(x))


def _max_rule(t, ans, x, axis=None, keepdims=False):
    # Ties share the derivative equally, like the tape: the directional derivative is
    # the mean of the tied entries' tangents.
    hit = x == _reduced_to_input(ans, axis, keepdims)
    share = hit / np.sum(hit, axis=axis, keepdims=True)
    return np.sum(t * share, axis=_reduced_axes(axis, np.ndim(x)), keepdims=keepdims)


def _logsumexp_rule(t, ans, x, axis=None, keepdims=False):
    # softmax(x) = e / sum(e) with e = exp(x - max x): every e is in (0, 1], so nothing
    # overflows, and unlike exp(x - lse) no rounding error of lse is amplified by exp.
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    softmax = e / np.sum(e, axis=axis, keepdims=True)
    return np.sum(t * softmax, axis=_reduced_axes(axis, np.ndim(x)), keepdims=keepdims)


def _tanh_rule(t, ans, x):
    # tanh' = 1 - tanh^2 rounds to 0 once |tanh| rounds to 1 (|x| > 19), and 1/cosh^2
    # overflows past |x| = 355; 4 e / (1 + e)^2 with e = exp(-2|x|) keeps full relative
    # accuracy down to the underflow threshold.
    e = np.exp(-2.0 * np.abs(x))
    return t * (4.0 * e / (1.0 + e) ** 2)


def _power_base_rule(t, ans, x, y):
    # y * x**(y - 1), with the exponent 0 case kept finite at x = 0 (0 * inf would be nan).
    return t * (y * np.power(x, np.where(y == 0, 1.0, np.subtract(y, 1.0))))


def _power_exponent_rule(t, ans, x, y):
    # d/dy x**y = log(x) x**y; at x = 0 the limit is 0 (log replaced by log 1).
    return t * (np.log(np.where(x == 0, 1.0, x)) * ans)


def _balanced(x, ans, other):
    # 1 where x alone is the result, 1/2 on ties, 0 where the other argument won.
    return (x == ans) / (1.0 + (x == other))


# maximum and minimum share these: each asks which argument the result came from.
def _first_picked(t, ans, a, b):
    return t * _balanced(a, ans, b)


def _second_picked(t, ans, a, b):
    return t * _balanced(b, ans, a)


def _where_first(t, ans, condition, a, b):
    return np.where(condition, t, 0.0)


def _where_second(t, ans, condition, a, b):
    return np.where(condition, 0.0, t)


def _batch_ndim(a, b):
    """Number of batch axes of ``matmul(a, b)`` (numpy broadcasts them)."""
    return max(max(np.ndim(a), 2), max(np.ndim(b), 2)) - 2


def _tangent_as_matrices(t, x, row, batch_ndim):
    """``(k,) + x.shape`` as a stack of matrices with every batch axis present.

    A 1-d ``x`` becomes a row (left operand) or a column (right operand), as numpy's
    matmul treats it; padding the batch axes with ones keeps the direction axis in
    front, so matmul's batch broadcasting never pairs it with an axis of the other
    operand.
    """
    if np.ndim(x) == 1:
        t = t[:, np.newaxis, :] if row else t[:, :, np.newaxis]
    pad = batch_ndim - (t.ndim - 3)
    return np.reshape(t, t.shape[:1] + (1,) * pad + t.shape[1:])


def _matmul_output(product, a, b):
    """Drop the axes that 1-d operands gained, as numpy's matmul does."""
    if np.ndim(a) == 1:
        product = product[..., 0, :]
    if np.ndim(b) == 1:
        product = product[..., 0]
    return product


def _matmul_left_rule(t, ans, a, b):
    b2 = b[:, np.newaxis] if np.ndim(b) == 1 else b
    product = np.matmul(_tangent_as_matrices(t, a, True, _batch_ndim(a, b)), b2)
    return _matmul_output(product, a, b)


def _matmul_right_rule(t, ans, a, b):
    a2 = a[np.newaxis, :] if np.ndim(a) == 1 else a
    product = np.matmul(a2, _tangent_as_matrices(t, b, False, _batch_ndim(a, b)))
    return _matmul_output(product, a, b)


def _getitem_rule(t, ans, x, key):
    # With the direction axis moved last, the key indexes the value axes exactly as it
    # does the value (an Ellipsis absorbs the direction axis), and wherever numpy puts
    # the axes of advanced indices, the direction axis stays the last one.
    key = key if isinstance(key, tuple) else (key,)
    if not any(item is Ellipsis for item in key):
        key = key + (Ellipsis,)
    return np.moveaxis(np.moveaxis(t, 0, -1)[key + (slice(None),)], -1, 0)


def _reshape_rule(t, ans, x, shape):
    return np.reshape(t, np.shape(t)[:1] + np.shape(ans))


def _transpose_rule(t, ans, x, axes=None):
    ndim = np.ndim(x)
    order = range(ndim - 1, -1, -1) if axes is None else (a % ndim for a in axes)
    return np.transpose(t, (0,) + tuple(a + 1 for a in order))


def _concatenate_rule(tangents, ans, *arrays, axis=0):
    if axis is None:  # numpy flattens every array first
        return np.concatenate([np.reshape(t, (t.shape[0], -1)) for t in tangents], axis=1)
    return np.concatenate(tangents, axis=_shift(axis))


def _stack_rule(tangents, ans, *arrays, axis=0):
    return np.stack(tangents, axis=_shift(axis))


# fmt: off
JVP_RULES: dict[str, tuple[Callable | None, ...] | Variadic] = {
    "negative":    (lambda t, ans, x: -t,),
    "abs":         (lambda t, ans, x: t * np.sign(x),),
    "exp":         (lambda t, ans, x: t * ans,),
    "expm1":       (lambda t, ans, x: t * np.exp(x),),  # not ans + 1: cancels for x << 0
    "log":         (lambda t, ans, x: t / x,),
    "log1p":       (lambda t, ans, x: t / (1.0 + x),),
    "sqrt":        (lambda t, ans, x: t / (2.0 * ans),),
    "sin":         (lambda t, ans, x: t * np.cos(x),),
    "cos":         (lambda t, ans, x: t * -np.sin(x),),
    "tan":         (lambda t, ans, x: t / np.cos(x) ** 2,),
    # (1 - x)(1 + x), not 1 - x*x: near |x| = 1 the product keeps every digit.
    "arcsin":      (lambda t, ans, x: t / np.sqrt((1.0 - x) * (1.0 + x)),),
    "arccos":      (lambda t, ans, x: t / -np.sqrt((1.0 - x) * (1.0 + x)),),
    "arctan":      (lambda t, ans, x: t / (1.0 + x * x),),
    "sinh":        (lambda t, ans, x: t * np.cosh(x),),
    "cosh":        (lambda t, ans, x: t * np.sinh(x),),
    "tanh":        (_tanh_rule,),
    # s(x) s(-x), not s (1 - s): 1 - s cancels once s is close to 1.
    "sigmoid":     (lambda t, ans, x: t * (ans * _sigmoid(-x)),),
    "softplus":    (lambda t, ans, x: t * _sigmoid(x),),
    "add":         (lambda t, ans, a, b: t, lambda t, ans, a, b: t),
    "subtract":    (lambda t, ans, a, b: t, lambda t, ans, a, b: -t),
    "multiply":    (lambda t, ans, a, b: t * b, lambda t, ans, a, b: t * a),
    # -ans / b, not -a / b**2: b**2 overflows or underflows long before ans does.
    "divide":      (lambda t, ans, a, b: t / b, lambda t, ans, a, b: t * (-ans / b)),
    "power":       (_power_base_rule, _power_exponent_rule),
    "maximum":     (_first_picked, _second_picked),
    "minimum":     (_first_picked, _second_picked),
    "where":       (None, _where_first, _where_second),
    "sum":         (_sum_rule,),
    "mean":        (_mean_rule,),
    "max":         (_max_rule,),
    "logsumexp":   (_logsumexp_rule,),
    "matmul":      (_matmul_left_rule, _matmul_right_rule),
    "getitem":     (_getitem_rule,),
    "reshape":     (_reshape_rule,),
    "transpose":   (_transpose_rule,),
    "concatenate": Variadic(_concatenate_rule),
    "stack":       Variadic(_stack_rule),
}
# fmt: on
