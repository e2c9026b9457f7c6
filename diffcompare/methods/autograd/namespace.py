"""The autograd namespace: autograd.numpy, so ``autograd.grad`` can trace a function.

While autograd traces ``f``, every value ``f`` sees is a :class:`TracedArrayBox`:
autograd's ``ArrayBox`` answering numpy's protocols the way diffcompare's own traced
values do (:class:`~diffcompare.ops.traced.TracedArray`), so that one ``f`` means the
same thing under every tracing method.  numpy functions called on it (``np.sum(x)``,
``np.copy(x)``) run as the operations of ``xp``, and the others are refused by name;
without this, numpy would build an object array of boxes and the gradient would be
boxes, or a silently wrong number.  ``x.copy()`` is the value itself, the array
methods that are operations of xp (``x.prod()``, ``x.min()``, ``x.take()`` ...) are
those operations, and a conversion to a numpy array, which would drop the derivative,
is refused.

Three operations are autograd primitives of this module instead of autograd.numpy's
(their rules are :mod:`diffcompare.ops.structural`'s, which the tape uses too, and each
has its forward rule beside its reverse one, for ``autograd.make_jvp``):
``prod`` (autograd's gradient is ``ans / x``, NaN where x holds a zero), ``sort``
(autograd hands a tie's gradient to one of the tied entries; here they share it, as
for ``max``) and ``einsum`` (autograd cannot differentiate a label repeated within an
operand, ``'ii->'``).

autograd boxes the result of every operation as a plain ``ArrayBox`` (it picks the box
class by the type of the value); the box's operators and methods and the functions of
:data:`autograd_namespace` hand it on as a ``TracedArrayBox``.
"""

from __future__ import annotations

import importlib
from functools import wraps

import autograd.numpy as anp
import numpy as np
from autograd.extend import defjvp, defjvp_argnum, defvjp, defvjp_argnum, primitive
from autograd.numpy.numpy_boxes import ArrayBox
from autograd.numpy.numpy_vjps import unbroadcast_f
from autograd.tracer import getval

from ...ops.array_module import array_module_functions
from ...ops.namespace import NOT_AN_OPERATION, Namespace, unsupported
from ...ops.structural import (
    einsum_arguments,
    einsum_spec,
    einsum_vjp,
    products_of_others,
    share_ties,
    sort_order,
    sort_vjp,
)
from ...ops.table import canonical_name, numpy_function_name, operation

__all__ = ["TracedArrayBox", "as_traced", "autograd_namespace"]


def as_traced(value):
    """``value``, with a plain ``ArrayBox`` turned into a :class:`TracedArrayBox`.

    The two classes have the same slots, so the box changes class in place.
    """
    if type(value) is ArrayBox:
        value.__class__ = TracedArrayBox
    return value


def _returning_traced(function):
    @wraps(function, updated=())  # not the primitive's attributes: this is no primitive
    def returning_traced(*args, **kwargs):
        result = function(*args, **kwargs)
        if type(result) is ArrayBox:  # as_traced, inline: this runs once per operation
            result.__class__ = TracedArrayBox
        elif isinstance(result, tuple):  # slogdet's and eigh's pairs: each result traced
            result = type(result)(*map(as_traced, result))
        return result

    return returning_traced


#: numpy functions that ask about the shape: answered from the plain value.
_SHAPE_QUERIES = frozenset(("shape", "ndim", "size"))

#: numpy functions that are one of the box's methods (``np.ravel(v)`` is ``v.ravel()``).
_AS_METHODS = {
    "ravel": lambda a, order="C": a.ravel(order),
    "copy": lambda a, order="K", subok=False: a.copy(),
}


