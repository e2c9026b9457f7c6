"""Vectorised symbolic differentiation: slice symbols, reverse mode over reductions, numpy.

``f(x, xp)`` is traced with :data:`~diffcompare.methods.symbolic_vector.namespace.sympy_vector_namespace`:
arrays are elementwise SymPy expressions in slice symbols (``x``, ``x[1:]``, ``x[0]``),
constant arrays and reduction symbols ``r_k = op(e_k)``.  The output is a scalar
expression ``out`` in the ``r_k`` and single elements.  The gradient then follows from
the chain rule on that small graph, walked in reverse creation order (a reduction only
uses earlier ones, so this is a topological order and the walk is a plain loop):

- ``adjoint(r_k) = d out / d r_k + sum_m sum_i adjoint(r_m) w_m,i (d e_m / d r_k)_i`` over
  the later reductions ``m`` that use ``r_k``, where ``w_m,i = d r_m / d e_m,i`` is 1
  for ``sum``, ``1/length`` for ``mean``, the softmax for ``logsumexp``;
- each slice symbol ``s`` in ``e_k`` adds the array ``adjoint(r_k) w_k (d e_k / d s)``
  into the positions of ``x`` it stands for (summed over the elements if ``s`` is a
  single element or a broadcast length-1 slice).

``sympy.diff`` computes each ``d e / d s`` once, as an elementwise expression, so the
setup does not depend on ``n`` beyond the slices' lengths.  The numpy evaluation comes in
waves: wave 0 is one lambdified function (common subexpressions eliminated) of the slices
that returns the elements of the reductions over slices alone and every partial that needs
no reduction's value; each later wave needs only the reductions of the waves before it.
The slicing and scatter-adds are numpy slicing, so a gradient costs O(n) vectorised work.

When the trace is total (no operation with a pole or a domain edge, see
``VectorTrace.total``), the value of ``f`` joins its wave, sharing subexpressions with
the partials, and stands in for the numpy check of a singular point in
``diffcompare.grad``.
"""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import sympy

from ...ops.numpy_namespace import NUMPY_FUNCTIONS
from ...ops.structural import products_of_others
from ...validation import check_callable, check_scalar_output
from ..symbolic.gradient import _operation_count, _with_round_trip_floats, lambdify_numpy, powers_with_limits
from .namespace import Reduction, VectorExpression, VectorTrace, sympy_vector_namespace

try:
    from sympy.core.parameters import distribute
except ImportError:  # a SymPy that no longer distributes numbers over sums drops the switch
    distribute = contextlib.nullcontext

__all__ = [
    "REDUCTION_RULES",
    "ReductionRule",
    "Stage",
    "SymbolicVectorGradient",
    "differentiate_vector",
    "symbolic_vector_gradient",
    "trace_vector",
]


@dataclass(frozen=True)
class ReductionRule:
    """How a whole-array reduction is evaluated and differentiated.

    Attributes
    ----------
    value : callable
        ``value(elements) -> float``: the reduction of the evaluated elements.
    weights : callable
        ``weights(g, elements, value, length)``: ``g`` (the reduction's adjoint) times
        the derivative of the reduction with respect to each element; a scalar where
        that derivative is the same for every element.
    needs_elements : bool
        Whether ``weights`` reads the elements (then they are evaluated on every call).
    """

    value: Callable[[np.ndarray], float]
    weights: Callable[..., float | np.ndarray]
    needs_elements: bool = False


def _max_weights(g, elements, value, length):
    # Ties share the gradient equally, as in the tape.
    hit = elements == value
    return g * (hit / np.count_nonzero(hit))


def _softmax_weights(g, elements, value, length):
    # softmax = e / sum(e) with e = exp(v - max v): every e is in (0, 1], so nothing
    # overflows, and unlike exp(v - lse) no rounding error of lse is amplified by exp.
    e = np.exp(elements - np.max(elements))
    return g * (e / np.sum(e))


def _prod_weights(g, elements, value, length):
    # The products of the other elements, not value / elements: right at zeros.
    return g * products_of_others(elements)


