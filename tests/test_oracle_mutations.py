"""The oracle against the mutation suite: every correct gradient passes, every mutation fails.

The hand-written gradients of :mod:`diffcompare.oracle.mutations` are first held to
diffcompare's reverse-mode tape, so a "pass" below is a pass for a gradient known to be
right and a "fail" is a fail for one known (and checked) to be wrong.
"""

from __future__ import annotations

import numpy as np
import pytest

import diffcompare
from diffcompare.ops.numpy_namespace import numpy_namespace
from diffcompare.oracle.mutations import (
    CASES,
    CASES_BY_NAME,
    MUTATIONS,
    SIGNIFICANT,
    mutant,
    mutated_gradient,
    point_seed,
)
from diffcompare.truth.accuracy import normwise_relative_error

#: The hand-written gradients agree with the tape to this normwise relative error.
TAPE_AGREEMENT = 1e-13

SMALL = [case for case in CASES if "large" not in case.tags]
LARGE = CASES_BY_NAME["rosenbrock_5000"]
POINTS = [pytest.param(case, i, id=f"{case.name}-{i}") for case in SMALL for i in range(len(case.points))]
MUTANTS = [
    (case, i, name)
    for case in SMALL
    for i in range(len(case.points))
    for name, mutation in MUTATIONS.items()
    if mutation.applies(case)
]
# The black box costs the oracle more evaluations: its checks at the points after the
# first run with -m slow, which keeps the default run under a minute.
MUTANT_CHECKS = [
    pytest.param(case, i, name, form, id=f"{case.name}-{i}-{name}-{form}", marks=[pytest.mark.slow] * slow)
    for case, i, name in MUTANTS
    for form in ("xp", "black_box")
    for slow in [form == "black_box" and i > 0]
]


def black_box(case):
    """``f(x)`` only: the oracle gets no AD reference and must rely on differences."""

    def f(x):
        return case.f(x, numpy_namespace)

    return f


FORMS = {"xp": lambda case: case.f, "black_box": black_box}


# --- the suite itself ------------------------------------------------------------------


def test_the_mutation_table_has_every_required_mutation():
    required = {"sign_flip", "factor_2", "factor_0_5", "swap", "transpose_block", "dropped_term"}
    required |= {"relative_1e-3", "relative_1e-6", "partial_domain", "shifted_point"}
    assert set(MUTATIONS) == required
    assert all(name == mutation.name for name, mutation in MUTATIONS.items())


def test_the_cases_cover_every_required_regime():
    assert len(CASES) >= 14 and len(CASES_BY_NAME) == len(CASES)
    tags = {tag for case in CASES for tag in case.tags}
    assert {"tiny_value", "huge_value", "tiny_x", "huge_x", "large", "near_kink", "curvature"} <= tags
    assert sum(case.block_shape is not None for case in CASES) >= 3
    assert LARGE.dim == 5000
    for name in MUTATIONS:
        assert any(MUTATIONS[name].applies(case) for case in CASES), name


def test_known_values_without_helpers():
    # Rosenbrock's minimum and a hand-expanded point; (A + A^T) M at M = I.
    rosenbrock = CASES_BY_NAME["rosenbrock"]
    np.testing.assert_array_equal(rosenbrock.grad(np.ones(6)), np.zeros(6))
    np.testing.assert_array_equal(rosenbrock.grad(np.array([0.0, 0.0])), [-2.0, 0.0])
    np.testing.assert_array_equal(rosenbrock.grad(np.array([1.0, 0.0])), [400.0, -200.0])
    form = CASES_BY_NAME["quadratic_form"]
    a = np.array([form.grad(row) for row in np.eye(9)])  # linear: column k is grad(e_k)
    np.testing.assert_allclose(a, a.T, rtol=0, atol=1e-15)  # the Hessian is symmetric
    np.testing.assert_array_equal(CASES_BY_NAME["huber"].grad(np.array([-3.0, 0.5, 2.0])), [-1.0, 0.5, 1.0])


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_hand_written_gradient_matches_the_tape(case):
    tape = diffcompare.grad(case.f, method="tape")
    for x in case.points:
        assert np.isfinite(float(case.f(x, numpy_namespace)))
        err = normwise_relative_error(case.grad(x), tape(x))
        assert err <= TAPE_AGREEMENT, f"{case.name} at point {x.tolist()[:6]}: {err:.3g}"


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_buggy_variants_are_wrong_at_every_point(case):
    for x in case.points:
        for variant in (case.dropped_term, case.partial_domain):
            if variant is not None:
                assert normwise_relative_error(variant(x), case.grad(x)) > 1e-6, case.name


