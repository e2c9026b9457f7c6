"""The expression DAG of array expressions: immutable, hash-consed nodes.

A :class:`Node` is an operation name (a row of :data:`~diffcompare.ops.OPS`, a
comparison, or one of the few operations the derivative adds, :data:`EXTRA_OPS`), its
argument nodes and hashable parameters.  :meth:`Graph.make` returns the existing node
for a repeated ``(op, arguments, parameters)``, so a common subexpression is one node by
construction: the DAG *is* its own common-subexpression elimination.

Every node carries its value at the trace point, which gives its shape and dtype (a
scalar or an array of any size costs one evaluation, never a symbol per element) and
lets constant-only subtrees be folded.  ``varies`` says whether the value depends on
the input symbol ``x``; a node that does not is a constant.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np

from ..tape.engine import FORWARD
from ..tape.rules import RULES, Outputs, Variadic

__all__ = [
    "COMPARISONS",
    "EXTRA_OPS",
    "Graph",
    "Key",
    "Node",
    "Params",
    "call_rule",
    "reachable",
    "rule_function",
]

#: numpy comparisons: they build boolean conditions (no derivative of their own).
COMPARISONS = {
    "less": np.less,
    "less_equal": np.less_equal,
    "greater": np.greater,
    "greater_equal": np.greater_equal,
    "equal": np.equal,
    "not_equal": np.not_equal,
}


@dataclass(frozen=True)
class Params:
    """Positional extras (an axis given positionally) and keyword parameters, hashable."""

    extras: tuple = ()
    kwargs: tuple = ()

    def get(self, name: str, default: Any = None) -> Any:
        return dict(self.kwargs).get(name, default)

    @staticmethod
    def of(extras=(), **kwargs) -> Params:
        return Params(
            tuple(_frozen(e) for e in extras), tuple(sorted((k, _frozen(v)) for k, v in kwargs.items()))
        )


def _frozen(value: Any) -> Any:
    """``value`` as a hashable Python object (lists become tuples, numpy scalars Python ones)."""
    if isinstance(value, (list, tuple)):
        return tuple(_frozen(v) for v in value)
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        if value.ndim == 0:
            return value.item()
        raise TypeError("an array parameter must be passed as an array argument")
    hash(value)
    return value


class Key:
    """A ``getitem`` key with its index arrays replaced by argument positions (hashable).

    ``parts`` holds, per position of the key: ``("int", i)``, ``("slice", start, stop,
    step)``, ``("new",)`` for ``None``, ``("ellipsis",)`` or ``("array", k)``: the key's
    ``k``-th index array, passed as argument ``k + 1`` of the node.
    """

    __slots__ = ("parts", "tuple_key")

    def __init__(self, parts: tuple, tuple_key: bool):
        self.parts = parts
        self.tuple_key = tuple_key

    def __hash__(self):
        return hash((self.parts, self.tuple_key))

    def __eq__(self, other):
        return isinstance(other, Key) and (self.parts, self.tuple_key) == (other.parts, other.tuple_key)

    def build(self, arrays: list) -> Any:
        """The numpy key, with ``arrays`` in the array positions."""
        built = []
        for part in self.parts:
            kind = part[0]
            if kind == "int":
                built.append(part[1])
            elif kind == "slice":
                built.append(slice(*part[1:]))
            elif kind == "new":
                built.append(None)
            elif kind == "ellipsis":
                built.append(Ellipsis)
            else:
                built.append(arrays[part[1]])
        return tuple(built) if self.tuple_key else built[0]

    @property
    def basic(self) -> bool:
        """Ints, slices, None and Ellipsis only: no position can repeat."""
        return all(part[0] != "array" for part in self.parts)


class Node:
    """One operation in the DAG; identity is structural (see :meth:`Graph.make`)."""

    __slots__ = ("op", "args", "params", "value", "varies", "order")

    def __init__(self, op: str, args: tuple, params: Any, value: Any, varies: bool, order: int):
        self.op = op
        self.args = args
        self.params = params
        self.value = value
        self.varies = varies
        self.order = order  # numbered in creation, after its arguments: a topological order

    @property
    def shape(self) -> tuple[int, ...]:
        return np.shape(self.value)

    @property
    def differentiable(self) -> bool:
        """Depends on ``x`` through floating-point values (a condition does not)."""
        if isinstance(self.value, tuple):  # several results (eigh): each is differentiated
            return self.varies
        return self.varies and np.asarray(self.value).dtype.kind == "f"

    def __repr__(self):
        return f"Node({self.op}, #{self.order}, shape={self.shape})"


#: Operations of the DAG beyond :data:`OPS` and the comparisons: leaves, a result of an
#: operation with several results, and the pieces of a derivative.
EXTRA_OPS = ("input", "const", "scalar", "result", "vjp", "broadcast_to", "scatter")


def reachable(root: Node, follow: Callable[[Node], bool] | None = None) -> list[Node]:
    """``root`` and the nodes it depends on (through nodes ``follow`` accepts), in creation order.

    An iterative search (no recursion limit on deep expressions); creation order is a
    topological order, every node being made after its arguments.
    """
    found = {id(root): root}
    stack = [root]
    while stack:
        for arg in stack.pop().args:
            if id(arg) not in found and (follow is None or follow(arg)):
                found[id(arg)] = arg
                stack.append(arg)
    return sorted(found.values(), key=lambda n: n.order)


def rule_function(op: str, index: int, result: int | None = None) -> Callable:
    """The tape's VJP of argument ``index`` of ``op`` (of result ``result`` for several results)."""
    rules = RULES[op]
    if type(rules) is Outputs:
        rules = rules.results[result]
    if type(rules) is Variadic:
        return partial(rules.rule, index)
    return rules[index]


