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
from .structural import einsum_arguments, einsum_spec
from .table import OPS
from .traced import TracedArray

__all__ = ["holds_traced", "stack_lists", "traced_functions"]


def _holds_traced(obj) -> bool:
    if isinstance(obj, TracedArray):
        return True
    return isinstance(obj, (list, tuple)) and any(_holds_traced(item) for item in obj)


def holds_traced(obj) -> bool:
    """Whether ``obj`` is a traced value or a (nested) list or tuple holding one."""
    return _holds_traced(obj)


def stack_lists(args: tuple, asarray: Callable) -> tuple:
    """``args`` with every list or tuple made an array by ``asarray`` (traced ones stacked)."""
    return tuple(asarray(arg) if isinstance(arg, (list, tuple)) else arg for arg in args)


def traced_functions(apply: Callable, apply_stacks_lists: bool = False) -> dict[str, Callable]:
    """Every operation of :mod:`diffcompare.ops` recorded through ``apply(op, *args)``.

    numpy reads a list or tuple holding traced values as the array they stack to
    (``np.mean([a, a + 2.0])``): so does every operation, on every argument.  Each
    operation checks its arguments for such lists before calling ``apply``, unless
    ``apply_stacks_lists``: then ``apply`` does it (with :func:`holds_traced` and
    :func:`stack_lists`) in the loop it runs over the arguments anyway, and each
    operation is ``apply`` with the name bound, one call less per recorded operation.
    """

    def concatenate(arrays, axis=0):
        return apply("concatenate", *arrays, axis=axis)

    def stack(arrays, axis=0):
        return apply("stack", *arrays, axis=axis)

    def einsum(*args, optimize=False):
        # The subscripts are a parameter, each operand an argument that may be traced;
        # optimize only reorders the contraction (the rules contract in their own order).
        subscripts, operands = einsum_arguments(args)
        einsum_spec(subscripts, tuple(len(getattr(o, "shape", np.shape(o))) for o in operands))
        return apply("einsum", *operands, subscripts=subscripts)

    def asarray(obj, dtype=None):
        if isinstance(obj, TracedArray):
            return obj
        if isinstance(obj, (list, tuple)) and _holds_traced(obj):
            return stack([asarray(item) for item in obj])
        return NUMPY_FUNCTIONS["asarray"](obj, dtype)

    def recorded(name):
        if apply_stacks_lists:
            return partial(apply, name)

        def operation(*args, **params):
            # A plain loop: a generator costs more than the check on one or two arguments.
            for arg in args:
                if isinstance(arg, (list, tuple)) and name != "getitem" and _holds_traced(arg):
                    # (an index is never an array of traced values)
                    return apply(name, *stack_lists(args, asarray), **params)
            return apply(name, *args, **params)

        operation.__name__ = name
        return operation

    return {
        **{name: recorded(name) for name in OPS},
        "concatenate": concatenate,
        "stack": stack,
        "einsum": einsum,
        "asarray": asarray,
        **{name: NUMPY_FUNCTIONS[name] for name in ("zeros", "ones", "arange", "eye")},
    }
