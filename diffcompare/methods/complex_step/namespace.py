"""The complex-step namespace: numpy on complex128, continued analytically off the real line.

The complex step takes ``Im f(x + i h e_k) / h`` as the derivative, which is right only
if every operation evaluates the *analytic continuation* of its real counterpart: the
imaginary part of a result must carry ``h`` times its real derivative.  numpy's
``exp``, ``log``, ``sin``, ``sqrt``, ``power``, ``matmul`` ... already do.  Four
operations of the table do not, and are replaced here:

``abs``
    ``numpy.abs(z)`` is the modulus, a real number: it drops the imaginary part.  Here
    ``abs(z) = z * sign(Re z)``, the continuation of whichever linear piece ``x`` or
    ``-x`` the real part lies on.  At ``Re z == 0`` the sign is 0, so the derivative
    there is 0: the subgradient the tape's and autograd's rules use.
``maximum``, ``minimum``
    numpy compares complex numbers lexicographically, so on a tie of the real parts the
    imaginary parts (the derivatives) would choose.  Here the real parts choose, and on
    a tie the result takes the mean of the two imaginary parts: each argument gets half
    the derivative, as in the tape's and autograd's rules.
``max``
    Chosen by the real part; tied maxima share the derivative equally (the tape's rule).
``sign``, ``floor``, ``round``
    Piecewise constant: a real constant from the real part, so the derivative is 0
    (numpy's complex ``sign`` is ``z / |z|`` and its complex ``round`` rounds the
    imaginary part, the derivative, as well; ``floor`` has no complex loop).
``hypot``, ``arctan2``, ``logaddexp``, ``gammaln``
    numpy and scipy have no complex versions; here they are continued analytically
    from the real parts (see each function), with the subgradient 0 of the other methods
    at the origin for ``hypot`` and ``arctan2``.  ``erf``, ``erfc``, ``digamma``,
    ``xlogy`` and the other new elementwise operations are analytic in numpy and scipy.
``sort``
    numpy sorts complex numbers lexicographically, so entries whose real parts tie
    would be ordered by their derivatives.  Here the real parts order the entries, and
    tied ones share the mean of their imaginary parts (the tape's rule, as for ``max``).

``sigmoid``, ``softplus`` and ``logsumexp`` are the stable formulas of
:mod:`~diffcompare.ops.array_module`, built on a module whose ``abs``, ``maximum``
and ``max`` are analytic (see :data:`_BRANCH_CONSISTENT`).  ``asarray`` keeps complex
input complex, even when a real ``dtype`` is asked for.

Comparisons
    The float64 program compares real numbers, so a tie is a tie.  numpy orders complex
    numbers lexicographically (real parts first, the imaginary parts on a tie), and on
    a tie the imaginary parts are ``h`` times the two sides' derivatives: in
    ``where(x > log(exp(x)), cos(x), x)``, where both sides round to the same double,
    they are 1 and 1 - 1 ulp, and rounding picks the ``cos`` branch the program never
    takes.  So the complex step hands ``f`` a :class:`RealOrderedArray`, whose
    comparison operators look at the real parts only; every complex value derived from
    it by operators, ufuncs, indexing or this namespace is one too.  A condition
    reaching ``where``, or a Python ``if``, is then the float64 program's, also on an
    exact tie: at ``x_k == 0`` in ``where(x > 0, 3 * x, x)`` the complex step
    differentiates the ``x`` branch the program takes (slope 1), as the tape and
    autograd do, not the branch ``x_k`` would move into as it grows.  Where the
    branches join with matching slopes nothing changes; at a kink this is the
    convention of the other methods.  What remains: a complex ``exp``, ``log``,
    ``tanh`` ... may round its real part differently from the real function, so a
    condition within an ulp of a tie can still differ from the program's.  On plain
    complex arrays (``xp`` called directly, not through the complex step) comparisons
    stay numpy's.
"""

from __future__ import annotations

import importlib
from types import SimpleNamespace

