"""The oracle itself: verdicts, their evidence, bad input, and the hard places.

The mutation suite (every mutation of many gradients must fail) is in
test_oracle_mutations.py; here each decision rule is exercised on a case built for it.
"""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from diffcompare import assert_grad_correct, assert_jacobian_correct, check_grad, check_jacobian
from diffcompare.oracle.localise import localise
from diffcompare.oracle.tolerance import CLAIMED_RTOL


def sin_x(x):
    return np.sum(np.sin(x) * x)


def sin_x_grad(x):
    return np.cos(x) * x + np.sin(x)


def sin_x_xp(x, xp):
    return xp.sum(xp.sin(x) * x)


def with_error(gradient, k, relative):
    def wrong(x):
        value = gradient(x)
        value[k] *= 1 + relative
        return value

    return wrong


POINT = np.array([0.5, 2.0, -1.25])


# -- known values ------------------------------------------------------------------------


def test_known_pass_and_fail():
    passed = check_grad(sin_x, sin_x_grad, POINT)
    assert passed.verdict == "pass" and passed.passed
    assert passed.mismatches == () and passed.checked == 3
    # d/dx (x sin x) at 2.0 is cos 2 * 2 + sin 2 = 0.0770037537313969...
    wrong = check_grad(sin_x, lambda x: np.cos(x) * x - np.sin(x), POINT[:2])
    assert wrong.verdict == "fail"
    assert wrong.index == 1  # |2 sin 2| > |2 sin 0.5|: the worst error
    assert wrong.reference == pytest.approx(0.07700375373139694, rel=1e-12)
    assert wrong.claimed == pytest.approx(2 * math.cos(2.0) - math.sin(2.0), rel=1e-15)
    assert wrong.abs_error == pytest.approx(2 * math.sin(2.0), rel=1e-12)
    assert [m.index for m in wrong.mismatches] == [1, 0]  # worst first


@pytest.mark.parametrize("relative", [1e-3, 1e-6, -1e-6])
@pytest.mark.parametrize("form", ["black_box", "xp"])
def test_small_relative_errors_are_caught_and_located(relative, form):
    f = sin_x if form == "black_box" else sin_x_xp
    result = check_grad(f, with_error(sin_x_grad, 2, relative), POINT)
    assert result.verdict == "fail", str(result)
    assert result.index == 2 and [m.index for m in result.mismatches] == [2]
    assert result.rel_error == pytest.approx(abs(relative), rel=1e-6)


def test_references_named_by_form():
    # A black box's complex step is vetted (and used) when a component is disputed, or
    # at once when asked for.
    assert check_grad(sin_x, sin_x_grad, POINT).references == ("richardson",)
    asked = check_grad(sin_x, sin_x_grad, POINT, complex_step=True)
    assert asked.references == ("richardson", "complex_step")
    wrong = check_grad(sin_x, with_error(sin_x_grad, 1, 1e-3), POINT)
    assert wrong.references == ("richardson", "complex_step")
    assert check_grad(sin_x_xp, sin_x_grad, POINT).references == ("richardson", "tape")


def test_same_call_same_result():
    first = check_grad(sin_x, with_error(sin_x_grad, 0, 1e-4), POINT, mode="fast")
    second = check_grad(sin_x, with_error(sin_x_grad, 0, 1e-4), POINT, mode="fast")
    assert (first.verdict, first.reference, first.reference_error, first.evaluations) == (
        second.verdict,
        second.reference,
        second.reference_error,
        second.evaluations,
    )


# -- hard places ---------------------------------------------------------------------------


def abs_sum(x):
    return np.sum(np.abs(x)) + np.sum(x**2)


def abs_sum_grad(x):
    return np.sign(x) + 2 * x


def test_kink_is_inconclusive_never_fail():
    x = np.array([0.0, 2.0])
    one_sided = lambda x: np.where(x >= 0, 1.0, -1.0) + 2 * x  # noqa: E731 - a right derivative at 0
    result = check_grad(abs_sum, one_sided, x)
    assert result.verdict == "inconclusive" and "kink in coordinate 0" in result.reason
    # the subgradient 0 is what central differences see: it passes
    assert check_grad(abs_sum, abs_sum_grad, x).verdict == "pass"


