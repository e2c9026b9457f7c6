"""``xp.linalg`` on object arrays of SymPy expressions: exact closed forms, matrix by matrix.

Batch axes broadcast as in numpy, and each matrix of a stack becomes one
``sympy.Matrix``.  The expressions are exact rational functions (and square roots, for
Cholesky) of the traced entries, so the reference differentiates the function itself:

- ``solve`` and ``inv``: SymPy's LU solve (a pivot is chosen among the entries SymPy
  cannot prove zero, so the expression is valid wherever those pivots are nonzero);
- ``det``: the Berkowitz algorithm, a division-free polynomial, exact also at a
  singular matrix; ``slogdet``: ``log|det|`` and the sign as a ``Piecewise``;
- ``solve_triangular`` and ``cholesky``: the substitution and Cholesky-Banachiewicz
  recurrences of :mod:`diffcompare.ops.linalg`, reading one triangle, as numpy does;
- norms: :func:`~diffcompare.ops.linalg.make_norms` on the SymPy namespace's own
  ``abs``, ``max``, ``sum`` and ``where``, so the conventions (subgradient 0 at the zero
  vector, shared ties) are the tape's.

``eigh`` has no closed form beyond tiny sizes and is refused by name, as are the norms
of singular values.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import sympy

from ...ops.linalg import SlogdetResult, make_norms, matrix_transpose, solve_triangular, unconjugated_cholesky
from ...ops.namespace import refusal
from ...ops.numpy_namespace import NUMPY_FUNCTIONS

__all__ = ["TRACER", "sympy_linalg_functions"]

#: How the refusals name the SymPy trace (used by methods symbolic and symengine and by the reference).
TRACER = "the SymPy trace (methods symbolic, symengine and the reference)"

_sympy_sqrt = np.frompyfunc(sympy.sqrt, 1, 1)


def _per_matrix(build: Callable, a, b=None, vector: bool = False):
    """``build(A)`` or ``build(A, B)`` for each matrix of a stack, broadcasting batch axes.

    ``build`` returns a ``sympy.Matrix`` (stacked as matrices) or an expression.
    """
    operands = [a] if b is None else [a, b[..., np.newaxis] if vector else b]
    batch = np.broadcast_shapes(*(o.shape[:-2] for o in operands))
    operands = [np.broadcast_to(o, batch + o.shape[-2:]) for o in operands]
    results = {}
    for index in np.ndindex(batch):
        results[index] = build(*(sympy.Matrix(o[index]) for o in operands))
    first = next(iter(results.values()))
    core = first.shape if isinstance(first, sympy.MatrixBase) else ()
    out = np.empty(batch + core, dtype=object)
    for index, value in results.items():
        out[index] = np.array(value.tolist(), dtype=object) if core else value
    if vector:
        out = out[..., 0]
    return out[()] if out.ndim == 0 else out


def sympy_linalg_functions(operand: Callable, is_symbolic: Callable, norm_module) -> dict[str, Callable]:
    """The ``linalg.*`` entries of the SymPy namespace.

    Parameters
    ----------
    operand : callable
        Turns an argument into a plain object array of exact numbers and expressions.
    is_symbolic : callable
        Whether an argument holds expressions; if none does, numpy computes.
    norm_module : object
        ``sum``, ``abs``, ``max``, ``sqrt``, ``where``, ``power``, ``positive`` of the
        SymPy namespace, for :func:`~diffcompare.ops.linalg.make_norms`.
    """

    def traced(op: str, symbolic: Callable) -> Callable:
        numeric = NUMPY_FUNCTIONS[op]

        def function(*args, **kwargs):
            if not any(map(is_symbolic, args)):
                return numeric(*args, **kwargs)
            return symbolic(*(np.asarray(operand(a), dtype=object) for a in args), **kwargs)

        function.__name__ = op.split(".")[1]
        return function

    def solve(a, b):
        return _per_matrix(lambda m, r: m.LUsolve(r), a, b, vector=b.ndim == 1)

    def inv(a):
        return _per_matrix(lambda m: m.LUsolve(sympy.eye(m.rows)), a)

    def det(a):
        return _per_matrix(lambda m: m.det(method="berkowitz"), a)

    def slogdet(a):
        determinant = np.asarray(det(a), dtype=object)
        sign = np.frompyfunc(lambda d: sympy.Piecewise((1, d > 0), (-1, d < 0), (0, True)), 1, 1)
        logabsdet = np.frompyfunc(lambda d: sympy.log(sympy.Abs(d)), 1, 1)
        return SlogdetResult(sign(determinant), logabsdet(determinant))

    def cholesky(a, *, upper=False):
        if upper:  # U = L(a^T)^T reads the upper triangle, as numpy's upper=True
            return matrix_transpose(unconjugated_cholesky(matrix_transpose(a), _sympy_sqrt))
        return unconjugated_cholesky(a, _sympy_sqrt)

    def eigh(a, UPLO="L"):  # noqa: N803 (numpy's spelling)
        if is_symbolic(a):
            refusal(
                TRACER,
                "linalg.eigh",
                "eigenvalues are roots of the characteristic polynomial, with no closed form a "
                "reference could be built from beyond 4x4 (differentiate with tape, forward or autograd)",
            )()
        return NUMPY_FUNCTIONS["linalg.eigh"](a, UPLO)

    def singular_value_norm(x, ordinal, axes, keepdims):
        if is_symbolic(x):
            refusal(TRACER, "linalg.norm", f"ord={ordinal!r} is a norm of singular values: no closed form")()
        return np.linalg.norm(x, ordinal, axes, keepdims)

    return {
        "linalg.solve": traced("linalg.solve", solve),
        "linalg.solve_triangular": traced("linalg.solve_triangular", solve_triangular),
        "linalg.inv": traced("linalg.inv", inv),
        "linalg.det": traced("linalg.det", det),
        "linalg.slogdet": traced("linalg.slogdet", slogdet),
        "linalg.cholesky": traced("linalg.cholesky", cholesky),
        "linalg.eigh": eigh,
        **make_norms(norm_module, singular_value_norm),
    }
