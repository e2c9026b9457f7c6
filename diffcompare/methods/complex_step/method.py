"""Method ``"complex_step"``: ``Im f(x + i h e_k) / h`` (n evaluations of f, and one probe)."""

from __future__ import annotations

from ..base import PreparedGradient
from .step import complex_step


class ComplexStepMethod:
    name = "complex_step"

    def prepare(self, f, dim):
        return PreparedGradient(lambda x: complex_step(f, x), {"f_evals": dim + 1})