def test_relu_kink_in_xp_form():
    def relu_sum(x, xp):
        return xp.sum(xp.maximum(x, 0.0) * 3.0)

    result = check_grad(relu_sum, lambda x: 3.0 * (x >= 0), np.array([0.0, 1.0, -1.0]))
    assert result.verdict == "inconclusive" and "kink" in result.reason


@pytest.mark.parametrize("distance", [1e-7, -1e-7])
def test_close_to_a_kink(distance):
    x = np.array([distance, 2.0, -0.5])
    assert check_grad(abs_sum, abs_sum_grad, x).verdict == "pass"
    wrong = check_grad(abs_sum, with_error(abs_sum_grad, 0, 1e-6), x)
    assert wrong.verdict == "fail" and wrong.index == 0


@pytest.mark.parametrize(
    "f, grad, x",
    [
        (lambda x: np.sum(np.exp(200 * x)), lambda x: 200 * np.exp(200 * x), [0.3, 0.32, 0.29]),
        (lambda x: np.sum(np.sin(1000 * x)), lambda x: 1000 * np.cos(1000 * x), [0.3, 0.7, -1.0]),
        (lambda x: np.sum(np.sin(x / 1e-8)), lambda x: np.cos(x / 1e-8) / 1e-8, [3e-9, 7e-9, -1e-8]),
        (lambda x: np.sum(np.log(x / 1e8) ** 2), lambda x: 2 * np.log(x / 1e8) / x, [3e8, 7e8, 2e7]),
        (lambda x: 1e-8 * sin_x(x), lambda x: 1e-8 * sin_x_grad(x), POINT),
        (lambda x: 1e8 * sin_x(x), lambda x: 1e8 * sin_x_grad(x), POINT),
    ],
    ids=["exp200", "sin1000", "x_at_1e-8", "x_at_1e8", "f_at_1e-8", "f_at_1e8"],
)
def test_curvature_and_magnitudes(f, grad, x):
    x = np.asarray(x)
    assert check_grad(f, grad, x).verdict == "pass"
    for k in range(x.size):
        for relative in (1e-6, -1.0):  # a small error, and a sign flip
            wrong = check_grad(f, with_error(grad, k, relative), x)
            assert wrong.verdict == "fail" and wrong.index == k, str(wrong)


@pytest.mark.parametrize("noise", [1e-9, 1e-5])
def test_noisy_function_never_fails_a_correct_gradient(noise):
    rng = np.random.default_rng(7)

    def noisy(x):
        return np.sum(x**2) * (1 + noise * rng.standard_normal())

    x = np.array([1.0, -2.0])
    result = check_grad(noisy, lambda x: 2 * x, x, complex_step=False)
    assert result.verdict in ("pass", "inconclusive"), str(result)
    # A factor of 2 shows through either noise: differences with steps set by the
    # measured noise resolve it.
    wrong = check_grad(noisy, lambda x: 4 * x, x, complex_step=False)
    assert wrong.verdict == "fail", str(wrong)
    if noise > 1e-6:  # no difference resolves 1e-6 under this noise: no "pass" is earned
        assert result.verdict == "inconclusive" and "f is noisy (measured noise ~" in result.reason


def test_references_that_disagree_make_it_inconclusive():
    # The tape takes the branch of the comparison at the tie, the differences see the
    # mean of both slopes.  Ladders of differences never outvote the exact tape, and
    # the claim (the tape's slope) lies between the one-sided slopes: a kink, no verdict.
    def bent(x, xp):
        return xp.sum(xp.where(x > 0, x, 2.0 * x))

    x = np.array([0.0, 1.0])
    result = check_grad(bent, lambda x: np.where(x > 0, 1.0, 2.0), x)
    assert result.verdict == "inconclusive" and "kink in coordinate 0" in result.reason
    assert not any("outvoted" in note for note in result.notes)
    assert not result.notes  # f is no float32 function for giving float32 values at float32 points
    # a claim outside both one-sided slopes is wrong whatever the kink
    assert check_grad(bent, lambda x: np.where(x > 0, 1.0, 3.0), x).verdict == "fail"


