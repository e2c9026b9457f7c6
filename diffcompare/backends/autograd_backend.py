"""The autograd namespace: autograd.numpy, so ``autograd.grad`` can trace a function."""

from __future__ import annotations

import autograd.numpy as anp
import numpy as np

from ..namespace import Namespace
from .array_module import array_module_functions

__all__ = ["autograd_namespace"]


def _asarray(obj, dtype=None):
    # Lists that hold traced values must go through autograd's array() to stay traced.
    return anp.array(obj, dtype=np.float64 if dtype is None else dtype)


def _transpose(x, axes=None):
    # autograd's VJP of transpose inverts the permutation with argsort, which orders
    # negative axes as if they were the smallest ((-1, 0, 1) as the identity): hand it
    # the same permutation with non-negative axes.
    if axes is not None:
        axes = tuple(axis % anp.ndim(x) for axis in axes)
    return anp.transpose(x, axes)


autograd_namespace = Namespace("autograd", {**array_module_functions(anp, _asarray), "transpose": _transpose})
