"""The forward-mode namespace: every operation carries tangents on dual numbers."""

from __future__ import annotations

from functools import partial

from ..forward.dual import Dual, apply
from ..namespace import Namespace
from ..ops import OPS
from .numpy_backend import NUMPY_FUNCTIONS

__all__ = ["dual_namespace"]


def _concatenate(arrays, axis=0):
    return apply("concatenate", *arrays, axis=axis)


def _stack(arrays, axis=0):
    return apply("stack", *arrays, axis=axis)


def _holds_dual(obj) -> bool:
    if isinstance(obj, Dual):
        return True
    return isinstance(obj, (list, tuple)) and any(_holds_dual(item) for item in obj)


def _asarray(obj, dtype=None):
    if isinstance(obj, Dual):
        return obj
    if isinstance(obj, (list, tuple)) and _holds_dual(obj):
        return _stack([_asarray(item) for item in obj])
    return NUMPY_FUNCTIONS["asarray"](obj, dtype)


DUAL_FUNCTIONS = {
    **{name: partial(apply, name) for name in OPS},
    "concatenate": _concatenate,
    "stack": _stack,
    "asarray": _asarray,
    **{name: NUMPY_FUNCTIONS[name] for name in ("zeros", "ones", "arange", "eye")},
}

dual_namespace = Namespace("forward", DUAL_FUNCTIONS)