import numpy as np

from ...ops.array_module import array_module_functions, make_logsumexp
from ...ops.linalg import SlogdetResult, make_norms, matrix_transpose, unconjugated_cholesky
from ...ops.namespace import Namespace, refusal, unsupported
from ...ops.structural import make_log_softmax, share_ties, sort_order
from ...ops.table import DERIVED, make_sigmoid, make_softplus, only_default_decimals, rgamma_derivative

__all__ = ["COMPLEX_FUNCTIONS", "RealOrderedArray", "complex_namespace", "real_ordered"]


class RealOrderedArray(np.ndarray):
    """A complex array whose comparison operators look at the real parts only, as in float64.

    Every complex result of an operator or a ufunc on it is a ``RealOrderedArray``
    again, single numbers included, as 0-d arrays (a numpy complex scalar would compare
    lexicographically); so are the elements indexing and iteration return.  numpy's
    functions on it mean what the namespace's do, as they do on the tape's values: the
    comparison ufuncs (``numpy.greater(a, b)`` as well as ``a > b``) look at the real
    parts, ``numpy.abs``, ``abs()``, ``numpy.maximum`` and ``numpy.minimum`` are the
    analytic continuations below, and ``numpy.max`` and ``a.max()`` are :func:`_max`.

    Examples
    --------
    >>> z = real_ordered(np.array([1.0 + 2e-100j, 1.0 - 2e-100j]))
    >>> bool(z[0] > z[1]), bool(z[0] == z[1])
    (False, True)
    """

    # Above numpy's scalars and arrays, so that `0.5 < z` asks z (z.__gt__) too.
    __array_priority__ = 100.0

    def __array_wrap__(self, array, context=None, return_scalar=False):
        if context is not None:
            # A ufunc (context: the ufunc, its arguments, the output's index): the few
            # that are not analytic, or compare, are evaluated again as the namespace
            # does; every other one costs only this lookup.
            replacement = _UFUNC_REPLACEMENTS.get(context[0].__name__)
            if replacement is not None:
                array = np.asarray(replacement(*map(_plain, context[1])))
        # numpy would unwrap a 0-d result into a scalar: keep complex ones as arrays.
        if array.dtype.kind == "c":
            return array.view(RealOrderedArray)
        return array[()] if return_scalar else array

    # fmt: off
    def __lt__(self, other): return np.less(self.real, np.real(other))
    def __le__(self, other): return np.less_equal(self.real, np.real(other))
    def __gt__(self, other): return np.greater(self.real, np.real(other))
    def __ge__(self, other): return np.greater_equal(self.real, np.real(other))
    def __eq__(self, other): return np.equal(self.real, np.real(other))
    def __ne__(self, other): return np.not_equal(self.real, np.real(other))
    __hash__ = None  # equality is elementwise, as for arrays
    # fmt: on

    def __array_function__(self, func, types, args, kwargs):
        # numpy.linalg.qr(z) and numpy.fft.fft(z) called on the step's values directly
        # (not through xp) would return a wrong derivative without a word: refused as
        # xp.linalg.qr is (see diffcompare.methods.complex_step.fallback).
        module = getattr(func, "__module__", None)
        if module in ("numpy.linalg", "numpy.fft"):
            from .fallback import refusal_reason  # the tables import this module

            reason = refusal_reason(f"{module[6:]}.{func.__name__}")
            if reason is not None:
                raise unsupported("complex_step", f"{module}.{func.__name__}", reason)
        return super().__array_function__(func, types, args, kwargs)

    def max(self, axis=None, out=None, keepdims=False, **options):
        if out is not None or options:
            return super().max(axis=axis, out=out, keepdims=keepdims, **options)
        return real_ordered(_max(np.asarray(self), axis=axis, keepdims=keepdims))

    def min(self, axis=None, out=None, keepdims=False, **options):
        if out is not None or options:
            return super().min(axis=axis, out=out, keepdims=keepdims, **options)
        return real_ordered(-_max(-np.asarray(self), axis=axis, keepdims=keepdims))

    # numpy's var and std of complex numbers take |x - mean|^2, which is not analytic:
    # the namespace's are (numpy.var(z) and numpy.std(z) call these methods too).
    def var(self, axis=None, dtype=None, out=None, ddof=0, keepdims=False, **options):
        return complex_namespace.var(self, axis, dtype, out, ddof, keepdims, **options)

    def std(self, axis=None, dtype=None, out=None, ddof=0, keepdims=False, **options):
        return complex_namespace.std(self, axis, dtype, out, ddof, keepdims, **options)

    def sort(self, axis=-1, kind=None, order=None, **options):
        # In place, as numpy's (numpy.sort(z) sorts a copy with this method).
        self.view(np.ndarray)[...] = _sort(np.asarray(self), axis=axis)

    def __getitem__(self, key):
        return real_ordered(super().__getitem__(key))

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def __float__(self):
        # numpy refuses float() of a complex 0-d array outright (TypeError); its complex
        # scalar warns with a ComplexWarning, which the complex step reports as a cast.
        return float(self.view(np.ndarray)[()])


