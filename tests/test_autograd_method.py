"""The autograd method on what autograd alone does differently from the other tracers."""

from __future__ import annotations

import autograd
import autograd.numpy as anp
import numpy as np
import pytest
from autograd.numpy.numpy_boxes import ArrayBox

import diffcompare
from diffcompare.methods import METHODS
from diffcompare.methods.autograd.namespace import as_traced, autograd_namespace

X = np.array([0.5, -1.5, 2.0])


# autograd warns that the output does not depend on the input: that is the point here
@pytest.mark.filterwarnings("ignore:Output seems independent of input")
@pytest.mark.parametrize(
    "f",
    [
        lambda x, xp: xp.sum(x > 0.0),  # numpy int64
        lambda x, xp: xp.sum(x > 0.0) > 1,  # numpy bool
        lambda x, xp: len(x),  # Python int
        lambda x, xp: 2.5,
    ],
    ids=["int64", "bool", "int", "float"],
)
def test_a_result_that_does_not_depend_on_x_has_gradient_zero(f):
    got = diffcompare.grad(f, method="autograd")(X)
    np.testing.assert_array_equal(got, np.zeros(3))
    assert got.dtype == np.float64


# Constructs on values f computed (not only on x itself): every value autograd traces
# must answer copy() and numpy's functions as the tape's do.
# fmt: off
ON_INTERMEDIATE_VALUES = {
    "copy_method":        lambda x, xp: xp.sum((2.0 * x).copy() * x),
    "copy_of_transpose":  lambda x, xp: xp.sum(x.reshape(3, 1).T.copy() * x),
    "copy_of_element":    lambda x, xp: x[0].copy() * np.copy(x[1]),
    "copy_of_iterated":   lambda x, xp: sum(xi.copy() * xi for xi in x),
    "np_copy":            lambda x, xp: xp.sum(np.copy(xp.sin(x)) * x),
    "np_copy_of_ufunc":   lambda x, xp: np.sum(np.copy(np.maximum(x, 0.0)) * x),
    "np_ravel":           lambda x, xp: xp.sum(np.ravel(xp.reshape(x * x, (3, 1))) * x),
    "np_dot":             lambda x, xp: np.dot(x * 2.0, x),
    "np_concatenate":     lambda x, xp: xp.sum(np.concatenate([x, x * 2.0]) ** 2),
    "np_where":           lambda x, xp: xp.sum(np.where(x > 0.0, xp.exp(x), 0.0)),
    "np_shape_of_result": lambda x, xp: xp.sum(x * x) * np.shape(x[1:])[0],
}
# fmt: on


@pytest.mark.parametrize("f", ON_INTERMEDIATE_VALUES.values(), ids=ON_INTERMEDIATE_VALUES.keys())
def test_constructs_on_computed_values_agree_with_the_tape(f):
    expected = diffcompare.grad(f, method="tape")(X)
    got = diffcompare.grad(f, method="autograd")(X)
    np.testing.assert_allclose(got, expected, rtol=1e-14, atol=1e-15)
    assert got.dtype == np.float64


def test_every_value_f_computes_from_x_is_a_traced_box():
    seen = []

    def f(x, xp):
        values = [
            x,
            x * 2.0,
            2.0 - x,
            -x,
            abs(x),
            x[0],
            x[1:],
            x @ x,
            x.T,
            np.sin(x),
            xp.exp(x),
            x.sum(),
            x.reshape(3, 1),
            xp.stack([x[0], x[1]]),
            np.sum(x),
            x.copy(),
            np.copy(x),
        ]
        seen.extend(values)
        return xp.sum(x)

    METHODS["autograd"].prepare(f, X.size).gradient(X)  # not grad(): it evaluates f with numpy first
    assert [type(value).__name__ for value in seen] == ["TracedArrayBox"] * len(seen)


def test_numpy_functions_outside_xp_are_refused_by_name():
    for function, name in [(np.cumprod, "numpy.cumprod")]:
        gradient = diffcompare.grad(lambda x, xp, fn=function: xp.sum(fn(x * 2.0)), method="autograd")
        with pytest.raises(NotImplementedError, match=f"autograd does not support '{name}': it is no op"):
            gradient(X)


