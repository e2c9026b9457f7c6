"""Linear algebra (``xp.linalg``): the numerics every backend and both engines share.

Conventions, the same in every backend:

- ``solve(a, b)`` treats ``b`` as a vector only when it is 1-d (numpy 2's rule), else
  as a stack of matrices ``(..., M, K)``; batch axes broadcast.
- ``solve_triangular(a, b, *, lower=False)`` is scipy's spelling (``lower`` keyword,
  upper triangular by default), with ``solve``'s shapes; only the named triangle of
  ``a`` is read, so the other triangle has derivative 0.
- ``cholesky(a, *, upper=False)`` and ``eigh(a, UPLO="L")`` read one triangle of ``a``,
  as numpy's LAPACK calls do: the derivative is that of the function of the lower (or
  upper) triangle, so a strictly upper entry of ``a`` has derivative 0 and a strictly
  lower one collects both mirrored partials.  For a symmetric ``a`` built from ``x``
  this is the usual symmetric derivative.
- ``slogdet`` and ``eigh`` return the named pairs :class:`SlogdetResult` and
  :class:`EighResult`.
- Norms (``norm``, ``vector_norm``, ``matrix_norm``): vector norms of any order ``p``,
  ``inf`` and ``-inf``; matrix norms ``"fro"``, ``1``, ``-1``, ``inf``, ``-inf``.
  At the zero vector (matrix) the derivative is the subgradient 0, as ``abs'(0) = 0``;
  ties of ``max``/``min`` (``inf`` norms, the largest column sum) share the derivative
  equally, as ``xp.max`` does.  The spectral and nuclear norms (``2``, ``-2``,
  ``"nuc"`` of a matrix) have no derivative rule and are refused by name where a rule
  would be needed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, NamedTuple

import numpy as np

from .namespace import UnsupportedOperationError

__all__ = [
    "EighResult",
    "NormPlan",
    "SlogdetResult",
    "adjugate_transpose",
    "eigenvector_gaps",
    "linalg_functions",
    "make_norms",
    "matrix_transpose",
    "NORMS",
    "norm_factor",
    "norm_plan",
    "norm_rule_plan",
    "solve_triangular",
    "symmetric_part",
    "triangle_gradient",
    "unconjugated_cholesky",
]


class SlogdetResult(NamedTuple):
    """``slogdet``'s result: ``sign * exp(logabsdet)`` is the determinant."""

    sign: Any
    logabsdet: Any


class EighResult(NamedTuple):
    """``eigh``'s result: eigenvalues in ascending order, eigenvectors in columns."""

    eigenvalues: Any
    eigenvectors: Any


def matrix_transpose(a):
    """Swap the last two axes (a stack of transposed matrices)."""
    return np.swapaxes(a, -1, -2)


def _as_columns(b, vector: bool):
    return b[..., np.newaxis] if vector else b


def solve_triangular(a, b, *, lower: bool = False):
    """Solve ``T x = b`` by substitution, ``T`` the lower or upper triangle of ``a``.

    Works on float, complex (no conjugation: the analytic continuation) and object
    (SymPy) arrays alike; batch axes broadcast, ``b`` is a vector only when 1-d.
    Substitution is backward stable row by row, usually far more accurate than the
    condition number suggests; the other triangle of ``a`` is never read.

    Examples
    --------
    >>> solve_triangular(np.array([[2.0, 9.0], [1.0, 4.0]]), np.array([2.0, 9.0]), lower=True)
    array([1., 2.])
    """
    a, b = np.asarray(a), np.asarray(b)
    vector = b.ndim == 1
    b = _as_columns(b, vector)
    n = a.shape[-1]
    batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    dtype = np.result_type(a, b, np.float64)
    # r holds b minus the columns already solved for (column-oriented substitution):
    # each step divides one row and updates the rows still to come, O(n k) per step.
    r = np.array(np.broadcast_to(b, batch + b.shape[-2:]), dtype=dtype)
    x = np.empty_like(r)
    order = range(n) if lower else range(n - 1, -1, -1)
    for j in order:
        x[..., j, :] = r[..., j, :] / a[..., j, j, np.newaxis]
        rest = slice(j + 1, None) if lower else slice(0, j)
        r[..., rest, :] -= a[..., rest, j, np.newaxis] * x[..., j, np.newaxis, :]
    return x[..., 0] if vector else x


