"""Method ``"complex_step"``: ``Im f(x + i h e_k) / h`` (n evaluations of f, and one probe)."""

from __future__ import annotations

from ..base import ExactMethod, PreparedGradient
from .step import complex_step


class ComplexStepMethod(ExactMethod):  # no subtraction, so no cancellation: rounding only
    name = "complex_step"

    def evaluations(self, dim):
        return dim + 1  # one per coordinate, and one probe along a random direction

    def prepare(self, f, dim):
        return PreparedGradient(lambda x: complex_step(f, x), {"f_evals": self.evaluations(dim)})
