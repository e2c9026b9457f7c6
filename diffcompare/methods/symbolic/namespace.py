"""The SymPy namespace: arrays are numpy object arrays of SymPy expressions.

Tracing a test function with this namespace turns it into a SymPy expression.  Purely
numeric work (a constant's exp, 2.0 * pi) is done by numpy, exactly as the float64
program does it.  Where a float constant meets a symbol it enters the expression as a
SymPy Float holding that double exactly, at :data:`CONSTANT_DIGITS` digits: SymPy's
default 15-digit Floats would round every product and quotient of constants that
tracing and ``sympy.diff`` fold together (``x**6 / 6.0`` becomes ``fl(1/6) x**6``, its
derivative ``6 fl(1/6) x**5`` rounded again), and the reference would then describe a
slightly different function.  What still rounds is a sum of constants more than about
280 binary orders of magnitude apart: ``x + 1e-100 * x`` collects into
``(1 + 1e-100) x``, and 1 + 1e-100 does not fit in 100 digits.

Ordering comparisons (``<``, ``<=``, ``>``, ``>=``, also inside ``maximum``, ``minimum``
and ``max``) are built by :func:`stable_relation`, as a difference against 0.

The traced expression means what the float64 program means, with the derivative
conventions of the tape (``diffcompare.methods.tape.rules``), so that every method agrees:

- a comparison of traced values is a condition (``xp.where`` selects with it); used as a
  number (``xp.sum(x > 0)``, ``(x > 0) * x``) it is 1 where it holds and 0 elsewhere,
  as ``xp.where(x > 0, 1.0, 0.0)`` is: its derivative is 0 away from the switch;
- at a tie, ``maximum``, ``minimum`` and the ``max`` reduction share the derivative
  equally between the tied arguments (:func:`extremum`); ``abs`` has derivative
  ``sign(0) = 0`` at 0.

(``b ** e`` with a traced exponent is traced as it is; its derivatives at ``b = 0`` are
given their limits before differentiation, :func:`diffcompare.methods.symbolic.gradient.powers_with_limits`.)
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from functools import partial
from types import SimpleNamespace

import numpy as np
import sympy

from ...ops.namespace import NOT_AN_OPERATION, Namespace, refusal, unsupported
from ...ops.numpy_namespace import NUMPY_FUNCTIONS
from ...ops.structural import einsum_arguments, einsum_spec
from ...ops.table import OPS, numpy_function_name, only_default_decimals
from .linalg import sympy_linalg_functions

__all__ = [
    "CONSTANT_DIGITS",
    "SymbolicArray",
    "as_number",
    "extremum",
    "stable_relation",
    "sympy_namespace",
]

#: Digits of the SymPy Floats that carry the program's float64 constants.
CONSTANT_DIGITS = 100

_COMPARISONS = frozenset(("greater", "greater_equal", "less", "less_equal", "equal", "not_equal"))


def stable_relation(relation: type, a, b) -> sympy.Basic:
    """``relation(a, b)`` written as ``relation(a - b, 0)``, a form SymPy leaves alone.

    A ``Piecewise`` puts its conditions in SymPy's canonical form, when it is built and
    again for every derivative, and for some relations between two sums with Float
    coefficients that form is not a fixed point: ``2.0*x0 + x1 >= x1 - 2.0*x0`` turns
    into ``2.0*x0 - x1 >= -2.0*x0 - x1`` and back, without end (``RecursionError``).
    With a number on the right, canonicalising at most negates both sides, once.  Both
    forms hold at the same real points, so the reference, which evaluates conditions
    with all its working digits, is unchanged.  In float64 (the symbolic method's
    compiled code) ``fl(a - b) > 0`` can differ from ``fl(a) > fl(b)`` within rounding
    of a tie, as SymPy's own rearranged conditions could.  Two numbers are compared
    directly (``oo - oo`` would be nan).

    Parameters
    ----------
    relation : type
        ``sympy.Gt``, ``sympy.Ge``, ``sympy.Lt`` or ``sympy.Le``.
    a, b : sympy.Expr or number
        The two sides.

    Returns
    -------
    sympy.Basic
        The relation, or ``sympy.true`` / ``sympy.false`` when it can be decided.

    Examples
    --------
    >>> x = sympy.Symbol("x", real=True)
    >>> stable_relation(sympy.Ge, 2.0 * x + 1, 1 - 2.0 * x)
    4.0*x >= 0
    """
    a, b = sympy.sympify(a), sympy.sympify(b)
    if a.is_number and b.is_number:
        return relation(a, b)
    return relation(a - b, 0)


#: The ordering comparisons of traced arrays, elementwise.  ``==`` and ``!=`` stay
#: numpy's object comparisons (structural equality of the expressions).
_ORDERINGS = {
    name: np.frompyfunc(partial(stable_relation, relation), 2, 1)
    for name, relation in [
        ("greater", sympy.Gt),
        ("greater_equal", sympy.Ge),
        ("less", sympy.Lt),
        ("less_equal", sympy.Le),
    ]
}


def extremum(values: Sequence, larger: bool = True, tests: Sequence | None = None) -> sympy.Basic:
    """The largest (or smallest) of ``values``; tied values share the derivative equally.

    A ``Piecewise``: value ``i`` where it beats every other one strictly, and at a tie the
    mean of the tied values, so that ``sympy.diff`` gives each of ``k`` tied values the
    weight ``1/k``, as the tape's ``maximum``, ``minimum`` and ``max`` rules do.  Away
    from ties the selected piece is the value itself: nothing is rounded that was not
    before.  At a tie the mean equals the common value (for two, ``a/2 + b/2`` is ``a``
    in float64 too, except for subnormal halves; for three or more the float64 mean may
    be an ulp away, the 50-digit reference's is exact).  Conditions are differences
    against 0 (:func:`stable_relation`).

    Parameters
    ----------
    values : sequence of sympy.Expr or number
        The candidates (at least one).
    larger : bool, optional
        ``True`` for the maximum, ``False`` for the minimum.
    tests : sequence, optional
        What the conditions compare, one per value (default: the values themselves);
        SymEngine's rewrite of ``Max`` compares the arguments as traced and selects
        their rewritten forms.

    Returns
    -------
    sympy.Basic

    Examples
    --------
    >>> a, b = sympy.symbols("a b", real=True)
    >>> extremum([a, b])
    Piecewise((a, a - b > 0), (b, a - b < 0), (a/2 + b/2, True))
    >>> sympy.diff(extremum([a, b]), a).subs({a: 1, b: 1})
    1/2
    """
    tests = values if tests is None else tests
    if len(values) == 1:
        return values[0]
    beats, matches = (sympy.Gt, sympy.Ge) if larger else (sympy.Lt, sympy.Le)

    def over_all_others(relation: type, i: int):
        return sympy.And(*(stable_relation(relation, tests[i], t) for j, t in enumerate(tests) if j != i))

    alone = [(value, over_all_others(beats, i)) for i, value in enumerate(values)]
    if len(values) == 2:
        shared = (values[0] + values[1]) / sympy.Integer(2)
    else:
        # Each tied value over the number of values tied with it, counted as 1 plus the
        # others that match: a count SymPy can see is at least 1.  (The sum over the count
        # of all matches let piecewise_fold, which distributes a condition over every
        # branch of the pieces it holds, try a count of 0: "Invalid NaN comparison"
        # wherever the max entered a condition, fuzz seeds 6324, 8285.)
        winners = [over_all_others(matches, i) for i in range(len(values))]
        counted = [sympy.Piecewise((1, w), (0, True)) for w in winners]
        shared = sympy.Add(
            *(
                sympy.Piecewise((v / (1 + sympy.Add(*counted[:i], *counted[i + 1 :])), w), (0, True))
                for i, (v, w) in enumerate(zip(values, winners, strict=True))
            )
        )
    return sympy.Piecewise(*alone, (shared, True))


#: What a condition is: a relation, a combination of relations, true or false.  (Not
#: sympy.logic.boolalg.Boolean, of which every Symbol is an instance.)
_SYMPY_CONDITIONS = (
    sympy.core.relational.Relational,
    sympy.logic.boolalg.BooleanFunction,
    sympy.logic.boolalg.BooleanAtom,
)
_CONDITIONS = (bool, np.bool_, *_SYMPY_CONDITIONS)


def as_number(element):
    """A condition as the number it stands for in arithmetic: 1 where it holds, 0 elsewhere.

    ``(x > 0) * x`` and ``xp.sum(x > 0)`` mean on the tape what numpy makes of booleans;
    traced, ``x > 0`` is a SymPy relational, which arithmetic refuses.  Used as a
    number it becomes ``Piecewise((1, x > 0), (0, True))``, exactly
    ``xp.where(x > 0, 1.0, 0.0)``: piecewise constant, derivative 0 away from the switch,
    as on the tape (which does not record comparisons).  Anything else is returned as
    it is.

    Examples
    --------
    >>> x = sympy.Symbol("x", real=True)
    >>> as_number(x > 0)
    Piecewise((1, x > 0), (0, True))
    >>> as_number(True)
    1
    """
    if isinstance(element, (bool, np.bool_)):
        return sympy.Integer(int(element))
    if isinstance(element, _SYMPY_CONDITIONS):
        return sympy.Piecewise((1, element), (0, True))
    return element


#: ufuncs whose object loop calls Python's operators, which SymPy expressions support.
_OBJECT_LOOP = frozenset(
    ("add", "subtract", "multiply", "divide", "true_divide", "power", "negative", "positive", "absolute")
)


def _object_only(ufunc: np.ufunc) -> bool:
    """Whether ``ufunc`` has only an object loop: one of np.frompyfunc, this module's own."""
    return ufunc.types == ["O" * ufunc.nin + "->" + "O" * ufunc.nout]


class SymbolicArray(np.ndarray):
    """An object array of SymPy expressions, also for single elements (0-d).

    Every operation on it passes through :meth:`__array_ufunc__`, which gives float
    operands their exact SymPy value and keeps comparisons symbolic (plain object
    arrays call ``bool()`` on each relational, which fails), so that
    ``xp.where(x > 0, ...)`` traces into a ``Piecewise``; in arithmetic a condition is
    the number 1 or 0 (:func:`as_number`).  The reductions and scans that are
    operations of xp are traced as xp's (``x.sum()``, ``x.max()``, ``x.min()``,
    ``x.prod()``, ``x.cumsum()``, ``x.var()``, ``x.std()`` and their numpy functions);
    the others numpy offers (``np.cumprod``) are refused by name, and so is sorting.
    """

    def var(self, axis=None, dtype=None, out=None, ddof=0, keepdims=False, **options):
        return sympy_namespace.var(self, axis, dtype, out, ddof, keepdims, **options)

    def std(self, axis=None, dtype=None, out=None, ddof=0, keepdims=False, **options):
        return sympy_namespace.std(self, axis, dtype, out, ddof, keepdims, **options)

    def sort(self, axis=-1, kind=None, order=None, **options):
        _sort(self)  # refused: numpy.sort(x) sorts a copy with this method

    def __array_function__(self, func, types, args, kwargs):
        # numpy's own functions act on object arrays through the ufuncs above; those of
        # its submodules (numpy.linalg, numpy.fft) compute in float64 and would fail
        # with a casting error: they run as xp's twin or are refused by name.
        module = getattr(func, "__module__", None) or ""
        if module == "numpy" or not module.startswith("numpy"):
            return super().__array_function__(func, types, args, kwargs)
        op = numpy_function_name(func)
        function = None if op is None else sympy_namespace.lookup(op)
        if function is None:
            raise unsupported("symbolic", f"{module}.{func.__name__}", NOT_AN_OPERATION)
        return function(*args, **kwargs)

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        name = ufunc.__name__
        if _object_only(ufunc):  # np.frompyfunc's, this module's own: operands already prepared
            inputs = tuple(i.view(np.ndarray) if isinstance(i, SymbolicArray) else i for i in inputs)
            return _symbolic(getattr(ufunc, method)(*inputs, **kwargs))
        if method != "__call__":
            return _reduction(ufunc, method, inputs, kwargs)
        inputs, kwargs = tuple(map(_operand, inputs)), _plain_outputs(kwargs)
        if name in _ORDERINGS and not kwargs:
            return _symbolic(_ORDERINGS[name](*inputs))
        if name in _COMPARISONS:
            kwargs["dtype"] = object
        elif name not in _OBJECT_LOOP:
            # np.sin(x) on objects would call x.sin(), which SymPy expressions lack:
            # take xp's twin, or name the function xp does not have.
            twin = getattr(sympy_namespace, name, None)
            if kwargs or twin is None:
                raise unsupported("symbolic", f"numpy.{name}", NOT_AN_OPERATION)
            return twin(*inputs)
        return _symbolic(getattr(ufunc, method)(*inputs, **kwargs))

    def __getitem__(self, key):
        return _symbolic(super().__getitem__(key))


#: The numpy functions behind ufunc methods on traced arrays (np.prod(x) is
#: np.multiply.reduce): only those that are operations of xp are traced.
_UFUNC_METHOD_FUNCTIONS = {
    ("add", "reduce"): "sum",
    ("maximum", "reduce"): "max",
    ("multiply", "reduce"): "prod",
    ("minimum", "reduce"): "min",
    ("add", "accumulate"): "cumsum",
    ("multiply", "accumulate"): "cumprod",
}

#: Keyword arguments numpy passes to a reduction with their default values.
_REDUCTION_DEFAULTS = {"dtype": None, "out": None, "where": True}


def _reduction(ufunc: np.ufunc, method: str, inputs: tuple, kwargs: dict):
    """``ufunc.method`` on a traced array: ``sum`` and ``max``, or a refusal by name.

    ``x.sum()``, ``np.sum(x)`` and ``np.mean(x)`` reach here as ``np.add.reduce``,
    ``x.max()`` and ``np.max(x)`` as ``np.maximum.reduce``, and ``min``, ``prod`` and
    ``cumsum`` likewise; any other method (``np.cumprod(x)``) is not an operation of xp,
    and the tape cannot record it either.
    """
    name = ufunc.__name__
    function = _UFUNC_METHOD_FUNCTIONS.get((name, method), f"{name}.{method}")
    if function == "sum":  # numpy's object loop, as for every arithmetic ufunc
        return _symbolic(getattr(ufunc, method)(*map(_operand, inputs), **_plain_outputs(kwargs)))
    options = {k: v for k, v in kwargs.items() if k not in ("axis", "keepdims")}
    defaults = all(k in _REDUCTION_DEFAULTS and v is _REDUCTION_DEFAULTS[k] for k, v in options.items())
    if function in ("max", "min", "prod") and defaults:
        return getattr(sympy_namespace, function)(
            *inputs, axis=kwargs.get("axis"), keepdims=kwargs.get("keepdims", False)
        )
    if function == "cumsum" and not options:  # numpy passes axis=0 for a flattened array
        return sympy_namespace.cumsum(*inputs, axis=kwargs.get("axis"))
    used = f" with {', '.join(options)}" if function in ("max", "min", "prod", "cumsum") else ""
    raise unsupported(
        "symbolic",
        f"numpy.{function}",
        f"{NOT_AN_OPERATION} (numpy.{name}.{method}{used})",
    )


def _plain_outputs(kwargs: dict) -> dict:
    """np.mean passes an out= array: plain, or numpy calls back here."""
    if "out" not in kwargs:
        return kwargs
    return {
        **kwargs,
        "out": tuple(o.view(np.ndarray) if isinstance(o, SymbolicArray) else o for o in kwargs["out"]),
    }


_exact_floats = np.frompyfunc(lambda v: sympy.Float(float(v), CONSTANT_DIGITS), 1, 1)


def _operand(value):
    """An argument of an arithmetic operation: a plain array or one element, numbers only.

    Float constants become the SymPy Floats that hold them exactly, and conditions
    become numbers (:func:`as_number`), also inside object arrays (``(x > 0) * x``).
    """
    if isinstance(value, SymbolicArray):
        value = value.view(np.ndarray)
    if isinstance(value, np.ndarray):
        if value.dtype.kind == "b":
            return value.astype(np.int64)
        if value.dtype.kind == "f":
            return _exact_floats(value)
        if value.dtype == object and any(isinstance(e, _CONDITIONS) for e in value.flat):
            numbers = np.empty(value.shape, dtype=object)
            for index, element in np.ndenumerate(value):
                numbers[index] = as_number(element)
            return numbers
        return value
    if isinstance(value, (float, np.floating)):
        return _exact_floats(value)
    return as_number(value)


def _symbolic(value):
    """Wrap object arrays and single expressions as (0-d) SymbolicArrays."""
    if isinstance(value, sympy.Basic):
        value = np.array(value, dtype=object)
    if isinstance(value, np.ndarray) and value.dtype == object:
        return value.view(SymbolicArray)
    return value


def _returning_symbolic(fn: Callable) -> Callable:
    def wrapped(*args, **kwargs):
        result = fn(*args, **kwargs)
        if isinstance(result, tuple):  # slogdet's pair
            return type(result)(*map(_symbolic, result))
        return _symbolic(result)

    wrapped.__name__ = getattr(fn, "__name__", "operation")
    return wrapped


def _is_symbolic(value) -> bool:
    if isinstance(value, np.ndarray):
        return value.dtype == object
    return isinstance(value, sympy.Basic)


def _elementwise(sympy_fn: Callable, numpy_fn: Callable) -> Callable:
    """Apply ``sympy_fn`` to symbolic arrays and ``numpy_fn`` to numeric ones."""
    vectorised = np.frompyfunc(sympy_fn, 1, 1)

    def apply(x):
        return vectorised(_operand(x)) if _is_symbolic(x) else numpy_fn(x)

    return apply


def _as_bool(condition):
    if isinstance(condition, (bool, np.bool_)):
        return bool(condition)
    return condition


def _select(condition, a, b):
    condition = _as_bool(condition)
    if condition is True:
        return a
    if condition is False:
        return b
    return sympy.Piecewise((a, condition), (b, True))


def _larger(a, b):
    # A Piecewise (not sympy.Max) so that derivatives stay Piecewise, which every
    # printer (numpy and mpmath alike) can evaluate; ties share the derivative.
    if not (_is_symbolic(a) or _is_symbolic(b)):
        return max(a, b)
    return extremum([a, b])


def _smaller(a, b):
    if not (_is_symbolic(a) or _is_symbolic(b)):
        return min(a, b)
    return extremum([a, b], larger=False)


def _binary(element_fn: Callable, numpy_fn: Callable) -> Callable:
    vectorised = np.frompyfunc(element_fn, 2, 1)

    def apply(a, b):
        if _is_symbolic(a) or _is_symbolic(b):
            return vectorised(_operand(a), _operand(b))
        return numpy_fn(a, b)

    return apply


_where_elements = np.frompyfunc(_select, 3, 1)


def _where(condition, a, b):
    if not (_is_symbolic(condition) or _is_symbolic(a) or _is_symbolic(b)):
        return np.where(condition, a, b)
    return _where_elements(condition, _operand(a), _operand(b))


def _reduce(combine: Callable[[Sequence], object], numpy_fn: Callable) -> Callable:
    """A reduction over ``axis`` (None, int or tuple) that combines whole rows at once.

    Combining a row in one call (``sympy.Add(*row)``) avoids the quadratic cost of
    adding terms one by one to an ever longer sum.
    """

    def reduce(x, axis=None, keepdims=False):
        if not _is_symbolic(x):
            return numpy_fn(x, axis=axis, keepdims=keepdims)
        x = np.asarray(_operand(x), dtype=object)
        axes = tuple(range(x.ndim)) if axis is None else np.atleast_1d(axis).tolist()
        axes = tuple(a % x.ndim for a in axes)
        kept = [a for a in range(x.ndim) if a not in axes]
        rows = np.transpose(x, kept + list(axes)).reshape([x.shape[a] for a in kept] + [-1])
        out = np.empty(rows.shape[:-1], dtype=object)
        for index in np.ndindex(out.shape):
            out[index] = combine(list(rows[index]))
        if keepdims:
            out = out.reshape([1 if a in axes else n for a, n in enumerate(x.shape)])
        return out[()] if out.ndim == 0 else out

    return reduce


def _maximum_of(items):
    if not any(map(_is_symbolic, items)):
        return max(items)
    return extremum(items)


def _holds_traced(obj) -> bool:
    if isinstance(obj, (list, tuple)):
        return any(map(_holds_traced, obj))
    return _is_symbolic(obj)


def _plain(obj):
    """``obj`` with every traced array in it (nested lists and tuples) as plain objects.

    ``np.asarray([x[0], x[1]])`` would keep the 0-d arrays ``x[0]`` and ``x[1]`` as the
    elements of an object array, which SymPy cannot take apart.
    """
    if isinstance(obj, (list, tuple)):
        return [_plain(item) for item in obj]
    if isinstance(obj, np.ndarray) and obj.dtype == object:
        return obj.item() if obj.ndim == 0 else obj.view(np.ndarray)
    return obj


def _asarray(obj, dtype=None):
    if dtype is None and _holds_traced(obj):
        return np.array(_plain(obj), dtype=object)
    array = np.asarray(obj, dtype=dtype)
    if array.dtype == object or dtype is not None:
        return array
    return array.astype(np.float64)


def sympy_spelling(spelling):
    """A row's SymPy spelling as a function of SymPy expressions."""
    if isinstance(spelling, str):
        return getattr(sympy, spelling)
    return lambda *args: spelling(sympy, *args)


#: The elementwise operations of one argument, spelled as their rows in OPS say.
UNARY = {name: spec for name, spec in OPS.items() if spec.kind == "unary"}

#: The elementwise operations of two arguments spelled in their rows in OPS, as SymPy
#: functions (the arithmetic operators and maximum/minimum are written below).
BINARY_SPELLINGS = {
    name: sympy_spelling(spec.sympy)
    for name, spec in OPS.items()
    if spec.kind == "binary" and spec.sympy is not None
}

_sum = _reduce(lambda items: sympy.Add(*items), np.sum)


def _mean(x, axis=None, keepdims=False):
    if not _is_symbolic(x):
        return np.mean(x, axis=axis, keepdims=keepdims)
    count = np.size(x) // max(np.size(np.sum(np.zeros(np.shape(x)), axis=axis)), 1)
    return _sum(x, axis=axis, keepdims=keepdims) / sympy.Integer(count)


# --- reductions, scans and shape operations ------------------------------------------------


def _log_softmax(x, axis=-1):
    # Exact here: the reference evaluates with all its digits, so x - logsumexp(x) loses
    # nothing (the float64 formula of the other backends avoids its cancellation).
    if not _is_symbolic(x):
        return NUMPY_FUNCTIONS["log_softmax"](x, axis=axis)
    return _operand(x) - SYMPY_FUNCTIONS["logsumexp"](x, axis=axis, keepdims=True)


def _cumsum(x, axis=None):
    if not _is_symbolic(x):
        return np.cumsum(x, axis=axis)
    x = np.asarray(_operand(x), dtype=object)
    if axis is None:  # numpy runs over the flattened array
        x, axis = x.ravel(), 0
    return np.cumsum(x, axis=axis)


def _einsum(*args, optimize=False):
    subscripts, operands = einsum_arguments(args)
    einsum_spec(subscripts, tuple(np.ndim(o) for o in operands))  # a string that fits the operands
    if not any(map(_is_symbolic, operands)):
        return np.einsum(subscripts, *operands)
    # numpy's object loop: sums of products of the SymPy elements
    return np.einsum(subscripts, *(np.asarray(_operand(o), dtype=object) for o in operands))


_refuse_sort = refusal(
    "SymPy tracing (methods symbolic, symbolic_vector, symengine and the 50-digit reference)",
    "sort",
    "SymPy cannot sort symbols: their order is only known once they have values",
)


def _sort(x, axis=-1, kind=None, order=None, stable=None):
    if _is_symbolic(x):
        _refuse_sort(x)
    return np.sort(x, axis=axis, kind=kind, order=order, stable=stable)


# fmt: off
SYMPY_FUNCTIONS = {
    **{name: _elementwise(sympy_spelling(spec.sympy), NUMPY_FUNCTIONS[name]) for name, spec in UNARY.items()},
    "add": operator.add, "subtract": operator.sub, "multiply": operator.mul,
    "divide": operator.truediv, "power": operator.pow,
    "maximum":  _binary(_larger, np.maximum),
    "minimum":  _binary(_smaller, np.minimum),
    # elementwise, second wave: no NaN among SymPy's values, so fmax and fmin are these
    "fmax":     _binary(_larger, np.fmax),
    "fmin":     _binary(_smaller, np.fmin),
    **{name: _binary(spelling, NUMPY_FUNCTIONS[name]) for name, spelling in BINARY_SPELLINGS.items()},
    "where":    _where,
    "sum":      _sum,
    "mean":     _mean,
    "max":      _reduce(_maximum_of, np.max),
    "logsumexp": _reduce(
        lambda items: sympy.log(sympy.Add(*map(sympy.exp, items))),
        NUMPY_FUNCTIONS["logsumexp"],
    ),
    "matmul": np.matmul, "getitem": operator.getitem,
    "reshape": np.reshape, "transpose": np.transpose,
    "concatenate": np.concatenate, "stack": np.stack,
    "asarray": _asarray, "zeros": np.zeros, "ones": np.ones, "arange": np.arange,
    "eye": np.eye,
    # reductions, scans and shape operations
    "log_softmax": _log_softmax,
    "prod":        _reduce(lambda items: sympy.Mul(*items), np.prod),
    "cumsum":      _cumsum,
    "einsum":      _einsum,
    "sort":        _sort,
}
# numpy's round takes decimals; only its default is traced (as in every backend).
SYMPY_FUNCTIONS["round"] = only_default_decimals(SYMPY_FUNCTIONS["round"])
# fmt: on

# linear algebra (xp.linalg): the norms are written with this namespace's own functions
_NORM_MODULE = SimpleNamespace(
    **{name: _returning_symbolic(SYMPY_FUNCTIONS[name]) for name in ("sum", "abs", "max", "sqrt", "where")},
    power=operator.pow,
    positive=lambda s: s > 0,
    array=SYMPY_FUNCTIONS["asarray"],  # norm([a, b]): the list as an array, as numpy reads it
)
SYMPY_FUNCTIONS.update(sympy_linalg_functions(_operand, _is_symbolic, _NORM_MODULE))

sympy_namespace = Namespace(
    "symbolic", {name: _returning_symbolic(fn) for name, fn in SYMPY_FUNCTIONS.items()}
)
