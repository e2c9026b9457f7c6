"""Every method's record: the facts the tests, the fuzzer and the reports read from it."""

from __future__ import annotations

import numpy as np
import pytest

from diffcompare.fuzz.classify import BOUNDS, FUZZ_SLACK
from diffcompare.methods import METHODS
from diffcompare.methods.base import FAMILIES


@pytest.mark.parametrize("name", sorted(METHODS))
def test_the_record_is_complete(name):
    method = METHODS[name]
    assert method.name == name
    assert method.family in FAMILIES
    assert 0.0 < method.accuracy < 1e-6
    assert method.requires in (None, "symengine")
    for dim in (1, 7, 130):
        evaluations = method.evaluations(dim)
        assert isinstance(evaluations, int) and evaluations >= 0


def test_known_costs_in_evaluations_of_f():
    # Hard-coded, in case the records and the methods drift apart.
    costs = {name: METHODS[name].evaluations(100) for name in METHODS}
    assert costs == {
        "symbolic": 0, "symbolic_vector": 0, "symengine": 0, "symbolic_array": 0, "autograd": 1,
        "tape": 1, "forward": 2, "central": 200, "complex_step": 101, "richardson": costs["richardson"],
    }  # fmt: skip
    assert costs["richardson"] > costs["central"]


@pytest.mark.parametrize("name", ["central", "complex_step", "richardson"])
def test_difference_methods_report_their_evaluations(name):
    prepared = METHODS[name].prepare(lambda x, xp: xp.sum(xp.sin(x)), 5)
    assert prepared.details["f_evals"] == METHODS[name].evaluations(5)
    np.testing.assert_allclose(prepared.gradient(np.zeros(5)), np.ones(5), rtol=1e-6)


def test_the_fuzzer_reads_its_bounds_from_the_records():
    assert set(BOUNDS) == set(METHODS)
    for name, bound in BOUNDS.items():
        assert bound.family == METHODS[name].family
        assert bound.norm_rel == FUZZ_SLACK * METHODS[name].accuracy
