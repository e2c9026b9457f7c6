"""Method ``"symbolic_array"``: array expressions differentiated symbolically, compiled to numpy.

Laue, Mitterreiter and Giesen ("On the equivalence of automatic and symbolic
differentiation", 2018; "A simple and efficient tensor calculus", AAAI 2020): with data
as shaped symbols and common subexpressions shared, reverse accumulation *on the
expression* gives a derivative as cheap as reverse mode's, and setup independent of n.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ...validation import as_point
from ..base import ClosedFormMethod, PreparedGradient

__all__ = ["SymbolicArrayCode", "SymbolicArrayMethod", "symbolic_array_code"]


@dataclass(frozen=True)
class SymbolicArrayCode:
    """The gradient of ``f`` as generated code.

    Attributes
    ----------
    numpy_source : str
        Straight-line numpy code, ``def gradient(x, c0, ...)``: one assignment per
        operation, the data arrays ``c0, c1, ...`` passed as arguments.
    latex : str
        The same lines in matrix notation (``\\bar{v}`` is an adjoint).
    cse_ops : int
        Operations in the code, after common subexpressions are shared.
    dag_nodes : int
        Nodes the trace and the derivative built (shared ones once).
    gradient : callable
        ``gradient(x) -> ndarray``: the compiled gradient.
    """

    numpy_source: str
    latex: str
    cse_ops: int
    dag_nodes: int
    gradient: Callable[[np.ndarray], np.ndarray]


def symbolic_array_code(f: Callable, dim: int) -> SymbolicArrayCode:
    """Trace ``f``, differentiate it on the array expression and generate its gradient's code.

    Parameters
    ----------
    f : callable
        ``f(x, xp)`` returning a scalar.
    dim : int
        Length of ``x``.

    Returns
    -------
    SymbolicArrayCode

    Raises
    ------
    TypeError
        If ``f`` is not callable or ``dim`` is not an integer.
    ValueError
        If ``dim`` is not positive, or ``f`` does not return a scalar.
    NotImplementedError
        If ``f`` uses a construct the method cannot follow (the message names it).

    Examples
    --------
    >>> code = symbolic_array_code(lambda x, xp: xp.sum(xp.exp(x)), 1000)
    >>> print(code.numpy_source.strip())
    def gradient(x):
        v1 = exp(x)
        return v1
    >>> code.gradient(np.zeros(1000))[:2]
    array([1., 1.])
    """
    from .codegen import generate
    from .differentiate import gradient_node
    from .graph import reachable
    from .trace import trace

    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)):
        raise TypeError(f"dim must be an integer; got {type(dim).__name__}")
    if dim < 1:
        raise ValueError(f"dim must be at least 1; got {dim}")
    dim = int(dim)
    traced = trace(f, dim)
    graph = traced.graph
    root = forward = None
    adjoints: dict = {}
    if traced.output is not None:
        root, adjoints = gradient_node(graph, traced.output)
        forward = {id(node) for node in reachable(traced.output)}
    if root is None:
        root = graph.zeros((dim,))
    generated = generate(root, graph.input, forward or set(), adjoints)
    compiled, constants = generated.function, generated.constants

    def gradient(x) -> np.ndarray:
        if not (
            type(x) is np.ndarray and x.dtype == np.float64 and x.shape == (dim,) and np.isfinite(x.sum())
        ):
            x = as_point(x, dim=dim)  # the full check, with its messages, off the common path
        grad = compiled(x, *constants)
        if (
            type(grad) is np.ndarray
            and grad.flags.writeable
            and grad.dtype == np.float64
            and grad.base is None
        ):
            return grad if grad is not x else grad.copy()
        return np.array(np.broadcast_to(grad, (dim,)), dtype=np.float64)

    return SymbolicArrayCode(generated.numpy_source, generated.latex, generated.cse_ops, len(graph), gradient)


def _tape_nodes(tape_size, f, point) -> int | None:
    """The tape's node count for ``f`` at ``point``; None where the tape cannot evaluate it there."""
    try:
        with np.errstate(all="ignore"):
            return tape_size(f, point)
    except np.linalg.LinAlgError:  # a matrix outside its domain at the trace point
        return None


class SymbolicArrayMethod(ClosedFormMethod):
    name = "symbolic_array"

    def prepare(self, f, dim):
        from ..tape.method import tape_size
        from .trace import trace_point

        code = symbolic_array_code(f, dim)
        details = {
            "cse_ops": code.cse_ops,
            "dag_nodes": code.dag_nodes,
            "tape_nodes": _tape_nodes(tape_size, f, trace_point(dim)),
        }
        return PreparedGradient(code.gradient, details)
