"""check_jvp, check_vjp and check_jvp_vjp on the product mutation suite: stacked suite
functions and bundle-adjustment residuals, forward mode's JVP and the tape's VJP as the
correct products, and named mutations of them."""

from __future__ import annotations

import numpy as np
import pytest

import diffcompare
from diffcompare.operators import jacobian
from diffcompare.oracle.product_mutations import MUTATIONS, SIGNIFICANT, cases, mutant

CASES = cases()
MODES = ("auto", "fast")


def test_suite_covers_both_families_and_every_mutation_applies_somewhere():
    names = [case.name for case in CASES]
    assert len(CASES) >= 30 and sum(name.startswith("bundle_adjustment") for name in names) == 3
    assert any(case.jacobian.shape[0] > case.jacobian.shape[1] for case in CASES)
    assert any(case.jacobian.shape[0] < case.jacobian.shape[1] for case in CASES)
    for name in MUTATIONS:
        assert sum(mutant(case, name) is not None for case in CASES) >= 20, name


def test_correct_products_agree_with_an_independent_jacobian():
    """The products called correct are: forward mode and the tape against autograd."""
    rng = np.random.default_rng(7)
    for case in CASES:
        truth = jacobian(case.g, "autograd")(case.x)
        t, u = rng.standard_normal(case.x.size), rng.standard_normal(truth.shape[0])
        scale = 1e-13 * np.max(np.abs(truth))
        np.testing.assert_allclose(case.jvp(case.x, t), truth @ t, rtol=0, atol=scale * np.sum(np.abs(t)))
        np.testing.assert_allclose(case.vjp(case.x, u), u @ truth, rtol=0, atol=scale * np.sum(np.abs(u)))


def test_mutations_change_a_significant_entry_or_the_vector():
    case = CASES[0]
    t = np.arange(1.0, case.x.size + 1)
    for name in ("entry_1e-6", "dropped_term", "sign_flip"):
        change = np.column_stack(
            [mutant(case, name).jvp(case.x, e) - case.jvp(case.x, e) for e in np.eye(t.size)]
        )
        (rows, columns) = np.nonzero(change)
        assert rows.size == 1, name
        assert abs(case.jacobian[rows[0], columns[0]]) >= SIGNIFICANT * np.max(np.abs(case.jacobian))
    rolled = mutant(case, "wrong_direction")
    np.testing.assert_array_equal(rolled.jvp(case.x, t), case.jvp(case.x, np.roll(t, 1)))


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_correct_products_pass(case):
    for mode in MODES:
        assert diffcompare.check_jvp(case.g, case.jvp, case.x, mode=mode).verdict == "pass", mode
        assert diffcompare.check_vjp(case.g, case.vjp, case.x, mode=mode).verdict == "pass", mode
    assert diffcompare.check_jvp_vjp(case.g, case.jvp, case.vjp, case.x).verdict == "pass"


MUTANTS = [(case, name) for case in CASES for name in MUTATIONS if mutant(case, name) is not None]


@pytest.mark.parametrize("case, name", MUTANTS, ids=[f"{c.name}-{name}" for c, name in MUTANTS])
def test_every_mutation_is_caught(case, name):
    """Fail, or inconclusive for want of a precise enough reference; never pass.  The
    dot-product test pairs the wrong side with the other side correct."""
    wrong = mutant(case, name)
    results = [diffcompare.check_jvp(case.g, wrong.jvp, case.x, mode=mode) for mode in MODES]
    results += [diffcompare.check_vjp(case.g, wrong.vjp, case.x, mode=mode) for mode in MODES]
    results += [
        diffcompare.check_jvp_vjp(case.g, wrong.jvp, case.vjp, case.x),
        diffcompare.check_jvp_vjp(case.g, case.jvp, wrong.vjp, case.x),
    ]
    for result in results:
        assert result.verdict != "pass", str(result)
        if result.verdict == "inconclusive":
            assert "too uncertain to resolve" in result.reason, str(result)
