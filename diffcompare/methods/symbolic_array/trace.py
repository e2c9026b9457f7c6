"""Tracing ``f(x, xp)`` into the expression DAG: arrays stay arrays, data stays named.

:class:`SymArray` is a :class:`~diffcompare.ops.traced.TracedArray` (numpy's operators
and the xp function table come through one ``apply``) whose value is a DAG node.  Each
node carries its value at a fixed trace point, so shapes and Python questions about
shapes are answered as for numpy; a comparison of traced values, though, is a symbolic
condition (a node), so ``where(x > 0, ...)`` and ``(x > 0) * x`` stay right at every
other point, and a Python ``if`` on one is refused by name.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ...ops.namespace import NOT_AN_OPERATION, Namespace, unsupported
from ...ops.table import OPS, Refused
from ...ops.traced import TracedArray, value_of
from ...ops.traced_functions import traced_functions
from ...validation import check_callable, check_scalar_output
from ..tape.engine import FORWARD
from ..tape.rules import RULES, Outputs
from .graph import COMPARISONS, Graph, Node, Params

__all__ = ["ENGINE", "SymArray", "Trace", "symbolic_array_namespace", "trace"]

ENGINE = "symbolic_array"

#: Operations that take any number of array arguments.
_VARIADIC = frozenset(("concatenate", "stack", "einsum"))
#: Operations with two array arguments that are not elementwise.
_TWO_ARRAYS = frozenset(("matmul", "linalg.solve", "linalg.solve_triangular"))

#: The parameters of the operations whose adjoints read them, in numpy's order, with
#: numpy's defaults: ``xp.sum(x, 0)`` and ``x.sum(axis=0)`` become one node.
# fmt: off
_PARAMETERS: dict[str, tuple[tuple[str, Any], ...]] = {
    "sum":         (("axis", None), ("keepdims", False)),
    "mean":        (("axis", None), ("keepdims", False)),
    "max":         (("axis", None), ("keepdims", False)),
    "logsumexp":   (("axis", None), ("keepdims", False)),
    "prod":        (("axis", None), ("keepdims", False)),
    "log_softmax": (("axis", -1),),
    "reshape":     (("shape", None),),
    "transpose":   (("axes", None),),
    "concatenate": (("axis", 0),),
    "stack":       (("axis", 0),),
}
# fmt: on

_CONTROL_FLOW = (
    "Python control flow on a traced comparison would fix one branch for every point; "
    "write the branches with xp.where"
)


def _array_count(op: str, args: tuple) -> int:
    if op in _VARIADIC:
        return len(args)
    if op in _TWO_ARRAYS:
        return 2
    if OPS[op].kind in ("unary", "binary", "select"):
        return len(args)
    return 1


def _params(op: str, extras: tuple, kwargs: dict) -> Params:
    names = _PARAMETERS.get(op)
    if names is None:
        return Params.of(extras, **kwargs)
    named = dict(names)
    for (name, _), value in zip(names, extras, strict=False):
        if name in kwargs:
            raise TypeError(f"{op} got multiple values for argument {name!r}")
        kwargs[name] = value
    if len(extras) > len(names):
        raise TypeError(f"{op} takes at most {len(names)} parameters; got {len(extras)}")
    unknown = set(kwargs) - set(named)
    if unknown:
        raise TypeError(f"{op} got unexpected keyword arguments {sorted(unknown)}")
    named.update(kwargs)
    if isinstance(named.get("axis"), list):
        named["axis"] = tuple(named["axis"])
    return Params.of(**named)


def apply(op: str, *args: Any, **kwargs: Any) -> Any:
    """Add ``op(*args)`` to the DAG of the traced arguments; plain numpy if none is traced."""
    graph = next((a.graph for a in args if isinstance(a, SymArray)), None)
    if op not in OPS:
        raise unsupported(ENGINE, op, NOT_AN_OPERATION)
    if graph is None:  # nothing traced: a constant, computed now
        return FORWARD[op](*args, **kwargs)
    if op == "getitem":
        items = args[1] if isinstance(args[1], tuple) else (args[1],)
        if any(isinstance(item, SymArray) for item in items):
            raise unsupported(
                ENGINE, "getitem", "an index computed from x has no derivative; index with constants"
            )
        key, arrays = graph.key(args[1])
        node = graph.make("getitem", args[0].node, *arrays, params=Params.of(key=key))
        return SymArray(node, graph)
    count = _array_count(op, args)
    arrays = [a.node if isinstance(a, SymArray) else graph.constant(a) for a in args[:count]]
    spec = OPS[op]
    if spec.derivative is not None:
        for factor, node in zip(spec.derivative, arrays, strict=False):
            if isinstance(factor, Refused) and node.differentiable:
                raise unsupported(
                    ENGINE, op, f"no derivative with respect to {factor.argument}: {factor.reason}"
                )
    node = graph.make(op, *arrays, params=_params(op, args[count:], dict(kwargs)))
    if type(RULES.get(op)) is Outputs:
        parts = (
            SymArray(graph.make("result", node, params=Params.of(index=i)), graph)
            for i in range(len(node.value))
        )
        return type(node.value)(*parts)
    return SymArray(node, graph) if node.varies else node.value


class SymArray(TracedArray):
    """An array-valued expression: a DAG node, with its value at the trace point."""

    __slots__ = ("node", "graph")
    engine, loses, rules = ENGINE, "lose the expression in x", RULES

    def __init__(self, node: Node, graph: Graph):
        self.node = node
        self.graph = graph

    @property
    def value(self):
        return self.node.value

    def __repr__(self):
        return f"SymArray({self.node!r})"

    def _compare(self, op: str, other: Any, swapped: bool = False) -> Any:
        other_node = other.node if isinstance(other, SymArray) else self.graph.constant(other)
        args = (other_node, self.node) if swapped else (self.node, other_node)
        return SymArray(self.graph.make(op, *args), self.graph)

    # comparisons of traced values are conditions in the expression, not booleans
    def __lt__(self, other):
        return self._compare("less", other)  # noqa: E704

    def __le__(self, other):
        return self._compare("less_equal", other)  # noqa: E704

    def __gt__(self, other):
        return self._compare("greater", other)  # noqa: E704

    def __ge__(self, other):
        return self._compare("greater_equal", other)  # noqa: E704

    def __eq__(self, other):
        return self._compare("equal", other)  # noqa: E704

    def __ne__(self, other):
        return self._compare("not_equal", other)  # noqa: E704

    __hash__ = None

    def __bool__(self):
        raise unsupported(ENGINE, "bool", _CONTROL_FLOW)

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if method == "__call__" and not kwargs and ufunc.__name__ in COMPARISONS:
            first, second = inputs
            if isinstance(first, SymArray):
                return first._compare(ufunc.__name__, second)
            return second._compare(ufunc.__name__, first, swapped=True)
        return super().__array_ufunc__(ufunc, method, *inputs, **kwargs)


SymArray.apply = staticmethod(apply)
SymArray.functions = traced_functions(apply)

#: The namespace ``f`` is traced with.
symbolic_array_namespace = Namespace(ENGINE, SymArray.functions)


class Trace:
    """The DAG of ``f``: the graph, the input symbol and the output node (None: constant f)."""

    def __init__(self, graph: Graph, output: Node | None, dim: int):
        self.graph = graph
        self.output = output
        self.dim = dim


def trace_point(dim: int) -> np.ndarray:
    """The fixed point the values are carried at: distinct entries, away from 0 and +-1."""
    return np.random.default_rng(dim).uniform(0.3, 0.7, dim)


def trace(f: Callable, dim: int) -> Trace:
    """Evaluate ``f`` on the input symbol of length ``dim``.

    Raises
    ------
    NotImplementedError
        If ``f`` uses an operation or a construct the method cannot follow (named).
    ValueError, TypeError
        If ``f`` does not return a real scalar.
    """
    check_callable(f)
    graph = Graph(trace_point(dim))
    with np.errstate(all="ignore"):
        out = f(SymArray(graph.input, graph), symbolic_array_namespace)
    if not isinstance(out, SymArray):
        check_scalar_output(value_of(out), ENGINE)
        return Trace(graph, None, dim)
    check_scalar_output(out.value, ENGINE)
    return Trace(graph, out.node, dim)