# fmt: off
REDUCTION_RULES: dict[str, ReductionRule] = {
    "sum":       ReductionRule(np.sum,  lambda g, elements, value, length: g),
    "mean":      ReductionRule(np.mean, lambda g, elements, value, length: g / length),
    "max":       ReductionRule(np.max,  _max_weights, needs_elements=True),
    # the shifted, overflow-free log-sum-exp of the numpy namespace
    "logsumexp": ReductionRule(NUMPY_FUNCTIONS["logsumexp"], _softmax_weights, needs_elements=True),
    "prod":      ReductionRule(np.prod, _prod_weights, needs_elements=True),
}
# fmt: on


def trace_vector(f: Callable, dim: int) -> tuple[VectorTrace, sympy.Expr]:
    """Evaluate ``f`` on the vector symbol ``x`` of length ``dim``.

    Returns
    -------
    trace : VectorTrace
        What each slice, constant and reduction symbol stands for.
    output : sympy.Expr
        ``f`` as a scalar expression in reduction symbols and single elements.

    Raises
    ------
    NotImplementedError
        If ``f`` uses an operation the vectorised form cannot express (the message
        names it).
    ValueError
        If ``f`` combines slices of different lengths or does not return a scalar.
    TypeError
        If ``f`` returns something that is not a real number.
    """
    check_callable(f)
    trace = VectorTrace(dim)
    out = f(trace.input(), sympy_vector_namespace)
    if isinstance(out, VectorExpression):
        if out.shape != ():
            raise ValueError(
                f"f must return a scalar; with the sympy_vector namespace it returned shape {out.shape}"
            )
        return trace, check_scalar_output(out.expression, "symbolic_vector")
    check_scalar_output(out, "symbolic_vector")
    return trace, sympy.sympify(float(np.asarray(out)))


@dataclass(frozen=True)
class Stage:
    """One node of the reverse walk: the output or a reduction, with its partials.

    Attributes
    ----------
    reduction : Reduction or None
        ``None`` for the output.
    expression : sympy.Expr
        The output, or the reduction's elementwise expression.
    partials : tuple of (sympy.Symbol, sympy.Expr)
        ``d expression / d s`` for every slice and reduction symbol ``s`` in it.
    """

    reduction: Reduction | None
    expression: sympy.Expr
    partials: tuple[tuple[sympy.Symbol, sympy.Expr], ...]


def differentiate_vector(trace: VectorTrace, output: sympy.Expr) -> tuple[Stage, ...]:
    """The stages of the reverse walk: the output, then the reductions it uses, latest first."""
    by_symbol = {r.symbol: r for r in trace.reductions}
    used, pending = set(), [s for s in output.free_symbols if s in by_symbol]
    while pending:  # every reduction the output depends on, directly or not
        symbol = pending.pop()
        if symbol not in used:
            used.add(symbol)
            pending.extend(s for s in by_symbol[symbol].expression.free_symbols if s in by_symbol)
    stages = [(None, output)] + [(r, r.expression) for r in reversed(trace.reductions) if r.symbol in used]

    def partials(expression):
        variables = sorted(expression.free_symbols - set(trace.constants), key=sympy.default_sort_key)
        differentiated = powers_with_limits(expression)  # d/de 0**e = 0, as in method "symbolic"
        return tuple((s, sympy.diff(differentiated, s)) for s in variables)

    return tuple(Stage(reduction, expression, partials(expression)) for reduction, expression in stages)


@dataclass(frozen=True)
class _Compiled:
    """A lambdified function of ``arguments`` and its source."""

    arguments: tuple[sympy.Symbol, ...]
    function: Callable
    source: str


def _compile(expressions: list[sympy.Expr]) -> _Compiled:
    expressions = _with_round_trip_floats(expressions)
    arguments = tuple(sorted(set().union(*(e.free_symbols for e in expressions)), key=sympy.default_sort_key))
    function = lambdify_numpy(arguments, expressions, sympy.cse(expressions))
    return _Compiled(arguments, function, inspect.getsource(function))


