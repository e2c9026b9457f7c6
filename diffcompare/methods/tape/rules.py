"""Vector-Jacobian products of the tape's primitives: one line per operation.

The elementwise operations take their rules from their rows in :data:`~diffcompare.ops.OPS`
(``g`` times the row's derivative factor, shared with forward mode); this table adds
the structural operations.  ``RULES[op]`` is a tuple with one entry per argument: a function
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

from ...ops.elementwise import elementwise_rules
from ...ops.structural import einsum_vjp, products_of_others, sort_vjp
from . import linalg_rules as linalg

__all__ = ["RULES", "Outputs", "Scatter", "Variadic"]


@dataclass(frozen=True)
class Variadic:
    """A rule ``rule(index, g, ans, *args, **params)`` shared by every argument."""

    rule: Callable


class Outputs:
    """The rules of an operation with several results (``eigh``: eigenvalues, eigenvectors).

    One tuple of per-argument rules for each result; a rule receives the cotangent of
    its result and, as ``ans``, the whole tuple of results.  Each result is a node of
    its own, so a rule runs only if the function uses that result.
    """

    __slots__ = ("results",)

    def __init__(self, *results: tuple[Callable | None, ...]):
        self.results = results


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
    # complex stays complex (the complex step over the tape, for Hessians); iscomplexobj
    # costs half of np.result_type, on a rule every reduction runs
    grad = np.empty(np.shape(x), dtype=complex if np.iscomplexobj(g) else float)
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


# --- reductions, scans and shape operations ---------------------------------------------


def _log_softmax_rule(g, ans, x, axis=-1):
    # g - sum(g) softmax, with softmax = exp(log_softmax): log_softmax is accurate to a
    # few ulp of its own size, so exp keeps softmax to a few ulp (no e / sum(e) pass).
    return g - np.sum(g, axis=axis, keepdims=True) * np.exp(ans)


def _prod_rule(g, ans, x, axis=None, keepdims=False):
    # The products of the other factors, not ans / x: right where x holds zeros.
    return _reduced_to_input(g, x, axis, keepdims) * products_of_others(x, axis)


def _cumsum_rule(g, ans, x, axis=None):
    # Entry i feeds every running sum from i on: the reversed running sum of g.
    if axis is None:  # numpy runs over the flattened array
        return np.reshape(np.cumsum(np.ravel(g)[::-1])[::-1], np.shape(x))
    return np.flip(np.cumsum(np.flip(g, axis), axis=axis), axis)


def _einsum_rule(index, g, ans, *operands, subscripts):
    return einsum_vjp(index, g, operands, subscripts)


# fmt: off
RULES: dict[str, tuple[Callable | None, ...] | Variadic | Outputs] = {
    **elementwise_rules(),
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
    # linear algebra (xp.linalg): diffcompare.methods.tape.linalg_rules
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
    "sort":        (sort_vjp,),
}
# fmt: on
