"""The gradient DAG as straight-line numpy code, compiled with ``exec``, and as LaTeX.

One assignment per node the gradient needs (dead nodes are never reached), in
topological order; data arrays are arguments (``c0``, ``c1``, ...), scalars are
literals.  Forward values are named ``v<k>``, the adjoint of ``v<k>`` is ``dv<k>``
(``dx`` for the input), and the other pieces of the derivative ``t<k>``.
"""

from __future__ import annotations

import builtins
import math
import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..tape.engine import FORWARD
from .graph import COMPARISONS, Key, Node, reachable, rule_function

__all__ = ["GeneratedGradient", "batched_contraction", "builtin_safe", "generate"]

_INFIX = {"add": "+", "subtract": "-", "multiply": "*", "divide": "/", "matmul": "@"}
_LATEX_INFIX = {"add": "+", "subtract": "-", "multiply": r"\odot", "divide": r"\oslash"}


@dataclass(frozen=True)
class GeneratedGradient:
    """The gradient's code: the numpy source, the compiled function and its LaTeX.

    Attributes
    ----------
    numpy_source : str
        ``def gradient(x, c0, ...)``: one line per operation.
    latex : str
        One equation per operation (``aligned`` environment).
    cse_ops : int
        Operations in the generated code (after the DAG's sharing of common subexpressions).
    function : callable
        The compiled ``gradient``.
    constants : tuple of ndarray
        The data arrays it takes after ``x``.
    """

    numpy_source: str
    latex: str
    cse_ops: int
    function: Callable
    constants: tuple


def builtin_safe(name: str) -> str:
    """``name`` as a Python identifier that shadows no builtin (``sum`` -> ``sum_``)."""
    name = name.replace(".", "_")
    return name + "_" if hasattr(builtins, name) else name


def _literal(value) -> str:
    """A scalar as Python source: ``2``, ``(-0.5)``, ``float('inf')``."""
    if isinstance(value, float) and not math.isfinite(value):
        return f"float({str(value)!r})"
    return f"({value!r})" if value < 0 else repr(value)


def _key_text(key: Key, arrays: list[str]) -> str:
    parts = []
    for part in key.parts:
        kind = part[0]
        if kind == "int":
            parts.append(str(part[1]))
        elif kind == "slice":
            start, stop, step = ("" if b is None else str(b) for b in part[1:])
            parts.append(f"{start}:{stop}" + (f":{step}" if step else ""))
        elif kind == "new":
            parts.append("None")
        elif kind == "ellipsis":
            parts.append("...")
        else:
            parts.append(arrays[part[1]])
    if key.tuple_key and len(parts) == 1:
        return parts[0] + ","
    return ", ".join(parts)


def _call_arguments(node: Node, names: list[str]) -> str:
    texts = names + [repr(e) for e in node.params.extras]
    texts += [f"{k}={v!r}" for k, v in node.params.kwargs]
    return ", ".join(texts)


