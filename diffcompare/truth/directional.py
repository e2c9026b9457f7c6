"""Certified directional derivatives at 50 digits, for functions too large for SymPy.

The full reference (:mod:`~diffcompare.truth.reference`) needs one SymPy symbol per
coordinate and an expression per data point; beyond a few hundred coordinates, or for
a workload with thousands of data points, it is out of reach.  One directional
derivative ``g . v`` is not: forward mode with a single tangent carries ``(value,
tangent)`` pairs of multiprecision numbers through ``f(x, xp)`` itself, at the cost of
one evaluation of ``f`` in mpmath arithmetic.

The values live in numpy object arrays of ``mpmath.mpf``, so every structural
operation (indexing, reshapes, sums, ``matmul``, ``einsum``) is numpy's own on exact
inputs.  The elementwise operations take their value and their derivative from the SymPy
spelling of their row in :data:`~diffcompare.ops.OPS` (differentiated by SymPy once
per operation and compiled to mpmath), so no derivative rule is written twice; only the
arithmetic operators, which have no spelling, are written out here (the product and
quotient rules).  Each float64 coordinate, direction entry and constant enters
exactly (an ``mpf`` holds a double without rounding).  Operations on constants alone
are evaluated by numpy in float64, as the float64 program evaluates them.

The digits are checked as the full reference checks them: the whole evaluation is
repeated at twice the digits, and the two results must round to the same float64
(status ``"unstable"`` otherwise).  As with any fixed-precision check, a quantity that
cancels completely at both precisions (``1 - tanh(x)^2`` at ``x = 400``) passes
unnoticed; it is then smaller than ``10^-50`` relative to its terms, which the
normwise directional error below cannot see anyway.

The error of a computed gradient ``g`` along ``v`` is

.. math::  \\frac{|g \\cdot v - t|}{\\max(\\|g\\|_2 \\|v\\|_2,\\ |t|)}

with ``t`` the certified ``g_true . v`` and ``g . v`` evaluated at 40 digits (a float64
dot product would add rounding of order ``n eps``): the normwise error of ``g``
projected on one random direction.  A wrong gradient is caught with probability one
over the direction, since ``(g - g_true) . v`` vanishes only on a hyperplane; its size
underestimates the normwise error by about ``1/sqrt(n)`` for a random error.
"""

from __future__ import annotations

import functools
import math
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import mpmath
import numpy as np
from mpmath.libmp import round_nearest, to_float

from ..budget import BudgetExceeded, time_budget
from ..ops.namespace import Namespace, unsupported
from ..ops.numpy_namespace import NUMPY_FUNCTIONS
from ..ops.table import OPS
from ..ops.traced import TracedArray, value_of
from ..ops.traced_functions import traced_functions
from ..validation import as_point, check_callable, check_count, check_seed

__all__ = [
    "DirectionalReference",
    "directional_derivative",
    "directional_error",
    "mp_dual_namespace",
    "random_direction",
]

#: Digits of the dot product ``g . v`` of a float64 gradient: each product of two doubles
#: is exact in 106 bits, and 40 digits (133 bits) leave the sum's rounding at 1e-40.
DOT_DIGITS = 40

_ENGINE = "directional"


@dataclass(frozen=True)
class DirectionalReference:
    """A certified directional derivative and how far to trust it.

    Attributes
    ----------
    value : float or None
        ``grad f(x) . direction`` rounded to float64; ``None`` when it failed.
    direction : numpy.ndarray
        The direction ``v``.
    status : str
        ``"ok"``; ``"unstable"`` (``digits`` and twice as many round differently);
        ``"nonfinite"`` (infinite or undefined); ``"error"`` (an operation the
        multiprecision evaluation does not support, or ``f`` failed); ``"timeout"``.
    digits : int
        Significant digits of the first evaluation.
    message : str
        Why the status is not ``"ok"``.
    """

    value: float | None
    direction: np.ndarray
    status: str
    digits: int
    message: str = ""


