"""Method ``"autograd"``: the autograd package's ``grad`` on the same source."""

from __future__ import annotations

from ...validation import check_scalar_output
from ..base import PreparedGradient


class AutogradMethod:
    name = "autograd"
    family = "exact"
    # Rounding only: a few ulps of the largest component after a few dozen operations.
    accuracy = 1e-14
    requires = None

    def evaluations(self, dim):
        return 1  # one traced evaluation, then autograd's backward pass

    def prepare(self, f, dim):
        import autograd  # imported when first used
        from autograd.tracer import getval

        from .namespace import autograd_namespace

        def scalar_f(x):
            out = f(x, autograd_namespace)
            check_scalar_output(getval(out), "autograd")
            return out

        return PreparedGradient(autograd.grad(scalar_f))
