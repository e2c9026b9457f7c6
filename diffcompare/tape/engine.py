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
from ..traced import TracedArray, value_of
from .rules import RULES, Variadic

__all__ = ["Node", "apply", "backward", "graph_size", "unbroadcast"]

# numpy's functions, with the array-sequence operations taking their arrays as
# separate arguments so that each one can be a parent node.
FORWARD: dict[str, Callable] = {
    **NUMPY_FUNCTIONS,
    "concatenate": lambda *arrays, axis=0: np.concatenate(arrays, axis=axis),
    "stack": lambda *arrays, axis=0: np.stack(arrays, axis=axis),
}


class Node(TracedArray):
    """A value recorded on the tape: its parents and the map from its gradient to theirs.

    Supports numpy's arithmetic operators, indexing and comparisons (which return
    plain boolean arrays, so Python control flow on values works).
    """

    __slots__ = ("value", "parents", "vjp")
    engine, loses, rules = "the tape", "detach it from the tape", RULES

    def __init__(self, value: Any, parents: tuple[Node, ...] = (), vjp: Callable | None = None):
        self.value = value
        self.parents = parents
        self.vjp = vjp

    @staticmethod
    def apply(op, *args, **params):
        return apply(op, *args, **params)

    def __repr__(self):
        return f"Node({self.value!r})"

    __hash__ = object.__hash__  # nodes are dict keys, by identity


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
    values = tuple(value_of(a) for a in args)
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