class _Writer:
    def __init__(self, root: Node, x: Node, forward: set[int], adjoints: dict[Node, Node]):
        self.names: dict[int, str] = {}
        self.globals: dict[str, object] = {"np": np}
        self.constants: list[np.ndarray] = []
        self.lines: list[str] = []
        self.latex: list[str] = []
        self.ops = 0
        adjoint_of: dict[int, Node] = {}
        for node, adjoint in adjoints.items():
            adjoint_of.setdefault(id(adjoint), node)
        order = reachable(root)
        self._plan_placement(order)
        for node in order:  # every name first: a product may be placed into a later buffer
            if node is x:
                self.names[id(node)] = "x"
            elif node.op == "const":
                self.names[id(node)] = f"c{len(self.constants)}"
                self.constants.append(node.value)
            elif node.op == "scalar":
                self.names[id(node)] = _literal(node.value)
            elif id(node) in forward:  # a forward value that is also an adjoint keeps its name
                self.names[id(node)] = f"v{node.order}"
            elif id(node) in adjoint_of:
                of = adjoint_of[id(node)]
                self.names[id(node)] = "dx" if of is x else f"dv{of.order}"
            else:
                self.names[id(node)] = f"t{node.order}"
        self.last_use: dict[int, int] = {}  # node -> position of its last consumer
        self.viewed: set[int] = set()  # nodes a consumer may alias (a view, an opaque rule)
        for position, node in enumerate(order):
            for arg in node.args:
                self.last_use[id(arg)] = position
                if not _fresh_result(node.op):
                    self.viewed.add(id(arg))
        self.owned: set[int] = set()  # fresh arrays this code made: reusable as out=
        self.root = root
        for position, node in enumerate(order):
            self.position = position
            if node.op in ("input", "const", "scalar"):
                continue
            self.ops += 1
            if id(node) in self.absorbed:
                continue
            if id(node) in self.placed:
                self._place(node)
            else:
                self._assign(node, self.names[id(node)])

    def _plan_placement(self, order: list[Node]) -> None:
        """Find index adjoints that can be written straight into the gradient buffer.

        A buffer whose basic index adjoints tile it exactly (the blocks of a flat
        parameter vector) is allocated once with ``np.empty`` and each block assigned
        once; a block that is a product (``reshape(A @ B)``, used nowhere else) is
        computed into its place with ``out=``.  Fresh arrays of a megabyte cost page
        faults on every call, more than the product itself.
        """
        uses: dict[int, int] = {}
        for node in order:
            for arg in node.args:
                uses[id(arg)] = uses.get(id(arg), 0) + 1
        self.tiling: set[int] = set()
        self.absorbed: set[int] = set()
        self.placed: dict[int, tuple[Node, tuple]] = {}
        self.allocated: set[int] = set()
        for node in order:
            if node.op != "scatter" or not _tiles(node):
                continue
            self.tiling.add(id(node))
            position = 0
            for key, count in node.params.get("keys"):
                g = node.args[position]
                position += 1 + count
                product = g.args[0] if g.op == "reshape" else g
                if (
                    product.op in ("matmul", "einsum")
                    and uses.get(id(product)) == 1
                    and (product is g or uses.get(id(g)) == 1)
                    and product.value.dtype == np.float64
                ):
                    self.placed[id(product)] = (node, key)
                    if product is not g:
                        self.absorbed.add(id(g))

    def _buffer(self, node: Node) -> str:
        name = self.names[id(node)]
        if id(node) not in self.allocated:
            self.allocated.add(id(node))
            self.lines.append(f"    {name} = np.empty({node.params.get('shape')!r})")
        return name

    def _place(self, node: Node) -> None:
        target, key = self.placed[id(node)]
        buffer = self._buffer(target)
        args = [self.names[id(a)] for a in node.args]
        view = f"{buffer}[{_key_text(key, [])}].reshape({node.shape!r})"
        if node.op == "matmul":
            self.lines.append(f"    np.matmul({args[0]}, {args[1]}, out={view})")
        else:
            subscripts = node.params.get("subscripts")
            self.lines.append(f"    np.einsum({subscripts!r}, {', '.join(args)}, out={view})")
        target = f"{_latex_name(buffer)}[{_key_text(key, [])}]"
        self.latex.append(f"{target} &= {_latex(node, [_latex_name(a) for a in args])}")

    def _function(self, name: str, function: Callable) -> str:
        if self.globals.get(name, function) is not function:
            name = f"{name}_{len(self.globals)}"
        self.globals[name] = function
        return name

    def _assign(self, node: Node, name: str) -> None:
        args = [self.names[id(a)] for a in node.args]
        latex_args = [_latex_name(n) for n in args]
        op = node.op
        if op in _INFIX and len(args) == 2:
            text = f"{args[0]} {_INFIX[op]} {args[1]}"
        elif op == "negative":
            text = f"-{args[0]}"
        elif op == "getitem":
            text = f"{args[0]}[{_key_text(node.params.get('key'), args[1:])}]"
        elif op == "transpose" and node.params.get("axes") is None:
            text = f"{args[0]}.T"
        elif op == "result":
            text = f"{args[0]}[{node.params.get('index')}]"
        elif op in COMPARISONS:
            text = f"np.{op}({args[0]}, {args[1]})"
        elif op == "broadcast_to":
            text = f"np.broadcast_to({args[0]}, {node.params.get('shape')!r})"
        elif op == "scatter":
            self._scatter(node, name, args)
            self.latex.append(f"{_latex_name(name)} &= \\operatorname{{scatter}}({', '.join(latex_args)})")
            return
        elif op == "vjp":
            kwargs = dict(node.params.kwargs)
            function = rule_function(kwargs["op"], kwargs["index"], kwargs.get("result"))
            label = f"vjp_{builtin_safe(kwargs['op'])}_{kwargs['index']}"
            callee = self._function(label, _bound(function, node.params))
            text = f"{callee}({', '.join(args)})"
        elif op == "einsum" and (contraction := batched_contraction(node)) is not None:
            label = "contract_" + node.params.get("subscripts").replace(",", "_").replace("->", "_to_")
            text = f"{self._function(label, contraction)}({', '.join(args)})"
        else:
            callee = self._function(builtin_safe(op), FORWARD[op])
            text = f"{callee}({_call_arguments(node, args)})"
        reused = self._reusable(node)
        if reused is not None:
            # the last use of a fresh array of the result's shape: computed into it
            ufunc = f"np.{FORWARD[op].__name__}"
            self.lines.append(f"    {name} = {ufunc}({', '.join(args)}, out={self.names[id(reused)]})")
        else:
            self.lines.append(f"    {name} = {text}")
        if (
            isinstance(FORWARD.get(op), np.ufunc)
            and op != "matmul"
            and node.shape
            and node.value.dtype == np.float64
        ):
            self.owned.add(id(node))
        self.latex.append(f"{_latex_name(name)} &= {_latex(node, latex_args)}")

    def _reusable(self, node: Node) -> Node | None:
        """An argument ``node`` can be computed into: fresh, same shape, dead afterwards."""
        ufunc = FORWARD.get(node.op)
        if not isinstance(ufunc, np.ufunc) or node.op == "matmul" or node.params.extras or node.params.kwargs:
            return None
        if not node.shape or node.value.dtype != np.float64:
            return None
        for arg in node.args:
            if (
                id(arg) in self.owned
                and id(arg) not in self.viewed
                and arg.shape == node.shape
                and self.last_use.get(id(arg)) == self.position
                and arg is not self.root
            ):
                return arg
        return None

    def _scatter(self, node: Node, name: str, args: list[str]) -> None:
        # one buffer the size of the target; every index adjoint is added into it
        params = node.params
        if id(node) in self.tiling:
            name = self._buffer(node)
            position = 0
            for key, count in params.get("keys"):
                g = node.args[position]
                position += 1 + count
                product = g.args[0] if g.op == "reshape" else g
                if self.placed.get(id(product), (None,))[0] is not node:
                    self.lines.append(f"    {name}[{_key_text(key, [])}] = {args[position - 1 - count]}")
            return
        self.lines.append(f"    {name} = np.zeros({params.get('shape')!r})")
        position = 0
        if params.get("dense"):
            self.lines.append(f"    {name} += {args[0]}")
            position = 1
        for key, count in params.get("keys"):
            g, arrays = args[position], args[position + 1 : position + 1 + count]
            position += 1 + count
            if key.basic:
                self.lines.append(f"    {name}[{_key_text(key, arrays)}] += {g}")
            else:
                self.lines.append(f"    np.add.at({name}, ({_key_text(key, arrays)}), {g})")