def unconjugated_cholesky(a, sqrt: Callable):
    """The lower factor ``L`` with ``L L^T = a`` (no conjugation), read from the lower triangle.

    The Cholesky-Banachiewicz recurrence, row-vectorised over batch axes.  For complex
    ``a`` it is the analytic continuation of the real factor (numpy's complex Cholesky
    solves ``L L^H = a``, which is not); with ``sqrt`` elementwise on SymPy objects it
    is the exact factor as expressions.
    """
    a = np.asarray(a)
    n = a.shape[-1]
    dtype = object if a.dtype == object else np.result_type(a, np.float64)
    factor = np.zeros(a.shape, dtype=dtype)
    for j in range(n):
        known = factor[..., j, :j]
        factor[..., j, j] = sqrt(a[..., j, j] - np.sum(known * known, axis=-1))
        if j + 1 < n:
            below = a[..., j + 1 :, j] - np.sum(factor[..., j + 1 :, :j] * known[..., np.newaxis, :], axis=-1)
            factor[..., j + 1 :, j] = below / factor[..., j, j, np.newaxis]
    return factor


def symmetric_part(a, lower: bool = True):
    """The symmetric matrix a one-triangle routine sees: ``tril(a) + tril(a, -1)^T`` (or ``triu``)."""
    if lower:
        return np.tril(a) + matrix_transpose(np.tril(a, -1))
    return np.triu(a) + matrix_transpose(np.triu(a, 1))


def triangle_gradient(b, lower: bool = True):
    """The gradient with respect to ``a`` of ``h(symmetric_part(a))``, given ``b`` with
    ``dh = sum(b * dS)`` for symmetric ``dS``: the diagonal of ``b``, and ``b + b^T`` in
    the triangle read (the mirrored entry is the same number); 0 in the other one.
    """
    both = b + matrix_transpose(b)
    off = np.tril(both, -1) if lower else np.triu(both, 1)
    return off + np.diagonal(b, axis1=-2, axis2=-1)[..., np.newaxis] * np.eye(b.shape[-1])


def adjugate_transpose(a):
    """``adj(a)^T``, the derivative of ``det(a)``, through the SVD: no division by ``det``.

    With ``a = U diag(s) V^T``, ``adj(a)^T = det(U V^T) U diag(p) V^T`` where ``p_i`` is the
    product of every singular value but ``s_i`` (prefix times suffix products).  Unlike
    ``det(a) inv(a)^T`` it is accurate when ``a`` is (nearly) singular, where the
    derivative of ``det`` stays finite and ``inv`` does not.
    """
    u, s, vt = np.linalg.svd(a)
    ones = np.ones(s.shape[:-1] + (1,))
    before = np.cumprod(np.concatenate([ones, s[..., :-1]], axis=-1), axis=-1)
    after = np.cumprod(np.concatenate([ones, s[..., :0:-1]], axis=-1), axis=-1)[..., ::-1]
    # det(U) det(V^T) is +-1 up to rounding: its sign is exact.
    orientation = np.sign(np.linalg.det(u) * np.linalg.det(vt))
    return orientation[..., np.newaxis, np.newaxis] * np.matmul(u * (before * after)[..., np.newaxis, :], vt)


def eigenvector_gaps(w, engine: str):
    """``F[i, j] = 1 / (w[j] - w[i])`` off the diagonal, 0 on it: the eigenvectors' derivative.

    Raises
    ------
    UnsupportedOperationError
        If two eigenvalues are equal to within their rounding (``n eps max|w|``): the
        eigenvectors of a repeated eigenvalue are not unique and have no derivative.
    """
    w = np.asarray(w)
    n = w.shape[-1]
    gap = w[..., np.newaxis, :] - w[..., :, np.newaxis]
    off = ~np.eye(n, dtype=bool)
    tolerance = n * np.finfo(np.float64).eps * np.max(np.abs(w), axis=-1, initial=0.0)
    if np.any((np.abs(gap) <= tolerance[..., np.newaxis, np.newaxis]) & off):
        raise UnsupportedOperationError(
            f"{engine} cannot differentiate the eigenvectors of 'linalg.eigh' at a matrix with a repeated "
            f"eigenvalue (eigenvalues {np.round(w, 17).tolist()}): they are not unique there and have no "
            "derivative; a function of the eigenvalues alone is differentiable"
        )
    with np.errstate(divide="ignore"):
        return np.where(off, 1.0 / np.where(off, gap, 1.0), 0.0)


