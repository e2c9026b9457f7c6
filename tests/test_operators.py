"""Jacobians, JVPs, VJPs, Hessians and HVPs against the 50-digit truth, by every method.

Exact methods agree with the truth to rounding, difference methods to their truncation;
JVPs and VJPs are adjoint; Hessians of exact methods are symmetric; a few values are
known by hand; bad input raises before any work.
"""

from __future__ import annotations

import subprocess
import sys
import warnings
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
#: Second differences of f (Hessian "central"), extrapolated entry by entry over shrinking
#: steps: 5.7e-9 at worst on the suite (total variation, |f| hundreds of times |H|).
TOLERANCE = {
    "tape": 1e-12,
    "forward": 1e-12,
    "autograd": 1e-12,
    "symbolic": 1e-12,
    "complex_step": 1e-12,
    "central_gradient": 1e-6,
    "central": 1e-6,
}
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
    for forward in ("forward", "autograd", "complex_step", "symbolic", "tape"):
        for reverse in VJP_METHODS:
            gap = abs(u @ products[forward] - pullbacks[reverse] @ t)
            assert gap <= 1e-14 * scale, (forward, reverse, gap / scale)


#: Operations that are primitives of the autograd namespace (diffcompare's own rules, with a
#: forward rule beside the reverse one), at points with zeros and ties.
AUTOGRAD_PRIMITIVES = {
    "xlogy_at_zero": (lambda x, xp: xp.xlogy(x, x[::-1] + 1.0), [0.0, 0.5, 2.0]),
    "prod_with_a_zero": (
        lambda x, xp: xp.stack([xp.prod(x), xp.prod(xp.reshape(x, (2, 2)), axis=0)[1]]),
        [0.0, 0.5, 2.0, 3.0],
    ),
    "sort_with_a_tie": (lambda x, xp: xp.sort(x**2), [1.0, -1.0, 0.5, 2.0]),
    "sort_flattened": (lambda x, xp: xp.sort(xp.reshape(x, (2, 2)), axis=None), [1.0, -1.0, 0.5, 1.0]),
    "einsum_product": (
        lambda x, xp: xp.reshape(
            xp.einsum("ij,jk->ik", xp.reshape(x, (2, 2)), xp.reshape(x**2, (2, 2))), (4,)
        ),
        [1.0, -1.0, 0.5, 2.0],
    ),
    "einsum_trace": (
        lambda x, xp: xp.stack([xp.einsum("ii->", xp.reshape(x, (2, 2)))]),
        [1.0, -1.0, 0.5, 2.0],
    ),
}