def random_direction(dim: int, seed: int, *keys: int | str) -> np.ndarray:
    """A seeded standard-normal direction of length ``dim``.

    ``keys`` (a function's name, a point's index) select one stream each, so two points
    never share a direction.

    Examples
    --------
    >>> bool(np.array_equal(random_direction(3, 1, "f", 0), random_direction(3, 1, "f", 0)))
    True
    """
    dim, seed = check_count(dim, "dim"), check_seed(seed)
    stream = [seed, dim] + [zlib.crc32(k.encode()) if isinstance(k, str) else int(k) for k in keys]
    return np.random.default_rng(stream).standard_normal(int(dim))


# --- the multiprecision dual numbers --------------------------------------------------------


def _objects(value: Any) -> np.ndarray:
    return np.asarray(value, dtype=object)


def _zero_tangent(value: Any) -> np.ndarray:
    return np.zeros(np.shape(value), dtype=object)  # Python 0s: exact, and cheap


class MPDual(TracedArray):
    """A multiprecision value with its tangent along one direction (object arrays)."""

    __slots__ = ("value", "tangent")
    engine, loses, rules = _ENGINE, "drop its tangent", OPS

    def __init__(self, value: Any, tangent: Any):
        self.value = _objects(value)
        self.tangent = _objects(tangent)

    @staticmethod
    def apply(op, *args, **params):
        return _apply(op, *args, **params)

    def __repr__(self):
        return f"MPDual({self.value!r}, tangent={self.tangent!r})"


def _tangent(arg: Any) -> np.ndarray:
    return arg.tangent if isinstance(arg, MPDual) else _zero_tangent(arg)


@functools.cache
def _compiled(op: str, traced: tuple[bool, ...]) -> tuple[Callable, tuple[Callable | None, ...]]:
    """An elementwise row's value and its partials in the traced arguments, in mpmath.

    SymPy differentiates the row's own spelling once; ``lambdify`` compiles value and
    partials to mpmath, and ``numpy.frompyfunc`` broadcasts them over object arrays.
    """
    import sympy

    spec = OPS[op]
    if spec.sympy is None:
        raise unsupported(_ENGINE, op, "its row has no SymPy spelling")
    symbols = sympy.symbols(f"a0:{len(traced)}", real=True)
    spell = (
        getattr(sympy, spec.sympy) if isinstance(spec.sympy, str) else functools.partial(spec.sympy, sympy)
    )
    expression = spell(*symbols)

    def compile_(e):
        function = sympy.lambdify(symbols, e, modules="mpmath")
        return np.frompyfunc(function, len(symbols), 1)

    value = compile_(expression)
    partials = []
    for i, is_traced in enumerate(traced):
        # A piecewise-constant row (derivative None) has the partial 0, as on the tape.
        if not is_traced or spec.derivative is None or spec.derivative[i] is None:
            partials.append(None)
        else:
            partials.append(compile_(sympy.diff(expression, symbols[i])))
    return value, tuple(partials)


def _elementwise(op: str, args: tuple) -> MPDual:
    traced = tuple(isinstance(a, MPDual) for a in args)
    value_fn, partials = _compiled(op, traced)
    values = [value_of(a) for a in args]
    value = value_fn(*values)
    tangent = _zero_tangent(value)
    for arg, partial in zip(args, partials, strict=True):
        if partial is not None:
            tangent = tangent + partial(*values) * arg.tangent
    return MPDual(value, tangent)


def _exp(x):
    return np.frompyfunc(mpmath.exp, 1, 1)(x)


def _log(x):
    return np.frompyfunc(mpmath.log, 1, 1)(x)


def _picked(a, b, larger: bool):
    """maximum/minimum with the tangent shared equally on ties (the suite's convention)."""
    va, vb = value_of(a), value_of(b)
    first = (va > vb) if larger else (va < vb)
    tie = va == vb
    value = np.where(first | tie, va, vb)
    ta, tb = _tangent(a), _tangent(b)
    tangent = np.where(tie, (ta + tb) / 2, np.where(first, ta, tb))
    return MPDual(value, tangent)


