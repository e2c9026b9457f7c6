"""Jacobians, JVPs, VJPs, Hessians and HVPs against the 50-digit truth, by every method.

Exact methods agree with the truth to rounding, difference methods to their truncation;
JVPs and VJPs are adjoint; Hessians of exact methods are symmetric; a few values are
known by hand; bad input raises before any work.
"""

from __future__ import annotations

import subprocess
import sys
from functools import cache

import numpy as np
import pytest

import diffcompare
from diffcompare.operators import HESSIAN_METHODS, HVP_METHODS, JACOBIAN_METHODS, JVP_METHODS, VJP_METHODS
from diffcompare.suite.records import suite
from diffcompare.suite.workloads import bundle_adjustment
from diffcompare.truth.accuracy import normwise_relative_error
from diffcompare.truth.operators import reference_hessian, reference_jacobian

#: Normwise relative agreement with the truth, per method.  Exact methods: rounding.
#: Central differences of a function or an exact gradient: the h^2 truncation and the
#: eps / h rounding at h = cbrt(eps), ~1e-10 relative to the values differenced.
#: Second differences of f (Hessian "central"): sqrt(eps) ~ 1.5e-8 relative to |f|,
#: which is up to ~100 times |H| on the suite (Ackley: 1.2e-6), hence 1e-5.
TOLERANCE = {
    "tape": 1e-12,
    "forward": 1e-12,
    "autograd": 1e-12,
    "symbolic": 1e-12,
    "complex_step": 1e-12,
    "central_gradient": 1e-6,
    "central": 1e-6,
}
SECOND_DIFFERENCES = 1e-5
EXACT_HESSIANS = ("tape", "forward", "autograd", "symbolic")

SUITE = {record.name: record for record in suite()}
# The 13-dimensional MLP's 50-digit Hessian alone takes ~2 s: kept for the slow run.
SLOW = {"mlp_loss"}


def _names(names):
    return [pytest.param(n, marks=pytest.mark.slow) if n in SLOW else n for n in names]


@cache
def hessian_truth(name: str) -> np.ndarray:
    record = SUITE[name]
    truth = reference_hessian(record.f, record.points[0])
    assert truth.status == "ok", truth.message
    return truth.value


# --- vector functions: the suite stacked by dimension, elementwise maps, known ones -------


def _stacked(records):
    def g(x, xp):
        return xp.stack([record.f(x, xp) for record in records])

    return g


def _by_dimension():
    groups = {}
    for record in suite():
        if record.name not in SLOW:
            groups.setdefault(record.dim, []).append(record)
    # a point inside every function's domain (logs, square roots, arcsin: in (0, 1))
    return {
        f"suite_dim{dim}": (_stacked(records), np.random.default_rng(dim).uniform(0.2, 0.8, dim))
        for dim, records in groups.items()
    }


def _elementwise(x, xp):
    return xp.tanh(x) * xp.exp(x[::-1]) + xp.log1p(x**2)


def _mixing(x, xp):
    # a map R^4 -> R^3 with products, a quotient and a reduction
    return xp.stack([x[0] * x[1] - x[2], xp.sin(x[3]) / (1.0 + x[0] ** 2), xp.sum(x**3)])


VECTOR_FUNCTIONS = {
    **_by_dimension(),
    "elementwise": (_elementwise, np.array([0.3, -0.8, 1.1, 0.05, -1.7])),
    "mixing": (_mixing, np.array([0.5, -1.25, 2.0, 0.75])),
}


@cache
def jacobian_truth(name: str) -> np.ndarray:
    g, x = VECTOR_FUNCTIONS[name]
    truth = reference_jacobian(g, x)
    assert truth.status == "ok", truth.message
    return truth.value


# --- Jacobians ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(VECTOR_FUNCTIONS))
def test_jacobian_methods_agree_with_the_truth(name):
    g, x = VECTOR_FUNCTIONS[name]
    truth = jacobian_truth(name)
    for method in JACOBIAN_METHODS:
        value = diffcompare.jacobian(g, method)(x)
        assert value.shape == truth.shape and value.dtype == np.float64, method
        error = normwise_relative_error(value, truth)
        assert error <= TOLERANCE[method], f"{method}: {error:.3g}"


