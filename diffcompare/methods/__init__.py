"""The registry of differentiation methods: one module per method, one line here each."""

from __future__ import annotations

from .autograd.method import AutogradMethod
from .base import GradientMethod, PreparedGradient
from .central.method import CentralMethod
from .complex_step.method import ComplexStepMethod
from .forward.method import ForwardMethod
from .richardson.method import RichardsonMethod
from .symbolic.method import SymbolicMethod
from .symbolic_array.method import SymbolicArrayMethod
from .symbolic_vector.method import SymbolicVectorMethod
from .symengine.method import SymEngineMethod
from .tape.method import TapeMethod

__all__ = ["METHODS", "GradientMethod", "PreparedGradient", "get_method"]

METHODS: dict[str, GradientMethod] = {
    "symbolic": SymbolicMethod(),
    "symbolic_vector": SymbolicVectorMethod(),
    "symengine": SymEngineMethod(),
    "symbolic_array": SymbolicArrayMethod(),
    "autograd": AutogradMethod(),
    "tape": TapeMethod(),
    "central": CentralMethod(),
    "forward": ForwardMethod(),
    "complex_step": ComplexStepMethod(),
    "richardson": RichardsonMethod(),
}


def get_method(name: str) -> GradientMethod:
    """Return the method registered as ``name``.

    Raises
    ------
    TypeError
        If ``name`` is not a string.
    ValueError
        If no method has that name.
    """
    if not isinstance(name, str):
        raise TypeError(f"method must be a string; got {type(name).__name__}")
    try:
        return METHODS[name]
    except KeyError:
        raise ValueError(
            f"unknown method {name!r}; expected one of {', '.join(map(repr, METHODS))}"
        ) from None