@pytest.mark.parametrize(
    "f",
    [lambda x, xp: xp.sum(np.asarray([x[0], x[1]]) * x[:2]), lambda x, xp: xp.sum(np.array(x * 2.0))],
    ids=["asarray_of_traced_scalars", "array_of_traced_array"],
)
def test_converting_a_traced_value_to_a_numpy_array_is_refused(f):
    # numpy would build an object array of boxes, whose derivative autograd loses
    with pytest.raises(TypeError, match="traced by autograd cannot be converted to a numpy array"):
        diffcompare.grad(f, method="autograd")(X)


def test_plain_values_pass_through_the_namespace_unboxed():
    # the namespace also evaluates f on plain arrays: nothing to re-class there
    value = autograd_namespace.sum(autograd_namespace.sin(X) * X)
    assert type(value) is np.float64
    assert as_traced(X) is X and as_traced(2.5) == 2.5


def test_autograd_itself_still_boxes_as_array_box():
    # diffcompare's box is registered for its own class only: autograd.grad called
    # directly traces with plain ArrayBox, without the copy/__array_function__ additions
    seen = []

    def f(x):
        seen.append(x)
        return anp.sum(x * x)

    np.testing.assert_array_equal(autograd.grad(f)(X), 2.0 * X)
    assert type(seen[0]) is ArrayBox and not hasattr(seen[0], "copy")
    assert not hasattr(ArrayBox, "__array_function__")


@pytest.mark.parametrize(
    "f",
    [lambda x, xp: (x * x).prod(), lambda x, xp: xp.prod(x * x, axis=0), lambda x, xp: np.prod(x * x)],
    ids=["method", "namespace_with_axis", "numpy_function"],
)
def test_prod_of_any_traced_value_is_the_namespace_prod_right_at_a_zero(f):
    # autograd's own prod rule, g * ans / x, is 0/0 at a zero factor; the namespace's
    # prod (also x.prod() and np.prod(x)) takes the products of the other factors.
    # d/dx_i prod(x_j^2) = 2 x_i prod_{j != i} x_j^2: at (0, 2, 3) only x_0 moves nothing.
    x = np.array([0.0, 2.0, 3.0])
    np.testing.assert_array_equal(diffcompare.grad(f, method="autograd")(x), [0.0, 0.0, 0.0])
    np.testing.assert_array_equal(diffcompare.grad(f, method="autograd")(X), 2.0 * np.prod(X**2) / X)


def test_array_methods_outside_xp_are_missing_for_hasattr_as_on_the_tape():
    answers = []

    def f(x, xp):
        answers.append((hasattr(x, "cumprod"), hasattr(x, "prod")))
        return xp.sum(x)

    METHODS["autograd"].prepare(f, X.size).gradient(X)
    assert answers == [(True, True)]  # autograd's cumprod is its own, prod the namespace's


def test_autograd_itself_still_differentiates_prod():
    # the refusal is diffcompare's, on its own box class: autograd's ArrayBox keeps prod
    np.testing.assert_allclose(autograd.grad(lambda x: x.prod())(X), [-3.0, 1.0, -0.75], rtol=1e-15)


# f that calls autograd.numpy itself gets plain ArrayBox values, which numpy turns into
# object arrays of boxes: the derivatives through those elements are lost (with "+ x"
# autograd returned 1 for each coordinate instead of 2).
# fmt: off
OUTSIDE_XP = {
    "times_x": lambda x, xp: xp.sum(np.copy(anp.multiply(x, 1.0)) * x),
    "plus_x":  lambda x, xp: xp.sum(np.copy(anp.multiply(x, 1.0)) + x),
}
# fmt: on


@pytest.mark.parametrize("f", OUTSIDE_XP.values(), ids=OUTSIDE_XP.keys())
def test_boxes_inside_an_object_array_are_refused_rather_than_a_wrong_gradient(f):
    with pytest.raises(NotImplementedError, match="object array of boxes and the gradient would be wrong"):
        diffcompare.grad(f, method="autograd")(X)
