"""The vectorised SymPy namespace: arrays are elementwise expressions over slice symbols.

Where :mod:`~diffcompare.methods.symbolic.namespace` gives every coordinate of ``x`` its
own symbol, here an array is *one* SymPy expression that holds elementwise: ``x`` is
the symbol ``x``, a basic slice ``x[1:]`` (or a single element ``x[0]``) is a new
symbol standing for those positions, and ``100.0 * (x[1:] - x[:-1] ** 2) ** 2`` is a
single expression in two symbols, whatever the length of ``x``.  A whole-array
reduction (``sum``, ``mean``, ``max``, ``logsumexp``) becomes a scalar symbol ``r_k``
whose definition is recorded on the :class:`VectorTrace`; everything else the program
computes is an expression in slice, constant and reduction symbols.

Only lengths depend on ``n``: each symbol records the positions it stands for (a
``range`` over ``range(n)``, so slices of slices compose exactly) and every elementwise
operation checks that its operands' shapes broadcast, as numpy would.  What the form
cannot express (``matmul``, ``reshape``, reductions along an axis, ``where`` with a
traced condition, fancy indexing) raises ``NotImplementedError`` naming the operation:
a method that cannot handle a function must say so, never return a wrong number.

Float constants enter as SymPy Floats holding the double exactly, at
:data:`~diffcompare.methods.symbolic.namespace.CONSTANT_DIGITS` digits, as in the scalar
SymPy namespace.
"""

from __future__ import annotations

import itertools
import operator
from collections.abc import Callable
from dataclasses import dataclass
from numbers import Integral, Real
from typing import Any

import numpy as np
import sympy
from sympy.codegen.cfunctions import expm1, log1p

from ...ops.namespace import NOT_AN_OPERATION, Namespace, UnsupportedOperationError, unsupported
from ...ops.numpy_namespace import NUMPY_FUNCTIONS
from ...ops.table import CONSTRUCTORS, OPS, canonical_name, numpy_function_name, only_default_decimals
from ..symbolic.namespace import BINARY_SPELLINGS, CONSTANT_DIGITS, extremum, sympy_spelling

__all__ = [
    "BINARY",
    "NORMALIZATIONS",
    "REDUCTIONS",
    "UNARY",
    "UNSUPPORTED",
    "Reduction",
    "VectorExpression",
    "VectorTrace",
    "sympy_vector_namespace",
]

Position = range | int


def _softplus(e):
    return log1p(sympy.exp(e))


def _larger(a, b):
    # A Piecewise, as in the scalar SymPy namespace: its derivative is a Piecewise too,
    # which lambdify prints as numpy.select (elementwise on arrays).  Ties share the
    # derivative equally.  Conditions are differences against 0, which SymPy's canonical
    # ordering leaves alone.
    return extremum([a, b])


def _smaller(a, b):
    return extremum([a, b], larger=False)


#: Elementwise operations of one argument, as SymPy functions: the spellings of their
#: rows in OPS, except that log1p and expm1 are SymPy's codegen functions here, which
#: numpy evaluates without the cancellation of log(1 + x) and exp(x) - 1 (their
#: derivatives are 1/(1 + x) and exp(x)).
_CODEGEN_SPELLINGS = {"expm1": expm1, "log1p": log1p, "softplus": _softplus}
UNARY: dict[str, Callable[[sympy.Expr], sympy.Expr]] = {
    name: _CODEGEN_SPELLINGS.get(name) or sympy_spelling(spec.sympy)
    for name, spec in OPS.items()
    if spec.kind == "unary"
}

# fmt: off
#: Elementwise operations of two arguments (numpy broadcasting of the shapes).
BINARY: dict[str, Callable[[sympy.Expr, sympy.Expr], sympy.Expr]] = {
    "add": operator.add, "subtract": operator.sub, "multiply": operator.mul,
    "divide": operator.truediv, "power": operator.pow,
    "maximum": _larger, "minimum": _smaller,
    "fmax": _larger, "fmin": _smaller,  # no NaN among SymPy's values
    **BINARY_SPELLINGS,  # hypot, arctan2, logaddexp, xlogy: as their rows spell them
}

