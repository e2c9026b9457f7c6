"""Method ``"symbolic"``: SymPy closed forms compiled to numpy."""

from __future__ import annotations

from ..base import ExactMethod, PreparedGradient


class SymbolicMethod(ExactMethod):
    name = "symbolic"

    def evaluations(self, dim):
        return 0  # a compiled closed form: f is not called

    def prepare(self, f, dim):
        from .gradient import symbolic_gradient  # SymPy: imported when first used

        compiled = symbolic_gradient(f, dim)
        return PreparedGradient(compiled, {"expr_ops": compiled.ops, "cse_ops": compiled.cse_ops})
