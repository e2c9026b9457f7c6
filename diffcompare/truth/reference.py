"""The truth: SymPy's derivative evaluated at 50 or more significant digits.

Each coordinate of the float64 point enters exactly (a SymPy Float holds a double
without rounding), as do the float64 constants of the function, so the reference is the
exact derivative of the function the float64 program describes.

Plain multiprecision evaluation is not enough: 1 - tanh(x)^2 at x = 360 cancels 312
digits, so a 50-digit and a 100-digit evaluation both return exactly 0 and agree.  The
derivative is therefore evaluated with SymPy's ``evalf``, which tracks the accuracy of
every sum and raises when cancellation leaves fewer correct digits than requested.  The
gradient's common subexpressions are evaluated once each, in order; the components
that run out of digits (or need a stage that did) are evaluated again with twice the
working precision, up to :data:`MAX_WORKING_DIGITS`.  The result is rounded to the
nearest float64, and the evaluation is repeated at twice the requested digits: if the
two roundings differ, the status says so.

Accuracy tracking cannot certify a derivative that is exactly 0 because its terms
cancel (``1 + sign(x)`` for ``x + |x|`` at ``x < 0``): no number of digits bounds the
relative error of 0.  A component that runs out of digits at the first working
precision is therefore also evaluated exactly, once: the coordinates and the constants
enter as the binary rationals they are, and if SymPy's exact arithmetic reduces the
component to a rational number, that number is the derivative, certified.  Anything
SymPy cannot reduce exactly (an ``exp`` of a nonzero rational) ends the attempt without
making the expression any larger, so it costs about one pass over the stages.  The same
exact pass recognises a pole: a component that is exactly infinite (``1/(x - 1/2)`` at
``x = 1/2``, the derivative of ``log`` or ``sqrt`` at 0) gets the status ``"nonfinite"``.

A function SymPy cannot trace or differentiate (an unsupported operation, Python
control flow on a traced value, a ``RecursionError`` inside SymPy) gives the status
``"error"`` with the reason, like every other failure; only the caller's mistakes in
the arguments themselves raise, and so does a :class:`~diffcompare.budget.BudgetExceeded`
from an enclosing time budget.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import sympy
from mpmath.libmp import round_nearest, to_float
from sympy.core.evalf import PrecisionExhausted

from ..budget import BudgetExceeded
from ..methods.symbolic.gradient import differentiate
from ..validation import as_point, check_callable

__all__ = ["ReferenceGradient", "PreparedReference", "reference_gradient", "MAX_REFERENCE_DIM"]

#: Beyond this many coordinates one symbol per coordinate makes SymPy too slow.
MAX_REFERENCE_DIM = 200

#: Most working digits tried before a point is declared unstable.
MAX_WORKING_DIGITS = 6400


class _NotFinite(ArithmeticError):
    """The derivative is infinite, complex or undefined at the point."""


#: Exact values that make a derivative infinite; exact arithmetic reaches them at a pole.
_INFINITIES = (sympy.zoo, sympy.oo, -sympy.oo)


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
        float64); ``"too_large"`` (too many coordinates for SymPy); ``"error"``
        (SymPy failed on the function).
    digits : int
        Requested significant decimal digits of the first evaluation.
    message : str
        Why the status is not ``"ok"``.
    directional : DirectionalReference or None
        Where the harness measured one instead (the full reference missing): the
        certified derivative along a random direction.
    """

    value: np.ndarray | None
    status: str
    digits: int
    message: str = ""
    directional: object = None


def _to_float64(value: sympy.Basic) -> float:
    if value.is_Boolean or value.has(sympy.zoo, sympy.nan, sympy.oo, -sympy.oo):
        raise _NotFinite(f"derivative evaluates to {value}")
    real, imag = value.as_real_imag()
    if imag != 0:
        raise _NotFinite(f"derivative is complex here: {value}")
    real = sympy.Float(real, 30) if not isinstance(real, sympy.Float) else real
    return to_float(real._mpf_, rnd=round_nearest)


def _rational_to_float64(value: sympy.Rational) -> float:
    # Python's int / int is correctly rounded: no intermediate decimal rounding.
    try:
        return value.p / value.q
    except OverflowError:
        return math.copysign(math.inf, value.p)


