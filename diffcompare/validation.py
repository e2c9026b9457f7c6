"""Checks on what callers pass in: one function per check, one pinned message per mistake."""

from __future__ import annotations

import functools
import inspect
import math
import sys
from collections.abc import Callable
from numbers import Real
from typing import Any

import numpy as np

__all__ = [
    "as_point",
    "check_callable",
    "check_count",
    "check_finite_value",
    "check_finite_vector",
    "check_positive",
    "check_scalar_output",
    "check_seed",
    "refuse_singular",
    "takes_namespace",
]


def check_callable(f: Any, name: str = "f") -> Callable:
    """Return ``f`` if it is callable, else raise ``TypeError``."""
    if not callable(f):
        raise TypeError(f"{name} must be a callable f(x, xp); got {type(f).__name__}")
    return f


def takes_namespace(f: Callable) -> bool:
    """Whether ``f`` is an ``f(x, xp)`` function: two required positional parameters."""
    try:
        parameters = inspect.signature(f).parameters.values()
    except (TypeError, ValueError):  # builtins without a signature: a black box
        return False
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    required = [p for p in parameters if p.kind in positional and p.default is inspect.Parameter.empty]
    return len(required) >= 2


def check_count(value: Any, name: str, minimum: int = 1) -> int:
    """Return ``value`` as an int if it is an integer (not a boolean) of at least ``minimum``.

    Raises
    ------
    ValueError
        Otherwise, naming ``name``.
    """
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}; got {value!r}")
    return int(value)


