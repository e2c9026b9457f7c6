"""Reasons that tell the truth: how many components mismatch, and a factor common to all."""

import numpy as np
import pytest

from diffcompare import check_grad
from diffcompare.oracle.diagnose import common_factor, describe_factor
from diffcompare.oracle.point import CONFIRM

# -- common_factor ---------------------------------------------------------------------------


@pytest.mark.parametrize("c", [2.0, 0.5, 1e-3, 1000.0, -1.0, -3.0])
def test_a_factor_on_every_pair_is_found(c):
    reference = np.array([1.5, -0.25, 3.0, 1e-3, -7.0])
    assert common_factor(c * reference, reference, 1e-12) == pytest.approx(c, rel=1e-15)


def test_zero_pairs_agree_with_any_factor_but_do_not_fix_it():
    reference = np.array([0.0, 2.0, 0.0, -1.0, 1e-20])
    assert common_factor(3 * reference, reference, 1e-12) == pytest.approx(3.0)
    claimed = 3 * reference
    claimed[0] = 0.5  # a claim off a zero reference is no factor of it
    assert common_factor(claimed, reference, 1e-12) is None
    # one pair away from 0 cannot tell a factor from one wrong value
    assert common_factor([0.0, 6.0, 0.0], [0.0, 2.0, 0.0], 1e-12) is None


def test_no_factor_without_evidence_for_one():
    reference = np.array([1.0, 2.0, 3.0])
    assert common_factor(reference, reference, 1e-12) is None  # c = 1: nothing wrong here
    assert common_factor(reference * (1 + 1e-14), reference, 1e-12) is None  # rounding is c = 1
    assert common_factor([1.0, 2.0, 9.0], reference, 1e-12) is None  # one wrong component
    assert common_factor([2.0, 4.0, 6.0 * (1 + 1e-3)], reference, 1e-6 * reference) is None  # nearly a factor
    assert common_factor(np.zeros(3), reference, 1e-12) is None  # a zero claim is no factor
    assert common_factor([2.0, np.nan, 6.0], reference, 1e-12) is None
    assert common_factor([2.0, 4.0, 6.0], [1.0, np.inf, 3.0], 1e-12) is None


def test_tolerance_is_per_pair_in_reference_units():
    reference = np.array([1.0, 2.0, 1e-4])
    claimed = 2 * reference
    claimed[2] *= 1 + 1e-3  # off by 2e-7 absolute, on a reference that is known to 1e-6
    assert common_factor(claimed, reference, [1e-12, 1e-12, 1e-6]) == pytest.approx(2.0)
    assert common_factor(claimed, reference, 1e-12) is None
    # a reference within its tolerance of 0 does not fix c, so two others must
    assert common_factor([2.0, 4.0], [1.0, 2.0], [1e-12, 3.0]) is None


def test_describe_factor():
    assert describe_factor(2.0) == "the claim is 2 x the reference everywhere: a missing factor?"
    assert describe_factor(0.001) == "the claim is 0.001 x the reference everywhere: a missing factor?"
    assert describe_factor(-1.0) == "the claim has the opposite sign everywhere"
    assert describe_factor(-2.0) == (
        "the claim is -2 x the reference everywhere: a missing factor and a flipped sign?"
    )


# -- fast mode: what the search saw ---------------------------------------------------------------

N = 1000
X = np.random.default_rng(3).uniform(-2, 2, N)


def sin_x(x):
    return np.sum(np.sin(x) * x)


def sin_x_grad(x):
    return np.cos(x) * x + np.sin(x)


def test_a_forgotten_mean_is_named_in_fast_mode():
    result = check_grad(lambda x: sin_x(x) / x.size, sin_x_grad, X)  # claim = N x the truth
    assert result.mode == "fast" and result.verdict == "fail"
    assert result.reason == (
        f"at least {CONFIRM} of 1000 components mismatch (the search stopped at {CONFIRM}); "
        "the claim is 1000 x the reference everywhere: a missing factor?"
    )
    message = result.message()
    assert (
        f"Mismatched components: {CONFIRM} of {CONFIRM} compared one by one; x has 1000 components" in message
    )