def batched_contraction(node: Node) -> Callable | None:
    """A two-operand einsum as one batched matrix product (BLAS), or None.

    The labels of ``a`` and ``b`` sort into batch labels (in both and in the output),
    contracted ones (in both, not in the output) and free ones (in one and the output):
    ``a`` is permuted to (batch, free a, contracted), ``b`` to (batch, contracted,
    free b), both flattened to three axes, multiplied, and the result reshaped and
    permuted to the output's labels.  numpy's own einsum loops in C without BLAS for
    such contractions (the GMM's ``kij,nkj->nki``), many times slower.  None (plain
    einsum) for a repeated label, a label summed in one operand alone, or an ellipsis.
    """
    if len(node.args) != 2 or "." in node.params.get("subscripts"):
        return None
    from ...ops.structural import einsum_spec

    a, b = node.args
    spec = einsum_spec(node.params.get("subscripts"), (len(a.shape), len(b.shape)))
    (left, right), out = spec.inputs, spec.output
    if len(set(left)) != len(left) or len(set(right)) != len(right) or len(set(out)) != len(out):
        return None
    if not set(left) <= set(right) | set(out) or not set(right) <= set(left) | set(out):
        return None
    if not set(out) <= set(left) | set(right):
        return None
    size = dict(zip(left, a.shape, strict=True)) | dict(zip(right, b.shape, strict=True))
    batch = [c for c in out if c in left and c in right]
    contracted = [c for c in left if c in right and c not in out]
    free_a = [c for c in left if c not in right]
    free_b = [c for c in right if c not in left]
    if not batch and not contracted:
        return None  # an outer product: einsum's own loop is as good

    def count(labels):
        return int(np.prod([size[c] for c in labels], dtype=np.int64))

    order_a = tuple(left.index(c) for c in batch + free_a + contracted)
    order_b = tuple(right.index(c) for c in batch + contracted + free_b)
    shape_a = (count(batch), count(free_a), count(contracted))
    shape_b = (count(batch), count(contracted), count(free_b))
    produced = batch + free_a + free_b
    unflat = tuple(size[c] for c in produced)
    final = tuple(produced.index(c) for c in out)

    def contract(x, y):
        product = np.matmul(
            np.transpose(x, order_a).reshape(shape_a), np.transpose(y, order_b).reshape(shape_b)
        )
        return np.transpose(product.reshape(unflat), final)

    return contract


