"""Method ``"symbolic_vector"``: SymPy on whole slices (setup independent of n), compiled to numpy."""

from __future__ import annotations

from ..base import ClosedFormMethod, PreparedGradient


class SymbolicVectorMethod(ClosedFormMethod):
    name = "symbolic_vector"

    def prepare(self, f, dim):
        from .gradient import symbolic_vector_gradient  # SymPy: imported when first used

        compiled = symbolic_vector_gradient(f, dim)
        details = {
            "expr_ops": compiled.ops,
            "cse_ops": compiled.cse_ops,
            "slices": len(compiled.trace.positions),
            "reductions": len(compiled.trace.reductions),
        }
        return PreparedGradient(compiled, details)