def test_complex_step_is_checked_before_it_is_trusted():
    # np.abs drops the imaginary part of one term: the complex step alone would call
    # the correct gradient wrong.  The check along a random direction catches it.
    x = np.array([0.5, -1.5])
    result = check_grad(abs_sum, abs_sum_grad, x, mode="fast")
    assert result.verdict == "pass" and result.references == ("richardson",)
    assert any("not analytic" in note for note in result.notes)
    wrong = check_grad(abs_sum, with_error(abs_sum_grad, 0, 1e-3), x)  # vetted when disputed
    assert wrong.verdict == "fail" and wrong.references == ("richardson",)
    assert any("not analytic" in note for note in wrong.notes)
    with pytest.raises(ValueError, match="complex_step=True, but"):
        check_grad(abs_sum, abs_sum_grad, x, complex_step=True)


def test_dtype_of_the_claimed_gradient_sets_the_tolerance():
    x = np.array([0.5, 2.0, -1.25])
    float32 = lambda x: sin_x_grad(x).astype(np.float32)  # noqa: E731
    assert check_grad(sin_x, float32, x).verdict == "pass"
    # the same 1e-6 error is rounding in float32 and a bug in float64
    assert check_grad(sin_x, lambda x: with_error(sin_x_grad, 1, 1e-6)(x).astype(np.float32), x).passed
    assert check_grad(sin_x, with_error(sin_x_grad, 1, 1e-6), x).verdict == "fail"
    result = check_grad(sin_x, lambda x: with_error(sin_x_grad, 1, 1e-3)(x).astype(np.float32), x)
    assert result.verdict == "fail" and result.tolerance > CLAIMED_RTOL[np.dtype(np.float32)] * 0.07


def test_function_in_float32():
    f32 = lambda x: np.sum(np.sin(x.astype(np.float32)) * x.astype(np.float32))  # noqa: E731
    g32 = lambda x: sin_x_grad(x.astype(np.float32))  # noqa: E731
    assert check_grad(f32, g32, POINT).verdict == "pass"
    assert check_grad(f32, with_error(g32, 0, 1e-2), POINT).verdict == "fail"


def test_user_tolerance_replaces_the_allowance():
    wrong = with_error(sin_x_grad, 0, 1e-5)
    assert check_grad(sin_x, wrong, POINT).verdict == "fail"
    assert check_grad(sin_x, wrong, POINT, rtol=1e-4).verdict == "pass"
    assert check_grad(sin_x, wrong, POINT, atol=1e-4).verdict == "pass"


# -- fast mode -----------------------------------------------------------------------------


@pytest.mark.parametrize("complex_step", ["auto", False])
def test_fast_mode_costs_few_evaluations_at_n_1000(complex_step):
    x = np.random.default_rng(3).uniform(-2, 2, 1000)
    result = check_grad(sin_x, sin_x_grad, x, mode="fast", complex_step=complex_step)
    assert result.verdict == "pass" and result.evaluations < 50, str(result)


@pytest.mark.parametrize("wrong_components", [[417], [3, 998], [0, 1, 2]])
def test_fast_mode_localises_wrong_components(wrong_components):
    n = 1000
    x = np.random.default_rng(3).uniform(-2, 2, n)

    def wrong(x):
        value = sin_x_grad(x)
        value[wrong_components] *= 1 + 1e-4
        return value

    result = check_grad(sin_x, wrong, x)  # mode "auto" is fast at n = 1000
    assert result.mode == "fast" and result.verdict == "fail"
    assert sorted(m.index for m in result.mismatches) == wrong_components
    # group tests cost about 2 log2(n) directional checks per wrong component
    tests = 2 * len(wrong_components) * math.ceil(math.log2(n)) + 2
    assert result.evaluations < tests * 20


def test_fast_mode_with_the_tape_compares_every_component():
    x = np.random.default_rng(3).uniform(-2, 2, 500)
    result = check_grad(sin_x_xp, with_error(sin_x_grad, 123, -1e-6), x, mode="fast")
    assert result.verdict == "fail" and result.index == 123 and result.checked == 500