def _arithmetic(op: str, a, b) -> MPDual:
    va, vb, ta, tb = value_of(a), value_of(b), _tangent(a), _tangent(b)
    if op == "add":
        return MPDual(va + vb, ta + tb)
    if op == "subtract":
        return MPDual(va - vb, ta - tb)
    if op == "multiply":
        return MPDual(va * vb, ta * vb + va * tb)
    if op == "divide":
        ans = _objects(va / vb)
        return MPDual(ans, (ta - ans * tb) / vb)
    # power: d(a^b) = b a^(b - 1) da + log(a) a^b db, the second only for a traced exponent
    ans = _objects(va**vb)
    tangent = _objects(vb * va ** (vb - 1) * ta) if isinstance(a, MPDual) else _zero_tangent(ans)
    if isinstance(b, MPDual):
        tangent = tangent + _log(_objects(va)) * ans * tb
    return MPDual(ans, tangent)


_ARITHMETIC = frozenset(("add", "subtract", "multiply", "divide", "power"))
_PICKED = {"maximum": True, "minimum": False, "fmax": True, "fmin": False}


def _reduce_max(x: MPDual, axis=None, keepdims=False) -> MPDual:
    top = np.max(x.value, axis=axis, keepdims=True)
    mask = (x.value == top) + 0  # ties share the tangent equally
    share = np.sum(mask * x.tangent, axis=axis, keepdims=keepdims) / np.sum(
        mask, axis=axis, keepdims=keepdims
    )
    return MPDual(np.max(x.value, axis=axis, keepdims=keepdims), share)


def _logsumexp(x: MPDual, axis=None, keepdims=False) -> MPDual:
    top = np.max(x.value, axis=axis, keepdims=True)
    weights = _exp(x.value - top)
    total = np.sum(weights, axis=axis, keepdims=True)
    value = _log(total) + top
    tangent = np.sum(weights * x.tangent, axis=axis, keepdims=True) / total
    if not keepdims:
        shape = np.shape(np.sum(x.value, axis=axis))
        value, tangent = np.reshape(value, shape), np.reshape(tangent, shape)
    return MPDual(value, tangent)


def _log_softmax(x: MPDual, axis=-1) -> MPDual:
    lse = _logsumexp(x, axis=axis, keepdims=True)
    return MPDual(x.value - lse.value, x.tangent - lse.tangent)


def _prod(x: MPDual, axis=None, keepdims=False) -> MPDual:
    if np.any(x.value == 0):
        raise unsupported(_ENGINE, "prod", "a zero factor (the tangent would divide by it)")
    value = np.prod(x.value, axis=axis, keepdims=keepdims)
    ratio = np.sum(x.tangent / x.value, axis=axis, keepdims=keepdims)
    return MPDual(value, value * ratio)


def _sort(x: MPDual, axis=-1, kind=None, order=None) -> MPDual:
    order_ = np.argsort(x.value, axis=axis, kind="stable")
    return MPDual(np.take_along_axis(x.value, order_, axis), np.take_along_axis(x.tangent, order_, axis))


def _bilinear(compute: Callable, args: tuple) -> MPDual:
    values = [value_of(a) for a in args]
    value = compute(*values)
    tangent = _zero_tangent(value)
    for i, arg in enumerate(args):
        if isinstance(arg, MPDual):
            tangent = tangent + compute(*values[:i], arg.tangent, *values[i + 1 :])
    return MPDual(value, tangent)


def _linear(op: str, args: tuple, params: dict) -> MPDual:
    """An operation linear in its array arguments: the tangent goes through it unchanged."""
    compute = _LINEAR[op]
    arrays, rest = (args, ()) if op in _SEQUENCES else (args[:1], args[1:])
    value = compute(*[value_of(a) for a in arrays], *rest, **params)
    return MPDual(value, compute(*[_tangent(a) for a in arrays], *rest, **params))


