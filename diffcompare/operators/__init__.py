"""Operators beyond the gradient: Jacobians, JVPs, VJPs, Hessians and HVPs.

One module per operator; each holds one table from method name to implementation
(``prepare(f, n)`` returning the evaluator, run once per dimension), so adding a method
to an operator is one function and one table row.  The 50-digit truth for these
operators is in :mod:`diffcompare.truth.operators`.
"""

from .hessian import HESSIAN_METHODS, hessian
from .hvp import HVP_METHODS, hvp
from .jacobian import JACOBIAN_METHODS, jacobian
from .jvp import JVP_METHODS, jvp
from .vjp import VJP_METHODS, vjp

__all__ = [
    "HESSIAN_METHODS",
    "HVP_METHODS",
    "JACOBIAN_METHODS",
    "JVP_METHODS",
    "VJP_METHODS",
    "hessian",
    "hvp",
    "jacobian",
    "jvp",
    "vjp",
]