@given(st.integers(2, 300), st.data())
def test_localise_finds_exactly_the_wrong_set(n, data):
    wrong = set(data.draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=4, unique=True)))
    calls = []

    def failing(group):
        calls.append(group.size)
        return bool(wrong.intersection(group.tolist()))

    found, lost, pending = localise(failing, n, limit=8)
    assert found == sorted(wrong) and lost == [] and pending == []
    assert len(calls) <= 2 * len(wrong) * math.ceil(math.log2(n))


# -- Jacobians and several points ----------------------------------------------------------


def polar(x):
    return np.array([x[0] * np.cos(x[1]), x[0] * np.sin(x[1]), x[0] ** 2])


def polar_jacobian(x):
    r, t = x
    return np.array([[np.cos(t), -r * np.sin(t)], [np.sin(t), r * np.cos(t)], [2 * r, 0.0]])


def test_jacobian_pass_and_located_failure():
    x = np.array([1.5, 0.3])
    assert check_jacobian(polar, polar_jacobian, x).verdict == "pass"
    assert_jacobian_correct(polar, polar_jacobian, x)

    def wrong(x):
        jacobian = polar_jacobian(x)
        jacobian[1, 1] *= 1.001
        return jacobian

    result = check_jacobian(polar, wrong, x)
    assert result.verdict == "fail" and result.index == (1, 1)
    for mode in ("fast",):
        assert check_jacobian(polar, wrong, x, mode=mode).index == (1, 1)
    with pytest.raises(AssertionError, match=r"\(1, 1\)"):
        assert_jacobian_correct(polar, wrong, x)


def test_several_points_report_the_failing_one():
    points = np.array([[0.5, 1.0], [-0.5, 1.0], [2.0, -3.0]])

    def wrong_for_negative(x):
        return np.where(x < 0, -np.cos(x) * x, sin_x_grad(x))

    result = check_grad(sin_x, wrong_for_negative, points)
    assert [r.verdict for r in result.per_point] == ["pass", "fail", "fail"]
    assert result.verdict == "fail" and result.point_index in (1, 2)
    np.testing.assert_array_equal(result.point, points[result.point_index])
    assert result.evaluations == sum(r.evaluations for r in result.per_point)
    assert "Points with verdict fail: [1, 2] of 3" in result.message()


def test_seeded_points_in_a_box():
    box = ([-1.0, -1.0], [1.0, 2.0])
    first = check_grad(sin_x, sin_x_grad, box=box, n_points=4, seed=11)
    again = check_grad(sin_x, sin_x_grad, box=box, n_points=4, seed=11)
    other = check_grad(sin_x, sin_x_grad, box=box, n_points=4, seed=12)
    points = [r.point for r in first.per_point]
    np.testing.assert_array_equal(points, [r.point for r in again.per_point])
    assert not np.array_equal(points, [r.point for r in other.per_point])
    assert all(np.all((p >= [-1, -1]) & (p <= [1, 2])) for p in points)
    assert first.verdict == "pass"
    integers = check_grad(sin_x, sin_x_grad, box=([-1, -1], [1, 2]), n_points=4, seed=11)
    np.testing.assert_array_equal(points, [r.point for r in integers.per_point])


# -- messages ------------------------------------------------------------------------------


def test_assertion_message_lists_components_and_repro():
    wrong = with_error(sin_x_grad, 1, 0.5)
    with pytest.raises(AssertionError) as caught:
        assert_grad_correct(sin_x, wrong, POINT, seed=5)
    message = str(caught.value)
    assert "Mismatched components: 1 / 3" in message
    assert f"{float(1.5 * sin_x_grad(POINT)[1])!r}" in message  # the claimed value, all digits
    assert "Repro: x = np.array([0.5, 2.0, -1.25]), seed = 5" in message
    assert_grad_correct(sin_x, sin_x_grad, POINT)  # no exception


def test_inconclusive_raises_unless_allowed():
    x = np.array([0.0, 2.0])
    one_sided = lambda x: np.where(x >= 0, 1.0, -1.0) + 2 * x  # noqa: E731
    with pytest.raises(AssertionError, match="inconclusive.*kink"):
        assert_grad_correct(abs_sum, one_sided, x)
    assert_grad_correct(abs_sum, one_sided, x, allow_inconclusive=True)