@pytest.mark.parametrize("name", list(AUTOGRAD_PRIMITIVES))
def test_autograd_forward_rules_of_the_namespace_primitives(name):
    # autograd's JVP runs the forward rules of prod, sort, einsum and xlogy written for
    # diffcompare's namespace; they must agree with the tape's Jacobian and be the
    # transposes of the reverse rules (tie sharing included) to rounding
    g, x = AUTOGRAD_PRIMITIVES[name]
    x = np.array(x)
    rng = np.random.default_rng(3)
    jac = diffcompare.jacobian(g, "tape")(x)
    t, u = rng.standard_normal(x.size), rng.standard_normal(jac.shape[0])
    product = diffcompare.jvp(g, "autograd")(x, t)
    np.testing.assert_allclose(product, jac @ t, rtol=1e-14, atol=1e-14 * np.abs(jac).sum())
    pullback = diffcompare.vjp(g, "autograd")(x, u)
    assert abs(u @ product - pullback @ t) <= 1e-14 * (np.abs(u) @ np.abs(jac) @ np.abs(t))


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
        error = normwise_relative_error(value, truth)
        assert error <= TOLERANCE[method], f"{method}: {error:.3g}"
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
        np.testing.assert_allclose(
            diffcompare.hessian(rosenbrock, method)([1.0, 1.0]),
            expected,
            rtol=TOLERANCE[method],
            err_msg=method,
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


def test_second_differences_extrapolate_the_truncation_away():
    # A quartic's second difference at step h is off by h^2 f'''' / 12 exactly (c_2 = 0):
    # 0.02 on H[0, 0] at the first step, h = 0.1; one extrapolation removes it, so the
    # tableau's entries are exact up to rounding.
    def quartic(x, xp):
        return xp.sum(x**4) + x[0] ** 2 * x[1] ** 2 - 3.0 * x[1] * x[2] ** 3

    def exact(x):
        return np.array(
            [
                [12 * x[0] ** 2 + 2 * x[1] ** 2, 4 * x[0] * x[1], 0.0],
                [4 * x[0] * x[1], 12 * x[1] ** 2 + 2 * x[0] ** 2, -9 * x[2] ** 2],
                [0.0, -9 * x[2] ** 2, 12 * x[2] ** 2 - 18 * x[1] * x[2]],
            ]
        )

    x = np.array([0.7, -1.3, 2.1])
    first_step = (quartic(x + [0.1, 0, 0], np) - 2 * quartic(x, np) + quartic(x - [0.1, 0, 0], np)) / 0.01
    assert abs(first_step - exact(x)[0, 0]) > 1e-2
    for point in (x, np.array([10.0, -3.0, 0.5])):  # the step scales with |x_k| beyond 1
        value = diffcompare.hessian(quartic, "central")(point)
        assert normwise_relative_error(value, exact(point)) <= 1e-11
        np.testing.assert_array_equal(value, value.T)


def test_second_differences_recover_from_steps_outside_the_domain():
    # x0 = 0.03: the first steps (0.1, 0.05) reach x0 < 0, where sqrt and log are NaN; those
    # entries are never chosen, and the smaller steps still extrapolate to the truth
    # (without a warning from the steps outside the domain: warnings are errors here).
    def f(x, xp):
        return xp.sum(xp.sqrt(x)) + xp.log(x[0]) * x[1]

    x = np.array([0.03, 0.5])
    truth = reference_hessian(f, x)
    assert truth.status == "ok", truth.message
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value = diffcompare.hessian(f, "central")(x)
    assert normwise_relative_error(value, truth.value) <= TOLERANCE["central"]


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


def test_hessian_on_an_abs_kink_follows_the_tapes_convention():
    # On the kink the tape's abs' is sign(0) = 0 and sign has no derivative, so the
    # Hessian's kink entries are 0; SymPy's second derivative of Abs is 2 DiracDelta,
    # NaN on the kink before DiracDelta was set to 0.  Off-kink entries keep their value.
    def kinked(x, xp):
        return xp.abs(x[0]) * x[1] ** 2 + xp.abs(x[1] - 1.0) * x[0] + x[0] ** 2 * x[1]

    for x, expected in [
        # d/dx0: sign(x0) x1^2 + |x1 - 1| + 2 x0 x1; d/dx1: 2 |x0| x1 + sign(x1 - 1) x0 + x0^2
        ([0.0, 1.0], [[2.0, 0.0], [0.0, 0.0]]),  # both kinks: sign(0) = 0, delta terms 0
        ([1.5, 1.0], [[2.0, 5.0], [5.0, 3.0]]),  # the second kink: H[1, 1] = 2 |x0|
        ([0.0, 3.0], [[6.0, 1.0], [1.0, 0.0]]),  # the first kink: H[0, 0] = 2 x1
    ]:
        truth = reference_hessian(kinked, x)
        assert truth.status == "ok", truth.message
        np.testing.assert_array_equal(truth.value, expected)
        for method in ("symbolic", "autograd"):
            np.testing.assert_array_equal(diffcompare.hessian(kinked, method)(x), expected, err_msg=method)
    # the tape's complex step of its gradient (abs continued analytically along the step)
    # gives the same 0 on the kink
    np.testing.assert_array_equal(diffcompare.hessian(kinked, "tape")([1.5, 1.0]), [[2.0, 5.0], [5.0, 3.0]])


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


# --- the complex step's checks: dropped imaginary parts, branch points ------------------


def test_complex_step_refuses_a_function_that_drops_the_imaginary_part():
    # numpy's modulus of a plain array, outside xp: a real result, the derivative lost
    with pytest.raises(ValueError, match="not complex-step safe"):
        diffcompare.jacobian(lambda x, xp: np.abs(np.asarray(x)) * 2.0, "complex_step")([1.0, 2.0])
    with pytest.raises(ValueError, match="not complex-step safe"):
        diffcompare.jvp(lambda x, xp: np.real(x) * 2.0, "complex_step")([1.0, 2.0], [1.0, 0.0])


def _real_in_one_component(x, xp):
    return xp.stack([xp.sin(x[0]) * x[1], np.real(x[0] * x[1])])


def _float_in_one_component(x, xp):
    return xp.stack([xp.sin(x[0]) * x[1], x[0] * 0.0 + float(x[1])])


def _real_array_for_one_output(x, xp):
    return xp.stack([xp.sin(x[0]) * x[1], xp.sum(np.asarray(x, float) ** 2)])


@pytest.mark.parametrize(
    ("g", "reason"),
    [
        (_real_in_one_component, r"real value in component 1 that changes with x"),
        (_float_in_one_component, "cast a complex value to real"),
        (_real_array_for_one_output, "cast a complex value to real"),
    ],
    ids=["np.real", "float", "asarray-float"],
)
def test_complex_step_refuses_one_component_that_drops_the_imaginary_part(g, reason):
    # the other component is complex: only this component's derivative would be lost
    x, t = np.array([0.4, 1.5]), np.array([1.0, -2.0])
    assert np.max(np.abs(diffcompare.jacobian(g, "central")(x)[1])) > 0.1  # it does depend on x
    with pytest.raises(ValueError, match=f"g is not complex-step safe: .*{reason}"):
        diffcompare.jacobian(g, "complex_step")(x)
    with pytest.raises(ValueError, match=f"g is not complex-step safe: .*{reason}"):
        diffcompare.jvp(g, "complex_step")(x, t)


def test_complex_step_refuses_a_branch_point_within_the_step():
    # sqrt at 1e-300: the branch point at 0 is far closer than h = 1e-100, and
    # Im sqrt(1e-300 + ih) / h is ~1/sqrt(2h), not 1 / (2 sqrt(1e-300))
    def g(x, xp):
        return xp.stack([xp.sqrt(x[0]) * x[1], xp.exp(x[1])])

    x = np.array([1e-300, 0.5])
    with pytest.raises(
        ValueError, match="complex step is not reliable at x: along a random direction, component 0"
    ):
        diffcompare.jacobian(g, "complex_step")(x)
    with pytest.raises(
        ValueError, match="complex step is not reliable at x: along the given direction, component 0"
    ):
        diffcompare.jvp(g, "complex_step")(x, np.array([1.0, 1.0]))
    # a direction that leaves the coordinate on the branch point alone is a sound product
    along_x1 = diffcompare.jvp(g, "complex_step")(x, np.array([0.0, 1.0]))
    np.testing.assert_allclose(along_x1, [1e-150, np.exp(0.5)], rtol=1e-15)


def test_complex_step_checks_pass_at_stationary_points_and_null_directions():
    # A derivative that is exactly 0 because g is flat (x^2 at 0, a constant output) or
    # because t lies in the null space of a row is not a dropped imaginary part; and a
    # product J t that cancels to rounding must not trip the probe.
    def g(x, xp):
        return xp.stack(
            [x[0] ** 2 * x[1], xp.sin(x[0]) * xp.exp(x[1]) * x[2], (0.7 * x[0] - 1.3 * x[1]) ** 3]
        )

    # at 0 the truncation terms (-h^2 times third derivatives, ~1e-200) are all that is left
    np.testing.assert_allclose(
        diffcompare.jacobian(g, "complex_step")(np.array([0.0, 0.0, 1.0])),
        [[0, 0, 0], [1, 0, 0], [0, 0, 0]],
        rtol=0,
        atol=1e-150,
    )
    rng = np.random.default_rng(5)
    for _ in range(20):
        x = rng.uniform(0.5, 2.0, 3)
        row = np.array([np.cos(x[0]), np.sin(x[0]), np.sin(x[0]) / x[2]]) * np.exp(x[1]) * x[2]
        t = np.cross(row, [0.7, -1.3, 0.0])  # orthogonal to the rows of components 1 and 2
        jacobian = diffcompare.jacobian(g, "tape")(x)
        product = diffcompare.jvp(g, "complex_step")(x, t)
        scale = np.abs(jacobian) @ np.abs(t)  # the size of the terms of J t
        assert np.all(np.abs(product - jacobian @ t) <= 1e-14 * scale)
        assert np.all(np.abs(product[1:]) <= 1e-14 * scale[1:])  # they do cancel
    constant = diffcompare.jacobian(lambda x, xp: xp.asarray([1.0, 2.0, 3.0]), "complex_step")(np.ones(2))
    np.testing.assert_array_equal(constant, np.zeros((3, 2)))


def _x_log_x(x, xp):
    # gradient log(x0) + 1: a branch point at 0, within the step at x0 = 1e-300
    return x[0] * xp.log(x[0]) + x[1] ** 2


@pytest.mark.parametrize("method", ["tape", "forward"])
def test_hessian_refuses_a_gradient_not_analytic_within_the_step(method):
    x = np.array([1e-300, 0.5])
    # the true Hessian is diag(1e300, 2); the complex step of the gradient gives pi/2 / h
    with pytest.raises(ValueError, match=f"not reliable at x: .*component 0 of the {method} gradient of f"):
        diffcompare.hessian(_x_log_x, method)(x)
    with pytest.raises(ValueError, match=f"not reliable at x: .*component 0 of the {method} gradient of f"):
        diffcompare.hvp(_x_log_x, method)(x, np.array([1.0, 0.0]))
    # at an ordinary point, and along a direction that leaves x0 alone, the values hold
    np.testing.assert_allclose(
        diffcompare.hessian(_x_log_x, method)([0.25, 0.5]), [[4.0, 0.0], [0.0, 2.0]], rtol=1e-15
    )
    np.testing.assert_array_equal(diffcompare.hvp(_x_log_x, method)(x, np.array([0.0, 1.0])), [0.0, 2.0])


def test_hessian_refuses_a_gradient_rule_that_drops_the_imaginary_part():
    # test the tester: a gradient whose imaginary part is lost (as a rule taking a
    # modulus or a real part would lose it) gives H = 0 silently without the check
    from diffcompare.operators.hessian import complex_gradient
    from diffcompare.operators.jacobian import complex_push

    def dropping(f, z):
        return (2.0 * np.real(z)).astype(np.complex128)  # the gradient of sum(x^2), imag lost

    gradient = complex_gradient(dropping, None, "the test gradient")
    with pytest.raises(ValueError, match="the test gradient is not complex-step safe: .*component 0"):
        complex_push(gradient, np.array([0.5, -1.0]), name="the test gradient")
    intact = complex_gradient(lambda f, z: 2.0 * z, None, "the test gradient")
    np.testing.assert_array_equal(complex_push(intact, np.array([0.5, -1.0])), 2.0 * np.eye(2))


def test_hessian_checks_pass_where_the_gradient_is_flat_or_h_v_cancels():
    # f = x0^3 + x1^4 at 0: gradient components stationary, H = 0 exactly
    for method in ("tape", "forward"):
        np.testing.assert_allclose(  # up to truncation terms ~h^2 = 1e-200
            diffcompare.hessian(lambda x, xp: x[0] ** 3 + x[1] ** 4, method)([0.0, 0.0]),
            np.zeros((2, 2)),
            rtol=0,
            atol=1e-150,
        )

    # H v = 0 by cancellation: v along the level direction of (0.7 x0 - 1.3 x1)
    def f(x, xp):
        return (0.7 * x[0] - 1.3 * x[1]) ** 4 + xp.exp(x[2])

    x, v = np.array([0.3, 1.1, 0.2]), np.array([1.3, 0.7, 0.0])
    for method in ("tape", "forward"):
        np.testing.assert_allclose(diffcompare.hvp(f, method)(x, v), [0.0, 0.0, 0.0], atol=1e-13)


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
