"""An open-world corpus for gradient checkers: correct gradients shipped by code nobody here wrote.

:mod:`.mutations` holds gradients written by hand next to the functions; the checker's
authors chose the functions.  Here the functions and their gradients come from
scikit-learn, statsmodels and scipy, called as a user would call them: ``f(x)`` is a
black box returning a Python float and ``grad(x)`` is the library's own gradient.  A
few "situation" families put a smooth function with a known gradient in the conditions
that trip checkers: additive noise drawn afresh at every call (a nondeterministic
reduction order), a loss computed in float32 and returned as a Python float, a pole,
fast oscillation at large ``|x|``, an optimum, a loss scaled by 1e-9.

Every :class:`OpenCase` has typical points and awkward ones (an optimum, large ``|x|``,
a domain edge), each drawn with an explicit seed.  About a third of the cases are
``holdout``: kept out of any tuning loop and reported apart, so that a checker tuned on
the rest can be judged on cases it was not tuned on.

:data:`MISTAKES` turns a correct gradient into a wrong one the way people do (a
forgotten 1/N, a sign flip, one component off by 1e-3, a transposed block, the gradient
of a slightly shifted point); :func:`mistakes` keeps those that are really wrong at a
point, that is visible above what ``f``'s own error lets differences resolve
(:func:`visible`).

Importing this module loads numpy only: each case imports its library when it is built.

>>> case = CORPUS_BY_NAME["pole"]
>>> problem = build(case)
>>> len(problem.typical) == case.typical and len(problem.awkward) == len(case.awkward)
True
>>> sorted(mistakes(case, problem, problem.typical[0], point_seed(case, "typical", 0)))
['forgotten_normaliser', 'relative_1e-3', 'shifted_point', 'sign_flip']
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from ..suite.records import SEED

__all__ = [
    "CORPUS",
    "CORPUS_BY_NAME",
    "MISTAKES",
    "MISTAKE_COMPONENT",
    "MISTAKE_FLOOR",
    "MISTAKE_SHIFT",
    "Mistake",
    "NOISE_LEVELS",
    "OpenCase",
    "Problem",
    "VISIBLE",
    "build",
    "check_seed",
    "error_bound",
    "mistaken_gradient",
    "mistakes",
    "point_seed",
    "visible",
]

#: Relative sizes of the additive noise of the ``noise_*`` cases.
NOISE_LEVELS = (1e-15, 1e-13, 1e-11, 1e-9, 1e-7, 1e-5, 1e-3)

#: Sign flips and relative errors hit a component at least this fraction of the
#: gradient's max-norm: an error of 1e-3 on a component 1e-6 of the others is a change
#: of 1e-9 of the gradient, which no check of a float64 ``f`` can be asked to see.
MISTAKE_COMPONENT = 0.1

#: A mistake must change the gradient by this fraction of its max-norm at least (ten
#: times the relative error diffcompare's oracle promises to resolve).
MISTAKE_FLOOR = 1e-5

#: A mistake must change the gradient by VISIBLE times the error with which central
#: differences can resolve it (see :func:`visible`).
VISIBLE = 100.0

#: The shifted-point mistake evaluates the gradient at ``x + MISTAKE_SHIFT max(1, |x|)``
#: (the previous iterate, an update applied too early): for a function of unit
#: curvature a relative change of about 1e-4, ten times :data:`MISTAKE_FLOOR`.
MISTAKE_SHIFT = 1e-4

_EPS = float(np.finfo(np.float64).eps)
_EPS32 = float(np.finfo(np.float32).eps)


class Problem(NamedTuple):
    """What a case's builder returns: ``f``, ``grad``, the points, and second derivatives.

    ``hess(x)`` (shape ``(n, n)``) and ``hvp(x, v)`` are the library's own Hessian and
    Hessian-vector product where it ships them, else None.
    """

    f: Callable[[np.ndarray], float]
    grad: Callable[[np.ndarray], np.ndarray]
    typical: tuple[np.ndarray, ...]
    awkward: tuple[np.ndarray, ...]
    hess: Callable[[np.ndarray], np.ndarray] | None = None
    hvp: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None


@dataclass(frozen=True)
class OpenCase:
    """A function and its shipped gradient from a library, or a situation family.

    Attributes
    ----------
    name : str
        Unique name.
    source : str
        Where the function and its gradient come from.
    requires : tuple of str
        Import names the builder needs.
    builder : callable
        ``builder() -> Problem``: ``f(x)`` returns a Python float, ``grad(x)`` a float64
        array of shape ``(n,)``; the points are read-only float64 arrays.
    typical : int
        How many typical points the builder returns.
    awkward : tuple of str
        What each awkward point is, in the order the builder returns them.
    normaliser : float or None
        The factor a forgotten (or spurious) normalisation multiplies the gradient by:
        ``N`` for a mean over ``N`` samples, ``1 / N`` for a sum (the mean's gradient
        given for it), 2 for a lost 1/2; None where no such bug is plausible.
    block_shape : tuple of int or None
        ``(rows, cols)`` of a parameter matrix stored row-major at the start of ``x``
        (a non-square block, so that transposing it moves numbers).
    noise : float
        Relative error of one evaluation of ``f`` beyond float64 rounding: the noise
        level, float32's eps for a float32 loss, 0 otherwise.
    tags : tuple of str
        Library (``"sklearn"``, ``"statsmodels"``, ``"scipy"``) or ``"situation"``,
        plus what is special (``"noise"``, ``"float32"``, ``"pole"``, ...).
    holdout : bool
        Kept out of tuning; reported separately.
    inaccurate : tuple of str
        Awkward points where the shipped gradient is measurably off the derivative of
        the shipped ``f``: a checker that resolves it rightly says "fail".  At
        NegativeBinomial's ``alpha = 1e-6`` the alpha score is 68.93084 against
        68.93703 from 60-digit arithmetic (9e-5 relative, lost to digamma cancellation).
    """

    name: str
    source: str
    requires: tuple[str, ...]
    builder: Callable[[], Problem]
    typical: int
    awkward: tuple[str, ...]
    normaliser: float | None
    block_shape: tuple[int, int] | None = None
    noise: float = 0.0
    tags: tuple[str, ...] = ()
    holdout: bool = False
    inaccurate: tuple[str, ...] = ()


def build(case: OpenCase) -> Problem:
    """Build ``case`` (importing its libraries) and check the builder kept its promises.

    Raises
    ------
    ImportError
        If a package in ``case.requires`` is missing.
    ValueError
        If the builder returned another number of points than the record says.
    """
    problem = case.builder()
    if len(problem.typical) != case.typical or len(problem.awkward) != len(case.awkward):
        raise ValueError(
            f"{case.name}: the builder gave {len(problem.typical)} typical and {len(problem.awkward)} "
            f"awkward points; the record says {case.typical} and {len(case.awkward)}"
        )
    return problem


def point_seed(case: OpenCase, kind: str, index: int) -> list[int]:
    """The seed of the mistakes at point ``index`` of kind "typical" or "awkward"."""
    return [SEED, zlib.crc32(case.name.encode()), ("typical", "awkward").index(kind), int(index)]


def check_seed(case: OpenCase, kind: str, index: int) -> int:
    """A 32-bit seed for a checker's own random draws at one point of ``case``."""
    return int(np.random.SeedSequence(point_seed(case, kind, index)).generate_state(1)[0])


