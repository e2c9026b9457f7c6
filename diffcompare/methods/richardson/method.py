"""Method ``"richardson"``: Richardson-extrapolated central differences with an error estimate."""

from __future__ import annotations

from ..base import DifferenceMethod, PreparedGradient
from .ladder import DEFAULT_LEVELS, richardson_difference


class RichardsonMethod(DifferenceMethod):
    name = "richardson"
    # The Neville tableau cancels the truncation terms down to about 1e-13 on smooth functions.
    accuracy = 1e-12

    def evaluations(self, dim):
        # the most: f(x) once, then two per row and coordinate (the tableau may stop early,
        # when rounding takes over)
        return 2 * DEFAULT_LEVELS * dim + 1

    def prepare(self, f, dim):
        def with_error(x):
            return richardson_difference(f, x)

        def gradient(x):
            return richardson_difference(f, x)[0]

        return PreparedGradient(gradient, {"f_evals": self.evaluations(dim)}, with_error=with_error)