def real_ordered(value):
    """``value`` as a :class:`RealOrderedArray` if it is a complex numpy value, else unchanged."""
    if type(value) is RealOrderedArray:
        return value
    if isinstance(value, (np.ndarray, np.generic)) and value.dtype.kind == "c":
        return np.asarray(value).view(RealOrderedArray)
    return value


def _plain(value):
    return np.asarray(value) if isinstance(value, RealOrderedArray) else value


def _returning_real_ordered(fn):
    def wrapped(*args, **kwargs):
        result = fn(*args, **kwargs)
        if isinstance(result, tuple):  # slogdet's pair
            return type(result)(*map(real_ordered, result))
        return real_ordered(result)

    wrapped.__name__ = getattr(fn, "__name__", "operation")
    return wrapped


def _complex(real, imag):
    # Assemble from parts: in `real + 1j * imag` an infinite imag would make the real
    # part NaN through the complex product 1j * inf = nan + inf j.
    out = np.array(real, dtype=np.complex128)
    out.imag = imag
    return out[()]


def _asarray(obj, dtype=None):
    # A complex array stays complex even if a real dtype is asked for: casting would
    # drop the imaginary part, which carries the derivative.
    array = np.asarray(obj)
    if np.iscomplexobj(array):
        target = np.complex128 if dtype is None else np.promote_types(dtype, np.complex128)
    else:
        target = np.float64 if dtype is None else dtype
    return np.asarray(array, dtype=target)


def _abs(z):
    if not np.iscomplexobj(z):
        return np.abs(z)
    z = np.asarray(z)
    sign = np.sign(z.real)
    # z * sign(Re z), by parts so that an infinite real part keeps a finite derivative.
    return _complex(np.abs(z.real), z.imag * sign)


def _select_by_real_part(a, b, real_choice):
    real_a, real_b = np.real(a), np.real(b)
    imag_a, imag_b = np.imag(a), np.imag(b)
    real = real_choice(real_a, real_b)  # numpy's choice, NaN propagation included
    imag = np.where(
        real_a == real_b,
        0.5 * imag_a + 0.5 * imag_b,
        np.where(real == real_a, imag_a, imag_b),
    )
    return _complex(real, imag)


def _maximum(a, b):
    if not (np.iscomplexobj(a) or np.iscomplexobj(b)):
        return np.maximum(a, b)
    return _select_by_real_part(a, b, np.maximum)


def _minimum(a, b):
    if not (np.iscomplexobj(a) or np.iscomplexobj(b)):
        return np.minimum(a, b)
    return _select_by_real_part(a, b, np.minimum)


