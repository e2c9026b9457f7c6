"""Numerics shared by the rules of the reductions, scans and shape operations.

The tape (reverse mode), forward mode, the complex step and the autograd namespace each
need the same few facts about ``prod``, ``log_softmax``, ``sort`` and ``einsum``: the
products of the other entries, the tie groups of a sort, the labels of an einsum.
They are computed here once, so the engines cannot drift apart.
"""

from __future__ import annotations

import functools
import string
from collections.abc import Callable, Sequence

import numpy as np

__all__ = [
    "EinsumSpec",
    "einsum_arguments",
    "einsum_spec",
    "einsum_vjp",
    "make_log_softmax",
    "normalized_axes",
    "products_of_others",
    "share_ties",
    "sort_order",
    "sort_vjp",
]


def normalized_axes(axis, ndim: int) -> tuple[int, ...]:
    """``axis`` (None, an int or a tuple) as a sorted tuple of non-negative axes."""
    if axis is None:
        return tuple(range(ndim))
    axes = axis if isinstance(axis, tuple) else (axis,)
    return tuple(sorted(int(a) % max(ndim, 1) for a in axes))


def make_log_softmax(m) -> Callable:
    """``log_softmax`` written with array module ``m``'s functions (numpy, autograd, complex).

    ``(x - max) - log(sum(exp(x - max)))``: every exp() is in [0, 1], and the shift is
    taken from ``x`` before the log is subtracted.  ``x - logsumexp(x)`` would round
    ``logsumexp = max + log(...)`` first, losing the digits of the small result to the
    size of the maximum (at x = 1e8 that is 8 of 16 digits).
    """

    def log_softmax(x, axis=-1):
        shifted = x - m.max(x, axis=axis, keepdims=True)
        return shifted - m.log(m.sum(m.exp(shifted), axis=axis, keepdims=True))

    return log_softmax


def products_of_others(x: np.ndarray, axis=None) -> np.ndarray:
    """For each entry of ``x``, the product of the other entries reduced with it by ``prod``.

    The derivative of ``prod`` with respect to each factor.  Computed as the product of
    the entries before it times the product of the entries after it (exclusive running
    products from both ends), not as ``prod / x``, which is 0/0 where ``x`` holds a zero
    and wrong everywhere where it holds two.  Each is a product of n - 1 factors, as
    accurate as ``prod`` itself.
    """
    x = np.asarray(x)
    if x.size == 0:
        return np.zeros(x.shape)
    axes = normalized_axes(axis, x.ndim)
    kept = [a for a in range(x.ndim) if a not in axes]
    moved = np.transpose(x, kept + list(axes))
    rows = moved.reshape(moved.shape[: len(kept)] + (-1,))
    ones = np.ones(rows.shape[:-1] + (1,), dtype=rows.dtype)
    before = np.cumprod(np.concatenate([ones, rows[..., :-1]], axis=-1), axis=-1)
    after = np.cumprod(np.concatenate([ones, rows[..., :0:-1]], axis=-1), axis=-1)[..., ::-1]
    others = (before * after).reshape(moved.shape)
    return np.transpose(others, np.argsort(kept + list(axes)))


def sort_order(values: np.ndarray, axis: int) -> np.ndarray:
    """The stable ``argsort`` of ``values`` along ``axis`` (NaN last, as ``numpy.sort``)."""
    return np.argsort(values, axis=axis, kind="stable")


def share_ties(sorted_values: np.ndarray, v: np.ndarray, axis: int) -> np.ndarray:
    """``v`` (aligned with ``sorted_values``, extra leading axes allowed) averaged over ties.

    Entries of a sorted array that are equal form a group; sorting is continuous but not
    differentiable where entries tie, and, as ``max`` and ``maximum`` do, each tied entry
    gets the mean of the group's derivatives (the last slot of ``sort`` is ``max``: its
    tied entries each get ``1/k``).  Without ties ``v`` is returned unchanged.
    """
    axis = axis % sorted_values.ndim
    s = np.moveaxis(sorted_values, axis, -1)
    starts = np.ones(s.shape, dtype=bool)
    starts[..., 1:] = s[..., 1:] != s[..., :-1]
    if starts.all():
        return v
    extra = v.ndim - sorted_values.ndim
    w = np.moveaxis(v, extra + axis, -1)
    # Group numbers, distinct across rows and across the leading axes of v.
    group = np.cumsum(starts.ravel()).reshape(s.shape) - 1
    groups = int(group.max(initial=-1)) + 1
    copies = int(np.prod(w.shape[:extra], dtype=int))
    ids = (group.ravel()[np.newaxis, :] + groups * np.arange(copies)[:, np.newaxis]).ravel()
    flat = np.broadcast_to(w, w.shape[:extra] + s.shape).ravel()
    sums = np.bincount(ids, weights=flat, minlength=groups * copies)
    counts = np.bincount(group.ravel(), minlength=groups)
    means = sums.reshape(copies, groups) / counts
    shared = means[:, group.ravel()].reshape(w.shape[:extra] + s.shape)
    return np.moveaxis(shared, -1, extra + axis)