def _operation_counts(expressions: list[sympy.Expr]) -> tuple[int, int]:
    """Operations in ``expressions`` before and after CSE, as :func:`_compile` counts them."""
    expressions = _with_round_trip_floats(expressions)
    replacements, reduced = sympy.cse(expressions)
    after = _operation_count(r for _, r in replacements) + _operation_count(reduced)
    return _operation_count(expressions), after


@dataclass(frozen=True)
class _Reduce:
    """Reduction ``symbol``: ``rule.value`` of its elements, which a wave returns."""

    symbol: sympy.Symbol
    rule: ReductionRule
    shape: tuple[int]


@dataclass(frozen=True)
class _Wave:
    """One numpy function: the elements of ``reductions``, then the items at ``positions``.

    Items are the walk's partials, numbered in walk order, and (numbered after them) the
    value of ``f``.
    """

    compiled: _Compiled
    reductions: tuple[_Reduce, ...]
    positions: tuple[int, ...]


@dataclass(frozen=True)
class _Plan:
    """The waves that evaluate some items, and the slices of ``x`` they read.

    An item that is a reduction symbol (the value of ``f = sum(...)``) is read from the
    reduced values (``direct``: position and symbol), not returned by a wave of its own.
    ``in_order``: one wave returns every item in order and nothing else (no reduction
    is read before the walk), the common case, evaluated without the bookkeeping.
    """

    inputs: tuple[tuple[sympy.Symbol, slice | int], ...]
    waves: tuple[_Wave, ...]
    direct: tuple[tuple[int, sympy.Symbol], ...]
    items: int
    in_order: bool


@dataclass(frozen=True)
class _Scatter:
    """Where partial number ``position`` goes: reduction ``target``, or ``x[index]``."""

    position: int
    target: sympy.Symbol | None
    index: slice | int | None
    summed: bool  # the target is one value broadcast over the stage's elements


@dataclass(frozen=True)
class _Backward:
    """One stage of the walk with its rule (None for the output) and its scatters."""

    symbol: sympy.Symbol | None
    rule: ReductionRule | None
    shape: tuple[int, ...]
    length: int
    scatters: tuple[_Scatter, ...]


def _numpy_index(position: range | int) -> slice | int:
    if isinstance(position, int):
        return position
    if not position:  # an empty range may start at -1 (range(3)[::-1][3:]), which numpy reads as "last"
        return slice(0, 0)
    # range(n)[::-1] is range(n - 1, -1, -1); as a numpy slice the stop -1 would mean
    # "the last element", so a stop before the start of the array becomes None.
    return slice(position.start, position.stop if position.stop >= 0 else None, position.step)


