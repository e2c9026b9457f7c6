"""The gradient-correctness oracle: verifiers to call from tests.

>>> import numpy as np
>>> from diffcompare.oracle import check_grad
>>> check_grad(lambda x: np.sum(np.exp(x)), np.exp, [0.0, 1.0]).passed
True
"""

from .check import assert_grad_correct, assert_jacobian_correct, check_grad, check_jacobian
from .result import GradCheckResult, Mismatch

__all__ = [
    "GradCheckResult",
    "Mismatch",
    "assert_grad_correct",
    "assert_jacobian_correct",
    "check_grad",
    "check_jacobian",
]
