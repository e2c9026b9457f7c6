"""The oracle on gradients nobody here wrote: never "fail" a correct one, always "fail" a mistake.

The corpus (:mod:`diffcompare.oracle.corpus`) holds functions and gradients shipped by
scikit-learn, statsmodels and scipy, and situation families (noise, float32, a pole, an
optimum, oscillation).  Before the oracle is judged on them, the gradients are held to
independent truths: mpmath's derivatives at 60 digits for the scipy.special pairs, and
numdifftools for the library models.

What the oracle owes, per point:

* a correct gradient at a typical point of an ``f`` good to 1e-9 or better: "pass";
* at an awkward point, or where ``f``'s error is 1e-9 or more (noise, float32):
  "pass" or "inconclusive" with a reason, never "fail";
* a mistake that is visible at the point (:func:`~diffcompare.oracle.corpus.visible`):
  "fail" at a typical point; at an awkward point, where a correct gradient may be
  inconclusive, anything but "pass".

The first typical point of each case and every awkward point run by default; the other
typical points run with ``-m slow``.
"""

from __future__ import annotations

import functools
import json
import math
import subprocess
import sys

import numpy as np
import pytest

import diffcompare
from diffcompare.oracle.corpus import (
    CORPUS,
    CORPUS_BY_NAME,
    MISTAKES,
    NOISE_LEVELS,
    build,
    check_seed,
    mistaken_gradient,
    mistakes,
    point_seed,
    visible,
)

#: From this error of ``f`` (relative), a correct gradient at a typical point may be
#: "inconclusive": differences resolve it to about 1e-6 at best.
INCONCLUSIVE_NOISE = 1e-9

#: Typical points checked in the default run; the rest run with -m slow.
DEFAULT_TYPICAL = 1


def _points(kinds=("typical", "awkward")):
    for case in CORPUS:
        counts = {"typical": case.typical, "awkward": len(case.awkward)}
        for kind in kinds:
            for i in range(counts[kind]):
                label = case.awkward[i] if kind == "awkward" else str(i)
                slow = kind == "typical" and i >= DEFAULT_TYPICAL
                yield case, kind, i, label, slow


POINTS = [
    pytest.param(case, kind, i, id=f"{case.name}-{kind}-{label}", marks=[pytest.mark.slow] * slow)
    for case, kind, i, label, slow in _points()
]
MISTAKE_POINTS = [
    pytest.param(
        case, kind, i, name, id=f"{case.name}-{kind}-{label}-{name}", marks=[pytest.mark.slow] * slow
    )
    for case, kind, i, label, slow in _points()
    for name in MISTAKES
    if not (name == "forgotten_normaliser" and case.normaliser is None)
    and not (name == "transposed_block" and case.block_shape is None)
]


def _require(case):
    for module in case.requires:
        pytest.importorskip(module)


@functools.cache
def _built(name: str):
    return build(CORPUS_BY_NAME[name])


def problem(case):
    """``build(case)``, once per run; a noisy ``f`` afresh, so that no test sees another's draws."""
    _require(case)
    return build(case) if case.noise and "noise" in case.tags else _built(case.name)


def point(case, kind, i):
    p = problem(case)
    return p, (p.typical if kind == "typical" else p.awkward)[i]


# --- the corpus itself -----------------------------------------------------------------


def test_the_corpus_covers_what_it_promises():
    assert len(CORPUS_BY_NAME) == len(CORPUS) >= 25
    tags = {tag for case in CORPUS for tag in case.tags}
    assert {"sklearn", "statsmodels", "scipy", "situation", "noise", "float32", "pole", "optimum"} <= tags
    assert {f"noise_{level:g}" for level in NOISE_LEVELS} <= set(CORPUS_BY_NAME)
    holdout = sum(case.holdout for case in CORPUS)
    assert 0.25 <= holdout / len(CORPUS) <= 0.4
    # every family has cases on both sides of the split
    for family in ("sklearn", "statsmodels", "scipy", "situation"):
        assert {case.holdout for case in CORPUS if family in case.tags} == {False, True}, family
    assert sum(case.block_shape is not None for case in CORPUS) >= 2
    for case in CORPUS:
        if "situation" in case.tags:
            assert case.typical == 20, case.name