# --- what counts as wrong --------------------------------------------------------------


def error_bound(case: OpenCase, f_value: float) -> float:
    """The absolute error of one evaluation of ``case``'s ``f`` near ``f_value``.

    The noise of the noisy cases is ``noise * max(1, |f|)``; float32 losses round to
    about their eps times ``max(1, |f|)`` too (summed terms of order 1); a float64
    library function to about eps ``|f|``.
    """
    if case.noise > 0:
        return case.noise * max(1.0, abs(f_value))
    return _EPS * abs(f_value)


def visible(case: OpenCase, wrong: np.ndarray, right: np.ndarray, f_value: float, x: np.ndarray) -> bool:
    """Whether ``wrong`` differs from ``right`` by more than ``f``'s error can hide.

    Central differences of an ``f`` with error ``E`` whose values ``F`` vary on the
    scale ``s`` of ``x`` are best at a step ``h ~ (E s^3 / F)^(1/3)``, where rounding
    ``E / h`` and truncation ``h^2 F / s^3`` balance: the derivative is then known to
    about ``E^(2/3) F^(1/3) / s``.  A mistake must exceed :data:`VISIBLE` times that
    (extrapolation does better than plain central differences; a factor 100 covers
    the constants) and :data:`MISTAKE_FLOOR` of the gradient's max-norm.
    """
    size = float(np.max(np.abs(wrong - right), initial=0.0))
    if not np.isfinite(size):
        return True
    error = error_bound(case, f_value)
    scale = max(1.0, float(np.max(np.abs(x))))
    resolvable = error ** (2.0 / 3.0) * max(abs(f_value), error) ** (1.0 / 3.0) / scale
    return (
        size > 0.0 and size >= MISTAKE_FLOOR * float(np.max(np.abs(right))) and size >= VISIBLE * resolvable
    )


# --- mistakes --------------------------------------------------------------------------


def _component(g: np.ndarray, rng: np.random.Generator) -> int | None:
    scale = float(np.max(np.abs(g), initial=0.0))
    candidates = np.flatnonzero(np.abs(g) >= MISTAKE_COMPONENT * scale) if scale > 0 else []
    return None if len(candidates) == 0 else int(rng.choice(candidates))


def _scaled_component(factor: float) -> Callable:
    def make(case, grad, x, rng):
        g = np.array(grad(x), dtype=np.float64)
        k = _component(g, rng)
        if k is None:
            return None
        g[k] *= factor
        return g

    return make


def _normaliser(case, grad, x, rng):
    return None if case.normaliser is None else case.normaliser * grad(x)


def _transposed(case, grad, x, rng):
    # The parameter matrix's gradient computed in the other layout (C order for a
    # library that stores F order, Delta^T X for X^T Delta) and stored in place.
    if case.block_shape is None:
        return None
    rows, cols = case.block_shape
    g = np.array(grad(x), dtype=np.float64)
    g[: rows * cols] = g[: rows * cols].reshape(rows, cols).T.reshape(-1)
    return g


def _shifted(case, grad, x, rng):
    return np.array(grad(x + MISTAKE_SHIFT * np.maximum(1.0, np.abs(x))), dtype=np.float64)


@dataclass(frozen=True)
class Mistake:
    """A realistic way of getting a correct gradient wrong.

    Attributes
    ----------
    name : str
    make : callable
        ``make(case, grad, x, rng)`` returns the wrong gradient at ``x``, or None where
        the mistake does not apply (no normaliser, no block, no significant component);
        ``rng`` picks the component.
    note : str
    """

    name: str
    make: Callable[[OpenCase, Callable, np.ndarray, np.random.Generator], np.ndarray | None]
    note: str