def test_bundle_adjustment_residuals_jacobian_methods_agree():
    # The tape (reverse, m walks), the dual numbers (forward, one pass), autograd and the
    # complex step are four independent routes; central differences must follow within
    # truncation.  Against the 50-digit truth: the slow test below.
    residuals = bundle_adjustment(2, 3, 4).f.residuals
    x = bundle_adjustment(2, 3, 4).points[0]
    tape = diffcompare.jacobian(residuals, "tape")(x)
    assert tape.shape == (12, 35)
    assert np.count_nonzero(tape) > 100  # a genuine Jacobian, not a degenerate one
    for method in ("forward", "autograd", "complex_step", "central"):
        error = normwise_relative_error(diffcompare.jacobian(residuals, method)(x), tape)
        assert error <= TOLERANCE[method], f"{method}: {error:.3g}"


@pytest.mark.slow
def test_bundle_adjustment_residuals_jacobian_against_the_truth():
    workload = bundle_adjustment(2, 3, 4)
    x = workload.points[0]
    truth = reference_jacobian(workload.f.residuals, x)
    assert truth.status == "ok", truth.message
    for method in JACOBIAN_METHODS:
        error = normwise_relative_error(diffcompare.jacobian(workload.f.residuals, method)(x), truth.value)
        assert error <= TOLERANCE[method], f"{method}: {error:.3g}"


def test_known_jacobians():
    def polar(x, xp):
        return xp.stack([x[0] * xp.cos(x[1]), x[0] * xp.sin(x[1])])

    for method in JACOBIAN_METHODS:
        J = diffcompare.jacobian(polar, method)(np.array([2.0, 0.0]))
        np.testing.assert_allclose(
            J, [[1.0, 0.0], [0.0, 2.0]], rtol=0, atol=TOLERANCE[method], err_msg=method
        )
    np.testing.assert_array_equal(reference_jacobian(polar, [2.0, 0.0]).value, [[1.0, 0.0], [0.0, 2.0]])


def test_forward_jacobian_takes_several_chunks():
    # 70 columns: two dual-number passes (64 + 6 directions); the Jacobian of x**2 is diag(2x).
    x = np.linspace(-1.0, 1.0, 70)
    expected = np.diag(2.0 * x)
    for method in ("forward", "tape"):
        np.testing.assert_array_equal(diffcompare.jacobian(lambda z, xp: z**2, method)(x), expected)


def test_jacobian_of_a_constant_map_is_zero():
    def constant(x, xp):
        return xp.asarray([1.0, 2.0, 3.0])

    for method in ("tape", "forward", "symbolic", "central"):
        np.testing.assert_array_equal(diffcompare.jacobian(constant, method)(np.ones(2)), np.zeros((3, 2)))


# --- JVPs and VJPs -----------------------------------------------------------------------


@pytest.mark.parametrize("name", ["mixing", "elementwise", "suite_dim3"])
def test_jvp_and_vjp_agree_with_the_truth_and_are_adjoint(name):
    g, x = VECTOR_FUNCTIONS[name]
    truth = jacobian_truth(name)
    rng = np.random.default_rng(16)
    t = rng.standard_normal(x.size)
    u = rng.standard_normal(truth.shape[0])
    # the size of the terms of <u, J t>: the bound on its rounding
    scale = np.abs(u) @ np.abs(truth) @ np.abs(t)
    products = {method: diffcompare.jvp(g, method)(x, t) for method in JVP_METHODS}
    pullbacks = {method: diffcompare.vjp(g, method)(x, u) for method in VJP_METHODS}
    for method, value in products.items():
        assert normwise_relative_error(value, truth @ t) <= TOLERANCE[method], method
    for method, value in pullbacks.items():
        assert normwise_relative_error(value, u @ truth) <= TOLERANCE[method], method
    for forward in ("forward", "complex_step", "symbolic", "tape"):
        for reverse in VJP_METHODS:
            gap = abs(u @ products[forward] - pullbacks[reverse] @ t)
            assert gap <= 1e-14 * scale, (forward, reverse, gap / scale)


def test_known_jvp_and_vjp():
    def g(x, xp):
        return xp.stack([x[0] * x[1], x[1] ** 2])

    # J at (1, 2) = [[2, 1], [0, 4]]
    for method in JVP_METHODS:
        np.testing.assert_allclose(
            diffcompare.jvp(g, method)([1.0, 2.0], [1.0, -1.0]), [1.0, -4.0], rtol=TOLERANCE[method]
        )
    for method in VJP_METHODS:
        np.testing.assert_array_equal(diffcompare.vjp(g, method)([1.0, 2.0], [1.0, -1.0]), [2.0, -3.0])


# --- Hessians and HVPs -------------------------------------------------------------------