#: Whole-array reductions: each becomes a scalar reduction symbol.
REDUCTIONS: tuple[str, ...] = ("sum", "mean", "max", "logsumexp", "prod")

#: Operations written as an elementwise expression in a whole-array reduction symbol:
#: ``log_softmax(x) = x - r`` with ``r = logsumexp(x)``.
NORMALIZATIONS: dict[str, str] = {"log_softmax": "logsumexp"}

_MATRIX = "it mixes elements across positions (a matrix is no 1-d elementwise expression)"
_NORM = "norms are not among its reductions (write xp.sum(xp.abs(x)) or xp.sqrt(xp.sum(x * x)))"

#: Operations the form cannot express on a traced array, with the reason.
UNSUPPORTED: dict[str, str] = {
    "where":       "elementwise selection is not part of the form",
    "matmul":      "it mixes elements across positions",
    "reshape":     "arrays are 1-d elementwise expressions",
    "transpose":   "arrays are 1-d elementwise expressions",
    "concatenate": "an expression cannot hold two pieces of different slices",
    "stack":       "arrays are 1-d elementwise expressions",
    # linear algebra (xp.linalg)
    "linalg.solve":            _MATRIX,
    "linalg.solve_triangular": _MATRIX,
    "linalg.inv":              _MATRIX,
    "linalg.det":              _MATRIX,
    "linalg.slogdet":          _MATRIX,
    "linalg.cholesky":         _MATRIX,
    "linalg.eigh":             "eigenvalues have no closed form",
    "linalg.norm":             _NORM,
    "linalg.vector_norm":      _NORM,
    "linalg.matrix_norm":      _MATRIX,
    # reductions, scans and shape operations
    "cumsum":      "each running sum mixes elements across positions",
    "einsum":      "it mixes elements across positions",
    "sort":        "SymPy cannot sort symbols: their order is only known once they have values",
}
# fmt: on

_COMPARISONS = frozenset(("greater", "greater_equal", "less", "less_equal", "equal", "not_equal"))


def _cannot(op: str, reason: str) -> UnsupportedOperationError:
    return unsupported(
        "symbolic_vector",
        op,
        f"the vectorised form cannot express it: {reason}; "
        "use method 'symbolic' (one symbol per coordinate) or 'tape'",
    )


def _not_an_operation(function: str) -> UnsupportedOperationError:
    return unsupported("symbolic_vector", function, NOT_AN_OPERATION)


@dataclass(frozen=True)
class Reduction:
    """A whole-array reduction ``symbol = op(expression)`` over ``length`` elements.

    Attributes
    ----------
    symbol : sympy.Symbol
        The scalar symbol ``r_k`` that stands for the result.
    op : str
        ``"sum"``, ``"mean"``, ``"max"`` or ``"logsumexp"``.
    expression : sympy.Expr
        The elementwise expression reduced.
    length : int
        Number of elements (the only part that depends on ``n``).
    """

    symbol: sympy.Symbol
    op: str
    expression: sympy.Expr
    length: int


