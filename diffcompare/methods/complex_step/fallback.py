"""Which numpy functions outside the op table the complex step may call, and why not the others.

The complex step reads the derivative off ``Im f(x + i h e_k) / h``, so every function
``f`` calls must compute, for complex input, the *analytic continuation* of what it
computes for real input.  For the operations of :data:`~diffcompare.ops.OPS` the
complex namespace sees to that; for the rest of numpy it holds only for some functions,
and which ones is a fact about numpy's implementation, not something to assume.
:data:`ANALYTIC` lists the functions known to hold (polynomials and rational functions
of the entries, linear maps without conjugation, rearrangements), each with a test
against Richardson differences (``tests/test_fallback_namespaces.py``).  Every other
name is refused by name; :data:`NOT_ANALYTIC` says why for the usual suspects.  Central
differences and Richardson evaluate ``f`` in float64 and take any of them.
"""

from __future__ import annotations

from functools import wraps
from typing import Any

from ...ops.fallback import FallbackNamespace, numpy_member
from ...ops.namespace import unsupported
from .namespace import complex_namespace, real_ordered

__all__ = ["ANALYTIC", "NOT_ANALYTIC", "complex_step_namespace", "refusal_reason"]

# fmt: off
#: numpy functions outside the op table whose complex version is the analytic
#: continuation of the real one (away from the real program's own kinks and ties).
ANALYTIC: frozenset[str] = frozenset((
    # elementwise, analytic where the real function is smooth
    "square", "reciprocal", "exp2", "log2", "log10", "arctanh", "arccosh", "sinc",
    # polynomials, products and sums of the entries
    "prod", "cumsum", "cumprod", "diff", "polyval", "trace", "outer", "inner", "kron",
    "tensordot", "einsum", "convolve", "cross", "trapezoid",
    # rearrangements: no arithmetic at all
    "diag", "diagonal", "triu", "tril", "flip", "roll", "squeeze", "expand_dims", "swapaxes",
    "moveaxis", "tile", "repeat", "ravel", "broadcast_to", "atleast_1d", "atleast_2d",
    "vstack", "hstack",
    # rational functions of the entries, LU-based (the pivots follow the real parts)
    "linalg.solve", "linalg.inv", "linalg.det", "linalg.tensorsolve", "linalg.tensorinv",
    "linalg.matrix_power", "linalg.multi_dot", "linalg.outer", "linalg.cross", "linalg.trace",
    "linalg.diagonal", "linalg.matrix_transpose", "linalg.matmul",
))

_HERMITIAN = (
    "numpy's complex version is built on conjugate transposes (unitary or Hermitian "
    "factors), so it is not the analytic continuation of the real one"
)
_MODULUS = "its complex version takes moduli |z|, which drop the imaginary part that carries the derivative"
_CONJUGATES = "its complex version conjugates an argument, which negates the derivative it carries"
_PART = "it takes a part of a complex number, and the imaginary part is the derivative's carrier"
_COMPLEX_VALUED = (
    "its values are complex for real input, so the step's imaginary part would mix with the "
    "transform's own"
)
_EIGEN = (
    "the eigenvalues of a real matrix can be complex, and numpy normalises eigenvectors with moduli"
)

#: Why the complex step refuses the numpy functions it is most often asked for.
NOT_ANALYTIC: dict[str, str] = {
    **dict.fromkeys(("linalg.qr", "linalg.svd", "linalg.svdvals", "linalg.eigh", "linalg.eigvalsh",
                     "linalg.cholesky", "linalg.pinv", "linalg.lstsq", "linalg.matrix_rank",
                     "linalg.cond"), _HERMITIAN),
    **dict.fromkeys(("linalg.norm", "linalg.vector_norm", "linalg.matrix_norm", "linalg.slogdet",
                     "var", "std", "sign", "hypot", "angle"), _MODULUS),
    **dict.fromkeys(("vdot", "linalg.vecdot", "correlate", "cov", "corrcoef"), _CONJUGATES),
    **dict.fromkeys(("real", "imag", "conj", "conjugate", "real_if_close"), _PART),
    **dict.fromkeys(("linalg.eig", "linalg.eigvals"), _EIGEN),
}
# fmt: on

_NOT_LISTED = (
    "numpy's complex version is not known to be the analytic continuation of the real one "
    "(it is not in diffcompare.methods.complex_step.fallback.ANALYTIC); central or richardson "
    "evaluate it in float64"
)


def refusal_reason(path: str) -> str | None:
    """Why the complex step refuses numpy's function ``path`` (``"linalg.qr"``), or ``None``.

    Examples
    --------
    >>> refusal_reason("linalg.solve") is None
    True
    >>> refusal_reason("fft.fft").startswith("its values are complex for real input")
    True
    """
    if path in ANALYTIC:
        return None
    if path.startswith("fft."):
        return _COMPLEX_VALUED
    return NOT_ANALYTIC.get(path, _NOT_LISTED)


def _continued(function):
    @wraps(function)
    def continued(*args: Any, **kwargs: Any) -> Any:
        return real_ordered(function(*args, **kwargs))

    return continued


def _resolve(path: str) -> Any:
    member = numpy_member(path)
    if member is None:
        raise unsupported("complex_step", path, "it is neither an operation of xp nor in numpy")
    if not callable(member) or isinstance(member, type):
        return member  # modules, constants (numpy.inf, numpy.newaxis) and dtypes
    reason = refusal_reason(path)
    if reason is not None:
        raise unsupported("complex_step", path, reason)
    return _continued(member)


#: The complex step's ``xp``: the complex namespace's operations, then the functions of
#: :data:`ANALYTIC` from numpy; any other name is refused with its reason.
complex_step_namespace = FallbackNamespace("complex_step", complex_namespace, _resolve)