# fmt: off
MISTAKES: dict[str, Mistake] = {m.name: m for m in (
    Mistake("forgotten_normaliser", _normaliser,              "times the case's normaliser (a lost 1/N)"),
    Mistake("sign_flip",            _scaled_component(-1.0),  "one significant component's sign flipped"),
    Mistake("relative_1e-3",        _scaled_component(1.001), "one significant component off by 1e-3"),
    Mistake("transposed_block",     _transposed,              "the parameter block transposed"),
    Mistake("shifted_point",        _shifted,                 "gradient at x + 1e-4 max(1, |x|)"),
)}
# fmt: on


def mistaken_gradient(case: OpenCase, grad: Callable, name: str, seed) -> Callable[[np.ndarray], np.ndarray]:
    """The gradient function with mistake ``name``: ``x -> wrong gradient`` (or None).

    A fresh generator seeded with ``seed`` at every call picks the component, so the
    function is deterministic.

    Raises
    ------
    ValueError
        If ``name`` is not in :data:`MISTAKES`.
    """
    if name not in MISTAKES:
        raise ValueError(f"unknown mistake {name!r}; known: {', '.join(MISTAKES)}")
    mistake = MISTAKES[name]

    def wrong_gradient(x):
        return mistake.make(case, grad, np.asarray(x, dtype=np.float64), np.random.default_rng(seed))

    wrong_gradient.__name__ = f"{case.name}_{name}"
    return wrong_gradient


def mistakes(case: OpenCase, problem: Problem, x: np.ndarray, seed) -> dict[str, Callable]:
    """The mistaken gradient functions that apply at ``x`` and are :func:`visible` there.

    Parameters
    ----------
    case : OpenCase
    problem : Problem
        ``build(case)``.
    x : ndarray
        The point.
    seed : int or sequence of int
        Seeds the choice of component (see :func:`point_seed`).

    Returns
    -------
    dict
        Mistake name to ``wrong_gradient(x)``, in the order of :data:`MISTAKES`.
    """
    right = np.asarray(problem.grad(x), dtype=np.float64)
    f_value = float(problem.f(x))
    found = {}
    for name in MISTAKES:
        wrong_gradient = mistaken_gradient(case, problem.grad, name, seed)
        wrong = wrong_gradient(x)
        if wrong is not None and visible(case, wrong, right, f_value, x):
            found[name] = wrong_gradient
    return found


# --- points ----------------------------------------------------------------------------


def _generator(name: str, purpose: str) -> np.random.Generator:
    return np.random.default_rng([SEED, zlib.crc32(name.encode()), zlib.crc32(purpose.encode())])


def _frozen(x) -> np.ndarray:
    x = np.array(x, dtype=np.float64)
    x.setflags(write=False)
    return x


def _points(rows) -> tuple[np.ndarray, ...]:
    return tuple(_frozen(row) for row in rows)


def _vector(g) -> np.ndarray:
    return np.asarray(g, dtype=np.float64).reshape(-1)


# --- scipy -----------------------------------------------------------------------------


def _special_sum(name, value, derivative, typical, awkward, second=None) -> Problem:
    """``sum(value(x))`` and ``derivative(x)`` elementwise, four coordinates.

    ``typical`` is ``(low, high)``; ``awkward`` a list of ``(low, high)`` boxes whose
    points all coordinates share (the hard regime in every component, so that no
    ordinary component can dominate the gradient's scale).  ``second``, the library's
    second derivative where it ships one, gives the diagonal Hessian and its product.
    """
    rng = _generator(name, "points")

    def f(x):
        return float(np.sum(value(x)))

    def grad(x):
        return _vector(derivative(x))

    hess = hvp = None
    if second is not None:

        def hess(x):
            return np.diag(_vector(second(x)))

        def hvp(x, v):
            return _vector(second(x) * v)

    return Problem(
        f,
        grad,
        _points(rng.uniform(*typical, size=(3, 4))),
        _points(rng.uniform(low, high, size=4) for low, high in awkward),
        hess,
        hvp,
    )


def _scipy_gammaln() -> Problem:
    from scipy import special

    return _special_sum(
        "scipy_gammaln",
        special.gammaln,
        special.psi,
        (0.5, 10.0),
        [(1e-6, 2e-6), (1e6, 2e6), (-3.45, -3.35)],
        second=lambda x: special.polygamma(1, x),
    )


def _scipy_psi() -> Problem:
    from scipy import special

    # psi(-1 + d) ~ -1/d: a pole 1e-5 away; polygamma(1, x) ~ 1/x^2 near 0
    return _special_sum(
        "scipy_psi",
        special.psi,
        lambda x: special.polygamma(1, x),
        (0.5, 10.0),
        [(1e-4, 2e-4), (-1.0 + 1e-5, -1.0 + 2e-5), (1e8, 2e8)],
        second=lambda x: special.polygamma(2, x),
    )


def _scipy_erf() -> Problem:
    from scipy import special

    # At 4.5 erf is 1 - 2e-10 and its derivative 3e-9: f moves by less than its
    # rounding over steps below 1e-7.  At -6 the derivative is 2e-16 against |f| = 4.
    return _special_sum(
        "scipy_erf",
        special.erf,
        lambda x: 2.0 / math.sqrt(math.pi) * np.exp(-(x**2)),
        (-2.0, 2.0),
        [(4.5, 4.6), (-6.1, -6.0)],
    )


def _scipy_j0() -> Problem:
    from scipy import special

    return _special_sum(
        "scipy_j0", special.j0, lambda x: -special.j1(x), (0.0, 20.0), [(1000.0, 1001.0), (1e5, 1e5 + 1.0)]
    )


