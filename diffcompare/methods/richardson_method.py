"""Method ``"richardson"``: Richardson-extrapolated central differences with an error estimate."""

from __future__ import annotations

from ..richardson import DEFAULT_LEVELS, richardson_difference
from .base import PreparedGradient


class RichardsonMethod:
    name = "richardson"

    def prepare(self, f, dim):
        def with_error(x):
            return richardson_difference(f, x)

        def gradient(x):
            return richardson_difference(f, x)[0]

        # the most evaluations (f(x) once, then two per row and coordinate): the tableau
        # may stop early, when rounding takes over
        return PreparedGradient(gradient, {"f_evals": 2 * DEFAULT_LEVELS * dim + 1}, with_error=with_error)
