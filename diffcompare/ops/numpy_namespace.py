"""The plain numpy namespace: float64 forward evaluation (also the tape's forward)."""

from __future__ import annotations

import numpy as np

from .array_module import array_module_functions
from .namespace import Namespace

__all__ = ["NUMPY_FUNCTIONS", "numpy_namespace"]


def _asarray(obj, dtype=None):
    return np.asarray(obj, dtype=np.float64 if dtype is None else dtype)


NUMPY_FUNCTIONS = array_module_functions(np, _asarray)

numpy_namespace = Namespace("numpy", NUMPY_FUNCTIONS)
