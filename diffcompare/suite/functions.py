"""The suite's test functions, each written once against the array namespace ``xp``.

Data (matrices, labels, network inputs) is drawn once from generators seeded with
:data:`~diffcompare.suite.SEED`, so every backend sees the same float64 constants.
"""

from __future__ import annotations

import numpy as np

from .records import SEED, HardPoint, SuiteFunction

__all__ = ["SUITE"]


def _data_rng(tag: int) -> np.random.Generator:
    return np.random.default_rng([SEED, tag])


# --- elementary functions -------------------------------------------------------------


def sum_of_squares(x, xp):
    return xp.sum(x**2)


def polynomial(x, xp):
    return x[0] ** 3 * x[1] - 2.0 * x[0] * x[1] ** 2 + x[2] ** 4 - 5.0


def exp_log(x, xp):
    return xp.exp(x[0]) * xp.log(x[1]) + x[2] * xp.log(x[2])


def trigonometric(x, xp):
    return xp.sin(x[0]) * xp.cos(x[1]) + xp.tan(x[2])


def inverse_trigonometric(x, xp):
    return xp.arcsin(x[0]) + xp.arccos(x[1]) * xp.arctan(x[2])


def square_roots(x, xp):
    return xp.sum(xp.sqrt(x)) + xp.sqrt(x[0] * x[1] + 1.0)


def hyperbolic(x, xp):
    return xp.sinh(x[0]) * xp.cosh(x[1])


def tanh_sum(x, xp):
    return xp.sum(xp.tanh(x))


def sigmoid_sum(x, xp):
    return xp.sum(xp.sigmoid(x))


def softplus_sum(x, xp):
    return xp.sum(xp.softplus(x))


def log1p_expm1(x, xp):
    return xp.log1p(x[0] ** 2) + xp.expm1(x[1])


def rational(x, xp):
    return (x[0] ** 2 + x[1]) / (1.0 + x[0] ** 2 + x[1] ** 2) + 1.0 / (x[2] - 3.0)


def power_xy(x, xp):
    return x[0] ** x[1] + x[1] ** (0.5 * x[0])


def log_sum_exp(x, xp):
    return xp.logsumexp(x)


def kinks(x, xp):
    return xp.sum(xp.abs(x)) + xp.maximum(x[0], x[1]) - 2.0 * xp.minimum(x[1], x[2])


def piecewise_where(x, xp):
    return xp.sum(xp.where(x > 0, x**2, -(x**3)))


def matrix_product(x, xp):
    m = xp.reshape(x, (2, 3))
    return xp.sum(xp.matmul(m, xp.transpose(m)) ** 2) + xp.sum(m.T[1] * m[:, 0])


def stack_concat(x, xp):
    pairs = xp.stack([x[:2], x[2:4]])
    extended = xp.concatenate([x, xp.sum(pairs, axis=0)])
    return xp.mean(extended**2) + xp.sum(xp.max(pairs, axis=1, keepdims=True))


def total_variation(x, xp):
    return xp.sum(xp.sqrt(0.01 + (x[1:] - x[:-1]) ** 2))


# --- optimisation benchmarks -----------------------------------------------------------


def rosenbrock(x, xp):
    return xp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def beale(x, xp):
    a, b = x[0], x[1]
    return (1.5 - a + a * b) ** 2 + (2.25 - a + a * b**2) ** 2 + (2.625 - a + a * b**3) ** 2


def booth(x, xp):
    return (x[0] + 2.0 * x[1] - 7.0) ** 2 + (2.0 * x[0] + x[1] - 5.0) ** 2


def himmelblau(x, xp):
    return (x[0] ** 2 + x[1] - 11.0) ** 2 + (x[0] + x[1] ** 2 - 7.0) ** 2


def styblinski_tang(x, xp):
    return 0.5 * xp.sum(x**4 - 16.0 * x**2 + 5.0 * x)


def rastrigin(x, xp):
    return 10.0 * x.shape[0] + xp.sum(x**2 - 10.0 * xp.cos(2.0 * xp.pi * x))


def ackley(x, xp):
    radius = xp.sqrt(xp.mean(x**2))
    wave = xp.mean(xp.cos(2.0 * xp.pi * x))
    return -20.0 * xp.exp(-0.2 * radius) - xp.exp(wave) + 20.0 + xp.e


def matyas(x, xp):
    return 0.26 * (x[0] ** 2 + x[1] ** 2) - 0.48 * x[0] * x[1]


