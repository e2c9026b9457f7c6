"""numpy's operators for the values of diffcompare's own engines, written once.

The tape's :class:`~diffcompare.methods.tape.engine.Node` and forward mode's
:class:`~diffcompare.methods.forward.dual.Dual` both derive from :class:`TracedArray`: every
operator becomes one call of the engine's ``apply(op, *args)``, comparisons act on the
plain values (so Python branches on values work), and conversions that would silently
drop the derivative are refused.  Questions about the shape (``np.shape``, ``np.ndim``,
``np.size``, ``len``) read the plain value; ``ravel``, ``flatten`` and ``copy`` (methods
and numpy functions) are reshapes or the value itself; ``clip`` and ``round`` are xp's;
the array methods that are operations of xp (``x.prod()``, ``x.cumsum()``, ``x.min()``,
``x.var()``, ``x.take()`` ...) are those operations; ``x.sort()``, which sorts in place,
and any other array method of numpy (``x.cumprod()``) are refused by name.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import numpy as np

from .namespace import NOT_AN_OPERATION, unsupported
from .table import canonical_name, numpy_function_name, operation

__all__ = ["TracedArray", "value_of"]

_COMPARISONS = frozenset(("less", "less_equal", "greater", "greater_equal", "equal", "not_equal"))


def value_of(x: Any) -> Any:
    """The plain value of a traced array, or ``x`` itself."""
    return x.value if isinstance(x, TracedArray) else x


#: numpy functions that ask about the shape: answered from the plain value.
_SHAPE_QUERIES = {"shape": np.shape, "ndim": np.ndim, "size": np.size}

#: numpy functions that are one of the array methods below (``np.ravel(v)`` is ``v.ravel()``).
_AS_METHODS = {
    "ravel": lambda a, order="C": a.ravel(order),
    "copy": lambda a, order="K", subok=False: a.copy(),
}


def _axes(axes: tuple):
    """``x.transpose()``, ``x.transpose(1, 0)`` and ``x.transpose((1, 0))`` as numpy allows."""
    if len(axes) == 1 and (axes[0] is None or isinstance(axes[0], (tuple, list))):
        return axes[0]
    return axes or None


class TracedArray:
    """Base of the traced values: subclasses hold ``value`` and set the class attributes.

    Attributes
    ----------
    engine : str
        The method's registered name (``"tape"``, ``"forward"``), for error messages.
    loses : str
        What converting the value to a plain array would lose.
    rules : mapping
        Operation names the engine can differentiate.
    functions : mapping
        The engine's operation table (its ``xp``), for numpy functions called on a
        traced value.
    apply : callable
        ``apply(op, *args, **params)``: evaluate and record one operation.
    """

    __slots__ = ()
    __array_priority__ = 100.0
    engine: ClassVar[str]
    loses: ClassVar[str]
    rules: ClassVar[Mapping]
    functions: ClassVar[Mapping[str, Callable[..., Any]]]
    apply: ClassVar[Callable[..., Any]]

    # numpy interoperability: ndarray (op) traced and np.exp(traced) come here.
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if method == "__call__" and not kwargs:
            if ufunc.__name__ in _COMPARISONS:
                return ufunc(*map(value_of, inputs))  # comparisons are not recorded
            op = canonical_name(ufunc.__name__)
            if op in self.rules:
                return self.apply(op, *inputs)
        called = f"numpy.{ufunc.__name__}" + ("" if method == "__call__" else f".{method}")
        raise unsupported(self.engine, called, NOT_AN_OPERATION)

    # np.sum(v), np.where(c, v, 0.0), np.concatenate([v, w]), np.dot(v, w): numpy
    # functions that have an xp twin are recorded as xp's; any other is refused by its
    # full name.
    def __array_function__(self, func, types, args, kwargs):
        name = func.__name__
        if func.__module__ == "numpy" and name in _SHAPE_QUERIES:
            return _SHAPE_QUERIES[name](*map(value_of, args), **kwargs)
        if func.__module__ == "numpy" and name in _AS_METHODS:
            return _AS_METHODS[name](*args, **kwargs)
        op = numpy_function_name(func)
        function = None if op is None else operation(self.functions, op)
        if function is None:
            raise unsupported(
                self.engine,
                f"{func.__module__}.{name}",
                NOT_AN_OPERATION,
            )
        return function(*args, **kwargs)

    def __array__(self, dtype=None, copy=None):
        raise TypeError(
            f"a value traced by {self.engine} cannot be converted to a numpy array "
            f"(that would {self.loses}); build arrays with xp.stack or xp.asarray"
        )

    def __float__(self):
        raise TypeError(
            f"a value traced by {self.engine} cannot be converted to float; that would {self.loses}"
        )

    shape = property(lambda self: np.shape(self.value))
    ndim = property(lambda self: np.ndim(self.value))
    size = property(lambda self: np.size(self.value))
    dtype = property(lambda self: np.asarray(self.value).dtype)
    T = property(lambda self: self.apply("transpose", self))

    def __len__(self):
        return len(self.value)

    def __getattr__(self, name):
        # Reached only for names the class lacks: numpy's array methods that are no
        # operation of xp are refused by name, as a NotImplementedError that is also an
        # AttributeError (so hasattr() still answers False).
        if not name.startswith("_") and hasattr(np.ndarray, name):
            raise unsupported(self.engine, f"numpy.ndarray.{name}", NOT_AN_OPERATION)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    # fmt: off
    def __add__(self, other): return self.apply("add", self, other)
    def __radd__(self, other): return self.apply("add", other, self)
    def __sub__(self, other): return self.apply("subtract", self, other)
    def __rsub__(self, other): return self.apply("subtract", other, self)
    def __mul__(self, other): return self.apply("multiply", self, other)
    def __rmul__(self, other): return self.apply("multiply", other, self)
    def __truediv__(self, other): return self.apply("divide", self, other)
    def __rtruediv__(self, other): return self.apply("divide", other, self)
    def __pow__(self, other): return self.apply("power", self, other)
    def __rpow__(self, other): return self.apply("power", other, self)
    def __mod__(self, other): return self.apply("remainder", self, other)
    def __rmod__(self, other): return self.apply("remainder", other, self)
    def __matmul__(self, other): return self.apply("matmul", self, other)
    def __rmatmul__(self, other): return self.apply("matmul", other, self)
    def __neg__(self): return self.apply("negative", self)
    def __pos__(self): return self
    def __abs__(self): return self.apply("abs", self)
    def __getitem__(self, key): return self.apply("getitem", self, key)

    def __lt__(self, other): return self.value < value_of(other)
    def __le__(self, other): return self.value <= value_of(other)
    def __gt__(self, other): return self.value > value_of(other)
    def __ge__(self, other): return self.value >= value_of(other)
    def __eq__(self, other): return self.value == value_of(other)
    def __ne__(self, other): return self.value != value_of(other)
    __hash__ = None  # equality is elementwise, as for arrays

    def sum(self, axis=None, keepdims=False): return self.apply("sum", self, axis=axis, keepdims=keepdims)
    def mean(self, axis=None, keepdims=False): return self.apply("mean", self, axis=axis, keepdims=keepdims)
    def max(self, axis=None, keepdims=False): return self.apply("max", self, axis=axis, keepdims=keepdims)
    def reshape(self, *shape): return self.apply("reshape", self, shape[0] if len(shape) == 1 else shape)
    def transpose(self, *axes): return self.apply("transpose", self, _axes(axes))
    def flatten(self, order="C"): return self.ravel(order)
    def copy(self, order="K"): return self  # traced values are never changed in place
    def astype(self, dtype, copy=True): return self._as_float64(dtype)
    def clip(self, *bounds, **named): return operation(self.functions, "clip")(self, *bounds, **named)
    def round(self, decimals=0): return self.apply("round", self, decimals)
    # reductions, scans and shape operations: the operations of xp, derived ones included
    def prod(self, axis=None, keepdims=False): return self.apply("prod", self, axis=axis, keepdims=keepdims)
    def cumsum(self, axis=None): return self.apply("cumsum", self, axis=axis)
    def min(self, axis=None, keepdims=False): return self._xp("min")(self, axis=axis, keepdims=keepdims)
    def var(self, axis=None, ddof=0, keepdims=False): return self._xp("var")(self, axis, ddof=ddof, keepdims=keepdims)  # noqa: E501
    def std(self, axis=None, ddof=0, keepdims=False): return self._xp("std")(self, axis, ddof=ddof, keepdims=keepdims)  # noqa: E501
    def squeeze(self, axis=None): return self._xp("squeeze")(self, axis)
    def diagonal(self, offset=0, axis1=0, axis2=1): return self._xp("diagonal")(self, offset, axis1, axis2)
    def trace(self, offset=0, axis1=0, axis2=1): return self._xp("trace")(self, offset, axis1, axis2)
    def repeat(self, repeats, axis=None): return self._xp("repeat")(self, repeats, axis)
    def take(self, indices, axis=None, mode="raise"): return self._xp("take")(self, indices, axis, mode=mode)
    # fmt: on

    def _as_float64(self, dtype):
        # Traced values are float64 arrays: casting to float64 is the value itself; any
        # other type would drop digits or the derivative.
        if np.dtype(dtype) != np.float64:
            raise unsupported(
                self.engine, f"numpy.ndarray.astype({np.dtype(dtype).name})", "traced values stay float64"
            )
        return self

    def _xp(self, name: str) -> Callable[..., Any]:
        return operation(self.functions, name)

    def sort(self, axis=-1, kind=None, order=None):
        raise unsupported(
            self.engine,
            "numpy.ndarray.sort",
            "a traced value cannot be sorted in place; write xp.sort(x), which returns the sorted values",
        )

    def ravel(self, order="C"):
        if order != "C":
            raise NotImplementedError(
                f"{self.engine} flattens in C order only; got ravel/flatten with order={order!r}"
            )
        return self.apply("reshape", self, (-1,))
