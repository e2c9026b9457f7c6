"""Every suite function, every method, scored against the 50-digit reference."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import EXACT_METHODS, SUITE_NAMES, UNSUPPORTED, evaluate

import diffcompare
from diffcompare.methods import METHODS
from diffcompare.truth.accuracy import normwise_relative_error, ulp_distance, ulp_error
from diffcompare.truth.reference import PreparedReference

# Bounds per method, from the method's record: every method is held to its ``accuracy``
# relative to the gradient's size (normwise) at every ordinary point (1e-14 for the
# exact methods and the complex step, 1e-12 for Richardson extrapolation, 1e-8 for
# central differences), and the exact family to a median componentwise error of 4 ulp
# over all components of all ordinary points.  A componentwise maximum is not bounded:
# a component that is small because its terms cancel loses digits in every float64
# method alike.
NORMWISE_BOUND = {name: method.accuracy for name, method in METHODS.items()}
MEDIAN_ULP_BOUND = {name: 4.0 for name, method in METHODS.items() if method.family == "exact"}
EXACT_NORMWISE = NORMWISE_BOUND["tape"]
TAPE_AUTOGRAD_ULP = 4.0
HARD_POINT_SLACK_ULP = 4.0


def test_the_records_bounds_are_those_this_suite_was_measured_with():
    # Known values, in case a record's field is edited by mistake.
    assert NORMWISE_BOUND == {
        "symbolic": 1e-14, "symbolic_vector": 1e-14, "symengine": 1e-14, "symbolic_array": 1e-14,
        "autograd": 1e-14, "tape": 1e-14, "forward": 1e-14, "complex_step": 1e-14,
        "richardson": 1e-12, "central": 1e-8,
    }  # fmt: skip
    assert set(MEDIAN_ULP_BOUND) == set(METHODS) - {"richardson", "central"}


@pytest.mark.parametrize("name", SUITE_NAMES)
def test_reference_is_certified_at_ordinary_points(name):
    ordinary, _ = evaluate(name)
    for e in ordinary:
        assert e.reference.status == "ok", (name, e.point, e.reference.message)


@pytest.mark.parametrize("method", list(NORMWISE_BOUND))
@pytest.mark.parametrize("name", SUITE_NAMES)
def test_every_method_at_ordinary_points(name, method):
    if name in UNSUPPORTED.get(method, ()):
        pytest.skip(f"{method} declines {name} (tested in that method's own tests)")
    ordinary, _ = evaluate(name)
    for e in ordinary:
        err = normwise_relative_error(e.gradients[method], e.reference.value)
        assert err <= NORMWISE_BOUND[method], f"{method} on {name} at {e.point.tolist()}: {err:.3g}"
    if method in MEDIAN_ULP_BOUND:
        pooled = np.concatenate([ulp_error(e.gradients[method], e.reference.value) for e in ordinary])
        median = np.median(pooled)
        assert median <= MEDIAN_ULP_BOUND[method], f"{method} on {name}: median {median} ulp"


@pytest.mark.parametrize("name", SUITE_NAMES)
def test_tape_and_autograd_agree(name):
    ordinary, _ = evaluate(name)
    for e in ordinary:
        distance = ulp_distance(e.gradients["tape"], e.gradients["autograd"])
        assert distance <= TAPE_AUTOGRAD_ULP, f"{name} at {e.point.tolist()}: {distance} ulp"


HARD = [(record.name, index) for record in diffcompare.suite() for index in range(len(record.hard_points))]


@pytest.mark.parametrize(("name", "index"), HARD)
def test_tape_is_never_less_accurate_at_hard_points(name, index):
    (record,) = diffcompare.suite([name])
    hard_point = record.hard_points[index]
    e = evaluate(name)[1][index]
    assert e.reference.status == "ok", e.reference.message
    errors = {m: float(ulp_error(e.gradients[m], e.reference.value).max()) for m in EXACT_METHODS}
    best = min(errors["symbolic"], errors["autograd"])
    assert errors["tape"] <= best * (1 + 1e-3) + HARD_POINT_SLACK_ULP, (hard_point.note, errors)
    if hard_point.formula_limited:
        # The flag is a claim: every exact method really loses digits here.
        assert min(errors.values()) > HARD_POINT_SLACK_ULP, (hard_point.note, errors)
    else:
        # Elsewhere the tape keeps (nearly) every digit.
        assert errors["tape"] <= HARD_POINT_SLACK_ULP, (hard_point.note, errors)


def test_the_tape_beats_both_others_somewhere():
    """The better-conditioned rules matter: name points where the tape alone is right."""
    wins = {
        ("tanh_sum", 2): "1/cosh^2 overflows, 1 - tanh^2 cancels",
        ("inverse_trigonometric", 0): "1 - x^2 cancels next to 1",
        ("rational", 1): "b**2 overflows in -a/b**2",
    }
    for (name, index), why in wins.items():
        e = evaluate(name)[1][index]
        tape = ulp_error(e.gradients["tape"], e.reference.value).max()
        others = min(ulp_error(e.gradients[m], e.reference.value).max() for m in ("symbolic", "autograd"))
        assert tape <= 2 and others > 100, (name, why, tape, others)


def test_tape_expm1_rule_beats_autograd():
    # autograd differentiates expm1 as ans + 1, which cancels for x << 0; the tape uses exp(x)
    e = evaluate("log1p_expm1")[1][1]
    assert ulp_error(e.gradients["tape"], e.reference.value).max() <= 1
    assert ulp_error(e.gradients["autograd"], e.reference.value).max() > 1e6


@pytest.mark.parametrize("name", [r.name for r in diffcompare.suite() if r.scalable])
def test_scalable_functions_at_twenty_coordinates(name):
    (record,) = diffcompare.suite([name])
    big = record.resized(20)
    reference = PreparedReference(big.f, big.dim)
    prepared = {m: METHODS[m].prepare(big.f, big.dim) for m in EXACT_METHODS}
    for point in big.points:
        truth = reference(point)
        assert truth.status == "ok", truth.message
        for method, p in prepared.items():
            err = normwise_relative_error(p.gradient(point), truth.value)
            assert err <= EXACT_NORMWISE, (method, err)


def test_only_the_complex_step_refuses_and_only_where_a_branch_point_is_within_its_step():
    # the "tiny" hard points put coordinates at 1e-300 .. 4e-320, far closer to the
    # branch points of sqrt and log at 0 than the step 1e-100
    refused = {}
    for name in SUITE_NAMES:
        ordinary, hard = evaluate(name)
        for evaluation in ordinary + hard:
            for method, message in evaluation.refused.items():
                refused[name, evaluation.tag, method] = message
    assert set(refused) == {
        ("exp_log", "tiny", "complex_step"),
        ("square_roots", "tiny", "complex_step"),
        ("piecewise_where", "tiny", "complex_step"),
    }
    assert all("complex step is not reliable at x" in message for message in refused.values())
