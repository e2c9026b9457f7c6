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
        # Where f has no singular point (a total trace), the value its waves compute
        # stands in for the numpy check in diffcompare.grad; elsewhere SymPy may have
        # simplified a singularity away ((x - a) / (x - a) is 1) and numpy checks.
        checked = compiled.checked if compiled.total else None
        return PreparedGradient(compiled, details, checked=checked)
