"""Method ``"symengine"``: SymPy trace, SymEngine derivative, compiled by ``symengine.Lambdify``."""

from __future__ import annotations

from ..base import ClosedFormMethod, PreparedGradient


class SymEngineMethod(ClosedFormMethod):
    name = "symengine"
    requires = "symengine"

    def prepare(self, f, dim):
        from .gradient import symengine_gradient  # SymPy: imported when first used

        compiled = symengine_gradient(f, dim)
        details = {"symengine_ops": compiled.ops, "terms": compiled.terms, "backend": compiled.backend}
        return PreparedGradient(compiled, details)
