"""The tape: array-valued nodes, primitive recording and the backward walk.

A :class:`Node` holds a value, its parent nodes and a function that maps the gradient
of the node to the gradients of its parents.  :func:`backward` orders the graph with an
iterative depth-first search (no recursion, so a 100,000-node chain is fine) and sums
the incoming gradients of every node in a dict keyed by node.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..backends.numpy_backend import NUMPY_FUNCTIONS
from ..ops import canonical_name
from .rules import RULES, Variadic

__all__ = ["Node", "apply", "backward", "graph_size", "unbroadcast"]

# numpy's functions, with the array-sequence operations taking their arrays as
# separate arguments so that each one can be a parent node.
FORWARD: dict[str, Callable] = {
    **NUMPY_FUNCTIONS,
    "concatenate": lambda *arrays, axis=0: np.concatenate(arrays, axis=axis),
    "stack": lambda *arrays, axis=0: np.stack(arrays, axis=axis),
}


class Node:
    """A value recorded on the tape.

    Supports numpy's arithmetic operators, indexing and comparisons (which return
    plain boolean arrays, so Python control flow on values works).
    """

    __slots__ = ("value", "parents", "vjp")
    __array_priority__ = 100.0

    def __init__(self, value: Any, parents: tuple[Node, ...] = (), vjp: Callable | None = None):
        self.value = value
        self.parents = parents
        self.vjp = vjp

    # numpy interoperability: ndarray (op) Node and np.exp(node) come here.
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        op = canonical_name(ufunc.__name__)
        if method == "__call__" and not kwargs and op in RULES:
            return apply(op, *inputs)
        if method == "__call__" and ufunc.__name__ in _COMPARISONS:
            return ufunc(*map(_value, inputs), **kwargs)  # comparisons are not recorded
        raise NotImplementedError(
            f"the tape has no derivative rule for numpy.{ufunc.__name__} "
            f"(method {method!r}); call the operation through xp"
        )

    def __array__(self, dtype=None, copy=None):
        raise TypeError(
            "a tape value cannot be converted to a numpy array (that would detach it "
            "from the tape); build arrays with xp.stack or xp.asarray"
        )

    def __float__(self):
        raise TypeError("a tape value cannot be converted to float; it would detach it from the tape")

    shape = property(lambda self: np.shape(self.value))
    ndim = property(lambda self: np.ndim(self.value))
    size = property(lambda self: np.size(self.value))
    dtype = property(lambda self: np.asarray(self.value).dtype)
    T = property(lambda self: apply("transpose", self))

    def __len__(self):
        return len(self.value)

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def __repr__(self):
        return f"Node({self.value!r})"

    # fmt: off
    def __add__(self, other): return apply("add", self, other)
    def __radd__(self, other): return apply("add", other, self)
    def __sub__(self, other): return apply("subtract", self, other)
    def __rsub__(self, other): return apply("subtract", other, self)
    def __mul__(self, other): return apply("multiply", self, other)
    def __rmul__(self, other): return apply("multiply", other, self)
    def __truediv__(self, other): return apply("divide", self, other)
    def __rtruediv__(self, other): return apply("divide", other, self)
    def __pow__(self, other): return apply("power", self, other)
    def __rpow__(self, other): return apply("power", other, self)
    def __matmul__(self, other): return apply("matmul", self, other)
    def __rmatmul__(self, other): return apply("matmul", other, self)
    def __neg__(self): return apply("negative", self)
    def __pos__(self): return self
    def __abs__(self): return apply("abs", self)
    def __getitem__(self, key): return apply("getitem", self, key)

    def __lt__(self, other): return self.value < _value(other)
    def __le__(self, other): return self.value <= _value(other)
    def __gt__(self, other): return self.value > _value(other)
    def __ge__(self, other): return self.value >= _value(other)
    def __eq__(self, other): return self.value == _value(other)
    def __ne__(self, other): return self.value != _value(other)
    __hash__ = object.__hash__  # nodes are dict keys by identity

    def sum(self, axis=None, keepdims=False): return apply("sum", self, axis=axis, keepdims=keepdims)
    def mean(self, axis=None, keepdims=False): return apply("mean", self, axis=axis, keepdims=keepdims)
    def max(self, axis=None, keepdims=False): return apply("max", self, axis=axis, keepdims=keepdims)
    def reshape(self, *shape): return apply("reshape", self, shape[0] if len(shape) == 1 else shape)
    def transpose(self, *axes): return apply("transpose", self, _axes(axes))
    # fmt: on


def _value(x):
    return x.value if isinstance(x, Node) else x


_COMPARISONS = frozenset(("less", "less_equal", "greater", "greater_equal", "equal", "not_equal"))


def _axes(axes: tuple):
    """``x.transpose()``, ``x.transpose(1, 0)`` and ``x.transpose((1, 0))`` as numpy allows."""
    if len(axes) == 1 and (axes[0] is None or isinstance(axes[0], (tuple, list))):
        return axes[0]
    return axes or None


def _rule_for(op: str, index: int) -> Callable | None:
    rules = RULES.get(op)
    if rules is None:
        raise NotImplementedError(f"the tape has no derivative rule for operation {op!r}")
    if isinstance(rules, Variadic):
        return lambda *args, **params: rules.rule(index, *args, **params)
    if index >= len(rules):
        raise NotImplementedError(f"the tape has no derivative rule for argument {index} of operation {op!r}")
    return rules[index]


def apply(op: str, *args: Any, **params: Any) -> Any:
    """Evaluate primitive ``op`` and record it if any argument is a :class:`Node`.

    Returns a plain value when no argument is traced.

    Raises
    ------
    NotImplementedError
        If a traced argument has no derivative rule for ``op``.
    """
    forward = FORWARD.get(op)
    if forward is None:
        raise NotImplementedError(f"the tape has no derivative rule for operation {op!r}")
    values = tuple(_value(a) for a in args)
    ans = forward(*values, **params)
    parents, rules = [], []
    for index, arg in enumerate(args):
        if isinstance(arg, Node):
            rule = _rule_for(op, index)
            if rule is not None:
                parents.append(arg)
                rules.append(rule)
    if not parents:
        return ans

    def vjp(g):
        return tuple(rule(g, ans, *values, **params) for rule in rules)

    return Node(ans, tuple(parents), vjp)


def unbroadcast(grad: Any, shape: tuple[int, ...]) -> np.ndarray:
    """Sum ``grad`` over the axes that broadcasting added or stretched to reach ``shape``."""
    grad = np.asarray(grad)
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    if extra > 0:
        grad = grad.sum(axis=tuple(range(extra)))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if stretched:
        grad = grad.sum(axis=stretched, keepdims=True)
    return np.broadcast_to(grad, shape)


def _topological_order(root: Node) -> list[Node]:
    """Nodes reachable from ``root``, each after all of its parents (iterative DFS)."""
    order: list[Node] = []
    expanded: set[int] = set()
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, finished = stack.pop()
        if finished:
            order.append(node)
            continue
        if id(node) in expanded:
            continue
        expanded.add(id(node))
        stack.append((node, True))
        stack.extend((p, False) for p in node.parents if id(p) not in expanded)
    return order


def graph_size(root: Node) -> int:
    """Number of nodes ``root`` depends on, itself and the inputs included."""
    return len(_topological_order(root))


def backward(root: Node, seed: Any = 1.0) -> dict[Node, np.ndarray]:
    """Propagate ``seed`` from ``root`` to every node it depends on.

    Returns
    -------
    dict
        The gradient of ``root`` with respect to each leaf node (nodes without
        parents), keyed by node.
    """
    grads: dict[Node, Any] = {root: seed}
    for node in reversed(_topological_order(root)):
        if not node.parents:
            continue
        g = grads.pop(node, None)
        if g is None:
            continue
        for parent, parent_grad in zip(node.parents, node.vjp(g), strict=True):
            parent_grad = unbroadcast(parent_grad, np.shape(parent.value))
            if parent in grads:
                grads[parent] = grads[parent] + parent_grad
            else:
                grads[parent] = parent_grad
    return grads