def _scipy_expit() -> Problem:
    from scipy import special

    # expit' = expit(x) expit(-x), free of the cancellation in expit (1 - expit) at
    # large x.  At 40, f is 4 to rounding and the derivative 4e-18; at -40 both are 4e-18.
    return _special_sum(
        "scipy_expit",
        special.expit,
        lambda x: special.expit(x) * special.expit(-x),
        (-4.0, 4.0),
        [(40.0, 41.0), (-41.0, -40.0)],
    )


def _scipy_log_ndtr() -> Problem:
    from scipy import special

    # d log Phi / dx = phi / Phi.  With Phi(x) = erfcx(-x / sqrt 2) exp(-x^2 / 2) / 2 the
    # exponentials cancel exactly: sqrt(2 / pi) / erfcx(-x / sqrt 2), accurate to a few
    # ulps everywhere.  exp(log phi - log Phi) would subtract two numbers near -x^2 / 2,
    # losing 1e-10 at x = -1000 where the derivative is about |x|.
    def derivative(x):
        return math.sqrt(2.0 / math.pi) / special.erfcx(-x / math.sqrt(2.0))

    return _special_sum(
        "scipy_log_ndtr",
        special.log_ndtr,
        derivative,
        (-3.0, 3.0),
        [(-31.0, -30.0), (-1100.0, -1000.0), (9.0, 10.0)],
    )


def _scipy_i0e() -> Problem:
    from scipy import special

    # i0e(x) = exp(-|x|) I0(x): derivative i1e(x) - sign(x) i0e(x), a kink at 0.  Near
    # 100 the two terms are 0.04 each and their difference 2e-4: 200 ulps are lost to
    # the subtraction (near 1e4 it would be 2e4 ulps, more than a correct gradient's
    # rounding should be allowed).
    return _special_sum(
        "scipy_i0e",
        special.i0e,
        lambda x: special.i1e(x) - np.sign(x) * special.i0e(x),
        (-10.0, 10.0),
        [(1e-9, 2e-9), (100.0, 200.0)],
    )


def _scipy_logsumexp() -> Problem:
    from scipy import special

    rng = _generator("scipy_logsumexp", "points")

    def f(x):
        return float(special.logsumexp(x))

    def grad(x):
        return _vector(special.softmax(x))

    # A spread of 1e3 (softmax one-hot, the rest e^-hundreds) and values near 1e8,
    # where rounding x costs 1.5e-8 absolute on terms of size 1.
    awkward = (rng.uniform(-1e3, 1e3, size=5), 1e8 + rng.uniform(-2.0, 2.0, size=5))
    return Problem(f, grad, _points(rng.uniform(-5.0, 5.0, size=(3, 5))), _points(awkward))


def _scipy_rosen() -> Problem:
    from scipy import optimize

    rng = _generator("scipy_rosen", "points")

    def f(x):
        return float(optimize.rosen(x))

    def grad(x):
        return _vector(optimize.rosen_der(x))

    # 1e-9 from the minimum f is 1e-16 and the gradient 1e-7: it is all curvature.
    def hess(x):
        return np.asarray(optimize.rosen_hess(x), dtype=np.float64)

    def hvp(x, v):
        return _vector(optimize.rosen_hess_prod(x, v))

    awkward = (1.0 + 1e-9 * rng.uniform(-1.0, 1.0, size=6), rng.uniform(-100.0, 100.0, size=6))
    return Problem(f, grad, _points(rng.uniform(-2.0, 2.0, size=(3, 6))), _points(awkward), hess, hvp)


# --- scikit-learn ----------------------------------------------------------------------


def _gpr_data(name: str):
    rng = _generator(name, "data")
    x = rng.uniform(-3.0, 3.0, size=(40, 2))
    y = np.sin(x[:, 0]) * np.cos(x[:, 1]) + 0.1 * rng.standard_normal(40)
    return x, y


def _gpr(name: str, kernel, typical_low, typical_high, awkward_thetas) -> Problem:
    from sklearn.gaussian_process import GaussianProcessRegressor

    x, y = _gpr_data(name)
    model = GaussianProcessRegressor(kernel, optimizer=None).fit(x, y)

    def f(theta):
        return float(model.log_marginal_likelihood(theta))

    def grad(theta):
        return _vector(model.log_marginal_likelihood(theta, eval_gradient=True)[1])

    # The optimum of the marginal likelihood, where L-BFGS stops with |grad| ~ 1e-6
    # while its terms are of order 1 (a trace of 40 x 40 products).
    fitted = GaussianProcessRegressor(kernel).fit(x, y)
    rng = _generator(name, "points")
    typical = rng.uniform(typical_low, typical_high, size=(3, len(typical_low)))
    return Problem(f, grad, _points(typical), _points([fitted.kernel_.theta, *awkward_thetas]))


def _gpr_rbf() -> Problem:
    from sklearn.gaussian_process.kernels import RBF, ConstantKernel, WhiteKernel

    # theta = log [amplitude, length scale 1, length scale 2, noise level]
    kernel = ConstantKernel(1.0) * RBF([1.0, 1.0]) + WhiteKernel(0.1)
    long_scales = np.log([1.0, 100.0, 100.0, 1e-2])  # K nearly rank one plus the noise
    tiny_noise = np.log([1.0, 1.0, 1.0, 1e-8])  # K ill-conditioned, Cholesky near failing
    return _gpr(
        "sklearn_gpr_rbf", kernel, [-1.0, -1.0, -1.0, -4.0], [1.0, 1.0, 1.0, -1.0], [long_scales, tiny_noise]
    )


