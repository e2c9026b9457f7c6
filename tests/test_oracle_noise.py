"""The noise of f, measured (Moré-Wild), and what the oracle does with it."""

import numpy as np
import pytest

from diffcompare import check_grad
from diffcompare.oracle.noise import measure_noise, noise_from_samples
from diffcompare.oracle.references import Objective, line_derivative


@pytest.mark.parametrize("level", [1e-14, 1e-11, 1e-8, 1e-5, 1e-3])
@pytest.mark.parametrize("base", [np.exp, np.sin, lambda t: 1e6 * t**3 + 2.0])
def test_additive_noise_is_measured_within_a_factor_of_two(level, base):
    rng = np.random.default_rng(11)
    x = np.array([0.4])
    sigma, status = measure_noise(
        lambda z: np.atleast_1d(base(z[0]) + level * rng.standard_normal()), x, np.array([1.0]), base(x)
    )
    rounding = 8 * np.finfo(float).eps * abs(base(0.4))  # what float64 adds to the noise
    assert status[0] == "ok"
    assert level / 2 < sigma[0] < 2 * level + rounding


def test_estimates_over_many_tables_centre_on_the_true_level():
    rng = np.random.default_rng(3)
    samples = 1.0 + 1e-6 * rng.standard_normal((2000, 9))
    estimates = np.array([noise_from_samples(table[:, None])[0][0] for table in samples])
    assert 0.85e-6 < np.median(estimates) < 1.1e-6


def test_float64_rounding_is_a_few_ulps():
    x = np.array([0.3, -1.2, 2.5])

    def f(z):
        return np.atleast_1d(np.sum(np.sin(z) * np.exp(z)))

    sigma, status = measure_noise(f, x, np.array([1.0, -1.5, 1.2]), f(x))
    size = abs(f(x)[0])
    assert status[0] == "ok" and 0 < sigma[0] < 8 * np.finfo(float).eps * size


def test_float32_values_carried_in_float64_are_recognised():
    def loss(x):  # the value a training loop gets from loss.item()
        return float(np.sum(np.tanh(x.astype(np.float32)) ** 2))

    x = np.array([0.3, -0.7, 1.1])
    objective, at_x = Objective.probe(loss, x, True)
    for k in range(3):
        line_derivative(objective, x, np.eye(3)[k], 1e-3, f_at_x=at_x, levels=2)
    assert objective.eps == float(np.finfo(np.float32).eps)
    assert "float32" in objective.carrier


def test_float32_values_at_float32_points_are_no_evidence():
    # a piecewise linear f at 0 +- 2^-k gives float32 numbers in any precision
    objective, at_x = Objective.probe(lambda x: float(np.sum(np.abs(x))), np.array([0.0, 1.0]), True)
    line_derivative(objective, np.array([0.0, 1.0]), np.array([1.0, 0.0]), 2.0**-13, f_at_x=at_x, levels=2)
    assert objective.eps == float(np.finfo(np.float64).eps) and not objective.carrier


def test_a_kink_between_samples_is_no_noise():
    t = np.linspace(-4e-9, 4e-9, 9)[:, None]
    sigma, status = noise_from_samples(np.abs(t - 1e-9) + 2.0)
    assert status[0] == "too_large"


def test_constant_and_non_finite_samples():
    sigma, status = noise_from_samples(np.array([[1.0, 1.0, np.nan]] * 9))
    assert list(status) == ["too_small", "too_small", "not_finite"] and not sigma.any()


def test_a_pole_crossed_by_the_samples_is_no_noise():
    t = np.linspace(-4e-8, 4e-8, 9)[:, None]
    sigma, status = noise_from_samples(1.0 / (t - 1e-9))
    assert status[0] == "too_large"


# --- the oracle with noisy, low-precision and singular f ------------------------------


def tanh_squares(x):
    return np.sum(np.tanh(x) ** 2)


def tanh_squares_grad(x):
    t = np.tanh(x)
    return 2 * t * (1 - t**2)


POINTS = np.random.default_rng(5).uniform(-2, 2, size=(6, 4))