class VectorTrace:
    """What every symbol of one trace stands for: positions, constants, reductions.

    Parameters
    ----------
    dim : int
        Length of ``x``.

    Attributes
    ----------
    positions : dict
        Slice symbol -> its positions in ``x``: a ``range`` or, for one element, an int.
    constants : dict
        Constant symbol -> its 1-d float64 array.
    reductions : list of Reduction
        In creation order, which is a topological order: a reduction can only use
        reductions created before it.
    restricted : list of str
        Why ``f`` may be infinite or NaN at a finite ``x`` short of overflow: the
        operations applied to traced values that are not total (``OpSpec.total``: a
        pole, the edge of a domain), a traced divisor, a power that is not ``x**k``
        with a constant natural ``k`` or ``c**x`` with a constant ``c > 0``, a constant
        that is not finite.  Empty when ``f`` is :attr:`total`.
    """

    def __init__(self, dim: int) -> None:
        self.dim = dim
        self.positions: dict[sympy.Symbol, Position] = {}
        self.constants: dict[sympy.Symbol, np.ndarray] = {}
        self.reductions: list[Reduction] = []
        self.restricted: list[str] = []
        self._symbol_at: dict[Position, sympy.Symbol] = {}
        self._constant_ids: dict[int, tuple[np.ndarray, sympy.Symbol]] = {}
        self._slice_names = itertools.count()
        self.x = self.slice_symbol(range(dim))

    @property
    def total(self) -> bool:
        """Whether ``f`` is finite at every finite ``x`` where its value does not overflow.

        SymPy simplifies as it builds (``(x - a) / (x - a)`` is 1), so the value of the
        traced expression can stand in for ``f(x)`` computed by numpy only where ``f``
        has no singular point to simplify away.
        """
        return not self.restricted

    def restrict(self, reason: str) -> None:
        """Record ``reason`` in :attr:`restricted` (once)."""
        if reason not in self.restricted:
            self.restricted.append(reason)

    def shape_of(self, symbol: sympy.Symbol) -> tuple[int, ...]:
        """The shape a symbol stands for: ``()`` for elements and reductions."""
        if symbol in self.positions:
            position = self.positions[symbol]
            return () if isinstance(position, int) else (len(position),)
        if symbol in self.constants:
            return self.constants[symbol].shape
        return ()

    def slice_symbol(self, position: Position) -> sympy.Symbol:
        """The symbol for ``x`` at ``position`` (one symbol per distinct set of positions)."""
        if position not in self._symbol_at:
            if isinstance(position, int):
                name = f"x{position}"
            elif position == range(self.dim):
                name = "x"
            else:
                name = f"x_s{next(self._slice_names)}"
            symbol = sympy.Symbol(name, real=True)
            self._symbol_at[position] = symbol
            self.positions[symbol] = position
        return self._symbol_at[position]

    def constant_symbol(self, array: np.ndarray) -> sympy.Symbol:
        """A symbol for a constant 1-d array (the same array object, the same symbol)."""
        if id(array) not in self._constant_ids:
            symbol = sympy.Symbol(f"c{len(self.constants)}", real=True)
            self.constants[symbol] = np.asarray(array, dtype=np.float64)
            if not np.all(np.isfinite(self.constants[symbol])):
                self.restrict("a constant that is not finite")
            # keep the array itself alive: a freed temporary's id could be reused
            self._constant_ids[id(array)] = (array, symbol)
        return self._constant_ids[id(array)][1]

    def reduction_symbol(self, op: str, expression: sympy.Expr, length: int) -> sympy.Symbol:
        """Record ``op`` over ``expression`` and return its new scalar symbol."""
        symbol = sympy.Symbol(f"r{len(self.reductions)}", real=True)
        self.reductions.append(Reduction(symbol, op, expression, length))
        return symbol

    def indexed(self, symbol: sympy.Symbol, key: slice | int) -> sympy.Expr:
        """``symbol[key]`` as a symbol (or an exact number, for one constant element)."""
        if symbol in self.positions:
            # range(n)[a:b:c][d:e:f] is again a range: slices of slices compose exactly.
            return self.slice_symbol(self.positions[symbol][key])
        part = self.constants[symbol][key]
        if np.ndim(part) == 0:
            return sympy.Float(float(part), CONSTANT_DIGITS)
        return self.constant_symbol(part)

    def input(self) -> VectorExpression:
        """``x`` itself, ready to pass to ``f``."""
        return VectorExpression(self, self.x, (self.dim,))


