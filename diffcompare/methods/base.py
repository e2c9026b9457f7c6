"""The interface every differentiation method shares: prepare once, then evaluate."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

__all__ = ["GradientMethod", "PreparedGradient"]


@dataclass(frozen=True)
class PreparedGradient:
    """A gradient function ready to evaluate, with what preparing it produced.

    Attributes
    ----------
    gradient : callable
        Maps a float64 vector of the prepared length to the gradient.
    details : mapping
        Method-specific sizes: ``expr_ops`` and ``cse_ops`` (symbolic), ``f_evals``
        (evaluations of f per gradient, for difference methods).
    with_error : callable, optional
        For methods that estimate their own error: maps ``x`` to
        ``(gradient, error_estimate)``, both arrays of the shape of ``x``.
    graph_size : callable, optional
        For methods that record a graph: maps ``x`` to its number of nodes.
    """

    gradient: Callable[[np.ndarray], np.ndarray]
    details: Mapping[str, object] = field(default_factory=dict)
    with_error: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]] | None = None
    graph_size: Callable[[np.ndarray], int] | None = None


class GradientMethod(Protocol):
    """A way to differentiate ``f(x, xp)``: the setup goes in :meth:`prepare`."""

    name: str

    def prepare(self, f: Callable, dim: int) -> PreparedGradient:
        """Do all per-function work (tracing, differentiation, compilation)."""
        ...