def _replace_constants(stages, outputs, convert: Callable) -> tuple[list, list]:
    """CSE stages and outputs with every Float constant ``c`` replaced by ``convert(c)``."""
    constants = set().union(
        *(e.atoms(sympy.Float) for _, e in stages), *(e.atoms(sympy.Float) for e in outputs)
    )
    table = {c: convert(c) for c in constants}
    return [(name, e.xreplace(table)) for name, e in stages], [e.xreplace(table) for e in outputs]


def _stage_dependencies(stages, outputs) -> tuple[list[frozenset[int]], list[frozenset[int]]]:
    """The indices of every CSE stage each stage and each output needs, directly or not."""
    index = {name: i for i, (name, _) in enumerate(stages)}
    closure: list[frozenset[int]] = []

    def needs(expression) -> frozenset[int]:
        direct = [index[s] for s in expression.free_symbols if s in index]
        return frozenset(direct).union(*(closure[i] for i in direct))

    for _, expression in stages:  # in order: a stage only uses earlier ones
        closure.append(needs(expression))
    return closure, [needs(e) for e in outputs]


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
    derivatives : callable, optional
        ``derivatives(f, dim) -> (symbols, expressions)``: what to evaluate.  By default
        the gradient; :mod:`diffcompare.truth.operators` passes a Jacobian's or a
        Hessian's entries, flattened, and the value has one entry per expression.

    Raises
    ------
    TypeError
        If ``f`` is not callable.
    ValueError
        If ``digits`` is not an integer >= 50.
    BudgetExceeded
        From an enclosing :func:`~diffcompare.budget.time_budget`.  Any failure of SymPy
        on ``f`` is not raised: calling the instance returns it as status ``"error"``.
    """

    def __init__(self, f: Callable, dim: int, digits: int = 50, derivatives: Callable | None = None) -> None:
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
        try:
            if derivatives is None:
                self.symbols, _, gradient = differentiate(f, dim)
            else:
                self.symbols, gradient = derivatives(f, dim)
            stages, outputs = sympy.cse(list(gradient))
        except BudgetExceeded:
            raise
        except Exception as error:  # RecursionError too: SymPy recursing without end
            self.status = "error"
            self.message = f"SymPy could not trace and differentiate f: {type(error).__name__}: {error}"
            return
        # The function's float constants are exact doubles too (see _evaluate_once).
        self._stages, self._outputs = _replace_constants(
            stages, outputs, lambda c: sympy.Float(c, MAX_WORKING_DIGITS)
        )
        self._stage_needs, self._needs = _stage_dependencies(stages, outputs)
        self._rational: tuple[list, list] | None = None  # built by the first exact evaluation

    def _evaluate_once(self, x: np.ndarray, digits: int, working: int, components) -> dict[int, float]:
        """The ``components`` that evaluate to ``digits`` certified digits at ``working`` digits.

        A stage that runs out of digits is skipped, with every component that needs it.
        """
        # Inputs and constants are exact doubles: give them every working digit so
        # that evalf never treats them as the limiting accuracy.
        values = {s: sympy.Float(float(v), working) for s, v in zip(self.symbols, x, strict=True)}
        needed = frozenset().union(*(self._needs[k] for k in components))
        short: set[int] = set()  # stages that ran out of digits
        for i in sorted(needed):
            name, expression = self._stages[i]
            if self._stage_needs[i] & short:
                short.add(i)
            elif isinstance(expression, sympy.logic.boolalg.Boolean):
                values[name] = expression.xreplace(values)
            else:
                try:
                    values[name] = expression.evalf(working, subs=values, strict=True, maxn=working)
                except PrecisionExhausted:
                    short.add(i)
        certified = {}
        for k in components:
            if self._needs[k] & short:
                continue
            try:
                value = self._outputs[k].evalf(digits, subs=values, strict=True, maxn=working)
            except PrecisionExhausted:
                continue
            certified[k] = _to_float64(value)
        return certified

    def _exact_components(self, x: np.ndarray, components) -> dict[int, float]:
        """The ``components`` SymPy's exact arithmetic reduces to a rational number.

        Every float64 coordinate and constant is a binary rational, so substituting
        them as Rationals is exact, and SymPy simplifies exact numbers only exactly
        (``sign(-3/2) = -1``, ``sinh(0) = 0``, ``sqrt(9/4) = 3/2``).  A stage that does
        not become a rational (``exp(3/2)``) is replaced by a placeholder symbol known
        only to be finite and nonzero, which keeps the expressions small: SymPy's
        automatic rules for a symbol (``0 * s = 0``, ``s - s = 0``, ``s / s = 1``) are
        then true of the stage too.  A stage SymPy cannot show finite and nonzero ends
        the attempt for every component that needs it, and a component that still
        holds a placeholder is not exact.
        """
        if not components:
            return {}
        if self._rational is None:
            # Rational(c) is the Float's exact binary value, not a nearby fraction.
            self._rational = _replace_constants(self._stages, self._outputs, sympy.Rational)
        stages, outputs = self._rational
        values = {s: sympy.Rational(float(v)) for s, v in zip(self.symbols, x, strict=True)}
        needed = frozenset().union(*(self._needs[k] for k in components))
        unknown: set[int] = set()  # stages not known to be finite and nonzero
        for i in sorted(needed):
            name, expression = stages[i]
            if self._stage_needs[i] & unknown:
                unknown.add(i)
                continue
            value = expression.xreplace(values)
            if value.is_Rational or value.is_Boolean or value in _INFINITIES or value is sympy.nan:
                # nan too: 0/0 in a branch a Piecewise does not select (the general
                # d/db b**e = e b**e / b at b = 0, where the power takes its limit)
                values[name] = value
            elif value.is_finite and value.is_zero is False:
                values[name] = sympy.Dummy(finite=True, zero=False)
            else:
                unknown.add(i)
        exact = {}
        for k in components:
            if self._needs[k] & unknown:
                continue
            value = outputs[k].xreplace(values)
            if value.is_Rational:
                exact[k] = _rational_to_float64(value)
            elif value in _INFINITIES:  # a pole of the derivative: log or 1/x at 0, sqrt' at 0
                raise _NotFinite(f"the derivative is infinite here: component {k} is exactly {value}")
        return exact

    def _evaluate(self, x: np.ndarray, digits: int, components) -> tuple[dict[int, float], set[int]]:
        """Certified float64 values of ``components`` and which of them are exact.

        Components that run out of digits at the first working precision are tried
        exactly; the rest are evaluated again with twice the working digits, until
        :data:`MAX_WORKING_DIGITS`.  A component that is never certified is missing.
        """
        working = digits + 20
        values = self._evaluate_once(x, digits, working, components)
        try:
            exact = self._exact_components(x, [k for k in components if k not in values])
        except _NotFinite:
            raise
        except (ArithmeticError, TypeError, ValueError):  # SymPy refusing, e.g. nan > 0: not exact
            exact = {}
        values.update(exact)
        while (short := [k for k in components if k not in values]) and working < MAX_WORKING_DIGITS:
            working *= 2
            values.update(self._evaluate_once(x, digits, working, short))
        return values, set(exact)

    def __call__(self, x) -> ReferenceGradient:
        """Evaluate the reference at ``x``; failures become a status, never a number."""
        if self.status != "ok":
            return ReferenceGradient(None, self.status, self.digits, self.message)
        x = as_point(x, dim=self.dim)
        components = range(len(self._outputs))
        try:
            values, exact = self._evaluate(x, self.digits, components)
            short = [k for k in components if k not in values]
            if not short:
                checks, _ = self._evaluate(x, 2 * self.digits, [k for k in components if k not in exact])
                short = [k for k in components if k not in exact and k not in checks]
        except _NotFinite as error:
            return ReferenceGradient(None, "nonfinite", self.digits, str(error))
        except ZeroDivisionError:
            return ReferenceGradient(
                None, "nonfinite", self.digits, "division by zero: the derivative is infinite here"
            )
        except BudgetExceeded:
            raise
        except Exception as error:  # RecursionError too: SymPy failing on a large expression
            message = f"SymPy could not evaluate the derivative: {type(error).__name__}: {error}"
            return ReferenceGradient(None, "error", self.digits, message)
        if short:
            return ReferenceGradient(
                None,
                "unstable",
                self.digits,
                f"cancellation exhausted {MAX_WORKING_DIGITS} working digits at components {short}",
            )
        value = np.array([values[k] for k in components], dtype=np.float64)
        check = np.array([values[k] if k in exact else checks[k] for k in components], dtype=np.float64)
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