def call_rule(params: Params, g, ans, *args):
    """Evaluate a ``vjp`` node: the tape's rule applied to arrays."""
    op, index, result = params.get("op"), params.get("index"), params.get("result")
    kwargs = dict(params.get("kwargs", ()))
    return rule_function(op, index, result)(g, ans, *args, *params.extras, **kwargs)


def _scatter(params: Params, *args):
    """Evaluate a ``scatter`` node: index adjoints added into one zero buffer."""
    shape, keys, dense = params.get("shape"), params.get("keys"), params.get("dense")
    buffer = np.zeros(shape)
    position = 0
    if dense:
        buffer += args[0]
        position = 1
    for key, arrays in keys:
        g = args[position]
        built = key.build(list(args[position + 1 : position + 1 + arrays]))
        position += 1 + arrays
        if key.basic:
            buffer[built] += g  # distinct positions: each is added once
        else:
            np.add.at(buffer, built, g)  # an index array may repeat a position
    return buffer


def evaluate(op: str, params: Params, values: list) -> Any:
    """The value of ``op`` applied to argument ``values``."""
    if op == "getitem":
        return values[0][params.get("key").build(values[1:])]
    if op in COMPARISONS:
        return COMPARISONS[op](*values)
    if op == "result":
        return values[0][params.get("index")]
    if op == "vjp":
        return call_rule(params, *values)
    if op == "broadcast_to":
        return np.broadcast_to(values[0], params.get("shape"))
    if op == "scatter":
        return _scatter(params, *values)
    return FORWARD[op](*values, *params.extras, **dict(params.kwargs))


def _value_at_trace_point(op: str, params: Params, values: list) -> Any:
    """``op``'s value; NaN of the right shape where the trace point is outside its domain.

    The trace point is arbitrary: a matrix that is not positive definite there (or
    singular) says nothing about the points the gradient is evaluated at.  The shape
    comes from the operation on identity matrices in place of the matrices.
    """
    try:
        return evaluate(op, params, values)
    except np.linalg.LinAlgError:
        eyes = [
            np.broadcast_to(np.eye(np.shape(v)[-1]), np.shape(v)).copy() if np.ndim(v) >= 2 else v
            for v in values
        ]
        stand_in = evaluate(op, params, eyes)
        if isinstance(stand_in, tuple):
            return type(stand_in)(*(np.full(np.shape(part), np.nan) for part in stand_in))
        return np.full(np.shape(stand_in), np.nan)


