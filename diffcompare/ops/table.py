"""The operations a test function may call on its array namespace ``xp``: one row each.

Every backend (numpy, autograd, SymPy, the tape, dual numbers, the complex step)
provides exactly the names in :data:`OPS`, so one function definition runs unchanged on
all of them.  Names follow numpy; the Array API spellings in :data:`ALIASES` resolve to
the same operation (and therefore to the same derivative rule), and the operations in
:data:`DERIVED` are written with the others, so they need no derivative rule of their own.

An elementwise operation is one row: its test domain, its numpy and SymPy spellings and
one derivative factor per argument, ``d(ans, *args)``, which the tape applies as
``g * d`` and forward mode as ``t * d`` (:func:`~diffcompare.ops.elementwise.elementwise_rules`).
Adding a unary function is adding one row.  Where two formulas are equal in exact
arithmetic, a factor uses the one that keeps its digits in float64 (comments at each).

``domain`` is the interval of each argument on which the operation is smooth and well
conditioned enough to property-test its derivative in float64; ``None`` marks an
argument that is not differentiated (a condition, an axis) or has no restriction
beyond being finite.

Conventions where a derivative does not exist, shared by every method:

- ``sign``, ``floor`` and ``round`` are piecewise constant: their derivative is 0 almost
  everywhere, and 0 is also what every method returns at the steps (their factor is
  ``None``: the engines record no dependence at all).  ``round`` is numpy's, halves to
  the even integer, with its default ``decimals=0`` only.
- Ties share the derivative equally (``maximum``, ``minimum``, ``max``), and
  ``abs'(0) = 0``; likewise ``hypot`` and ``arctan2`` take the subgradient 0 at the
  origin.  ``clip(x, lower, upper)`` is ``minimum(maximum(x, lower), upper)``
  (:data:`DERIVED`), so at ``x == lower`` (or ``upper``) ``x`` and the bound share the
  derivative: ``1/2`` each.
- ``xlogy(0, y) = 0`` for every ``y``; there ``d/dx = log(y)`` and ``d/dy = 0``.
"""

from __future__ import annotations

import importlib
import math
import operator
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

__all__ = [
    "OpSpec",
    "OPS",
    "ALIASES",
    "DERIVED",
    "EXTENDED",
    "CONSTRUCTORS",
    "CONSTANTS",
    "ONE",
    "MINUS_ONE",
    "Over",
    "Refused",
    "canonical_name",
    "numpy_function_name",
    "only_default_decimals",
    "rgamma_derivative",
    "operation",
]

Interval = tuple[float, float]


@dataclass(frozen=True)
class Over:
    """A derivative factor written as a divisor: the rule divides by ``divisor(ans, *args)``.

    ``g / (2 ans)`` rounds once where ``g * (0.5 / ans)`` rounds twice.
    """

    divisor: Callable[..., object]


@dataclass(frozen=True)
class Refused:
    """A partial derivative the engines refuse by name (never take as 0).

    For an argument such as the order of a Bessel function: the operation is smooth
    in it, but its derivative has no closed form in functions scipy evaluates.  A
    constant argument there costs nothing; a traced one is refused.
    """

    op: str
    argument: str
    reason: str


#: A derivative factor ``d(ans, *args)``, an :class:`Over`, a :class:`Refused`, or
#: :data:`ONE`, :data:`MINUS_ONE`.
Factor = Callable[..., object] | Over | Refused | float

#: The factor of an argument that passes through unchanged (``add``): engines skip the product.
ONE = 1.0
#: The factor of a negated argument (``negative``, the second of ``subtract``).
MINUS_ONE = -1.0


@dataclass(frozen=True)
class OpSpec:
    """One differentiable operation.

    Parameters
    ----------
    name : str
        Canonical (numpy) name.
    kind : str
        ``"unary"``, ``"binary"``, ``"select"``, ``"reduction"``, ``"scan"``,
        ``"shape"`` or ``"linalg"``.
    domain : tuple of intervals or None
        For elementwise operations, the test interval of each argument.
    derivative : tuple or None
        For ``"unary"`` and ``"binary"`` operations, the derivative factor of each
        argument, ``d(ans, *args)`` (or :data:`ONE`, :data:`MINUS_ONE`), or ``None``
        where the partial derivative is 0 wherever it exists (a piecewise-constant
        operation).
    singular : bool
        A factor can be infinite where the operation is finite (``sqrt`` at 0): a zero
        tangent or cotangent times it is then 0, not NaN.
    total : bool
        Finite at every finite argument, in numpy and in the SymPy spelling lambdified
        to numpy: no pole, no edge of a domain, no intermediate that overflows before
        the value does (``softplus`` as ``log1p(exp(x))`` does).  A composition of total
        operations is finite wherever its value does not overflow, so a method that
        computes that value in its own form can stand in for the numpy check of a
        singular point (``symbolic_vector``).
    array : str or callable or None
        The numpy spelling: the function's name in numpy (and ``autograd.numpy``), or
        ``make(m)`` returning it written with array module ``m``'s functions.
    sympy : str or callable or None
        The SymPy spelling: the function's name in ``sympy``, or ``spell(sympy, *args)``.
    """

    name: str
    kind: str
    domain: tuple[Interval | None, ...] | None = None
    derivative: tuple[Factor, ...] | None = None
    singular: bool = False
    total: bool = False
    array: str | Callable | None = None
    sympy: str | Callable | None = None


def make_sigmoid(m):
    # exp(-|x|) never overflows; the two branches are the same function, each free of
    # cancellation on its own half-line, and both are finite everywhere (so the
    # derivative of the unused branch cannot turn into nan through `where`).
    def sigmoid(x):
        e = m.exp(-m.abs(x))
        return m.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))

    return sigmoid


def make_softplus(m):
    # log(1 + exp(x)) = max(x, 0) + log1p(exp(-|x|)): no overflow for large x and no
    # loss of the tiny result exp(x) for very negative x.
    def softplus(x):
        return m.maximum(x, 0.0) + m.log1p(m.exp(-m.abs(x)))

    return softplus


_sigmoid = make_sigmoid(np)


def _tanh_factor(ans, x):
    # tanh' = 1 - tanh^2 rounds to 0 once |tanh| rounds to 1 (|x| > 19), and 1/cosh^2
    # overflows past |x| = 355; 4 e / (1 + e)^2 with e = exp(-2|x|) keeps full relative
    # accuracy down to the underflow threshold.
    e = np.exp(-2.0 * np.abs(x))
    return 4.0 * e / (1.0 + e) ** 2


def _power_base_factor(ans, x, y):
    # y x^(y - 1), with the exponent 0 case kept finite at x = 0 (0 * inf would be nan).
    if type(y) in (int, float) and y != 0:  # a constant exponent, as in x**2: no where
        return y * x if y == 2 else y * np.power(x, y - 1)
    return y * np.power(x, np.where(y == 0, 1.0, np.subtract(y, 1.0)))


def _power_exponent_factor(ans, x, y):
    # d/dy x^y = log(x) x^y; at x = 0 the limit is 0 (log replaced by log 1).
    return np.log(np.where(x == 0, 1.0, x)) * ans


def _first_picked(ans, a, b):
    # maximum and minimum: 1 where a alone is the result, 1/2 on ties, 0 where b won.
    return (a == ans) / (1.0 + (a == b))


def _second_picked(ans, a, b):
    return (b == ans) / (1.0 + (a == b))


def _sympy_sigmoid(sympy, x):
    return 1 / (1 + sympy.exp(-x))


def _sympy_softplus(sympy, x):
    return sympy.log(1 + sympy.exp(x))


# --- the elementwise group: special functions, steps, two-argument functions -------------

_LN2 = 0.6931471805599453  # log(2), rounded to nearest
_LN10 = 2.302585092994046  # log(10)
_TWO_OVER_SQRT_PI = 1.1283791670955126  # erf'(0) = 2 / sqrt(pi)

#: The module of special functions that goes with each array module: numpy has none, so
#: erf, gammaln ... come from scipy.special, imported at their first call (``import
#: diffcompare`` must not load scipy), and autograd's from autograd.scipy.special.
_SPECIAL_MODULES = {"numpy": "scipy.special", "autograd.numpy": "autograd.scipy.special"}


def _special(name: str) -> Callable:
    """The row spelling of special function ``name``: ``make(m)`` for array module ``m``."""

    def make(m):
        module = _SPECIAL_MODULES[m.__name__]

        def special(*args):
            return getattr(importlib.import_module(module), name)(*args)

        special.__name__ = name
        return special

    return make


def _scipy_special():
    return importlib.import_module("scipy.special")


def only_default_decimals(round_function: Callable) -> Callable:
    """``round`` that refuses any ``decimals`` but numpy's default 0, naming the argument.

    ``round(x, decimals=2)`` is a step function too, but the SymPy spellings and the
    complex step implement the nearest integer only; every backend refuses alike.
    """

    def nearest_integer(x, decimals=0):
        if decimals != 0:
            raise NotImplementedError(
                f"round with decimals={decimals!r}: diffcompare's round is numpy's with its "
                "default decimals=0 only (the nearest integer, halves to even)"
            )
        return round_function(x)

    nearest_integer.__name__ = "round"
    return nearest_integer


