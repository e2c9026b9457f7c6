"""The plain numpy namespace: float64 forward evaluation (also the tape's forward)."""

from __future__ import annotations

import operator

import numpy as np

from ..namespace import Namespace
from .composites import make_logsumexp, make_sigmoid, make_softplus

__all__ = ["NUMPY_FUNCTIONS", "numpy_namespace"]


def _asarray(obj, dtype=None):
    return np.asarray(obj, dtype=np.float64 if dtype is None else dtype)


# fmt: off
NUMPY_FUNCTIONS = {
    "negative": np.negative, "abs": np.abs, "exp": np.exp, "expm1": np.expm1,
    "log": np.log, "log1p": np.log1p, "sqrt": np.sqrt,
    "sin": np.sin, "cos": np.cos, "tan": np.tan,
    "arcsin": np.arcsin, "arccos": np.arccos, "arctan": np.arctan,
    "sinh": np.sinh, "cosh": np.cosh, "tanh": np.tanh,
    "sigmoid": make_sigmoid(np), "softplus": make_softplus(np),
    "add": np.add, "subtract": np.subtract, "multiply": np.multiply,
    "divide": np.divide, "power": np.power,
    "maximum": np.maximum, "minimum": np.minimum, "where": np.where,
    "sum": np.sum, "mean": np.mean, "max": np.max, "logsumexp": make_logsumexp(np),
    "matmul": np.matmul, "getitem": operator.getitem,
    "reshape": np.reshape, "transpose": np.transpose,
    "concatenate": np.concatenate, "stack": np.stack,
    "asarray": _asarray, "zeros": np.zeros, "ones": np.ones, "arange": np.arange,
    "eye": np.eye,
}
# fmt: on

numpy_namespace = Namespace("numpy", NUMPY_FUNCTIONS)