def _gpr_matern() -> Problem:
    from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel

    # nu = 1.5 has a closed-form gradient (other nu fall back to finite differences)
    kernel = ConstantKernel(1.0) * Matern(1.0, nu=1.5) + WhiteKernel(0.1)
    tiny_noise = np.log([1.0, 1.0, 1e-8])
    return _gpr("sklearn_gpr_matern", kernel, [-1.0, -1.0, -4.0], [1.0, 1.0, -1.0], [tiny_noise])


_HUBER_EPSILON = 1.35
_HUBER_ALPHA = 1e-4


def _sklearn_huber() -> Problem:
    from sklearn.linear_model import HuberRegressor
    from sklearn.linear_model._huber import _huber_loss_and_gradient

    rng = _generator("sklearn_huber", "data")
    x = rng.standard_normal((50, 3))
    y = x @ np.array([1.0, 2.0, 3.0]) + 0.5 * rng.standard_normal(50)
    y[:5] += rng.choice([-1.0, 1.0], size=5) * rng.uniform(5.0, 10.0, size=5)  # outliers
    weights = np.ones(50)

    def f(w):
        return float(_huber_loss_and_gradient(w, x, y, _HUBER_EPSILON, _HUBER_ALPHA, weights)[0])

    def grad(w):
        return _vector(_huber_loss_and_gradient(w, x, y, _HUBER_EPSILON, _HUBER_ALPHA, weights)[1])

    # w = [coefficients (3), intercept, scale sigma]
    points = _generator("sklearn_huber", "points")
    typical = np.column_stack(
        [points.uniform(-1.0, 3.0, size=(3, 3)), points.uniform(-1.0, 1.0, 3), points.uniform(0.5, 2.0, 3)]
    )
    fitted = HuberRegressor(epsilon=_HUBER_EPSILON, alpha=_HUBER_ALPHA).fit(x, y)
    optimum = np.r_[fitted.coef_, fitted.intercept_, fitted.scale_]
    small_scale = np.r_[typical[0, :4], 1e-3]  # nearly every residual an outlier
    # sigma chosen so that residual 7 sits 1e-9 (relative) outside |r| = epsilon sigma,
    # where the loss switches pieces (it is C1 there; its curvature jumps).
    residual = abs(y[7] - x[7] @ typical[0, :3] - typical[0, 3])
    at_switch = np.r_[typical[0, :4], residual / (_HUBER_EPSILON * (1.0 + 1e-9))]
    return Problem(f, grad, _points(typical), _points([optimum, small_scale, at_switch]))


def _sklearn_multinomial() -> Problem:
    from scipy import optimize
    from sklearn._loss.loss import HalfMultinomialLoss
    from sklearn.linear_model._linear_loss import LinearModelLoss

    rng = _generator("sklearn_multinomial", "data")
    x = rng.standard_normal((50, 3))
    y = rng.integers(0, 4, size=50).astype(np.float64)
    loss = LinearModelLoss(base_loss=HalfMultinomialLoss(n_classes=4), fit_intercept=False)
    l2 = 0.1

    # coef is 4 classes x 3 features stored in F order (the classes of one feature
    # contiguous): row-major it is a 3 x 4 block.
    def f(coef):
        return float(loss.loss(coef, x, y, l2_reg_strength=l2))

    def grad(coef):
        return _vector(loss.gradient(coef, x, y, l2_reg_strength=l2))

    def hess(coef):
        return np.asarray(loss.gradient_hessian(coef, x, y, l2_reg_strength=l2)[1], dtype=np.float64)

    def hvp(coef, v):
        return _vector(loss.gradient_hessian_product(coef, x, y, l2_reg_strength=l2)[1](v))

    points = _generator("sklearn_multinomial", "points")
    typical = points.standard_normal((3, 12))
    optimum = optimize.minimize(
        lambda c: loss.loss_gradient(c, x, y, l2_reg_strength=l2),
        np.zeros(12),
        jac=True,
        method="L-BFGS-B",
        options={"gtol": 1e-12, "ftol": 1e-15, "maxiter": 1000},
    ).x
    saturated = 30.0 * typical[0]  # probabilities one-hot to within e^-hundreds
    return Problem(f, grad, _points(typical), _points([optimum, saturated]), hess, hvp)


# --- statsmodels -----------------------------------------------------------------------


def _regression_data(name: str, samples: int = 60) -> tuple[np.ndarray, np.random.Generator]:
    rng = _generator(name, "data")
    return np.column_stack([np.ones(samples), rng.standard_normal((samples, 2))]), rng


def _likelihood(
    name, loglike, score, hessian, mle, linear_predictors=None, largest=None, extra_awkward=(), positive=0
) -> Problem:
    """``loglike``, ``score`` and ``hessian`` of a fitted statsmodels model.

    Typical points are the MLE plus N(0, 0.5^2) per parameter (the last ``positive``
    parameters, which must stay positive, times exp(N(0, 0.5^2))); awkward ones the MLE
    itself (where the score's terms cancel to 1e-13 or less), the MLE scaled so that the
    largest of ``|linear_predictors @ params|`` is ``largest`` (if given), and
    ``extra_awkward``.
    """
    rng = _generator(name, "points")
    steps = 0.5 * rng.standard_normal((3, mle.size))
    typical = mle + steps
    if positive:
        typical[:, -positive:] = mle[-positive:] * np.exp(steps[:, -positive:])
    awkward = [mle]
    if largest is not None:
        awkward.append(mle * largest / float(np.max(np.abs(linear_predictors @ mle))))

    def f(params):
        return float(loglike(params))

    def grad(params):
        return _vector(score(params))

    def hess(params):
        return np.asarray(hessian(params), dtype=np.float64)

    return Problem(f, grad, _points(typical), _points([*awkward, *extra_awkward]), hess)