def _make_round(m):
    return only_default_decimals(m.round)


def _exp_minus_square(x):
    # exp(-x^2) with x^2 = p + e split exactly (Dekker's product): exp(-fl(x * x))
    # alone carries the rounding of x * x magnified by x^2 (13 ulp at x = 5), since
    # exp(-(p + e)) = exp(-p) (1 - e) to first order in the tiny e.  Beyond |x| = 27.3
    # the result underflows to 0; the clamp keeps the 2^27 + 1 split from overflowing.
    x = np.minimum(np.abs(x), 40.0)
    p = x * x
    c = 134217729.0 * x  # 2^27 + 1: splits x into two halves whose products are exact
    high = c - (c - x)
    low = x - high
    e = ((high * high - p) + 2.0 * high * low) + low * low
    return np.exp(-p) * (1.0 - e)


def _difference(a, b):
    # a - b = d + e exactly (Knuth's TwoSum), so that e holds the rounding error of d.
    d = a - b
    virtual = d - a
    e = (a - (d - virtual)) + (-b - virtual)
    return d, e


def _logaddexp_first(ans, a, b):
    # sigmoid(a - b), not exp(a - ans): no rounding of ans enters.  sigmoid(t) ~ e^t
    # multiplies the rounding error of t = fl(a - b) by |t| (t = -700: 350 ulp), so the
    # error e of the difference corrects it: sigmoid(d + e) = sigmoid(d) (1 + sigmoid(-d) e).
    d, e = _difference(a, b)
    return _sigmoid(d) * (1.0 + _sigmoid(-d) * e)


def _logaddexp_second(ans, a, b):
    d, e = _difference(a, b)
    return _sigmoid(-d) * (1.0 - _sigmoid(d) * e)


def _hypot_first(ans, a, b):
    # a / hypot(a, b), one rounding; at the origin (0 / 0) the subgradient 0, as abs'(0) = 0.
    return a / np.where(ans == 0, 1.0, ans)


def _hypot_second(ans, a, b):
    return b / np.where(ans == 0, 1.0, ans)


def _radius(y, x):
    r = np.hypot(y, x)
    return np.where(r == 0, 1.0, r)  # the origin: numerators 0, so the subgradient 0


def _arctan2_first(ans, y, x):
    # d/dy arctan2(y, x) = x / (x^2 + y^2), as x / r / r with r = hypot(y, x): the squares
    # would overflow beyond 1e154 and underflow below 1e-162.
    r = _radius(y, x)
    return x / r / r


def _arctan2_second(ans, y, x):
    r = _radius(y, x)
    return -y / r / r


def _xlogy_second(ans, x, y):
    # x / y; where x = 0 the function is 0 for every y, so the partial is 0 (also at y = 0).
    return x / np.where(x == 0, 1.0, y)


def _sympy_sign(sympy, x):
    # A Piecewise of constants: sympy.sign's derivative is 2 DiracDelta(x), which no
    # printer evaluates; this one's is 0 everywhere, as on the tape.
    return sympy.Piecewise((1, x > 0), (-1, x < 0), (0, True))


def _sympy_floor(sympy, x):
    from .sympy_functions import Floor

    return Floor(x)


def _sympy_round(sympy, x):
    from .sympy_functions import RoundHalfEven

    return RoundHalfEven(x)


def _away_from_origin(sympy, value, a, b):
    # The subgradient 0 at the origin: the constant piece there has derivative 0.
    return sympy.Piecewise((value, sympy.Ne(a, 0) | sympy.Ne(b, 0)), (0, True))


def _sympy_hypot(sympy, a, b):
    return _away_from_origin(sympy, sympy.sqrt(a**2 + b**2), a, b)


def _sympy_arctan2(sympy, y, x):
    return _away_from_origin(sympy, sympy.atan2(y, x), y, x)


def _sympy_xlogy(sympy, x, y):
    # x log(y) is 0 at x = 0 for y > 0 with the partials log(y) and 0; at (0, 0), where
    # d/dx = log(0) is infinite, it is nan rather than a finite number.
    return x * sympy.log(y)


# --- elementwise, second wave: steps, remainders, Bessel and gamma-family functions ------

_SQRT_PI_OVER_TWO = 0.886226925452758  # erfinv'(0) = sqrt(pi) / 2
_PI = 3.141592653589793


_ORDER = "a derivative with respect to the order has no closed form in functions scipy evaluates"
_SHAPE = "a derivative with respect to the shape parameter has no closed form in functions scipy evaluates"