@pytest.mark.parametrize("name", _names(SUITE))
def test_hessian_methods_agree_with_the_truth(name):
    record = SUITE[name]
    x = record.points[0]
    truth = hessian_truth(name)
    for method in HESSIAN_METHODS:
        value = diffcompare.hessian(record.f, method)(x)
        assert value.shape == truth.shape and value.dtype == np.float64, method
        tolerance = SECOND_DIFFERENCES if method == "central" else TOLERANCE[method]
        error = normwise_relative_error(value, truth)
        assert error <= tolerance, f"{method}: {error:.3g}"
        if method in EXACT_HESSIANS:
            # symmetric to rounding (symbolic exactly: one triangle, mirrored)
            assert normwise_relative_error(value, value.T) <= 1e-14, method


@pytest.mark.parametrize(
    "name", _names(["rosenbrock", "log_sum_exp", "softmax_cross_entropy", "kinks", "mlp_loss"])
)
def test_hvp_equals_the_hessian_times_v(name):
    record = SUITE[name]
    x = record.points[0]
    truth = hessian_truth(name)
    v = np.random.default_rng(7).standard_normal(x.size)
    for method in HVP_METHODS:
        error = normwise_relative_error(diffcompare.hvp(record.f, method)(x, v), truth @ v)
        assert error <= TOLERANCE[method], f"{method}: {error:.3g}"


def rosenbrock(x, xp):
    return 100.0 * (x[1] - x[0] ** 2) ** 2 + (1.0 - x[0]) ** 2


def test_rosenbrock_hessian_at_its_minimum():
    expected = np.array([[802.0, -400.0], [-400.0, 200.0]])
    np.testing.assert_array_equal(reference_hessian(rosenbrock, [1.0, 1.0]).value, expected)
    for method in HESSIAN_METHODS:
        tolerance = SECOND_DIFFERENCES if method == "central" else TOLERANCE[method]
        np.testing.assert_allclose(
            diffcompare.hessian(rosenbrock, method)([1.0, 1.0]), expected, rtol=tolerance, err_msg=method
        )
    for method in HVP_METHODS:
        np.testing.assert_allclose(
            diffcompare.hvp(rosenbrock, method)([1.0, 1.0], [0.0, 1.0]),
            [-400.0, 200.0],
            rtol=TOLERANCE[method],
        )


def test_known_hessian_of_a_cubic():
    # f = x0^2 x1 + x1^3: H = [[2 x1, 2 x0], [2 x0, 6 x1]], at (3, -2): [[-4, 6], [6, -12]]
    def cubic(x, xp):
        return x[0] ** 2 * x[1] + x[1] ** 3

    expected = np.array([[-4.0, 6.0], [6.0, -12.0]])
    for method in EXACT_HESSIANS:
        np.testing.assert_array_equal(
            diffcompare.hessian(cubic, method)([3.0, -2.0]), expected, err_msg=method
        )


def test_hessian_through_a_kink_away_from_it():
    # abs and maximum must be continued analytically at the complex point of the tape's and
    # the dual numbers' Hessians (a modulus would drop the imaginary part that carries H).
    def kinked(x, xp):
        return xp.abs(x[0]) * x[1] ** 2 + xp.maximum(x[0], x[1]) ** 2

    # |x0| = -x0 and max = x1 near (-2, 3): f = -x0 x1^2 + x1^2, H = [[0, -2 x1], [-2 x1, 2 - 2 x0]]
    expected = np.array([[0.0, -6.0], [-6.0, 6.0]])
    for method in EXACT_HESSIANS:
        np.testing.assert_array_equal(
            diffcompare.hessian(kinked, method)([-2.0, 3.0]), expected, err_msg=method
        )


def test_hessian_of_a_wrong_rule_is_caught_by_the_truth():
    # test the tester: a Hessian off by one entry fails the comparison used above
    record = SUITE["beale"]
    truth = hessian_truth("beale")
    wrong = diffcompare.hessian(record.f, "tape")(record.points[0])
    wrong[0, 1] *= 1.0 + 1e-9
    assert normwise_relative_error(wrong, truth) > TOLERANCE["tape"]


# --- bad input ---------------------------------------------------------------------------


def _never_called(x, xp):
    raise AssertionError("f must not be called for bad input")


@pytest.mark.parametrize("operator", [diffcompare.jacobian, diffcompare.jvp, diffcompare.vjp,
                                      diffcompare.hessian, diffcompare.hvp])  # fmt: skip