def _fit(model) -> np.ndarray:
    return np.asarray(model.fit(method="newton", tol=1e-14, maxiter=200, disp=0).params)


def _statsmodels_logit() -> Problem:
    from statsmodels.discrete.discrete_model import Logit

    exog, rng = _regression_data("statsmodels_logit")
    endog = (rng.random(60) < 1.0 / (1.0 + np.exp(-exog @ np.array([0.3, 1.0, -0.8])))).astype(float)
    model = Logit(endog, exog)
    return _likelihood(
        "statsmodels_logit", model.loglike, model.score, model.hessian, _fit(model), exog, 25.0
    )


def _statsmodels_probit() -> Problem:
    from statsmodels.discrete.discrete_model import Probit

    exog, rng = _regression_data("statsmodels_probit")
    endog = (exog @ np.array([0.2, 0.8, -0.6]) + rng.standard_normal(60) > 0).astype(float)
    model = Probit(endog, exog)
    # Probit clips Phi at 2.2e-16 in loglike (and score divides by the clipped Phi):
    # beyond |x b| ~ 8 its loglike is flat where its score is not, so the large point
    # stays at |x b| = 6.
    return _likelihood(
        "statsmodels_probit", model.loglike, model.score, model.hessian, _fit(model), exog, 6.0
    )


def _statsmodels_poisson() -> Problem:
    from statsmodels.discrete.discrete_model import Poisson

    exog, rng = _regression_data("statsmodels_poisson")
    endog = rng.poisson(np.exp(exog @ np.array([0.5, 0.4, -0.3])))
    model = Poisson(endog, exog)
    return _likelihood(
        "statsmodels_poisson", model.loglike, model.score, model.hessian, _fit(model), exog, 20.0
    )


def _statsmodels_glm_gamma() -> Problem:
    import statsmodels.api as sm

    exog, rng = _regression_data("statsmodels_glm_gamma")
    mean = np.exp(exog @ np.array([0.5, 0.4, -0.3]))
    endog = rng.gamma(2.0, mean / 2.0)
    model = sm.GLM(endog, exog, family=sm.families.Gamma(link=sm.families.links.Log()))
    fitted = model.fit(tol=1e-14, maxiter=200)
    # With scale=None loglike re-estimates the scale from params (a function of params
    # that score treats as fixed), so both get the fitted scale.
    scale = float(fitted.scale)
    return _likelihood(
        "statsmodels_glm_gamma",
        lambda params: model.loglike(params, scale=scale),
        lambda params: model.score(params, scale=scale),
        lambda params: model.hessian(params, scale=scale),
        np.asarray(fitted.params),
        exog,
        15.0,
    )


def _statsmodels_negbin() -> Problem:
    from statsmodels.discrete.discrete_model import NegativeBinomial

    exog, rng = _regression_data("statsmodels_negbin")
    mean = np.exp(exog @ np.array([0.5, 0.9, -0.4]))
    endog = rng.negative_binomial(2.0, 2.0 / (2.0 + mean))
    model = NegativeBinomial(endog, exog)  # NB2; params = [beta (3), alpha]
    # fit() estimates log(alpha) and leaves the model on the natural alpha, which
    # loglike and score take from then on.
    mle = _fit(model)
    # alpha 1e-6 is 1e-6 from the Poisson edge: loglike's gammaln(y + 1/alpha) -
    # gammaln(1/alpha) cancels terms of 1e7.
    near_poisson = np.r_[mle[:3], 1e-6]
    return _likelihood(
        "statsmodels_negbin",
        model.loglike,
        model.score,
        model.hessian,
        mle,
        extra_awkward=[near_poisson],
        positive=1,
    )


def _statsmodels_mnlogit() -> Problem:
    from statsmodels.discrete.discrete_model import MNLogit

    exog, rng = _regression_data("statsmodels_mnlogit")
    logits = exog @ np.array([[0.0, 0.5, -0.5], [0.0, 1.0, 0.3], [0.0, -0.7, 0.8]])
    probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    endog = np.array([rng.choice(3, p=p) for p in probabilities])
    model = MNLogit(endog, exog)
    # params: 3 regressors x 2 non-reference classes in F order; row-major, 2 x 3.
    mle = _fit(model).reshape(-1, order="F")
    # the linear predictors of both classes: [exog @ b_1, exog @ b_2]
    predictors = np.kron(np.eye(2), exog)
    return _likelihood(
        "statsmodels_mnlogit", model.loglike, model.score, model.hessian, mle, predictors, 20.0
    )


# --- situations ------------------------------------------------------------------------


def _tanh_squares(x) -> float:
    return float(np.sum(np.tanh(x) ** 2))


def _tanh_squares_grad(x) -> np.ndarray:
    t = np.tanh(x)
    return 2.0 * t * (1.0 - t**2)


def _noise(level: float) -> Callable[[], Problem]:
    name = f"noise_{level:g}"

    def builder() -> Problem:
        # A fresh draw at every call, as from a reduction whose order changes run to
        # run: the same x gives a different value each time.  Seeded once, so that a
        # whole run is repeatable.
        noise = _generator(name, "noise")

        def f(x):
            value = _tanh_squares(x)
            return value + level * max(1.0, abs(value)) * noise.uniform(-1.0, 1.0)

        points = _generator(name, "points").uniform(-2.0, 2.0, size=(20, 6))
        return Problem(f, _tanh_squares_grad, _points(points), ())

    return builder


