"""Dual numbers: array values that carry their tangents through every operation.

A :class:`Dual` holds a value and its tangent in ``k`` directions at once, stacked on
a leading axis (``tangent.shape == (k,) + value.shape``).  :func:`apply` evaluates an
operation with numpy and combines the arguments' tangents with the JVP table, so one
evaluation of ``f`` gives ``k`` directional derivatives; there is no graph to keep.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ...ops.namespace import UnsupportedOperationError
from ...ops.numpy_namespace import NUMPY_FUNCTIONS
from ...ops.table import OPS
from ...ops.traced import TracedArray, value_of
from ...ops.traced_functions import traced_functions
from .rules import JVP_RULES, Outputs, Variadic

__all__ = ["Dual", "UndifferentiableDual", "align_tangent", "apply"]

# numpy's functions, with the array-sequence operations taking their arrays as
# separate arguments so that each one can carry a tangent.
FORWARD: dict[str, Callable] = {
    **NUMPY_FUNCTIONS,
    "concatenate": lambda *arrays, axis=0: np.concatenate(arrays, axis=axis),
    "stack": lambda *arrays, axis=0: np.stack(arrays, axis=axis),
    "einsum": lambda *operands, subscripts: np.einsum(subscripts, *operands),
}

# Operations whose rules see tangents aligned with the (broadcast) output.
_ELEMENTWISE = frozenset(name for name, spec in OPS.items() if spec.kind in ("unary", "binary", "select"))


class Dual(TracedArray):
    """A value with its tangents in ``k`` directions.

    Supports numpy's arithmetic operators, indexing and comparisons (which return
    plain boolean arrays of the values, so Python control flow on values works).

    Parameters
    ----------
    value : array_like
        The primal value.
    tangent : array_like
        Shape ``(k,) + shape(value)``: row ``i`` is the derivative of ``value`` along
        direction ``i``.

    Raises
    ------
    ValueError
        If ``tangent`` does not have the shape ``(k,) + shape(value)``.

    Examples
    --------
    >>> import numpy as np
    >>> x = Dual(np.array([1.0, 2.0]), np.eye(2))
    >>> (x * x).tangent
    array([[2., 0.],
           [0., 4.]])
    """

    __slots__ = ("value", "tangent")

    def __init__(self, value: Any, tangent: Any):
        # asanyarray: a real-ordered complex value (the complex step over forward mode,
        # for Hessians) keeps the comparisons and continuations that make it analytic
        value = np.asanyarray(value)
        tangent = np.asarray(tangent)
        if tangent.shape[1:] != value.shape or tangent.ndim == 0:
            raise ValueError(
                f"the tangent of a value of shape {value.shape} must have shape (k,) + "
                f"{value.shape} (directions first); got shape {tangent.shape}"
            )
        self.value = value
        self.tangent = tangent

    engine, loses, rules = "forward", "drop its tangent", JVP_RULES

    @staticmethod
    def apply(op, *args, **params):
        return apply(op, *args, **params)

    def __repr__(self):
        return f"Dual({self.value!r}, tangent={self.tangent!r})"


class UndifferentiableDual(Dual):
    """A result whose tangent does not exist (the eigenvectors at a repeated eigenvalue).

    Its value can be used like any other; its tangent cannot: an operation that needs it
    raises the :class:`~diffcompare.ops.namespace.UnsupportedOperationError` that the
    tangent rule raised, so a function that does not use this result is still
    differentiated, and one that does is refused by name.
    """

    __slots__ = ("reason",)

    def __init__(self, value: Any, reason: str):
        self.value = np.asarray(value)
        self.reason = reason

    def __getattr__(self, name):
        # Reached for the tangent, whose slot this class never fills.
        if name == "tangent":
            raise UnsupportedOperationError(self.reason)
        return super().__getattr__(name)

    def __repr__(self):
        return f"UndifferentiableDual({self.value!r})"


def align_tangent(tangent: np.ndarray, ndim: int) -> np.ndarray:
    """Insert axes after the direction axis so that ``tangent`` has ``1 + ndim`` axes.

    Broadcasting aligns shapes from the right; a tangent of shape ``(k, 3)`` meeting a
    ``(2, 3)`` array would pair ``k`` with ``2``.  Aligned to ``(k, 1, 3)`` it
    broadcasts to ``(k, 2, 3)``, the tangent of the broadcast value.
    """
    extra = ndim + 1 - tangent.ndim
    if extra <= 0:
        return tangent
    return np.reshape(tangent, tangent.shape[:1] + (1,) * extra + tangent.shape[1:])


def _directions(args: tuple) -> int:
    counts = {len(a.tangent) for a in args if isinstance(a, Dual)}
    if len(counts) > 1:
        raise ValueError(f"dual numbers with different numbers of directions {sorted(counts)} were combined")
    return counts.pop()


def apply(op: str, *args: Any, **params: Any) -> Any:
    """Evaluate primitive ``op`` on values and tangents.

    Returns a plain value when no argument is a :class:`Dual` (or only arguments
    without a derivative are, such as a ``where`` condition).

    Raises
    ------
    NotImplementedError
        If ``op`` is unknown, or a dual argument has no tangent rule for ``op``.
    ValueError
        If the dual arguments carry different numbers of directions.
    """
    forward = FORWARD.get(op)
    rules = JVP_RULES.get(op)
    if forward is None or rules is None:
        raise NotImplementedError(f"forward mode has no tangent rule for operation {op!r}")
    values = tuple(value_of(a) for a in args)
    ans = forward(*values, **params)
    duals = [index for index, arg in enumerate(args) if isinstance(arg, Dual)]
    if not duals:
        return ans
    if type(rules) is Outputs:
        k = _directions(args)
        return type(ans)(
            *(
                _result(op, part, rules_i, args, values, params, ans, k)
                for part, rules_i in zip(ans, rules.results, strict=True)
            )
        )
    ans = np.asanyarray(ans)  # a real-ordered complex value stays one (see Dual)
    k = _directions(args)
    shape = (k,) + ans.shape
    if isinstance(rules, Variadic):
        # broadcast_to: the zero tangents of constants take no memory
        tangents = tuple(
            a.tangent if isinstance(a, Dual) else np.broadcast_to(0.0, (k,) + np.shape(a)) for a in args
        )
        return Dual(ans, np.broadcast_to(rules.rule(tangents, ans, *values, **params), shape))
    tangent = None
    for index in duals:
        if index >= len(rules):
            raise NotImplementedError(
                f"forward mode has no tangent rule for argument {index} of operation {op!r}"
            )
        rule = rules[index]
        if rule is None:
            continue
        t = args[index].tangent
        if op in _ELEMENTWISE:
            t = align_tangent(t, ans.ndim)
        term = rule(t, ans, *values, **params)
        tangent = term if tangent is None else tangent + term  # summed, never assigned
    if tangent is None:
        return ans
    return Dual(ans, np.broadcast_to(tangent, shape))


def _result(op: str, value, rules, args, values, params, ans, k: int):
    """One result of an operation with several (:class:`~.rules.Outputs`): its dual, or its value."""
    value = np.asarray(value)
    tangent = None
    try:
        for index, arg in enumerate(args):
            rule = rules[index] if index < len(rules) else None
            if not isinstance(arg, Dual) or rule is None:
                continue
            term = rule(arg.tangent, ans, *values, **params)
            tangent = term if tangent is None else tangent + term  # summed, never assigned
    except UnsupportedOperationError as refusal:
        return UndifferentiableDual(value, str(refusal))
    if tangent is None:
        return value
    return Dual(value, np.broadcast_to(tangent, (k,) + value.shape))


Dual.functions = traced_functions(apply)
