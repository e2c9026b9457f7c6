"""The tape: array-valued nodes, primitive recording and the backward walk.

A :class:`Node` holds a value, its parent nodes, one VJP rule per parent and what the
rules read (the operation's result, its arguments' values and its parameters).
:func:`backward` orders the graph with an iterative depth-first search (no recursion,
so a 100,000-node chain is fine) and sums the incoming gradients of every node in a
dict keyed by node.
"""

from __future__ import annotations

import itertools
import operator
from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np

from ...ops.numpy_namespace import NUMPY_FUNCTIONS
from ...ops.traced import TracedArray
from ...ops.traced_functions import holds_traced, stack_lists, traced_functions
from .rules import RULES, Outputs, Scatter, Variadic

__all__ = ["Node", "apply", "backward", "graph_size", "unbroadcast"]

# numpy's functions, with the array-sequence operations taking their arrays as
# separate arguments so that each one can be a parent node.
FORWARD: dict[str, Callable] = {
    **NUMPY_FUNCTIONS,
    "concatenate": lambda *arrays, axis=0: np.concatenate(arrays, axis=axis),
    "stack": lambda *arrays, axis=0: np.stack(arrays, axis=axis),
    "einsum": lambda *operands, subscripts: np.einsum(subscripts, *operands),
}


class Node(TracedArray):
    """A value recorded on the tape: its parents and how its gradient reaches theirs.

    ``vjps[i]`` maps the node's gradient to that of ``parents[i]``, called as
    ``vjps[i](g, ans, *values, **params)`` with ``saved = (ans, values, params)``: the
    rules of :data:`~.rules.RULES` and what they read, kept as data rather than wrapped
    in a closure per node (a function object to build on the way forward and a call on
    the way back).

    Supports numpy's arithmetic operators, indexing and comparisons (which return
    plain boolean arrays, so Python control flow on values works).  ``order`` numbers
    nodes in creation order: a node is always created after its parents, so sorting by
    it is a topological order.
    """

    __slots__ = ("value", "parents", "vjps", "saved", "order")
    engine, loses, rules = "tape", "detach it from the tape", RULES

    def __init__(
        self, value: Any, parents: tuple[Node, ...] = (), vjps: tuple[Callable, ...] = (), saved: tuple = ()
    ):
        self.value = value
        self.parents = parents
        self.vjps = vjps
        self.saved = saved
        self.order = next(_creation)

    def __repr__(self):
        return f"Node({self.value!r})"

    __hash__ = object.__hash__  # nodes are dict keys, by identity


_creation = itertools.count()


def apply(op: str, *args: Any, **params: Any) -> Any:
    """Evaluate primitive ``op`` and record it if any argument is a :class:`Node`.

    Returns a plain value when no argument is traced.  An operation with several
    results (:class:`~.rules.Outputs`) returns them in the same kind of tuple, one node
    each.

    Raises
    ------
    NotImplementedError
        If a traced argument has no derivative rule for ``op``.
    """
    try:
        forward, rules = FORWARD[op], RULES[op]
    except KeyError:
        raise NotImplementedError(f"the tape has no derivative rule for operation {op!r}") from None
    values = list(args)  # a loop, not a comprehension: cheaper for one or two arguments
    for index, arg in enumerate(args):
        if isinstance(arg, TracedArray):
            values[index] = arg.value
        elif isinstance(arg, (list, tuple)) and op != "getitem" and holds_traced(arg):
            # numpy reads a list of traced values as the array they stack to (an index
            # never is one): the namespace's operations leave this check to apply
            return apply(op, *stack_lists(args, Node.functions["asarray"]), **params)
    ans = forward(*values, **params) if params else forward(*values)
    if len(args) == 1 and type(rules) is tuple and type(args[0]) is Node and rules and rules[0] is not None:
        # one traced argument with a rule, the commonest record: no search for parents
        return Node(ans, args, rules[:1], (ans, values, params))
    if type(rules) is Outputs:
        return type(ans)(
            *(
                _record(op, part, rules_i, args, values, params, ans)
                for part, rules_i in zip(ans, rules.results, strict=True)
            )
        )
    return _record(op, ans, rules, args, values, params, ans)


