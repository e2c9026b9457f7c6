"""Method ``"symbolic"``: SymPy closed forms compiled to numpy."""

from __future__ import annotations

from ..base import PreparedGradient
from .gradient import symbolic_gradient


class SymbolicMethod:
    name = "symbolic"

    def prepare(self, f, dim):
        compiled = symbolic_gradient(f, dim)
        return PreparedGradient(compiled, {"expr_ops": compiled.ops, "cse_ops": compiled.cse_ops})
