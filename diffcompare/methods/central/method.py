"""Method ``"central"``: central finite differences (2 n evaluations of f)."""

from __future__ import annotations

from ..base import PreparedGradient
from .difference import central_difference


class CentralMethod:
    name = "central"

    def prepare(self, f, dim):
        return PreparedGradient(lambda x: central_difference(f, x), {"f_evals": 2 * dim})