def goldstein_price(x, xp):
    a, b = x[0], x[1]
    first = 1.0 + (a + b + 1.0) ** 2 * (19.0 - 14.0 * a + 3.0 * a**2 - 14.0 * b + 6.0 * a * b + 3.0 * b**2)
    second = 30.0 + (2.0 * a - 3.0 * b) ** 2 * (
        18.0 - 32.0 * a + 12.0 * a**2 + 48.0 * b - 36.0 * a * b + 27.0 * b**2
    )
    return first * second


def dixon_price(x, xp):
    i = xp.arange(2, x.shape[0] + 1, dtype=np.float64)
    return (x[0] - 1.0) ** 2 + xp.sum(i * (2.0 * x[1:] ** 2 - x[:-1]) ** 2)


def zakharov(x, xp):
    weighted = xp.sum(0.5 * xp.arange(1, x.shape[0] + 1, dtype=np.float64) * x)
    return xp.sum(x**2) + weighted**2 + weighted**4


def three_hump_camel(x, xp):
    a, b = x[0], x[1]
    return 2.0 * a**2 - 1.05 * a**4 + a**6 / 6.0 + a * b + b**2


def mccormick(x, xp):
    return xp.sin(x[0] + x[1]) + (x[0] - x[1]) ** 2 - 1.5 * x[0] + 2.5 * x[1] + 1.0


# --- models with data ------------------------------------------------------------------

_LSQ_A = _data_rng(1).standard_normal((8, 5))
_LSQ_B = _data_rng(2).standard_normal(8)


def least_squares(x, xp):
    residual = xp.matmul(xp.asarray(_LSQ_A), x) - xp.asarray(_LSQ_B)
    return xp.sum(residual**2)


_LOGREG_X = _data_rng(3).standard_normal((6, 3))
_LOGREG_Y = np.array([1.0, 0.0, 1.0, 1.0, 0.0, 0.0])


def logistic_regression(x, xp):
    # mean over samples of log(1 + exp(z)) - y z, the negative log-likelihood
    z = xp.matmul(xp.asarray(_LOGREG_X), x)
    return xp.mean(xp.softplus(z) - xp.asarray(_LOGREG_Y) * z)


_SOFTMAX_X = _data_rng(4).standard_normal((5, 2))
_SOFTMAX_ONE_HOT = np.eye(3)[[0, 2, 1, 2, 0]]


def softmax_cross_entropy(x, xp):
    weights = xp.reshape(x, (3, 2))
    logits = xp.matmul(xp.asarray(_SOFTMAX_X), xp.transpose(weights))
    picked = xp.sum(xp.asarray(_SOFTMAX_ONE_HOT) * logits, axis=1)
    return xp.mean(xp.logsumexp(logits, axis=1) - picked)


def make_mlp_loss(layers: tuple[int, ...], batch: int, tag: int = 5):
    """A tanh multilayer perceptron's mean squared error on seeded data, as ``f(x, xp)``.

    ``x`` holds each layer's weights (``out x in``, row-major) and then its biases,
    layer after layer.  Returns ``(f, dim)``.
    """
    shapes = list(zip(layers[1:], layers[:-1], strict=True))
    inputs = _data_rng(tag).standard_normal((batch, layers[0]))
    targets = _data_rng(tag + 1).standard_normal((batch, layers[-1]))

    def mlp_loss(x, xp):
        h, offset = xp.asarray(inputs), 0
        for i, (n_out, n_in) in enumerate(shapes):
            w = xp.reshape(x[offset : offset + n_out * n_in], (n_out, n_in))
            b = x[offset + n_out * n_in : offset + n_out * (n_in + 1)]
            offset += n_out * (n_in + 1)
            h = xp.matmul(h, xp.transpose(w)) + b
            if i < len(shapes) - 1:
                h = xp.tanh(h)
        return xp.mean((h - xp.asarray(targets)) ** 2)

    return mlp_loss, sum(n_out * (n_in + 1) for n_out, n_in in shapes)


# a 2-3-1 perceptron with tanh hidden units on a batch of 4
mlp_loss, _MLP_DIM = make_mlp_loss((2, 3, 1), 4)
# named as this module's attribute, so pickle sends it to a worker by reference
mlp_loss.__qualname__ = "mlp_loss"


# --- the records -----------------------------------------------------------------------