def rgamma_derivative(ans, x):
    """The derivative of 1/Gamma at ``x`` given ``ans = rgamma(x)``, right at the poles of Gamma."""
    # -rgamma(x) digamma(x) away from the poles of Gamma; at x = -n (n = 0, 1, ...)
    # 1/Gamma has a simple zero with slope (-1)^n n!, where the product would be 0 * inf.
    special = _scipy_special()
    x = np.asarray(x, dtype=float)
    pole = (x <= 0) & (x == np.floor(x))
    n = np.where(pole, -x, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        regular = -ans * special.digamma(np.where(pole, 1.0, x))
    return np.where(pole, np.where(n % 2 == 0, 1.0, -1.0) * special.gamma(n + 1.0), regular)


def _erfinv_divisor(ans, x):
    # erfinv'(x) = sqrt(pi)/2 exp(erfinv(x)^2): as a division by erf'(ans), with ans^2
    # split exactly (see _exp_minus_square); 0 at x = +-1, where erfinv is infinite.
    return _TWO_OVER_SQRT_PI * _exp_minus_square(ans)


def _sinc_factor(ans, x):
    # sinc'(x) = pi (t cos t - sin t) / t^2 with t = pi x.  Below |t| = 1 the numerator
    # cancels (it is -t^3/3 + ...), so its series there, whose terms after the division
    # are (-1)^k 2k / (2k + 1)! t^(2k - 1): ten terms leave 1e-18.  Above, cos t - sinc x
    # loses digits only near the roots of sinc' (tan t = t, x = 1.43, 2.46, ...).
    x = np.asarray(x, dtype=float)
    t = _PI * x
    small = np.abs(t) < 1.0
    s = np.where(small, t, 0.0)
    s2 = s * s
    series = 0.0
    for k in range(10, 0, -1):
        series = series * s2 + (-1.0) ** k * 2.0 * k / math.factorial(2 * k + 1)
    series = _PI * s * series
    safe = np.where(small, 1.0, x)
    direct = (np.cos(_PI * safe) - np.sinc(safe)) / safe
    return np.where(small, series, direct)


def _small_argument(first_order, x):
    # j1 and i1 are x/2 (1 -+ x^2/8 ...): below 1e-150 that is exact in float64, where
    # scipy's j1 loses digits once the result is subnormal (75 ulp at 2e-308).
    tiny = np.abs(x) < 1e-150
    return np.where(tiny, 0.5 * np.asarray(x, dtype=float), first_order(np.where(tiny, 1.0, x)))


def _j1_factor(ans, x):
    # j1' = (j0 - j2) / 2: no division by x (j1' = j0 - j1 / x is 0/0 at the origin).
    special = _scipy_special()
    return 0.5 * (special.j0(x) - special.jv(2.0, x))


def _y1_factor(ans, x):
    special = _scipy_special()
    return 0.5 * (special.y0(x) - special.yn(2, x))


def _i1_factor(ans, x):
    # i1' = (i0 + i2) / 2: a sum of two positive numbers, no cancellation.
    # scipy's iv(2, x) is nan below 1e-308; there i2 ~ x^2 / 8 is far below i0's last digit.
    special = _scipy_special()
    tiny = np.abs(x) < 1e-150
    return 0.5 * (special.i0(x) + np.where(tiny, 0.0, special.iv(2.0, np.where(tiny, 1.0, x))))


def _bessel_factor(name: str, sign: float) -> Callable:
    # C_n' = (C_{n-1} - C_{n+1}) / 2 for J and Y, (I_{n-1} + I_{n+1}) / 2 for I (sign +1).
    def factor(ans, n, x):
        function = getattr(_scipy_special(), name)
        return 0.5 * (function(np.subtract(n, 1), x) + sign * function(np.add(n, 1), x))

    return factor


def _ive_factor(ans, v, x):
    # ive = iv exp(-|x|): ive' = (ive(v - 1) + ive(v + 1)) / 2 - sign(x) ive.  For x >> v
    # the two terms nearly cancel (ive' ~ -(v^2 - 1/4) / (2 x^2) ive): about log10(x)
    # digits are lost, as in any formula from values of ive alone.
    special = _scipy_special()
    return 0.5 * (special.ive(np.subtract(v, 1), x) + special.ive(np.add(v, 1), x)) - np.sign(x) * ans


def _polygamma_factor(ans, n, x):
    return _scipy_special().polygamma(np.add(n, 1), x)


def _gammainc_density(ans, a, x):
    # d/dx P(a, x) = x^(a-1) e^(-x) / Gamma(a), in logs (each factor alone overflows).
    # xlogy: at x = 0 with a = 1 the density is 1, not 0 * log 0.  The exponent's
    # absolute rounding, eps (|a log x| + x + |gammaln a|), becomes the relative error.
    special = _scipy_special()
    return np.exp(special.xlogy(np.subtract(a, 1.0), x) - x - special.gammaln(a))


def _beta_first(ans, a, b):
    # B(a, b) (psi(a) - psi(a + b)); the difference of digammas cancels when a >> b.
    special = _scipy_special()
    return ans * (special.digamma(a) - special.digamma(np.add(a, b)))


def _beta_second(ans, a, b):
    return _beta_first(ans, b, a)


def _betaln_first(ans, a, b):
    special = _scipy_special()
    return special.digamma(a) - special.digamma(np.add(a, b))


def _betaln_second(ans, a, b):
    return _betaln_first(ans, b, a)


def _logaddexp2_first(ans, a, b):
    # 1 / (1 + 2^(b - a)), the base-2 sigmoid of d = a - b, from exp2 of the exact
    # difference: exp2(-|d|) never overflows, and the rounding error e of d corrects it,
    # s(d + e) = s(d) (1 + ln2 s(-d) e), as in logaddexp.
    d, e = _difference(a, b)
    return _sigmoid2(d) * (1.0 + _LN2 * _sigmoid2(-d) * e)


def _logaddexp2_second(ans, a, b):
    d, e = _difference(a, b)
    return _sigmoid2(-d) * (1.0 - _LN2 * _sigmoid2(d) * e)


def _sigmoid2(d):
    e = np.exp2(-np.abs(d))
    return np.where(d >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _remainder_second(ans, a, b):
    # remainder(a, b) = a - floor(a / b) b with numpy's quotient (floor_divide is
    # computed with remainder, so it is the integer the value used, not fl(a / b)).
    return -np.floor_divide(a, b)


def _sympy_sinc(sympy, x):
    # numpy's normalised sinc; the constant piece at 0 has the right derivative there, 0
    # (sympy.sinc's own derivative substitutes into a quotient that is 0/0 at 0).
    return sympy.Piecewise((sympy.sin(sympy.pi * x) / (sympy.pi * x), sympy.Ne(x, 0)), (1, True))


def _sympy_ceil(sympy, x):
    from .sympy_functions import Ceiling

    return Ceiling(x)


def _sympy_gammasgn(sympy, x):
    # The sign of Gamma as a function with derivative 0 (a step at each pole).
    from .sympy_functions import GammaSign

    return GammaSign(x)


def _sympy_remainder(sympy, a, b):
    from .sympy_functions import Floor

    return a - b * Floor(a / b)


def _constant_order(sympy, n, op: str):
    """The order or index ``n`` of ``op`` as a SymPy number; refused if it is traced."""
    n = sympy.sympify(n)
    if n.free_symbols:
        from .namespace import unsupported

        raise unsupported("SymPy tracing", op, f"no derivative with respect to its first argument: {_ORDER}")
    return sympy.Integer(int(n)) if n == int(n) else n


def _sympy_bessel(name: str, op: str) -> Callable:
    return lambda sympy, n, x: getattr(sympy, name)(_constant_order(sympy, n, op), x)


def _sympy_ive(sympy, v, x):
    return sympy.besseli(_constant_order(sympy, v, "ive"), x) * sympy.exp(-sympy.Abs(x))


def _sympy_gammainc(sympy, a, x):
    a = _constant_order(sympy, a, "gammainc")
    return sympy.lowergamma(a, x) / sympy.gamma(a)


def _sympy_gammaincc(sympy, a, x):
    a = _constant_order(sympy, a, "gammaincc")
    return sympy.uppergamma(a, x) / sympy.gamma(a)


_WIDE: Interval = (-20.0, 20.0)
_POSITIVE: Interval = (1e-3, 1e3)

# fmt: off
_ROWS = (
    # name, kind, test domain, derivative factors d(ans, *args), numpy spelling, SymPy spelling
    OpSpec("negative", "unary", ((-1e3, 1e3),),          (MINUS_ONE,),                                                        total=True, array="negative",   sympy=lambda sp, x: -x),
    OpSpec("abs",      "unary", ((-1e3, 1e3),),          (lambda ans, x: np.sign(x),),                                        total=True, array="abs",        sympy="Abs"),
    OpSpec("exp",      "unary", ((-700.0, 700.0),),      (lambda ans, x: ans,),                                               total=True, array="exp",        sympy="exp"),
    # exp(x), not ans + 1: cancels for x << 0.
    OpSpec("expm1",    "unary", ((-700.0, 700.0),),      (lambda ans, x: np.exp(x),),                                         total=True, array="expm1",      sympy=lambda sp, x: sp.exp(x) - 1),
    OpSpec("log",      "unary", (_POSITIVE,),            (Over(lambda ans, x: x),),                                                       array="log",        sympy="log"),
    OpSpec("log1p",    "unary", ((-0.999, 1e3),),        (Over(lambda ans, x: 1.0 + x),),                                               array="log1p",      sympy=lambda sp, x: sp.log(1 + x)),
    OpSpec("sqrt",     "unary", (_POSITIVE,),            (Over(lambda ans, x: 2.0 * ans),), singular=True,                                     array="sqrt",       sympy="sqrt"),
    OpSpec("sin",      "unary", (_WIDE,),                (lambda ans, x: np.cos(x),),                                         total=True, array="sin",        sympy="sin"),
    OpSpec("cos",      "unary", (_WIDE,),                (lambda ans, x: -np.sin(x),),                                        total=True, array="cos",        sympy="cos"),
    OpSpec("tan",      "unary", ((-1.5, 1.5),),          (Over(lambda ans, x: np.cos(x) ** 2),),                                          array="tan",        sympy="tan"),
    # (1 - x)(1 + x), not 1 - x*x: near |x| = 1 the product keeps every digit.
    OpSpec("arcsin",   "unary", ((-0.999, 0.999),),      (Over(lambda ans, x: np.sqrt((1.0 - x) * (1.0 + x))),), singular=True,          array="arcsin",     sympy="asin"),
    OpSpec("arccos",   "unary", ((-0.999, 0.999),),      (Over(lambda ans, x: -np.sqrt((1.0 - x) * (1.0 + x))),), singular=True,         array="arccos",     sympy="acos"),
    OpSpec("arctan",   "unary", ((-1e3, 1e3),),          (Over(lambda ans, x: 1.0 + x * x),),                               total=True, array="arctan",     sympy="atan"),
    # 1/hypot(1, x), not 1/sqrt(1 + x*x): x*x overflows past |x| = 1.3e154.
    OpSpec("arcsinh",  "unary", ((-1e3, 1e3),),          (Over(lambda ans, x: np.hypot(1.0, x)),),                            total=True, array="arcsinh",    sympy="asinh"),
    OpSpec("sinh",     "unary", ((-700.0, 700.0),),      (lambda ans, x: np.cosh(x),),                                        total=True, array="sinh",       sympy="sinh"),
    OpSpec("cosh",     "unary", ((-700.0, 700.0),),      (lambda ans, x: np.sinh(x),),                                        total=True, array="cosh",       sympy="cosh"),
    OpSpec("tanh",     "unary", ((-350.0, 350.0),),      (_tanh_factor,),                                                     total=True, array="tanh",       sympy="tanh"),
    # s(x) s(-x), not s (1 - s): 1 - s cancels once s is close to 1.
    OpSpec("sigmoid",  "unary", ((-700.0, 700.0),),      (lambda ans, x: ans * _sigmoid(-x),),                                total=True, array=make_sigmoid, sympy=_sympy_sigmoid),
    OpSpec("softplus", "unary", ((-700.0, 700.0),),      (lambda ans, x: _sigmoid(x),),                                                   array=make_softplus, sympy=_sympy_softplus),
    # --- elementwise group: unary operations ---
    OpSpec("square",   "unary", ((-1e3, 1e3),),          (lambda ans, x: 2.0 * x,),                                           total=True, array="square",     sympy=lambda sp, x: x**2),
    # x ln2, then one division, not g * (1 / (x ln2)): the reciprocal would round again.
    OpSpec("log2",     "unary", (_POSITIVE,),            (Over(lambda ans, x: x * _LN2),),                                                array="log2",       sympy=lambda sp, x: sp.log(x, 2)),
    OpSpec("log10",    "unary", (_POSITIVE,),            (Over(lambda ans, x: x * _LN10),),                                               array="log10",      sympy=lambda sp, x: sp.log(x, 10)),
    OpSpec("exp2",     "unary", ((-1000.0, 1000.0),),    (lambda ans, x: ans * _LN2,),                                        total=True, array="exp2",       sympy=lambda sp, x: sp.Integer(2) ** x),
    # sqrt(x - 1) sqrt(x + 1), not sqrt(x*x - 1): x - 1 is exact near 1 and nothing overflows.
    OpSpec("arccosh",  "unary", ((1.001, 1e3),),         (Over(lambda ans, x: np.sqrt(x - 1.0) * np.sqrt(x + 1.0)),), singular=True,     array="arccosh",    sympy="acosh"),
    OpSpec("arctanh",  "unary", ((-0.999, 0.999),),      (Over(lambda ans, x: (1.0 - x) * (1.0 + x)),), singular=True,                    array="arctanh",    sympy="atanh"),
    # 2/sqrt(pi) exp(-x^2) with x^2 split exactly (see _exp_minus_square).
    OpSpec("erf",      "unary", ((-10.0, 10.0),),        (lambda ans, x: _TWO_OVER_SQRT_PI * _exp_minus_square(x),),          total=True, array=_special("erf"), sympy="erf"),
    OpSpec("erfc",     "unary", ((-10.0, 10.0),),        (lambda ans, x: -_TWO_OVER_SQRT_PI * _exp_minus_square(x),),         total=True, array=_special("erfc"), sympy="erfc"),
    # gammaln = log|Gamma|; its derivative digamma keeps full relative accuracy at its root 1.46.
    OpSpec("gammaln",  "unary", (_POSITIVE,),            (lambda ans, x: _scipy_special().digamma(x),),                                   array=_special("gammaln"), sympy="loggamma"),
    OpSpec("digamma",  "unary", (_POSITIVE,),            (lambda ans, x: _scipy_special().polygamma(1, x),),                              array=_special("digamma"), sympy=lambda sp, x: sp.polygamma(0, x)),
    # Piecewise constant: derivative 0 almost everywhere, and 0 at the steps too (no factor).
    OpSpec("sign",     "unary", ((-1e3, 1e3),),          (None,),                                                             total=True, array="sign",       sympy=_sympy_sign),
    OpSpec("floor",    "unary", ((1.001, 1.999),),       (None,),                                                             total=True, array="floor",      sympy=_sympy_floor),
    OpSpec("round",    "unary", ((0.501, 1.499),),       (None,),                                                             total=True, array=_make_round,  sympy=_sympy_round),
    OpSpec("add",      "binary", (_WIDE, _WIDE),         (ONE, ONE),                                                          total=True, array="add"),
    OpSpec("subtract", "binary", (_WIDE, _WIDE),         (ONE, MINUS_ONE),                                                    total=True, array="subtract"),
    OpSpec("multiply", "binary", (_WIDE, _WIDE),         (lambda ans, a, b: b, lambda ans, a, b: a),                          total=True, array="multiply"),
    # -ans / b, not -a / b**2: b**2 overflows or underflows long before ans does.
    OpSpec("divide",   "binary", (_WIDE, (0.5, 20.0)),   (Over(lambda ans, a, b: b), lambda ans, a, b: -ans / b),                         array="divide"),
    OpSpec("power",    "binary", ((0.1, 10.0), (-4.0, 4.0)), (_power_base_factor, _power_exponent_factor), singular=True,             array="power"),
    OpSpec("maximum",  "binary", (_WIDE, _WIDE),         (_first_picked, _second_picked),                                     total=True, array="maximum"),
    OpSpec("minimum",  "binary", (_WIDE, _WIDE),         (_first_picked, _second_picked),                                     total=True, array="minimum"),
    # --- elementwise group: binary operations ---
    OpSpec("hypot",    "binary", (_WIDE, _WIDE),         (_hypot_first, _hypot_second),                                                   array="hypot",      sympy=_sympy_hypot),
    OpSpec("arctan2",  "binary", (_WIDE, _WIDE),         (_arctan2_first, _arctan2_second),                                   total=True, array="arctan2",    sympy=_sympy_arctan2),
    OpSpec("logaddexp", "binary", ((-700.0, 700.0), (-700.0, 700.0)), (_logaddexp_first, _logaddexp_second),                              array="logaddexp",  sympy=lambda sp, a, b: sp.log(sp.exp(a) + sp.exp(b))),
    OpSpec("xlogy",    "binary", (_WIDE, _POSITIVE),     (lambda ans, x, y: np.log(y), _xlogy_second), singular=True,                     array=_special("xlogy"), sympy=_sympy_xlogy),
    # --- elementwise, second wave: unary operations ---
    OpSpec("ceil",     "unary", ((0.001, 0.999),),       (None,),                                                             total=True, array="ceil",       sympy=_sympy_ceil),
    # sinc's test domain: the 50-digit reference of sin(pi x) / (pi x) cancels below 1e-6.
    OpSpec("sinc",     "unary", ((1e-6, 1.25),),         (_sinc_factor,),                                                                          array="sinc",       sympy=_sympy_sinc),
    # Gamma' = Gamma psi; 1/Gamma is entire: at its zeros (the poles of Gamma) see the factor.
    OpSpec("gamma",    "unary", ((0.01, 170.0),),        (lambda ans, x: ans * _scipy_special().digamma(x),),                             array=_special("gamma"), sympy="gamma"),
    OpSpec("rgamma",   "unary", ((0.01, 170.0),),        (rgamma_derivative,),                                                               array=_special("rgamma"), sympy=lambda sp, x: 1 / sp.gamma(x)),
    OpSpec("gammasgn", "unary", ((0.01, 10.0),),         (None,),                                                                         array=_special("gammasgn"), sympy=_sympy_gammasgn),
    OpSpec("erfinv",   "unary", ((-0.9, 0.9),),      (Over(_erfinv_divisor),), singular=True,                                         array=_special("erfinv"), sympy="erfinv"),
    OpSpec("erfcinv",  "unary", ((0.1, 1.9),),       (Over(lambda ans, x: -_erfinv_divisor(ans, x)),), singular=True,                 array=_special("erfcinv"), sympy=lambda sp, x: sp.erfinv(1 - x)),
    # 1 / (x (1 - x)): 1 - x is exact for x in [1/2, 1], where it is small.
    OpSpec("logit",    "unary", ((0.001, 0.999),),       (Over(lambda ans, x: x * (1.0 - x)),), singular=True,                            array=_special("logit"), sympy=lambda sp, x: sp.log(x / (1 - x))),
    # Bessel functions: test domains end before the first root of the derivative, where
    # any formula from scipy's values keeps absolute, not relative, accuracy.
    OpSpec("j0",       "unary", ((-3.5, 3.5),),          (lambda ans, x: -_small_argument(_scipy_special().j1, x),),                      array=_special("j0"), sympy=lambda sp, x: sp.besselj(0, x)),
    OpSpec("j1",       "unary", ((-1.7, 1.7),),          (_j1_factor,),                                                                   array=_special("j1"), sympy=lambda sp, x: sp.besselj(1, x)),
    OpSpec("y0",       "unary", ((0.1, 2.0),),           (lambda ans, x: -_scipy_special().y1(x),),                                       array=_special("y0"), sympy=lambda sp, x: sp.bessely(0, x)),
    OpSpec("y1",       "unary", ((0.1, 3.0),),           (_y1_factor,),                                                                   array=_special("y1"), sympy=lambda sp, x: sp.bessely(1, x)),
    OpSpec("i0",       "unary", ((-20.0, 20.0),),        (lambda ans, x: _small_argument(_scipy_special().i1, x),),                       array=_special("i0"), sympy=lambda sp, x: sp.besseli(0, x)),
    OpSpec("i1",       "unary", ((-20.0, 20.0),),        (_i1_factor,),                                                                   array=_special("i1"), sympy=lambda sp, x: sp.besseli(1, x)),
    # --- elementwise, second wave: binary operations ---
    # fmax and fmin are maximum and minimum except that a NaN loses: the factors pick alike.
    OpSpec("fmax",     "binary", (_WIDE, _WIDE),         (_first_picked, _second_picked),                                     total=True, array="fmax"),
    OpSpec("fmin",     "binary", (_WIDE, _WIDE),         (_first_picked, _second_picked),                                     total=True, array="fmin"),
    OpSpec("remainder", "binary", ((0.01, 0.99), (1.0, 20.0)), (ONE, _remainder_second),                                                  array="remainder",  sympy=_sympy_remainder),
    OpSpec("logaddexp2", "binary", ((-700.0, 700.0), (-700.0, 700.0)), (_logaddexp2_first, _logaddexp2_second),                           array="logaddexp2", sympy=lambda sp, a, b: sp.log(2**a + 2**b, 2)),
    OpSpec("beta",     "binary", ((0.1, 20.0), (0.1, 20.0)), (_beta_first, _beta_second),                                                 array=_special("beta"), sympy="beta"),
    OpSpec("betaln",   "binary", ((0.1, 20.0), (0.1, 20.0)), (_betaln_first, _betaln_second),                                             array=_special("betaln"), sympy=lambda sp, a, b: sp.loggamma(a) + sp.loggamma(b) - sp.loggamma(a + b)),
    # Functions of an order or index (a constant) and x: the first argument is refused if traced.
    OpSpec("polygamma", "binary", (None, (0.1, 20.0)), (Refused("polygamma", "n", "n is an integer"), _polygamma_factor),          array=_special("polygamma"), sympy=lambda sp, n, x: sp.polygamma(_constant_order(sp, n, "polygamma"), x)),
    OpSpec("jn",       "binary", (None, (0.1, 1.7)), (Refused("jn", "the order n", _ORDER), _bessel_factor("jv", -1.0)),           array=_special("jn"), sympy=_sympy_bessel("besselj", "jn")),
    OpSpec("yn",       "binary", (None, (0.1, 2.0)), (Refused("yn", "the order n", _ORDER), _bessel_factor("yn", -1.0)),           array=_special("yn"), sympy=_sympy_bessel("bessely", "yn")),
    OpSpec("iv",       "binary", (None, (0.1, 20.0)), (Refused("iv", "the order v", _ORDER), _bessel_factor("iv", 1.0)),            array=_special("iv"), sympy=_sympy_bessel("besseli", "iv")),
    OpSpec("ive",      "binary", (None, (0.1, 0.5)), (Refused("ive", "the order v", _ORDER), _ive_factor),                         array=_special("ive"), sympy=_sympy_ive),
    OpSpec("gammainc", "binary", (None, (0.1, 20.0)), (Refused("gammainc", "a", _SHAPE), _gammainc_density),                       array=_special("gammainc"), sympy=_sympy_gammainc),
    OpSpec("gammaincc", "binary", (None, (0.1, 20.0)), (Refused("gammaincc", "a", _SHAPE), lambda ans, a, x: -_gammainc_density(ans, a, x)), array=_special("gammaincc"), sympy=_sympy_gammaincc),
    OpSpec("where",       "select", (None, _WIDE, _WIDE)),
    OpSpec("sum",         "reduction"),
    OpSpec("mean",        "reduction"),
    OpSpec("max",         "reduction"),
    OpSpec("logsumexp",   "reduction"),
    OpSpec("matmul",      "linalg"),
    OpSpec("getitem",     "shape"),
    OpSpec("reshape",     "shape"),
    OpSpec("transpose",   "shape"),
    OpSpec("concatenate", "shape"),
    OpSpec("stack",       "shape"),
    # reductions, scans and shape operations (issue 14): the rest of the group is in DERIVED
    OpSpec("log_softmax", "reduction"),
    OpSpec("prod",        "reduction"),
    OpSpec("cumsum",      "scan"),
    OpSpec("einsum",      "linalg"),
    OpSpec("sort",        "shape"),
    # linear algebra (xp.linalg): conventions in diffcompare.ops.linalg
    OpSpec("linalg.solve",            "linalg"),
    OpSpec("linalg.solve_triangular", "linalg"),
    OpSpec("linalg.inv",              "linalg"),
    OpSpec("linalg.det",              "linalg"),
    OpSpec("linalg.slogdet",          "linalg"),
    OpSpec("linalg.cholesky",         "linalg"),
    OpSpec("linalg.eigh",             "linalg"),
    OpSpec("linalg.norm",             "linalg"),
    OpSpec("linalg.vector_norm",      "linalg"),
    OpSpec("linalg.matrix_norm",      "linalg"),
)
OPS: dict[str, OpSpec] = {spec.name: spec for spec in _ROWS}

# Array API (and numpy) spellings that mean the same operation for every input.
ALIASES: dict[str, str] = {
    "absolute": "abs", "asin": "arcsin", "acos": "arccos", "atan": "arctan",
    "true_divide": "divide", "pow": "power", "amax": "max",
    "permute_dims": "transpose", "concat": "concatenate",
    # elementwise group (Array API names, numpy's other names, scipy.special's psi)
    "atan2": "arctan2", "acosh": "arccosh", "atanh": "arctanh", "rint": "round", "around": "round", "psi": "digamma",
    # reductions, scans and shape operations
    "amin": "min", "cumulative_sum": "cumsum",
    # shapes and linear algebra, second wave (numpy's older name of vstack)
    "row_stack": "vstack",
    # elementwise, second wave (numpy's other names; scipy.special's expit is the sigmoid)
    "fabs": "abs", "radians": "deg2rad", "degrees": "rad2deg", "mod": "remainder", "expit": "sigmoid",
}
# fmt: on


def _shape(a) -> tuple[int, ...]:
    # The attribute first: np.shape of a traced value would ask its __array_function__.
    shape = getattr(a, "shape", None)
    return np.shape(a) if shape is None else tuple(shape)


def _dot(functions: Mapping[str, Callable]) -> Callable:
    matmul, multiply = functions["matmul"], functions["multiply"]

    def dot(a, b):
        # numpy's dot is matmul for 1-d and 2-d operands; with a 0-d one it is a product;
        # for N-d ones it pairs every matrix of a with every matrix of b (matmul pairs them
        # batch by batch): a tensordot over the last axis of a and the second-to-last of b.
        shape_a, shape_b = _shape(a), _shape(b)
        if not shape_a or not shape_b:
            return multiply(a, b)
        if len(shape_a) <= 2 and len(shape_b) <= 2:
            return matmul(a, b)
        return _tensordot(functions)(a, b, axes=([-1], [-2 if len(shape_b) >= 2 else -1]))

    return dot


#: The names a bound of clip may be given as keywords: the Array API's, then numpy's.
_CLIP_KEYWORDS = {"min": 0, "max": 1, "a_min": 0, "a_max": 1}


def _clip(functions: Mapping[str, Callable]) -> Callable:
    maximum, minimum = functions["maximum"], functions["minimum"]

    def clip(x, lower=None, upper=None, **bounds):
        # minimum(maximum(x, lower), upper), as numpy defines it (upper wins where
        # lower > upper); at a bound x and the bound share the derivative (ties, as in
        # maximum).  A missing bound (None) is no bound.
        given = [lower, upper]
        for keyword, value in bounds.items():
            if keyword not in _CLIP_KEYWORDS:
                raise TypeError(f"clip() got an unexpected keyword argument {keyword!r}")
            given[_CLIP_KEYWORDS[keyword]] = value
        lower, upper = given
        if lower is not None:
            x = maximum(x, lower)
        if upper is not None:
            x = minimum(x, upper)
        return x

    return clip


# --- reductions, scans and shape operations written with the others (issue 14) -----------


def _reduced_count(shape: tuple[int, ...], axis) -> int:
    """How many entries a reduction over ``axis`` combines into each result."""
    axes = range(len(shape)) if axis is None else (axis if isinstance(axis, tuple) else (axis,))
    return int(np.prod([shape[a] for a in axes], dtype=int))


def _softmax(functions: Mapping[str, Callable]) -> Callable:
    exp, log_softmax = functions["exp"], functions["log_softmax"]

    def softmax(x, axis=-1):
        # exp of the cancellation-free log_softmax: the same digits as e / sum(e) with
        # e = exp(x - max), and its derivative is log_softmax's rule times softmax.
        return exp(log_softmax(x, axis=axis))

    return softmax


def _min(functions: Mapping[str, Callable]) -> Callable:
    negative, max_ = functions["negative"], functions["max"]

    def min_(x, axis=None, keepdims=False):
        # Negation is exact, so this is numpy's min bit for bit, and ties share the
        # derivative equally because they do in max.
        return negative(max_(negative(x), axis=axis, keepdims=keepdims))

    min_.__name__ = "min"
    return min_


def _var(functions: Mapping[str, Callable]) -> Callable:
    mean, subtract, multiply = functions["mean"], functions["subtract"], functions["multiply"]
    sum_, divide = functions["sum"], functions["divide"]

    def var(x, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, correction=None):
        x = _as_array(functions, x)  # numpy's var([a, b]) is the variance of the array
        if dtype is not None or out is not None:
            raise TypeError("var: dtype= and out= are not supported (results are float64 arrays)")
        if correction is not None:  # the Array API's name for ddof
            if ddof != 0:
                raise ValueError("var: give ddof or correction, not both")
            ddof = correction
        if isinstance(ddof, bool) or not isinstance(ddof, (int, float, np.integer, np.floating)):
            raise TypeError(f"var: ddof must be a real number; got {type(ddof).__name__}")
        count = _reduced_count(_shape(x), axis)
        if count - ddof <= 0:
            raise ValueError(f"var: ddof={ddof} leaves no degrees of freedom for {count} entries")
        # Two passes, as numpy: the deviations from the mean first, so that nothing
        # cancels in the sum of squares.  (A scalar mean, not keepdims, for axis=None:
        # it broadcasts everywhere and the vectorised symbolic form can express it.)
        centre = mean(x) if axis is None else mean(x, axis=axis, keepdims=True)
        deviation = subtract(x, centre)
        return divide(sum_(multiply(deviation, deviation), axis=axis, keepdims=keepdims), float(count - ddof))

    return var


def _std(functions: Mapping[str, Callable]) -> Callable:
    var, sqrt = _var(functions), functions["sqrt"]

    def std(x, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, correction=None):
        return sqrt(var(x, axis, dtype, out, ddof, keepdims, correction=correction))

    return std


def _outer(functions: Mapping[str, Callable]) -> Callable:
    reshape, multiply = functions["reshape"], functions["multiply"]

    def outer(a, b):
        # numpy flattens both operands; every entry is one exact product.
        return multiply(reshape(a, (-1, 1)), reshape(b, (-1,)))

    return outer


def _gathered(name: str, positions: Callable) -> Callable:
    """An operation that only rearranges entries, built as one gather of the flat array.

    ``positions(p, *args, **kwargs)`` is the numpy function itself applied to the
    array ``p`` of flat positions (``arange(size)`` in ``x``'s shape): numpy decides the
    result's shape, validates the arguments and raises its own errors, and the result
    is exactly ``x``'s entries at those positions (the gradient sums where a position
    repeats, as for any index array).
    """

    def build(functions: Mapping[str, Callable]) -> Callable:
        reshape, getitem = functions["reshape"], functions["getitem"]

        def gather(x, *args, **kwargs):
            shape = _shape(x)
            where = np.asarray(
                positions(np.arange(int(np.prod(shape, dtype=int))).reshape(shape), *args, **kwargs)
            )
            flat = x if len(shape) == 1 else reshape(x, (-1,))
            return getitem(flat, where)

        gather.__name__ = name
        return gather

    return build


def _diagonal(functions: Mapping[str, Callable]) -> Callable:
    return _gathered("diagonal", np.diagonal)(functions)


def _trace(functions: Mapping[str, Callable]) -> Callable:
    diagonal, sum_ = _diagonal(functions), functions["sum"]

    def trace(x, offset=0, axis1=0, axis2=1):
        return sum_(diagonal(x, offset, axis1, axis2), axis=-1)

    return trace


def _triangle(name: str, keep: Callable[[int, int, int], np.ndarray]) -> Callable:
    def build(functions: Mapping[str, Callable]) -> Callable:
        where = functions["where"]

        def triangle(x, k=0):
            # numpy treats a vector as the rows of a square matrix, each the vector.
            shape = _shape(x)
            rows, columns = shape[-2:] if len(shape) >= 2 else (shape[-1], shape[-1])
            return where(keep(rows, columns, int(k)), x, 0.0)

        triangle.__name__ = name
        return triangle

    return build


def _reshaped(name: str, new_shape: Callable) -> Callable:
    """An operation that only inserts or removes axes of length 1: a reshape, or ``x`` itself."""

    def build(functions: Mapping[str, Callable]) -> Callable:
        reshape = functions["reshape"]

        def reshaped(x, *args, **kwargs):
            shape = _shape(x)
            # numpy's own function on a zero-size view validates the axes and gives the shape.
            target = np.shape(new_shape(np.broadcast_to(0.0, shape), *args, **kwargs))
            return x if target == shape else reshape(x, target)

        reshaped.__name__ = name
        return reshaped

    return build


def _flip(functions: Mapping[str, Callable]) -> Callable:
    getitem = functions["getitem"]

    def flip(x, axis=None):
        shape = _shape(x)
        if not shape:
            return x
        axes = set(range(len(shape)) if axis is None else np.atleast_1d(axis) % len(shape))
        # Reversing slices: basic indexing, which the engines scatter back without add.at.
        key = tuple(slice(None, None, -1) if a in axes else slice(None) for a in range(len(shape)))
        return getitem(x, key[0] if len(key) == 1 else key)

    return flip


# --- shapes and linear algebra, second wave ----------------------------------------------


def _as_array(functions: Mapping[str, Callable], x):
    """``x`` itself, or a list or tuple (of traced values, say) stacked, as numpy would."""
    return functions["asarray"](x) if isinstance(x, (list, tuple)) else x


def _ravel(functions: Mapping[str, Callable]) -> Callable:
    reshape = functions["reshape"]

    def ravel(x, order="C"):
        # Only C order is a reshape; "F" would reorder the entries.
        if order != "C":
            raise NotImplementedError(f"ravel flattens in C order only; got order={order!r}")
        return reshape(x, (-1,))

    return ravel


def _permuted(name: str, numpy_function: Callable) -> Callable:
    """An operation that only permutes axes (``swapaxes``, ``moveaxis``): one transpose.

    The permutation is read from numpy's own function applied to a view whose strides
    number the axes (every axis has length 1, so no stride is ever used to read memory):
    numpy validates the arguments and decides the order, exactly as for an array.
    """

    def build(functions: Mapping[str, Callable]) -> Callable:
        transpose = functions["transpose"]

        def permuted(x, *args, **kwargs):
            ndim = len(_shape(x))
            numbered = np.lib.stride_tricks.as_strided(np.zeros(1), (1,) * ndim, tuple(range(ndim)))
            order = tuple(numpy_function(numbered, *args, **kwargs).strides)
            return x if order == tuple(range(ndim)) else transpose(x, order)

        permuted.__name__ = name
        return permuted

    return build


# --- elementwise, second wave: operations written with the others ------------------------

#: numpy's deg2rad is x * (pi / 180) and rad2deg x * (180 / pi), each constant rounded
#: once: the same products here are numpy's values bit for bit.
_RADIANS_PER_DEGREE = _PI / 180.0
_DEGREES_PER_RADIAN = 180.0 / _PI


def _scaled(name: str, constant: float) -> Callable:
    def build(functions: Mapping[str, Callable]) -> Callable:
        multiply = functions["multiply"]

        def scaled(x):
            return multiply(x, constant)

        scaled.__name__ = name
        return scaled

    return build


def _at_least(name: str, numpy_function: Callable) -> Callable:
    reshape_to = _reshaped(name, numpy_function)

    def build(functions: Mapping[str, Callable]) -> Callable:
        one = reshape_to(functions)

        def at_least(*arrays):
            # One array gives an array, several a tuple, as numpy's.
            results = tuple(one(x) for x in arrays)
            return results[0] if len(results) == 1 else results

        at_least.__name__ = name
        return at_least

    return build


def _placed(name: str, positions: Callable) -> Callable:
    """Like :func:`_gathered`, for operations that also fill in zeros (``diag`` of a vector, ``pad``).

    numpy's function is applied to the flat positions counted from 1, so that the zeros it
    fills in mark entries that take no entry of ``x``: they gather a constant 0 appended
    to the flat array.
    """

    def build(functions: Mapping[str, Callable]) -> Callable:
        reshape, getitem, concatenate = functions["reshape"], functions["getitem"], functions["concatenate"]

        def place(x, *args, **kwargs):
            shape = _shape(x)
            numbered = np.arange(1, int(np.prod(shape, dtype=int)) + 1).reshape(shape)
            where = np.asarray(positions(numbered, *args, **kwargs)) - 1
            flat = x if len(shape) == 1 else reshape(x, (-1,))
            if (where < 0).any():
                flat = concatenate([flat, np.zeros(1)])  # position -1: the appended zero
            return getitem(flat, where)

        place.__name__ = name
        return place

    return build


#: numpy's pad modes that only copy entries of the array (no arithmetic on them).
_COPYING_PAD_MODES = ("constant", "edge", "reflect", "symmetric", "wrap")


def _pad(functions: Mapping[str, Callable]) -> Callable:
    placed, add = _placed("pad", np.pad)(functions), functions["add"]

    def pad(x, pad_width, mode="constant", **kwargs):
        if mode not in _COPYING_PAD_MODES or kwargs.get("reflect_type", "even") != "even":
            raise NotImplementedError(
                f"pad with mode={mode!r} and {kwargs}: only the modes that copy entries are "
                f"supported, {', '.join(_COPYING_PAD_MODES)} (reflect_type 'even')"
            )
        fill = kwargs.pop("constant_values", 0) if mode == "constant" else 0
        out = placed(x, pad_width, mode, **kwargs)
        if np.any(np.asarray(fill) != 0):
            # The border as a constant array added to the zeros placed there (exact).
            out = add(out, np.pad(np.zeros(_shape(x)), pad_width, "constant", constant_values=fill))
        return out

    return pad


def _split(name: str, numpy_split: Callable) -> Callable:
    """``split`` and its relatives: numpy's function splits the flat positions, each piece a gather."""

    def build(functions: Mapping[str, Callable]) -> Callable:
        reshape, getitem = functions["reshape"], functions["getitem"]

        def split(x, *args, **kwargs):
            shape = _shape(x)
            pieces = numpy_split(np.arange(int(np.prod(shape, dtype=int))).reshape(shape), *args, **kwargs)
            flat = x if len(shape) == 1 else reshape(x, (-1,))
            return [getitem(flat, piece) for piece in pieces]

        split.__name__ = name
        return split

    return build


def _joined(name: str, at_least: str, axis: Callable[[tuple[int, ...]], int]) -> Callable:
    """``vstack``, ``hstack``, ``dstack``: each array given at least some axes, then concatenated."""

    def build(functions: Mapping[str, Callable]) -> Callable:
        grow, concatenate = DERIVED[at_least](functions), functions["concatenate"]

        def joined(arrays):
            grown = [grow(a) for a in arrays]
            return concatenate(grown, axis=axis(_shape(grown[0])))

        joined.__name__ = name
        return joined

    return build


def _column_stack(functions: Mapping[str, Callable]) -> Callable:
    reshape, concatenate = functions["reshape"], functions["concatenate"]

    def column_stack(arrays):
        # numpy makes scalars and vectors columns, and keeps the others as they are.
        return concatenate([reshape(a, (-1, 1)) if len(_shape(a)) < 2 else a for a in arrays], axis=1)

    return column_stack


def _append(functions: Mapping[str, Callable]) -> Callable:
    ravel, concatenate = _ravel(functions), functions["concatenate"]

    def append(x, values, axis=None):
        if axis is None:  # numpy flattens both
            return concatenate([ravel(x), ravel(values)])
        return concatenate([x, values], axis=axis)

    return append


def _select(functions: Mapping[str, Callable]) -> Callable:
    where = functions["where"]

    def select(condlist, choicelist, default=0.0):
        if len(condlist) != len(choicelist):
            raise ValueError("select: condlist and choicelist must have the same length")
        # The first true condition wins: nested where from the last choice back.
        out = default
        for condition, choice in zip(reversed(condlist), reversed(choicelist), strict=True):
            out = where(condition, choice, out)
        return out

    return select


def _diff(functions: Mapping[str, Callable]) -> Callable:
    getitem, subtract, concatenate = functions["getitem"], functions["subtract"], functions["concatenate"]

    def diff(x, n=1, axis=-1, prepend=None, append=None):
        shape = _shape(x)
        if not shape:
            raise ValueError("diff requires an input of at least one dimension")
        axis = int(axis) % len(shape)
        ends = []
        for value in (prepend, append):
            if value is not None and len(_shape(value)) != len(shape):  # numpy broadcasts a scalar
                value = np.broadcast_to(value, shape[:axis] + (1,) + shape[axis + 1 :])
            ends.append(value)
        if ends[0] is not None or ends[1] is not None:
            x = concatenate([e for e in (ends[0], x, ends[1]) if e is not None], axis=axis)
        later = tuple(slice(1, None) if a == axis else slice(None) for a in range(len(shape)))
        earlier = tuple(slice(None, -1) if a == axis else slice(None) for a in range(len(shape)))
        for _ in range(int(n)):  # the same subtractions as numpy's, in the same order
            x = subtract(getitem(x, later), getitem(x, earlier))
        return x

    return diff


def _gradient(functions: Mapping[str, Callable]) -> Callable:
    getitem, subtract, divide = functions["getitem"], functions["subtract"], functions["divide"]
    concatenate = functions["concatenate"]

    def gradient(x, *spacing, axis=None, edge_order=1):
        shape = _shape(x)
        axes = normalized_axes_of(axis, len(shape))
        if edge_order != 1:
            raise NotImplementedError(f"gradient with edge_order={edge_order!r}: only 1 is supported")
        steps = spacing * len(axes) if len(spacing) == 1 else spacing or (1.0,) * len(axes)
        if len(steps) != len(axes) or any(np.ndim(h) != 0 for h in steps):
            raise NotImplementedError(
                "gradient with coordinate arrays: only uniform spacings (one scalar per axis) are supported"
            )
        out = []
        for a, h in zip(axes, steps, strict=True):
            if shape[a] < 2:
                raise ValueError("gradient: each differentiated axis needs at least 2 entries")

            def part(s, a=a):
                return getitem(x, tuple(s if b == a else slice(None) for b in range(len(shape))))

            # numpy's formulas: one-sided differences at the two ends, centred ones between.
            first = divide(subtract(part(slice(1, 2)), part(slice(0, 1))), h)
            last = divide(subtract(part(slice(-1, None)), part(slice(-2, -1))), h)
            inner = divide(subtract(part(slice(2, None)), part(slice(None, -2))), 2.0 * h)
            out.append(concatenate([first, inner, last] if shape[a] > 2 else [first, last], axis=a))
        return out[0] if len(out) == 1 else tuple(out)

    return gradient


def normalized_axes_of(axis, ndim: int) -> tuple[int, ...]:
    """``axis`` (None, an int or a sequence) as a tuple of non-negative axes, in the given order."""
    if axis is None:
        return tuple(range(ndim))
    axes = tuple(axis) if isinstance(axis, (tuple, list)) else (axis,)
    return tuple(int(a) % ndim for a in axes)


def _linspace(functions: Mapping[str, Callable]) -> Callable:
    add, subtract, multiply, divide = (functions[n] for n in ("add", "subtract", "multiply", "divide"))
    getitem, concatenate, reshape = functions["getitem"], functions["concatenate"], functions["reshape"]

    def linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0):
        if dtype is not None and np.dtype(dtype) != np.float64:
            raise TypeError(f"linspace: dtype must be float64; got {dtype!r}")
        num = operator.index(num)
        if num < 0:
            raise ValueError(f"linspace: num must be non-negative; got {num}")
        div = num - 1 if endpoint else num
        delta = subtract(stop, start)
        shape = np.broadcast_shapes(_shape(start), _shape(stop))
        counts = np.arange(num, dtype=float).reshape((-1,) + (1,) * len(shape))
        # numpy's formula: start + i * step with step = (stop - start) / div, and the
        # last point stop itself (i * step may round away from it).
        step = divide(delta, float(div)) if div > 0 else np.nan
        y = add(multiply(counts, step if div > 0 else delta), start)
        if endpoint and num > 1:
            last = multiply(reshape(stop, (1,) + _shape(stop)), np.ones((1,) + shape))
            y = concatenate([getitem(y, slice(None, -1)), last], axis=0)
        if axis != 0:
            y = DERIVED["moveaxis"](functions)(y, 0, axis)
        return (y, step) if retstep else y

    return linspace


def _tensordot(functions: Mapping[str, Callable]) -> Callable:
    einsum = functions["einsum"]

    def tensordot(a, b, axes=2):
        # An einsum with one label per axis: the paired axes share a label.
        ndim_a, ndim_b = len(_shape(a)), len(_shape(b))
        if isinstance(axes, (int, np.integer)):
            pairs = (list(range(ndim_a - axes, ndim_a)), list(range(axes)))
        else:
            first, second = axes
            pairs = (
                [first] if isinstance(first, (int, np.integer)) else list(first),
                ([second] if isinstance(second, (int, np.integer)) else list(second)),
            )
        first = [int(i) % max(ndim_a, 1) for i in pairs[0]]
        second = [int(i) % max(ndim_b, 1) for i in pairs[1]]
        if len(first) != len(second) or len(set(first)) != len(first) or len(set(second)) != len(second):
            raise ValueError(f"tensordot: axes {axes!r} must pair distinct axes of a with as many of b")
        for i, j in zip(first, second, strict=True):
            if _shape(a)[i] != _shape(b)[j]:
                raise ValueError(f"tensordot: shape mismatch for sum over axes {i} of a and {j} of b")
        letters = iter(string.ascii_letters)
        labels_a = [next(letters) for _ in range(ndim_a)]
        labels_b = [next(letters) for _ in range(ndim_b)]
        for i, j in zip(first, second, strict=True):
            labels_b[j] = labels_a[i]
        free = [c for i, c in enumerate(labels_a) if i not in first]
        free += [c for j, c in enumerate(labels_b) if j not in second]
        return einsum(f"{''.join(labels_a)},{''.join(labels_b)}->{''.join(free)}", a, b)

    return tensordot


def _inner(functions: Mapping[str, Callable]) -> Callable:
    tensordot, multiply = _tensordot(functions), functions["multiply"]

    def inner(a, b):
        if not _shape(a) or not _shape(b):
            return multiply(a, b)
        return tensordot(a, b, axes=([-1], [-1]))

    return inner


def _kron(functions: Mapping[str, Callable]) -> Callable:
    reshape, multiply = functions["reshape"], functions["multiply"]

    def kron(a, b):
        # Every entry is one product a[i] b[j]: interleave the axes of a and b (padded
        # with leading axes of length 1 to the same number), multiply, and merge pairs.
        shape_a, shape_b = _shape(a), _shape(b)
        ndim = max(len(shape_a), len(shape_b))
        shape_a = (1,) * (ndim - len(shape_a)) + shape_a
        shape_b = (1,) * (ndim - len(shape_b)) + shape_b
        spread_a = reshape(a, tuple(n for s in shape_a for n in (s, 1)))
        spread_b = reshape(b, tuple(n for s in shape_b for n in (1, s)))
        return reshape(
            multiply(spread_a, spread_b), tuple(p * q for p, q in zip(shape_a, shape_b, strict=True))
        )

    return kron


def _cross(functions: Mapping[str, Callable]) -> Callable:
    getitem, multiply, subtract = functions["getitem"], functions["multiply"], functions["subtract"]
    stack = functions["stack"]

    def cross(a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):
        if axis is not None:
            axisa = axisb = axisc = axis
        moveaxis = DERIVED["moveaxis"](functions)
        a, b = moveaxis(a, axisa, -1), moveaxis(b, axisb, -1)
        sizes = (_shape(a)[-1], _shape(b)[-1])
        if not set(sizes) <= {2, 3}:
            raise ValueError(f"cross: vectors must have 2 or 3 components; got {sizes}")

        def component(v, i):
            # A 2-vector's third component is 0: its products are exact zeros, as in numpy.
            return getitem(v, (Ellipsis, i)) if i < _shape(v)[-1] else 0.0

        a0, a1, a2 = (component(a, i) for i in range(3))
        b0, b1, b2 = (component(b, i) for i in range(3))
        # numpy's formulas, products then one subtraction each.
        z = subtract(multiply(a0, b1), multiply(a1, b0))
        if sizes == (2, 2):
            return z
        x = subtract(multiply(a1, b2), multiply(a2, b1))
        y = subtract(multiply(a2, b0), multiply(a0, b2))
        return moveaxis(stack([x, y, z], axis=-1), -1, axisc)

    return cross


def _matrix_power(functions: Mapping[str, Callable]) -> Callable:
    matmul, inv = functions["matmul"], functions["linalg.inv"]

    def matrix_power(a, n):
        n = operator.index(n)
        shape = _shape(a)
        if len(shape) < 2 or shape[-1] != shape[-2]:
            raise ValueError(f"matrix_power: a must be a (stack of) square matrices; got shape {shape}")
        if n == 0:
            return np.broadcast_to(np.eye(shape[-1]), shape).copy()
        if n < 0:
            a, n = inv(a), -n
        # numpy's binary powering: the same products in the same order.
        result = square = None
        while n > 0:
            square = a if square is None else matmul(square, square)
            n, bit = divmod(n, 2)
            if bit:
                result = square if result is None else matmul(result, square)
        return result

    return matrix_power


def _multi_dot(functions: Mapping[str, Callable]) -> Callable:
    dot = _dot(functions)

    def multi_dot(arrays):
        if len(arrays) < 2:
            raise ValueError("multi_dot: expecting at least two arrays")
        # Left to right: the same products as numpy's chosen order, up to rounding.
        out = arrays[0]
        for array in arrays[1:]:
            out = dot(out, array)
        return out

    return multi_dot


def _reciprocal(functions: Mapping[str, Callable]) -> Callable:
    divide = functions["divide"]

    def reciprocal(x):
        return divide(1.0, x)  # numpy's reciprocal is this one division

    return reciprocal


def _multigammaln(functions: Mapping[str, Callable]) -> Callable:
    gammaln, add = functions["gammaln"], functions["add"]

    def multigammaln(a, d):
        # scipy's formula: d (d - 1) / 4 log(pi) + sum_j gammaln(a - (j - 1) / 2), the
        # terms added in the same order.  scipy refuses a <= (d - 1) / 2, where some
        # term's Gamma has a pole or changes sign; here the terms are log|Gamma|.
        if isinstance(d, bool) or not isinstance(d, (int, float, np.integer, np.floating)):
            raise TypeError(f"multigammaln: d must be a positive integer; got {type(d).__name__}")
        if d < 1 or d != int(d):
            raise ValueError(f"multigammaln: d must be a positive integer; got {d!r}")
        d = int(d)
        total = gammaln(a)
        for j in range(2, d + 1):
            total = add(total, gammaln(add(a, -(j - 1.0) / 2.0)))
        return add(total, (d * (d - 1) * 0.25) * math.log(_PI))

    return multigammaln


#: Operations written with the others, built from a backend's table of operations:
#: name -> builder(functions) -> function.
# fmt: off
DERIVED: dict[str, Callable[[Mapping[str, Callable]], Callable]] = {
    "dot": _dot,
    "clip": _clip,
    # reductions, scans and shape operations (issue 14)
    "softmax":     _softmax,
    "min":         _min,
    "var":         _var,
    "std":         _std,
    "outer":       _outer,
    "diagonal":    _diagonal,
    "trace":       _trace,
    "triu":        _triangle("triu", lambda n, m, k: ~np.tri(n, m, k - 1, dtype=bool)),
    "tril":        _triangle("tril", lambda n, m, k: np.tri(n, m, k, dtype=bool)),
    "squeeze":     _reshaped("squeeze", np.squeeze),
    "expand_dims": _reshaped("expand_dims", np.expand_dims),
    "flip":        _flip,
    "roll":        _gathered("roll", np.roll),
    "tile":        _gathered("tile", np.tile),
    "repeat":      _gathered("repeat", np.repeat),
    "take":        _gathered("take", np.take),
    # shapes and linear algebra, second wave
    "ravel":        _ravel,
    "swapaxes":     _permuted("swapaxes", np.swapaxes),
    "moveaxis":     _permuted("moveaxis", np.moveaxis),
    "rollaxis":     _permuted("rollaxis", np.rollaxis),
    "atleast_1d":   _at_least("atleast_1d", np.atleast_1d),
    "atleast_2d":   _at_least("atleast_2d", np.atleast_2d),
    "atleast_3d":   _at_least("atleast_3d", np.atleast_3d),
    "broadcast_to": _gathered("broadcast_to", np.broadcast_to),
    "flipud":       _gathered("flipud", np.flipud),
    "fliplr":       _gathered("fliplr", np.fliplr),
    "rot90":        _gathered("rot90", np.rot90),
    "diag":         _placed("diag", np.diag),
    "diagflat":     _placed("diagflat", np.diagflat),
    "pad":          _pad,
    "split":        _split("split", np.split),
    "array_split":  _split("array_split", np.array_split),
    "vsplit":       _split("vsplit", np.vsplit),
    "hsplit":       _split("hsplit", np.hsplit),
    "dsplit":       _split("dsplit", np.dsplit),
    "vstack":       _joined("vstack", "atleast_2d", lambda shape: 0),
    "hstack":       _joined("hstack", "atleast_1d", lambda shape: 0 if len(shape) == 1 else 1),
    "dstack":       _joined("dstack", "atleast_3d", lambda shape: 2),
    "column_stack": _column_stack,
    "append":       _append,
    "select":       _select,
    "diff":         _diff,
    "gradient":     _gradient,
    "linspace":     _linspace,
    "tensordot":    _tensordot,
    "inner":        _inner,
    "kron":         _kron,
    "cross":        _cross,
    "linalg.matrix_power": _matrix_power,
    "linalg.multi_dot":    _multi_dot,
    # elementwise, second wave
    "deg2rad":      _scaled("deg2rad", _RADIANS_PER_DEGREE),
    "rad2deg":      _scaled("rad2deg", _DEGREES_PER_RADIAN),
    "reciprocal":   _reciprocal,
    "multigammaln": _multigammaln,
}
# fmt: on


def _logsumexp_weighted(functions: Mapping[str, Callable]) -> Callable:
    primitive, add, log = functions["logsumexp"], functions["add"], functions["log"]

    def logsumexp(x, axis=None, b=None, keepdims=False, return_sign=False):
        # scipy's weights: log(sum(b exp(x))) = logsumexp(x + log(b)) for b >= 0 (a zero
        # weight is exp(-inf) = 0; a negative one gives nan, as scipy without return_sign).
        if return_sign:
            raise NotImplementedError("logsumexp with return_sign=True: the sign is not differentiable")
        if b is not None:
            with np.errstate(divide="ignore"):
                x = add(x, log(b))
        return primitive(x, axis=axis, keepdims=keepdims)

    return logsumexp


#: Operations of :data:`OPS` whose xp spelling takes more than the primitive does,
#: written with the primitive (``functions[name]``) and the other operations: name ->
#: builder(functions) -> function.  The engines' rules see the primitive only.
EXTENDED: dict[str, Callable[[Mapping[str, Callable]], Callable]] = {
    "logsumexp": _logsumexp_weighted,
}

#: Operations that build constant arrays; they are never differentiated.
CONSTRUCTORS: tuple[str, ...] = ("asarray", "zeros", "ones", "arange", "eye")

#: Named constants every namespace exposes, with their float64 values.
CONSTANTS: dict[str, float] = {"pi": 3.141592653589793, "e": 2.718281828459045}


def canonical_name(name: str) -> str:
    """Return the canonical operation name for ``name`` (resolving aliases)."""
    return ALIASES.get(name, name)


def numpy_function_name(func: Callable) -> str | None:
    """The operation name of a numpy function (``numpy.linalg.solve`` is ``"linalg.solve"``).

    ``None`` for a function outside numpy's main namespace and its ``linalg`` module.
    """
    module = getattr(func, "__module__", None) or ""
    if module == "numpy.linalg":
        return "linalg." + func.__name__
    if module == "numpy":  # not numpy.fft.fft, numpy.random.normal, ...: no op of xp
        return func.__name__
    return None


def operation(functions: Mapping[str, Callable], name: str) -> Callable | None:
    """The function for any spelling ``name`` in a backend's table of operations.

    Parameters
    ----------
    functions : mapping of str to callable
        Implementations keyed by canonical operation name.
    name : str
        A canonical name, an alias or a derived operation's name.

    Returns
    -------
    callable or None
        ``None`` if the table has no such operation.

    Examples
    --------
    >>> operation({"matmul": np.matmul, "multiply": np.multiply}, "dot")(np.eye(2), np.ones(2))
    array([1., 1.])
    """
    name = canonical_name(name)
    if name in DERIVED:
        return DERIVED[name](functions)
    if name in EXTENDED and name in functions:
        return EXTENDED[name](functions)
    return functions.get(name)