class TracedArrayBox(ArrayBox):
    """An autograd ``ArrayBox`` that answers numpy's protocols as the tape's values do.

    Unlike ``ArrayBox``: numpy functions called on it and its array methods run as the
    operations of ``xp`` (or are refused by name), ``copy()`` returns the box itself, a
    conversion to a numpy array is a ``TypeError``, and its operators and methods return
    ``TracedArrayBox``.
    """

    __slots__ = ()

    # np.sum(v), np.copy(v), np.dot(v, w): numpy functions that have an xp twin run as
    # xp's; any other is refused by its full name.
    def __array_function__(self, func, types, args, kwargs):
        name = func.__name__
        if func.__module__ == "numpy" and name in _SHAPE_QUERIES:
            return func(*map(getval, args), **kwargs)
        if func.__module__ == "numpy" and name in _AS_METHODS:
            return _AS_METHODS[name](*args, **kwargs)
        op = numpy_function_name(func)
        function = None if op is None else operation(_FUNCTIONS, op)
        if function is None:
            raise unsupported(
                "autograd",
                f"{func.__module__}.{name}",
                NOT_AN_OPERATION,
            )
        return function(*args, **kwargs)

    def __array__(self, dtype=None, copy=None):
        raise TypeError(
            "a value traced by autograd cannot be converted to a numpy array (that would "
            "drop its derivative); build arrays with xp.stack or xp.asarray"
        )

    def copy(self, order="K"):
        return self  # autograd's values are never changed in place

    # clip and round are xp's (autograd's own clip gives 0, not 1/2, at a bound).

    # numpy's and scipy.special's ufuncs that are operations of xp run as xp's (np.hypot
    # with the subgradient at the origin, scipy.special.erf, which autograd's box refuses);
    # the others are autograd's.
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        function = _FUNCTIONS.get(canonical_name(ufunc.__name__))
        if method == "__call__" and not kwargs and function is not None:
            return function(*inputs)
        return as_traced(ArrayBox.__array_ufunc__(self, ufunc, method, *inputs, **kwargs))

    def clip(self, *bounds, **named):
        return operation(_FUNCTIONS, "clip")(self, *bounds, **named)

    def round(self, decimals=0):
        return _FUNCTIONS["round"](self, decimals)

    T = property(lambda self: as_traced(anp.transpose(self)))

    # The array methods that are operations of xp run as xp's, as on the tape (autograd's
    # own prod is NaN at a zero factor, its take has no gradient).
    # fmt: off
    def prod(self, axis=None, keepdims=False): return _xp.prod(self, axis=axis, keepdims=keepdims)
    def cumsum(self, axis=None): return _xp.cumsum(self, axis=axis)
    def min(self, axis=None, keepdims=False): return _xp.min(self, axis=axis, keepdims=keepdims)
    def var(self, axis=None, ddof=0, keepdims=False): return _xp.var(self, axis, None, None, ddof, keepdims)
    def std(self, axis=None, ddof=0, keepdims=False): return _xp.std(self, axis, None, None, ddof, keepdims)
    def squeeze(self, axis=None): return _xp.squeeze(self, axis)
    def diagonal(self, offset=0, axis1=0, axis2=1): return _xp.diagonal(self, offset, axis1, axis2)
    def trace(self, offset=0, axis1=0, axis2=1): return _xp.trace(self, offset, axis1, axis2)
    def repeat(self, repeats, axis=None): return _xp.repeat(self, repeats, axis)
    def take(self, indices, axis=None, mode="raise"): return _xp.take(self, indices, axis, mode=mode)
    # fmt: on

    def sort(self, axis=-1, kind=None, order=None):
        raise unsupported(
            "autograd",
            "numpy.ndarray.sort",
            "a traced value cannot be sorted in place; write xp.sort(x), which returns the sorted values",
        )


# The members of ArrayBox that return boxes: operators, indexing, numpy's ufuncs and
# autograd's array methods.  Comparisons return plain arrays.
# fmt: off
_RETURNING_BOXES = (
    "__getitem__", "__neg__", "__abs__",
    "__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__",
    "__truediv__", "__rtruediv__", "__pow__", "__rpow__", "__matmul__", "__rmatmul__",
    "__mod__", "__rmod__", "astype",
    "sum", "mean", "max", "reshape", "transpose", "ravel", "flatten",
    "compress", "cumprod", "ptp", "swapaxes",
)
# fmt: on
for _name in _RETURNING_BOXES:
    setattr(TracedArrayBox, _name, _returning_traced(getattr(ArrayBox, _name)))

# autograd recognises a box by its exact class: register this one (only its own class:
# the boxes of numpy's types stay ArrayBox for every other user of autograd).
TracedArrayBox.register(TracedArrayBox)


def _asarray(obj, dtype=None):
    # Lists that hold traced values must go through autograd's array() to stay traced.
    return anp.array(obj, dtype=np.float64 if dtype is None else dtype)


def _transpose(x, axes=None):
    # autograd's VJP of transpose inverts the permutation with argsort, which orders
    # negative axes as if they were the smallest ((-1, 0, 1) as the identity): hand it
    # the same permutation with non-negative axes.
    if axes is not None:
        axes = tuple(axis % anp.ndim(x) for axis in axes)
    return anp.transpose(x, axes)


# --- elementwise group: what autograd lacks or differentiates otherwise ------------------