def _max(x, axis=None, keepdims=False):
    if not np.iscomplexobj(x):
        return np.max(x, axis=axis, keepdims=keepdims)
    x = np.asarray(x)
    real = np.max(x.real, axis=axis, keepdims=True)
    hit = x.real == real
    hits = np.sum(hit, axis=axis, keepdims=True)  # ties share the derivative equally
    with np.errstate(invalid="ignore"):  # 0 / 0 where the maximum is NaN: NaN, as it should
        imag = np.sum(np.where(hit, x.imag, 0.0), axis=axis, keepdims=True) / hits
    out = _complex(real, imag)
    return out if keepdims else np.squeeze(out, axis=axis)[()]


def _sort(x, axis=-1, kind=None, order=None, stable=None):
    if not np.iscomplexobj(x):
        return np.sort(x, axis=axis, kind=kind, order=order, stable=stable)
    x = np.asarray(x)
    if axis is None:  # numpy sorts the flattened array
        x, axis = x.ravel(), -1
    permuted = np.take_along_axis(x, sort_order(x.real, axis), axis=axis)
    return _complex(permuted.real, share_ties(permuted.real, permuted.imag, axis))


def _comparing_real_parts(compare):
    def compare_real_parts(a, b):
        return compare(np.real(a), np.real(b))

    return compare_real_parts


# --- elementwise group: the operations numpy does not continue analytically -------------


def _real_step(step):
    # A piecewise-constant function of the real part: a real result, derivative 0.
    def constant(z):
        return step(np.real(z))

    constant.__name__ = step.__name__
    return constant


def _hypot(a, b):
    if not (np.iscomplexobj(a) or np.iscomplexobj(b)):
        return np.hypot(a, b)
    # sqrt(a^2 + b^2) is analytic where the real parts are not both 0: the principal
    # root of a number near the positive real axis.  Scaled by the larger real part so
    # that no square overflows; at the origin 0 with derivative 0 (the subgradient).
    scale = np.maximum(np.abs(np.real(a)), np.abs(np.real(b)))
    safe = np.where(scale == 0, 1.0, scale)
    root = safe * np.sqrt((a / safe) ** 2 + (b / safe) ** 2)
    return np.where(scale == 0, 0.0, root)


def _arctan2(y, x):
    if not (np.iscomplexobj(y) or np.iscomplexobj(x)):
        return np.arctan2(y, x)
    # With (u, v) the unit vector of the real parts (x0, y0) and angle = arctan2(y0, x0):
    # tan(theta - angle) = (y u - x v) / (x u + y v) exactly, whose numerator's real part
    # y0 u - x0 v is 0 and whose denominator's is r = hypot(x0, y0).  So
    # theta = angle + arctan(i (Im y u - Im x v) / (r + i (Im x u + Im y v))), analytic
    # wherever r > 0; at the origin the angle alone (derivative 0, the subgradient).
    y0, x0 = np.real(y), np.real(x)
    angle = np.arctan2(y0, x0)
    r = np.hypot(y0, x0)
    safe = np.where(r == 0, 1.0, r)
    u, v = x0 / safe, y0 / safe
    dy, dx = np.imag(y), np.imag(x)
    turn = np.arctan(1j * (dy * u - dx * v) / (safe + 1j * (dx * u + dy * v)))
    return angle + np.where(r == 0, 0.0, turn)


def _logaddexp(a, b):
    if not (np.iscomplexobj(a) or np.iscomplexobj(b)):
        return np.logaddexp(a, b)
    # big + log1p(exp(small - big)) with big the argument of larger real part: both
    # choices are the same analytic function, and exp's argument has real part <= 0.
    first = np.real(a) >= np.real(b)
    big, small = np.where(first, a, b), np.where(first, b, a)
    return big + np.log1p(np.exp(small - big))


