"""Evidence for a disagreement: how ill-conditioned the derivative is, and which rule is wrong.

Two measurements, made only for expressions the classifier has doubts about:

**Rounding amplification A.**  SymPy's derivative of the expression is evaluated at
:data:`PRECISION` digits twice: exactly, and with the result of every operation
multiplied by ``1 + s u`` (``u = 2**-53``, ``s = +-1`` drawn per operation), which is
what float64 rounding does to each result.  ``A = max_k |g~_k - g_k| / (u max|g|)``,
the largest over :data:`TRIALS` sign patterns, is how many units of roundoff the
formula's cancellations turn one rounding per operation into: ``A = 1`` for a
well-conditioned formula, ``1e8`` where a sum cancels 8 digits.  A float64 method that
evaluates this derivative is expected to be off by about ``A u``.

**Localization.**  Each primitive of the expression is checked alone: the operation
applied to the float64 values its arguments have at the point, differentiated by the
method and by the reference.  A primitive whose derivative the method gets wrong on
its own is where a wrong (or numerically weak) rule lives; the one-operation
expression and its point are a shrunk reproduction.
"""

from __future__ import annotations

import warnings

import numpy as np
import sympy

from ..budget import time_budget
from ..methods import METHODS
from ..methods.symbolic.gradient import differentiate
from ..ops.numpy_namespace import numpy_namespace
from ..truth.accuracy import normwise_relative_error
from ..truth.reference import reference_gradient
from .classify import BOUNDS, KNOWN_LIMITS, ROUNDING_UNIT, LocalFinding
from .expression import Expression, Node, evaluate_nodes, expression_text, make_function
from .fit import as_tuples

__all__ = [
    "BUDGET_S",
    "PRECISION",
    "TRIALS",
    "ExpressionEvidence",
    "local_expression",
    "rounding_amplification",
]

#: Working digits of the perturbed evaluations: enough for 2**-53 perturbations to
#: survive cancellations of up to 40 digits.
PRECISION = 60

#: Random sign patterns tried.
TRIALS = 3

#: Time budget (seconds) of every SymPy-heavy step of a fuzz case: each method, the
#: reference, the amplification, each local check.
BUDGET_S = 30.0


def _is_exact(value) -> bool:
    return isinstance(value, (sympy.Integer, sympy.Rational)) or value.is_Boolean or not value.is_number


def _evaluate(expressions, inputs: dict, signs) -> list:
    """Evaluate ``expressions`` node by node, each result times ``1 + s u`` (no s: exact).

    An iterative post-order walk: a node is computed once its arguments are, and
    shared subexpressions are computed (and perturbed) once.
    """
    values: dict = dict(inputs)
    unit = sympy.Float(ROUNDING_UNIT, PRECISION)
    for root in expressions:
        stack = [root]
        while stack:
            node = stack[-1]
            if node in values:
                stack.pop()
                continue
            missing = [a for a in node.args if a not in values]
            if missing:
                stack.extend(missing)
                continue
            stack.pop()
            if not node.args:  # a number or a named constant such as pi
                values[node] = node if _is_exact(node) else node.evalf(PRECISION)
                continue
            value = node.func(*(values[a] for a in node.args))
            if not _is_exact(value):
                value = value.evalf(PRECISION)
                if signs is not None:
                    value = value * (1 + signs(node) * unit)
            values[node] = value
    return [values[e] for e in expressions]


def _random_signs(rng):
    """A sign of +-1 per node, drawn on first use and then kept."""
    drawn: dict = {}
    return lambda node: drawn.setdefault(node, int(rng.choice((-1, 1))))


def rounding_amplification(f, dim: int, x, trials: int = TRIALS, seed: int = 0) -> float:
    """A: SymPy's derivative formula's amplification of one rounding per operation.

    Parameters
    ----------
    f : callable
        ``f(x, xp)``.
    dim : int
    x : sequence of float
        The point (taken exactly).
    trials : int, optional
        Random sign patterns; the largest amplification is returned.
    seed : int, optional
        Seed of the signs.

    Returns
    -------
    float
        ``max |g~ - g| / (u max |g|)``; ``inf`` if a perturbation changes a component
        of a zero gradient, 0 for a zero gradient that stays zero.

    Examples
    --------
    >>> float(rounding_amplification(lambda x, xp: xp.sum(x * x), 1, [3.0])) <= 2
    True
    """
    symbols, _, gradient = differentiate(f, dim)
    inputs = {s: sympy.Float(float(v), PRECISION) for s, v in zip(symbols, x, strict=True)}
    exact = np.array([float(v) for v in _evaluate(gradient, inputs, None)])
    scale = np.max(np.abs(exact))
    rng = np.random.default_rng(seed)
    worst = 0.0
    for _ in range(trials):
        perturbed = _evaluate(gradient, inputs, _random_signs(rng))
        deviation = max(abs(complex(p) - e) for p, e in zip(perturbed, exact, strict=True))
        if not np.isfinite(deviation):
            return float("inf")
        worst = max(worst, deviation)
    if worst == 0.0:
        return 0.0
    return float(worst / (ROUNDING_UNIT * scale)) if scale > 0 else float("inf")