#: xlogy is not in autograd.scipy.special: a primitive with its two partials, log(y) and
#: x / y, the latter 0 where x = 0 (xlogy(0, y) = 0 for every y).
_xlogy = primitive(lambda x, y: importlib.import_module("scipy.special").xlogy(x, y))
defvjp(
    _xlogy,
    lambda ans, x, y: unbroadcast_f(x, lambda g: g * anp.log(y)),
    lambda ans, x, y: unbroadcast_f(y, lambda g: g * anp.where(x == 0, 0.0, x / anp.where(x == 0, 1.0, y))),
)
defjvp(
    _xlogy,
    lambda g, ans, x, y: g * anp.log(y),
    lambda g, ans, x, y: g * anp.where(x == 0, 0.0, x / anp.where(x == 0, 1.0, y)),
)


def _subgradient_at_origin(function):
    # autograd's hypot and arctan2 rules divide by a^2 + b^2: NaN at the origin, where the
    # other methods take the subgradient 0.  The second where keeps the origin out of
    # autograd's rule (a where only masks a NaN gradient after it has been computed).
    def at_origin(a, b):
        origin = (a == 0) & (b == 0)
        # a + 1 at the origin (where a is 0), by an addition: autograd's add undoes
        # broadcasting in its gradient, its where does not
        value = function(a + np.where(origin, 1.0, 0.0), b)
        return anp.where(origin, function(getval(a), getval(b)), value)

    at_origin.__name__ = function.__name__
    return at_origin


# --- primitives with the rules of diffcompare.ops.structural ------------------------------


@primitive
def _prod(x, axis=None, keepdims=False):
    return np.prod(x, axis=axis, keepdims=keepdims)


def _prod_vjp(ans, x, axis=None, keepdims=False):
    others = products_of_others(x, axis)

    def vjp(g):
        if axis is not None and not keepdims:
            g = anp.expand_dims(g, axis)
        return g * others  # the products of the other factors: right at zeros

    return vjp


defvjp(_prod, _prod_vjp)
# forward: the tangent weighted by the same partials, then reduced as prod reduces
defjvp(
    _prod,
    lambda g, ans, x, axis=None, keepdims=False: anp.sum(
        g * products_of_others(x, axis), axis=axis, keepdims=keepdims
    ),
)


@primitive
def _sort(x, axis=-1, kind=None, order=None, stable=None):
    return np.sort(x, axis=axis, kind=kind, order=order, stable=stable)


defvjp(_sort, lambda ans, x, axis=-1, kind=None, order=None, stable=None: lambda g: sort_vjp(g, ans, x, axis))


def _sort_jvp(g, ans, x, axis=-1, kind=None, order=None, stable=None):
    # the tangent sorted as x is, then averaged over ties: the transpose of sort_vjp, which
    # puts the tie-shared cotangent back in place
    if axis is None:  # numpy sorts the flattened array
        return _sort_jvp(anp.ravel(g), ans, np.ravel(x), -1)
    return share_ties(ans, anp.take_along_axis(g, sort_order(x, axis), axis), axis)


defjvp(_sort, _sort_jvp)


@primitive
def _einsum_of(subscripts, *operands):
    return np.einsum(subscripts, *operands)


def _einsum_vjp(argnum, ans, args, kwargs):
    subscripts, *operands = args
    return lambda g: einsum_vjp(argnum - 1, g, operands, subscripts)


defvjp_argnum(_einsum_of, _einsum_vjp)
# einsum is linear in each operand: its forward rule is the einsum with the tangent there
defjvp_argnum(
    _einsum_of,
    lambda argnum, g, ans, args, kwargs: _einsum_of(*(g if i == argnum else a for i, a in enumerate(args))),
)


def _einsum(*args, optimize=False):
    subscripts, operands = einsum_arguments(args)
    einsum_spec(subscripts, tuple(anp.ndim(o) for o in operands))  # a string that fits the operands
    return _einsum_of(subscripts, *operands)


_FUNCTIONS = {
    name: _returning_traced(function)
    for name, function in {
        **array_module_functions(anp, _asarray),
        "transpose": _transpose,
        "xlogy": _xlogy,
        "hypot": _subgradient_at_origin(anp.hypot),
        "arctan2": _subgradient_at_origin(anp.arctan2),
        # reductions, scans and shape operations
        "prod": _prod,
        "sort": _sort,
        "einsum": _einsum,
    }.items()
}

autograd_namespace = _xp = Namespace("autograd", _FUNCTIONS)