def sort_vjp(g, ans, x, axis=-1, kind=None, order=None, stable=None):
    """The gradient of ``sort(x, axis)``: ``g`` put back where each sorted entry came from.

    Tied entries share their slots' gradients equally (:func:`share_ties`).
    """
    g = np.broadcast_to(g, np.shape(ans))
    if axis is None:  # numpy sorts the flattened array
        flat = sort_vjp(np.ravel(g), np.ravel(ans), np.ravel(x), -1)
        return flat.reshape(np.shape(x))
    order_ = sort_order(x, axis)
    grad = np.empty(np.shape(x), dtype=np.result_type(g, np.float64))
    np.put_along_axis(grad, order_, share_ties(ans, g, axis), axis=axis)
    return grad


# --- einsum -----------------------------------------------------------------------------


class EinsumSpec:
    """An einsum's subscripts with every label explicit: no ellipsis, an explicit output.

    Attributes
    ----------
    inputs : tuple of str
        One label per axis of each operand (a label may repeat: ``"ii"``).
    output : str
        The output's labels.
    """

    __slots__ = ("inputs", "output")

    def __init__(self, inputs: tuple[str, ...], output: str):
        self.inputs = inputs
        self.output = output

    def subscripts(self, inputs: Sequence[str] | None = None, output: str | None = None) -> str:
        inputs = self.inputs if inputs is None else inputs
        return ",".join(inputs) + "->" + (self.output if output is None else output)

    def unused_label(self) -> str:
        """A label no operand and no output uses (the direction axis of forward mode)."""
        used = set("".join(self.inputs) + self.output)
        return next(c for c in string.ascii_letters if c not in used)


def _sublist_labels(sublist) -> str:
    # numpy's sublist form: axis numbers 0..51 are the letters A..Z, a..z; Ellipsis is "...".
    labels = []
    for item in sublist:
        if item is Ellipsis:
            labels.append("...")
        elif isinstance(item, (int, np.integer)) and 0 <= item < 52:
            labels.append(string.ascii_uppercase[item] if item < 26 else string.ascii_lowercase[item - 26])
        else:
            raise ValueError(f"einsum sublist {sublist!r}: labels must be integers in [0, 52) or Ellipsis")
    return "".join(labels)


def einsum_arguments(args: Sequence) -> tuple[str, tuple]:
    """``einsum``'s arguments as ``(subscripts, operands)``, the interleaved form translated.

    ``einsum(a, [0, 1], b, [1, 2], [0, 2])`` is ``einsum("AB,BC->AC", a, b)``, as numpy
    reads it (axis numbers are letters, ``Ellipsis`` is ``...``).
    """
    if not args:
        raise TypeError("einsum needs subscripts and at least one operand")
    if isinstance(args[0], str):
        return args[0], tuple(args[1:])
    operands, sublists = args[0::2], args[1::2]
    output = None
    if len(args) % 2:  # an odd count ends with the output sublist
        operands, output = operands[:-1], args[-1]
    if len(sublists) != len(operands):
        raise TypeError("einsum's interleaved form alternates operands and sublists")
    if not all(isinstance(s, (list, tuple)) for s in (*sublists, *([] if output is None else [output]))):
        raise TypeError(
            "einsum: the subscripts must be a string ('ij,jk->ik') or, in numpy's interleaved "
            "form, each sublist a list of axis numbers"
        )
    subscripts = ",".join(_sublist_labels(s) for s in sublists)
    if output is not None:
        subscripts += "->" + _sublist_labels(output)
    return subscripts, tuple(operands)


