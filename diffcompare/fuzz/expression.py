"""Random-expression records: a table of nodes, its text, and the ``f(x, xp)`` it stands for.

An expression is a flat table of :class:`Node` records in which every node refers to
its arguments by their (smaller) positions, so children always come before their
parents and the last node is the scalar result.  Printing and evaluating are single
loops over that table: no walk is recursive, and the text is only ever printed, never
parsed or evaluated.

Node kinds (``Node.op``):

``"x"``
    The input vector (always node 0).
``"constant"``
    A float, or an array written as nested tuples (``params[0]``).
an elementwise name of :data:`diffcompare.ops.OPS`
    ``exp``, ``add``, ``power``, ``maximum``, ... applied to the arguments through ``xp``.
``"where"``
    Four arguments ``(a, b, c, d)``: ``where(a > b, c, d)``.
``"sum"``, ``"mean"``, ``"max"``, ``"logsumexp"``
    ``params = (axis,)`` with ``axis`` ``None`` or an int.
``"getitem"``
    ``params = (key,)``, a tagged tuple (see :func:`index_key`).
``"reshape"``
    ``params = (shape,)``.
``"transpose"``, ``"concatenate"``, ``"stack"``, ``"matmul"``
    As in numpy (concatenate and stack along axis 0).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "Node",
    "Expression",
    "index_key",
    "expression_text",
    "evaluate_nodes",
    "make_function",
]

Shape = tuple[int, ...]


@dataclass(frozen=True)
class Node:
    """One operation of an expression.

    Attributes
    ----------
    op : str
        ``"x"``, ``"constant"`` or an operation name (see the module docstring).
    args : tuple of int
        Positions of the argument nodes in the table (all smaller than this node's).
    shape : tuple of int
        Shape of the node's value.
    params : tuple
        Operation parameters: a constant's value, a reduction's axis, an index key, a
        target shape.
    """

    op: str
    args: tuple[int, ...] = ()
    shape: Shape = ()
    params: tuple = ()


@dataclass(frozen=True)
class Expression:
    """A generated test function, its point and where it came from.

    Attributes
    ----------
    seed : int
        The seed :func:`~diffcompare.fuzz.generator.build_expression` was given.
    dim : int
        Length of ``x``.
    nodes : tuple of Node
        The table, children before parents; the last node is the scalar result.
    point : tuple of float
        Where the gradient is compared (inside ``box`` in every coordinate).
    box : tuple of float
        ``(low, high)``: every op's arguments stay inside its domain for any ``x`` in
        this box, not only at ``point``.
    """

    seed: int
    dim: int
    nodes: tuple[Node, ...]
    point: tuple[float, ...]
    box: tuple[float, float]

    @property
    def text(self) -> str:
        """The readable form, e.g. ``sin(x[0]) * log1p(x[1] * x[1])``."""
        return expression_text(self.nodes)

    @property
    def f(self) -> Callable:
        """The expression as ``f(x, xp)``."""
        return make_function(self.nodes)

    def ops(self) -> set[str]:
        """The operation names used (``"x"`` and ``"constant"`` excluded)."""
        return {node.op for node in self.nodes} - {"x", "constant"}


def index_key(key: tuple) -> Any:
    """The numpy index for a tagged key.

    ``("index", i)`` is ``i``; ``("slice", start, stop, step)`` a slice;
    ``("take", (i, j, ...))`` an index list (positions may repeat); ``("element", i, j)``
    one entry of a matrix; ``("column", j)`` the column ``[:, j]``.
    """
    tag = key[0]
    if tag == "index":
        return key[1]
    if tag == "slice":
        return slice(*key[1:])
    if tag == "take":
        return list(key[1])
    if tag == "element":
        return (key[1], key[2])
    if tag == "column":
        return (slice(None), key[1])
    raise ValueError(f"unknown index key {key!r}")


def _key_text(key: tuple) -> str:
    tag = key[0]
    if tag == "index":
        return str(key[1])
    if tag == "slice":
        start, stop, step = ("" if v is None else str(v) for v in key[1:])
        return f"{start}:{stop}" + (f":{step}" if step else "")
    if tag == "take":
        return "[" + ", ".join(map(str, key[1])) + "]"
    if tag == "element":
        return f"{key[1]}, {key[2]}"
    return f":, {key[1]}"  # column


def _constant_text(value: Any) -> str:
    if isinstance(value, tuple):
        return "[" + ", ".join(_constant_text(v) for v in value) + "]"
    return repr(float(value))


# Operator precedences of the printed text (Python's): a child whose precedence is lower
# than its slot needs is put in parentheses.
_ATOM, _POWER, _UNARY, _PRODUCT, _SUM = 100, 90, 80, 70, 60

# op: (symbol, precedence); the right operand of every one of them needs a strictly
# higher precedence (a - (b - c), a / (b * c)), the left one at least the same, except
# for ** which groups from the right: (a ** b) ** c.
_INFIX = {
    "add": (" + ", _SUM),
    "subtract": (" - ", _SUM),
    "multiply": (" * ", _PRODUCT),
    "divide": (" / ", _PRODUCT),
    "matmul": (" @ ", _PRODUCT),
    "power": (" ** ", _POWER),
}


def _wrap(text_prec: tuple[str, int], needed: int) -> str:
    text, prec = text_prec
    return text if prec >= needed else f"({text})"


def expression_text(nodes: Sequence[Node]) -> str:
    """Print the table as one readable expression (the last node).

    Shared subexpressions are printed once per use.  Arithmetic uses Python's
    operators with the fewest parentheses; other operations print as calls with
    numpy's names, ``where(a > b, c, d)`` and ``x[...]`` for indexing.

    Examples
    --------
    >>> nodes = (Node("x", shape=(2,)), Node("getitem", (0,), (), (("index", 0),)),
    ...          Node("sin", (1,)), Node("getitem", (0,), (), (("index", 1),)),
    ...          Node("multiply", (3, 3)), Node("log1p", (4,)), Node("multiply", (2, 5)))
    >>> expression_text(nodes)
    'sin(x[0]) * log1p(x[1] * x[1])'
    """
    printed: list[tuple[str, int]] = []
    for node in nodes:
        args = [printed[i] for i in node.args]
        op = node.op
        if op == "x":
            printed.append(("x", _ATOM))
        elif op == "constant":
            text = _constant_text(node.params[0])
            printed.append((text, _UNARY if text.startswith("-") else _ATOM))
        elif op in _INFIX:
            symbol, prec = _INFIX[op]
            left_needs, right_needs = (prec + 1, prec) if op == "power" else (prec, prec + 1)
            printed.append((_wrap(args[0], left_needs) + symbol + _wrap(args[1], right_needs), prec))
        elif op == "negative":
            printed.append(("-" + _wrap(args[0], _UNARY + 1), _UNARY))
        elif op == "getitem":
            printed.append((f"{_wrap(args[0], _ATOM)}[{_key_text(node.params[0])}]", _ATOM))
        elif op == "where":
            a, b, c, d = (text for text, _ in args)
            printed.append((f"where({a} > {b}, {c}, {d})", _ATOM))
        elif op in ("concatenate", "stack"):
            printed.append((f"{op}([{', '.join(text for text, _ in args)}])", _ATOM))
        elif op == "reshape":
            printed.append((f"reshape({args[0][0]}, {node.params[0]})", _ATOM))
        elif node.params and node.params[0] is not None:  # a reduction along an axis
            printed.append((f"{op}({args[0][0]}, axis={node.params[0]})", _ATOM))
        else:
            printed.append((f"{op}({', '.join(text for text, _ in args)})", _ATOM))
    return printed[-1][0]


def _as_value(value: Any, xp) -> Any:
    # Scalars stay Python floats (a constant exponent is then seen as one, as in x**2);
    # arrays are built with the namespace's own constructor.
    return xp.asarray(value) if isinstance(value, tuple) else float(value)


def _apply(node: Node, args: list, x, xp) -> Any:
    op = node.op
    if op == "x":
        return x
    if op == "constant":
        return _as_value(node.params[0], xp)
    if op == "where":
        a, b, c, d = args
        return xp.where(a > b, c, d)
    if op == "getitem":
        return args[0][index_key(node.params[0])]
    if op == "reshape":
        return xp.reshape(args[0], node.params[0])
    if op in ("concatenate", "stack"):
        return getattr(xp, op)(list(args))
    if op in ("sum", "mean", "max", "logsumexp"):
        axis = node.params[0]
        return getattr(xp, op)(args[0]) if axis is None else getattr(xp, op)(args[0], axis=axis)
    return getattr(xp, op)(*args)


def evaluate_nodes(nodes: Sequence[Node], x, xp) -> list:
    """The value of every node at ``x``, in table order, computed with namespace ``xp``."""
    values: list = []
    for node in nodes:
        values.append(_apply(node, [values[i] for i in node.args], x, xp))
    return values


def make_function(nodes: Sequence[Node]) -> Callable:
    """``f(x, xp)`` evaluating the table with whatever namespace it is given."""
    nodes = tuple(nodes)

    def f(x, xp):
        return evaluate_nodes(nodes, x, xp)[-1]

    return f