@pytest.mark.parametrize("case, i", POINTS + [pytest.param(LARGE, 0, id="rosenbrock_5000-0")])
def test_every_mutation_changes_the_gradient_or_says_it_does_not_apply(case, i):
    x, correct = case.points[i], case.grad(case.points[i])
    for name, mutation in MUTATIONS.items():
        wrong = mutated_gradient(case, name, x, point_seed(case, i))
        if not mutation.applies(case):
            assert wrong is None and mutant(case, name, 0) is None, (case.name, name)
            continue
        assert wrong is not None, f"{name} applies to {case.name} but gave nothing at point {i}"
        assert wrong.shape == correct.shape and np.all(np.isfinite(wrong))
        changed = np.flatnonzero(wrong != correct)
        assert changed.size > 0, f"{name} left the gradient of {case.name} unchanged at point {i}"
        # a changed component is not rounding noise next to the rest of the gradient
        scale = np.max(np.abs(correct))
        assert np.max(np.abs(wrong - correct)) >= 1e-7 * SIGNIFICANT * scale, (case.name, name)
        np.testing.assert_array_equal(wrong, mutated_gradient(case, name, x, point_seed(case, i)))


# --- the oracle ------------------------------------------------------------------------


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("case, i", POINTS)
def test_correct_gradient_passes(case, i, form):
    result = diffcompare.check_grad(FORMS[form](case), case.grad, case.points[i])
    assert result.verdict == "pass", str(result)


@pytest.mark.parametrize("case, i, name, form", MUTANT_CHECKS)
def test_mutation_fails(case, i, name, form):
    wrong = mutant(case, name, point_seed(case, i))
    result = diffcompare.check_grad(FORMS[form](case), wrong, case.points[i])
    assert result.verdict == "fail", str(result)


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("case", SMALL, ids=lambda case: case.name)
def test_assert_grad_correct_raises_for_a_mutation_only(case, form):
    f, x = FORMS[form](case), case.points[0]
    diffcompare.assert_grad_correct(f, case.grad, x)
    with pytest.raises(AssertionError):
        diffcompare.assert_grad_correct(f, mutant(case, "sign_flip", point_seed(case, 0)), x)


# --- n = 5,000 -------------------------------------------------------------------------

SINGLE_COMPONENT = ("sign_flip", "relative_1e-3", "relative_1e-6")


def test_fast_mode_passes_the_large_correct_gradient():
    result = diffcompare.check_grad(LARGE.f, LARGE.grad, LARGE.points[0], mode="fast")
    assert result.verdict == "pass", str(result)


@pytest.mark.parametrize("name", SINGLE_COMPONENT)
def test_fast_mode_fails_and_localises_a_wrong_component(name):
    x = LARGE.points[0]
    seed = point_seed(LARGE, 0)
    (wrong_index,) = np.flatnonzero(mutated_gradient(LARGE, name, x, seed) != LARGE.grad(x))
    result = diffcompare.check_grad(LARGE.f, mutant(LARGE, name, seed), x, mode="fast")
    assert result.verdict == "fail", str(result)
    found = {result.index} | {mismatch.index for mismatch in result.mismatches}
    assert wrong_index in found, f"mutated component {wrong_index}, reported {sorted(found - {None})}"


@pytest.mark.parametrize("name", [n for n in MUTATIONS if MUTATIONS[n].applies(LARGE)])
def test_fast_mode_fails_every_large_mutation(name):
    wrong = mutant(LARGE, name, point_seed(LARGE, 1))
    result = diffcompare.check_grad(LARGE.f, wrong, LARGE.points[1], mode="fast")
    assert result.verdict == "fail", str(result)


@pytest.mark.slow
@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("name", [None, *SINGLE_COMPONENT])
def test_full_mode_on_the_large_case(name, form):
    x = LARGE.points[0]
    claimed = LARGE.grad if name is None else mutant(LARGE, name, point_seed(LARGE, 0))
    result = diffcompare.check_grad(FORMS[form](LARGE), claimed, x, mode="full")
    assert result.verdict == ("pass" if name is None else "fail"), str(result)


@pytest.mark.slow
@pytest.mark.parametrize("name", [n for n in MUTATIONS if MUTATIONS[n].applies(LARGE)])
def test_fast_mode_black_box_on_the_large_case(name):
    x = LARGE.points[0]
    f = black_box(LARGE)
    assert diffcompare.check_grad(f, LARGE.grad, x, mode="fast").verdict == "pass"
    result = diffcompare.check_grad(f, mutant(LARGE, name, point_seed(LARGE, 0)), x, mode="fast")
    assert result.verdict == "fail", str(result)
