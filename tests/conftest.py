"""Shared, cached evaluations of the suite: each reference is computed once per run."""

from __future__ import annotations

import functools
import importlib.util
import os
import warnings
from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import settings

import diffcompare
from diffcompare.methods import METHODS
from diffcompare.truth.reference import PreparedReference

SUITE_NAMES = [record.name for record in diffcompare.suite()]

# The optional method "symengine" (in the test extra) declines everything without its package.
HAVE_SYMENGINE = importlib.util.find_spec("symengine") is not None

EXACT_METHODS = ("symbolic", "autograd", "tape", *(("symengine",) if HAVE_SYMENGINE else ()))

# Suite functions a method declines with NotImplementedError (the vectorised symbolic
# form has no matrices, reshapes, stacks or traced conditions).  Any other refusal fails.
UNSUPPORTED = {
    "symbolic_vector": frozenset(
        {
            "piecewise_where",
            "matrix_product",
            "stack_concat",
            "least_squares",
            "logistic_regression",
            "softmax_cross_entropy",
            "mlp_loss",
        }
    ),
    **({} if HAVE_SYMENGINE else {"symengine": frozenset(SUITE_NAMES)}),
}

# Property tests draw the same examples on every run (CI must not flake); set
# HYPOTHESIS_PROFILE=explore to search with fresh random examples.
settings.register_profile("default", derandomize=True)
settings.register_profile("explore", derandomize=False, max_examples=500)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


@dataclass(frozen=True)
class Evaluation:
    """Reference and every method's gradient at one point of one suite function."""

    point: np.ndarray
    tag: str
    reference: diffcompare.ReferenceGradient
    gradients: dict
    refused: dict  # method -> message, for methods that refused the point (NaN gradients)


@functools.cache
def evaluate(name: str) -> tuple[list[Evaluation], list[Evaluation]]:
    """(ordinary, hard) evaluations of suite function ``name`` by every method."""
    (record,) = diffcompare.suite([name])
    reference = PreparedReference(record.f, record.dim)
    declined = {m for m in METHODS if name in UNSUPPORTED.get(m, ())}
    prepared = {}
    for m in METHODS:
        try:
            prepared[m] = METHODS[m].prepare(record.f, record.dim)
        except NotImplementedError:
            if m not in declined:
                raise
    assert declined == set(METHODS) - set(prepared), f"{name}: declared unsupported {declined}"

    def at(point, tag):
        gradients, refused = {}, {}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # overflow at hard points
            for m, p in prepared.items():
                try:
                    gradients[m] = p.gradient(point)
                except ValueError as error:  # the complex step next to a branch point
                    gradients[m] = np.full(point.shape, np.nan)
                    refused[m] = str(error)
        return Evaluation(point, tag, reference(point), gradients, refused)

    ordinary = [at(p, "ordinary") for p in record.points]
    hard = [at(np.array(h.x), h.tag) for h in record.hard_points]
    return ordinary, hard


@pytest.fixture
def interrupt_second_function(monkeypatch):
    """Make the harness raise KeyboardInterrupt when it starts its second function."""
    import diffcompare.harness.run as harness

    real = harness.run_function
    started = []

    def interrupting(record, options, references=None):
        started.append(record.name)
        if len(started) == 2:
            raise KeyboardInterrupt
        return real(record, options, references)

    monkeypatch.setattr(harness, "run_function", interrupting)
    return started
