"""Keeping every generated argument inside its operation's domain.

The scheme, in three parts:

1. **Enclosures.**  Every node carries an interval that contains each of its elements
   for *every* ``x`` in the expression's box, computed by interval arithmetic from its
   arguments' intervals (:data:`ENCLOSURES`, one line per operation).  Endpoints are
   computed in float64 and then widened outward by :data:`WIDENING` (relative): numpy's
   functions are accurate to a few ulps, so the widened interval still contains the
   exact range.

2. **Fuzz domains.**  :data:`FUZZ_DOMAINS` gives, per operation and argument, the
   interval an argument must lie in.  It is the operation's own domain in
   :data:`diffcompare.ops.OPS` intersected with a *carry bound*: every operation's
   result stays inside ``(-CARRY, CARRY)`` when its arguments are in their fuzz
   domains (``exp`` takes arguments up to 6, ``sum`` of at most :data:`MAX_SIZE`
   elements takes elements up to ``CARRY / MAX_SIZE``, ...).  By induction over the
   table every node then stays inside ``(-CARRY, CARRY)``, which the squashing
   wrappers below accept.  The lower ends keep derivatives far from float64's
   underflow (``exp`` from -40), where the complex step's ``h = 1e-100`` would lose them.

3. **Wrappers.**  Where an argument's enclosure is not inside its fuzz domain, the
   generator puts a wrapper between the argument ``u`` and the operation
   (:data:`WRAPPERS`): ``c + r * tanh(u)``, ``c + r * arctan(u)``, ``c + r * sin(u)``,
   ``c + r * sigmoid(u)`` map onto a target interval chosen inside the domain
   (:func:`target_interval`), ``c + u * u`` and ``exp(u)`` give positive arguments.
   A wrapper is used only if its own operations' arguments are inside their fuzz
   domains and its result's enclosure is inside the domain it serves;
   ``c + r * arctan(u)`` accepts any ``u`` in ``(-2 CARRY, 2 CARRY)``, so it fits every
   node, and every argument can be fitted.  So ``log(u)`` becomes e.g. ``log(1.5 + 1.2 * tanh(u))``
   or ``log(0.5 + u * u)``, ``arcsin(u)`` becomes ``arcsin(0.9 * tanh(u))``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

__all__ = [
    "CARRY",
    "MAX_SIZE",
    "WIDENING",
    "FUZZ_DOMAINS",
    "NOT_FUZZED",
    "ENCLOSURES",
    "WRAPPERS",
    "Wrapper",
    "enclosure",
    "fan_in",
    "node_enclosures",
    "inside",
    "target_interval",
]

Interval = tuple[float, float]

#: Every node's value stays inside (-CARRY, CARRY) (up to the widening): arctan, the
#: universal squash, takes arguments up to 2 CARRY = 1e3 (its domain in OPS).
CARRY = 500.0

#: The most elements an array of a generated expression has (sums are bounded with it).
MAX_SIZE = 4

#: Outward relative widening of every computed enclosure (covers numpy's few-ulp errors).
WIDENING = 1e-12

_WIDE = (-20.0, 20.0)
_SUMMED = (-CARRY / MAX_SIZE, CARRY / MAX_SIZE)
_PRODUCT = (-11.0, 11.0)  # MAX_SIZE * 11 * 11 = 484 < CARRY: matmul stays inside

# fmt: off
#: op -> interval (or None: unrestricted / not differentiated) for each argument.
FUZZ_DOMAINS: dict[str, tuple[Interval | None, ...]] = {
    "negative":    ((-CARRY, CARRY),),
    "abs":         ((-CARRY, CARRY),),
    "exp":         ((-40.0, 6.0),),            # e^6 = 403
    "expm1":       ((-40.0, 6.0),),
    "log":         ((1e-3, CARRY),),
    "log1p":       ((-0.999, CARRY),),
    "sqrt":        ((1e-3, CARRY),),
    "sin":         (_WIDE,),
    "cos":         (_WIDE,),
    "tan":         ((-1.5, 1.5),),             # |tan| <= 14.1
    "arcsin":      ((-0.999, 0.999),),
    "arccos":      ((-0.999, 0.999),),
    "arctan":      ((-2 * CARRY, 2 * CARRY),),  # the squash: takes anything a node holds
    "arcsinh":     ((-2 * CARRY, 2 * CARRY),),  # |arcsinh| <= 7.6
    "sinh":        ((-6.0, 6.0),),             # |sinh| <= 202
    "cosh":        ((-6.0, 6.0),),
    "tanh":        ((-40.0, 40.0),),
    "sigmoid":     ((-40.0, 40.0),),
    "softplus":    ((-40.0, 40.0),),
    # elementwise group
    "square":      ((-22.0, 22.0),),           # 22^2 = 484
    "log2":        ((1e-3, CARRY),),
    "log10":       ((1e-3, CARRY),),
    "exp2":        ((-40.0, 8.0),),            # 2^8 = 256
    "arccosh":     ((1.001, CARRY),),
    "arctanh":     ((-0.999, 0.999),),
    "erf":         ((-10.0, 10.0),),
    "erfc":        ((-10.0, 10.0),),
    "gammaln":     ((1e-3, 100.0),),           # gammaln(100) = 359
    "digamma":     ((0.01, CARRY),),           # digamma(0.01) = -100.6
    "add":         (_WIDE, _WIDE),
    "subtract":    (_WIDE, _WIDE),
    "multiply":    (_WIDE, _WIDE),             # |a b| <= 400
    "divide":      (_WIDE, (0.5, 20.0)),       # |a / b| <= 40
    "power":       ((0.2, 7.5), (-3.0, 3.0)),  # 7.5^3 = 422, 0.2^-3 = 125
    "maximum":     (_WIDE, _WIDE),
    "minimum":     (_WIDE, _WIDE),
    # elementwise group; arctan2's x positive: no branch cut on the negative x axis
    "hypot":       (_WIDE, _WIDE),
    "arctan2":     (_WIDE, (0.5, 20.0)),
    "logaddexp":   ((-200.0, 200.0), (-200.0, 200.0)),  # derivatives >= e^-400 stay normal
    "xlogy":       (_WIDE, (1e-3, CARRY)),     # |x log y| <= 20 log 500 = 124
    # elementwise, second wave: the monotone (or bounded) smooth ones
    "where":       (None, None, _WIDE, _WIDE),  # where(a > b, c, d): a, b only compared
    "sum":         (_SUMMED,),
    "mean":        ((-CARRY, CARRY),),
    "max":         ((-CARRY, CARRY),),
    "logsumexp":   ((-CARRY + 2.0, CARRY - 2.0),),  # at most max + log(MAX_SIZE)
    "matmul":      (_PRODUCT, _PRODUCT),
    "getitem":     (None,),
    "reshape":     (None,),
    "transpose":   (None,),
    "concatenate": (None, None),
    "stack":       (None,) * MAX_SIZE,
}
# fmt: on


#: Operations the expression generator does not draw, with the reason; every other
#: operation of OPS has a fuzz domain and an enclosure.
# fmt: off
_NO_MATRICES = "the generator draws elementwise expressions of short vectors, no (nonsingular, SPD) matrices"
NOT_FUZZED: dict[str, str] = {
    # elementwise, second wave: drawn, they made the default fuzz run minutes longer (SymPy's
    # reference of fmax/fmin inside conditions, erfinv and sinc at 50 digits); a campaign
    # that draws them is the next step
    **dict.fromkeys(
        ("sinc", "erfinv", "erfcinv", "logit", "i0", "fmax", "fmin", "logaddexp2"),
        "not yet drawn: their SymPy references make the default fuzz run minutes longer",
    ),
    # elementwise group
    **dict.fromkeys(
        ("sign", "floor", "round"),
        "piecewise constant: a step between the points of a difference quotient makes the "
        "finite-difference methods disagree with the exact ones without a fault",
    ),
    # linear algebra (xp.linalg)
    "linalg.solve":            _NO_MATRICES,
    "linalg.solve_triangular": _NO_MATRICES,
    "linalg.inv":              _NO_MATRICES,
    "linalg.det":              _NO_MATRICES,
    "linalg.slogdet":          _NO_MATRICES,
    "linalg.cholesky":         _NO_MATRICES,
    "linalg.eigh":             _NO_MATRICES,
    "linalg.matrix_norm":      _NO_MATRICES,
    "linalg.norm":             "no interval enclosure is written for the norms yet",
    "linalg.vector_norm":      "no interval enclosure is written for the norms yet",
    # reductions, scans and shape operations (the group's derived operations are written
    # with fuzzed ones and need no entry)
    "log_softmax": "not yet drawn: needs a generator form for an axis-preserving reduction",
    "prod":        "not yet drawn: its enclosure over MAX_SIZE factors exceeds the carry bound "
                   "unless the factors are squashed first",
    "cumsum":      "not yet drawn: needs a generator form for a scan along an axis",
    "einsum":      "not yet drawn: needs a generator of subscripts that match the operands' shapes",
    "sort":        "the SymPy reference cannot trace it, so the fuzzer has no truth to judge it by",
    # elementwise, second wave
    **dict.fromkeys(
        ("ceil", "gammasgn"),
        "piecewise constant: a step between the points of a difference quotient makes the "
        "finite-difference methods disagree with the exact ones without a fault",
    ),
    "remainder": "a jump wherever a / b crosses an integer, inside every interval of a divisor",
    **dict.fromkeys(
        ("polygamma", "jn", "yn", "iv", "ive", "gammainc", "gammaincc"),
        "its first argument is an integer or a constant the generator does not draw",
    ),
    **dict.fromkeys(
        ("gamma", "rgamma", "beta", "betaln", "j0", "j1", "y0", "y1", "i1"),
        "not yet drawn: no interval enclosure is written for it (not monotone, or steep)",
    ),
}
# fmt: on


def inside(interval: Interval, domain: Interval | None) -> bool:
    """Whether the closed ``interval`` lies in the closed ``domain`` (``None``: anywhere)."""
    return domain is None or (domain[0] <= interval[0] and interval[1] <= domain[1])


def _widen(low: float, high: float) -> Interval:
    return (low - WIDENING * abs(low), high + WIDENING * abs(high))


def _increasing(f: Callable) -> Callable:
    return lambda k, a: (f(a[0]), f(a[1]))


def _abs(k, a):
    if a[0] >= 0:
        return a
    if a[1] <= 0:
        return (-a[1], -a[0])
    return (0.0, max(-a[0], a[1]))


def _cosh(k, a):
    nearest = 0.0 if a[0] <= 0 <= a[1] else min(abs(a[0]), abs(a[1]))
    return (math.cosh(nearest), math.cosh(max(abs(a[0]), abs(a[1]))))


def _corners(f: Callable) -> Callable:
    # For operations monotone in each argument separately (products, quotients with a
    # positive denominator, powers of a positive base) the extremes are at the corners.
    def enclose(k, a, b):
        values = [f(p, q) for p in a for q in b]
        return (min(values), max(values))

    return enclose


def _matmul(k, a, b):
    # Each result element sums k products, each inside the products' corner interval.
    low, high = _corners(lambda p, q: p * q)(k, a, b)
    return (k * low, k * high)


def _hull(k, *intervals):
    return (min(i[0] for i in intervals), max(i[1] for i in intervals))


def _sigmoid(v):
    return 1.0 / (1.0 + math.exp(-v)) if v >= 0 else math.exp(v) / (1.0 + math.exp(v))


def _softplus(v):
    return max(v, 0.0) + math.log1p(math.exp(-abs(v)))


def _square(k, a):
    low, high = _abs(k, a)
    return (low * low, high * high)


#: Where gammaln has its minimum (digamma's positive root).
_GAMMALN_MINIMUM = 1.4616321449683622


def _gammaln(k, a):
    ends = (math.lgamma(a[0]), math.lgamma(a[1]))
    low = math.lgamma(_GAMMALN_MINIMUM) if a[0] <= _GAMMALN_MINIMUM <= a[1] else min(ends)
    return (low, max(ends))


def _digamma(v):
    from scipy.special import digamma

    return float(digamma(v))


def _hypot(k, a, b):
    (a_low, a_high), (b_low, b_high) = _abs(k, a), _abs(k, b)
    return (math.hypot(a_low, b_low), math.hypot(a_high, b_high))


def _logaddexp(p, q):
    return max(p, q) + math.log1p(math.exp(-abs(p - q)))


#: sinc's smallest value, at x = 1.4303 (below the true -0.21723, to enclose it).
_SINC_MINIMUM = -0.2173


def _erfinv(v):
    from scipy.special import erfinv

    return float(erfinv(v))


def _i0(v):
    from scipy.special import i0

    return float(i0(v))


def _logaddexp2(p, q):
    return max(p, q) + math.log2(1.0 + 2.0 ** -abs(p - q))


# fmt: off
#: op -> enclosure(k, *argument_intervals) of the result, before widening; k is the
#: number of elements combined into each result element (see :func:`fan_in`).
ENCLOSURES: dict[str, Callable] = {
    "negative":    lambda k, a: (-a[1], -a[0]),
    "abs":         _abs,
    "exp":         _increasing(math.exp),
    "expm1":       _increasing(math.expm1),
    "log":         _increasing(math.log),
    "log1p":       _increasing(math.log1p),
    "sqrt":        _increasing(math.sqrt),
    "sin":         lambda k, a: (-1.0, 1.0),
    "cos":         lambda k, a: (-1.0, 1.0),
    "tan":         _increasing(math.tan),      # increasing on the domain (-1.5, 1.5)
    "arcsin":      _increasing(math.asin),
    "arccos":      lambda k, a: (math.acos(a[1]), math.acos(a[0])),
    "arctan":      _increasing(math.atan),
    "arcsinh":     _increasing(math.asinh),
    "sinh":        _increasing(math.sinh),
    "cosh":        _cosh,
    "tanh":        _increasing(math.tanh),
    "sigmoid":     _increasing(_sigmoid),
    "softplus":    _increasing(_softplus),
    # elementwise group
    "square":      _square,
    "log2":        _increasing(math.log2),
    "log10":       _increasing(math.log10),
    "exp2":        _increasing(lambda v: 2.0**v),
    "arccosh":     _increasing(math.acosh),
    "arctanh":     _increasing(math.atanh),
    "erf":         _increasing(math.erf),
    "erfc":        lambda k, a: (math.erfc(a[1]), math.erfc(a[0])),  # decreasing
    "gammaln":     _gammaln,
    "digamma":     _increasing(_digamma),      # increasing on the positive axis
    "add":         lambda k, a, b: (a[0] + b[0], a[1] + b[1]),
    "subtract":    lambda k, a, b: (a[0] - b[1], a[1] - b[0]),
    "multiply":    _corners(lambda p, q: p * q),
    "divide":      _corners(lambda p, q: p / q),  # the denominator's domain is positive
    "power":       _corners(lambda p, q: p**q),   # the base's domain is positive
    "maximum":     lambda k, a, b: (max(a[0], b[0]), max(a[1], b[1])),
    "minimum":     lambda k, a, b: (min(a[0], b[0]), min(a[1], b[1])),
    # elementwise group: arctan2 (x > 0) and xlogy are monotone in each argument
    "hypot":       _hypot,
    "arctan2":     _corners(math.atan2),
    "logaddexp":   lambda k, a, b: (_logaddexp(a[0], b[0]), _logaddexp(a[1], b[1])),
    "xlogy":       _corners(lambda p, q: p * math.log(q)),
    # elementwise, second wave: sinc's extremes over the real line; i0 even, increasing in |x|
    "where":       lambda k, a, b, c, d: _hull(k, c, d),
    "sum":         lambda k, a: (k * a[0], k * a[1]),
    "mean":        lambda k, a: a,
    "max":         lambda k, a: a,
    "logsumexp":   lambda k, a: (a[0], a[1] + math.log(k)),  # max <= lse <= max + log k
    "matmul":      _matmul,
    "getitem":     lambda k, a: a,
    "reshape":     lambda k, a: a,
    "transpose":   lambda k, a: a,
    "concatenate": _hull,
    "stack":       _hull,
}
# fmt: on


def fan_in(node, argument_shapes: list[tuple[int, ...]]) -> int:
    """How many elements of the arguments combine into each element of ``node``."""
    if node.op in ("sum", "mean", "max", "logsumexp"):
        axis, shape = node.params[0], argument_shapes[0]
        return int(np.prod(shape)) if axis is None else shape[axis]
    if node.op == "matmul":
        return argument_shapes[0][-1]
    return 1


def enclosure(node, arguments: list[Interval], argument_shapes: list[tuple[int, ...]]) -> Interval:
    """The widened interval containing every element of ``node`` given its arguments'.

    Parameters
    ----------
    node : Node
        The operation.
    arguments : list of interval
        The enclosures of its arguments.
    argument_shapes : list of tuple
        Their shapes (reductions and matmul need them).

    Returns
    -------
    tuple of float
    """
    return _widen(*ENCLOSURES[node.op](fan_in(node, argument_shapes), *arguments))


def node_enclosures(nodes, box: Interval) -> list[Interval]:
    """The enclosure of every node of an expression table over ``box`` (see module docstring).

    Parameters
    ----------
    nodes : sequence of Node
        Children before parents, ``"x"`` and ``"constant"`` leaves included.
    box : interval
        Range of every coordinate of x.

    Returns
    -------
    list of interval
        One per node, in table order.
    """
    intervals: list[Interval] = []
    for node in nodes:
        if node.op == "x":
            intervals.append((float(box[0]), float(box[1])))
        elif node.op == "constant":
            values = np.ravel(node.params[0])
            intervals.append((float(values.min()), float(values.max())))
        else:
            arguments = [intervals[i] for i in node.args]
            intervals.append(enclosure(node, arguments, [nodes[i].shape for i in node.args]))
    return intervals


def target_interval(domain: Interval) -> Interval:
    """Where a squashing wrapper aims inside ``domain``: its part in [-3, 3], shrunk 10 %.

    Staying within [-3, 3] keeps wrapped arguments where the operations are most
    varied (log near 1, tan away from its poles), and the 10 % margin keeps them off the
    domain's edges.
    """
    low, high = max(domain[0], -3.0), min(domain[1], 3.0)
    middle, half = 0.5 * (low + high), 0.45 * (high - low)
    return (middle - half, middle + half)


@dataclass(frozen=True)
class Wrapper:
    """A way to move an argument into a domain.

    Attributes
    ----------
    name : str
        ``"tanh"``, ``"arctan"``, ``"sin"``, ``"sigmoid"``, ``"square"`` or ``"exp"``.
    squash : str or None
        The bounded function ``g`` of ``c + r * g(u)``; ``None`` for ``square``/``exp``.
    squash_range : interval or None
        ``g``'s range over its whole fuzz domain.
    """

    name: str
    squash: str | None
    squash_range: Interval | None


#: The wrappers the generator chooses from (see the module docstring).
WRAPPERS: tuple[Wrapper, ...] = (
    Wrapper("tanh", "tanh", (-1.0, 1.0)),
    Wrapper("arctan", "arctan", (-math.pi / 2, math.pi / 2)),
    Wrapper("sin", "sin", (-1.0, 1.0)),
    Wrapper("sigmoid", "sigmoid", (0.0, 1.0)),
    Wrapper("square", None, None),
    Wrapper("exp", None, None),
)