class Graph:
    """The hash-consing table of one trace and its derivative.

    Parameters
    ----------
    x : ndarray
        The trace point: the value of the input symbol.
    """

    def __init__(self, x: np.ndarray):
        self._nodes: dict[tuple, Node] = {}
        self._constants: dict[int, Node] = {}
        self._count = itertools.count()
        self.input = Node("input", (), Params(), x, True, next(self._count))

    def __len__(self) -> int:
        return len(self._nodes)

    # --- leaves ----------------------------------------------------------------------------

    def scalar(self, value: Any) -> Node:
        """A Python or 0-d constant, printed inline (its type kept: ``x**2`` is not ``x**2.0``)."""
        if isinstance(value, (np.generic, np.ndarray)):
            value = value.item()
        key = ("scalar", type(value).__name__, value)
        node = self._nodes.get(key)
        if node is None:
            node = Node("scalar", (), Params.of(value=value), value, False, next(self._count))
            self._nodes[key] = node
        return node

    def constant(self, value: Any) -> Node:
        """A data array (a named argument of the compiled code), or an inline scalar."""
        if isinstance(value, Node):
            return value
        if (
            np.ndim(value) == 0
            and not isinstance(value, np.ndarray)
            or (isinstance(value, np.ndarray) and value.ndim == 0)
        ):
            return self.scalar(value)
        array = np.asarray(value)
        if array.dtype == object:
            raise TypeError("a constant must be a numeric array")
        node = self._constants.get(id(value))
        if node is None or node.value is not value:
            node = Node("const", (), Params.of(id=id(array)), array, False, next(self._count))
            self._constants[id(array)] = node
        return node

    def key(self, key: Any) -> tuple[Key, list[Node]]:
        """A getitem key as a hashable :class:`Key` and its index arrays as constant nodes."""
        tuple_key = isinstance(key, tuple)
        parts, arrays = [], []
        for item in key if tuple_key else (key,):
            if item is None:
                parts.append(("new",))
            elif item is Ellipsis:
                parts.append(("ellipsis",))
            elif isinstance(item, slice):
                parts.append(
                    ("slice", *(None if b is None else int(b) for b in (item.start, item.stop, item.step)))
                )
            elif isinstance(item, (int, np.integer)) and not isinstance(item, (bool, np.bool_)):
                parts.append(("int", int(item)))
            else:
                index = np.asarray(item)
                if index.dtype == np.bool_:
                    # a mask reads the same entries as the integer arrays of its True positions
                    for positions in np.nonzero(index):
                        parts.append(("array", len(arrays)))
                        arrays.append(self.constant(positions))
                    tuple_key = tuple_key or index.ndim > 1
                    continue
                if index.dtype.kind not in "iu":
                    raise IndexError(
                        f"arrays used as indices must be of integer or boolean type; got {index.dtype}"
                    )
                parts.append(("array", len(arrays)))
                arrays.append(self.constant(index))
        return Key(tuple(parts), tuple_key), arrays

    def zeros(self, shape: tuple[int, ...]) -> Node:
        return self.scalar(0.0) if shape == () else self.constant(np.zeros(shape))

    # --- operations ------------------------------------------------------------------------

    def make(self, op: str, *args: Node, params: Params | None = None) -> Node:
        """The node ``op(*args)``: simplified, folded if constant, shared if it exists."""
        params = Params() if params is None else params
        simpler = _simplify(self, op, args, params)
        if simpler is not None:
            return simpler
        key = (op, tuple(a.order for a in args), params)
        node = self._nodes.get(key)
        if node is not None:
            return node
        with np.errstate(all="ignore"):
            value = _value_at_trace_point(op, params, [a.value for a in args])
        varies = any(a.varies for a in args)
        if not varies and op != "transpose" and not isinstance(value, tuple):
            # constant folding; a transpose of data stays a (free) view of the named array
            return self.constant(value)
        node = self._nodes[key] = Node(op, tuple(args), params, value, varies, next(self._count))
        return node


# --- light algebraic simplification at construction ----------------------------------------


def _is_value(node: Node, number: float) -> bool:
    if node.op == "scalar":
        return node.value == number and not isinstance(node.value, bool)
    if node.op == "const" and node.value.dtype.kind == "f":
        # a broadcast scalar (all strides 0) is one number, whatever its size
        if node.value.size and not any(node.value.strides):
            return bool(node.value.flat[0] == number)
        if node.value.size <= 64:
            return bool(np.all(node.value == number))
    return False