#: Operations whose result never shares memory with an argument.
_FRESH = frozenset(
    ("sum", "mean", "max", "logsumexp", "log_softmax", "prod", "cumsum", "einsum", "where", "scatter")
)


def _fresh_result(op: str) -> bool:
    return op in _FRESH or isinstance(FORWARD.get(op), np.ufunc) or op in COMPARISONS


def _tiles(node: Node) -> bool:
    """Whether a scatter's keys are disjoint slices (step 1) and ints covering a 1-d buffer."""
    (size,) = node.params.get("shape") if len(node.params.get("shape")) == 1 else (None,)
    if size is None or node.params.get("dense"):
        return False
    spans = []
    for key, count in node.params.get("keys"):
        if count or key.tuple_key or len(key.parts) != 1:
            return False
        part = key.parts[0]
        if part[0] == "int":
            start = part[1] % size
            spans.append((start, start + 1))
        elif part[0] == "slice" and part[3] in (None, 1):
            start, stop, _ = slice(part[1], part[2]).indices(size)
            spans.append((start, stop))
        else:
            return False
    spans.sort()
    reach = 0
    for start, stop in spans:
        if start != reach or stop <= start:
            return False
        reach = stop
    return reach == size


def _bound(function: Callable, params) -> Callable:
    extras, kwargs = params.extras, dict(dict(params.kwargs).get("kwargs", ()))
    if not extras and not kwargs:
        return function
    return lambda g, ans, *args: function(g, ans, *args, *extras, **kwargs)