class VectorExpression:
    """A traced array: one SymPy expression that holds for each of its elements.

    Supports numpy's arithmetic operators, basic indexing (an int, a slice), ``shape``,
    ``len``, the methods ``sum``, ``mean``, ``max``, ``min`` and ``prod``, and ``ravel``,
    ``flatten`` and ``copy`` (also ``np.shape``, ``np.ndim``, ``np.size``, ``np.ravel``,
    ``np.copy``).  Comparisons and conversion to a plain number are refused: the trace
    has no values to compare.
    """

    __slots__ = ("trace", "expression", "shape")
    __array_priority__ = 100.0

    def __init__(self, trace: VectorTrace, expression: sympy.Expr, shape: tuple[int, ...]) -> None:
        self.trace = trace
        self.expression = expression
        self.shape = shape

    def __repr__(self) -> str:
        return f"VectorExpression({self.expression}, shape={self.shape})"

    ndim = property(lambda self: len(self.shape))
    size = property(lambda self: int(np.prod(self.shape, dtype=int)))
    dtype = property(lambda self: np.dtype(np.float64))
    T = property(lambda self: _refuse("transpose", self))

    def __len__(self) -> int:
        if not self.shape:
            raise TypeError("len() of unsized object")
        return self.shape[0]

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def __getattr__(self, name):
        # Reached only for names the class lacks: numpy's other array methods are refused
        # by name, as an error that is also an AttributeError (hasattr() answers False).
        if name == "T":
            # The property T raised (an UnsupportedOperationError is an AttributeError too,
            # so Python asked here next): raise its refusal again.
            _refuse("transpose", self)
        if not name.startswith("_") and hasattr(np.ndarray, name):
            raise _not_an_operation(f"numpy.ndarray.{name}")
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    # numpy interoperability: ndarray (op) traced and np.exp(traced) come here.
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        op = canonical_name(ufunc.__name__)
        if method == "__call__" and not kwargs:
            if op in _COMPARISONS:
                _compare(op)
            if op in UNARY:
                return _unary(op, *inputs)
            if op in BINARY:
                return _binary(op, *inputs)
        raise _cannot(
            f"numpy.{ufunc.__name__}", f"no rule for the ufunc method {method!r}; call it through xp"
        )

    # np.sum(v), np.concatenate(...): numpy functions with an xp twin go to the twin;
    # np.shape(v), np.ravel(v): questions about the shape and copies are answered.
    def __array_function__(self, func, types, args, kwargs):
        if func in _SHAPE_FUNCTIONS and len(args) == 1 and not kwargs:
            return _SHAPE_FUNCTIONS[func](*args)
        op = numpy_function_name(func)
        function = None if op is None else sympy_vector_namespace.lookup(op)
        if function is None:
            raise _not_an_operation(f"{func.__module__}.{func.__name__}")
        return function(*args, **kwargs)

    def __array__(self, dtype=None, copy=None):
        raise TypeError(
            "a traced vector expression cannot be converted to a numpy array (it has no values); "
            "build arrays with xp operations"
        )

    def __float__(self):
        raise TypeError("a traced vector expression cannot be converted to float (it has no values)")

    def __bool__(self):
        raise NotImplementedError(
            "symbolic tracing failed: f uses Python control flow on a traced value, "
            "which the vectorised symbolic form cannot express"
        )

    # fmt: off
    def __add__(self, other): return _binary("add", self, other)
    def __radd__(self, other): return _binary("add", other, self)
    def __sub__(self, other): return _binary("subtract", self, other)
    def __rsub__(self, other): return _binary("subtract", other, self)
    def __mul__(self, other): return _binary("multiply", self, other)
    def __rmul__(self, other): return _binary("multiply", other, self)
    def __truediv__(self, other): return _binary("divide", self, other)
    def __rtruediv__(self, other): return _binary("divide", other, self)
    def __pow__(self, other): return _binary("power", self, other)
    def __rpow__(self, other): return _binary("power", other, self)
    def __matmul__(self, other): return _refuse("matmul", self, other)
    def __rmatmul__(self, other): return _refuse("matmul", other, self)
    def __neg__(self): return _unary("negative", self)
    def __pos__(self): return self
    def __abs__(self): return _unary("abs", self)
    def __getitem__(self, key): return _index(self, key)

    def __lt__(self, other): _compare("less")
    def __le__(self, other): _compare("less_equal")
    def __gt__(self, other): _compare("greater")
    def __ge__(self, other): _compare("greater_equal")
    def __eq__(self, other): _compare("equal")
    def __ne__(self, other): _compare("not_equal")
    __hash__ = None  # equality would be elementwise, as for arrays

    def sum(self, axis=None, keepdims=False): return _reduce("sum", self, axis, keepdims)
    def mean(self, axis=None, keepdims=False): return _reduce("mean", self, axis, keepdims)
    def max(self, axis=None, keepdims=False): return _reduce("max", self, axis, keepdims)
    def reshape(self, *shape): return _refuse("reshape", self)
    def transpose(self, *axes): return _refuse("transpose", self)
    def copy(self): return self  # expressions are immutable
    def clip(self, *bounds, **named): return sympy_vector_namespace.clip(self, *bounds, **named)
    def round(self, decimals=0): return sympy_vector_namespace.round(self, decimals)
    def prod(self, axis=None, keepdims=False): return _reduce("prod", self, axis, keepdims)
    def min(self, axis=None, keepdims=False): return sympy_vector_namespace.min(self, axis, keepdims)
    def var(self, axis=None, ddof=0, keepdims=False): return _xp().var(self, axis, None, None, ddof, keepdims)
    def std(self, axis=None, ddof=0, keepdims=False): return _xp().std(self, axis, None, None, ddof, keepdims)
    def cumsum(self, axis=None): return sympy_vector_namespace.cumsum(self, axis)
    def squeeze(self, axis=None): return sympy_vector_namespace.squeeze(self, axis)
    def repeat(self, repeats, axis=None): return sympy_vector_namespace.repeat(self, repeats, axis)
    def take(self, indices, axis=None, mode="raise"): return _xp().take(self, indices, axis, mode=mode)
    # fmt: on

    def ravel(self) -> VectorExpression:
        """The array itself if 1-d; a single value as an array of one."""
        return self if self.shape else VectorExpression(self.trace, self.expression, (1,))

    flatten = ravel