# --- norms ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class NormPlan:
    """What a norm call computes: a vector norm over ``axes``, or a matrix norm over (rows, columns)."""

    matrix: bool
    ord: Any
    axes: tuple[int, ...]
    keepdims: bool

    @property
    def spectral(self) -> bool:
        """A norm of the singular values (matrix ``2``, ``-2``, ``"nuc"``): no rule is provided."""
        return self.matrix and self.ord in (2, -2, "nuc")


#: The norm operations and their parameters after ``x``, in order (numpy's and the Array API's).
NORMS = {
    "linalg.norm": ("ord", "axis", "keepdims"),
    "linalg.vector_norm": ("axis", "keepdims", "ord"),
    "linalg.matrix_norm": ("keepdims", "ord"),
}


def _axes(axis, ndim: int) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if np.ndim(axis) == 0 else tuple(axis)
    return tuple(int(a) % ndim for a in axes)


def norm_plan(op: str, ndim: int, *args, **kwargs) -> NormPlan:
    """The :class:`NormPlan` of a call ``op(x, *args, **kwargs)`` for an ``ndim``-d ``x``.

    Raises
    ------
    TypeError
        For parameters the operation does not take.
    ValueError
        For what numpy rejects too: an order that is no norm, a wrong number of axes.
    """
    names = NORMS[op]
    if len(args) > len(names) or set(kwargs) - set(names):
        raise TypeError(
            f"{op} takes x and {', '.join(names)}; got {len(args)} more positional and {sorted(kwargs)}"
        )
    given = {**dict(zip(names, args, strict=False)), **kwargs}
    ordinal, axis, keepdims = given.get("ord"), given.get("axis"), bool(given.get("keepdims", False))
    if op == "linalg.matrix_norm":
        matrix, axes = True, (ndim - 2, ndim - 1)
    elif op == "linalg.vector_norm" or (axis is None and ordinal is None):
        matrix, axes = False, _axes(axis, ndim)  # numpy's norm(x): the 2-norm of x flattened
    elif axis is None:
        if ndim not in (1, 2):
            raise ValueError(f"{op}: ord={ordinal!r} needs a 1-d or 2-d x, or axis; got {ndim} dimensions")
        matrix, axes = ndim == 2, tuple(range(ndim))
    else:
        if np.size(axis) not in (1, 2):
            raise ValueError(f"{op}: axis must be an int or a pair of ints; got {axis!r}")
        matrix, axes = np.size(axis) == 2, _axes(axis, ndim)
    if ordinal is None:
        ordinal = "fro" if matrix else 2
    if matrix:
        if ndim < 2 or len(set(axes)) != 2:
            raise ValueError(f"{op}: a matrix norm needs two distinct axes of x; got {axes} of {ndim}")
        valid = (
            ordinal in ("fro", "nuc")
            if isinstance(ordinal, str)
            else ordinal in (1, -1, 2, -2, np.inf, -np.inf)
        )
    else:
        valid = not isinstance(ordinal, str)
    if not valid:
        raise ValueError(f"{op}: invalid {'matrix' if matrix else 'vector'} norm order {ordinal!r}")
    return NormPlan(matrix, ordinal, axes, keepdims)


def norm_rule_plan(op: str, engine: str, x, args: tuple, kwargs: dict) -> NormPlan:
    """:func:`norm_plan` for a derivative rule: refuses the norms of singular values by name."""
    plan = norm_plan(op, np.ndim(x), *args, **kwargs)
    if plan.spectral:
        raise UnsupportedOperationError(
            f"{engine} has no derivative rule for {op!r} with ord={plan.ord!r}: the spectral and nuclear "
            "norms (of singular values) are not provided; matrix orders 'fro', 1, -1, inf, -inf are"
        )
    return plan