def _gammaln(z):
    special = importlib.import_module("scipy.special")
    if not np.iscomplexobj(z):
        return special.gammaln(z)
    # gammaln = log|Gamma|.  For Re z > 0, scipy's loggamma (the principal log Gamma) is
    # its continuation: real and equal to it on the positive axis.  Elsewhere the
    # reflection Gamma(z) Gamma(1 - z) = pi / sin(pi z) gives
    # log pi - log(s sin(pi w)) - loggamma(1 - z), with w = z - round(Re z) (an exact
    # shift, so sin(pi w) keeps its digits) and s = +-1 the sign that puts the log's
    # argument near the positive axis.  At the poles (Re z = 0, -1, -2, ...) inf.
    z = np.asarray(z)
    x = np.real(z)
    right = x > 0
    pole = ~right & (x == np.floor(x))
    left_z = np.where(right | pole, -0.5, z)  # never evaluated at a pole or on the right
    sine = np.sin(np.pi * (left_z - np.round(np.real(left_z))))
    left = np.log(np.pi) - np.log(np.sign(np.real(sine)) * sine) - special.loggamma(1.0 - left_z)
    principal = special.loggamma(np.where(right, z, 1.0))
    # Near the real axis (|Im z| < 1e-8 (1 + |Re z|)) the Taylor series about Re z to
    # third order is the same function to double precision and keeps digamma's relative
    # accuracy at its root 1.46 (scipy's complex loggamma is accurate there only
    # absolutely: 3e-16 for a derivative of 1e-16).
    y = np.imag(z)
    near = right & (np.abs(y) < 1e-8 * (1.0 + np.abs(x)))
    at = np.where(near, x, 1.0)
    taylor = special.gammaln(at) - 0.5 * y * y * special.polygamma(1, at)
    taylor = taylor + 1j * (y * special.digamma(at) - y**3 / 6.0 * special.polygamma(2, at))
    value = np.where(right, np.where(near, taylor, principal), left)
    return np.where(pole, np.inf, value)


# --- elementwise, second wave -------------------------------------------------------------

_LN2 = 0.6931471805599453


def _scipy_special():
    return importlib.import_module("scipy.special")


def _fmax(a, b):
    if not (np.iscomplexobj(a) or np.iscomplexobj(b)):
        return np.fmax(a, b)
    return _select_by_real_part(a, b, np.fmax)  # a NaN real part loses, as in numpy


def _fmin(a, b):
    if not (np.iscomplexobj(a) or np.iscomplexobj(b)):
        return np.fmin(a, b)
    return _select_by_real_part(a, b, np.fmin)


def _remainder(a, b):
    if not (np.iscomplexobj(a) or np.iscomplexobj(b)):
        return np.remainder(a, b)
    # a - q b with numpy's integer quotient q of the real parts, a real constant: the
    # real part is numpy's remainder, the imaginary part Im a - q Im b.
    real_a, real_b = np.real(a), np.real(b)
    quotient = np.floor_divide(real_a, real_b)
    return _complex(np.remainder(real_a, real_b), np.imag(a) - quotient * np.imag(b))


def _logaddexp2(a, b):
    if not (np.iscomplexobj(a) or np.iscomplexobj(b)):
        return np.logaddexp2(a, b)
    return _logaddexp(np.multiply(a, _LN2), np.multiply(b, _LN2)) / _LN2


def _with_real_part(real_function, continuation):
    """The real function's value with the imaginary part of an analytic continuation."""

    def function(*args):
        if not any(map(np.iscomplexobj, args)):
            return real_function(*args)
        real = real_function(*map(np.real, args))
        return _complex(real, np.imag(continuation(*args)))

    function.__name__ = real_function.__name__
    return function


def _betaln_continued(a, b):
    return _gammaln(a) + _gammaln(b) - _gammaln(a + b)


def _beta_continued(a, b):
    # B = s exp(log|B|), s the sign of the real B: analytic where B is finite and non-zero.
    sign = np.sign(_scipy_special().beta(np.real(a), np.real(b)))
    return sign * np.exp(_betaln_continued(a, b))


def _logit_continued(z):
    return np.log(z) - np.log1p(-z)


def _special_of(name: str):
    def call(*args):
        return getattr(_scipy_special(), name)(*args)

    call.__name__ = name
    return call