@dataclass(frozen=True)
class SymbolicVectorGradient:
    """The vectorised SymPy gradient of a traced function, compiled to numpy.

    Attributes
    ----------
    dim : int
        Length of ``x``.
    trace : VectorTrace
        What each symbol stands for (positions, constants, reductions).
    expression : sympy.Expr
        The output in reduction symbols and single elements.
    stages : tuple of Stage
        The elementwise partial derivatives, in reverse-walk order.
    ops, cse_ops : int
        Operation counts of the partial derivatives before and after CSE (independent
        of ``dim``).
    source : str
        The generated numpy functions of the gradient's waves.
    total : bool
        Whether the trace is total, so that :meth:`checked` can take ``f(x)`` from its
        own waves.
    """

    dim: int
    trace: VectorTrace = field(repr=False)
    expression: sympy.Expr
    stages: tuple[Stage, ...] = field(repr=False)
    ops: int
    cse_ops: int
    source: str = field(repr=False)
    total: bool
    _gradient: _Plan = field(repr=False)
    _with_value: _Plan | None = field(repr=False)
    _backward: tuple[_Backward, ...] = field(repr=False)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self._walk(*self._evaluate(self._gradient, x))

    def checked(self, x: np.ndarray, check_value: Callable) -> np.ndarray:
        """The gradient, after ``check_value(f(x), x)`` on the value the waves computed.

        Only for a total trace (see ``PreparedGradient.checked``).  The value shares its
        numpy function with partials, so the waves run with floating-point warnings off,
        as the numpy check evaluates ``f``.
        """
        if self._with_value is None:
            raise ValueError("checked() needs a total trace: f has operations with singular points")
        with np.errstate(all="ignore"):
            values, elements, items = self._evaluate(self._with_value, x)
        check_value(items[-1], x)
        return self._walk(values, elements, items)

    def _evaluate(self, plan: _Plan, x: np.ndarray) -> tuple[dict, dict, list]:
        values = {symbol: x[index] for symbol, index in plan.inputs}
        values.update(self.trace.constants)
        if plan.in_order:
            compiled = plan.waves[0].compiled
            return values, {}, compiled.function(*[values[s] for s in compiled.arguments])
        elements, items = {}, [None] * plan.items
        for wave in plan.waves:
            compiled = wave.compiled
            evaluated = compiled.function(*[values[s] for s in compiled.arguments])
            for step, result in zip(wave.reductions, evaluated, strict=False):  # the elements come first
                if np.shape(result) != step.shape:  # a constant, or a single element's expression
                    result = np.broadcast_to(result, step.shape)
                elements[step.symbol] = result
                values[step.symbol] = step.rule.value(result)
            for position, result in zip(wave.positions, evaluated[len(wave.reductions) :], strict=True):
                items[position] = result
        for position, symbol in plan.direct:
            items[position] = values[symbol]
        return values, elements, items

    def _walk(self, values: dict, elements: dict, partials: list) -> np.ndarray:
        gradient = np.zeros(self.dim)
        adjoints = {stage.symbol: 0.0 for stage in self._backward}
        for stage in self._backward:
            if stage.rule is None:
                local = 1.0
            else:
                local = stage.rule.weights(
                    adjoints[stage.symbol], elements.get(stage.symbol), values.get(stage.symbol), stage.length
                )
            # Multiplying by 1.0 is exact: skipping it (the output's own partials, the
            # partials of a sum the output just adds) saves a pass over the array.
            unit = isinstance(local, float) and local == 1.0
            for scatter in stage.scatters:
                contribution = partials[scatter.position] if unit else local * partials[scatter.position]
                if scatter.summed:
                    contribution = np.sum(np.broadcast_to(contribution, stage.shape))
                if scatter.target is None:
                    gradient[scatter.index] += contribution
                else:
                    adjoints[scatter.target] += contribution
        return gradient


def _plan(trace: VectorTrace, stages: tuple[Stage, ...], items: list[sympy.Expr]) -> _Plan:
    """The waves that evaluate ``items`` and the reductions the walk reads.

    A reduction whose elements use reductions of wave ``w`` (and none later) is reduced
    in wave ``w + 1``; an item goes to the first wave after the reductions it uses, so
    that its subexpressions are shared with the elements computed there.
    """
    by_symbol = {r.symbol: r for r in trace.reductions}
    needed = {s for item in items for s in item.free_symbols if s in by_symbol}
    needed |= {s.reduction.symbol for s in stages[1:] if REDUCTION_RULES[s.reduction.op].needs_elements}
    pending = list(needed)
    while pending:  # evaluating a reduction needs the values of those it uses
        for symbol in by_symbol[pending.pop()].expression.free_symbols:
            if symbol in by_symbol and symbol not in needed:
                needed.add(symbol)
                pending.append(symbol)
    wave_of: dict[sympy.Symbol, int] = {}

    def first_wave(expression):
        return max((wave_of[s] + 1 for s in expression.free_symbols if s in wave_of), default=0)

    for reduction in trace.reductions:  # creation order: the reductions it uses come first
        if reduction.symbol in needed:
            wave_of[reduction.symbol] = first_wave(reduction.expression)
    direct = tuple((i, item) for i, item in enumerate(items) if item in wave_of)
    item_waves = [None if item in wave_of else first_wave(item) for item in items]
    waves = []
    for w in range(1 + max([*wave_of.values(), *(w for w in item_waves if w is not None)], default=0)):
        reductions = [r for r in trace.reductions if wave_of.get(r.symbol) == w]
        positions = tuple(i for i, item_wave in enumerate(item_waves) if item_wave == w)
        compiled = _compile([r.expression for r in reductions] + [items[i] for i in positions])
        steps = tuple(_Reduce(r.symbol, REDUCTION_RULES[r.op], (r.length,)) for r in reductions)
        waves.append(_Wave(compiled, steps, positions))
    arguments = set().union(*(wave.compiled.arguments for wave in waves))
    inputs = tuple((s, _numpy_index(p)) for s, p in trace.positions.items() if s in arguments)
    in_order = len(waves) == 1 and not waves[0].reductions and waves[0].positions == tuple(range(len(items)))
    return _Plan(inputs, tuple(waves), direct, len(items), in_order)