def _kept(value, plan: NormPlan):
    """A norm's result with the reduced axes kept (as keepdims=True would give)."""
    return value if plan.keepdims else np.expand_dims(value, plan.axes)


def _shared_extreme(values, axes, largest: bool):
    """1 / (number of ties) where ``values`` attains its max (min) over ``axes``, else 0."""
    extreme = (np.max if largest else np.min)(values, axis=axes, keepdims=True)
    hit = values == extreme
    return hit / np.sum(hit, axis=axes, keepdims=True)


def norm_factor(ans, x, plan: NormPlan):
    """``D`` of ``x``'s shape with ``d norm = sum(D * dx)`` over the reduced axes.

    Shared by the tape (``g * D``) and forward mode (``sum(t * D)``).  The p-norm's
    factor ``sign(x) (|x| / norm)^(p - 1)`` forms the ratio first, so it overflows only
    where the norm itself does; at a zero norm the factor is 0 (the subgradient, as
    ``abs'(0) = 0``); ties of the ``inf`` norms share equally, as ``max`` does.  The
    order-0 "norm" counts nonzeros: derivative 0.
    """
    x = np.asarray(x)
    ordinal = plan.ord
    if plan.matrix and ordinal != "fro":
        rows, columns = plan.axes
        summed, compared = (rows, columns) if abs(ordinal) == 1 else (columns, rows)
        sums = np.sum(np.abs(x), axis=summed, keepdims=True)
        return np.sign(x) * _shared_extreme(sums, compared, ordinal > 0)
    if ordinal in (np.inf, -np.inf):
        return np.sign(x) * _shared_extreme(np.abs(x), plan.axes, ordinal > 0)
    if ordinal == 1:
        return np.sign(x)
    if ordinal == 0:
        return np.zeros(x.shape)
    norm = _kept(np.asarray(ans), plan)
    with np.errstate(divide="ignore", invalid="ignore"):
        if ordinal in (2, "fro"):
            ratio = x / norm
        else:
            ratio = np.sign(x) * (np.abs(x) / norm) ** (ordinal - 1)
    return np.where(norm > 0, ratio, 0.0)


def make_norms(m, spectral: Callable) -> dict[str, Callable]:
    """``linalg.norm``, ``linalg.vector_norm`` and ``linalg.matrix_norm`` written with ``m``'s functions.

    ``m`` provides ``sum``, ``abs``, ``max``, ``sqrt``, ``where``, ``power`` and
    ``positive(s)`` (the condition ``s > 0``); the derivative is then the one ``m``'s own
    rules give: autograd's, the complex step's analytic continuations, SymPy's.  The
    2-norm is ``sqrt(sum(x * x))`` with the square root kept off 0, so its derivative at
    the zero vector is 0, not ``0 * inf``.  ``spectral(x, ord, axes, keepdims)``
    computes (or refuses) the matrix norms of singular values.
    """

    def two_norm(x, axes, keepdims):
        squares = m.sum(x * x, axis=axes, keepdims=keepdims)
        nonzero = m.positive(squares)
        return m.where(nonzero, m.sqrt(m.where(nonzero, squares, 1.0)), 0.0)

    def vector(x, ordinal, axes, keepdims):
        if ordinal == 2:
            return two_norm(x, axes, keepdims)
        if ordinal == 1:
            return m.sum(m.abs(x), axis=axes, keepdims=keepdims)
        if ordinal == np.inf:
            return m.max(m.abs(x), axis=axes, keepdims=keepdims)
        if ordinal == -np.inf:
            return -m.max(-m.abs(x), axis=axes, keepdims=keepdims)
        if ordinal == 0:  # numpy's count of the nonzero elements
            return m.sum(m.where(m.positive(m.abs(x)), 1.0, 0.0), axis=axes, keepdims=keepdims)
        total = m.sum(m.power(m.abs(x), float(ordinal)), axis=axes, keepdims=keepdims)
        nonzero = m.positive(total)
        return m.where(nonzero, m.power(m.where(nonzero, total, 1.0), 1.0 / ordinal), 0.0)

    def matrix(x, ordinal, axes, keepdims):
        if ordinal == "fro":
            return two_norm(x, axes, keepdims)
        rows, columns = axes
        summed, compared = (rows, columns) if abs(ordinal) == 1 else (columns, rows)
        if not keepdims and summed < compared:
            compared -= 1  # numpy's own bookkeeping: the summed axis is gone
        sums = m.sum(m.abs(x), axis=summed, keepdims=keepdims)
        if ordinal > 0:
            return m.max(sums, axis=compared, keepdims=keepdims)
        return -m.max(-sums, axis=compared, keepdims=keepdims)

    def planned(op):
        def norm(x, *args, **kwargs):
            if isinstance(x, (list, tuple)) and hasattr(m, "array"):
                x = m.array(x)  # numpy's norm([a, b]) is the norm of the array (autograd's too)
            plan = norm_plan(op, np.ndim(x), *args, **kwargs)
            if plan.spectral:
                return spectral(x, plan.ord, plan.axes, plan.keepdims)
            build = matrix if plan.matrix else vector
            return build(x, plan.ord, plan.axes, plan.keepdims)

        norm.__name__ = op.split(".")[1]
        return norm

    return {op: planned(op) for op in NORMS}


