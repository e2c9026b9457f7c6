"""The truth: SymPy's derivative evaluated at 50 or more significant digits.

Each coordinate of the float64 point enters exactly (a SymPy Float holds a double
without rounding), as do the float64 constants of the function, so the reference is the
exact derivative of the function the float64 program describes.

Plain multiprecision evaluation is not enough: 1 - tanh(x)^2 at x = 360 cancels 312
digits, so a 50-digit and a 100-digit evaluation both return exactly 0 and agree.  The
derivative is therefore evaluated with SymPy's ``evalf``, which tracks the accuracy of
every sum and raises when cancellation leaves fewer correct digits than requested.  The
gradient's common subexpressions are evaluated once each, in order; whenever a stage
runs out of digits the whole evaluation is repeated with twice the working precision.
The result is rounded to the nearest float64, and the evaluation is repeated at twice
the requested digits: if the two roundings differ, the status says so.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import sympy
from mpmath.libmp import round_nearest, to_float
from sympy.core.evalf import PrecisionExhausted

from .symbolic import differentiate
from .validation import as_point, check_callable

__all__ = ["ReferenceGradient", "PreparedReference", "reference_gradient", "MAX_REFERENCE_DIM"]

#: Beyond this many coordinates one symbol per coordinate makes SymPy too slow.
MAX_REFERENCE_DIM = 200

#: Most working digits tried before a point is declared unstable.
MAX_WORKING_DIGITS = 6400


class _NotFinite(ArithmeticError):
    """The derivative is infinite, complex or undefined at the point."""


@dataclass(frozen=True)
class ReferenceGradient:
    """A reference gradient and how far to trust it.

    Attributes
    ----------
    value : numpy.ndarray or None
        The derivative rounded to float64; ``None`` when it could not be computed.
    status : str
        ``"ok"``; ``"unstable"`` (the digits could not be certified);
        ``"nonfinite"`` (the derivative is infinite or undefined here, or overflows
        float64); ``"too_large"`` (too many coordinates for SymPy); ``"error"``.
    digits : int
        Requested significant decimal digits of the first evaluation.
    message : str
        Why the status is not ``"ok"``.
    """

    value: np.ndarray | None
    status: str
    digits: int
    message: str = ""


def _to_float64(value: sympy.Basic) -> float:
    if value.is_Boolean or value.has(sympy.zoo, sympy.nan, sympy.oo, -sympy.oo):
        raise _NotFinite(f"derivative evaluates to {value}")
    real, imag = value.as_real_imag()
    if imag != 0:
        raise _NotFinite(f"derivative is complex here: {value}")
    real = sympy.Float(real, 30) if not isinstance(real, sympy.Float) else real
    return to_float(real._mpf_, rnd=round_nearest)


class PreparedReference:
    """The reference for one function and dimension, traced and compiled once.

    Parameters
    ----------
    f : callable
        ``f(x, xp)``.
    dim : int
        Length of ``x``.
    digits : int, optional
        Significant digits of the evaluation (at least 50); the check uses twice as many.
    """

    def __init__(self, f: Callable, dim: int, digits: int = 50) -> None:
        check_callable(f)
        if not isinstance(digits, int) or digits < 50:
            raise ValueError(f"digits must be an integer >= 50; got {digits!r}")
        self.dim = dim
        self.digits = digits
        self.status = "ok"
        self.message = ""
        if dim > MAX_REFERENCE_DIM:
            self.status = "too_large"
            self.message = (
                f"dim={dim} exceeds {MAX_REFERENCE_DIM} coordinates, the most the symbolic "
                "reference handles with one symbol per coordinate"
            )
            return
        self.symbols, _, gradient = differentiate(f, dim)
        stages, outputs = sympy.cse(list(gradient))
        # The function's float constants are exact doubles too (see _evaluate_once).
        constants = set().union(
            *(e.atoms(sympy.Float) for _, e in stages), *(e.atoms(sympy.Float) for e in outputs)
        )
        exact = {c: sympy.Float(c, MAX_WORKING_DIGITS) for c in constants}
        self._stages = [(name, e.xreplace(exact)) for name, e in stages]
        self._outputs = [e.xreplace(exact) for e in outputs]

    def _evaluate_once(self, x: np.ndarray, digits: int, working: int) -> np.ndarray:
        # Inputs and constants are exact doubles: give them every working digit so
        # that evalf never treats them as the limiting accuracy.
        values = {s: sympy.Float(float(v), working) for s, v in zip(self.symbols, x, strict=True)}
        for name, expression in self._stages:
            if isinstance(expression, sympy.logic.boolalg.Boolean):
                values[name] = expression.xreplace(values)
            else:
                values[name] = expression.evalf(working, subs=values, strict=True, maxn=working)
        return np.array(
            [_to_float64(e.evalf(digits, subs=values, strict=True, maxn=working)) for e in self._outputs],
            dtype=np.float64,
        )

    def _evaluate(self, x: np.ndarray, digits: int) -> np.ndarray:
        working = digits + 20
        while True:
            try:
                return self._evaluate_once(x, digits, working)
            except PrecisionExhausted:
                if working >= MAX_WORKING_DIGITS:
                    raise
                working *= 2

    def __call__(self, x) -> ReferenceGradient:
        """Evaluate the reference at ``x``; failures become a status, never a number."""
        if self.status != "ok":
            return ReferenceGradient(None, self.status, self.digits, self.message)
        x = as_point(x, dim=self.dim)
        try:
            value = self._evaluate(x, self.digits)
            check = self._evaluate(x, 2 * self.digits)
        except _NotFinite as error:
            return ReferenceGradient(None, "nonfinite", self.digits, str(error))
        except ZeroDivisionError:
            return ReferenceGradient(
                None, "nonfinite", self.digits, "division by zero: the derivative is infinite here"
            )
        except PrecisionExhausted:
            return ReferenceGradient(
                None,
                "unstable",
                self.digits,
                f"cancellation exhausted {MAX_WORKING_DIGITS} working digits",
            )
        if not np.all(np.isfinite(value)):
            bad = np.flatnonzero(~np.isfinite(value)).tolist()
            return ReferenceGradient(
                value,
                "nonfinite",
                self.digits,
                f"derivative overflows float64 at components {bad}",
            )
        if not np.array_equal(value, check):
            bad = np.flatnonzero(value != check).tolist()
            return ReferenceGradient(
                check,
                "unstable",
                self.digits,
                f"{self.digits} and {2 * self.digits} digits round differently at components {bad}",
            )
        return ReferenceGradient(value, "ok", self.digits)


def reference_gradient(f: Callable, x, digits: int = 50) -> ReferenceGradient:
    """The high-precision reference gradient of ``f(x, xp)`` at ``x``.

    Parameters
    ----------
    f : callable
        ``f(x, xp)`` returning a scalar.
    x : array_like of float, shape (n,)
        The point; each float64 coordinate is taken exactly.
    digits : int, optional
        Significant digits (>= 50); a second evaluation at twice that checks the rounding.

    Returns
    -------
    ReferenceGradient

    Examples
    --------
    >>> reference_gradient(lambda x, xp: xp.sum(xp.exp(x)), [0.0, 1.0]).value
    array([1.        , 2.71828183])
    """
    x = as_point(x)
    return PreparedReference(f, x.size, digits)(x)