def _plan_backward(trace: VectorTrace, stages: tuple[Stage, ...]) -> tuple[_Backward, ...]:
    backward, position = [], 0
    for stage in stages:
        reduction = stage.reduction
        shape = () if reduction is None else (reduction.length,)
        scatters = []
        for symbol, _ in stage.partials:
            slice_position = trace.positions.get(symbol)
            index = None if slice_position is None else _numpy_index(slice_position)
            target = symbol if slice_position is None else None
            scatters.append(_Scatter(position, target, index, trace.shape_of(symbol) != shape))
            position += 1
        backward.append(
            _Backward(
                None if reduction is None else reduction.symbol,
                None if reduction is None else REDUCTION_RULES[reduction.op],
                shape,
                0 if reduction is None else reduction.length,
                tuple(scatters),
            )
        )
    return tuple(backward)


def symbolic_vector_gradient(f: Callable, dim: int) -> SymbolicVectorGradient:
    """Differentiate ``f(x, xp)`` symbolically on whole slices, for vectors of length ``dim``.

    Parameters
    ----------
    f : callable
        ``f(x, xp)`` returning a scalar, written with elementwise operations, basic
        slices and single elements of ``x``, and whole-array ``sum``, ``mean``, ``max``
        and ``logsumexp``.
    dim : int
        Length of ``x``.

    Returns
    -------
    SymbolicVectorGradient
        Callable on a float64 vector; carries the expressions, their sizes and the code.

    Raises
    ------
    NotImplementedError
        If ``f`` uses an operation the vectorised form cannot express (``matmul``,
        ``reshape``, a reduction along an axis, ``where`` with a traced condition,
        fancy indexing); the message names it.
    ValueError
        If ``f`` combines slices of different lengths or does not return a scalar.

    Examples
    --------
    >>> import numpy as np
    >>> g = symbolic_vector_gradient(lambda x, xp: xp.sum(x[1:] * x[:-1]), 3)
    >>> [stage.partials for stage in g.stages]
    [((r0, 1),), ((x_s0, x_s1), (x_s1, x_s0))]
    >>> g(np.array([1.0, 2.0, 3.0]))
    array([2., 4., 2.])
    """
    trace, output = trace_vector(f, dim)
    # The chain rule leaves a number times a sum, 200*(x1 - x0**2), which SymPy would
    # distribute (200*x1 - 200*x0**2) here and again wherever an expression is rebuilt
    # (CSE, float round-trips): an operation per term for numpy, and a sum hidden from
    # CSE, which shares it with the value of f and the other partials.
    with distribute(False):
        stages = differentiate_vector(trace, output)
        partials = [d for stage in stages for _, d in stage.partials]
        ops, cse_ops = _operation_counts(partials)
        gradient = _plan(trace, stages, partials)
        with_value = _plan(trace, stages, [*partials, output]) if trace.total else None
    return SymbolicVectorGradient(
        dim=dim,
        trace=trace,
        expression=output,
        stages=stages,
        ops=ops,
        cse_ops=cse_ops,
        source="\n".join(wave.compiled.source for wave in gradient.waves),
        total=trace.total,
        _gradient=gradient,
        _with_value=with_value,
        _backward=_plan_backward(trace, stages),
    )
