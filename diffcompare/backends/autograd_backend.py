"""The autograd namespace: autograd.numpy, so ``autograd.grad`` can trace a function."""

from __future__ import annotations

import operator

import autograd.numpy as anp
import numpy as np

from ..namespace import Namespace
from .composites import make_logsumexp, make_sigmoid, make_softplus

__all__ = ["autograd_namespace"]


def _asarray(obj, dtype=None):
    # Lists that hold traced values must go through autograd's array() to stay traced.
    return anp.array(obj) if dtype is None else anp.array(obj, dtype=dtype)


# fmt: off
AUTOGRAD_FUNCTIONS = {
    "negative": anp.negative, "abs": anp.abs, "exp": anp.exp, "expm1": anp.expm1,
    "log": anp.log, "log1p": anp.log1p, "sqrt": anp.sqrt,
    "sin": anp.sin, "cos": anp.cos, "tan": anp.tan,
    "arcsin": anp.arcsin, "arccos": anp.arccos, "arctan": anp.arctan,
    "sinh": anp.sinh, "cosh": anp.cosh, "tanh": anp.tanh,
    "sigmoid": make_sigmoid(anp), "softplus": make_softplus(anp),
    "add": anp.add, "subtract": anp.subtract, "multiply": anp.multiply,
    "divide": anp.divide, "power": anp.power,
    "maximum": anp.maximum, "minimum": anp.minimum, "where": anp.where,
    "sum": anp.sum, "mean": anp.mean, "max": anp.max, "logsumexp": make_logsumexp(anp),
    "matmul": anp.matmul, "getitem": operator.getitem,
    "reshape": anp.reshape, "transpose": anp.transpose,
    "concatenate": anp.concatenate, "stack": anp.stack,
    "asarray": _asarray, "zeros": np.zeros, "ones": np.ones, "arange": np.arange,
    "eye": np.eye,
}
# fmt: on

autograd_namespace = Namespace("autograd", AUTOGRAD_FUNCTIONS)
