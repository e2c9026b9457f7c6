"""Jacobian-vector products of the ``linalg.*`` operations (their lines are in :data:`~.rules.JVP_RULES`).

A tangent has the ``k`` directions on a leading axis: ``(k,) + shape``.  Where an
operand may have fewer batch axes than the result, its tangent gets ones after the
direction axis (:func:`_aligned`), so numpy's batch broadcasting never pairs the
direction axis with a batch axis.  Linear systems are solved with the tangents as
right-hand sides (``k`` columns at once), never multiplied by an explicit inverse.
Conventions are those of :mod:`diffcompare.ops.linalg`.
"""

from __future__ import annotations

import numpy as np

from ...ops.linalg import (
    adjugate_transpose,
    eigenvector_gaps,
    matrix_transpose,
    norm_factor,
    norm_rule_plan,
    solve_triangular,
    symmetric_part,
)

_ENGINE = "forward mode"


def _aligned(t, core: int, batch: int):
    """Tangent ``t`` (``(k,) + value shape``, ``core`` matrix axes) with ``batch`` batch axes."""
    pad = batch - (t.ndim - 1 - core)
    return np.reshape(t, t.shape[:1] + (1,) * pad + t.shape[1:])


def _columns(v, vector: bool):
    return v[..., np.newaxis] if vector else v


def _unbatched(v, vector: bool):
    return v[..., 0] if vector else v


def _solution_batch(ans, vector: bool) -> int:
    return np.ndim(ans) - (1 if vector else 2)


def solve_matrix(t, ans, a, b):
    # dx = -A^{-1} (dA x): one solve with k right-hand sides.
    vector = np.ndim(b) == 1
    rhs = np.matmul(_aligned(t, 2, _solution_batch(ans, vector)), _columns(ans, vector))
    return -_unbatched(np.linalg.solve(a, rhs), vector)


def solve_rhs(t, ans, a, b):
    vector = np.ndim(b) == 1
    rhs = _aligned(_columns(t, vector), 2, _solution_batch(ans, vector))
    return _unbatched(np.linalg.solve(a, rhs), vector)


def solve_triangular_matrix(t, ans, a, b, *, lower=False):
    # As for solve, with dA restricted to the triangle that is read.
    vector = np.ndim(b) == 1
    triangle = np.tril(t) if lower else np.triu(t)
    rhs = np.matmul(_aligned(triangle, 2, _solution_batch(ans, vector)), _columns(ans, vector))
    return -_unbatched(solve_triangular(a, rhs, lower=lower), vector)


def solve_triangular_rhs(t, ans, a, b, *, lower=False):
    vector = np.ndim(b) == 1
    rhs = _aligned(_columns(t, vector), 2, _solution_batch(ans, vector))
    return _unbatched(solve_triangular(a, rhs, lower=lower), vector)


def inverse(t, ans, a):
    # d(A^{-1}) = -A^{-1} dA A^{-1}, the result being the inverse.
    return -np.matmul(ans, np.matmul(t, ans))


def determinant(t, ans, a):
    # d det = tr(adj(A) dA), adj(A) from the SVD (exact also at a singular A).
    return np.sum(t * adjugate_transpose(a), axis=(-2, -1))


def logabsdet(t, ans, a):
    # d log|det A| = tr(A^{-1} dA): one solve with the k tangents as right-hand sides.
    return np.trace(np.linalg.solve(a, t), axis1=-2, axis2=-1)


def _phi(m):
    """The lower triangle with the diagonal halved (the Cholesky factor's differential)."""
    return np.tril(m) - 0.5 * np.diagonal(m, axis1=-2, axis2=-1)[..., np.newaxis] * np.eye(m.shape[-1])


def _lower_cholesky(t, factor):
    # dL = L phi(L^{-1} dS L^{-T}), dS the symmetric matrix the lower triangle of dA stands for.
    left = solve_triangular(factor, symmetric_part(t, lower=True), lower=True)  # L^{-1} dS
    inner = matrix_transpose(solve_triangular(factor, matrix_transpose(left), lower=True))
    return np.matmul(factor, _phi(inner))


def cholesky(t, ans, a, *, upper=False):
    if upper:  # U = L(A^T)^T: the same rule on the transposes
        return matrix_transpose(_lower_cholesky(matrix_transpose(t), matrix_transpose(ans)))
    return _lower_cholesky(t, ans)


def _projected(t, v, UPLO):  # noqa: N803 (numpy's spelling)
    """``V^T dS V``, dS the symmetric matrix that the triangle ``UPLO`` of ``dA`` stands for."""
    return np.matmul(matrix_transpose(v), np.matmul(symmetric_part(t, lower=UPLO == "L"), v))


def eigenvalues(t, ans, a, UPLO="L"):  # noqa: N803
    # dw_i = v_i^T dS v_i.
    w, v = ans
    return np.diagonal(_projected(t, v, UPLO), axis1=-2, axis2=-1)


def eigenvectors(t, ans, a, UPLO="L"):  # noqa: N803
    # dV = V (F o V^T dS V), F_ij = 1 / (w_j - w_i) off the diagonal; refused at a repeated
    # eigenvalue (eigenvector_gaps), and then only where the eigenvectors' tangent is used.
    w, v = ans
    return np.matmul(v, eigenvector_gaps(w, _ENGINE) * _projected(t, v, UPLO))


def norm_rule(op: str):
    """The JVP of norm operation ``op``: the tangent summed against the shared factor (norm_factor)."""

    def rule(t, ans, x, *args, **kwargs):
        plan = norm_rule_plan(op, _ENGINE, x, args, kwargs)
        return np.sum(
            t * norm_factor(ans, x, plan), axis=tuple(a + 1 for a in plan.axes), keepdims=plan.keepdims
        )

    return rule
