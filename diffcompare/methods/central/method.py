"""Method ``"central"``: central finite differences (2 n evaluations of f)."""

from __future__ import annotations

from ..base import DifferenceMethod, PreparedGradient
from .difference import central_difference


class CentralMethod(DifferenceMethod):
    name = "central"
    # Truncation ~ eps^(2/3) |third derivative| ~ 1e-10 at the step cbrt(eps) max(1, |x|),
    # with room for curvature.
    accuracy = 1e-8

    def evaluations(self, dim):
        return 2 * dim

    def prepare(self, f, dim):
        return PreparedGradient(lambda x: central_difference(f, x), {"f_evals": self.evaluations(dim)})
