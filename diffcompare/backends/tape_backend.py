"""The tape namespace: every operation is recorded on diffcompare's own tape."""

from __future__ import annotations

from functools import partial

from ..namespace import Namespace
from ..ops import OPS
from ..tape.engine import Node, apply
from .numpy_backend import NUMPY_FUNCTIONS

__all__ = ["tape_namespace"]


def _concatenate(arrays, axis=0):
    return apply("concatenate", *arrays, axis=axis)


def _stack(arrays, axis=0):
    return apply("stack", *arrays, axis=axis)


def _asarray(obj, dtype=None):
    if isinstance(obj, Node):
        return obj
    if isinstance(obj, (list, tuple)) and any(isinstance(item, Node) for item in obj):
        return _stack([_asarray(item) for item in obj])
    return NUMPY_FUNCTIONS["asarray"](obj, dtype)


TAPE_FUNCTIONS = {
    **{name: partial(apply, name) for name in OPS},
    "concatenate": _concatenate,
    "stack": _stack,
    "asarray": _asarray,
    **{name: NUMPY_FUNCTIONS[name] for name in ("zeros", "ones", "arange", "eye")},
}

tape_namespace = Namespace("tape", TAPE_FUNCTIONS)