_LOGISTIC_SAMPLES = 40


def _logistic_data() -> tuple[np.ndarray, np.ndarray]:
    rng = _generator("logistic", "data")
    x = np.column_stack([np.ones(_LOGISTIC_SAMPLES), rng.standard_normal((_LOGISTIC_SAMPLES, 3))])
    y = (rng.random(_LOGISTIC_SAMPLES) < 1.0 / (1.0 + np.exp(-x @ np.array([0.3, 1.0, -0.8, 0.5])))).astype(
        float
    )
    return x, y


def _logistic(scale: float = 1.0) -> tuple[Callable, Callable, Callable]:
    """Mean logistic loss times ``scale``: (loss, gradient, Hessian)."""
    x, y = _logistic_data()

    def loss(w):
        z = x @ w
        return float(scale * np.mean(np.logaddexp(0.0, z) - y * z))

    def gradient(w):
        p = 0.5 * (1.0 + np.tanh(0.5 * (x @ w)))  # expit without overflow
        return scale * (x.T @ (p - y)) / _LOGISTIC_SAMPLES

    def hessian(w):
        p = 0.5 * (1.0 + np.tanh(0.5 * (x @ w)))
        return scale * (x.T * (p * (1.0 - p))) @ x / _LOGISTIC_SAMPLES

    return loss, gradient, hessian


def _logistic_points(name: str, center=0.0) -> tuple[np.ndarray, ...]:
    return _points(center + _generator(name, "points").normal(0.0, 1.0, size=(20, 4)))


def _logistic_mle() -> np.ndarray:
    from scipy import optimize

    loss, gradient, hessian = _logistic()
    return optimize.minimize(
        loss, np.zeros(4), jac=gradient, hess=hessian, method="trust-exact", options={"gtol": 1e-15}
    ).x


def _float32_logistic() -> Problem:
    x, y = _logistic_data()
    x32, y32 = x.astype(np.float32), y.astype(np.float32)

    # Everything in float32, as a float32 model computes it; the loss handed over as a
    # Python float, so its dtype says float64 while it carries 7 digits.
    def f(w):
        z = x32 @ np.asarray(w, dtype=np.float32)
        return float(np.mean(np.logaddexp(np.float32(0.0), z) - y32 * z))

    def grad(w):
        z = x32 @ np.asarray(w, dtype=np.float32)
        p = np.float32(0.5) * (np.float32(1.0) + np.tanh(np.float32(0.5) * z))
        return _vector(x32.T @ (p - y32) / np.float32(_LOGISTIC_SAMPLES))

    return Problem(f, grad, _logistic_points("float32_logistic"), ())


def _tiny_logistic() -> Problem:
    loss, gradient, _ = _logistic(1e-9)
    return Problem(loss, gradient, _logistic_points("logistic_1e-9"), ())


def _logistic_at_mle() -> Problem:
    loss, gradient, _ = _logistic()
    mle = _logistic_mle()
    nearby = mle + 1e-8 * _generator("logistic_at_mle", "nearby").standard_normal(4)
    return Problem(loss, gradient, _logistic_points("logistic_at_mle", mle), _points([mle, nearby]))


def _pole() -> Problem:
    def f(x):
        return float(np.sum(1.0 / (x - 0.5)))

    def grad(x):
        return -1.0 / (x - 0.5) ** 2

    rng = _generator("pole", "points")
    typical = 0.5 + rng.choice([-1.0, 1.0], size=(20, 3)) * rng.uniform(0.5, 2.5, size=(20, 3))
    awkward = []
    for distance in (2.0**-20, 1e-7, 1e-9):
        point = typical[0].copy()
        point[0] = 0.5 + distance
        awkward.append(point)
    return Problem(f, grad, _points(typical), _points(awkward))


def _oscillatory() -> Problem:
    from scipy import special

    def f(x):
        return float(np.sum(special.j0(x)))

    def grad(x):
        return _vector(-special.j1(x))

    # Period 2 pi at |x| = 1000: a step of a tenth of |x| spans 16 periods.
    points = _generator("oscillatory_j0", "points").uniform(990.0, 1010.0, size=(20, 3))
    return Problem(f, grad, _points(points), ())


# --- the table -------------------------------------------------------------------------