def test_a_sign_flip_of_the_whole_gradient():
    fast = check_grad(sin_x, lambda x: -sin_x_grad(x), X)
    assert fast.verdict == "fail" and fast.reason.startswith(f"at least {CONFIRM} of 1000")
    assert fast.reason.endswith("; the claim has the opposite sign everywhere")
    full = check_grad(sin_x, lambda x: -sin_x_grad(x), X[:6])
    assert full.reason == "all 6 components mismatch; the claim has the opposite sign everywhere"


def test_a_factor_in_full_mode():
    result = check_grad(sin_x, lambda x: 2 * sin_x_grad(x), X[:6])
    assert (
        result.reason
        == "all 6 components mismatch; the claim is 2 x the reference everywhere: a missing factor?"
    )


def wrong_by(factor, components):
    def grad(x):
        value = sin_x_grad(x)
        value[components] *= factor
        return value

    return grad


@pytest.mark.parametrize("mode, x", [("full", X[:6]), ("fast", X)])
def test_one_wrong_component_is_not_a_global_factor(mode, x):
    result = check_grad(sin_x, wrong_by(2.0, [3]), x)
    assert result.mode == mode and result.verdict == "fail"
    assert result.reason == (
        "1 of 6 components mismatch"
        if mode == "full"
        else "1 of 1000 components mismatch (isolated by group tests)"
    )


@pytest.mark.parametrize("mode, x", [("full", X[:6]), ("fast", X)])
def test_some_components_off_by_one_factor_are_not_a_global_factor(mode, x):
    # the compared components share the factor, the rest (and the directions) do not
    result = check_grad(sin_x, wrong_by(2.0, [1, 4]), x)
    assert result.verdict == "fail" and "everywhere" not in result.reason
    assert result.reason.startswith("2 of")


@pytest.mark.parametrize("mode, n", [("full", 7), ("fast", N)])
def test_a_factor_on_a_gradient_with_zero_components(mode, n):
    x = X[:n]
    weights = np.where(np.arange(n) % 3 == 0, 0.0, 1.0)  # f does not depend on every third x_k

    def f(x):
        return np.sum(weights * x**2) / x.size

    result = check_grad(f, lambda x: 2 * weights * x, x)  # the mean's 1/n forgotten
    assert result.mode == mode and result.verdict == "fail"
    assert result.reason.endswith(f"; the claim is {n} x the reference everywhere: a missing factor?")
    if mode == "full":
        assert result.reason.startswith("4 of 7 components mismatch")  # the zeros agree


def test_the_count_is_exact_when_the_search_finished():
    # eight wrong components: the search finds all of them and nothing is left to search
    exact = check_grad(sin_x, wrong_by(1 + 1e-4, list(range(0, 800, 100))), X)
    assert exact.reason == f"{CONFIRM} of 1000 components mismatch (isolated by group tests)"
    more = check_grad(sin_x, wrong_by(1 + 1e-4, list(range(0, 900, 100))), X)
    assert more.reason == f"at least {CONFIRM} of 1000 components mismatch (the search stopped at {CONFIRM})"


def test_fast_mode_with_the_tape_counts_every_component():
    def sin_x_xp(x, xp):
        return xp.sum(xp.sin(x) * x)

    result = check_grad(sin_x_xp, lambda x: 0.5 * sin_x_grad(x), X[:500], mode="fast")
    assert result.reason == (
        "all 500 components mismatch; the claim is 0.5 x the reference everywhere: a missing factor?"
    )


def test_pairs_must_pair_up():
    with pytest.raises(
        ValueError, match="claimed and reference must hold the same number of values; got 2 and 3"
    ):
        common_factor([1.0, 2.0], [1.0, 2.0, 3.0], 1e-9)


@pytest.mark.parametrize("n", [6, N])
@pytest.mark.parametrize("c", [0.01, 0.5, 1000.0])
def test_a_factor_on_a_float32_gradient(n, c):
    # the claim's float32 rounding is allowed for, on every entry and every direction
    result = check_grad(sin_x, lambda x: (c * sin_x_grad(x)).astype(np.float32), X[:n])
    assert result.reason.endswith(f"; the claim is {c:g} x the reference everywhere: a missing factor?")