# fmt: off
#: The operations that rearrange or add up entries: the same numpy call on the tangents.
_LINEAR: dict[str, Callable] = {
    "sum":         np.sum,
    "mean":        np.mean,
    "cumsum":      np.cumsum,
    "reshape":     np.reshape,
    "transpose":   np.transpose,
    "concatenate": lambda *arrays, axis=0: np.concatenate(arrays, axis=axis),
    "stack":       lambda *arrays, axis=0: np.stack(arrays, axis=axis),
}
_SEQUENCES = frozenset(("concatenate", "stack"))
_REDUCTIONS: dict[str, Callable] = {
    "max": _reduce_max, "logsumexp": _logsumexp, "log_softmax": _log_softmax, "prod": _prod, "sort": _sort,
}
# fmt: on


def _apply(op: str, *args: Any, **params: Any) -> Any:
    if not any(isinstance(a, MPDual) for a in args):
        return NUMPY_FUNCTIONS[op](*args, **params)  # constants: float64, as the program computes them
    spec = OPS.get(op)
    if op == "getitem":
        x, key = args
        return MPDual(x.value[key], x.tangent[key])
    if op == "where":
        condition, a, b = args
        condition = np.asarray(value_of(condition), dtype=bool)
        return MPDual(
            np.where(condition, value_of(a), value_of(b)), np.where(condition, _tangent(a), _tangent(b))
        )
    if op in _ARITHMETIC:
        return _arithmetic(op, *args)
    if op in _PICKED:
        return _picked(*args, larger=_PICKED[op])
    if op in _LINEAR:
        return _linear(op, args, params)
    if op in _REDUCTIONS:
        return _REDUCTIONS[op](*args, **params)
    if op == "matmul":
        return _bilinear(np.matmul, args)
    if op == "einsum":
        subscripts = params["subscripts"]
        return _bilinear(lambda *operands: np.einsum(subscripts, *operands), args)
    if spec is not None and spec.kind in ("unary", "binary"):
        return _elementwise(op, args)
    raise unsupported(_ENGINE, op, "the multiprecision directional derivative has no rule for it")


MPDual.functions = traced_functions(_apply)

#: The namespace of :class:`MPDual` values: ``f(MPDual(x, v), mp_dual_namespace)``.
mp_dual_namespace = Namespace(_ENGINE, traced_functions(_apply))


# --- the certified derivative ---------------------------------------------------------------


def _to_float64(number: Any) -> float:
    if isinstance(number, (int, float)):
        return float(number)
    if isinstance(number, mpmath.mpc) or not isinstance(number, mpmath.mpf):
        raise ArithmeticError(f"the derivative is not a real number here: {number!r}")
    if not mpmath.isfinite(number):
        raise ArithmeticError(f"the derivative is {number}")
    return to_float(number._mpf_, rnd=round_nearest)


def _evaluate(f: Callable, x: np.ndarray, v: np.ndarray, digits: int) -> float:
    with mpmath.workdps(digits):
        # both as mpf: a float tangent times a float constant would round in float64
        point = MPDual(
            np.array([mpmath.mpf(float(c)) for c in x], dtype=object),
            np.array([mpmath.mpf(float(c)) for c in v], dtype=object),
        )
        out = f(point, mp_dual_namespace)
        if not isinstance(out, MPDual):
            return 0.0  # f does not depend on x
        if np.size(out.value) != 1:
            raise ValueError(f"f must return a scalar; got shape {np.shape(out.value)}")
        return _to_float64(np.reshape(out.tangent, ())[()])