def _bessel(kind: str, sign: float, scaled: bool = False):
    """The continuation of a Bessel function of real order ``n``: J (``"jv"``), Y, I, or ive.

    scipy's complex jv, yv, iv and ive (AMOS) are accurate only absolutely: at
    ``x + 1e-100 i`` their imaginary parts can be off by 1e83.  Within
    ``|y| < 1e-20 (1 + |x|)`` of the real axis the first-order Taylor series
    ``C(x) + i y C'(x)`` is the same function to double precision (the ``y^2`` terms are
    below 1e-40 relative), with ``C' = (C_{n-1} - sign C_{n+1}) / 2`` (``sign`` -1 for I),
    and for ``ive = iv exp(-|x|)`` minus ``sign(x) ive``; farther out AMOS's values
    (scipy's complex ive is ``iv exp(-|Re z|)``, made analytic by ``exp(-i Im z sign(Re z))``).
    """

    def continued(n, z):
        function = getattr(_scipy_special(), kind)
        x, y = np.real(z), np.imag(z)
        near = np.abs(y) < 1e-20 * (1.0 + np.abs(x))
        value = function(n, x)
        slope = 0.5 * (function(np.subtract(n, 1), x) - sign * function(np.add(n, 1), x))
        if scaled:
            slope = slope - np.sign(x) * value
        away = np.where(near, 1.0 + 0j, z)
        far = function(n, away)
        if scaled:
            far = far * np.exp(-1j * np.imag(away) * np.sign(np.real(away)))
        return np.where(near, value + 1j * y * slope, far)

    return continued


_J, _Y, _I, _IVE = (
    _bessel("jv", 1.0),
    _bessel("yv", 1.0),
    _bessel("iv", -1.0),
    _bessel("ive", -1.0, scaled=True),
)


def _bessel_of_integer_order(order: int, continued):
    # scipy's j0, j1, y0, y1, i0, i1 are real only: their values, with the imaginary
    # part of the continuation of the same order.
    name = {_J: "j", _Y: "y", _I: "i"}[continued] + str(order)
    return _with_real_part(_special_of(name), lambda z: continued(order, z))


def _real_order(name: str, continuation):
    # The order is a constant: a complex one would ask for the derivative in the order.
    reason = "no derivative with respect to the order (it has no closed form in functions scipy evaluates)"

    def function(n, z):
        if np.iscomplexobj(n):
            refusal("complex_step", name, reason)()
        if not np.iscomplexobj(z):
            return getattr(_scipy_special(), name)(n, z)
        return _complex(getattr(_scipy_special(), name)(n, np.real(z)), np.imag(continuation(n, z)))

    function.__name__ = name
    return function


def _real_only(name: str, why: str):
    def function(*args):
        if any(map(np.iscomplexobj, args)):
            refusal("complex_step", name, why)()
        return getattr(_scipy_special(), name)(*args)

    function.__name__ = name
    return function


def _near_axis(name: str, slope):
    """scipy's complex ``name`` far from the real axis, its first-order Taylor series near it.

    scipy's complex gamma and rgamma lose the imaginary part at ``x + 1e-100 i`` (off by
    orders of magnitude at -1.5); within ``|y| < 1e-20 (1 + |x|)`` the series
    ``f(x) + i y f'(x)`` is the same function to double precision.
    """

    def continued(z):
        function = getattr(_scipy_special(), name)
        if not np.iscomplexobj(z):
            return function(z)
        x, y = np.real(z), np.imag(z)
        near = np.abs(y) < 1e-20 * (1.0 + np.abs(x))
        value = function(x)
        far = function(np.where(near, 1.0 + 0j, z))
        return np.where(near, value + 1j * y * slope(value, x), far)

    continued.__name__ = name
    return continued


_NO_COMPLEX = "scipy evaluates it for real arguments only, and no analytic continuation is written here"

