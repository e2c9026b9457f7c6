"""The public ``diffcompare.grad``: what one call costs beyond the method (issue 17).

The tape and forward mode refuse a singular point from their own forward pass, so ``f``
runs once per gradient (per 64 directions for forward mode), and ``symbolic_vector`` from
the value its compiled waves compute when ``f`` has no singular point; ``x`` is handed to the
method as it is when it already is a float64 vector in C order, and converted (a copy)
otherwise.  The errors are those of the separate numpy
check, whichever path found them (their messages are pinned in test_bad_input.py).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import diffcompare
from diffcompare.bench import CountingFunction, natural_rosenbrock
from diffcompare.gradient import _own
from diffcompare.methods import METHODS
from diffcompare.validation import refuse_singular


def _quadratic(x, xp):
    return xp.sum(x * x) + x[0]


def _expected(x):
    expected = 2.0 * np.asarray(x, dtype=np.float64)
    expected[0] += 1.0
    return expected


@pytest.mark.parametrize("method", ["tape", "forward"])
def test_the_tape_and_forward_mode_evaluate_f_once_per_call(method):
    counted = CountingFunction(_quadratic)
    gradient = diffcompare.grad(counted, method)
    x = np.array([0.5, -1.0, 2.0])
    for calls in (1, 2, 3):  # the first call included: their setup evaluates nothing
        np.testing.assert_array_equal(gradient(x), _expected(x))
        assert counted.calls == calls


def test_a_method_without_its_own_check_still_gets_the_numpy_check():
    # central differences evaluate f at shifted points only: one more call, at x itself
    counted = CountingFunction(_quadratic)
    gradient = diffcompare.grad(counted, "central")
    x = np.array([0.5, -1.0])
    gradient(x)
    assert counted.calls == 2 * x.size + 1


class _Recorder:
    """``f`` that keeps the plain array the tape's leaf wraps, to compare identities."""

    def __init__(self):
        self.seen = []

    def __call__(self, x, xp):
        self.seen.append(x.value)
        return _quadratic(x, xp)


def test_a_float64_c_ordered_vector_is_not_copied_and_not_changed():
    recorder = _Recorder()
    x = np.array([0.5, -1.0, 2.0])
    before = x.copy()
    g = diffcompare.grad(recorder, "tape")(x)
    assert recorder.seen[-1] is x
    np.testing.assert_array_equal(x, before)  # not written to
    assert not np.shares_memory(g, x)


@pytest.mark.parametrize(
    "x",
    [
        np.array([0.5, -1.0, 2.0], dtype=np.float32),  # dtype
        np.array([0.5, 9.0, -1.0, 9.0, 2.0])[::2],  # layout: a strided view
        [0.5, -1.0, 2.0],  # not an array
    ],
    ids=["float32", "strided", "list"],
)
def test_other_points_are_converted_to_a_new_float64_vector(x):
    recorder = _Recorder()
    before = np.array(x, copy=True)
    g = diffcompare.grad(recorder, "tape")(x)
    seen = recorder.seen[-1]
    assert seen.dtype == np.float64 and seen.flags.c_contiguous
    if isinstance(x, np.ndarray):
        assert not np.shares_memory(seen, x)
        np.testing.assert_array_equal(x, before)
    np.testing.assert_allclose(g, _expected(before), rtol=1e-7)


def test_a_gradient_that_would_share_memory_with_x_is_copied():
    # A method free to return a view of x (here one that returns x itself, as the
    # gradient of sum(x^2 / 2) at x would be) must not hand the caller's array back.
    x = np.array([1.0, 2.0])
    assert _own(x, x) is not x and not np.shares_memory(_own(x, x), x)
    other = np.array([3.0, 4.0])
    assert _own(other, x) is other


def test_the_tape_gives_the_same_gradient_as_the_prepared_method():
    x = np.random.default_rng(17).uniform(-2.0, 2.0, 50)
    prepared = METHODS["tape"].prepare(natural_rosenbrock, x.size).gradient
    np.testing.assert_array_equal(diffcompare.grad(natural_rosenbrock, "tape")(x), prepared(x))


@pytest.mark.parametrize("method", ["tape", "forward"])
def test_a_singular_point_found_by_the_forward_pass_warns_nothing(method):
    # The separate check evaluated f with floating-point warnings off; the method's own
    # forward pass does the same before refusing the point.
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match=r"f\(x\) is -inf at x = \[0.5, 1.5\]"):
            diffcompare.grad(lambda x, xp: xp.sum(xp.log(x - 0.5)), method)(np.array([0.5, 1.5]))


def test_a_method_error_is_preceded_by_the_numpy_check_as_before():
    # A non-scalar result: the tape finds it on its own, but the error is the one the
    # numpy check raised before the method ran, word for word.
    with pytest.raises(ValueError, match=r"with the numpy namespace it returned shape \(2,\)"):
        diffcompare.grad(lambda x, xp: x * 2.0, "tape")(np.array([1.0, 2.0]))


def test_symbolic_vector_on_a_total_function_evaluates_f_only_to_trace_it():
    # Rosenbrock has no singular point: the value the waves compute replaces the numpy
    # check, so f runs once (traced), then never again
    counted = CountingFunction(natural_rosenbrock)
    gradient = diffcompare.grad(counted, "symbolic_vector")
    x = np.array([0.5, -1.0, 2.0, 0.25])
    for _ in range(3):
        np.testing.assert_allclose(gradient(x), diffcompare.grad(natural_rosenbrock)(x), rtol=1e-15)
    assert counted.calls == 1


def test_symbolic_vector_with_a_singular_operation_keeps_the_numpy_check():
    # a traced divisor: SymPy may simplify the singularity away, so numpy checks each call
    counted = CountingFunction(lambda x, xp: xp.sum(x / (1.0 + x * x)))
    gradient = diffcompare.grad(counted, "symbolic_vector")
    x = np.array([0.5, -1.0])
    for calls in (2, 3, 4):
        gradient(x)
        assert counted.calls == calls


def test_symbolic_vector_refuses_an_overflow_from_its_own_value_without_warnings():
    counted = CountingFunction(lambda x, xp: xp.sum(xp.exp(x)))
    gradient = diffcompare.grad(counted, "symbolic_vector")
    gradient(np.array([0.0, 1.0]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the waves run with numpy's warnings off
        with pytest.raises(ValueError, match=r"f\(x\) is inf at x = \[1000.0, 0.0\]"):
            gradient(np.array([1000.0, 0.0]))
        # grad hands any error to the numpy check, whose words come first: one more call
        assert counted.calls == 2
        # the method's own refusal, before numpy is asked
        prepared = METHODS["symbolic_vector"].prepare(counted, 2)
        with pytest.raises(ValueError, match=r"f\(x\) is inf at x = \[1000.0, 0.0\]"):
            prepared.checked(np.array([1000.0, 0.0]), refuse_singular)
    assert counted.calls == 3  # the second trace