@pytest.mark.parametrize("level", [1e-15, 1e-13, 1e-11, 1e-9, 1e-7, 1e-5, 1e-3])
@pytest.mark.parametrize("kind", ["additive", "multiplicative", "python_float"])
def test_noise_never_fails_a_correct_gradient_and_is_named(level, kind):
    rng = np.random.default_rng(2)
    noisy = {
        "additive": lambda x: tanh_squares(x) + level * rng.standard_normal(),
        "multiplicative": lambda x: tanh_squares(x) * (1 + level * rng.standard_normal()),
        "python_float": lambda x: float(tanh_squares(x) + level * rng.standard_normal()),
    }[kind]
    result = check_grad(noisy, tanh_squares_grad, POINTS, seed=1)
    verdicts = {r.verdict for r in result.per_point}
    assert "fail" not in verdicts, result.message()
    for r in result.per_point:
        if r.verdict == "inconclusive":
            assert r.reason.startswith("f is noisy (measured noise ~"), r.reason
            assert "kink" not in r.reason


def test_errors_still_caught_under_noise():
    rng = np.random.default_rng(4)

    def noisy(x):
        return tanh_squares(x) + 1e-13 * rng.standard_normal()

    def off(x):
        g = tanh_squares_grad(x)
        g[1] *= 1 + 1e-3
        return g

    result = check_grad(noisy, off, POINTS)
    assert all(r.verdict == "fail" and r.index == 1 for r in result.per_point), result.message()


def test_sign_flip_on_a_tiny_loss_is_caught():
    def flipped(x):
        g = 1e-9 * tanh_squares_grad(x)
        g[0] = -g[0]
        return g

    result = check_grad(lambda x: 1e-9 * tanh_squares(x), flipped, POINTS)
    assert all(r.verdict == "fail" and r.index == 0 for r in result.per_point)


def test_float32_loss_as_python_float_is_judged_as_float32():
    def loss(x):
        return float(np.sum(np.tanh(x.astype(np.float32)) ** 2))

    result = check_grad(loss, tanh_squares_grad, POINTS)
    assert "fail" not in {r.verdict for r in result.per_point}, result.message()
    assert sum(r.verdict == "pass" for r in result.per_point) >= 5
    # a float32 loss still shows a 10 % error
    wrong = check_grad(loss, lambda x: 1.1 * tanh_squares_grad(x), POINTS)
    assert all(r.verdict == "fail" for r in wrong.per_point)


@pytest.mark.parametrize("distance", [2.0**-20, 1e-7, 1e-9])
@pytest.mark.parametrize("form", ["black_box", "xp"])
def test_near_a_pole_the_differences_follow_the_local_scale(distance, form):
    # Ladders starting at 0.1 cross the pole and agreed on a wrong value; now each one
    # starts afresh while the one-sided gap grows, and an exact reference is never
    # outvoted by differences.
    def f(x, xp=np):
        return xp.sum(1.0 / (x - 0.5))

    def grad(x):
        return -1.0 / (x - 0.5) ** 2

    x = np.array([0.5 + distance, 1.3])
    result = check_grad(f if form == "xp" else (lambda z: f(z)), grad, x)
    assert result.verdict == "pass", str(result)
    wrong = check_grad(f if form == "xp" else (lambda z: f(z)), lambda z: 1.001 * grad(z), x)
    assert wrong.verdict == "fail", str(wrong)


def test_the_ladder_restarts_when_the_gap_grows():
    objective, at_x = Objective.probe(lambda x: np.sum(1.0 / (x - 0.5)), np.array([0.5 + 1e-6]), True)
    value, error = line_derivative(objective, np.array([0.5 + 1e-6]), np.array([1.0]), 0.1, f_at_x=at_x)
    assert abs(value[0] + 1e12) <= max(error[0], 1e-9 * 1e12)


def test_oscillation_at_large_x():
    special = pytest.importorskip("scipy.special")
    x = np.array([1000.0, 1000.3, 1234.5])
    result = check_grad(lambda z: np.sum(special.j0(z)), lambda z: -special.j1(z), x)
    assert result.verdict == "pass", str(result)
    assert check_grad(lambda z: np.sum(special.j0(z)), lambda z: special.j1(z), x).verdict == "fail"