def check_seed(seed: Any, name: str = "seed") -> int:
    """Return ``seed`` as an int if it is a non-negative integer (not a boolean).

    Raises
    ------
    ValueError
        Otherwise, naming ``name``.
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"{name} must be a non-negative integer; got {seed!r}")
    return int(seed)


def check_positive(value: Any, name: str) -> float:
    """Return ``value`` as a float if it is a positive, finite real number.

    Raises
    ------
    TypeError
        If ``value`` is not a real number (booleans included).
    ValueError
        If ``value`` is not positive and finite.
    """
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"{name} must be a real number; got {type(value).__name__}")
    if not (np.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be positive and finite; got {value!r}")
    return float(value)


def as_point(x: Any, name: str = "x", dim: int | None = None, copy: bool = True) -> np.ndarray:
    """Convert ``x`` to a finite float64 vector, or say exactly what is wrong with it.

    With ``copy=False``, a float64 vector in C order is returned as it is (the caller
    promises not to write to it); anything else is converted, which copies.

    Raises
    ------
    TypeError
        If ``x`` is not real floating point (integer, boolean, complex or object data).
    ValueError
        If ``x`` is not 1-d, is empty, has the wrong length or holds NaN or inf.
    """
    try:
        array = np.asarray(x)
    except Exception as error:  # ragged lists and the like
        raise ValueError(f"{name} must be a 1-d float array; cannot convert it: {error}") from None
    if array.dtype.kind != "f":  # object, integer, boolean, complex, strings
        raise TypeError(
            f"{name} must be a real floating-point array (float64); got dtype {array.dtype}. "
            f"Convert it with np.asarray({name}, dtype=float)"
        )
    if array.ndim != 1:
        raise ValueError(f"{name} must be a 1-d array of shape (n,); got shape {array.shape}")
    if array.size == 0:
        raise ValueError(f"{name} must have at least one element; got an empty array")
    if dim is not None and array.size != dim:
        raise ValueError(f"{name} must have shape ({dim},); got shape {array.shape}")
    if not np.isfinite(array).all():
        raise ValueError(
            f"{name} must be finite; got NaN or inf at index {np.flatnonzero(~np.isfinite(array)).tolist()}"
        )
    if copy:
        return array.astype(np.float64)
    if array.dtype == np.float64 and array.flags.c_contiguous:
        return array
    return np.ascontiguousarray(array, dtype=np.float64)


@functools.cache
def _fallback() -> tuple:
    """numpy's namespace with numpy as fallback, and the error of an unsupported name.

    Imported on first use (the backends import this module) and kept: an import
    statement costs a microsecond on every call of a check that runs on every gradient.
    """
    from .ops.fallback import numpy_fallback
    from .ops.namespace import UnsupportedOperationError

    return numpy_fallback, UnsupportedOperationError


def check_finite_value(f: Callable, x: np.ndarray) -> float | None:
    """Return ``f(x, numpy)`` as a float if it is a finite real scalar, else raise.

    ``xp`` is numpy's op table, then numpy itself for other names (``xp.linalg.qr``);
    where ``f`` asks for a name numpy lacks too, the check is left to the method, which
    refuses it by name, and ``None`` is returned.

    No gradient exists where ``f`` itself is infinite or NaN (log 0, 1/0, outside the
    domain), but every method would still return numbers there, some of them finite
    and wrong: the central difference across the pole of ``1/x`` is finite, and the
    complex step of ``log`` at 0 is ``pi/2 / h``.  One forward pass refuses such a point.

    Raises
    ------
    ValueError
        If ``f(x)`` is infinite or NaN, or not a scalar.
    TypeError
        If ``f(x)`` is not a real number.
    """
    numpy_fallback, unsupported_error = _fallback()
    try:
        with np.errstate(all="ignore"):
            value = check_scalar_output(f(x, numpy_fallback), "numpy")
    except unsupported_error:
        return None  # numpy cannot evaluate f either: the method refuses it by name
    return refuse_singular(value, x)


def refuse_singular(value: Any, x: np.ndarray) -> float:
    """Return ``value``, the real scalar ``f(x)``, as a float if it is finite, else raise.

    The test of :func:`check_finite_value` on a value a method computed itself (the
    tape's forward pass), so that the public ``grad`` evaluates ``f`` only once.

    Raises
    ------
    ValueError
        If ``value`` is infinite or NaN, with the message of :func:`check_finite_value`.
    """
    try:
        finite = math.isfinite(value)  # a tenth of np.isfinite's cost on a scalar
    except (TypeError, OverflowError):  # an int beyond float range, and the like
        finite = bool(np.isfinite(value))
    if not finite:
        where = x.tolist() if x.size <= 8 else f"<{x.size} values>"
        raise ValueError(
            f"f(x) is {float(value)} at x = {where}: x is on a singularity of f or outside "
            "its domain, where no gradient exists"
        )
    return float(value)


def check_scalar_output(value: Any, backend: str) -> Any:
    """Return ``value`` if it is a real scalar, else raise.

    ``value`` is what ``f`` returned, unwrapped from any tracer: a number, an array or a
    SymPy expression.

    Raises
    ------
    ValueError
        If ``f`` returned an array with a shape other than ``()``, or a SymPy number
        that is not finite (``oo``, ``zoo``, ``nan``).
    TypeError
        If ``f`` returned something that is not a real number.
    """
    if type(value) is np.float64 or (
        type(value) is np.ndarray and value.shape == () and value.dtype.kind == "f"
    ):
        return value  # the common case, a real float scalar, decided without conversions
    # A SymPy value means SymPy is loaded: the check never imports it for numeric code.
    sympy = sys.modules.get("sympy")
    if sympy is not None and isinstance(value, sympy.Basic):
        # Structural checks only: an assumption query such as ``is_real`` on a large
        # traced expression can take seconds.  A non-real value that only shows at a
        # point (sqrt of a negative) evaluates to NaN there and is caught as non-finite.
        if not isinstance(value, sympy.Expr) or value.has(sympy.I):
            raise TypeError(f"f must return a real scalar; with the {backend} namespace it returned {value}")
        if value.is_number and not value.is_finite:
            raise ValueError(
                f"f must return a finite value; with the {backend} namespace it returned {value}"
            )
        return value
    array = np.asarray(value)
    if array.shape != ():
        raise ValueError(
            f"f must return a scalar; with the {backend} namespace it returned shape {array.shape}"
        )
    if array.dtype.kind not in "fiub":
        raise TypeError(
            f"f must return a real scalar; with the {backend} namespace it returned "
            f"{type(value).__name__} of dtype {array.dtype}"
        )
    return value


def check_finite_vector(g: Callable, x: np.ndarray, name: str = "g") -> int:
    """Return the length ``m`` of ``g(x, numpy)`` if it is a finite real 1-d array, else raise.

    The vector-valued twin of :func:`check_finite_value`, for Jacobians: one numpy
    evaluation before any method runs.

    Raises
    ------
    ValueError
        If ``g(x)`` is not a non-empty 1-d array, or holds NaN or inf.
    TypeError
        If ``g(x)`` is not real.
    """
    from .ops.fallback import numpy_fallback

    with np.errstate(all="ignore"):
        value = np.asarray(g(x, numpy_fallback))
    if value.ndim != 1 or value.size == 0:
        raise ValueError(f"{name} must return a non-empty 1-d array; it returned shape {value.shape}")
    if value.dtype.kind not in "fiub":
        raise TypeError(f"{name} must return a real array; it returned dtype {value.dtype}")
    if not np.all(np.isfinite(value)):
        bad = np.flatnonzero(~np.isfinite(value)).tolist()
        raise ValueError(
            f"{name}(x) is not finite at components {bad}: x is on a singularity of {name} or "
            "outside its domain, where no Jacobian exists"
        )
    return value.size