_H = HardPoint
# fmt: off
SUITE: tuple[SuiteFunction, ...] = (
    SuiteFunction("sum_of_squares", sum_of_squares, 3, (-10.0, 10.0), scalable=True, notes="polynomial", hard_points=(
        _H("large", (1e200, -3e180, 1.0), "f overflows to inf; the gradient 2x is finite"),
        _H("tiny", (1e-300, -5e-310, 2e-320), "subnormal coordinates"),
    )),
    SuiteFunction("polynomial", polynomial, 3, (-2.0, 2.0), notes="cubic and quartic terms, mixed products", hard_points=(
        _H("large", (1e30, 1e20, -1e25), "huge terms of different orders"),
    )),
    SuiteFunction("exp_log", exp_log, 3, ((-3.0, 3.0), (0.1, 5.0), (0.1, 5.0)), notes="exp, log", hard_points=(
        _H("tiny", (-700.0, 1e-300, 1e-300), "log of a tiny argument, exp near underflow"),
        _H("large", (700.0, 1e300, 1e300), "exp near overflow, log of a huge argument"),
    )),
    SuiteFunction("trigonometric", trigonometric, 3, (-1.2, 1.2), notes="sin, cos, tan", hard_points=(
        _H("near_singularity", (1e5, -1e5, 1.5707963), "tan next to its pole, large sin/cos arguments"),
    )),
    SuiteFunction("inverse_trigonometric", inverse_trigonometric, 3, (-0.9, 0.9), notes="arcsin, arccos, arctan", hard_points=(
        _H("near_singularity", (1.0 - 2.0**-40, -(1.0 - 2.0**-40), 1e150),
           "arcsin/arccos next to +-1: 1 - x^2 cancels, (1 - x)(1 + x) does not"),
    )),
    SuiteFunction("square_roots", square_roots, 3, (0.1, 10.0), notes="sqrt", hard_points=(
        _H("tiny", (1e-300, 1e-300, 4e-320), "sqrt' = 1/(2 sqrt x) is huge but finite"),
        _H("large", (1e300, 1e300, 1e300), "x0 x1 overflows inside the square root: every method "
           "evaluates sqrt(inf) and returns 0 for the last term", formula_limited=True),
    )),
    SuiteFunction("hyperbolic", hyperbolic, 2, (-3.0, 3.0), notes="sinh, cosh", hard_points=(
        _H("large", (350.0, -350.0), "sinh and cosh near 1e152: their product overflows"),
        _H("tiny", (1e-300, 1e-300), "sinh x ~ x, cosh x ~ 1"),
    )),
    SuiteFunction("tanh_sum", tanh_sum, 3, (-2.0, 2.0), scalable=True, notes="tanh", hard_points=(
        _H("saturation", (3.0, -2.5, 3.5), "saturation begins: 1 - tanh^2 already loses 7 bits"),
        _H("saturation", (20.0, -25.0, 30.0), "1 - tanh^2 rounds to 0; 1/cosh^2 keeps its digits"),
        _H("saturation", (360.0, -400.0, 5.0), "cosh^2 overflows; the true derivative is subnormal"),
    )),
    SuiteFunction("sigmoid_sum", sigmoid_sum, 3, (-6.0, 6.0), scalable=True, notes="sigmoid", hard_points=(
        _H("saturation", (40.0, -40.0, 36.0), "s (1 - s) cancels for large x; s(x) s(-x) does not"),
        _H("saturation", (-800.0, 800.0, -745.0), "exp(-x) overflows in the naive formula"),
    )),
    SuiteFunction("softplus_sum", softplus_sum, 3, (-6.0, 6.0), scalable=True, notes="softplus", hard_points=(
        _H("saturation", (-800.0, 800.0, 40.0), "exp(x) overflows in log(1 + exp(x))"),
    )),
    SuiteFunction("log1p_expm1", log1p_expm1, 2, (-2.0, 2.0), notes="log1p, expm1", hard_points=(
        _H("tiny", (1e-10, 1e-12), "arguments where log(1 + x) and exp(x) - 1 lose digits"),
        _H("cancellation", (3.0, -30.0), "expm1' = expm1 + 1 cancels for x << 0; exp(x) does not"),
    )),
    SuiteFunction("rational", rational, 3, (-2.0, 2.0), notes="a rational function with a pole at x2 = 3", hard_points=(
        _H("near_singularity", (0.5, -0.5, 3.0 + 1e-9), "one part in 1e9 from the pole"),
        _H("large", (1e150, 1e150, -1e150), "squares overflow"),
    )),
    SuiteFunction("power_xy", power_xy, 2, (0.5, 3.0), notes="x ** y with both variable", hard_points=(
        _H("tiny", (1e-200, 2.0), "a tiny base: log(x) is large, x ** y tiny"),
        _H("large", (300.0, 100.0), "x ** y overflows"),
    )),
    SuiteFunction("log_sum_exp", log_sum_exp, 4, (-5.0, 5.0), scalable=True, notes="log-sum-exp", hard_points=(
        _H("large", (1000.0, 1000.5, 999.0, -1000.0), "exp overflows unless shifted by the max"),
        _H("tiny", (-1000.0, -1000.5, -999.0, -1001.0), "exp underflows unless shifted by the max"),
    )),
    SuiteFunction("kinks", kinks, 3, (-3.0, 3.0), smooth=False, notes="abs, maximum, minimum (kinks)", hard_points=(
        _H("near_singularity", (1e-300, -1e-300, 2e-300), "a hair from every kink"),
    )),
    SuiteFunction("piecewise_where", piecewise_where, 4, (-2.0, 2.0), scalable=True, notes="where with a traced condition", hard_points=(
        _H("tiny", (1e-200, -1e-200, 1e-100, -1e-100), "both branches near their common point 0"),
    )),
    SuiteFunction("matrix_product", matrix_product, 6, (-2.0, 2.0), notes="reshape, transpose, matmul, indexing"),
    SuiteFunction("stack_concat", stack_concat, 4, (-3.0, 3.0), notes="stack, concatenate, mean, max with axis and keepdims"),
    SuiteFunction("total_variation", total_variation, 5, (-2.0, 2.0), scalable=True, min_dim=2, notes="slicing, sqrt"),
    SuiteFunction("rosenbrock", rosenbrock, 4, (-2.0, 2.0), scalable=True, min_dim=2, notes="Rosenbrock, any n", hard_points=(
        _H("cancellation", (1.0 + 1e-9, 1.0 + 2e-9, 1.0 + 4e-9, 1.0 + 8e-9),
           "near the minimum x^2 - y cancels: every exact method loses digits", formula_limited=True),
        _H("large", (1e4, -1e4, 1e4, 1e4), "terms near 1e18"),
    )),
    SuiteFunction("beale", beale, 2, (-4.5, 4.5), notes="Beale"),
    SuiteFunction("booth", booth, 2, (-10.0, 10.0), notes="Booth"),
    SuiteFunction("himmelblau", himmelblau, 2, (-5.0, 5.0), notes="Himmelblau"),
    SuiteFunction("styblinski_tang", styblinski_tang, 3, (-5.0, 5.0), scalable=True, notes="Styblinski-Tang"),
    SuiteFunction("rastrigin", rastrigin, 3, (-5.12, 5.12), scalable=True, notes="Rastrigin", hard_points=(
        _H("large", (1e6 + 0.25, -1e6 - 0.125, 12345.675), "sin of large arguments: the rounding of "
           "2 pi x is magnified by the size of x", formula_limited=True),
    )),
    SuiteFunction("ackley", ackley, 3, (-5.0, 5.0), scalable=True, notes="Ackley", hard_points=(
        _H("near_singularity", (1e-8, -2e-8, 3e-8), "sqrt(mean(x^2)) next to its kink at 0"),
    )),
    SuiteFunction("matyas", matyas, 2, (-10.0, 10.0), notes="Matyas"),
    SuiteFunction("goldstein_price", goldstein_price, 2, (-2.0, 2.0), notes="Goldstein-Price"),
    SuiteFunction("dixon_price", dixon_price, 4, (-10.0, 10.0), scalable=True, min_dim=2, notes="Dixon-Price"),
    SuiteFunction("zakharov", zakharov, 4, (-5.0, 10.0), scalable=True, notes="Zakharov"),
    SuiteFunction("three_hump_camel", three_hump_camel, 2, (-5.0, 5.0), notes="three-hump camel"),
    SuiteFunction("mccormick", mccormick, 2, ((-1.5, 4.0), (-3.0, 4.0)), notes="McCormick"),
    SuiteFunction("least_squares", least_squares, 5, (-2.0, 2.0), notes="||Ax - b||^2, A 8x5"),
    SuiteFunction("logistic_regression", logistic_regression, 3, (-2.0, 2.0), notes="logistic-regression loss, 6 samples", hard_points=(
        _H("large", (300.0, -200.0, 100.0), "large margins: softplus of +-500"),
    )),
    SuiteFunction("softmax_cross_entropy", softmax_cross_entropy, 6, (-2.0, 2.0), notes="softmax cross-entropy, 3 classes", hard_points=(
        _H("large", (400.0, -300.0, 200.0, 500.0, -600.0, 100.0), "logits in the hundreds"),
    )),
    SuiteFunction("mlp_loss", mlp_loss, _MLP_DIM, (-1.0, 1.0), notes="2-3-1 tanh MLP, mean squared error"),
)
# fmt: on