_SCIPY = ("scipy",)
_SKLEARN = ("sklearn", "scipy")
_STATSMODELS = ("statsmodels", "scipy")
_N = 60  # statsmodels samples
_C = OpenCase
# fmt: off
CORPUS: tuple[OpenCase, ...] = (
    _C("sklearn_gpr_rbf", "scikit-learn GaussianProcessRegressor.log_marginal_likelihood, "
       "ConstantKernel * RBF (anisotropic) + WhiteKernel", _SKLEARN, _gpr_rbf, 3,
       ("optimum", "long_length_scales", "tiny_noise"), 2.0, tags=("sklearn", "cholesky")),
    _C("sklearn_gpr_matern", "scikit-learn GaussianProcessRegressor.log_marginal_likelihood, "
       "ConstantKernel * Matern(nu=1.5) + WhiteKernel", _SKLEARN, _gpr_matern, 3,
       ("optimum", "tiny_noise"), 2.0, tags=("sklearn", "cholesky"), holdout=True),
    _C("sklearn_huber", "scikit-learn linear_model._huber._huber_loss_and_gradient", _SKLEARN,
       _sklearn_huber, 3, ("optimum", "small_scale", "at_switch"), 1 / 50, tags=("sklearn",), holdout=True),
    _C("sklearn_multinomial", "scikit-learn LinearModelLoss(HalfMultinomialLoss).loss / .gradient",
       _SKLEARN, _sklearn_multinomial, 3, ("optimum", "saturated"), 50.0, block_shape=(3, 4),
       tags=("sklearn", "matrix")),
    _C("statsmodels_logit", "statsmodels Logit.loglike / score", _STATSMODELS, _statsmodels_logit, 3,
       ("mle", "large"), 1 / _N, tags=("statsmodels",)),
    _C("statsmodels_probit", "statsmodels Probit.loglike / score", _STATSMODELS, _statsmodels_probit, 3,
       ("mle", "large"), 1 / _N, tags=("statsmodels",), holdout=True),
    _C("statsmodels_poisson", "statsmodels Poisson.loglike / score", _STATSMODELS, _statsmodels_poisson, 3,
       ("mle", "large"), 1 / _N, tags=("statsmodels",)),
    _C("statsmodels_glm_gamma", "statsmodels GLM(Gamma, log link).loglike / score at a fixed scale",
       _STATSMODELS, _statsmodels_glm_gamma, 3, ("mle", "large"), 1 / _N, tags=("statsmodels",)),
    _C("statsmodels_negbin", "statsmodels NegativeBinomial (NB2).loglike / score", _STATSMODELS,
       _statsmodels_negbin, 3, ("mle", "near_poisson"), 1 / _N, tags=("statsmodels",), holdout=True,
       inaccurate=("near_poisson",)),
    _C("statsmodels_mnlogit", "statsmodels MNLogit.loglike / score", _STATSMODELS, _statsmodels_mnlogit, 3,
       ("mle", "large"), 1 / _N, block_shape=(2, 3), tags=("statsmodels", "matrix")),
    _C("scipy_gammaln", "scipy.special gammaln / psi", _SCIPY, _scipy_gammaln, 3,
       ("near_zero", "large", "negative"), 1 / 4, tags=("scipy",)),
    _C("scipy_psi", "scipy.special psi / polygamma(1, x)", _SCIPY, _scipy_psi, 3,
       ("near_zero", "near_pole", "large"), 1 / 4, tags=("scipy",), holdout=True),
    _C("scipy_erf", "scipy.special erf / 2 exp(-x^2) / sqrt(pi)", _SCIPY, _scipy_erf, 3,
       ("flat_tail", "far_tail"), 1 / 4, tags=("scipy",)),
    _C("scipy_j0", "scipy.special j0 / -j1", _SCIPY, _scipy_j0, 3, ("x_1000", "x_1e5"), 1 / 4,
       tags=("scipy", "oscillatory")),
    _C("scipy_expit", "scipy.special expit / expit(x) expit(-x)", _SCIPY, _scipy_expit, 3,
       ("saturated_high", "saturated_low"), 1 / 4, tags=("scipy",)),
    _C("scipy_log_ndtr", "scipy.special log_ndtr / sqrt(2/pi) / erfcx(-x/sqrt 2)", _SCIPY, _scipy_log_ndtr, 3,
       ("x_-30", "x_-1000", "x_10"), 1 / 4, tags=("scipy",), holdout=True),
    _C("scipy_i0e", "scipy.special i0e / i1e - sign(x) i0e", _SCIPY, _scipy_i0e, 3,
       ("near_kink", "large"), 1 / 4, tags=("scipy",), holdout=True),
    _C("scipy_logsumexp", "scipy.special logsumexp / softmax", _SCIPY, _scipy_logsumexp, 3,
       ("spread_1e3", "near_1e8"), None, tags=("scipy",)),
    _C("scipy_rosen", "scipy.optimize rosen / rosen_der", _SCIPY, _scipy_rosen, 3,
       ("near_minimum", "large"), None, tags=("scipy",)),
    *(_C(f"noise_{level:g}", f"sum(tanh(x)^2) plus noise {level:g} max(1, |f|), fresh at every call", (),
         _noise(level), 20, (), 1 / 6, noise=level, tags=("situation", "noise"),
         holdout=level in (1e-11, 1e-5)) for level in NOISE_LEVELS),
    _C("float32_logistic", "mean logistic loss and gradient computed in float32, loss returned as float",
       (), _float32_logistic, 20, (), float(_LOGISTIC_SAMPLES), noise=_EPS32, tags=("situation", "float32")),
    _C("logistic_1e-9", "mean logistic loss times 1e-9", (), _tiny_logistic, 20, (),
       float(_LOGISTIC_SAMPLES), tags=("situation", "tiny_value"), holdout=True),
    _C("logistic_at_mle", "mean logistic loss around and at its MLE (scipy.optimize.minimize, trust-exact)",
       _SCIPY, _logistic_at_mle, 20, ("mle", "mle_plus_1e-8"), float(_LOGISTIC_SAMPLES),
       tags=("situation", "optimum")),
    _C("pole", "sum(1 / (x - 0.5))", (), _pole, 20, ("pole_2^-20", "pole_1e-7", "pole_1e-9"), 1 / 3,
       tags=("situation", "pole")),
    _C("oscillatory_j0", "sum(scipy.special.j0(x)) at x near 1000", _SCIPY, _oscillatory, 20, (), 1 / 3,
       tags=("situation", "oscillatory")),
)
# fmt: on

#: The cases by name.
CORPUS_BY_NAME: dict[str, OpenCase] = {case.name: case for case in CORPUS}
