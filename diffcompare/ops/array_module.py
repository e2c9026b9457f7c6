"""The operation table of a numpy-like array module, built once for numpy and autograd.

``autograd.numpy`` mirrors numpy's names, so one builder serves both backends; the
operations numpy lacks (sigmoid, softplus: see their rows; logsumexp here) are stable
formulas written with the module's own primitives, so autograd differentiates exactly
the formula numpy evaluates.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from types import ModuleType

import numpy as np

from .linalg import linalg_functions
from .structural import make_log_softmax
from .table import OPS


def make_logsumexp(m: ModuleType) -> Callable:
    # Shifting by the maximum keeps every exp() in [0, 1]; the shift cancels exactly in
    # the mathematics, so its derivative contributes nothing but rounding.
    def logsumexp(x, axis=None, keepdims=False):
        shift = m.max(x, axis=axis, keepdims=True)
        out = m.log(m.sum(m.exp(x - shift), axis=axis, keepdims=True)) + shift
        if keepdims:
            return out
        return m.reshape(out, m.shape(m.sum(x, axis=axis)))

    return logsumexp


def _spelled(spelling, m: ModuleType) -> Callable:
    """An elementwise row's function in module ``m``: its name there, or its maker."""
    return getattr(m, spelling) if isinstance(spelling, str) else spelling(m)


def array_module_functions(m: ModuleType, asarray: Callable) -> dict[str, Callable]:
    """Every operation of :mod:`diffcompare.ops` taken from array module ``m``.

    Elementwise operations come from their rows' numpy spelling; constructors other
    than ``asarray`` always come from numpy: they build constants.
    """
    # fmt: off
    return {
        **{name: _spelled(spec.array, m) for name, spec in OPS.items() if spec.array is not None},
        "where": m.where,
        "sum": m.sum, "mean": m.mean, "max": m.max, "logsumexp": make_logsumexp(m),
        "matmul": m.matmul, "getitem": operator.getitem,
        "reshape": m.reshape, "transpose": m.transpose,
        "concatenate": m.concatenate, "stack": m.stack,
        "asarray": asarray, "zeros": np.zeros, "ones": np.ones, "arange": np.arange,
        "eye": np.eye,
        # linear algebra (xp.linalg)
        **linalg_functions(m),
        # reductions, scans and shape operations
        "log_softmax": make_log_softmax(m), "prod": m.prod, "cumsum": m.cumsum,
        "einsum": m.einsum, "sort": m.sort,
    }
    # fmt: on