def test_zero_gradient_up_to_rounding_passes_at_an_optimum():
    optimize = pytest.importorskip("scipy.optimize")
    rng = np.random.default_rng(0)
    points = np.ones(4) + 1e-9 * rng.standard_normal((5, 4))
    result = check_grad(optimize.rosen, optimize.rosen_der, points)
    assert {r.verdict for r in result.per_point} == {"pass"}, result.message()
    # the rounding excuse is no cover for a real error
    wrong = check_grad(optimize.rosen, lambda x: optimize.rosen_der(x) * (1 + 1e-3), points)
    assert {r.verdict for r in wrong.per_point} == {"fail"}


def test_a_random_gradient_is_not_excused_as_rounding():
    rng = np.random.default_rng(9)
    optimize = pytest.importorskip("scipy.optimize")
    x = np.ones(4) + 1e-9 * np.arange(4)

    def jittery(z):  # a gradient that changes from call to call, by what rounding could
        return optimize.rosen_der(z) + 3e-13 * rng.standard_normal(4)

    result = check_grad(optimize.rosen, jittery, x)
    assert result.verdict == "fail"
    assert any("different values on two calls" in note for note in result.notes)
    # a gross error costs no look at the claim's rounding at all
    flipped = check_grad(optimize.rosen, lambda z: -optimize.rosen_der(z), x + 0.5)
    assert flipped.verdict == "fail" and not flipped.notes


def test_smooth_full_check_costs_four_evaluations_per_component():
    x = POINTS[0]
    result = check_grad(tanh_squares, tanh_squares_grad, x)
    assert result.verdict == "pass" and result.evaluations == 4 * x.size + 1

    def xp_form(z, xp):
        return xp.sum(xp.tanh(z) ** 2)

    result = check_grad(xp_form, tanh_squares_grad, x)
    assert result.verdict == "pass" and result.evaluations == 4 * x.size + 2  # and the tape's pass


def test_logistic_regression_at_its_maximum_likelihood_passes():
    # At the MLE the gradient is a sum of terms of size 1 that cancel to ~1e-15: no
    # relative resolution of it means anything, and a claim that agrees with the
    # reference to the precision of f is right.
    rng = np.random.default_rng(12)
    features = rng.standard_normal((60, 3))
    labels = (features @ [1.0, -2.0, 0.5] + rng.standard_normal(60) > 0).astype(float)

    def loss(w):
        z = features @ w
        return np.sum(np.logaddexp(0.0, z) - labels * z)

    def loss_grad(w):
        return features.T @ (1.0 / (1.0 + np.exp(-(features @ w))) - labels)

    w = np.zeros(3)
    for _ in range(30):  # Newton's method to the maximum likelihood
        p = 1.0 / (1.0 + np.exp(-(features @ w)))
        w = w - np.linalg.solve(features.T @ (features * (p * (1 - p))[:, None]), loss_grad(w))
    assert np.max(np.abs(loss_grad(w))) < 1e-12
    result = check_grad(loss, loss_grad, w)
    assert result.verdict == "pass", str(result)
    wrong = check_grad(loss, lambda v: loss_grad(v) + 1e-6, w)  # off by what f can resolve
    assert wrong.verdict == "fail", str(wrong)


def test_samples_near_the_overflow_threshold_give_the_noise_scaled_exactly():
    # Squared differences of values near 1e308 would overflow: the columns are scaled
    # by a power of two first, so the estimate is the unit-size one times 2^1020
    rng = np.random.default_rng(3)
    t = np.linspace(-1e-3, 1e-3, 9)[:, None]
    unit = np.exp(t) + 1e-9 * rng.standard_normal((9, 2))
    with np.errstate(all="raise"):
        small_sigma, small_status = noise_from_samples(unit)
        large_sigma, large_status = noise_from_samples(unit * 2.0**1020)
    assert list(large_status) == list(small_status) == ["ok", "ok"]
    assert np.array_equal(large_sigma, small_sigma * 2.0**1020)