def directional_derivative(
    f: Callable, x, v, digits: int = 50, budget_s: float | None = None
) -> DirectionalReference:
    """``grad f(x) . v`` at ``digits`` significant digits, checked at twice as many.

    Parameters
    ----------
    f : callable
        ``f(x, xp)`` returning a scalar.
    x : array_like of float, shape (n,)
        The point; each float64 coordinate is taken exactly.
    v : array_like of float, shape (n,)
        The direction (see :func:`random_direction`).
    digits : int, optional
        Significant digits (>= 50).
    budget_s : float, optional
        Seconds both evaluations may take together; beyond, status ``"timeout"``.

    Returns
    -------
    DirectionalReference

    Raises
    ------
    TypeError
        If ``f`` is not callable or ``x``, ``v`` are not float arrays.
    ValueError
        If ``x`` and ``v`` differ in length, hold NaN or inf, or ``digits < 50``.

    Examples
    --------
    >>> truth = directional_derivative(lambda x, xp: xp.sum(xp.exp(x)), [0.0, 1.0], [1.0, 1.0])
    >>> truth.status, truth.value
    ('ok', 3.718281828459045)
    """
    check_callable(f)
    x = as_point(x)
    v = as_point(v, name="v", dim=x.size)
    if isinstance(digits, bool) or not isinstance(digits, int) or digits < 50:
        raise ValueError(f"digits must be an integer >= 50; got {digits!r}")
    try:
        with time_budget(budget_s):
            first = _evaluate(f, x, v, digits)
            check = _evaluate(f, x, v, 2 * digits)
    except BudgetExceeded as error:
        return DirectionalReference(None, v, "timeout", digits, str(error))
    except (ArithmeticError, ValueError) as error:
        return DirectionalReference(None, v, "nonfinite", digits, f"{type(error).__name__}: {error}")
    except Exception as error:  # an unsupported operation, f failing on MPDual values
        return DirectionalReference(None, v, "error", digits, f"{type(error).__name__}: {error}")
    if not (math.isfinite(first) and math.isfinite(check)):
        return DirectionalReference(None, v, "nonfinite", digits, "the derivative overflows float64")
    if first != check:
        message = f"{digits} and {2 * digits} digits round differently: {first!r} and {check!r}"
        return DirectionalReference(check, v, "unstable", digits, message)
    return DirectionalReference(first, v, "ok", digits)


def directional_error(gradient, truth: DirectionalReference) -> float:
    """Normwise directional error ``|g . v - t| / max(|g| |v|, |t|)`` of a float64 gradient.

    Parameters
    ----------
    gradient : array_like of float
        A method's gradient.
    truth : DirectionalReference
        With status ``"ok"`` (or ``"unstable"``, whose value is the longer evaluation's).

    Returns
    -------
    float
        0 when both are 0; ``inf`` for a gradient with NaN or inf entries.

    Raises
    ------
    ValueError
        If ``truth`` has no value or the lengths differ.

    Examples
    --------
    >>> truth = DirectionalReference(2.0, np.array([1.0, 1.0]), "ok", 50)
    >>> directional_error([1.0, 1.0], truth), directional_error([2.0, 0.0], truth)
    (0.0, 0.0)
    """
    if truth.value is None:
        raise ValueError(f"cannot score a gradient: the truth has status {truth.status} ({truth.message})")
    g = np.asarray(gradient, dtype=np.float64).ravel()
    v = truth.direction
    if g.size != v.size:
        raise ValueError(f"gradient has {g.size} entries; the direction has {v.size}")
    if not np.all(np.isfinite(g)):
        return math.inf
    with mpmath.workdps(DOT_DIGITS):
        dot = mpmath.fsum(mpmath.mpf(float(a)) * mpmath.mpf(float(b)) for a, b in zip(g, v, strict=True))
        difference = abs(dot - mpmath.mpf(truth.value))
        scale = max(
            mpmath.sqrt(mpmath.fsum(mpmath.mpf(float(a)) ** 2 for a in g))
            * mpmath.sqrt(mpmath.fsum(mpmath.mpf(float(b)) ** 2 for b in v)),
            abs(mpmath.mpf(truth.value)),
        )
        if difference == 0:
            return 0.0
        return float(difference / scale) if scale > 0 else math.inf