def _xp() -> Namespace:
    return sympy_vector_namespace


#: numpy functions that ask about the shape or copy, called on a traced array.
_SHAPE_FUNCTIONS: dict[Callable, Callable] = {
    np.shape: lambda x: x.shape,
    np.ndim: lambda x: x.ndim,
    np.size: lambda x: x.size,
    np.ravel: VectorExpression.ravel,
    np.copy: VectorExpression.copy,
}


def _compare(op: str):
    raise _cannot(
        op,
        "a comparison of traced values is a condition, and the form has no elementwise selection "
        "(xp.where with a traced condition, Python if)",
    )


def _refuse(op: str, *args: Any):
    raise _cannot(op, UNSUPPORTED[op])


def _trace_of(args) -> VectorTrace:
    traces = {id(a.trace): a.trace for a in args if isinstance(a, VectorExpression)}
    if len(traces) != 1:
        raise ValueError("an operation mixes values of two different traces")
    return next(iter(traces.values()))


def _operand(op: str, value: Any, trace: VectorTrace) -> tuple[sympy.Expr, tuple[int, ...]]:
    """An argument of ``op`` as (SymPy expression, shape); numbers enter exactly."""
    if isinstance(value, VectorExpression):
        return value.expression, value.shape
    if isinstance(value, (list, tuple)):
        if _holds_traced(value):
            raise _cannot(op, "a sequence of traced values would stack them")
        value = np.asarray(value, dtype=np.float64)
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value[()]
    if isinstance(value, (bool, np.bool_, Integral)):
        return sympy.Integer(int(value)), ()
    if isinstance(value, Real):
        if not np.isfinite(value):
            trace.restrict("a constant that is not finite")
        return sympy.Float(float(value), CONSTANT_DIGITS), ()
    if isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
        if value.ndim != 1:
            raise _cannot(op, f"a constant of shape {value.shape} is not a 1-d elementwise operand")
        return trace.constant_symbol(value), value.shape
    raise TypeError(f"the vectorised symbolic form takes real operands; got {type(value).__name__}")


