"""Random expressions over every tape primitive, reproducible from one integer seed.

:func:`build_expression` draws everything from ``numpy.random.default_rng(seed)`` in a
fixed order, so a seed always gives the same expression, point and text, on any
machine.  :func:`expressions` is the hypothesis strategy over the same builder (it
draws the seed), so property tests and ``scripts/fuzz.py`` explore the same space.

The builder works in two passes over a work list, neither recursive:

1. **Grow, top down, by shape.**  Each pending slot asks for a value of a given shape
   (a scalar, a vector of at most 4 elements, a matrix or a 3-d array of at most 4
   entries) and a remaining depth.  It becomes either a leaf (``x``, ``x[i]``, a slice,
   an index list or a reshape of ``x``, or a constant where the slot allows one) or an
   operation drawn from the names of :data:`diffcompare.ops.OPS` that can produce that
   shape (:func:`operation_forms`, with the odds of :data:`OPERATION_WEIGHTS`, or of
   :data:`TENSOR_WEIGHTS` for a 3-d shape), whose arguments become new pending slots.
2. **Fit the domains, bottom up.**  The drafts are replayed children first; each node's
   enclosure over the box is computed, and each argument whose enclosure is not inside
   the operation's fuzz domain gets a wrapper (:mod:`diffcompare.fuzz.fit`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..ops.table import OPS
from .domains import FUZZ_DOMAINS, MAX_SIZE
from .expression import Expression
from .fit import as_tuples, fit_domains

__all__ = [
    "BOX",
    "CONSTANT_VALUES",
    "EXPONENTS",
    "MAX_OPERATIONS",
    "OPERATION_WEIGHTS",
    "TENSOR_SHAPES",
    "TENSOR_WEIGHTS",
    "build_expression",
    "expressions",
    "operation_forms",
]

#: Every coordinate of x lies in this interval (the enclosures hold on the whole box).
BOX = (-2.0, 2.0)

#: Constants the expressions use: short binary fractions, so the text shows them exactly.
CONSTANT_VALUES = (0.5, 1.5, 2.0, 3.0, -1.0, -0.5, 0.25, -2.0, 1.25, -1.5)

#: Constant exponents of ``power`` (the tape has a separate path for a constant exponent).
EXPONENTS = (2.0, 3.0, 0.5, -1.0, 1.5, -0.5, -2.0)

#: Most operations drawn in phase 1 (wrappers come on top); bounds the SymPy work.
MAX_OPERATIONS = 6

#: Relative odds of drawing an operation among those that can produce a slot's shape
#: (1 if not listed).  The shape operations can only produce vectors or matrices, which
#: are rarer slots than scalars: these odds make every primitive appear in roughly the
#: same share of expressions.
OPERATION_WEIGHTS = {"concatenate": 12.0, "stack": 5.0, "transpose": 40.0}

#: Matrix shapes with at most MAX_SIZE entries.
MATRIX_SHAPES = ((1, 1), (1, 2), (2, 1), (2, 2), (1, 3), (3, 1), (1, 4), (4, 1))

#: 3-d shapes a whole-array reduction or a reshape asks for (at most MAX_SIZE entries);
#: a reduction along an axis may ask for others.  (2, 1, 2) @ (2, 2) is a batch times a
#: matrix, the product whose fast path for a transposed matrix in the tape's matmul once
#: reversed the batch axes.
TENSOR_SHAPES = ((2, 1, 2), (2, 2, 1), (1, 2, 2))

#: Relative odds for a 3-d slot, in place of OPERATION_WEIGHTS (1 if not listed): few
#: operations make a 3-d value, and a batched matmul (its matrix often a transpose, which
#: matrix slots draw with odds 40) is the one that needs exercising.
TENSOR_WEIGHTS = {"matmul": 40.0, "transpose": 10.0, "stack": 5.0}

_REDUCTIONS = ("sum", "mean", "max", "logsumexp")

# Argument roles: "any" is a subtree or a leaf built from x; "constant_ok" may also be a
# constant; "constant" and "exponent" are always constants (from CONSTANT_VALUES and
# EXPONENTS); "transposed" is the transpose of a matrix slot of the reversed shape, a
# Fortran-ordered view (not counted as an operation).
_ANY, _CONSTANT_OK, _CONSTANT, _EXPONENT = "any", "constant_ok", "constant", "exponent"
_TRANSPOSED = "transposed"


@dataclass
class _Draft:
    op: str
    shape: tuple[int, ...]
    params: tuple = ()
    args: list[int] = field(default_factory=list)


def _vector_length(rng, dim: int) -> int:
    # Half the vectors have the length of x, the others any length up to MAX_SIZE.
    return dim if rng.random() < 0.5 else int(rng.integers(1, MAX_SIZE + 1))


def _pair(rng, first, second):
    """Slots of shapes ``first`` and ``second``, in this order; one, drawn, may be a constant."""
    roles = (_ANY, _CONSTANT_OK) if rng.random() < 0.5 else (_CONSTANT_OK, _ANY)
    return [(first, roles[0]), (second, roles[1])]


def operation_forms(op: str, shape: tuple[int, ...], rng, dim: int):
    """How ``op`` can produce a value of ``shape``: ``(argument slots, params)`` or ``None``.

    Each slot is ``(shape, role)``.  Draws from ``rng`` only when ``op`` can produce the
    shape.

    Parameters
    ----------
    op : str
        A name of :data:`diffcompare.ops.OPS`.
    shape : tuple of int
        The requested shape.
    rng : numpy.random.Generator
    dim : int
        Length of x.

    Returns
    -------
    tuple or None
    """
    kind = OPS[op].kind
    size = int(np.prod(shape))
    if kind == "unary":
        return [(shape, _ANY)], ()
    if kind == "binary" and op != "power":
        if shape != () and rng.random() < 0.3:  # broadcast a scalar, on either side
            return (_pair(rng, shape, ()) if rng.random() < 0.5 else _pair(rng, (), shape)), ()
        return _pair(rng, shape, shape), ()
    if op == "power":
        if rng.random() < 0.6:
            return [(shape, _ANY), ((), _EXPONENT)], ()
        return [(shape, _ANY), (shape if rng.random() < 0.5 else (), _ANY)], ()
    if op == "where":
        return [(shape, _ANY), (shape, _CONSTANT_OK), (shape, _ANY), (shape, _CONSTANT_OK)], ()
    if op in _REDUCTIONS:
        if shape == ():
            choice = rng.random()
            if choice < 0.5:
                return [((_vector_length(rng, dim),), _ANY)], (None,)
            arrays = MATRIX_SHAPES if choice < 0.7 else TENSOR_SHAPES
            return [(arrays[rng.integers(len(arrays))], _ANY)], (None,)
        if len(shape) > 2:
            return None
        # Along an axis: the argument has one more axis, of length `other`, at `axis`.
        other = int(rng.integers(1, MAX_SIZE // size + 1))
        axis = int(rng.integers(len(shape) + 1))
        return [(shape[:axis] + (other,) + shape[axis:], _ANY)], (axis,)
    if op == "getitem":
        return _getitem_form(shape, rng, dim)
    if op == "reshape":
        if shape == ():
            return [((1,), _ANY)], ((),)
        candidates = [
            s for s in ((size,), *MATRIX_SHAPES, *TENSOR_SHAPES) if int(np.prod(s)) == size and s != shape
        ]
        argument = candidates[rng.integers(len(candidates))]
        return [(argument, _ANY)], (shape,)
    if op == "transpose":
        return ([(shape[::-1], _ANY)], ()) if len(shape) >= 2 else None
    if op == "concatenate":
        if len(shape) != 1 or shape[0] < 2:
            return None
        first = int(rng.integers(1, shape[0]))
        return [((first,), _ANY), ((shape[0] - first,), _ANY)], ()
    if op == "stack":
        if len(shape) == 1:
            return [((), _ANY)] * shape[0], ()
        return [(shape[1:], _ANY)] * shape[0], ()
    if op == "matmul":
        if shape == ():
            k = _vector_length(rng, dim)
            return _pair(rng, (k,), (k,)), ()
        if len(shape) == 1:
            inner = int(rng.integers(1, MAX_SIZE // shape[0] + 1))
            if rng.random() < 0.5:
                return [((shape[0], inner), _CONSTANT_OK), ((inner,), _ANY)], ()
            return [((inner,), _ANY), ((inner, shape[0]), _CONSTANT_OK)], ()
        if len(shape) == 2:
            inner = int(rng.integers(1, MAX_SIZE // max(shape) + 1))
            return _pair(rng, (shape[0], inner), (inner, shape[1])), ()
        return _batched_matmul_form(shape, rng)
    return None


def _batched_matmul_form(shape, rng):
    """Slots of a matmul giving the 3-d ``shape`` = (batch, rows, columns).

    Mostly a batch times a matrix (the common use), else a matrix times a batch or two
    batches; the inner length is the largest that keeps every operand within MAX_SIZE
    entries, and the matrix is a transposed view half the time.
    """
    batch, rows, columns = shape
    form = int(rng.integers(4))  # 0 and 3: a batch times a matrix
    if form == 2:  # (batch, rows, inner) @ (batch, inner, columns)
        inner = MAX_SIZE // (batch * max(rows, columns))
        return _pair(rng, (batch, rows, inner), (batch, inner, columns)), ()
    if form == 1:  # (rows, inner) @ (batch, inner, columns)
        inner = MAX_SIZE // max(rows, batch * columns)
        slots, matrix = _pair(rng, (rows, inner), (batch, inner, columns)), 0
    else:  # (batch, rows, inner) @ (inner, columns)
        inner = MAX_SIZE // max(batch * rows, columns)
        slots, matrix = _pair(rng, (batch, rows, inner), (inner, columns)), 1
    if rng.random() < 0.5:
        slots[matrix] = (slots[matrix][0], _TRANSPOSED)
    return slots, ()


def _can_produce(op: str, shape: tuple[int, ...]) -> bool:
    """Whether :func:`operation_forms` has a form of ``op`` for ``shape``."""
    if op == "getitem":
        return len(shape) < 2
    if op in _REDUCTIONS:
        return len(shape) < 3
    if op == "transpose":
        return len(shape) >= 2
    if op == "concatenate":
        return len(shape) == 1 and shape[0] >= 2
    if op == "stack":
        return len(shape) >= 1
    return True


def _getitem_form(shape, rng, dim):
    if shape == ():
        if rng.random() < 0.75:
            length = _vector_length(rng, dim)
            return [((length,), _ANY)], (("index", int(rng.integers(-length, length))),)
        rows, columns = MATRIX_SHAPES[rng.integers(len(MATRIX_SHAPES))]
        return [((rows, columns), _ANY)], (("element", int(rng.integers(rows)), int(rng.integers(columns))),)
    if len(shape) != 1:
        return None
    k = shape[0]
    choice = rng.random()
    if choice < 0.3:  # a slice of a longer (or reversed, of an equal) vector
        length = int(rng.integers(k, MAX_SIZE + 1))
        if length == k:
            return [((length,), _ANY)], (("slice", None, None, -1),)
        start = int(rng.integers(length - k + 1))
        return [((length,), _ANY)], (("slice", start, start + k, None),)
    if choice < 0.6:  # an index list; positions may repeat
        length = int(rng.integers(1, MAX_SIZE + 1))
        return [((length,), _ANY)], (("take", tuple(int(i) for i in rng.integers(0, length, k))),)
    if choice < 0.8 or k == MAX_SIZE:  # a row of a matrix
        rows = int(rng.integers(1, MAX_SIZE // k + 1))
        return [((rows, k), _ANY)], (("index", int(rng.integers(rows))),)
    columns = int(rng.integers(1, MAX_SIZE // k + 1))  # a column
    return [((k, columns), _ANY)], (("column", int(rng.integers(columns))),)


def _constant(shape, rng, values=CONSTANT_VALUES):
    picks = [float(values[i]) for i in rng.integers(0, len(values), int(np.prod(shape)))]
    if shape == ():
        return picks[0]
    return as_tuples(np.array(picks).reshape(shape))


def _leaf(drafts: list[_Draft], shape, role, rng, dim) -> int:
    """Append a leaf of ``shape`` (built from x, or a constant the role allows)."""
    if role == _EXPONENT or role == _CONSTANT or (role == _CONSTANT_OK and rng.random() < 0.5):
        values = EXPONENTS if role == _EXPONENT else CONSTANT_VALUES
        drafts.append(_Draft("constant", shape, (_constant(shape, rng, values),)))
        return len(drafts) - 1
    if shape == ():
        key = ("index", int(rng.integers(dim)))
    elif len(shape) >= 2:  # reshape a vector leaf
        drafts.append(_Draft("reshape", shape, (shape,)))
        reshape = len(drafts) - 1
        drafts[reshape].args.append(_leaf(drafts, (int(np.prod(shape)),), _ANY, rng, dim))
        return reshape
    elif shape[0] == dim and rng.random() < 0.6:
        return 0  # x itself
    elif shape[0] <= dim and rng.random() < 0.5:
        start = int(rng.integers(dim - shape[0] + 1))
        key = ("slice", start, start + shape[0], None)
    else:
        key = ("take", tuple(int(i) for i in rng.integers(0, dim, shape[0])))
    drafts.append(_Draft("getitem", shape, (key,), [0]))
    return len(drafts) - 1


def _grow(rng, dim: int, depth: int) -> list[_Draft]:
    """Phase 1: drafts in creation order (x first; every other draft's arguments later)."""
    drafts = [_Draft("x", (dim,))]
    pending = [(None, 0, (), depth, _ANY)]  # (parent draft, argument position, shape, depth, role)
    operations = 0
    while pending:
        parent, position, shape, remaining, role = pending.pop()
        if role == _TRANSPOSED:
            drafts.append(_Draft("transpose", shape, (), [0]))
            drafts[parent].args[position] = len(drafts) - 1
            pending.append((len(drafts) - 1, 0, shape[::-1], remaining, _ANY))
            continue
        wants_operation = parent is None or (
            remaining > 0
            and role in (_ANY, _CONSTANT_OK)
            and operations < MAX_OPERATIONS
            and rng.random() < (0.8 if role == _ANY else 0.4)
        )
        form = None
        if wants_operation:
            names = [op for op in FUZZ_DOMAINS if _can_produce(op, shape)]
            odds = TENSOR_WEIGHTS if len(shape) == 3 else OPERATION_WEIGHTS
            weights = np.array([odds.get(op, 1.0) for op in names])
            op = names[rng.choice(len(names), p=weights / weights.sum())]
            form = operation_forms(op, shape, rng, dim)
        if form is None:
            index = _leaf(drafts, shape, role, rng, dim)
        else:
            slots, params = form
            operations += 1
            drafts.append(_Draft(op, shape, params, [0] * len(slots)))
            index = len(drafts) - 1
            for slot_position, (slot_shape, slot_role) in enumerate(slots):
                pending.append((index, slot_position, slot_shape, remaining - 1, slot_role))
        if parent is not None:
            drafts[parent].args[position] = index
    return drafts


def build_expression(seed: int, max_dim: int = 3, max_depth: int = 4) -> Expression:
    """The expression, point and box of ``seed``.

    Parameters
    ----------
    seed : int
        Non-negative; the same seed always gives the same expression.
    max_dim : int, optional
        Largest length of x (1 to 4); the length is drawn from 1 to ``max_dim``.
    max_depth : int, optional
        Largest nesting of drawn operations (wrappers and leaf indexing not counted);
        the depth is drawn from 1 to ``max_depth``.

    Returns
    -------
    Expression

    Raises
    ------
    TypeError, ValueError
        If an argument is not an integer in its range.

    Examples
    --------
    >>> e = build_expression(7)
    >>> e == build_expression(7) and e.text == build_expression(7).text
    True
    """
    for name, value, low, high in (
        ("seed", seed, 0, None),
        ("max_dim", max_dim, 1, MAX_SIZE),
        ("max_depth", max_depth, 1, None),
    ):
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool):
            raise TypeError(f"{name} must be an integer; got {type(value).__name__}")
        if value < low or (high is not None and value > high):
            raise ValueError(f"{name} must be in [{low}, {high or 'inf'}]; got {value}")
    rng = np.random.default_rng(int(seed))
    dim = int(rng.integers(1, max_dim + 1))
    depth = int(rng.integers(1, max_depth + 1))
    nodes = fit_domains(_grow(rng, dim, depth), dim, BOX, rng, CONSTANT_VALUES)
    point = tuple(float(v) for v in rng.uniform(BOX[0], BOX[1], dim))
    return Expression(int(seed), dim, nodes, point, BOX)


def expressions(max_dim: int = 3, max_depth: int = 4):
    """The hypothesis strategy of generated expressions (it draws the seed).

    Examples
    --------
    >>> from hypothesis import given
    >>> @given(expressions())
    ... def test(expression):
    ...     assert expression.nodes[-1].shape == ()
    """
    from hypothesis import strategies as st

    return st.integers(min_value=0, max_value=2**63 - 1).map(
        lambda seed: build_expression(seed, max_dim=max_dim, max_depth=max_depth)
    )