# --- the table of an array module ----------------------------------------------------------


def linalg_functions(m) -> dict[str, Callable]:
    """Every ``linalg.*`` operation written with array module ``m`` (numpy or autograd.numpy).

    Written so that autograd's own rules differentiate them: ``b`` and the batch axes
    are broadcast explicitly (autograd's ``solve`` rule does not undo broadcasting), the
    triangular solve is ``solve`` of the triangle, Cholesky's input is the symmetric
    matrix its lower triangle stands for (autograd's rule assumes a symmetric input),
    and the pairs are :class:`SlogdetResult` and :class:`EighResult`.
    """

    def broadcast_batch(a, b):
        batch = np.broadcast_shapes(np.shape(a)[:-2], np.shape(b)[:-2])
        pad = [np.zeros(batch + (1, 1)) if np.shape(v)[:-2] != batch else 0.0 for v in (a, b)]
        return a + pad[0], b + pad[1]

    def solve(a, b):
        vector = np.ndim(b) == 1
        b = m.reshape(b, np.shape(b) + (1,)) if vector else b
        a, b = broadcast_batch(a, b)
        x = m.linalg.solve(a, b)
        return x[..., 0] if vector else x

    def solve_triangular(a, b, *, lower=False):
        return solve(m.tril(a) if lower else m.triu(a), b)

    def lower_cholesky(a):
        symmetric = m.tril(a) + m.swapaxes(m.tril(a, -1), -1, -2)
        return m.linalg.cholesky(symmetric)

    def cholesky(a, *, upper=False):
        if upper:  # U = L(a^T)^T reads the upper triangle, as numpy's upper=True
            return m.swapaxes(lower_cholesky(m.swapaxes(a, -1, -2)), -1, -2)
        return lower_cholesky(a)

    def slogdet(a):
        result = m.linalg.slogdet(a)
        return SlogdetResult(result[0], result[1])

    def eigh(a, UPLO="L"):  # noqa: N803 (numpy's spelling)
        result = m.linalg.eigh(a, UPLO)
        return EighResult(result[0], result[1])

    def positive(s):
        return s > 0

    module = SimpleNamespace(
        sum=m.sum,
        abs=m.abs,
        max=m.max,
        sqrt=m.sqrt,
        where=m.where,
        power=m.power,
        positive=positive,
        array=m.array,
    )
    return {
        "linalg.solve": solve,
        "linalg.solve_triangular": solve_triangular,
        "linalg.inv": m.linalg.inv,
        "linalg.det": m.linalg.det,
        "linalg.slogdet": slogdet,
        "linalg.cholesky": cholesky,
        "linalg.eigh": eigh,
        **make_norms(module, lambda x, ordinal, axes, keepdims: m.linalg.norm(x, ordinal, axes, keepdims)),
    }