def local_expression(nodes, index: int, values: list) -> tuple[tuple[Node, ...], np.ndarray]:
    """Node ``index`` alone, applied to its arguments' float64 values.

    Returns the one-operation table and its point: the non-constant arguments are
    packed into x (each as a slice or element, reshaped back), constants stay constants.
    A result that is not a scalar is summed with weights ``1 + j/8`` (distinct, so a rule
    that permutes or misplaces components is still seen).
    """
    node = nodes[index]
    table: list[Node] = []
    point: list[float] = []
    arguments = []
    sizes = [int(np.size(values[a])) for a in node.args if nodes[a].op != "constant"]
    table.append(Node("x", (), (sum(sizes),)))
    for a in node.args:
        argument = nodes[a]
        if argument.op == "constant":
            table.append(argument)
        elif argument.shape == ():
            table.append(Node("getitem", (0,), (), (("index", len(point)),)))
        else:
            size = int(np.prod(argument.shape))
            key = ("slice", len(point), len(point) + size, None)
            table.append(Node("getitem", (0,), (size,), (key,)))
            if len(argument.shape) != 1:
                table.append(Node("reshape", (len(table) - 1,), argument.shape, (argument.shape,)))
        if argument.op != "constant":
            point.extend(np.ravel(values[a]).tolist())
        arguments.append(len(table) - 1)
    table.append(Node(node.op, tuple(arguments), node.shape, node.params))
    if node.shape != ():
        weights = 1.0 + np.arange(int(np.prod(node.shape))).reshape(node.shape) / 8.0
        table.append(Node("constant", (), node.shape, (as_tuples(weights),)))
        table.append(Node("multiply", (len(table) - 2, len(table) - 1), node.shape))
        table.append(Node("sum", (len(table) - 1,), (), (None,)))
    return tuple(table), np.array(point, dtype=np.float64)


class ExpressionEvidence:
    """Evidence about one expression, computed on first request and kept.

    Parameters
    ----------
    expression : Expression
    bounds : mapping, optional
        The bound a local check must meet (default :data:`~diffcompare.fuzz.classify.BOUNDS`).
    """

    def __init__(self, expression: Expression, bounds=BOUNDS, budget_s: float | None = BUDGET_S) -> None:
        self.expression = expression
        self.bounds = bounds
        self.budget_s = budget_s
        self._amplification: float | None = None
        self._local_references: dict[int, object] = {}
        self._findings: dict[str, LocalFinding | None] = {}

    def amplification(self) -> float:
        """A at the expression's point (see :func:`rounding_amplification`); NaN if not computable.

        NaN (SymPy failed, or the budget ran out) explains nothing: the classifier then
        says so in its note.
        """
        if self._amplification is None:
            e = self.expression
            try:
                with time_budget(self.budget_s):
                    self._amplification = rounding_amplification(e.f, e.dim, e.point, seed=e.seed)
            except Exception:
                self._amplification = float("nan")
        return self._amplification

    def localize(self, method: str) -> LocalFinding | None:
        """The first primitive ``method`` differentiates wrongly on its own, or ``None``.

        Primitives with a documented weakness of ``method`` are checked first.
        """
        if method not in self._findings:
            self._findings[method] = self._localize(method)
        return self._findings[method]

    def _localize(self, method: str) -> LocalFinding | None:
        nodes = self.expression.nodes
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            values = evaluate_nodes(nodes, np.array(self.expression.point), numpy_namespace)
        candidates = [i for i, n in enumerate(nodes) if n.op not in ("x", "constant")]
        candidates.sort(key=lambda i: (method, nodes[i].op) not in KNOWN_LIMITS)  # stable: weak rules first
        for index in candidates:
            table, point = local_expression(nodes, index, values)
            reference = self._local_reference(index, table, point)
            if reference is None or reference.status != "ok":
                continue
            try:
                with time_budget(self.budget_s), warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)
                    gradient = METHODS[method].prepare(make_function(table), point.size).gradient(point)
                error = normwise_relative_error(gradient, reference.value)
            except NotImplementedError:
                continue
            except Exception:  # a method that fails on one primitive has localized its failure
                error = float("inf")
            if not error <= self.bounds[method].norm_rel:
                return LocalFinding(nodes[index].op, expression_text(table), tuple(point.tolist()), error)
        return None

    def _local_reference(self, index: int, table, point: np.ndarray):
        """The reference of the one-operation expression (kept for the next method), or None."""
        if point.size == 0:
            return None
        if index not in self._local_references:
            try:
                with time_budget(self.budget_s):
                    self._local_references[index] = reference_gradient(make_function(table), point)
            except Exception:
                self._local_references[index] = None
        return self._local_references[index]
