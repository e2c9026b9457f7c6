"""The tape's graph walk: ordering, accumulation, broadcasting, depth, failure modes."""

from __future__ import annotations

import numpy as np
import pytest

import diffcompare
from diffcompare.methods.forward.dual import Dual
from diffcompare.methods.tape.engine import Node, apply, backward, unbroadcast
from diffcompare.methods.tape.method import tape_gradient
from diffcompare.methods.tape.namespace import tape_namespace as xp


def test_a_node_used_twice_accumulates_both_paths():
    x = Node(np.array(3.0))
    y = x * x + x  # dy/dx = 2x + 1
    assert backward(y)[x] == 7.0


def test_diamond_graph_sums_incoming_gradients():
    x = Node(np.array([1.0, 2.0]))
    a = xp.sin(x)
    b = xp.cos(x)
    y = xp.sum(a * b + a)  # d/dx = cos(2x) + cos(x)
    np.testing.assert_allclose(backward(y)[x], np.cos(2 * x.value) + np.cos(x.value), rtol=1e-15)


def test_a_100000_node_chain_needs_no_recursion():
    x = Node(np.array([1.0, 2.0]))
    y = x
    for _ in range(100_000):
        y = y + 1.0
    grad = backward(xp.sum(y))[x]
    np.testing.assert_array_equal(grad, [1.0, 1.0])


def test_walk_order_is_deterministic():
    def grads():
        x = Node(np.array([0.1, 0.2, 0.3]))
        y = xp.sum(xp.exp(x) * x[::-1] + xp.tanh(x) ** 2)
        return backward(y)[x]

    np.testing.assert_array_equal(grads(), grads())


@pytest.mark.parametrize(
    ("grad_shape", "target", "expected"),
    [
        ((2, 3), (3,), [2.0, 2.0, 2.0]),
        ((2, 3), (1, 3), [[2.0, 2.0, 2.0]]),
        ((2, 3), (2, 1), [[3.0], [3.0]]),
        ((4, 2, 3), (2, 1), [[12.0], [12.0]]),
        ((2, 3), (), 6.0),
    ],
)
def test_unbroadcast_sums_exactly_the_broadcast_axes(grad_shape, target, expected):
    result = unbroadcast(np.ones(grad_shape), target)
    assert result.shape == target
    np.testing.assert_array_equal(result, expected)


def test_broadcasting_in_the_forward_pass_is_undone():
    a = Node(np.ones((3, 1)))
    b = Node(np.arange(4.0))
    grads = backward(xp.sum(a * b))
    np.testing.assert_array_equal(grads[a], np.full((3, 1), 6.0))
    np.testing.assert_array_equal(grads[b], np.full(4, 3.0))


def test_numpy_arrays_on_the_left_and_numpy_ufuncs_are_recorded():
    x = Node(np.array([0.5, 1.5]))
    y = np.array([2.0, 3.0]) * x + np.exp(x)
    np.testing.assert_allclose(backward(xp.sum(y))[x], [2.0, 3.0] + np.exp(x.value), rtol=1e-15)


def test_comparisons_give_plain_booleans_so_python_branches_work():
    def f(x, xp):
        return x[0] ** 2 if x[0] > 0 else -x[0]

    np.testing.assert_array_equal(diffcompare.grad(f, "tape")([3.0, 1.0]), [6.0, 0.0])
    np.testing.assert_array_equal(diffcompare.grad(f, "tape")([-3.0, 1.0]), [-1.0, 0.0])


def test_an_operation_without_a_rule_names_itself():
    x = Node(np.array([0.5, 1.5]))
    with pytest.raises(NotImplementedError, match="cbrt"):
        np.cbrt(x)
    with pytest.raises(NotImplementedError, match="no derivative rule for operation 'spacing'"):
        apply("spacing", x)


def test_unknown_namespace_operations_raise_not_implemented_naming_them():
    def f(x, xp):
        return xp.linalg.qr(xp.reshape(x, (2, 2)))[1][0, 0]

    with pytest.raises(NotImplementedError, match="tape does not support 'linalg.qr'"):
        diffcompare.grad(f, "tape")([1.0, 2.0, 3.0, 4.0])


def test_detaching_a_traced_value_is_refused():
    x = Node(np.array([0.5, 1.5]))
    with pytest.raises(TypeError, match="detach"):
        float(x[0])
    with pytest.raises(TypeError, match="detach"):
        np.asarray(x)


def test_constant_function_has_zero_gradient():
    np.testing.assert_array_equal(diffcompare.grad(lambda x, xp: 3.0, "tape")([1.0, 2.0]), [0.0, 0.0])


def test_node_methods_match_namespace_functions():
    x = Node(np.arange(6.0).reshape(2, 3))
    y = x.sum(axis=0).mean() + x.T.max() + x.reshape(3, 2)[1, 0] + x.transpose(1, 0)[2, 1]
    grad = backward(y)[x]
    expected = np.full((2, 3), 1.0 / 3.0)  # mean of the 3 column sums
    expected[1, 2] += 1.0  # max and transpose[2, 1]
    expected[1, 2] += 1.0
    expected[0, 2] += 1.0  # reshape(3, 2)[1, 0] is element 2
    np.testing.assert_allclose(grad, expected, rtol=1e-15)