def test_bad_function_and_method_raise_before_any_work(operator):
    with pytest.raises(TypeError, match="must be a callable"):
        operator(3.0)
    with pytest.raises(ValueError, match="unknown method 'nope'"):
        operator(_never_called, "nope")
    with pytest.raises(TypeError, match="method must be a string"):
        operator(_never_called, 1)


def test_bad_points_and_vectors_name_the_argument():
    g = _mixing
    x = [0.5, -1.25, 2.0, 0.75]
    with pytest.raises(TypeError, match="x must be a real floating-point array"):
        diffcompare.jacobian(_never_called)([1, 2])
    with pytest.raises(ValueError, match="x must be a 1-d array"):
        diffcompare.hessian(_never_called)(np.ones((2, 2)))
    with pytest.raises(ValueError, match=r"t must have shape \(4,\)"):
        diffcompare.jvp(g)(x, [1.0, 2.0])
    with pytest.raises(ValueError, match=r"u must have shape \(3,\)"):
        diffcompare.vjp(g)(x, [1.0, 2.0, 3.0, 4.0])
    with pytest.raises(ValueError, match=r"v must have shape \(2,\)"):
        diffcompare.hvp(rosenbrock)([1.0, 1.0], [1.0])
    with pytest.raises(ValueError, match="v must be finite"):
        diffcompare.hvp(rosenbrock)([1.0, 1.0], [1.0, np.nan])


def test_bad_function_values_are_refused():
    with pytest.raises(ValueError, match="g must return a non-empty 1-d array"):
        diffcompare.jacobian(rosenbrock)([1.0, 1.0])  # a scalar function
    with pytest.raises(ValueError, match="g must return a non-empty 1-d array"):
        diffcompare.vjp(lambda x, xp: xp.reshape(x, (2, 2)))(np.ones(4), np.ones(4))
    with pytest.raises(ValueError, match=r"g\(x\) is not finite at components \[1\]"):
        diffcompare.jacobian(lambda x, xp: xp.log(x))([1.0, 0.0])
    with pytest.raises(ValueError, match="f must return a scalar"):
        diffcompare.hessian(_mixing)([0.5, -1.25, 2.0, 0.75])
    with pytest.raises(ValueError, match=r"f\(x\) is inf"):
        diffcompare.hessian(lambda x, xp: 1.0 / x[0])([0.0])


def test_truth_refuses_bad_arguments():
    with pytest.raises(TypeError, match="g must be a callable"):
        reference_jacobian(None, [1.0])
    with pytest.raises(ValueError, match="digits must be an integer >= 50"):
        reference_hessian(rosenbrock, [1.0, 1.0], digits=20)
    failed = reference_hessian(lambda x, xp: xp.sort(x)[0] if x[0] > 0 else x[1], [1.0, 2.0])
    assert failed.status == "error" and failed.value is None


def test_complex_step_refuses_a_function_that_drops_the_imaginary_part():
    # numpy's modulus of a plain array, outside xp: a real result, the derivative lost.
    # (Dropped in one component of a complex result it cannot be told from a zero
    # derivative: the README's limits.)
    with pytest.raises(ValueError, match="not complex-step safe"):
        diffcompare.jacobian(lambda x, xp: np.abs(np.asarray(x)) * 2.0, "complex_step")([1.0, 2.0])
    with pytest.raises(ValueError, match="not complex-step safe"):
        diffcompare.jvp(lambda x, xp: np.real(x) * 2.0, "complex_step")([1.0, 2.0], [1.0, 0.0])


@pytest.mark.parametrize(
    "code",
    [
        "import diffcompare; diffcompare.jacobian(lambda x, xp: xp.sin(x), 'tape')([1.0, 2.0])",
        "import diffcompare; diffcompare.vjp(lambda x, xp: xp.sin(x), 'tape')([1.0, 2.0], [1.0, 1.0])",
        "import diffcompare; diffcompare.hessian(lambda x, xp: xp.sum(xp.sin(x)), 'tape')([1.0, 2.0])",
        "import diffcompare; diffcompare.hvp(lambda x, xp: xp.sum(x**3), 'forward')([1.0, 2.0], [1.0, 0.0])",
    ],
)
def test_tape_and_forward_operators_load_no_heavy_dependency(code):
    heavy = ("sympy", "pandas", "autograd", "mpmath", "matplotlib", "scipy")
    probe = f"{code}\nimport sys\nprint(sorted(m for m in {heavy!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"