def _latex_name(name: str) -> str:
    if name.startswith("dv"):
        return rf"\bar{{v}}_{{{name[2:]}}}"
    if name == "dx":
        return r"\bar{x}"
    if name[0] in "vtc" and name[1:].isdigit():
        return f"{name[0]}_{{{name[1:]}}}"
    return name


def _latex(node: Node, args: list[str]) -> str:
    op = node.op
    if op in _LATEX_INFIX and len(args) == 2:
        if op == "multiply" and (node.args[0].op == "scalar" or node.args[1].op == "scalar"):
            return f"{args[0]} {args[1]}"
        return f"{args[0]} {_LATEX_INFIX[op]} {args[1]}"
    if op == "matmul":
        return f"{args[0]} {args[1]}"
    if op == "negative":
        return f"-{args[0]}"
    if op == "transpose":
        return f"{args[0]}^T"
    if op in ("sum", "mean"):
        axis = node.params.get("axis")
        axes = axis if isinstance(axis, tuple) else (axis,)
        below = "" if axis is None else "_{" + ",".join(str(a) for a in axes) + "}"
        return rf"\{op if op == 'sum' else 'operatorname{mean}'}{below} {args[0]}"
    if op == "getitem":
        return f"{args[0]}[{_key_text(node.params.get('key'), args[1:])}]"
    if op == "reshape":
        dims = r" \times ".join(map(str, node.shape))
        return rf"\operatorname{{reshape}}_{{{dims}}}({args[0]})"
    if op in ("exp", "log", "sin", "cos", "tan", "sinh", "cosh", "tanh"):
        return rf"\{op}({args[0]})"
    if op == "square":
        return f"{args[0]}^2"
    if op == "vjp":
        return rf"\operatorname{{vjp}}_{{\mathrm{{{dict(node.params.kwargs)['op']}}}}}({', '.join(args)})"
    name = op.replace("_", r"\_")
    return rf"\operatorname{{{name}}}({', '.join(args)})"


_TEMPORARY = re.compile(r"\b(?:v|t|dv)\d+\b|\bdx\b")


def _with_deletions(lines: list[str], keep: str) -> list[str]:
    """``lines`` with each temporary deleted after its last use.

    Freed arrays are reused by the next allocation of their size; kept to the end, a
    large gradient's dozen temporaries make the allocator return memory to the system
    and fault it back in, page by page, on every call.
    """
    last: dict[str, int] = {}
    for index, line in enumerate(lines):
        for name in _TEMPORARY.findall(line):
            last[name] = index
    dying: dict[int, list[str]] = {}
    for name, index in last.items():
        if name != keep:
            dying.setdefault(index, []).append(name)
    out = []
    for index, line in enumerate(lines):
        out.append(line)
        if index in dying:
            out.append(f"    del {', '.join(sorted(dying[index]))}")
    return out


def generate(root: Node, x: Node, forward: set[int], adjoints: dict[Node, Node]) -> GeneratedGradient:
    """Write, compile and render the code that computes ``root`` from ``x``.

    Parameters
    ----------
    root : Node
        The gradient's node.
    x : Node
        The input symbol.
    forward : set of int
        ``id`` of the nodes of ``f`` itself (named ``v<k>``).
    adjoints : dict
        Node of ``f`` -> its adjoint node (named ``dv<k>``).
    """
    writer = _Writer(root, x, forward, adjoints)
    parameters = ", ".join(["x", *(f"c{i}" for i in range(len(writer.constants)))])
    result = writer.names[id(root)]
    body = _with_deletions(writer.lines, keep=result)
    source = "\n".join([f"def gradient({parameters}):", *body, f"    return {result}", ""])
    namespace = dict(writer.globals)
    exec(compile(source, "<symbolic_array gradient>", "exec"), namespace)  # noqa: S102
    latex = "\\begin{aligned}\n" + " \\\\\n".join(writer.latex) + "\n\\end{aligned}"
    return GeneratedGradient(source, latex, writer.ops, namespace["gradient"], tuple(writer.constants))
