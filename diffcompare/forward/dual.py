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

from ..backends.numpy_backend import NUMPY_FUNCTIONS
from ..ops import OPS, canonical_name
from .rules import JVP_RULES, Variadic

__all__ = ["Dual", "align_tangent", "apply"]

# numpy's functions, with the array-sequence operations taking their arrays as
# separate arguments so that each one can carry a tangent.
FORWARD: dict[str, Callable] = {
    **NUMPY_FUNCTIONS,
    "concatenate": lambda *arrays, axis=0: np.concatenate(arrays, axis=axis),
    "stack": lambda *arrays, axis=0: np.stack(arrays, axis=axis),
}

# Operations whose rules see tangents aligned with the (broadcast) output.
_ELEMENTWISE = frozenset(name for name, spec in OPS.items() if spec.kind in ("unary", "binary", "select"))

# numpy comparison ufuncs (ndarray < Dual) compare values, like Dual's own operators.
_COMPARISONS = frozenset(("less", "less_equal", "greater", "greater_equal", "equal", "not_equal"))


class Dual:
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
    __array_priority__ = 100.0

    def __init__(self, value: Any, tangent: Any):
        value = np.asarray(value)
        tangent = np.asarray(tangent)
        if tangent.shape[1:] != value.shape or tangent.ndim == 0:
            raise ValueError(
                f"the tangent of a value of shape {value.shape} must have shape (k,) + "
                f"{value.shape} (directions first); got shape {tangent.shape}"
            )
        self.value = value
        self.tangent = tangent

    # numpy interoperability: ndarray (op) Dual and np.exp(dual) come here.
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if method == "__call__" and not kwargs and ufunc.__name__ in _COMPARISONS:
            return ufunc(*(_value(a) for a in inputs))
        op = canonical_name(ufunc.__name__)
        if method == "__call__" and not kwargs and op in JVP_RULES:
            return apply(op, *inputs)
        raise NotImplementedError(
            f"forward mode has no tangent rule for numpy.{ufunc.__name__} "
            f"(method {method!r}); call the operation through xp"
        )

    def __array__(self, dtype=None, copy=None):
        raise TypeError(
            "a dual number cannot be converted to a numpy array (that would drop its "
            "tangent); build arrays with xp.stack or xp.asarray"
        )

    def __float__(self):
        raise TypeError("a dual number cannot be converted to float; it would drop its tangent")

    shape = property(lambda self: self.value.shape)
    ndim = property(lambda self: self.value.ndim)
    size = property(lambda self: self.value.size)
    dtype = property(lambda self: self.value.dtype)
    T = property(lambda self: apply("transpose", self))

    def __len__(self):
        return len(self.value)

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def __repr__(self):
        return f"Dual({self.value!r}, tangent={self.tangent!r})"

    # fmt: off
    def __add__(self, other): return apply("add", self, other)
    def __radd__(self, other): return apply("add", other, self)
    def __sub__(self, other): return apply("subtract", self, other)
    def __rsub__(self, other): return apply("subtract", other, self)
    def __mul__(self, other): return apply("multiply", self, other)
    def __rmul__(self, other): return apply("multiply", other, self)
    def __truediv__(self, other): return apply("divide", self, other)
    def __rtruediv__(self, other): return apply("divide", other, self)
    def __pow__(self, other): return apply("power", self, other)
    def __rpow__(self, other): return apply("power", other, self)
    def __matmul__(self, other): return apply("matmul", self, other)
    def __rmatmul__(self, other): return apply("matmul", other, self)
    def __neg__(self): return apply("negative", self)
    def __pos__(self): return self
    def __abs__(self): return apply("abs", self)
    def __getitem__(self, key): return apply("getitem", self, key)

    def __lt__(self, other): return self.value < _value(other)
    def __le__(self, other): return self.value <= _value(other)
    def __gt__(self, other): return self.value > _value(other)
    def __ge__(self, other): return self.value >= _value(other)
    def __eq__(self, other): return self.value == _value(other)
    def __ne__(self, other): return self.value != _value(other)
    __hash__ = None  # equality is elementwise, as for arrays

    def sum(self, axis=None, keepdims=False): return apply("sum", self, axis=axis, keepdims=keepdims)
    def mean(self, axis=None, keepdims=False): return apply("mean", self, axis=axis, keepdims=keepdims)
    def max(self, axis=None, keepdims=False): return apply("max", self, axis=axis, keepdims=keepdims)
    def reshape(self, *shape): return apply("reshape", self, shape[0] if len(shape) == 1 else shape)
    def transpose(self, *axes): return apply("transpose", self, _axes_argument(axes))
    # fmt: on


def _value(x):
    return x.value if isinstance(x, Dual) else x


def _axes_argument(axes):
    # x.transpose(), x.transpose(1, 0) and x.transpose((1, 0)) all mean what numpy says.
    if len(axes) == 1 and (axes[0] is None or isinstance(axes[0], (tuple, list))):
        return axes[0]
    return axes or None


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
    values = tuple(_value(a) for a in args)
    ans = forward(*values, **params)
    duals = [index for index, arg in enumerate(args) if isinstance(arg, Dual)]
    if not duals:
        return ans
    ans = np.asarray(ans)
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