def _broadcast(op: str, shapes) -> tuple[int, ...]:
    try:
        return np.broadcast_shapes(*shapes)
    except ValueError:
        # numpy raises ValueError too: x[1:] + x has no meaning at any length.
        raise ValueError(
            f"{op}: operands could not be broadcast together with shapes "
            f"{' '.join(str(s) for s in shapes)} (slices of different lengths)"
        ) from None


def _unary(op: str, x: Any):
    if not isinstance(x, VectorExpression):
        return NUMPY_FUNCTIONS[op](x)
    if not OPS[op].total:
        x.trace.restrict(op)
    return VectorExpression(x.trace, UNARY[op](x.expression), x.shape)


def _binary(op: str, a: Any, b: Any):
    if not (isinstance(a, VectorExpression) or isinstance(b, VectorExpression)):
        return NUMPY_FUNCTIONS[op](a, b)
    trace = _trace_of((a, b))
    (ea, sa), (eb, sb) = _operand(op, a, trace), _operand(op, b, trace)
    shape = _broadcast(op, (sa, sb))
    if not _total(op, a, b):
        trace.restrict(op)
    return VectorExpression(trace, BINARY[op](ea, eb), shape)


def _total(op: str, a: Any, b: Any) -> bool:
    """Whether ``op(a, b)`` is finite at every finite value of the traced operands."""
    if op == "divide":  # a constant divisor with no zero
        return not isinstance(b, VectorExpression) and bool(np.all(np.asarray(b, dtype=np.float64) != 0))
    if op == "power":  # x**k with a natural k (no pole at 0), or c**x with c > 0
        if not isinstance(b, VectorExpression):
            k = np.asarray(b, dtype=np.float64)
            return bool(np.all((k >= 0) & (k == np.floor(k))))
        return not isinstance(a, VectorExpression) and bool(np.all(np.asarray(a, dtype=np.float64) > 0))
    spec = OPS.get(op)
    return spec is not None and spec.total


def _whole_array(op: str, x: VectorExpression, axis, keepdims) -> None:
    if keepdims:
        raise _cannot(
            op, "keepdims=True keeps an axis; only whole-array reductions to a scalar are supported"
        )
    whole = axis is None or (x.ndim == 1 and axis in (0, -1, (0,), (-1,)))
    if not whole:
        raise _cannot(op, f"axis={axis!r}: only whole-array reductions are supported")


def _reduce(op: str, x: Any, axis=None, keepdims=False):
    if not isinstance(x, VectorExpression):
        return NUMPY_FUNCTIONS[op](x, axis=axis, keepdims=keepdims)
    _whole_array(op, x, axis, keepdims)
    if not x.shape:  # the reduction of a scalar is the scalar itself
        return x
    symbol = x.trace.reduction_symbol(op, x.expression, x.shape[0])
    return VectorExpression(x.trace, symbol, ())


def _normalize(op: str, x: Any, axis=-1):
    """``x - r`` with ``r`` the whole-array reduction :data:`NORMALIZATIONS` names."""
    if not isinstance(x, VectorExpression):
        return NUMPY_FUNCTIONS[op](x, axis=axis)
    _whole_array(op, x, axis, False)
    return _binary("subtract", x, _reduce(NORMALIZATIONS[op], x))


