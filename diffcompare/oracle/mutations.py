"""A mutation suite for gradient checkers: correct hand-written gradients and wrong ones.

Every :class:`GradCase` holds a function written once as ``f(x, xp)``, its gradient
written by hand in numpy (the thing a user would ask a checker about), seeded points
and, where a plausible bug exists, a buggy gradient that drops one term of the chain or
product rule and one that is right on part of the domain only.  :data:`MUTATIONS` turns
the correct gradient at a point into a wrong one in ten named ways; a checker must pass
every correct gradient and fail every mutation.

:data:`CASES` covers suite functions, a softmax regression and a neural-network layer
with matrix-shaped parameters, high curvature (``exp(200 x)``, ``sin(1000 x)``), values
and gradients at 1e-8 and 1e8, coordinates at 1e-8 and 1e8, ``n = 5,000`` and points
1e-7 from a kink.

>>> case = CASES_BY_NAME["rosenbrock"]
>>> x = case.points[0]
>>> wrong = mutated_gradient(case, "sign_flip", x, point_seed(case, 0))
>>> int(np.count_nonzero(wrong != case.grad(x)))
1
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..suite.functions import beale, log_sum_exp, matrix_product, rational, rosenbrock
from ..suite.records import SEED

__all__ = [
    "CASES",
    "CASES_BY_NAME",
    "DISTINCT",
    "GradCase",
    "MUTATIONS",
    "Mutation",
    "SHIFT",
    "SIGNIFICANT",
    "mutant",
    "mutated_gradient",
    "point_seed",
]

#: A mutated component is at least this fraction of the gradient's max-norm: a checker
#: cannot be blamed for missing a relative error on a component that is pure rounding
#: noise next to the others, and 1e-3 still leaves the 1e-6 mutation an absolute error of
#: 1e-9 times the max-norm, far above a float64 reference's error.
SIGNIFICANT = 1e-3
#: Swapped components differ by at least this relative amount (else the swap is a no-op).
DISTINCT = 1e-3
#: The shifted-point mutation evaluates the gradient at ``x + SHIFT * max(1, |x|)``.
SHIFT = 1e-5


@dataclass(frozen=True, eq=False)
class GradCase:
    """One function, its correct hand-written gradient, seeded points and buggy variants.

    ``eq=False``: the points are arrays, so equality and hashing go by identity.

    Attributes
    ----------
    name : str
        Unique name.
    f : callable
        ``f(x, xp)`` returning a scalar, using only the operations of
        :mod:`diffcompare.ops`; it runs with any backend, plain numpy included.
    grad : callable
        ``grad(x)``: the correct gradient, written by hand with numpy.
    points : tuple of ndarray
        Read-only float64 points, drawn with :data:`~diffcompare.suite.records.SEED` and the name.
    dropped_term : callable or None
        A plausible wrong gradient that misses one term of the chain or product rule.
    partial_domain : callable or None
        A wrong gradient that is right on part of the domain only (for example where
        ``x_k >= 0``); every point has coordinates where it is wrong.
    block_shape : tuple of int or None
        ``(rows, cols)`` of a matrix stored row-major at the start of ``x`` (a weight
        matrix), which makes the transposed-block mutation meaningful.
    tags : tuple of str
        ``"suite"``, ``"matrix"``, ``"curvature"``, ``"tiny_value"``, ``"huge_value"``,
        ``"tiny_x"``, ``"huge_x"``, ``"large"``, ``"near_kink"``.
    """

    name: str
    f: Callable
    grad: Callable[[np.ndarray], np.ndarray]
    points: tuple[np.ndarray, ...]
    dropped_term: Callable[[np.ndarray], np.ndarray] | None = None
    partial_domain: Callable[[np.ndarray], np.ndarray] | None = None
    block_shape: tuple[int, int] | None = None
    tags: tuple[str, ...] = ()

    @property
    def dim(self) -> int:
        """Length of ``x``."""
        return self.points[0].size


# --- choosing what to mutate -----------------------------------------------------------


def _significant(g: np.ndarray) -> np.ndarray:
    scale = np.max(np.abs(g))
    return np.flatnonzero(np.abs(g) >= SIGNIFICANT * scale) if scale > 0 else np.array([], dtype=int)


def _scale_one(g: np.ndarray, rng: np.random.Generator, factor: float) -> np.ndarray | None:
    candidates = _significant(g)
    if candidates.size == 0:
        return None
    g = g.copy()
    g[rng.choice(candidates)] *= factor
    return g


def _swapped(case: GradCase, x: np.ndarray, rng: np.random.Generator) -> np.ndarray | None:
    # Both components significant and different by a relative DISTINCT at least, so the
    # swap changes the gradient by more than rounding.
    g = case.grad(x)
    candidates = _significant(g)
    if candidates.size < 2:
        return None
    i = rng.choice(candidates)
    apart = np.abs(g[candidates] - g[i]) >= DISTINCT * np.maximum(np.abs(g[candidates]), abs(g[i]))
    others = candidates[apart]
    if others.size == 0:
        return None
    j = rng.choice(others)
    g = g.copy()
    g[[i, j]] = g[[j, i]]
    return g


def _transposed(case: GradCase, x: np.ndarray, rng: np.random.Generator) -> np.ndarray | None:
    # The matrix's gradient computed transposed (X^T Delta instead of Delta^T X) and
    # stored in the same place: for a non-square block the right numbers in the wrong order.
    if case.block_shape is None:
        return None
    rows, cols = case.block_shape
    g = np.array(case.grad(x), dtype=np.float64)
    g[: rows * cols] = g[: rows * cols].reshape(rows, cols).T.reshape(-1)
    return g


def _shifted(case: GradCase, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return case.grad(x + SHIFT * np.maximum(1.0, np.abs(x)))


@dataclass(frozen=True)
class Mutation:
    """A named way of making a correct gradient wrong.

    Attributes
    ----------
    name : str
    mutate : callable
        ``mutate(case, x, rng)`` returns the wrong gradient at ``x``, or None where the
        mutation does not apply (no such buggy variant, no block, no two distinct
        components); ``rng`` chooses the component, so one seed gives one mutation.
    needs : str or None
        The :class:`GradCase` attribute the mutation needs (None: it always applies).
    note : str
        What the bug is.
    """

    name: str
    mutate: Callable[[GradCase, np.ndarray, np.random.Generator], np.ndarray | None]
    needs: str | None
    note: str

    def applies(self, case: GradCase) -> bool:
        """True if ``case`` has what this mutation needs."""
        return self.needs is None or getattr(case, self.needs) is not None


def _one(factor: float) -> Callable:
    return lambda case, x, rng: _scale_one(case.grad(x), rng, factor)


def _whole(factor: float) -> Callable:
    return lambda case, x, rng: factor * case.grad(x)


def _variant(attribute: str) -> Callable:
    return lambda case, x, rng: getattr(case, attribute)(x)


# Sign flip and the relative errors hit one significant component (>= SIGNIFICANT of
# the max-norm) chosen by the seeded rng; the factors scale the whole gradient (a lost
# or doubled 1/2 is a whole-expression bug).
# fmt: off
MUTATIONS: dict[str, Mutation] = {m.name: m for m in (
    Mutation("sign_flip",       _one(-1.0),                 None,             "one component's sign flipped"),
    Mutation("factor_2",        _whole(2.0),                None,             "the whole gradient doubled"),
    Mutation("factor_0_5",      _whole(0.5),                None,             "the whole gradient halved"),
    Mutation("swap",            _swapped,                   None,             "two components swapped"),
    Mutation("transpose_block", _transposed,                "block_shape",    "the matrix block transposed"),
    Mutation("dropped_term",    _variant("dropped_term"),   "dropped_term",   "a chain-rule term lost"),
    Mutation("relative_1e-3",   _one(1.0 + 1e-3),           None,             "one component off by 1e-3"),
    Mutation("relative_1e-6",   _one(1.0 + 1e-6),           None,             "one component off by 1e-6"),
    Mutation("partial_domain",  _variant("partial_domain"), "partial_domain", "right on part of the domain"),
    Mutation("shifted_point",   _shifted,                   None,             "grad at x + 1e-5 max(1, |x|)"),
)}
# fmt: on


def point_seed(case: GradCase, point_index: int) -> list[int]:
    """The seed of the mutations of ``case`` at its point ``point_index``."""
    return [SEED, zlib.crc32(case.name.encode()), int(point_index)]


def mutated_gradient(case: GradCase, name: str, x, seed) -> np.ndarray | None:
    """The gradient of ``case`` at ``x`` with mutation ``name``, or None if it does not apply.

    Parameters
    ----------
    case : GradCase
    name : str
        A key of :data:`MUTATIONS`.
    x : array_like
        The point.
    seed : int or sequence of int
        Seeds ``numpy.random.default_rng``, which picks the mutated component(s).

    Returns
    -------
    ndarray or None

    Raises
    ------
    ValueError
        If ``name`` is not a mutation.
    """
    if name not in MUTATIONS:
        raise ValueError(f"unknown mutation {name!r}; known: {', '.join(MUTATIONS)}")
    mutation = MUTATIONS[name]
    if not mutation.applies(case):
        return None
    return mutation.mutate(case, np.asarray(x, dtype=np.float64), np.random.default_rng(seed))


def mutant(case: GradCase, name: str, seed) -> Callable[[np.ndarray], np.ndarray] | None:
    """A wrong gradient function ``x -> mutated_gradient(case, name, x, seed)``, or None.

    A fresh generator per call makes the function deterministic: called at the same
    point it returns the same wrong gradient.
    """
    if name not in MUTATIONS:
        raise ValueError(f"unknown mutation {name!r}; known: {', '.join(MUTATIONS)}")
    if not MUTATIONS[name].applies(case):
        return None

    def wrong_gradient(x):
        return mutated_gradient(case, name, x, seed)

    wrong_gradient.__name__ = f"{case.name}_{name}"
    return wrong_gradient


# --- points and data -------------------------------------------------------------------


def _rng(label: str) -> np.random.Generator:
    return np.random.default_rng([SEED, zlib.crc32(label.encode())])


def _frozen(x: np.ndarray) -> np.ndarray:
    x = np.array(x, dtype=np.float64)
    x.setflags(write=False)
    return x


def _uniform(name: str, dim: int, low: float, high: float, count: int = 3) -> tuple[np.ndarray, ...]:
    return tuple(_frozen(row) for row in _rng(name).uniform(low, high, size=(count, dim)))


def _near_kinks(name: str, dim: int, kinks: tuple[float, ...], count: int = 3) -> tuple[np.ndarray, ...]:
    # Uniform points in (-2, 2) where len(kinks) coordinates, a different set per point,
    # sit 1e-7 from their kink: each kink value k gives k + 1e-7 and k - 1e-7.
    rng, points = _rng(name), []
    for _ in range(count):
        x = rng.uniform(-2.0, 2.0, size=dim)
        near = rng.choice(dim, size=2 * len(kinks), replace=False)
        x[near] = [k + s * 1e-7 for k in kinks for s in (1.0, -1.0)]
        points.append(_frozen(x))
    return tuple(points)


# --- suite functions -------------------------------------------------------------------


def _rosenbrock_grad(x, inner_factor=None, previous_term=True):
    inner = x[1:] - x[:-1] ** 2
    g = np.zeros_like(x)
    g[:-1] = -400.0 * (x[:-1] if inner_factor is None else inner_factor) * inner - 2.0 * (1.0 - x[:-1])
    if previous_term:
        g[1:] += 200.0 * inner
    return g


def rosenbrock_grad(x):
    return _rosenbrock_grad(x)


def rosenbrock_dropped(x):
    # forgot that x_i also appears in the (i-1)-th summand
    return _rosenbrock_grad(x, previous_term=False)


def rosenbrock_partial(x):
    # d(x^2)/dx written as 2|x|: right for x_i >= 0 only
    return _rosenbrock_grad(x, inner_factor=np.abs(x[:-1]))


def _beale_grad(x, third=True):
    a, b = x
    t1, t2, t3 = 1.5 - a + a * b, 2.25 - a + a * b**2, 2.625 - a + a * b**3
    keep = 1.0 if third else 0.0
    return np.array(
        [
            2.0 * t1 * (b - 1.0) + 2.0 * t2 * (b**2 - 1.0) + keep * 2.0 * t3 * (b**3 - 1.0),
            2.0 * t1 * a + 4.0 * t2 * a * b + keep * 6.0 * t3 * a * b**2,
        ]
    )


def beale_grad(x):
    return _beale_grad(x)


def beale_dropped(x):
    # the third square's contribution forgotten
    return _beale_grad(x, third=False)


def log_sum_exp_grad(x):
    e = np.exp(x - np.max(x))
    return e / np.sum(e)


def _rational_grad(x, quotient_term=True):
    num, den = x[0] ** 2 + x[1], 1.0 + x[0] ** 2 + x[1] ** 2
    q = num / den**2 if quotient_term else 0.0
    return np.array([2.0 * x[0] / den - q * 2.0 * x[0], 1.0 / den - q * 2.0 * x[1], -1.0 / (x[2] - 3.0) ** 2])


def rational_grad(x):
    return _rational_grad(x)


def rational_dropped(x):
    # quotient rule without the -u v' / v^2 half
    return _rational_grad(x, quotient_term=False)


def _matrix_product_grad(x, both_factors=True):
    m = x.reshape(2, 3)
    g = (4.0 if both_factors else 2.0) * (m @ m.T) @ m
    g[:, 0] += m[:, 1]
    g[:, 1] += m[:, 0]
    return g.reshape(-1)


def matrix_product_grad(x):
    return _matrix_product_grad(x)


def matrix_product_dropped(x):
    # d(M M^T) differentiated through one factor only
    return _matrix_product_grad(x, both_factors=False)


# --- models with matrix-shaped parameters ----------------------------------------------

_SOFTMAX_INPUTS = _rng("softmax_regression/inputs").standard_normal((6, 3))
_SOFTMAX_LABELS = np.eye(4)[[0, 3, 1, 2, 3, 0]]


def softmax_regression(x, xp):
    logits = xp.matmul(xp.asarray(_SOFTMAX_INPUTS), xp.transpose(xp.reshape(x, (4, 3))))
    picked = xp.sum(xp.asarray(_SOFTMAX_LABELS) * logits, axis=1)
    return xp.mean(xp.logsumexp(logits, axis=1) - picked)


def _softmax_regression_grad(x, labels=True):
    logits = _SOFTMAX_INPUTS @ x.reshape(4, 3).T
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    delta = p - _SOFTMAX_LABELS if labels else p
    return (delta.T @ _SOFTMAX_INPUTS / logits.shape[0]).reshape(-1)


def softmax_regression_grad(x):
    return _softmax_regression_grad(x)


def softmax_regression_dropped(x):
    # the derivative of the picked logit (-y) forgotten
    return _softmax_regression_grad(x, labels=False)


_LAYER_INPUTS = _rng("mlp_layer/inputs").standard_normal((5, 3))
_LAYER_OUT = _rng("mlp_layer/out").standard_normal(4)
_LAYER_TARGETS = _rng("mlp_layer/targets").standard_normal(5)


def mlp_layer(x, xp):
    """A tanh layer ``W (4 x 3)``, ``b (4)`` read out by a fixed vector, mean squared error."""
    hidden = xp.tanh(xp.matmul(xp.asarray(_LAYER_INPUTS), xp.transpose(xp.reshape(x[:12], (4, 3)))) + x[12:])
    return xp.mean((xp.matmul(hidden, xp.asarray(_LAYER_OUT)) - xp.asarray(_LAYER_TARGETS)) ** 2)


def _mlp_layer_grad(x, activation_derivative=True):
    hidden = np.tanh(_LAYER_INPUTS @ x[:12].reshape(4, 3).T + x[12:])
    residual = hidden @ _LAYER_OUT - _LAYER_TARGETS
    delta = np.outer(2.0 * residual / residual.size, _LAYER_OUT)
    if activation_derivative:
        delta *= 1.0 - hidden**2
    return np.concatenate([(delta.T @ _LAYER_INPUTS).reshape(-1), delta.sum(axis=0)])


def mlp_layer_grad(x):
    return _mlp_layer_grad(x)


def mlp_layer_dropped(x):
    # backpropagated through the linear part only: tanh' forgotten
    return _mlp_layer_grad(x, activation_derivative=False)


_FORM = _rng("quadratic_form/matrix").standard_normal((3, 3))


def quadratic_form(x, xp):
    """``trace(M^T A M)`` for a fixed non-symmetric ``A`` and ``M`` the 3 x 3 parameters."""
    m = xp.reshape(x, (3, 3))
    return xp.sum(m * xp.matmul(xp.asarray(_FORM), m))


def quadratic_form_grad(x):
    return ((_FORM + _FORM.T) @ x.reshape(3, 3)).reshape(-1)


def quadratic_form_dropped(x):
    # A treated as if M appeared once: the A^T M term forgotten
    return (_FORM @ x.reshape(3, 3)).reshape(-1)


# --- trigonometric, high curvature -----------------------------------------------------


def trig_product(x, xp):
    return xp.sum(xp.sin(x) * xp.cos(2.0 * x)) + xp.sum(xp.sin(x[:-1] * x[1:]))


def _trig_product_grad(x, second_factor=True):
    g = np.cos(x) * np.cos(2.0 * x) - (2.0 * np.sin(x) * np.sin(2.0 * x) if second_factor else 0.0)
    coupling = np.cos(x[:-1] * x[1:])
    g[:-1] += coupling * x[1:]
    g[1:] += coupling * x[:-1]
    return g


def trig_product_grad(x):
    return _trig_product_grad(x)


def trig_product_dropped(x):
    # product rule applied to the first factor only
    return _trig_product_grad(x, second_factor=False)


def _exp_200_points() -> tuple[np.ndarray, ...]:
    # Three points where exp(200 x) is within e^4 of 1, and one where three components
    # are near e^100 (within a factor 403: all significant) and one, at x < 0, near e^-100.
    huge = _uniform("exp_200/huge", 4, 0.47, 0.5, 1)[0] * np.array([1.0, 1.0, -1.0, 1.0])
    return _uniform("exp_200", 4, -0.02, 0.02) + (_frozen(huge),)


def exp_200(x, xp):
    return xp.sum(xp.exp(200.0 * x))


def exp_200_grad(x):
    return 200.0 * np.exp(200.0 * x)


def exp_200_dropped(x):
    # the chain-rule factor 200 forgotten
    return np.exp(200.0 * x)


def exp_200_partial(x):
    # exp(200 |x|): right for x >= 0 only
    return 200.0 * np.exp(200.0 * np.abs(x))


def sin_1000(x, xp):
    return xp.sum(xp.sin(1000.0 * x))


def sin_1000_grad(x):
    return 1000.0 * np.cos(1000.0 * x)


def sin_1000_dropped(x):
    # the chain-rule factor 1000 forgotten
    return np.cos(1000.0 * x)


# --- a smooth mix, scaled in value and in argument -------------------------------------


def tanh_mix(x, xp):
    return xp.sum(x**2 * xp.tanh(x)) + xp.sum(x[:-1] * x[1:])


def _tanh_mix_grad(x, sech_term=True, square_factor=None):
    t = np.tanh(x)
    g = 2.0 * (x if square_factor is None else square_factor) * t
    if sech_term:
        g = g + x**2 * (1.0 - t**2)
    g[:-1] += x[1:]
    g[1:] += x[:-1]
    return g


def _tanh_mix_case(name: str, value_scale: float, arg_scale: float, tags: tuple[str, ...]) -> GradCase:
    # value_scale * tanh_mix(arg_scale * x) at points arg_scale^-1 * uniform(-2, 2): the
    # function lives at magnitude value_scale in value and 1 / arg_scale in x.
    def f(x, xp):
        return value_scale * tanh_mix(arg_scale * x, xp)

    def grad(x):
        return value_scale * arg_scale * _tanh_mix_grad(arg_scale * x)

    def dropped_term(x):
        # product rule without x^2 tanh'(x)
        return value_scale * arg_scale * _tanh_mix_grad(arg_scale * x, sech_term=False)

    def partial_domain(x):
        # d(x^2)/dx written as 2|x|: right for x >= 0 only
        u = arg_scale * x
        return value_scale * arg_scale * _tanh_mix_grad(u, square_factor=np.abs(u))

    f.__name__, grad.__name__ = name, f"{name}_grad"
    points = tuple(_frozen(p / arg_scale) for p in _uniform(name, 5, -2.0, 2.0))
    return GradCase(name, f, grad, points, dropped_term, partial_domain, tags=tags)


# --- kinks -----------------------------------------------------------------------------


def abs_sum(x, xp):
    return xp.sum(xp.abs(x)) + 0.5 * xp.sum(x**2)


def abs_sum_grad(x):
    return np.sign(x) + x


def abs_sum_dropped(x):
    # the smooth term forgotten
    return np.sign(x)


def abs_sum_partial(x):
    # |x|' written as 1: right for x > 0 only
    return 1.0 + x


_RELU_MATRIX = _rng("relu_layer/matrix").standard_normal((4, 6))
_RELU_OUT = _rng("relu_layer/out").uniform(0.5, 2.0, size=4)


def relu_layer(x, xp):
    """``v . max(A x, 0) + |x|^2 / 2`` for a fixed 4 x 6 ``A``."""
    pre = xp.matmul(xp.asarray(_RELU_MATRIX), x)
    return xp.sum(xp.asarray(_RELU_OUT) * xp.maximum(pre, 0.0)) + 0.5 * xp.sum(x**2)


def _relu_layer_grad(x, gate=True, smooth=True):
    active = _RELU_MATRIX @ x > 0.0 if gate else np.ones(_RELU_OUT.size, dtype=bool)
    return _RELU_MATRIX.T @ (_RELU_OUT * active) + (x if smooth else 0.0)


def relu_layer_grad(x):
    return _relu_layer_grad(x)


def relu_layer_dropped(x):
    # the regulariser's term forgotten
    return _relu_layer_grad(x, smooth=False)


def relu_layer_partial(x):
    # relu' written as 1: right where every pre-activation is positive
    return _relu_layer_grad(x, gate=False)


def _relu_points(count: int = 3) -> tuple[np.ndarray, ...]:
    # Uniform points moved (minimum-norm correction) so that the pre-activations
    # (A x)_0 and (A x)_1 are +1e-7 and -1e-7: a hair either side of relu's kink.
    rng, rows, points = _rng("relu_layer"), _RELU_MATRIX[:2], []
    for _ in range(count):
        x = rng.uniform(-2.0, 2.0, size=6)
        x += np.linalg.lstsq(rows, np.array([1e-7, -1e-7]) - rows @ x, rcond=None)[0]
        points.append(_frozen(x))
    return tuple(points)


def huber(x, xp):
    """Huber loss with threshold 1: ``x^2 / 2`` for ``|x| <= 1``, ``|x| - 1/2`` outside."""
    return xp.sum(xp.where(xp.abs(x) <= 1.0, 0.5 * x**2, xp.abs(x) - 0.5))


def huber_grad(x):
    return np.clip(x, -1.0, 1.0)


def huber_partial(x):
    # the linear branch's slope written as +1 on both sides: wrong for x < -1
    return np.where(x < -1.0, 1.0, np.clip(x, -1.0, 1.0))


# --- the table -------------------------------------------------------------------------

_G = GradCase
_MIX_CASES = (
    _tanh_mix_case("tanh_mix", 1.0, 1.0, ()),
    _tanh_mix_case("value_1e-8", 1e-8, 1.0, ("tiny_value",)),
    _tanh_mix_case("value_1e8", 1e8, 1.0, ("huge_value",)),
    _tanh_mix_case("x_1e-8", 1.0, 1e8, ("tiny_x",)),
    _tanh_mix_case("x_1e8", 1.0, 1e-8, ("huge_x",)),
)
# fmt: off
CASES: tuple[GradCase, ...] = (
    _G("rosenbrock", rosenbrock, rosenbrock_grad, _uniform("rosenbrock", 6, -2.0, 2.0),
       rosenbrock_dropped, rosenbrock_partial, tags=("suite",)),
    _G("beale", beale, beale_grad, _uniform("beale", 2, -4.5, 4.5),
       beale_dropped, tags=("suite",)),
    _G("log_sum_exp", log_sum_exp, log_sum_exp_grad, _uniform("log_sum_exp", 5, -5.0, 5.0),
       tags=("suite",)),
    _G("rational", rational, rational_grad, _uniform("rational", 3, -2.0, 2.0),
       rational_dropped, tags=("suite",)),
    _G("matrix_product", matrix_product, matrix_product_grad, _uniform("matrix_product", 6, -2.0, 2.0),
       matrix_product_dropped, block_shape=(2, 3), tags=("suite", "matrix")),
    _G("softmax_regression", softmax_regression, softmax_regression_grad, _uniform("softmax", 12, -2.0, 2.0),
       softmax_regression_dropped, block_shape=(4, 3), tags=("matrix",)),
    _G("mlp_layer", mlp_layer, mlp_layer_grad, _uniform("mlp_layer", 16, -1.0, 1.0),
       mlp_layer_dropped, block_shape=(4, 3), tags=("matrix",)),
    _G("quadratic_form", quadratic_form, quadratic_form_grad, _uniform("quadratic_form", 9, -2.0, 2.0),
       quadratic_form_dropped, block_shape=(3, 3), tags=("matrix",)),
    _G("trig_product", trig_product, trig_product_grad, _uniform("trig_product", 5, -2.0, 2.0),
       trig_product_dropped),
    _G("exp_200", exp_200, exp_200_grad, _exp_200_points(),
       exp_200_dropped, exp_200_partial, tags=("curvature",)),
    _G("sin_1000", sin_1000, sin_1000_grad, _uniform("sin_1000", 4, -1.0, 1.0),
       sin_1000_dropped, tags=("curvature",)),
    *_MIX_CASES,
    _G("rosenbrock_5000", rosenbrock, rosenbrock_grad, _uniform("rosenbrock_5000", 5000, -2.0, 2.0, 2),
       rosenbrock_dropped, rosenbrock_partial, tags=("large",)),
    _G("abs_sum", abs_sum, abs_sum_grad, _near_kinks("abs_sum", 6, (0.0,)),
       abs_sum_dropped, abs_sum_partial, tags=("near_kink",)),
    _G("relu_layer", relu_layer, relu_layer_grad, _relu_points(),
       relu_layer_dropped, relu_layer_partial, tags=("near_kink",)),
    _G("huber", huber, huber_grad, _near_kinks("huber", 6, (1.0, -1.0)),
       None, huber_partial, tags=("near_kink",)),
)
# fmt: on

#: The cases by name.
CASES_BY_NAME: dict[str, GradCase] = {case.name: case for case in CASES}
