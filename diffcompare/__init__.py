"""diffcompare: symbolic and automatic differentiation side by side.

Every test function is written once, as ``f(x, xp)`` against an array namespace, and
differentiated by SymPy (``"symbolic"``, and ``"symbolic_vector"`` with one symbol per
slice), SymEngine (``"symengine"``, optional), symbolically on whole arrays
(``"symbolic_array"``, see :func:`symbolic_array_code`), the autograd package (``"autograd"``),
diffcompare's own reverse-mode tape (``"tape"``), forward-mode dual numbers
(``"forward"``), central differences (``"central"``), the complex step
(``"complex_step"``) and Richardson-extrapolated differences (``"richardson"``);
accuracy is measured against a 50-digit reference.  Beyond the gradient,
:func:`jacobian`, :func:`jvp`, :func:`vjp`, :func:`hessian` and :func:`hvp` take the same
``f(x, xp)``, with their own 50-digit truth (:func:`reference_jacobian`,
:func:`reference_hessian`).  :func:`check_grad` and
:func:`assert_grad_correct` turn the comparison into an oracle for hand-written
gradients.

>>> import diffcompare
>>> g = diffcompare.grad(lambda x, xp: xp.sum(xp.tanh(x)), method="tape")
>>> g([0.0, 20.0])
array([1.0000000e+00, 1.6993417e-17])
"""

from .lazy import lazy_attributes

__version__ = "0.1.0"

# Public name -> the module that defines it.  Nothing is imported until a name is first
# used (PEP 562), so ``import diffcompare`` and the pytest plugin load no SymPy, pandas,
# autograd, mpmath or matplotlib for a user's unrelated code.
_PUBLIC = {
    "assert_jvp_correct": "oracle.products",
    "assert_vjp_correct": "oracle.products",
    "check_jvp": "oracle.products",
    "check_vjp": "oracle.products",
    "check_jvp_vjp": "oracle.products",
    "assert_hessian_correct": "oracle.second_order",
    "assert_hvp_correct": "oracle.second_order",
    "check_hessian": "oracle.second_order",
    "check_hvp": "oracle.second_order",
    "GradCheckResult": "oracle.result",
    "GradientError": "truth.accuracy",
    "HardPoint": "suite.records",
    "HarnessOptions": "harness.run",
    "METHODS": "methods",
    "Namespace": "ops.namespace",
    "ReferenceGradient": "truth.reference",
    "SuiteFunction": "suite.records",
    "SymbolicGradient": "methods.symbolic.gradient",
    "UnsupportedOperationError": "ops.namespace",
    "assert_grad_correct": "oracle.check",
    "assert_jacobian_correct": "oracle.check",
    "central_difference": "methods.central.difference",
    "check_grad": "oracle.check",
    "check_jacobian": "oracle.check",
    "compare": "harness.compare",
    "directional_derivative": "truth.directional",
    "complex_step": "methods.complex_step.step",
    "grad": "gradient",
    "gradient_error": "truth.accuracy",
    "hessian": "operators.hessian",
    "hvp": "operators.hvp",
    "jacobian": "operators.jacobian",
    "jvp": "operators.jvp",
    "normwise_relative_error": "truth.accuracy",
    "reference_gradient": "truth.reference",
    "reference_hessian": "truth.operators",
    "reference_jacobian": "truth.operators",
    "relative_error": "truth.accuracy",
    "richardson_difference": "methods.richardson.ladder",
    "run_suite": "harness.run",
    "suite": "suite.records",
    "symbolic_array_code": "methods.symbolic_array.method",
    "symbolic_gradient": "methods.symbolic.gradient",
    "ulp_error": "truth.accuracy",
    "vjp": "operators.vjp",
    "workloads": "suite.workloads",
    "write_reports": "harness.report",
}

__all__ = sorted(_PUBLIC)


__getattr__, __dir__ = lazy_attributes(__name__, _PUBLIC, globals())