def _key(key: Any) -> slice | int:
    """A basic 1-d index (a slice or an int), or ``NotImplementedError`` naming the index."""
    if isinstance(key, tuple) and len(key) == 1:
        key = key[0]
    if key is Ellipsis:
        return slice(None)
    if isinstance(key, slice):
        return key
    if isinstance(key, Integral) and not isinstance(key, (bool, np.bool_)):
        return int(key)
    raise _cannot("getitem", f"index {key!r} is not a single int or slice (fancy or multi-axis indexing)")


def _index(x: VectorExpression, key: Any) -> VectorExpression:
    key = _key(key)
    if not x.shape:
        raise IndexError("invalid index to scalar variable")
    (length,) = x.shape
    if isinstance(key, int) and not -length <= key < length:
        raise IndexError(f"index {key} is out of bounds for axis 0 with size {length}")
    trace = x.trace
    shape = () if isinstance(key, int) else (len(range(length)[key]),)
    if x.expression == trace.x:
        return VectorExpression(trace, trace.indexed(trace.x, key), shape)
    replacements = {}
    for symbol in x.expression.free_symbols:
        symbol_shape = trace.shape_of(symbol)
        if symbol_shape == ():
            continue  # a scalar is the same at every position
        if symbol_shape != x.shape:
            raise _cannot("getitem", "indexing an expression that broadcasts a length-1 array")
        replacements[symbol] = trace.indexed(symbol, key)
    return VectorExpression(trace, x.expression.xreplace(replacements), shape)


def _sequence_op(op: str) -> Callable:
    def apply(arrays, axis=0):
        if any(isinstance(a, VectorExpression) for a in arrays):
            _refuse(op)
        return NUMPY_FUNCTIONS[op](arrays, axis=axis)

    return apply


def _array_op(op: str) -> Callable:
    def apply(*args, **kwargs):
        if any(isinstance(a, VectorExpression) for a in args):
            _refuse(op)
        return NUMPY_FUNCTIONS[op](*args, **kwargs)

    return apply


def _holds_traced(obj) -> bool:
    """Whether a (nested) list or tuple holds a traced value."""
    if isinstance(obj, (list, tuple)):
        return any(map(_holds_traced, obj))
    return isinstance(obj, VectorExpression)


def _asarray(obj, dtype=None):
    if isinstance(obj, VectorExpression):
        return obj
    if _holds_traced(obj):
        raise _cannot("asarray", "a sequence of traced values would stack them")
    return NUMPY_FUNCTIONS["asarray"](obj, dtype)


def _functions() -> dict[str, Callable]:
    """The namespace's table: every name of :mod:`diffcompare.ops`, registered explicitly."""
    functions: dict[str, Callable] = {}
    for op in UNARY:
        functions[op] = lambda x, op=op: _unary(op, x)
    functions["round"] = only_default_decimals(functions["round"])
    for op in BINARY:
        functions[op] = lambda a, b, op=op: _binary(op, a, b)
    for op in REDUCTIONS:
        functions[op] = lambda x, axis=None, keepdims=False, op=op: _reduce(op, x, axis, keepdims)
    for op in NORMALIZATIONS:
        functions[op] = lambda x, axis=-1, op=op: _normalize(op, x, axis)
    for op in ("where", "matmul", "reshape", "transpose", "cumsum", "einsum", "sort"):
        functions[op] = _array_op(op)
    for op in (name for name in UNSUPPORTED if name.startswith("linalg.")):
        functions[op] = _array_op(op)
    for op in ("concatenate", "stack"):
        functions[op] = _sequence_op(op)
    functions["getitem"] = operator.getitem
    functions["asarray"] = _asarray
    for op in CONSTRUCTORS:
        functions.setdefault(op, NUMPY_FUNCTIONS[op])
    return functions  # Namespace checks that the table covers exactly OPS and CONSTRUCTORS


sympy_vector_namespace = Namespace("symbolic_vector", _functions())
