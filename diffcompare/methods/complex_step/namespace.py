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

from types import SimpleNamespace

import numpy as np

from ...ops.array_module import array_module_functions, make_logsumexp
from ...ops.namespace import Namespace
from ...ops.structural import make_log_softmax, share_ties, sort_order
from ...ops.table import make_sigmoid, make_softplus

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
        return real_ordered(fn(*args, **kwargs))

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


#: numpy's ufuncs as they act on a :class:`RealOrderedArray`: those that are not
#: analytic on complex numbers by their continuations, comparisons on the real parts.
_UFUNC_REPLACEMENTS = {
    "absolute": _abs,
    "maximum": _maximum,
    "minimum": _minimum,
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

#: The numpy table with the non-analytic operations replaced, keyed like every backend.
COMPLEX_FUNCTIONS = {
    **array_module_functions(np, _asarray),
    "abs": _abs,
    "maximum": _maximum,
    "minimum": _minimum,
    "max": _max,
    "sigmoid": make_sigmoid(_BRANCH_CONSISTENT),
    "softplus": make_softplus(_BRANCH_CONSISTENT),
    "logsumexp": make_logsumexp(_BRANCH_CONSISTENT),
    # reductions, scans and shape operations (prod, cumsum and einsum: numpy's are analytic)
    "log_softmax": make_log_softmax(_BRANCH_CONSISTENT),
    "sort": _sort,
}

#: The namespace :func:`~diffcompare.methods.complex_step.step.complex_step` evaluates ``f`` with;
#: its complex results are :class:`RealOrderedArray`, whatever numpy built them as.
complex_namespace = Namespace(
    "complex", {name: _returning_real_ordered(fn) for name, fn in COMPLEX_FUNCTIONS.items()}
)
