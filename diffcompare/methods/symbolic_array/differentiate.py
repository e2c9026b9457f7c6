"""Reverse accumulation over the expression DAG, building the derivative as new DAG nodes.

A source transformation: :func:`gradient_node` walks the nodes that ``f`` depends on in
reverse topological order (iteratively) and gives each an adjoint *node*, the sum
(``add`` nodes) of what its consumers pass back.  What a consumer passes back is built
by its adjoint rule in :data:`ADJOINTS` (one line per operation, the tape's op names);
the new nodes go through the same hash-consing table as ``f``'s own, so a derivative
that reuses a forward value (``exp' = exp``) shares its node.

Elementwise operations take their derivative factors from their rows in
:data:`~diffcompare.ops.OPS`: for the operations in :data:`BY_SYMPY` by ``sympy.diff``
of the row's SymPy form, translated back into DAG nodes; for the others (the rows whose
factor is a special accurate form: ``tanh``, ``sigmoid``, ``sqrt`` at 0, ``power`` at a
zero base, the special functions ...) the factor is the row's own rule, called as one
``vjp`` node, so the numerics are the tape's.  The linear-algebra operations, ``prod``,
``cumsum`` and ``sort`` are ``vjp`` nodes of the tape's rules
(:mod:`diffcompare.methods.tape.linalg_rules` holds their formulas): one set of numerics.
Index adjoints never build a zero array per index: they are collected and placed into
one buffer (a ``scatter`` node).
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable

import numpy as np

from ...ops.structural import einsum_spec, normalized_axes
from ...ops.table import MINUS_ONE, ONE, OPS
from ..tape.rules import RULES, Outputs
from .graph import COMPARISONS, Graph, Node, Params, reachable

__all__ = ["ADJOINTS", "BY_SYMPY", "gradient_node", "sympy_factor"]


class ScatterPart:
    """``g`` to be added into its target at ``key`` (a getitem's adjoint)."""

    __slots__ = ("key", "g", "arrays")

    def __init__(self, key, g: Node, arrays: tuple[Node, ...]):
        self.key, self.g, self.arrays = key, g, arrays


# --- elementwise factors from SymPy ---------------------------------------------------------

#: Elementwise operations whose SymPy derivative is as accurate in float64 as the row's
#: factor (and whose arguments it names): argument -> True where sympy.diff is used.
# fmt: off
BY_SYMPY: dict[str, tuple[bool, ...]] = {
    "exp":      (True,),
    "expm1":    (True,),
    "log":      (True,),          # 1/x, and g * (1/x) is simplified to g / x: the row's Over
    "log1p":    (True,),
    "sin":      (True,),
    "cos":      (True,),
    "sinh":     (True,),
    "cosh":     (True,),
    "square":   (True,),
    "multiply": (True, True),
    "divide":   (True, False),    # d/db = -a / b^2 would overflow where the row's -ans / b does not
    # power: only x**c for a constant integer c >= 1 (see _integer_exponent); elsewhere the
    # row's factor, which keeps 0**y and x**(negative) right
}
# fmt: on

_SYMPY_OPERATORS = {
    "add": operator.add,
    "subtract": operator.sub,
    "multiply": operator.mul,
    "divide": operator.truediv,
    "negative": operator.neg,
    "power": operator.pow,
}

#: SymPy function names and the operations they translate back to.
_SYMPY_FUNCTIONS = {
    "exp": "exp", "log": "log", "sin": "sin", "cos": "cos", "tan": "tan",
    "sinh": "sinh", "cosh": "cosh", "tanh": "tanh", "sign": "sign",
}  # fmt: skip


@functools.cache
def sympy_factor(op: str, index: int, exponent: int | None = None):
    """``(symbols, d op / d argument index)`` from the row's SymPy form (cached per op).

    ``exponent``: for ``power``, a constant integer exponent put in before ``diff``, so
    that ``x**3`` differentiates to ``3 x**2`` (a square), not to ``y x**(y - 1)``.
    """
    import sympy

    spec = OPS[op]
    symbols = sympy.symbols(f"a0:{len(spec.derivative)}", real=True)
    if spec.sympy is None:
        form = _SYMPY_OPERATORS[op](*symbols)
    elif isinstance(spec.sympy, str):
        form = getattr(sympy, spec.sympy)(*symbols)
    else:
        form = spec.sympy(sympy, *symbols)
    if exponent is not None:
        form = form.subs(symbols[1], sympy.Integer(exponent))
    return symbols, sympy.diff(form, symbols[index])


def _integer_exponent(node: Node) -> int | None:
    """The exponent of ``x**c`` for a constant integer ``c >= 1`` (no singular factor), or None."""
    if node.op != "power" or node.args[1].op != "scalar":
        return None
    c = node.args[1].value
    if isinstance(c, bool) or not isinstance(c, (int, float)) or c != int(c) or not 1 <= c <= 64:
        return None
    return int(c)


def _from_sympy(graph: Graph, expression, bound: dict) -> Node:
    """``expression`` as DAG nodes, its symbols replaced by the nodes in ``bound`` (iterative)."""
    import sympy

    built: dict = {}
    stack = [(expression, False)]
    while stack:
        expr, ready = stack.pop()
        if expr in built:
            continue
        if expr in bound:
            built[expr] = bound[expr]
            continue
        if expr.is_Number:
            built[expr] = graph.scalar(float(expr))
            continue
        if not ready:
            stack.append((expr, True))
            stack.extend((arg, False) for arg in expr.args)
            continue
        args = [built[arg] for arg in expr.args]
        if isinstance(expr, sympy.Add):
            built[expr] = functools.reduce(lambda a, b: graph.make("add", a, b), args)
        elif isinstance(expr, sympy.Mul):
            built[expr] = _product(graph, expr, built)
        elif isinstance(expr, sympy.Pow):
            built[expr] = _power(graph, expr, built)
        elif expr.func.__name__ in _SYMPY_FUNCTIONS:
            built[expr] = graph.make(_SYMPY_FUNCTIONS[expr.func.__name__], *args)
        else:
            raise NotImplementedError(f"no operation for the SymPy function {expr.func.__name__}")
    return built[expression]


def _power(graph: Graph, expr, built: dict) -> Node:
    base, exponent = built[expr.base], expr.exp
    if exponent == 2:
        return graph.make("square", base)
    if exponent == -1:
        return graph.make("divide", graph.scalar(1.0), base)
    if exponent == 0.5:
        return graph.make("sqrt", base)
    return graph.make("power", base, built[exponent] if exponent in built else graph.scalar(float(exponent)))


def _product(graph: Graph, expr, built: dict) -> Node:
    # a / b as one division (one rounding), a leading -1 as a negation
    numerator, denominator, negate = [], [], False
    for factor in expr.args:
        if factor == -1:
            negate = not negate
        elif factor.is_Pow and factor.exp.is_Integer and factor.exp < 0:
            base = built[factor.base]
            denominator.append(
                base if factor.exp == -1 else graph.make("power", base, graph.scalar(float(-factor.exp)))
            )
        else:
            numerator.append(built[factor])
    multiply = functools.partial(graph.make, "multiply")
    result = functools.reduce(multiply, numerator) if numerator else graph.scalar(1.0)
    if denominator:
        result = graph.make("divide", result, functools.reduce(multiply, denominator))
    return graph.make("negative", result) if negate else result


# --- shapes -----------------------------------------------------------------------------


def unbroadcast(
    graph: Graph, g: Node, shape: tuple[int, ...], broadcast: bool = True, full: tuple[int, ...] | None = None
) -> Node:
    """Sum ``g`` over the axes broadcasting added or stretched to reach ``shape``.

    A ``g`` that is smaller than ``shape`` (a reduction's adjoint) is broadcast to it
    only if ``broadcast``: an elementwise consumer broadcasts it for free, so the walk
    keeps it small until a rule needs the full shape.  ``full``: the shape ``g``
    stands for (its node's); where the sum runs over an axis that ``g`` only stands
    for, ``g`` is broadcast first, so each broadcast entry is counted.
    """
    if full is not None and g.shape != full:
        padded = (1,) * (len(full) - len(g.shape)) + g.shape
        offset = len(full) - len(shape)
        summed = [i for i in range(len(full)) if i < offset or (shape[i - offset] == 1 and full[i] != 1)]
        if any(padded[i] == 1 and full[i] != 1 for i in summed):
            g = graph.make("broadcast_to", g, params=Params.of(shape=full))
    if g.shape == shape:
        return g
    extra = len(g.shape) - len(shape)
    if extra > 0:
        g = graph.make("sum", g, params=Params.of(axis=tuple(range(extra)), keepdims=False))
    offset = len(shape) - len(g.shape)
    stretched = tuple(i for i, n in enumerate(g.shape) if n != 1 and shape[i + offset] == 1)
    if stretched:
        g = graph.make("sum", g, params=Params.of(axis=stretched, keepdims=True))
    if broadcast and g.shape != shape:
        g = graph.make("broadcast_to", g, params=Params.of(shape=shape))
    return g


#: Operations whose adjoint rules broadcast the adjoint themselves (elementwise ones).
_BROADCASTING = frozenset(name for name, spec in OPS.items() if spec.kind in ("unary", "binary", "select"))


def _kept(graph: Graph, g: Node, x: Node, params: Params) -> Node:
    """A reduction's ``g`` reshaped to broadcast against its input ``x`` (keepdims form)."""
    axis = params.get("axis")
    if axis is None or params.get("keepdims", False):
        return g
    axes = normalized_axes(axis, len(x.shape))
    shape = tuple(1 if i in axes else n for i, n in enumerate(x.shape))
    return graph.make("reshape", g, params=Params.of(shape=shape))


def _keepdims(params: Params) -> Params:
    return Params.of(axis=params.get("axis"), keepdims=True)


# --- adjoint rules: rule(graph, g, node) -> [(argument, contribution), ...] ------------------


def _elementwise(graph: Graph, g: Node, node: Node):
    spec, pairs = OPS[node.op], []
    for index, arg in enumerate(node.args):
        if not arg.differentiable:
            continue
        factor = spec.derivative[index]
        if factor is None:  # piecewise constant: no dependence
            continue
        if factor is ONE:
            pairs.append((arg, g))
        elif factor is MINUS_ONE:
            pairs.append((arg, graph.make("negative", g)))
        elif BY_SYMPY.get(node.op, (False,) * 2)[index] or (index == 0 and _integer_exponent(node)):
            symbols, derivative = sympy_factor(node.op, index, _integer_exponent(node))
            bound = dict(zip(symbols, node.args, strict=True))
            pairs.append((arg, graph.make("multiply", g, _from_sympy(graph, derivative, bound))))
        else:
            pairs.append((arg, _vjp(graph, g, node, index)))
    return pairs


def _vjp(graph: Graph, g: Node, node: Node, index: int, result: int | None = None) -> Node:
    """The tape's rule for argument ``index`` as one node (the formula lives there)."""
    source = node if result is None else node.args[0]
    params = Params.of(
        source.params.extras, op=source.op, index=index, result=result, kwargs=source.params.kwargs
    )
    return graph.make("vjp", g, source, *source.args, params=params)


def _by_tape_rule(graph: Graph, g: Node, node: Node):
    rules = RULES[node.op]
    return [
        (arg, _vjp(graph, g, node, i))
        for i, arg in enumerate(node.args)
        if arg.differentiable and (type(rules) is not tuple or rules[i] is not None)
    ]


def _result(graph: Graph, g: Node, node: Node):
    # one result of an operation with several (slogdet, eigh): straight to its arguments
    source, index = node.args[0], node.params.get("index")
    rules = RULES[source.op].results[index]
    return [
        (arg, _vjp(graph, g, node, i, index))
        for i, arg in enumerate(source.args)
        if arg.differentiable and rules[i] is not None
    ]


def _where(graph: Graph, g: Node, node: Node):
    condition, a, b = node.args
    zero = graph.scalar(0.0)
    return [
        (arg, graph.make("where", condition, *picked))
        for arg, picked in ((a, (g, zero)), (b, (zero, g)))
        if arg.differentiable
    ]


def _sum(graph: Graph, g: Node, node: Node):
    (x,) = node.args
    return [(x, _kept(graph, g, x, node.params))]


def _mean(graph: Graph, g: Node, node: Node):
    (x,) = node.args
    share = graph.scalar(np.size(node.value) / np.size(x.value))
    return [(x, graph.make("multiply", _kept(graph, g, x, node.params), share))]


def _max(graph: Graph, g: Node, node: Node):
    # Ties share the gradient equally: the mask of maxima over its count, as the tape.
    (x,) = node.args
    hit = graph.make("equal", x, _kept(graph, node, x, node.params))
    count = graph.make("sum", hit, params=_keepdims(node.params))
    share = graph.make("divide", hit, count)
    return [(x, graph.make("multiply", _kept(graph, g, x, node.params), share))]


def _logsumexp(graph: Graph, g: Node, node: Node):
    # softmax = e / sum(e), e = exp(x - max x): every e in (0, 1], no overflow, and no
    # rounding error of the result amplified by exp (as exp(x - lse) would).
    (x,) = node.args
    shift = graph.make("max", x, params=_keepdims(node.params))
    e = graph.make("exp", graph.make("subtract", x, shift))
    softmax = graph.make("divide", e, graph.make("sum", e, params=_keepdims(node.params)))
    return [(x, graph.make("multiply", _kept(graph, g, x, node.params), softmax))]


def _log_softmax(graph: Graph, g: Node, node: Node):
    # g - sum(g) softmax, softmax = exp(log_softmax): accurate to a few ulp, no second pass
    (x,) = node.args
    total = graph.make("sum", g, params=Params.of(axis=node.params.get("axis"), keepdims=True))
    return [(x, graph.make("subtract", g, graph.make("multiply", total, graph.make("exp", node))))]


def _reshape(graph: Graph, g: Node, node: Node):
    (x,) = node.args
    return [(x, graph.make("reshape", g, params=Params.of(shape=x.shape)))]


def _transpose(graph: Graph, g: Node, node: Node):
    (x,) = node.args
    axes = node.params.get("axes")
    if axes is None:
        return [(x, graph.make("transpose", g, params=Params.of(axes=None)))]
    inverse = tuple(int(i) for i in np.argsort([a % len(x.shape) for a in axes]))
    return [(x, graph.make("transpose", g, params=Params.of(axes=inverse)))]


def _getitem(graph: Graph, g: Node, node: Node):
    x = node.args[0]
    return [(x, ScatterPart(node.params.get("key"), g, node.args[1:]))]


def _swap_last(graph: Graph, node: Node) -> Node:
    ndim = len(node.shape)
    if ndim == 2:
        return graph.make("transpose", node, params=Params.of(axes=None))
    axes = (*range(ndim - 2), ndim - 1, ndim - 2)
    return graph.make("transpose", node, params=Params.of(axes=axes))


def _matmul(graph: Graph, g: Node, node: Node):
    a, b = node.args
    da, db = len(a.shape), len(b.shape)
    if (da == 1 and db > 2) or (db == 1 and da > 2):  # batched matrix-vector: the tape's rule
        return _by_tape_rule(graph, g, node)
    pairs = []
    if da == 1 and db == 1:  # inner product
        pairs = [(a, graph.make("multiply", g, b)), (b, graph.make("multiply", g, a))]
    elif da == 1:  # a^T B: da = B g, dB = a g^T
        column = graph.make("reshape", a, params=Params.of(shape=(a.shape[0], 1)))
        pairs = [(a, graph.make("matmul", b, g)), (b, graph.make("multiply", column, g))]
    elif db == 1:  # A b: dA = g b^T, db = A^T g
        column = graph.make("reshape", g, params=Params.of(shape=(*g.shape, 1)))
        pairs = [(a, graph.make("multiply", column, b)), (b, graph.make("matmul", _swap_last(graph, a), g))]
    else:  # dA = G B^T, dB = A^T G (batch axes summed by the unbroadcast)
        pairs = [
            (a, graph.make("matmul", g, _swap_last(graph, b))),
            (b, graph.make("matmul", _swap_last(graph, a), g)),
        ]
    return [(arg, contribution) for arg, contribution in pairs if arg.differentiable]


def _einsum(graph: Graph, g: Node, node: Node):
    # The adjoint of one operand is einsum of g with the others onto its labels, when the
    # operand repeats no label and shares each with g or another operand; else the tape's rule.
    operands = node.args
    spec = einsum_spec(node.params.get("subscripts"), tuple(len(o.shape) for o in operands))
    pairs = []
    for index, operand in enumerate(operands):
        if not operand.differentiable:
            continue
        labels = spec.inputs[index]
        others = [i for i in range(len(operands)) if i != index]
        elsewhere = set(spec.output).union(*(spec.inputs[i] for i in others))
        if (
            len(set(labels)) != len(labels)
            or not set(labels) <= elsewhere
            or "." in node.params.get("subscripts")
        ):
            pairs.append((operand, _vjp(graph, g, node, index)))
            continue
        subscripts = spec.subscripts([spec.output] + [spec.inputs[i] for i in others], labels)
        contribution = graph.make(
            "einsum", g, *(operands[i] for i in others), params=Params.of(subscripts=subscripts)
        )
        pairs.append((operand, contribution))
    return pairs


def _concatenate(graph: Graph, g: Node, node: Node):
    axis = node.params.get("axis")
    ndim = len(node.shape)
    axis = axis % ndim
    pairs, start = [], 0
    for arg in node.args:
        stop = start + arg.shape[axis]
        if arg.differentiable:
            key = tuple(slice(start, stop) if i == axis else slice(None) for i in range(ndim))
            pairs.append((arg, _index(graph, g, key)))
        start = stop
    return pairs


def _stack(graph: Graph, g: Node, node: Node):
    axis = node.params.get("axis") % len(node.shape)
    return [
        (arg, _index(graph, g, tuple(i if a == axis else slice(None) for a in range(axis + 1))))
        for i, arg in enumerate(node.args)
        if arg.differentiable
    ]


def _index(graph: Graph, g: Node, key: tuple) -> Node:
    built, arrays = graph.key(key)
    return graph.make("getitem", g, *arrays, params=Params.of(key=built))


# fmt: off
ADJOINTS: dict[str, Callable] = {
    **{name: _elementwise for name, spec in OPS.items() if spec.kind in ("unary", "binary")},
    "where":       _where,
    "sum":         _sum,
    "mean":        _mean,
    "max":         _max,
    "logsumexp":   _logsumexp,
    "log_softmax": _log_softmax,
    "matmul":      _matmul,
    "einsum":      _einsum,
    "getitem":     _getitem,
    "reshape":     _reshape,
    "transpose":   _transpose,
    "concatenate": _concatenate,
    "stack":       _stack,
    "result":      _result,
    # the tape's formulas, as vjp nodes: diffcompare.methods.tape.rules and linalg_rules
    **{name: _by_tape_rule for name in ("prod", "cumsum", "sort")},
    **{name: _by_tape_rule for name in OPS if name.startswith("linalg.") and type(RULES[name]) is not Outputs},  # noqa: E501
}
# fmt: on


def _total(graph: Graph, node: Node, dense: list[Node], parts: list[ScatterPart]) -> Node:
    """The adjoint of ``node``: its dense contributions summed, the index ones scattered."""
    total = functools.reduce(lambda a, b: graph.make("add", a, b), dense) if dense else None
    if not parts:
        return total
    args, keys = ([total] if total is not None else []), []
    for part in parts:
        args += [part.g, *part.arrays]
        keys.append((part.key, len(part.arrays)))
    params = Params.of(shape=node.shape, keys=tuple(keys), dense=total is not None)
    return graph.make("scatter", *args, params=params)


def gradient_node(graph: Graph, output: Node) -> tuple[Node | None, dict[Node, Node]]:
    """The adjoint of the input symbol for scalar ``output``, as a DAG node (None: zero).

    Returns
    -------
    gradient : Node or None
        The gradient's node, of the input's shape.
    adjoints : dict
        Every node of ``f`` on the way -> its adjoint node.

    Raises
    ------
    NotImplementedError
        If an operation on the path from ``x`` has no adjoint rule (named).
    """
    from .trace import ENGINE

    adjoints: dict[Node, Node] = {}
    if not output.differentiable:
        return None, adjoints
    dense: dict[Node, list[Node]] = {output: [graph.scalar(1.0)]}
    scattered: dict[Node, list[ScatterPart]] = {}
    for node in reversed(reachable(output, follow=lambda arg: arg.differentiable)):
        total = _total(graph, node, dense.pop(node, []), scattered.pop(node, []))
        if total is None:
            continue
        if node is graph.input:
            total = unbroadcast(graph, total, node.shape)
            adjoints[node] = total
            return total, adjoints
        if node.op not in _BROADCASTING:
            total = unbroadcast(graph, total, node.shape)
        adjoints[node] = total
        rule = ADJOINTS.get(node.op)
        if rule is None:
            from ...ops.namespace import unsupported

            why = "a comparison has no derivative" if node.op in COMPARISONS else "no adjoint rule"
            raise unsupported(ENGINE, node.op, why)
        for arg, contribution in rule(graph, total, node):
            if isinstance(contribution, ScatterPart):
                scattered.setdefault(arg, []).append(contribution)
            else:
                full = node.shape if node.op in _BROADCASTING else None  # an elementwise result's shape
                reduced = unbroadcast(graph, contribution, arg.shape, broadcast=False, full=full)
                dense.setdefault(arg, []).append(reduced)
    return None, adjoints
