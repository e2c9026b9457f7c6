"""diffcompare: symbolic and automatic differentiation side by side.

Every test function is written once, as ``f(x, xp)`` against an array namespace, and
differentiated by SymPy (``"symbolic"``, and ``"symbolic_vector"`` with one symbol per
slice), SymEngine (``"symengine"``, optional), the autograd package (``"autograd"``),
diffcompare's own reverse-mode tape (``"tape"``), forward-mode dual numbers
(``"forward"``), central differences (``"central"``), the complex step
(``"complex_step"``) and Richardson-extrapolated differences (``"richardson"``);
accuracy is measured against a 50-digit reference.  :func:`check_grad` and
:func:`assert_grad_correct` turn the comparison into an oracle for hand-written
gradients.

>>> import diffcompare
>>> g = diffcompare.grad(lambda x, xp: xp.sum(xp.tanh(x)), method="tape")
>>> g([0.0, 20.0])
array([1.0000000e+00, 1.6993417e-17])
"""

from .gradient import grad
from .harness.run import HarnessOptions, run_suite
from .methods import METHODS
from .methods.central.difference import central_difference
from .methods.complex_step.step import complex_step
from .methods.richardson.ladder import richardson_difference
from .methods.symbolic.gradient import SymbolicGradient, symbolic_gradient
from .ops.namespace import Namespace, UnsupportedOperationError
from .oracle import GradCheckResult, assert_grad_correct, assert_jacobian_correct, check_grad, check_jacobian
from .suite.records import HardPoint, SuiteFunction, suite
from .truth.accuracy import GradientError, gradient_error, normwise_relative_error, relative_error, ulp_error
from .truth.reference import ReferenceGradient, reference_gradient

__version__ = "0.1.0"

__all__ = [
    "GradCheckResult",
    "GradientError",
    "HardPoint",
    "HarnessOptions",
    "METHODS",
    "Namespace",
    "ReferenceGradient",
    "SuiteFunction",
    "SymbolicGradient",
    "UnsupportedOperationError",
    "assert_grad_correct",
    "assert_jacobian_correct",
    "central_difference",
    "check_grad",
    "check_jacobian",
    "complex_step",
    "grad",
    "gradient_error",
    "normwise_relative_error",
    "reference_gradient",
    "relative_error",
    "richardson_difference",
    "run_suite",
    "suite",
    "symbolic_gradient",
    "ulp_error",
]