def test_importing_the_corpus_loads_no_library():
    heavy = ("sklearn", "statsmodels", "scipy", "torch", "numdifftools", "pandas")
    probe = (
        "import json, sys, diffcompare.oracle.corpus\n"
        f"print(json.dumps(sorted(m for m in {heavy!r} if m in sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


@pytest.mark.parametrize("case", [pytest.param(c, id=c.name) for c in CORPUS])
def test_each_case_builds_seeded_read_only_points(case):
    p = problem(case)
    again = build(case)
    for kind in ("typical", "awkward"):
        for x, y in zip(getattr(p, kind), getattr(again, kind), strict=True):
            assert x.dtype == np.float64 and x.ndim == 1 and not x.flags.writeable
            assert np.array_equal(x, y)
    x = p.typical[0]
    assert isinstance(p.f(x), float)
    g = p.grad(x)
    assert g.dtype == np.float64 and g.shape == x.shape
    if case.block_shape is not None:
        assert math.prod(case.block_shape) <= x.size and case.block_shape[0] != case.block_shape[1]


def test_noise_is_fresh_at_every_call():
    p = problem(CORPUS_BY_NAME["noise_1e-07"])
    x = p.typical[0]
    assert len({p.f(x) for _ in range(5)}) == 5


def test_the_float32_loss_carries_float32_digits_only():
    p = problem(CORPUS_BY_NAME["float32_logistic"])
    x = p.typical[0]
    # float32 rounds x itself: a change below its ulp does not move f
    assert p.f(x) == p.f(x * (1.0 + 1e-9))
    assert p.f(x) != p.f(x * (1.0 + 1e-4))


def _mpmath_truths():
    mp = pytest.importorskip("mpmath")

    def i0e(v):
        return mp.exp(-abs(v)) * mp.besseli(0, v)

    return mp, {
        "scipy_gammaln": lambda v: mp.digamma(v),
        "scipy_psi": lambda v: mp.polygamma(1, v),
        "scipy_erf": lambda v: 2 / mp.sqrt(mp.pi) * mp.exp(-(v**2)),
        "scipy_j0": lambda v: -mp.besselj(1, v),
        "scipy_expit": lambda v: mp.exp(-v) / (1 + mp.exp(-v)) ** 2,
        "scipy_log_ndtr": lambda v: mp.npdf(v) / mp.ncdf(v),
        "scipy_i0e": lambda v: mp.diff(i0e, v),
        "oscillatory_j0": lambda v: -mp.besselj(1, v),
    }


@pytest.mark.parametrize(
    "name",
    [
        "scipy_gammaln",
        "scipy_psi",
        "scipy_erf",
        "scipy_j0",
        "scipy_expit",
        "scipy_log_ndtr",
        "scipy_i0e",
        "oscillatory_j0",
    ],
)
def test_scipy_derivative_pairs_match_mpmath(name):
    # Exact to the rounding of the argument (eps |x| |f''|: 6e-12 at x = 1e5 for j1) and
    # a few hundred ulps of the gradient's scale.
    mp, truths = _mpmath_truths()
    mp.mp.dps = 60
    exact = truths[name]
    p = problem(CORPUS_BY_NAME[name])
    for x in (*p.typical, *p.awkward):
        values = [mp.mpf(float(v)) for v in x]
        truth = np.array([float(exact(v)) for v in values])
        curvature = np.array([float(abs(mp.diff(exact, v))) for v in values])
        allowance = 1e-13 * np.max(np.abs(truth)) + 4 * np.finfo(float).eps * np.abs(x) * curvature
        np.testing.assert_array_less(np.abs(p.grad(x) - truth), allowance + 1e-300)


@pytest.mark.parametrize(
    "case",
    [
        pytest.param(c, id=c.name)
        for c in CORPUS
        if not set(c.tags) & {"noise", "float32"} and c.name != "oscillatory_j0"
    ],
)
def test_shipped_gradients_match_numdifftools_at_typical_points(case):
    nd = pytest.importorskip("numdifftools")
    p = problem(case)
    for x in p.typical[:3]:
        estimate = nd.Gradient(p.f)(x)
        claimed = p.grad(x)
        assert np.max(np.abs(claimed - estimate)) <= 1e-6 * np.max(np.abs(estimate)), case.name


SECOND_ORDER = {
    "sklearn_multinomial",
    "statsmodels_logit",
    "statsmodels_probit",
    "statsmodels_poisson",
    "statsmodels_glm_gamma",
    "statsmodels_negbin",
    "statsmodels_mnlogit",
    "scipy_gammaln",
    "scipy_psi",
    "scipy_rosen",
}


def test_the_cases_that_ship_second_derivatives_say_so():
    for case in CORPUS:
        _require(case)
        p = problem(case)
        assert (p.hess is not None) == (case.name in SECOND_ORDER), case.name
        assert p.hvp is None or p.hess is not None, case.name


@pytest.mark.parametrize("name", sorted(SECOND_ORDER))
def test_shipped_hessians_match_numdifftools_at_typical_points(name):
    # The Jacobian of the shipped gradient, by numdifftools' extrapolated differences,
    # is an independent witness good to about 1e-9 relative here.
    nd = pytest.importorskip("numdifftools")
    p = problem(CORPUS_BY_NAME[name])
    rng = np.random.default_rng(0)
    for x in p.typical[:2]:
        estimate = nd.Jacobian(p.grad)(x).reshape(x.size, x.size)
        claimed = p.hess(x)
        assert claimed.dtype == np.float64 and claimed.shape == (x.size, x.size)
        assert np.max(np.abs(claimed - estimate)) <= 1e-6 * np.max(np.abs(estimate)), name
        if p.hvp is not None:
            v = rng.standard_normal(x.size)
            np.testing.assert_allclose(
                p.hvp(x, v), claimed @ v, rtol=1e-12, atol=1e-12 * np.max(np.abs(claimed))
            )


def test_mistakes_are_wrong_and_repeatable():
    case = CORPUS_BY_NAME["statsmodels_mnlogit"]
    p = problem(case)
    x = p.typical[0]
    found = mistakes(case, p, x, point_seed(case, "typical", 0))
    assert set(found) == set(MISTAKES)
    right = p.grad(x)
    for name, wrong in found.items():
        assert np.array_equal(wrong(x), wrong(x)), name
        assert visible(case, wrong(x), right, p.f(x), x), name
    # a mistake on a gradient that is ~0 everywhere is no mistake: at the MLE only the
    # shifted point is really wrong
    mle = p.awkward[0]
    assert set(mistakes(case, p, mle, point_seed(case, "awkward", 0))) == {"shifted_point"}
    with pytest.raises(ValueError, match="unknown mistake"):
        mistaken_gradient(case, p.grad, "typo", 0)


def test_sign_flip_on_a_tiny_loss_is_visible():
    case = CORPUS_BY_NAME["logistic_1e-9"]
    p = problem(case)
    x = p.typical[0]
    assert "sign_flip" in mistakes(case, p, x, point_seed(case, "typical", 0))


# --- the oracle on the corpus ----------------------------------------------------------


def allowed_verdicts(case, kind, i) -> set[str]:
    if kind == "awkward" and case.awkward[i] in case.inaccurate:
        return {"fail", "inconclusive"}  # the shipped gradient is off here: no "pass"
    if kind == "awkward" or case.noise >= INCONCLUSIVE_NOISE:
        return {"pass", "inconclusive"}
    return {"pass"}


@pytest.mark.parametrize(("case", "kind", "i"), POINTS)
def test_a_correct_gradient_is_never_failed(case, kind, i):
    p, x = point(case, kind, i)
    result = diffcompare.check_grad(p.f, p.grad, x, seed=check_seed(case, kind, i))
    assert result.verdict in allowed_verdicts(case, kind, i), result.message()
    if result.verdict == "inconclusive":
        assert result.reason


@pytest.mark.parametrize(("case", "kind", "i", "name"), MISTAKE_POINTS)
def test_a_visible_mistake_is_caught(case, kind, i, name):
    p, x = point(case, kind, i)
    found = mistakes(case, p, x, point_seed(case, kind, i))
    if name not in found:
        pytest.skip(f"{name} is not visibly wrong at this point (a component ~0, or below f's error)")
    result = diffcompare.check_grad(p.f, found[name], x, seed=check_seed(case, kind, i))
    if kind == "typical":
        assert result.verdict == "fail", result.message()
    else:
        assert result.verdict != "pass", result.message()
