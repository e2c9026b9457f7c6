"""Vector-Jacobian products of the ``linalg.*`` operations (their lines are in :data:`~.rules.RULES`).

Each rule maps the cotangent ``g`` of a result to the gradient of one argument, in the
broadcast batch shape (the walk undoes broadcasting).  Linear systems are solved, never
multiplied by an explicit inverse, except where the inverse is the result (``inv``) or
the gradient itself (``slogdet``: ``A^{-T}``).  Conventions (which triangle is read,
the norms' subgradients) are those of :mod:`diffcompare.ops.linalg`.
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
    triangle_gradient,
)

_ENGINE = "the tape"


def _columns(v, vector: bool):
    return v[..., np.newaxis] if vector else v


def solve_rhs(g, ans, a, b):
    # x = A^{-1} b: the gradient of b is A^{-T} g, one solve with the transpose.
    vector = np.ndim(b) == 1
    return _unbatched(np.linalg.solve(matrix_transpose(a), _columns(g, vector)), vector)


def solve_matrix(g, ans, a, b):
    # dx = -A^{-1} dA x, so the gradient of A is -(A^{-T} g) x^T.
    vector = np.ndim(b) == 1
    gb = np.linalg.solve(matrix_transpose(a), _columns(g, vector))
    return -np.matmul(gb, matrix_transpose(_columns(ans, vector)))


def _unbatched(v, vector: bool):
    return v[..., 0] if vector else v


def solve_triangular_rhs(g, ans, a, b, *, lower=False):
    # The transpose of the lower triangle is the upper triangle of A^T: solve with it.
    vector = np.ndim(b) == 1
    return _unbatched(solve_triangular(matrix_transpose(a), _columns(g, vector), lower=not lower), vector)


def solve_triangular_matrix(g, ans, a, b, *, lower=False):
    # As for solve, restricted to the triangle that is read (the other one has derivative 0).
    vector = np.ndim(b) == 1
    gb = solve_triangular(matrix_transpose(a), _columns(g, vector), lower=not lower)
    grad = -np.matmul(gb, matrix_transpose(_columns(ans, vector)))
    return np.tril(grad) if lower else np.triu(grad)


def inverse(g, ans, a):
    # d(A^{-1}) = -A^{-1} dA A^{-1}: the result is the inverse, so two products suffice.
    return -np.matmul(matrix_transpose(ans), np.matmul(g, matrix_transpose(ans)))


def determinant(g, ans, a):
    # adj(A)^T from the SVD (see adjugate_transpose): exact also at a singular A, where
    # det(A) A^{-T} is 0 times infinity.
    return np.asarray(g)[..., np.newaxis, np.newaxis] * adjugate_transpose(a)


def logabsdet(g, ans, a):
    # d log|det A| = tr(A^{-1} dA): the gradient is A^{-T}, from one factorisation of A^T
    # (never through log(det), which overflows and loses the digits of a tiny det).
    eye = np.broadcast_to(np.eye(np.shape(a)[-1]), np.shape(a))
    return np.asarray(g)[..., np.newaxis, np.newaxis] * np.linalg.solve(matrix_transpose(a), eye)


def _phi(m):
    """The lower triangle with the diagonal halved (the Cholesky factor's differential)."""
    return np.tril(m) - 0.5 * np.diagonal(m, axis1=-2, axis2=-1)[..., np.newaxis] * np.eye(m.shape[-1])


def _lower_cholesky(g, factor, a):
    # dL = L phi(L^{-1} dS L^{-T}) for the symmetric S the lower triangle stands for, so
    # dh = sum(B * dS) with B = L^{-T} phi(L^T g) L^{-1}: two triangular solves with L^T.
    p = _phi(np.matmul(matrix_transpose(factor), g))
    left = solve_triangular(matrix_transpose(factor), p, lower=False)  # L^{-T} phi
    b = matrix_transpose(solve_triangular(matrix_transpose(factor), matrix_transpose(left), lower=False))
    return triangle_gradient(b, lower=True)


def cholesky(g, ans, a, *, upper=False):
    if upper:  # U = L(A^T)^T: the same rule on the transposes
        return matrix_transpose(
            _lower_cholesky(matrix_transpose(g), matrix_transpose(ans), matrix_transpose(a))
        )
    return _lower_cholesky(g, ans, a)


def eigenvalues(g, ans, a, UPLO="L"):  # noqa: N803 (numpy's spelling)
    # dw_i = v_i^T dS v_i: B = V diag(g) V^T.
    w, v = ans
    b = np.matmul(v * np.asarray(g)[..., np.newaxis, :], matrix_transpose(v))
    return triangle_gradient(b, lower=UPLO == "L")


def eigenvectors(g, ans, a, UPLO="L"):  # noqa: N803
    # dV = V (F o (V^T dS V)), F_ij = 1 / (w_j - w_i) off the diagonal: B = V (F o V^T g) V^T.
    # Only reached when the result depends on the eigenvectors; refused at a repeated
    # eigenvalue, where they have no derivative (eigenvector_gaps).
    w, v = ans
    inner = eigenvector_gaps(w, _ENGINE) * np.matmul(matrix_transpose(v), g)
    b = np.matmul(np.matmul(v, inner), matrix_transpose(v))
    return triangle_gradient(b, lower=UPLO == "L")


def norm_rule(op: str):
    """The VJP of norm operation ``op``: ``g`` times the shared factor (norm_factor)."""

    def rule(g, ans, x, *args, **kwargs):
        plan = norm_rule_plan(op, _ENGINE, x, args, kwargs)
        kept = g if plan.keepdims else np.expand_dims(g, plan.axes)
        return kept * norm_factor(ans, x, plan)

    return rule