_SECOND_WAVE = {
    "ceil": _real_step(np.ceil),
    "gammasgn": _real_step(_special_of("gammasgn")),
    "fmax": _fmax,
    "fmin": _fmin,
    "remainder": _remainder,
    "logaddexp2": _logaddexp2,
    # sinc is analytic in numpy; gamma' = gamma psi, and rgamma' is the table's factor
    # (its slope at the poles of gamma, where rgamma psi is 0 * inf)
    "gamma": _near_axis("gamma", lambda value, x: value * _scipy_special().digamma(x)),
    "rgamma": _near_axis("rgamma", rgamma_derivative),
    "beta": _with_real_part(_special_of("beta"), _beta_continued),
    "betaln": _with_real_part(_special_of("betaln"), _betaln_continued),
    "logit": _with_real_part(_special_of("logit"), _logit_continued),
    "j0": _bessel_of_integer_order(0, _J),
    "j1": _bessel_of_integer_order(1, _J),
    "y0": _bessel_of_integer_order(0, _Y),
    "y1": _bessel_of_integer_order(1, _Y),
    "i0": _bessel_of_integer_order(0, _I),
    "i1": _bessel_of_integer_order(1, _I),
    "jn": _real_order("jn", _J),
    "yn": _real_order("yn", _Y),
    "iv": _real_order("iv", _I),
    "ive": _real_order("ive", _IVE),
    **{
        name: _real_only(name, _NO_COMPLEX)
        for name in ("erfinv", "erfcinv", "polygamma", "gammainc", "gammaincc")
    },
}


#: numpy's ufuncs as they act on a :class:`RealOrderedArray`: those that are not
#: analytic on complex numbers by their continuations, comparisons on the real parts.
_UFUNC_REPLACEMENTS = {
    "absolute": _abs,
    "maximum": _maximum,
    "minimum": _minimum,
    "sign": _real_step(np.sign),
    "ceil": _real_step(np.ceil),
    "fmax": _fmax,
    "fmin": _fmin,
    # np.clip and x.clip: numpy's clip ufunc compares lexicographically; xp's is built
    # on the maximum and minimum above.
    "clip": DERIVED["clip"]({"maximum": _maximum, "minimum": _minimum}),
    **{
        compare.__name__: _comparing_real_parts(compare)
        for compare in (np.less, np.less_equal, np.greater, np.greater_equal, np.equal, np.not_equal)
    },
}


def _abs_by_branch(z):
    return np.where(z >= 0, z, -z)


def _maximum_by_branch(a, b):
    return np.where(a >= b, a, b)


def _max_of_real_parts(x, axis=None, keepdims=False):
    return np.max(np.real(x), axis=axis, keepdims=keepdims)


#: The module the stable formulas are built on.  Each formula picks one of two analytic
#: expressions with a comparison (sigmoid: ``x >= 0``; softplus: ``maximum(x, 0)``
#: against ``abs(x)``), so the ``abs`` and ``maximum`` it calls must pick with the
#: *same* comparison, ``>=`` on the argument (real parts on a :class:`RealOrderedArray`,
#: numpy's lexicographic order on a plain complex array), or at ``Re x == 0`` the
#: formula would mix two branches (with the tie rules above, sigmoid'(0) would come out
#: 0, not 1/4).
#: ``max`` only supplies logsumexp's shift, which cancels for any constant: the real
#: parts' maximum is a real constant, so no derivative flows through it.
_BRANCH_CONSISTENT = SimpleNamespace(
    exp=np.exp,
    log=np.log,
    log1p=np.log1p,
    where=np.where,
    sum=np.sum,
    reshape=np.reshape,
    shape=np.shape,
    abs=_abs_by_branch,
    maximum=_maximum_by_branch,
    max=_max_of_real_parts,
)

# --- linear algebra (xp.linalg) ---------------------------------------------------------
# numpy's complex solve, inv, det and the triangular solve (an LU solve of the triangle)
# are analytic; Cholesky, slogdet, eigh and the norms are not, and are replaced here.