def test_str_is_readable():
    text = str(check_grad(sin_x, with_error(sin_x_grad, 0, 1e-3), POINT))
    assert text.startswith("gradient check: FAIL: 1 of 3 components mismatch")
    assert "worst component 0" in text and "references richardson+complex_step" in text


# -- bad input -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(x=[1.0, np.nan]), ValueError, "x must be finite"),
        (dict(x=[1, 2]), TypeError, "x must be a real floating-point array"),
        (dict(x=[]), ValueError, "at least one element"),
        (dict(x=None), ValueError, "x is required"),
        (dict(x=[1.0], box=([0.0], [1.0]), n_points=2), ValueError, "either x or box"),
        (dict(box=([0.0], [1.0])), ValueError, "n_points must be a positive integer"),
        (dict(box=([1.0], [0.0]), n_points=2), ValueError, "low < high"),
        (dict(x=[1.0], n_points=2), ValueError, "n_points needs box"),
        (dict(x=[1.0], mode="slow"), ValueError, "mode must be"),
        (dict(x=[1.0], rtol=-1.0), ValueError, "rtol must be non-negative"),
        (dict(x=[1.0], atol="0"), TypeError, "atol must be a real number"),
        (dict(x=[1.0], seed=-1), TypeError, "seed must be a non-negative integer"),
        (dict(x=[1.0], directions=0), ValueError, "directions must be a positive integer"),
        (dict(x=[1.0], complex_step="yes"), ValueError, "complex_step must be"),
    ],
)
def test_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        check_grad(sin_x, sin_x_grad, **kwargs)


@pytest.mark.filterwarnings("ignore:divide by zero encountered in log")
def test_bad_functions_and_gradients():
    x = np.array([1.0, 2.0])
    with pytest.raises(TypeError, match="f must be a callable"):
        check_grad("sin", sin_x_grad, x)
    with pytest.raises(TypeError, match="grad must be a callable"):
        check_grad(sin_x, None, x)
    with pytest.raises(ValueError, match=r"grad must give shape \(2,\)"):
        check_grad(sin_x, lambda x: np.ones(3), x)
    with pytest.raises(TypeError, match="grad must give real floating-point values"):
        check_grad(sin_x, lambda x: x + 0j, x)
    with pytest.raises(ValueError, match="use check_jacobian"):
        check_grad(lambda x: x**2, sin_x_grad, x)
    with pytest.raises(ValueError, match="f\\(x\\) must be finite"):
        check_grad(lambda x: np.sum(np.log(x - 1.0)), sin_x_grad, x)
    with pytest.raises(TypeError, match="f must return real floating-point values"):
        check_grad(lambda x: "1.0", sin_x_grad, x)
    with pytest.raises(TypeError, match="several points"):
        check_grad(sin_x, sin_x_grad(x), np.array([x, x]))
    with pytest.raises(ValueError, match=r"jac must give shape \(3, 2\)"):
        check_jacobian(polar, lambda x: np.ones((2, 3)), x)


def test_nonfinite_claimed_components_fail():
    def nan_gradient(x):
        value = sin_x_grad(x)
        value[1] = np.nan
        return value

    result = check_grad(sin_x, nan_gradient, POINT)
    assert result.verdict == "fail" and result.index == 1 and math.isnan(result.claimed)


def test_array_gradient_for_a_single_point():
    assert check_grad(sin_x, sin_x_grad(POINT), POINT).passed


@pytest.mark.parametrize("claimed", [np.inf, 1e8, 0.0])
def test_an_infinite_derivative_is_never_a_verdict_on_that_component(claimed):
    # sqrt at 0: no finite claim is right and inf is not a derivative either; the
    # one-sided ladders tell this is no ordinary point.
    result = check_grad(lambda x: np.sqrt(x[0] - 0.5) + x[1], lambda x: np.array([claimed, 1.0]), [0.5, 1.5])
    assert result.verdict == "inconclusive"
    assert "coordinate 0" in result.reason


