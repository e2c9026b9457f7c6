"""Method ``"symbolic"``: SymPy closed forms compiled to numpy."""

from __future__ import annotations

from ..base import ClosedFormMethod, PreparedGradient


class SymbolicMethod(ClosedFormMethod):
    name = "symbolic"

    def prepare(self, f, dim):
        from .gradient import symbolic_gradient  # SymPy: imported when first used

        compiled = symbolic_gradient(f, dim)
        return PreparedGradient(compiled, {"expr_ops": compiled.ops, "cse_ops": compiled.cse_ops})
