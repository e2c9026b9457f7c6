"""Method ``"autograd"``: the autograd package's ``grad`` on the same source."""

from __future__ import annotations

from ...validation import check_scalar_output
from ..base import ExactMethod, PreparedGradient


class AutogradMethod(ExactMethod):
    name = "autograd"

    def evaluations(self, dim):
        return 1  # one traced evaluation, then autograd's backward pass

    def prepare(self, f, dim):
        import autograd  # imported when first used
        from autograd.tracer import getval, isbox

        from .namespace import as_traced, autograd_namespace

        def scalar_f(x):
            out = f(as_traced(x), autograd_namespace)
            value = getval(out)
            check_scalar_output(value, "autograd")
            if not isbox(out):
                # f does not depend on x (a constant, a count of comparisons): its gradient
                # is 0, which autograd returns for a float; it has no vector space for an
                # int or a bool.
                return float(value)
            if isbox(out._value):
                # A box holding boxes: numpy built an object array of autograd's boxes
                # (np.copy of a value that f took from autograd.numpy rather than xp), and
                # the derivatives through its elements would be lost.
                raise NotImplementedError(
                    "f applied a numpy function to a value autograd traces outside xp "
                    "(autograd.numpy called directly?): numpy built an object array of boxes "
                    "and the gradient would be wrong; write f with the operations of xp"
                )
            return out

        return PreparedGradient(autograd.grad(scalar_f))