@pytest.mark.parametrize(
    ("f", "why"),
    [
        (lambda x, xp: np.linalg.svd(np.reshape(x, (1, 2)), compute_uv=False)[0], "numpy.linalg.svd"),
        (lambda x, xp: math.hypot(x[0], x[1]), "converted to float"),
    ],
)
def test_an_xp_function_the_tape_cannot_trace_is_checked_without_it(f, why):
    def grad(x):
        return x / np.hypot(x[0], x[1])

    result = check_grad(f, grad, [0.5, 1.5])
    assert result.verdict == "pass"
    assert "tape" not in result.references
    assert any(why in note for note in result.notes)
    wrong = check_grad(f, lambda x: grad(x) * [1.0, 1.001], [0.5, 1.5])
    assert wrong.verdict == "fail" and wrong.index == 1


# -- the shape of x --------------------------------------------------------------------------


@pytest.mark.parametrize("check", [check_grad, check_jacobian])
def test_a_column_is_refused_with_what_to_pass(check):
    column = POINT[:, None]
    with pytest.raises(ValueError) as caught:
        check(sin_x, sin_x_grad, column)
    assert str(caught.value) == (
        "x has shape (3, 1), a column, which would read as 3 points of dimension 1: pass x.ravel() "
        "to check one point of dimension 3; several points go in the rows of x, shape (n_points, n)"
    )
    with pytest.raises(ValueError, match="a column"):  # before the array gradient is looked at
        check_grad(sin_x, sin_x_grad(POINT), column)
    with pytest.raises(ValueError, match="a column"):
        check_grad(sin_x, sin_x_grad, column.tolist())


def test_a_row_is_one_point():
    row = check_grad(sin_x, with_error(sin_x_grad, 1, 1e-3), POINT[None, :])
    flat = check_grad(sin_x, with_error(sin_x_grad, 1, 1e-3), POINT)
    assert row.point_index is None and row.per_point == ()
    assert (row.verdict, row.index, row.claimed, row.reference) == (
        flat.verdict,
        flat.index,
        flat.claimed,
        flat.reference,
    )
    np.testing.assert_array_equal(row.point, POINT)
    assert check_grad(sin_x, sin_x_grad(POINT), POINT[None, :]).passed  # an array gradient too
    assert check_grad(sin_x, sin_x_grad, [[0.5]]).passed  # (1, 1): one point of dimension 1
    several = check_grad(sin_x, sin_x_grad, np.array([POINT, -POINT]))
    assert len(several.per_point) == 2 and several.passed


def _qr_energy(x, xp):
    # (r00 r11)^2 = det(A)^2 through numpy's QR, which the tape has no rule for
    _, r = xp.linalg.qr(xp.reshape(x, (2, 2)))
    return (r[0, 0] * r[1, 1]) ** 2


def _qr_energy_gradient(x):
    a = x.reshape(2, 2)
    return (2.0 * np.linalg.det(a) ** 2 * np.linalg.inv(a).T).ravel()


def _dft_energy(x, xp):
    return xp.sum(xp.fft.fft(x).real ** 2)


def _dft_energy_gradient(x):
    n = x.size
    c = np.cos(2.0 * np.pi * np.outer(np.arange(n), np.arange(n)) / n)
    return 2.0 * c.T @ (c @ x)


@pytest.mark.parametrize(
    ("f", "grad", "x", "op"),
    [
        (_qr_energy, _qr_energy_gradient, [1.5, -0.5, 0.25, 2.0], "linalg.qr"),
        (_dft_energy, _dft_energy_gradient, [0.5, -1.0, 2.0, 0.25, 1.5], "fft"),
    ],
    ids=["qr", "fft"],
)
@pytest.mark.parametrize("mode", ["full", "fast"])
def test_an_xp_function_with_an_operation_the_tape_lacks_is_checked_as_a_black_box(f, grad, x, op, mode):
    result = check_grad(f, grad, x, mode=mode)
    assert result.verdict == "pass", result.reason
    assert "tape" not in result.references
    assert any(f"tape does not support '{op}'" in note and "black box" in note for note in result.notes)
    wrong = check_grad(
        f, lambda z: grad(z) * np.array([1.0, 1.0, 1.001, *[1.0] * (len(x) - 3)]), x, mode=mode
    )
    assert wrong.verdict == "fail" and wrong.index == 2
