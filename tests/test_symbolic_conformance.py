"""One function, one meaning: the symbolic methods and the reference agree with the tape.

Each record is a construct the methods once treated differently (issue 12): the SymPy
methods (``symbolic``, ``symbolic_vector``, ``symengine``), the array-level symbolic
method (``symbolic_array``, whose comparisons are symbolic conditions too) and the
50-digit reference must each give the expected gradient, which is the tape's, or refuse
the construct by name.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field

import numpy as np
import pytest
from conftest import HAVE_SYMENGINE

import diffcompare
from diffcompare.methods import METHODS

SYMPY_METHODS = ("symbolic", "symbolic_vector", *(("symengine",) if HAVE_SYMENGINE else ()), "symbolic_array")


@dataclass(frozen=True)
class Construct:
    """A function, points and the gradient every method must give there.

    Attributes
    ----------
    f : callable
        ``f(x, xp)``.
    points : tuple of (point, expected gradient)
        Expected gradients hold the project's conventions (ties share equally, the
        limit 0 for ``d/dy 0**y``) and are the tape's.
    refused_by : dict
        Method -> pattern of the ``NotImplementedError`` with which it declines ``f``.
    """

    f: object
    points: tuple
    refused_by: dict = field(default_factory=dict)


def _logaddexp(x, xp):
    # numpy's own formula for logaddexp: smooth, though written with a kink and a tie
    a, b = x[0], x[1]
    return xp.maximum(a, b) + xp.log1p(xp.exp(-xp.abs(a - b)))


_VECTOR_CONDITION = (
    r"does not support 'greater': the vectorised form cannot express it: a comparison of traced values"
)

# fmt: off
CONSTRUCTS = {
    "asarray of traced scalars": Construct(
        lambda x, xp: xp.sum(xp.sin(xp.asarray([x[0], x[1]]))) + x[2],
        (([0.5, 1.0, 2.0], [np.cos(0.5), np.cos(1.0), 1.0]),),
        {"symbolic_vector": "does not support 'asarray': the vectorised form cannot express it"},
    ),
    "asarray of traced scalars and constants": Construct(
        lambda x, xp: xp.sum(xp.asarray([[x[0], 2.0], [x[1], x[0]]]) ** 2),
        (([3.0, 0.5], [12.0, 1.0]),),
        {"symbolic_vector": "does not support 'asarray': the vectorised form cannot express it"},
    ),
    "constant boolean mask": Construct(
        lambda x, xp: xp.sum(np.array([True, False, True]) * x),
        (([1.0, 2.0, 3.0], [1.0, 0.0, 1.0]),),
    ),
    "count of comparisons": Construct(
        lambda x, xp: xp.sum(x > 0) * xp.sum(x),
        (([1.0, -2.0, 3.0], [2.0, 2.0, 2.0]), ([-1.0, -2.0, 3.0], [1.0, 1.0, 1.0])),
        {"symbolic_vector": _VECTOR_CONDITION},
    ),
    "comparison times x": Construct(
        lambda x, xp: xp.sum((x > 0) * x) + xp.sum(x * (x <= 1.5) * 2.0),
        (([1.0, -2.0, 3.0], [3.0, 2.0, 1.0]), ([0.0, 1.5, 2.0], [2.0, 3.0, 1.0])),
        {"symbolic_vector": _VECTOR_CONDITION},
    ),
    "a comparison is xp.where(c, 1.0, 0.0)": Construct(
        lambda x, xp: xp.sum(xp.exp(x) * (x[0] > x[1])) + xp.sum(xp.where(x > 0, 1.0, 0.0) * x),
        (([1.0, 0.5], [np.exp(1.0) + 1.0, np.exp(0.5) + 1.0]), ([-0.5, 1.0], [0.0, 1.0])),
        {"symbolic_vector": "cannot express"},
    ),
    "0 ** y": Construct(
        lambda x, xp: x[0] ** x[1],
        (([0.0, 2.0], [0.0, 0.0]), ([0.0, 1.0], [1.0, 0.0]), ([0.0, 3.5], [0.0, 0.0]),
         ([2.0, 3.0], [12.0, 8.0 * np.log(2.0)])),
    ),
    "a difference to the power y": Construct(
        lambda x, xp: (x[0] - x[1]) ** x[2] + x[1],
        (([1.5, 1.5, 2.5], [0.0, 1.0, 0.0]), ([3.0, 1.0, 2.0], [4.0, -3.0, 4.0 * np.log(2.0)])),
    ),
    "maximum and minimum at a tie": Construct(
        lambda x, xp: xp.maximum(x[0], x[1]) + 3.0 * xp.minimum(x[1], x[2]),
        (([1.0, 1.0, 1.0], [0.5, 2.0, 1.5]), ([2.0, 1.0, 1.0], [1.0, 1.5, 1.5]),
         ([1.0, 2.0, 3.0], [0.0, 4.0, 0.0])),
    ),
    "relu at 0": Construct(
        lambda x, xp: xp.sum(xp.maximum(x, 0.0) * 3.0),
        (([0.0, -1.0, 2.0], [1.5, 0.0, 3.0]),),
    ),
    "logaddexp by numpy's formula": Construct(
        _logaddexp,
        (([1.0, 1.0], [0.5, 0.5]), ([0.0, 0.0], [0.5, 0.5]),
         ([1.0, 0.0], [1.0 / (1.0 + np.exp(-1.0)), 1.0 / (1.0 + np.exp(1.0))])),
    ),
    "max reduction at a tie": Construct(
        lambda x, xp: xp.max(x) * 6.0,
        (([1.0, 1.0, 0.0], [3.0, 3.0, 0.0]), ([2.0, 2.0, 2.0], [2.0, 2.0, 2.0]),
         ([0.0, 5.0, 5.0], [0.0, 3.0, 3.0]), ([1.0, 3.0, 2.0], [0.0, 6.0, 0.0])),
    ),
    "abs at 0": Construct(
        lambda x, xp: xp.sum(xp.abs(x) * 2.0),
        (([0.0, -1.0], [0.0, -2.0]),),
    ),
    "numpy's max of a traced value": Construct(
        lambda x, xp: np.max(x) + x.max() + np.amax(x * 2.0),
        (([1.0, 2.0, 0.0], [0.0, 4.0, 0.0]), ([2.0, 2.0, 0.0], [2.0, 2.0, 0.0])),
    ),
    "shape queries and copies": Construct(
        lambda x, xp: xp.sum(x.ravel() * np.ndim(x) * np.shape(x)[0]) + xp.sum(x.flatten()**2) + x.copy()[0],
        (([1.0, 2.0, 3.0], [6.0, 7.0, 9.0]),),
    ),
}
# fmt: on

CASES = [(name, method) for name in CONSTRUCTS for method in (*SYMPY_METHODS, "reference")]


def _gradient(method: str, f, point: np.ndarray) -> np.ndarray:
    if method == "reference":
        result = diffcompare.reference_gradient(f, point)
        assert result.status == "ok", result.message
        return result.value
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # numpy.select evaluates every branch
        return METHODS[method].prepare(f, point.size).gradient(point)


@pytest.mark.parametrize(("name", "method"), CASES)
def test_every_sympy_method_and_the_reference_give_the_conventional_gradient(name, method):
    construct = CONSTRUCTS[name]
    refusal = construct.refused_by.get(method)
    for point, expected in construct.points:
        point = np.array(point)
        if refusal is not None:
            with pytest.raises(NotImplementedError, match=refusal):
                _gradient(method, construct.f, point)
            continue
        np.testing.assert_allclose(
            _gradient(method, construct.f, point), expected, rtol=1e-15, atol=0, err_msg=f"{name} at {point}"
        )


# ---------------------------------------------------------------------------------------
# Refused by name everywhere: numpy functions that are not operations of xp.
# ---------------------------------------------------------------------------------------

# fmt: off
NOT_OPERATIONS = {
    "x.cumprod()":  (lambda x, xp: xp.sum(x.cumprod()), "cumprod"),
    "np.cumprod":   (lambda x, xp: xp.sum(np.cumprod(x)), "cumprod"),
}
# fmt: on


@pytest.mark.parametrize("method", SYMPY_METHODS)
@pytest.mark.parametrize("name", list(NOT_OPERATIONS))
def test_numpy_reductions_that_are_not_operations_are_refused_by_name(name, method):
    f, op = NOT_OPERATIONS[name]
    with pytest.raises(NotImplementedError, match=rf"\b{op}\b"):
        METHODS[method].prepare(f, 3).gradient(np.array([1.0, 2.0, 3.0]))


@pytest.mark.parametrize("name", list(NOT_OPERATIONS))
def test_the_reference_refuses_them_with_a_status_naming_them(name):
    f, op = NOT_OPERATIONS[name]
    result = diffcompare.reference_gradient(f, [1.0, 2.0, 3.0])
    assert result.status == "error" and result.value is None
    # NotImplementedError, or its subclass UnsupportedOperationError naming the method
    assert re.search(r"(NotImplementedError|UnsupportedOperationError): ", result.message)
    assert op in result.message