_REAL = array_module_functions(np, _asarray)


def _cholesky(a, *, upper=False):
    # numpy's complex Cholesky solves L L^H = a (it conjugates); the continuation of the
    # real factor solves L L^T = a.  upper=True reads the upper triangle, as numpy's.
    if not np.iscomplexobj(a):
        return _REAL["linalg.cholesky"](a, upper=upper)
    if upper:
        return matrix_transpose(unconjugated_cholesky(matrix_transpose(a), np.sqrt))
    return unconjugated_cholesky(a, np.sqrt)


def _slogdet(a):
    # numpy's complex slogdet returns log|det|, which drops the imaginary part.  The
    # continuation of log|det A| is log(s det A), s the sign of the real determinant:
    # log|det A| + i angle(s sign), from the same complex LU, never through det itself.
    if not np.iscomplexobj(a):
        return _REAL["linalg.slogdet"](a)
    sign, logabsdet = np.linalg.slogdet(np.asarray(a))
    real_sign = np.sign(sign.real)
    return SlogdetResult(real_sign, _complex(logabsdet, np.angle(sign * real_sign)))


def _eigh(a, UPLO="L"):  # noqa: N803 (numpy's spelling)
    if np.iscomplexobj(a):
        refusal(
            "complex_step",
            "linalg.eigh",
            "numpy's complex eigh is Hermitian (it conjugates), not the analytic continuation of the "
            "real symmetric eigendecomposition",
        )()
    return _REAL["linalg.eigh"](a, UPLO)


def _singular_value_norm(x, ordinal, axes, keepdims):
    if np.iscomplexobj(x):
        refusal(
            "complex_step",
            "linalg.norm",
            f"ord={ordinal!r} is a norm of singular values, which numpy computes as real moduli of a "
            "complex matrix: not the analytic continuation",
        )()
    return np.linalg.norm(x, ordinal, axes, keepdims)


#: What the norms are written with: the analytic abs and max above, and conditions on
#: the real part.
_NORM_MODULE = SimpleNamespace(
    array=np.array,  # norm([a, b]): the list of complex values as an array, as numpy reads it
    sum=np.sum,
    abs=_abs,
    max=_max,
    sqrt=np.sqrt,
    where=np.where,
    power=np.power,
    positive=lambda s: np.real(s) > 0,
)

_LINALG = {
    "linalg.cholesky": _cholesky,
    "linalg.slogdet": _slogdet,
    "linalg.eigh": _eigh,
    **make_norms(_NORM_MODULE, _singular_value_norm),
}

#: The numpy table with the non-analytic operations replaced, keyed like every backend.
COMPLEX_FUNCTIONS = {
    **_REAL,
    "abs": _abs,
    "maximum": _maximum,
    "minimum": _minimum,
    "max": _max,
    "sigmoid": make_sigmoid(_BRANCH_CONSISTENT),
    "softplus": make_softplus(_BRANCH_CONSISTENT),
    "logsumexp": make_logsumexp(_BRANCH_CONSISTENT),
    **_LINALG,
    # elementwise group
    "sign": _real_step(np.sign),
    "floor": _real_step(np.floor),
    "round": only_default_decimals(_real_step(np.round)),
    "hypot": _hypot,
    "arctan2": _arctan2,
    "logaddexp": _logaddexp,
    "gammaln": _gammaln,
    # reductions, scans and shape operations (prod, cumsum and einsum: numpy's are analytic)
    "log_softmax": make_log_softmax(_BRANCH_CONSISTENT),
    "sort": _sort,
    # elementwise, second wave
    **_SECOND_WAVE,
}

#: The namespace :func:`~diffcompare.methods.complex_step.step.complex_step` evaluates ``f`` with;
#: its complex results are :class:`RealOrderedArray`, whatever numpy built them as.
complex_namespace = Namespace(
    "complex", {name: _returning_real_ordered(fn) for name, fn in COMPLEX_FUNCTIONS.items()}
)
