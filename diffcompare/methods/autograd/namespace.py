"""The autograd namespace: autograd.numpy, so ``autograd.grad`` can trace a function."""

from __future__ import annotations

import autograd.numpy as anp
import numpy as np

from ...ops.array_module import array_module_functions
from ...ops.namespace import Namespace

__all__ = ["autograd_namespace"]


def _asarray(obj, dtype=None):
    # Lists that hold traced values must go through autograd's array() to stay traced.
    return anp.array(obj, dtype=np.float64 if dtype is None else dtype)


autograd_namespace = Namespace("autograd", array_module_functions(anp, _asarray))