def einsum_spec(subscripts: str, ndims: tuple[int, ...]) -> EinsumSpec:
    """Parse ``subscripts`` for operands with ``ndims`` axes into an :class:`EinsumSpec`.

    An ellipsis becomes labels of their own, aligned from the right as numpy broadcasts
    them; without ``->`` the output is numpy's implicit one (the ellipsis axes, then the
    labels that occur once, in alphabetical order).

    Raises
    ------
    TypeError
        If ``subscripts`` is not a string (numpy's interleaved operand/sublist form).
    ValueError
        If the subscripts do not match the number or the dimensions of the operands.
    """
    if not isinstance(subscripts, str):
        raise TypeError(
            "einsum takes its subscripts as a string ('ij,jk->ik'); the interleaved "
            f"operand/sublist form is not supported; got {type(subscripts).__name__}"
        )
    return _parsed(subscripts, tuple(ndims))


@functools.lru_cache(maxsize=512)
def _parsed(subscripts: str, ndims: tuple[int, ...]) -> EinsumSpec:
    text = subscripts.replace(" ", "")
    explicit = "->" in text
    left, output = text.split("->") if explicit else (text, None)
    parts = left.split(",")
    if len(parts) != len(ndims):
        raise ValueError(f"einsum subscripts {subscripts!r} name {len(parts)} operands; got {len(ndims)}")
    named = set(text.replace(".", "").replace(",", "").replace("->", ""))
    if not named <= set(string.ascii_letters):
        raise ValueError(f"einsum subscripts {subscripts!r}: labels must be letters")
    spare = [c for c in string.ascii_letters if c not in named]
    widths = [
        ndim - len(part.replace("...", "")) if "..." in part else 0
        for part, ndim in zip(parts, ndims, strict=True)
    ]
    broadcast = spare[: max(widths, default=0)]
    inputs = []
    for part, ndim, width in zip(parts, ndims, widths, strict=True):
        if "..." in part:
            part = part.replace("...", "".join(broadcast[len(broadcast) - width :]) if width else "")
        if len(part) != ndim:
            raise ValueError(
                f"einsum subscripts {subscripts!r}: operand {len(inputs)} has {ndim} axes "
                f"but {part!r} labels {len(part)}"
            )
        inputs.append(part)
    if output is None:
        counts = {c: "".join(parts).count(c) for c in named}
        output = "".join(broadcast) + "".join(sorted(c for c, n in counts.items() if n == 1))
    else:
        output = output.replace("...", "".join(broadcast))
    return EinsumSpec(tuple(inputs), output)


def einsum_vjp(index: int, g, operands: Sequence, subscripts: str) -> np.ndarray:
    """The gradient of ``einsum(subscripts, *operands)`` with respect to operand ``index``.

    ``g`` contracted with the other operands onto the operand's labels.  A label that
    only this operand carries (summed over in it alone) receives ``g`` unchanged along
    it; a label repeated within the operand (``'ii'``, a diagonal) receives the
    gradient on that diagonal and zero elsewhere.
    """
    spec = einsum_spec(subscripts, tuple(np.ndim(o) for o in operands))
    labels = spec.inputs[index]
    shape = np.shape(operands[index])
    unique = "".join(dict.fromkeys(labels))
    others = [i for i in range(len(operands)) if i != index]
    elsewhere = set(spec.output).union(*(spec.inputs[i] for i in others))
    present = "".join(c for c in unique if c in elsewhere)
    partial = np.einsum(
        spec.subscripts([spec.output] + [spec.inputs[i] for i in others], present),
        g,
        *(operands[i] for i in others),
    )
    if present != unique:
        # Summed over in this operand alone: the derivative is 1 along those labels.
        size = dict(zip(labels, shape, strict=True)) | dict(zip(present, np.shape(partial), strict=True))
        partial = np.reshape(partial, tuple(size[c] if c in present else 1 for c in unique))
        partial = np.broadcast_to(partial, tuple(size[c] for c in unique))
    if unique == labels:
        return partial
    grad = np.zeros(shape, dtype=np.result_type(partial, np.float64))
    np.einsum(f"{labels}->{unique}", grad)[...] = partial  # a writeable view of the diagonal
    return grad