def _result_shape(args) -> tuple[int, ...]:
    return np.broadcast_shapes(*(a.shape for a in args))


def _simplify(graph: Graph, op: str, args: tuple, params: Params) -> Node | None:
    """A simpler equal node for ``op(*args)``, or None.  Never changes a value's shape."""
    if op == "multiply":
        a, b = args
        shape = _result_shape(args)
        for one, other in ((a, b), (b, a)):
            if one.op == "scalar" and _is_value(one, 0.0):
                return graph.zeros(shape)  # a zero partial: the term vanishes symbolically
            if _is_value(one, 1.0) and other.shape == shape:
                return other
            if _is_value(one, -1.0) and other.shape == shape:
                return graph.make("negative", other)
        for small, product in ((a, b), (b, a)):
            # g * (c * y) -> (g * c) * y when g is the smaller array: the scalar factor
            # is applied to fewer entries (a reduction's adjoint times a power's 2 x)
            if (
                product.op == "multiply"
                and product.shape == shape
                and np.size(small.value) < np.size(product.value)
            ):
                c, y = product.args if product.args[0].op == "scalar" else product.args[::-1]
                if c.op == "scalar" and y.shape == shape:
                    return graph.make("multiply", graph.make("multiply", small, c), y)
        if b.op == "divide" and _is_value(b.args[0], 1.0) and a.shape == shape:
            return graph.make("divide", a, b.args[1])  # g * (1 / y) -> g / y: one rounding
        if a.op == "divide" and _is_value(a.args[0], 1.0) and b.shape == shape:
            return graph.make("divide", b, a.args[1])
    if op == "add":
        a, b = args
        shape = _result_shape(args)
        if _is_value(b, 0.0) and a.shape == shape:
            return a
        if _is_value(a, 0.0) and b.shape == shape:
            return b
    if op == "subtract" and _is_value(args[1], 0.0) and args[0].shape == _result_shape(args):
        return args[0]
    if op == "negative" and args[0].op == "negative":
        return args[0].args[0]
    if op == "negative" and args[0].op == "multiply" and args[0].args[0].op == "scalar":
        # -(c y) -> (-c) y: negation is exact, and the product needs no second pass
        c, y = args[0].args
        if y.shape == args[0].shape:
            return graph.make("multiply", graph.scalar(-c.value), y)
    if op == "sum" and args[0].op == "negative":
        # sum(-a) -> -sum(a): the negation of the (smaller) sum; -a is then dropped as dead
        return graph.make("negative", graph.make("sum", args[0].args[0], params=params))
    if op == "transpose":
        (a,) = args
        axes = params.get("axes")
        ndim = len(a.shape)
        order = tuple(range(ndim))[::-1] if axes is None else tuple(i % ndim for i in axes)
        if order == tuple(range(ndim)):
            return a
        if a.op == "transpose":
            inner_axes = a.params.get("axes")
            inner = tuple(range(ndim))[::-1] if inner_axes is None else tuple(i % ndim for i in inner_axes)
            composed = tuple(inner[i] for i in order)
            return graph.make("transpose", a.args[0], params=Params.of(axes=composed))
        if a.op == "matmul" and ndim == 2 and all(len(arg.shape) == 2 for arg in a.args):
            # (A B)^T = B^T A^T: the product comes out in the layout a reshape can view
            left, right = a.args
            return graph.make("matmul", _transposed(graph, right), _transposed(graph, left))
    if op == "reshape":
        (a,) = args
        shape = params.get("shape")
        target = np.shape(np.reshape(np.empty(a.shape, dtype=np.bool_), shape))
        if target == a.shape:
            return a
        if a.op == "reshape":
            return graph.make("reshape", a.args[0], params=Params.of(shape=target))
        if shape != target:
            return graph.make("reshape", a, params=Params.of(shape=target))
    return None


def _transposed(graph: Graph, node: Node) -> Node:
    return graph.make("transpose", node, params=Params.of(axes=None))
