"""The interface every differentiation method shares: prepare once, then evaluate."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

__all__ = [
    "ClosedFormMethod",
    "DifferenceMethod",
    "ExactMethod",
    "FAMILIES",
    "GradientMethod",
    "PreparedGradient",
]


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
    checked : callable, optional
        For methods whose gradient evaluates ``f(x)`` itself: ``checked(x, check_value)``
        returns the gradient, calling ``check_value(value, x)`` on ``f(x)`` before
        differentiating, so that ``diffcompare.grad`` refuses a singular point without a
        second evaluation of ``f``.  ``f`` is evaluated with numpy's floating-point
        warnings off, as the separate check does.
    """

    gradient: Callable[[np.ndarray], np.ndarray]
    details: Mapping[str, object] = field(default_factory=dict)
    with_error: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]] | None = None
    graph_size: Callable[[np.ndarray], int] | None = None
    checked: Callable[[np.ndarray, Callable], np.ndarray] | None = None


#: Method families: ``"exact"`` methods are exact in exact arithmetic (only rounding
#: separates them from the truth); ``"difference"`` methods truncate a Taylor series.
FAMILIES = ("exact", "difference")


class GradientMethod(Protocol):
    """A way to differentiate ``f(x, xp)``: the setup goes in :meth:`prepare`.

    The record's facts are read by the tests, the fuzzer's classifier and the reports,
    never repeated there.

    Attributes
    ----------
    name : str
        The registry name.
    family : str
        One of :data:`FAMILIES`.
    accuracy : float
        The normwise relative error the method stays within on smooth, well-conditioned
        functions (the suite's ordinary points): rounding for exact methods, truncation
        and rounding for differences.
    requires : str or None
        An optional package the method needs (``None``: only the dependencies).
    """

    name: str
    family: str
    accuracy: float
    requires: str | None

    def evaluations(self, dim: int) -> int:
        """Evaluations of ``f`` per gradient of a ``dim``-vector (0: a compiled gradient)."""
        ...

    def prepare(self, f: Callable, dim: int) -> PreparedGradient:
        """Do all per-function work (tracing, differentiation, compilation)."""
        ...


class ExactMethod:
    """The record facts every exact method shares (a base for method classes)."""

    family = "exact"
    # Rounding only: a few ulps of the largest component after a few dozen operations.
    accuracy = 1e-14
    requires: str | None = None


class ClosedFormMethod(ExactMethod):
    """An exact method that compiles a closed-form gradient: ``f`` is not called per gradient."""

    def evaluations(self, dim: int) -> int:
        return 0


class DifferenceMethod:
    """The record facts every difference method shares; each sets its own ``accuracy``."""

    family = "difference"
    requires: str | None = None
