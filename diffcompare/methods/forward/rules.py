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

The elementwise operations take their rules from their rows in :data:`~diffcompare.ops.OPS`:
``t`` times the row's derivative factor, the factor the tape multiplies its cotangent
by.  Each computes the factor on the value's shape and touches the ``k`` times larger
tangent once; for a unit tangent the result is the tape's, bit for bit.  This table adds
the structural operations.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ...ops.elementwise import elementwise_rules
from ...ops.structural import einsum_spec, products_of_others, share_ties, sort_order
from . import linalg_rules as linalg

__all__ = ["JVP_RULES", "Outputs", "Variadic"]


@dataclass(frozen=True)
class Variadic:
    """A rule ``rule(tangents, ans, *args, **params)`` over all arguments at once.

    ``tangents`` has one entry per argument, zeros for the constant ones.
    """

    rule: Callable


class Outputs:
    """The rules of an operation with several results (``eigh``: eigenvalues, eigenvectors).

    One tuple of per-argument rules for each result; a rule receives its argument's
    tangent and, as ``ans``, the whole tuple of results.
    """

    __slots__ = ("results",)

    def __init__(self, *results: tuple[Callable | None, ...]):
        self.results = results


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


# --- reductions, scans and shape operations ---------------------------------------------


def _log_softmax_rule(t, ans, x, axis=-1):
    # t - sum(t softmax), softmax = exp(log_softmax) as in the tape's rule.
    return t - np.sum(t * np.exp(ans), axis=_reduced_axes(axis, np.ndim(x)), keepdims=True)


def _prod_rule(t, ans, x, axis=None, keepdims=False):
    # The products of the other factors, not ans / x: right where x holds zeros.
    others = products_of_others(x, axis)
    return np.sum(t * others, axis=_reduced_axes(axis, np.ndim(x)), keepdims=keepdims)


def _cumsum_rule(t, ans, x, axis=None):
    if axis is None:  # numpy runs over the flattened array
        return np.cumsum(np.reshape(t, (t.shape[0], -1)), axis=1)
    return np.cumsum(t, axis=_shift(axis))


def _constant_zero(t) -> bool:
    """Whether ``t`` is the zero tangent ``apply`` gives a constant (a broadcast 0)."""
    return t.size > 0 and not any(t.strides) and t.flat[0] == 0


def _einsum_rule(tangents, ans, *operands, subscripts):
    # Multilinear: the sum over the traced operands of the einsum with that operand
    # replaced by its tangent, which carries a label of its own for the directions.
    spec = einsum_spec(subscripts, tuple(np.ndim(o) for o in operands))
    direction = spec.unused_label()
    total = 0.0
    for k, t in enumerate(tangents):
        if _constant_zero(t):
            continue
        inputs = list(spec.inputs)
        inputs[k] = direction + inputs[k]
        total = total + np.einsum(
            spec.subscripts(inputs, direction + spec.output), *operands[:k], t, *operands[k + 1 :]
        )
    return total


def _sort_rule(t, ans, x, axis=-1, kind=None, order=None, stable=None):
    # The tangents permuted as the values are; tied entries share (see share_ties).
    if axis is None:  # numpy sorts the flattened array
        return _sort_rule(np.reshape(t, (t.shape[0], -1)), ans, np.ravel(x), -1)
    permuted = np.take_along_axis(t, sort_order(x, axis)[np.newaxis], axis=_shift(axis))
    return share_ties(ans, permuted, axis)


# fmt: off
JVP_RULES: dict[str, tuple[Callable | None, ...] | Variadic | Outputs] = {
    **elementwise_rules(),
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
    # linear algebra (xp.linalg): diffcompare.methods.forward.linalg_rules
    "linalg.solve":            (linalg.solve_matrix, linalg.solve_rhs),
    "linalg.solve_triangular": (linalg.solve_triangular_matrix, linalg.solve_triangular_rhs),
    "linalg.inv":              (linalg.inverse,),
    "linalg.det":              (linalg.determinant,),
    "linalg.slogdet":          Outputs((None,), (linalg.logabsdet,)),  # sign, logabsdet
    "linalg.cholesky":         (linalg.cholesky,),
    "linalg.eigh":             Outputs((linalg.eigenvalues,), (linalg.eigenvectors,)),
    "linalg.norm":             (linalg.norm_rule("linalg.norm"),),
    "linalg.vector_norm":      (linalg.norm_rule("linalg.vector_norm"),),
    "linalg.matrix_norm":      (linalg.norm_rule("linalg.matrix_norm"),),
    # reductions, scans and shape operations
    "log_softmax": (_log_softmax_rule,),
    "prod":        (_prod_rule,),
    "cumsum":      (_cumsum_rule,),
    "einsum":      Variadic(_einsum_rule),
    "sort":        (_sort_rule,),
}
# fmt: on