def _record(op: str, value: Any, rules, args: tuple, values: list, params: dict, ans: Any) -> Any:
    """``value`` as a node whose VJP applies ``rules`` (``ans``: the operation's whole result)."""
    parents, vjps = [], []
    variadic = type(rules) is Variadic
    for index, arg in enumerate(args):
        if type(arg) is not Node:
            continue
        if variadic:
            rule = partial(rules.rule, index)
        elif index < len(rules):
            rule = rules[index]
        else:
            raise NotImplementedError(
                f"the tape has no derivative rule for argument {index} of operation {op!r}"
            )
        if rule is not None:
            parents.append(arg)
            vjps.append(rule)
    if not parents:
        return value
    return Node(value, tuple(parents), tuple(vjps), (ans, values, params))


Node.apply = staticmethod(apply)
Node.functions = traced_functions(apply, apply_stacks_lists=True)


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
    """Nodes reachable from ``root``, each after all of its parents (iterative search).

    Creation order is a topological order, so the walk only has to find the nodes.
    """
    found = {root}  # nodes hash by identity
    stack = [root]
    while stack:
        for parent in stack.pop().parents:
            if parent not in found:
                found.add(parent)
                stack.append(parent)
    return sorted(found, key=_order)


_order = operator.attrgetter("order")


def graph_size(root: Node) -> int:
    """Number of nodes ``root`` depends on, itself and the inputs included."""
    return len(_topological_order(root))


def backward(root: Node, seed: Any = 1.0, release: bool = False) -> dict[Node, np.ndarray]:
    """Propagate ``seed`` from ``root`` to every node it depends on.

    With ``release``, each node drops its value and what its rules read once its
    gradient has been passed on: nothing later in the walk reads them (its children
    came before it, its parents read their own), so a value lives only as long as the
    walk needs it, as autograd's closures keep only what a rule reads.  The graph
    cannot be walked again then; a Jacobian's repeated walks keep it.

    Gradients are summed in a dict keyed by node.  A sum the walk allocated itself
    (``owned``) is added to in place; any other array may be shared (``add`` passes
    its gradient to both arguments) and is never written to.  A node leaves ``grads``
    when its gradient is passed on and is never reached again, so ``owned`` need not
    forget it.

    Returns
    -------
    dict
        The gradient of ``root`` with respect to each leaf node (nodes without
        parents), keyed by node.
    """
    grads: dict[Node, Any] = {root: seed}
    owned: set[Node] = set()
    ndarray, float64 = np.ndarray, np.float64  # looked up once, not per node
    for node in reversed(_topological_order(root)):
        parents = node.parents
        if not parents:
            continue
        g = grads.pop(node, None)
        if g is None:
            continue
        ans, values, params = node.saved
        # one rule per parent (apply builds both from the same list); zip's strict
        # keyword would cost a keyword parse on every node
        for parent, vjp in zip(parents, node.vjps):  # noqa: B905
            # (most operations have no parameters: no empty dict to unpack then)
            parent_grad = vjp(g, ans, *values, **params) if params else vjp(g, ans, *values)
            value = parent.value
            try:
                shape = value.shape  # arrays and numpy scalars
            except AttributeError:
                shape = np.shape(value)
            kind = type(parent_grad)
            if kind is Scatter:
                if parent not in owned:
                    # complex at a complex point (the complex step over the tape, for Hessians)
                    buffer = np.zeros(shape, dtype=complex if np.iscomplexobj(value) else float)
                    if parent in grads:
                        buffer += grads[parent]
                    grads[parent] = buffer
                    owned.add(parent)
                parent_grad.add_into(grads[parent])
                continue
            # numpy scalars come from ufuncs on 0-d arrays and need no unbroadcasting
            if (kind is not ndarray and kind is not float64) or parent_grad.shape != shape:
                parent_grad = unbroadcast(parent_grad, shape)
            current = grads.get(parent)
            if current is None:
                grads[parent] = parent_grad
            elif parent in owned:
                grads[parent] += parent_grad  # in place for arrays; scalars are rebound
            else:
                grads[parent] = current + parent_grad
                owned.add(parent)
        if release:
            node.value = node.saved = None
    return grads
