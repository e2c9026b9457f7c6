"""The gradient-correctness oracle: verifiers to call from tests.

>>> import numpy as np
>>> from diffcompare.oracle import check_grad
>>> check_grad(lambda x: np.sum(np.exp(x)), np.exp, [0.0, 1.0]).passed
True
"""

from ..lazy import lazy_attributes

# Loaded on first use (PEP 562): the pytest plugin lives in this package and must not
# make an unrelated test run import numpy and the oracle.
_PUBLIC = {
    "assert_jvp_correct": "products",
    "assert_vjp_correct": "products",
    "check_jvp": "products",
    "check_vjp": "products",
    "check_jvp_vjp": "products",
    "assert_hessian_correct": "second_order",
    "assert_hvp_correct": "second_order",
    "check_hessian": "second_order",
    "check_hvp": "second_order",
    "GradCheckResult": "result",
    "Mismatch": "result",
    "ParameterBlocks": "blocks",
    # property tests: hypothesis is imported when these are called, not before
    "points": "hypothesis",
    "require_conclusive": "hypothesis",
    "assert_grad_correct": "check",
    "assert_jacobian_correct": "check",
    "check_grad": "check",
    "check_jacobian": "check",
}

__all__ = sorted(_PUBLIC)


__getattr__, __dir__ = lazy_attributes(__name__, _PUBLIC, globals())