# The operators and array methods live in diffcompare.ops.traced, shared by the tape's nodes
# and forward mode's dual numbers: each test below runs on both.
TRACED_LEAVES = {
    "tape": lambda value: Node(value),
    "forward": lambda value: Dual(value, np.eye(value.size).reshape((value.size,) + value.shape)),
}


@pytest.mark.parametrize("leaf", TRACED_LEAVES.values(), ids=TRACED_LEAVES.keys())
def test_shape_questions_read_the_plain_value(leaf):
    x = leaf(np.arange(6.0).reshape(2, 3))
    assert (np.shape(x), np.ndim(x), np.size(x), np.size(x, 1), len(x)) == ((2, 3), 2, 6, 3, 2)
    assert (np.shape(x[0, 1]), np.ndim(x[0, 1])) == ((), 0)


@pytest.mark.parametrize("leaf", TRACED_LEAVES.values(), ids=TRACED_LEAVES.keys())
def test_ravel_flatten_and_copy_keep_the_derivative(leaf):
    x = leaf(np.arange(6.0).reshape(2, 3))
    for flat in (x.ravel(), x.flatten(), np.ravel(x), x.T.ravel()[np.argsort(x.value.T.ravel())]):
        assert type(flat) is type(x)
        np.testing.assert_array_equal(flat.value, np.arange(6.0))
    assert x.copy() is x and np.copy(x) is x  # traced values are never changed in place
    with pytest.raises(NotImplementedError, match="C order only.*order='F'"):
        x.ravel("F")


@pytest.mark.parametrize("leaf", TRACED_LEAVES.values(), ids=TRACED_LEAVES.keys())
def test_array_methods_without_an_operation_are_refused_by_name(leaf):
    x = leaf(np.array([1.0, 2.0]))
    for call, name in [
        (lambda: x.cumprod(), "cumprod"),
        (lambda: x.nonzero(), "nonzero"),
        (lambda: x.real, "real"),
    ]:
        with pytest.raises(NotImplementedError, match=f"does not support 'numpy.ndarray.{name}'"):
            call()
    assert not hasattr(x, "cumprod")  # still an AttributeError for hasattr
    with pytest.raises(AttributeError, match="no attribute 'not_a_method'") as caught:
        x.not_a_method  # noqa: B018
    assert not isinstance(caught.value, NotImplementedError)


def test_transpose_accepts_a_tuple_and_numpy_comparisons_are_plain():
    x = Node(np.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(x.transpose((1, 0)).value, x.value.T)
    np.testing.assert_array_equal(x.transpose(1, 0).value, x.value.T)
    np.testing.assert_array_equal(np.full((2, 3), 2.5) < x, 2.5 < x.value)


def test_slices_and_shared_gradients_are_summed_not_overwritten():
    # x[[0, 0, 1]] repeats index 0 (np.add.at), x[1:] is a basic slice (added in place
    # into one buffer), and x + x hands the same gradient array to both arguments: an
    # in-place sum into that shared array would corrupt the other one.
    def f(x, xp):
        doubled = x + x
        return xp.sum(x[np.array([0, 0, 1])]) + 2.0 * xp.sum(x[1:]) + xp.sum(doubled * 3.0) + xp.sum(x[:1])

    x = np.array([0.5, -1.0, 2.0])
    np.testing.assert_array_equal(tape_gradient(f, x), [2.0 + 6.0 + 1.0, 1.0 + 2.0 + 6.0, 2.0 + 6.0])


def _small_graph():
    x = Node(np.array([0.5, -1.0, 2.0]))
    hidden = xp.tanh(x[:2] * x[1:] + 1.0)
    return x, hidden, xp.sum(hidden * hidden) + x[0]


def test_a_released_walk_gives_the_same_gradient_and_frees_the_values():
    x, hidden, out = _small_graph()
    kept = backward(out)[x]
    np.testing.assert_array_equal(backward(out)[x], kept)  # kept: a second walk works
    x2, hidden2, out2 = _small_graph()
    released = backward(out2, release=True)[x2]
    np.testing.assert_array_equal(released, kept)
    # every node the walk passed gave up its value and saved inputs; the leaf did not
    assert hidden2.value is None and hidden2.saved is None and out2.value is None
    assert x2.value is not None and hidden.value is not None


def test_lists_of_traced_values_are_stacked_by_apply():
    # the namespace's operations are apply itself: the list check lives there
    x = Node(np.array([1.0, 2.0]))
    y = xp.sum(xp.multiply([x[0], x[1]], [3.0, 4.0]))  # a list of nodes and a list of numbers
    np.testing.assert_array_equal(backward(y)[x], [3.0, 4.0])
    assert apply("sum", [1.0, 2.0]) == 3.0  # nothing traced: a plain value
