"""Derivative rules on every memory layout and broadcast an operand can arrive in.

A rule may special-case a layout (the tape's matmul returns ``(g^T a)^T`` for a
transposed right operand, so that the gradient is laid out like the operand) or
assume one (a contiguous value, no batch axes).  Values that are equal compare equal
whatever their strides, so a rule that is wrong for one layout passes every test
written with fresh C-ordered arrays.  Here every operation meets its operands in C
order, Fortran order, as transposed views, as strided and reversed slices, with batch
axes and broadcasting, traced or constant (the rules see the constants too), and the
gradients of the tape (``method="tape"``, reverse mode) and of dual numbers
(``method="forward"``) are compared with autograd's.  Autograd is checked in turn
against central differences, which use no derivative rule at all.

The cases are records (:class:`LayoutCase`); the tables below build them and one
parametrised test runs them all.  Special points, where a zero meets an infinite
factor, have their own table of known values.  Regression tests of the rules that
were wrong, each against an exact gradient, close the file.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib.util
from collections.abc import Callable
from itertools import product

import numpy as np
import pytest

import diffcompare


def _have(package: str) -> bool:
    return importlib.util.find_spec(package) is not None


#: The engines whose rules are under test, by method name.
ENGINES = ("tape", "forward")

#: The witness the engines are compared with (an independent implementation of the rules).
WITNESS = "autograd"

# Normwise relative tolerances: max |got - expected| <= rtol * max |expected|.  Two
# exact methods differ only by rounding in a few operations on values of order 1
# (about 1e-15).  Central differences with the cbrt(eps) step are accurate to about
# eps^(2/3) = 4e-11 relative to |f| (see diffcompare.methods.central.difference.central_step);
# f is a weighted sum of at most a few dozen sines, so 1e-7 leaves a wide margin.  A
# layout bug is an error of order 1.
RTOL = {"exact": 1e-12, "central": 1e-7}

#: The memory layouts an operand of each number of dimensions is tried in (see _arrange).
LAYOUTS = {
    1: ("C", "strided", "reversed"),
    2: ("C", "F", "strided", "reversed"),
    3: ("C", "F", "T", "permuted", "strided"),
}


def _storage(shape: tuple[int, ...], layout: str) -> int:
    """How many values an operand of ``shape`` takes in ``layout`` (a strided one skips half)."""
    size = int(np.prod(shape))
    return 2 * size if layout == "strided" else size


def _arrange(values, xp, shape: tuple[int, ...], layout: str):
    """The 1-d ``values`` as an array of ``shape`` stored in ``layout``, built with ``xp``.

    ``"C"``: a reshape (C order).  ``"F"``: the transpose of a C array of the reversed
    shape (Fortran order).  ``"T"``: the last two axes swapped (a stack of transposed
    matrices).  ``"permuted"``: axes rotated, neither C nor Fortran order.
    ``"strided"``: every other row of a C array twice as long.  ``"reversed"``: a C
    array read backwards along its first axis (a negative stride).
    """
    ndim = len(shape)
    if layout == "C":
        return xp.reshape(values, shape)
    if layout == "F":
        return xp.transpose(xp.reshape(values, shape[::-1]))
    if layout == "T":
        axes = (*range(ndim - 2), ndim - 1, ndim - 2)
        return xp.transpose(xp.reshape(values, tuple(shape[a] for a in axes)), axes)
    if layout == "permuted":  # stored as (shape[1], shape[2], shape[0])
        stored = xp.reshape(values, (shape[1], shape[2], shape[0]))
        return xp.transpose(stored, (2, 0, 1))
    if layout == "strided":
        return xp.reshape(values, (2 * shape[0], *shape[1:]))[::2]
    if layout == "reversed":
        return xp.reshape(values, shape)[::-1]
    raise ValueError(f"unknown layout {layout!r}")


@dataclasses.dataclass(frozen=True)
class Operand:
    """An argument of the operation: shape, memory layout, and whether it is part of x."""

    shape: tuple[int, ...]
    layout: str = "C"
    traced: bool = True

    def __str__(self) -> str:
        text = f"{self.shape}{self.layout}".replace(" ", "")
        return text if self.traced else f"const{text}"


@dataclasses.dataclass(frozen=True)
class LayoutCase:
    """``f(x, xp) = sum(sin(op(xp, *operands)) * weights)``, the traced operands packed in x.

    The weights are distinct (``1 + j/8``), so a gradient that lands on the wrong
    element is seen, and ``sin`` makes it depend on the operation's values.
    """

    name: str
    op: Callable
    operands: tuple[Operand, ...]

    @property
    def dim(self) -> int:
        return sum(_storage(o.shape, o.layout) for o in self.operands if o.traced)

    @property
    def point(self) -> np.ndarray:
        # Coordinates in [0.5, 1.5]: inside the domain of every operation used (divide,
        # power), and away from ties of max and maximum (distinct random values).
        return np.random.default_rng(self.dim).uniform(0.5, 1.5, self.dim)

    def f(self, x, xp):
        arrays, start = [], 0
        for position, operand in enumerate(self.operands):
            n = _storage(operand.shape, operand.layout)
            if operand.traced:
                arrays.append(_arrange(x[start : start + n], xp, operand.shape, operand.layout))
                start += n
            else:
                values = 0.5 + (0.618034 * np.arange(1, n + 1) + 0.1 * position) % 1.0
                arrays.append(_arrange(values, np, operand.shape, operand.layout))
        out = self.op(xp, *arrays)
        weights = 1.0 + np.arange(int(np.prod(out.shape))).reshape(out.shape) / 8.0
        return xp.sum(xp.sin(out) * weights)


@dataclasses.dataclass(frozen=True)
class DominantCase(LayoutCase):
    """A case whose traced square matrices have 3 added to their diagonal (well conditioned).

    The operand is a view of the point (see _arrange), so adding to the view's diagonal
    moves the right coordinates whatever the layout; linear systems and inverses of
    matrices with entries in [0.5, 1.5] are too ill conditioned for central differences.
    """

    @property
    def point(self) -> np.ndarray:
        x = super().point
        start = 0
        for operand in (o for o in self.operands if o.traced):
            n = _storage(operand.shape, operand.layout)
            view = _arrange(x[start : start + n], np, operand.shape, operand.layout)
            if operand.shape[-2:] == (operand.shape[-1],) * 2:
                diagonal = np.arange(operand.shape[-1])
                view[..., diagonal, diagonal] += 3.0
            start += n
        return x


# Which operands are traced: both, or one of them (the rules see the constant too).
_TRACED_PAIRS = ((True, True), (True, False), (False, True))


def _one_at_a_time(shape_a, shape_b):
    """Every layout of each operand, the other one in C order."""
    pairs = [(layout, "C") for layout in LAYOUTS[len(shape_a)]]
    return pairs + [("C", layout) for layout in LAYOUTS[len(shape_b)][1:]]


def _side_by_side(shape_a, shape_b):
    """The i-th layout of one operand with the i-th of the other (the shorter list repeats)."""
    a, b = LAYOUTS[len(shape_a)], LAYOUTS[len(shape_b)]
    return [(a[i % len(a)], b[i % len(b)]) for i in range(max(len(a), len(b)))]


def _cycled(index: int, ndim: int) -> str:
    """Layout number ``index`` of a ``ndim``-d operand, counting round the list.

    A table of many cases then meets every layout without multiplying its length by
    the number of layouts.
    """
    return LAYOUTS[ndim][index % len(LAYOUTS[ndim])]


def _binary_cases(label, op, shape_pairs, layout_pairs, traced_pairs=_TRACED_PAIRS) -> list[LayoutCase]:
    cases = []
    for shape_a, shape_b in shape_pairs:
        layouts = layout_pairs(shape_a, shape_b)
        for (layout_a, layout_b), (traced_a, traced_b) in product(layouts, traced_pairs):
            a, b = Operand(shape_a, layout_a, traced_a), Operand(shape_b, layout_b, traced_b)
            cases.append(LayoutCase(f"{label} {a} {b}", op, (a, b)))
    return cases


# fmt: off
#: matmul's operand shapes: 1-d, 2-d, a batch times a matrix (the transposed-matrix fast
#: path must not be taken there), a matrix times a batch, batches that broadcast.
MATMUL_SHAPES = (
    ((3,), (3,)), ((3,), (3, 2)), ((2, 3), (3,)), ((2, 3), (3, 4)), ((3, 2, 3), (3, 3)),
    ((3, 2, 3), (3,)), ((2, 3), (2, 3, 4)), ((2, 2, 3), (2, 3, 4)), ((1, 2, 3), (2, 3, 2)),
)

#: dot is matmul for 1-d and 2-d operands (N-d: see the dot regression test).
DOT_SHAPES = (((3,), (3,)), ((3,), (3, 2)), ((2, 3), (3,)), ((2, 3), (3, 4)))

#: Elementwise operands that broadcast: equal shapes, a row, a batch, both stretched.
BROADCAST_SHAPES = (((2, 3), (2, 3)), ((2, 3), (3,)), ((2, 3, 4), (3, 4)), ((2, 1, 4), (3, 1)))

#: Elementwise operations: add and multiply with every traced/constant pair (one passes
#: the gradient through, the other uses the other operand); the others both traced.
ELEMENTWISE = {
    "add":      (lambda xp, a, b: xp.add(a, b), _TRACED_PAIRS),
    "multiply": (lambda xp, a, b: a * b, _TRACED_PAIRS),
    "divide":   (lambda xp, a, b: xp.divide(a, b), _TRACED_PAIRS[:1]),
    "power":    (lambda xp, a, b: xp.power(a, b), _TRACED_PAIRS[:1]),
    "maximum":  (lambda xp, a, b: xp.maximum(a, b), _TRACED_PAIRS[:1]),
    # elementwise group: each factor reads the other operand, so constants too
    "hypot":     (lambda xp, a, b: xp.hypot(a, b), _TRACED_PAIRS),
    "arctan2":   (lambda xp, a, b: xp.arctan2(a, b), _TRACED_PAIRS),
    "logaddexp": (lambda xp, a, b: xp.logaddexp(a, b), _TRACED_PAIRS[:1]),
    "xlogy":     (lambda xp, a, b: xp.xlogy(a, b), _TRACED_PAIRS),
}

#: The elementwise group's unary operations on one operand in every layout, moved into
#: their domains from the points' [0.5, 1.5]; the steps as x * step(x), whose
#: derivative is the step's value.
UNARY_ELEMENTWISE = {
    "square":  lambda xp, a: xp.square(a),
    "log2":    lambda xp, a: xp.log2(a),
    "log10":   lambda xp, a: xp.log10(a),
    "exp2":    lambda xp, a: xp.exp2(a),
    "arccosh": lambda xp, a: xp.arccosh(1.0 + a),
    "arctanh": lambda xp, a: xp.arctanh(a - 1.0),
    "erf":     lambda xp, a: xp.erf(a),
    "erfc":    lambda xp, a: xp.erfc(a),
    "gammaln": lambda xp, a: xp.gammaln(a),
    "digamma": lambda xp, a: xp.digamma(a),
    "sign":    lambda xp, a: a * xp.sign(a - 1.0),
    "floor":   lambda xp, a: a * xp.floor(4.0 * a),
    "round":   lambda xp, a: a * xp.round(4.0 * a),
}
UNARY_SHAPES = ((2, 3), (2, 3, 4))

#: Axes of the reductions, for a 2-d and a 3-d operand.
REDUCTION_AXES = {(3, 4): (None, 0, -1), (2, 3, 4): (None, 1, -1, (0, 2), (-1, 0))}

#: Keys of getitem: slices, strides, negative steps, index arrays (repeating a position),
#: a mix of basic and advanced indices.
GETITEM_KEYS = {
    (4, 5): ((slice(1, 3),), (slice(None, None, 2),), (slice(None), slice(None, None, -2)),
             ([0, 2, 2],), ([0, 3], [1, 1]), (Ellipsis, 1), (slice(None), [4, 0, 4]),
             (None, slice(1, None))),
    (2, 3, 4): ((slice(None), 1), (Ellipsis, slice(None, None, 2)), (1, slice(None), [0, 3, 0]),
                ([1, 0], slice(None), 2)),
}

RESHAPES = {
    (3, 4): ((12,), (2, 6), (4, 3), (2, 2, 3), (-1, 2)),
    (2, 3, 4): ((6, 4), (4, 6), (24,), (3, 2, 4)),
}

#: Permutations of a 3-d operand, negative axes included (None reverses the axes).
TRANSPOSE_AXES = (None, (1, 0, 2), (2, 0, 1), (0, 2, 1), (-1, 0, 1), (1, -1, 0))

JOIN_SHAPES = (((2, 3), (2, 3)),)
JOIN_AXES = {"concatenate": (0, 1, -1), "stack": (0, 1, 2, -1)}
# fmt: on


#: Linear systems: a matrix (every layout), a stack of matrices, a vector or a matrix of
#: right-hand sides, batches that broadcast.
LINALG_SYSTEMS = (((3, 3), (3,)), ((3, 3), (3, 2)), ((2, 3, 3), (3,)), ((2, 3, 3), (3, 2)))

#: Binary linalg operations: the system's matrix and right-hand side.
LINALG_BINARY = {
    "linalg.solve": (lambda xp, a, b: xp.linalg.solve(a, b), LINALG_SYSTEMS),
    "linalg.solve_triangular lower": (
        lambda xp, a, b: xp.linalg.solve_triangular(a, b, lower=True),
        LINALG_SYSTEMS,
    ),
    "linalg.solve_triangular upper": (lambda xp, a, b: xp.linalg.solve_triangular(a, b), LINALG_SYSTEMS[1:3]),
}

#: Unary linalg operations on matrices and stacks of them.  Cholesky needs a positive
#: definite matrix: it sees a + 3 I (a fresh array, its layout decided by numpy).
LINALG_UNARY = {
    "linalg.inv": (lambda xp, a: xp.linalg.inv(a), ((3, 3), (2, 3, 3))),
    "linalg.det": (lambda xp, a: xp.linalg.det(a), ((3, 3), (2, 3, 3))),
    "linalg.slogdet": (lambda xp, a: xp.linalg.slogdet(a)[1], ((3, 3), (2, 3, 3))),
    "linalg.cholesky": (lambda xp, a: xp.linalg.cholesky(a + 3.0 * xp.eye(3)), ((3, 3), (2, 3, 3))),
    "linalg.eigh eigenvalues": (lambda xp, a: xp.linalg.eigh(a)[0], ((3, 3), (2, 3, 3))),
    "linalg.eigh eigenvectors": (lambda xp, a: xp.linalg.eigh(a)[1], ((3, 3),)),
    "linalg.norm": (lambda xp, a: xp.linalg.norm(a), ((3, 3), (2, 3, 4))),
    "linalg.norm ord=1": (lambda xp, a: xp.linalg.norm(a, 1), ((3, 4),)),
    "linalg.vector_norm ord=3": (
        lambda xp, a: xp.linalg.vector_norm(a, axis=(0, -1), ord=3),
        ((3, 4), (2, 3, 4)),
    ),
    "linalg.matrix_norm": (lambda xp, a: xp.linalg.matrix_norm(a, keepdims=True), ((3, 4), (2, 3, 4))),
    "linalg.matrix_norm ord=inf": (lambda xp, a: xp.linalg.matrix_norm(a, ord=np.inf), ((2, 3, 4),)),
}


def _reduction(name, axis, keepdims):
    return lambda xp, a: getattr(xp, name)(a, axis=axis, keepdims=keepdims)


def _join(name, axis):
    return lambda xp, a, b: getattr(xp, name)([a, b], axis=axis)


def _matmul(xp, a, b):
    return xp.matmul(a, b)


def _matmul_operator(xp, a, b):
    return a @ b  # a constant on the left reaches the traced value through numpy's ufunc


CASES: list[LayoutCase] = [
    *_binary_cases("matmul", _matmul, MATMUL_SHAPES, _one_at_a_time),
    *_binary_cases("a @ b", _matmul_operator, MATMUL_SHAPES[4:5], _one_at_a_time),
    *_binary_cases("dot", lambda xp, a, b: xp.dot(a, b), DOT_SHAPES, _one_at_a_time),
    *(
        case
        for name, (op, traced_pairs) in ELEMENTWISE.items()
        for case in _binary_cases(name, op, BROADCAST_SHAPES, _side_by_side, traced_pairs)
    ),
    *(
        LayoutCase(f"{name} {a}", op, (a,))
        for name, op in UNARY_ELEMENTWISE.items()
        for shape in UNARY_SHAPES
        for a in (Operand(shape, layout) for layout in LAYOUTS[len(shape)])
    ),
    *(
        LayoutCase(f"{name} axis={axis} keepdims={keepdims} {a}", _reduction(name, axis, keepdims), (a,))
        for name in ("sum", "mean", "max", "logsumexp")
        for shape, axes in REDUCTION_AXES.items()
        for i, (axis, keepdims) in enumerate(product(axes, (False, True)))
        for a in (Operand(shape, _cycled(i, len(shape))),)
    ),
    *(
        LayoutCase(f"getitem {key} {a}", lambda xp, v, key=key: v[key], (a,))
        for shape, keys in GETITEM_KEYS.items()
        for key, layout in product(keys, LAYOUTS[len(shape)])
        for a in (Operand(shape, layout),)
    ),
    *(
        LayoutCase(f"reshape {new} {a}", lambda xp, v, new=new: xp.reshape(v, new), (a,))
        for shape, shapes in RESHAPES.items()
        for new, layout in product(shapes, LAYOUTS[len(shape)])
        for a in (Operand(shape, layout),)
    ),
    *(
        LayoutCase(f"transpose {axes} {a}", lambda xp, v, axes=axes: xp.transpose(v, axes), (a,))
        for axes, layout in product(TRANSPOSE_AXES, LAYOUTS[3])
        for a in (Operand((2, 3, 4), layout),)
    ),
    *(
        LayoutCase(f".T {a}", lambda xp, v: v.T, (a,))
        for a in (Operand((2, 3), layout) for layout in LAYOUTS[2])
    ),
    *(
        case
        for name, axes in JOIN_AXES.items()
        for axis in axes
        for case in _binary_cases(f"{name} axis={axis}", _join(name, axis), JOIN_SHAPES, _side_by_side)
    ),
    # linear algebra (xp.linalg)
    *(
        DominantCase(case.name, case.op, case.operands)
        for name, (op, shape_pairs) in LINALG_BINARY.items()
        # the matrix traced: the constant ones that _binary_cases builds are nearly singular
        for case in _binary_cases(name, op, shape_pairs, _one_at_a_time, _TRACED_PAIRS[:2])
    ),
    *(
        DominantCase(f"{name} {a}", op, (a,))
        for name, (op, shapes) in LINALG_UNARY.items()
        for shape in shapes
        for a in (Operand(shape, layout) for layout in LAYOUTS[len(shape)])
    ),
]


# --- reductions, scans and shape operations (issue 14) -------------------------------------

#: Reductions and scans along an axis, for a 2-d and a 3-d operand (cycled layouts).
# fmt: off
STRUCTURAL_AXES = {
    "prod":        lambda axis, keepdims: lambda xp, a: xp.prod(a, axis=axis, keepdims=keepdims),
    "min":         lambda axis, keepdims: lambda xp, a: xp.min(a, axis=axis, keepdims=keepdims),
    "var":         lambda axis, keepdims: lambda xp, a: xp.var(a, axis=axis, ddof=1, keepdims=keepdims),
    "std":         lambda axis, keepdims: lambda xp, a: xp.std(a, axis=axis, keepdims=keepdims),
    "log_softmax": lambda axis, keepdims: lambda xp, a: xp.log_softmax(a, axis=axis),
    "softmax":     lambda axis, keepdims: lambda xp, a: xp.softmax(a, axis=axis),
}

#: Operations of one operand with their arguments, on every layout of a 2-d or 3-d operand.
STRUCTURAL_UNARY = {
    "cumsum axis=None":  ((3, 4),    lambda xp, a: xp.cumsum(a)),
    "cumsum axis=1":     ((2, 3, 4), lambda xp, a: xp.cumsum(a, axis=1)),
    "cumsum axis=-1":    ((3, 4),    lambda xp, a: xp.cumsum(a, axis=-1)),
    "sort axis=-1":      ((2, 3, 4), lambda xp, a: xp.sort(a)),
    "sort axis=0":       ((3, 4),    lambda xp, a: xp.sort(a, axis=0)),
    "sort axis=None":    ((3, 4),    lambda xp, a: xp.sort(a, axis=None)),
    "diagonal":          ((3, 4),    lambda xp, a: xp.diagonal(a, 1)),
    "diagonal 3-d":      ((2, 3, 4), lambda xp, a: xp.diagonal(a, -1, 2, 1)),
    "trace":             ((3, 4),    lambda xp, a: xp.trace(a)),
    "triu":              ((2, 3, 4), lambda xp, a: xp.triu(a, 1)),
    "tril":              ((3, 4),    lambda xp, a: xp.tril(a, -1)),
    "squeeze":           ((3, 4),    lambda xp, a: xp.squeeze(a[:1])),
    "expand_dims":       ((3, 4),    lambda xp, a: xp.expand_dims(a, (0, -1))),
    "flip":              ((2, 3, 4), lambda xp, a: xp.flip(a, (0, 2))),
    "roll":              ((2, 3, 4), lambda xp, a: xp.roll(a, (1, 2), axis=(1, 2))),
    "tile":              ((3, 4),    lambda xp, a: xp.tile(a, (2, 1, 2))),
    "repeat":            ((3, 4),    lambda xp, a: xp.repeat(a, [2, 0, 1], axis=0)),
    "take":              ((2, 3, 4), lambda xp, a: xp.take(a, [3, 0, 3], axis=2)),
    "index None":        ((3, 4),    lambda xp, a: a[None, :, None, ::2]),
    "einsum ii->i":      ((4, 4),    lambda xp, a: xp.einsum("ii->i", a)),
    "einsum ijk->kj":    ((2, 3, 4), lambda xp, a: xp.einsum("ijk->kj", a)),
}

#: einsum of two operands: subscripts and shapes.
EINSUM_PAIRS = (
    ("ij,jk->ik", (2, 3), (3, 4)),
    ("bij,jk->bki", (2, 2, 3), (3, 2)),
    ("ij,ij->j", (3, 4), (3, 4)),
    ("ij,j", (3, 4), (4,)),
)
# fmt: on


def _einsum(subscripts):
    return lambda xp, a, b: xp.einsum(subscripts, a, b)


CASES += [
    *(
        LayoutCase(f"{name} axis={axis} keepdims={keepdims} {a}", make(axis, keepdims), (a,))
        for name, make in STRUCTURAL_AXES.items()
        for shape, axes in REDUCTION_AXES.items()
        for i, (axis, keepdims) in enumerate(product(axes, (False, True)))
        if not (name.endswith("softmax") and keepdims)
        for a in (Operand(shape, _cycled(i, len(shape))),)
    ),
    *(
        LayoutCase(f"{name} {a}", op, (a,))
        for name, (shape, op) in STRUCTURAL_UNARY.items()
        for a in (Operand(shape, layout) for layout in LAYOUTS[len(shape)])
    ),
    *(
        case
        for subscripts, shape_a, shape_b in EINSUM_PAIRS
        for case in _binary_cases(
            f"einsum {subscripts}", _einsum(subscripts), ((shape_a, shape_b),), _one_at_a_time
        )
    ),
    *_binary_cases("outer", lambda xp, a, b: xp.outer(a, b), (((2, 3), (4,)),), _side_by_side),
]


@functools.cache
def _witness_gradient(case: LayoutCase) -> np.ndarray:
    return diffcompare.grad(case.f, method=WITNESS)(case.point)


def _assert_close(got, expected, rtol, what):
    error = np.max(np.abs(got - expected))
    scale = np.max(np.abs(expected))
    assert error <= rtol * scale, f"{what}: error {error:.3g} (scale {scale:.3g})\n{got}\n{expected}"


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
@pytest.mark.parametrize("engine", ENGINES)
def test_rule_on_every_layout(engine, case):
    got = diffcompare.grad(case.f, method=engine)(case.point)
    _assert_close(got, _witness_gradient(case), RTOL["exact"], f"{engine} against {WITNESS}")


#: The dot cases with both operands traced, to be written with numpy's own dot.
NUMPY_DOT_CASES = [c for c in CASES if c.name.startswith("dot ") and all(o.traced for o in c.operands)]


@pytest.mark.parametrize("case", NUMPY_DOT_CASES, ids=lambda case: case.name)
@pytest.mark.parametrize("engine", ENGINES)
def test_numpy_dot_of_traced_values_is_the_namespace_dot(engine, case):
    # np.dot(a, b) reaches the engine through __array_function__.  (Not in the table: the
    # witness, autograd, evaluates np.dot of its boxes as an object array.)
    numpy_dot = dataclasses.replace(case, op=lambda xp, a, b: np.dot(a, b))
    got = diffcompare.grad(numpy_dot.f, method=engine)(case.point)
    _assert_close(got, _witness_gradient(case), RTOL["exact"], f"{engine} against {WITNESS}")


def test_the_witness_agrees_with_central_differences_on_every_case():
    # One test for the whole table: central differences cost 2 n evaluations of f each.
    wrong = []
    for case in CASES:
        expected = diffcompare.central_difference(case.f, case.point)
        error = np.max(np.abs(_witness_gradient(case) - expected))
        if error > RTOL["central"] * np.max(np.abs(expected)):
            wrong.append(f"{case.name}: error {error:.3g}")
    assert not wrong, f"{WITNESS} disagrees with central differences on {len(wrong)} cases: {wrong[:10]}"


# --- the layouts are what they claim: test the tester ---------------------------------------


@pytest.mark.parametrize(
    ("shape", "layout", "c_order", "fortran_order"),
    [
        ((2, 3, 4), "C", True, False),
        ((2, 3, 4), "F", False, True),
        ((2, 3, 4), "T", False, False),
        ((2, 3, 4), "permuted", False, False),
        ((2, 3, 4), "strided", False, False),
        ((4, 5), "reversed", False, False),
        ((3,), "strided", False, False),
    ],
)
def test_the_layouts_are_what_they_claim(shape, layout, c_order, fortran_order):
    values = np.arange(float(_storage(shape, layout)))
    array = _arrange(values, np, shape, layout)
    assert array.shape == shape
    assert (array.flags.c_contiguous, array.flags.f_contiguous) == (c_order, fortran_order)
    assert np.shares_memory(array, values)  # a view, as the traced values are


def test_the_cases_take_the_transposed_matrix_fast_path_and_avoid_it():
    # The tape's matmul special-cases a Fortran-ordered right operand; the table must
    # hold it with and without a batch on the left.
    names = {case.name for case in CASES}
    assert "matmul (2,3)C (3,4)F" in names and "matmul (3,2,3)C (3,3)F" in names


# --- special points: a zero tangent beside an infinite factor ---------------------------------

_INF = np.inf

#: Methods that multiply the other directions' zero tangents by the infinite factor
#: (0 * inf = nan): forward mode, until the elementwise rules are redesigned.
_NOT_FINITE = "f(x) = -inf: grad refuses a point where f is not finite"


@dataclasses.dataclass(frozen=True)
class SpecialPoint:
    """A function whose gradient is infinite in one coordinate and finite in the others."""

    name: str
    f: Callable
    x: tuple[float, ...]
    expected: tuple[float, ...]
    skip: str | None = None


def _sum_of(name: str) -> Callable:
    return lambda x, xp: xp.sum(getattr(xp, name)(x))


def _sum_of_powers(x, xp):
    return xp.sum(x**0.5)  # the tape's path for a constant exponent


# fmt: off
SPECIAL_POINTS = (
    SpecialPoint("sqrt at 0",    _sum_of("sqrt"),   (0, 1, 4),    (_INF, 0.5, 0.25)),
    SpecialPoint("x**0.5 at 0",  _sum_of_powers,    (0, 1, 4),    (_INF, 0.5, 0.25)),
    SpecialPoint("arcsin at 1",  _sum_of("arcsin"), (1, 0, 0.6),  (_INF, 1, 1.25)),
    SpecialPoint("arccos at -1", _sum_of("arccos"), (0, -1, 0.6), (-1, -_INF, -1.25)),
    SpecialPoint("log at 0",     _sum_of("log"),    (0, 1, 4),    (_INF, 1, 0.25),    skip=_NOT_FINITE),
)
# fmt: on


def _special_cases() -> list:
    cases = []
    for point in SPECIAL_POINTS:
        for method in (*ENGINES, WITNESS):
            marks = [pytest.mark.skip(reason=point.skip)] if point.skip else []
            cases.append(pytest.param(method, point, id=f"{method}-{point.name}", marks=marks))
    return cases


@pytest.mark.parametrize(("method", "point"), _special_cases())
def test_special_tangents(method, point):
    with np.errstate(divide="ignore", invalid="ignore"):
        got = diffcompare.grad(point.f, method=method)(np.array(point.x, dtype=float))
    # Exact up to the rounding of the finite entries; an infinite entry must match exactly.
    np.testing.assert_allclose(got, point.expected, rtol=1e-15)


# --- regressions ------------------------------------------------------------------------------


def test_regression_matmul_of_a_batch_times_a_transposed_matrix():
    # Issue 12, defect 1: xp.matmul(A, reshape(x, (3, 3)).T) with a constant A of shape
    # (3, 2, 3).  The tape's fast path for a transposed right operand reversed all three
    # axes of the batched gradient (tape and autograd differed by 22.4).  The function is
    # linear, sum_{b,i,j} W[b,i,j] sum_k A[b,i,k] X[j,k], so its gradient with respect to
    # X is sum_{b,i} W[b,i,j] A[b,i,k], exact in a few flops.
    a = np.arange(18.0).reshape(3, 2, 3) / 7.0 - 1.0
    w = 1.0 + np.arange(18.0).reshape(3, 2, 3) / 8.0

    def f(x, xp):
        return xp.sum(xp.matmul(a, xp.reshape(x, (3, 3)).T) * w)

    expected = np.einsum("bij,bik->jk", w, a).ravel()
    for method in (*ENGINES, WITNESS):
        got = diffcompare.grad(f, method=method)(np.linspace(-1.0, 1.0, 9))
        np.testing.assert_allclose(got, expected, rtol=1e-14, atol=1e-14, err_msg=method)


@pytest.mark.parametrize("shape", [(2, 3, 4), (3, 3, 3)])
@pytest.mark.parametrize("axes", [(-1, 0, 1), (1, -1, 0)])
def test_regression_transpose_with_negative_axes(axes, shape):
    # Found with the layout tests: the tape and autograd both invert the permutation with
    # argsort(axes), which orders -1 first; with (-1, 0, 1) that is the identity.  On
    # (2, 3, 4) the tape failed to unbroadcast, on (3, 3, 3) both were silently wrong.
    # f = sum(W * transpose(X, axes)) is linear; its gradient is W moved back.
    w = 1.0 + np.arange(24.0 if shape == (2, 3, 4) else 27.0) / 8.0
    w = w.reshape(np.transpose(np.empty(shape), axes).shape)

    def f(x, xp):
        return xp.sum(xp.transpose(xp.reshape(x, shape), axes) * w)

    expected = np.transpose(w, np.argsort([axis % 3 for axis in axes])).ravel()
    for method in (*ENGINES, WITNESS):
        got = diffcompare.grad(f, method=method)(np.linspace(-1.0, 1.0, w.size))
        np.testing.assert_array_equal(got, expected, err_msg=method)


_DOT_SHAPES = ((2, 3, 4), (2, 4, 3))


def _dot_operands(x, xp):
    return xp.reshape(x[:24], _DOT_SHAPES[0]), xp.reshape(x[24:], _DOT_SHAPES[1])


#: sum(dot(a, b)**2) written with numpy's dot and with the namespace's.
DOT_SPELLINGS = {
    "np.dot": lambda x, xp: xp.sum(np.dot(*_dot_operands(x, xp)) ** 2),
    "xp.dot": lambda x, xp: xp.sum(xp.dot(*_dot_operands(x, xp)) ** 2),
}

#: Methods that trace N-d arrays (the vectorised symbolic form refuses the reshapes).
_N_D_METHODS = [
    m for m in diffcompare.METHODS if m != "symbolic_vector" and (m != "symengine" or _have("symengine"))
]


@pytest.mark.parametrize("spelling", DOT_SPELLINGS)
@pytest.mark.parametrize("method", _N_D_METHODS)
def test_regression_dot_of_n_d_operands_is_numpys_dot(method, spelling):
    # Issue 12, defect 3: dot was an alias of matmul, but for N-d operands numpy's dot
    # pairs every matrix of a with every matrix of b (shape (2, 3, 2, 3) here), matmul
    # pairs them batch by batch (2, 3, 3); np.dot on the tape was recorded as matmul
    # (74.31 in numpy against 40.00 on the tape).  Every method now computes numpy's dot
    # (a tensordot, written as an einsum).  Exact gradient, with d = dot(a, b):
    # d/da[i,j,m] = 2 sum_{k,l} d[i,j,k,l] b[k,m,l], d/db[k,m,l] = 2 sum_{i,j} d[i,j,k,l] a[i,j,m].
    x = np.linspace(-1.0, 1.0, 48)
    gradient = diffcompare.grad(DOT_SPELLINGS[spelling], method=method)
    a, b = _dot_operands(x, np)
    d = np.einsum("ijm,kml->ijkl", a, b)
    expected = 2.0 * np.concatenate(
        [np.einsum("ijkl,kml->ijm", d, b).ravel(), np.einsum("ijkl,ijm->kml", d, a).ravel()]
    )
    _assert_close(gradient(x), expected, RTOL["central"], method)


def test_the_linalg_cases_see_well_conditioned_matrices():
    # DominantCase moves the diagonal of the operand each layout presents to the operation.
    for case in (c for c in CASES if isinstance(c, DominantCase)):
        x, start = case.point, 0
        for operand in (o for o in case.operands if o.traced):
            n = _storage(operand.shape, operand.layout)
            view = _arrange(x[start : start + n], np, operand.shape, operand.layout)
            if len(operand.shape) >= 2 and operand.shape[-1] == operand.shape[-2]:
                assert np.max(np.linalg.cond(view)) < 10, case.name
            start += n
