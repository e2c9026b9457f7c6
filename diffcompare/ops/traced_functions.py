"""The operation table of an engine that traces values (the tape, dual numbers).

Every operation is one call of the engine's ``apply``; array-sequence operations pass
their arrays as separate arguments (each may carry a derivative), ``asarray`` of a
list that holds traced values stacks them, and the other constructors build plain
numpy constants.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import numpy as np

from .numpy_namespace import NUMPY_FUNCTIONS
from .structural import einsum_spec
from .table import OPS
from .traced import TracedArray

__all__ = ["traced_functions"]


def _holds_traced(obj) -> bool:
    if isinstance(obj, TracedArray):
        return True
    return isinstance(obj, (list, tuple)) and any(_holds_traced(item) for item in obj)


def traced_functions(apply: Callable) -> dict[str, Callable]:
    """Every operation of :mod:`diffcompare.ops` recorded through ``apply(op, *args)``."""

    def concatenate(arrays, axis=0):
        return apply("concatenate", *arrays, axis=axis)

    def stack(arrays, axis=0):
        return apply("stack", *arrays, axis=axis)

    def einsum(subscripts, *operands, optimize=False):
        # The subscripts are a parameter, each operand an argument that may be traced;
        # optimize only reorders the contraction (the rules contract in their own order).
        einsum_spec(subscripts, tuple(len(getattr(o, "shape", np.shape(o))) for o in operands))
        return apply("einsum", *operands, subscripts=subscripts)

    def asarray(obj, dtype=None):
        if isinstance(obj, TracedArray):
            return obj
        if isinstance(obj, (list, tuple)) and _holds_traced(obj):
            return stack([asarray(item) for item in obj])
        return NUMPY_FUNCTIONS["asarray"](obj, dtype)

    return {
        **{name: partial(apply, name) for name in OPS},
        "concatenate": concatenate,
        "stack": stack,
        "einsum": einsum,
        "asarray": asarray,
        **{name: NUMPY_FUNCTIONS[name] for name in ("zeros", "ones", "arange", "eye")},
    }
