"""diffcompare: symbolic and automatic differentiation side by side.

Every test function is written once, as ``f(x, xp)`` against an array namespace, and
differentiated by SymPy (``"symbolic"``), the autograd package (``"autograd"``),
diffcompare's own reverse-mode tape (``"tape"``) and central differences
(``"central"``); accuracy is measured against a 50-digit reference.

>>> import diffcompare
>>> g = diffcompare.grad(lambda x, xp: xp.sum(xp.tanh(x)), method="tape")
>>> g([0.0, 20.0])
array([1.0000000e+00, 1.6993417e-17])
"""

from .accuracy import GradientError, gradient_error, normwise_relative_error, relative_error, ulp_error
from .finite_difference import central_difference
from .gradient import grad
from .methods import METHODS
from .namespace import Namespace, UnsupportedOperationError
from .records import HardPoint, SuiteFunction, suite
from .reference import ReferenceGradient, reference_gradient
from .symbolic import SymbolicGradient, symbolic_gradient

__version__ = "0.1.0"

__all__ = [
    "GradientError",
    "HardPoint",
    "METHODS",
    "Namespace",
    "ReferenceGradient",
    "SuiteFunction",
    "SymbolicGradient",
    "UnsupportedOperationError",
    "central_difference",
    "grad",
    "gradient_error",
    "normwise_relative_error",
    "reference_gradient",
    "relative_error",
    "suite",
    "symbolic_gradient",
    "ulp_error",
]
