"""Named parameter blocks: ``shapes=`` in the oracle, and the layout behind it."""

import re

import numpy as np
import pytest

from diffcompare import assert_grad_correct, assert_jacobian_correct, check_grad, check_jacobian
from diffcompare.oracle.blocks import ParameterBlocks
from diffcompare.oracle.checker import GradChecker

MLP = {"W1": (784, 128), "b1": (128,), "W2": (128, 10), "b2": (10,)}


# -- the layout ----------------------------------------------------------------------------


def test_known_names_of_an_mlp_layout():
    blocks = ParameterBlocks.from_shapes(MLP, size=101770)
    assert blocks.sizes == (100352, 128, 1280, 10)
    assert blocks.offsets == (0, 100352, 100480, 101760)
    assert blocks.name(0) == "W1[0, 0]"
    assert blocks.name(3 * 128 + 17) == "W1[3, 17]"
    assert blocks.name(2705) == "W1[21, 17]"
    assert blocks.name(100351) == "W1[783, 127]"
    assert blocks.name(100352) == "b1[0]"
    assert blocks.name(100480) == "W2[0, 0]"
    assert blocks.name(100480 + 4 * 10 + 7) == "W2[4, 7]"
    assert blocks.name(101769) == "b2[9]"  # the last element


@pytest.mark.parametrize(
    "shapes",
    [
        {"W": (3, 4), "b": (4,)},
        {"T": (2, 3, 4), "s": (), "v": (5,)},
        {"a": (), "b": (), "c": ()},
        {"empty": (0,), "W": (2, 2), "none": (3, 0), "b": (1,)},
    ],
    ids=["matrix_vector", "tensor_scalar_vector", "scalars", "empty_blocks"],
)
def test_names_follow_c_order_concatenation(shapes):
    # Each block holds its own flat positions, concatenated the way users build x.
    blocks = ParameterBlocks.from_shapes(shapes)
    arrays, start = {}, 0
    for name, shape in shapes.items():
        size = int(np.prod(shape))
        arrays[name] = np.arange(start, start + size).reshape(shape)
        start += size
    x = np.concatenate([a.ravel() for a in arrays.values()])
    assert blocks.size == x.size
    for k in range(x.size):
        block, inner = blocks.locate(k)
        assert arrays[block][inner] == k
        expected = f"{block}[{', '.join(map(str, inner))}]" if inner else block
        assert blocks.name(k) == expected
    unflat = blocks.unflatten(x)
    assert list(unflat) == list(shapes)
    for name in shapes:
        np.testing.assert_array_equal(unflat[name], arrays[name])


def test_scalar_blocks_have_plain_names():
    blocks = ParameterBlocks.from_shapes({"scale": (), "W": (2, 2), "bias": ()})
    assert [blocks.name(k) for k in range(6)] == ["scale", "W[0, 0]", "W[0, 1]", "W[1, 0]", "W[1, 1]", "bias"]
    assert blocks.unflatten(np.arange(6.0))["bias"].shape == ()


def test_indices_outside_the_layout_are_refused():
    blocks = ParameterBlocks.from_shapes({"W": (2, 2)})
    with pytest.raises(IndexError, match=r"flat index 4 is outside 0 \.\. 3"):
        blocks.name(4)
    with pytest.raises(IndexError, match="flat index -1"):
        blocks.name(-1)
    with pytest.raises(ValueError, match=r"x must have shape \(4,\) to unflatten; got shape \(5,\)"):
        blocks.unflatten(np.zeros(5))


@pytest.mark.parametrize(
    "shapes, error, message",
    [
        (
            [("W", (2, 2))],
            TypeError,
            "shapes must be a dict name -> shape, such as {'W': (3, 2), 'b': (2,)}; got list",
        ),
        ({}, ValueError, "shapes must name at least one block; got an empty dict"),
        ({1: (2,)}, TypeError, "shapes must have str names; got 1 (int)"),
        ({"": (2,)}, ValueError, "shapes must have non-empty names; got ''"),
        (
            {"b": 4},
            TypeError,
            "shapes['b'] must be a tuple of ints, () for a scalar; got 4; write (4,) for a vector",
        ),
        ({"W": [2, 2]}, TypeError, "shapes['W'] must be a tuple of ints, () for a scalar; got [2, 2]"),
        ({"W": (2.0, 2)}, TypeError, "shapes['W'] must be a tuple of ints, () for a scalar; got (2.0, 2)"),
        ({"W": (True, 2)}, TypeError, "shapes['W'] must be a tuple of ints, () for a scalar; got (True, 2)"),
        ({"W": (2, -2)}, ValueError, "shapes['W'] must have non-negative sizes; got (2, -2)"),
        (
            {"W": (2, 2), "b": (2,)},
            ValueError,
            "shapes describe 6 values (W (2, 2): 4, b (2,): 2), but x has 5 components",
        ),
    ],
    ids=[
        "not_a_dict",
        "empty",
        "int_name",
        "empty_name",
        "int_shape",
        "list_shape",
        "float",
        "bool",
        "negative",
        "size",
    ],
)
def test_bad_shapes_have_one_message_each(shapes, error, message):
    with pytest.raises(error) as caught:
        ParameterBlocks.from_shapes(shapes, size=5)
    assert str(caught.value) == message
    # the oracle checks them before f is ever called
    calls = []

    def f(x):
        calls.append(x)
        return float(np.sum(x**2))

    with pytest.raises(error) as caught:
        check_grad(f, lambda x: 2 * x, np.linspace(0.5, 1.5, 5), shapes=shapes)
    assert str(caught.value) == message and calls == []


def test_numpy_integers_and_array_shapes_are_accepted():
    W = np.zeros((3, 2))
    blocks = ParameterBlocks.from_shapes({"W": W.shape, "b": (np.int64(2),)}, size=8)
    assert blocks.name(7) == "b[1]" and blocks.shapes == ((3, 2), (2,))


# -- names in the oracle's results and messages --------------------------------------------


def cube_sum(x):
    return np.sum(x**3) / 3


def wrong_at(*flat_indices, by=1e-3):
    def grad(x):
        g = x**2
        g[list(flat_indices)] *= 1 + by
        return g

    return grad


SMALL = {"W": (3, 4), "b": (4,), "scale": ()}  # 17 components: full mode
X_SMALL = np.linspace(0.5, 2.1, 17)


def test_full_mode_names_every_mismatch_and_keeps_flat_indices():
    result = check_grad(cube_sum, wrong_at(6, 14, 16, by=0.1), X_SMALL, shapes=SMALL)
    assert result.verdict == "fail"
    assert [(m.index, m.name) for m in result.mismatches] == [(16, "scale"), (14, "b[2]"), (6, "W[1, 2]")]
    assert (result.index, result.name) == (16, "scale")
    assert "worst component scale: claimed" in str(result)
    message = result.message()
    table = message.split("rel error\n", 1)[1]
    assert [line.split()[0] for line in table.splitlines()[:3]] == ["scale", "b[2]", "W[1,"]
    assert re.search(r"^\s+W\[1, 2\]\s+", table, re.MULTILINE)
    assert "Repro: x = np.array([0.5, 0.6, " in message  # the repro line stays flat
    without = check_grad(cube_sum, wrong_at(6, 14, 16, by=0.1), X_SMALL)
    assert [m.index for m in without.mismatches] == [16, 14, 6]
    assert all(m.name is None for m in without.mismatches) and without.name is None


def test_fast_mode_names_the_isolated_components():
    shapes = {"W1": (20, 10), "b1": (10,), "w2": (10,)}  # 220 components: fast mode
    x = np.random.default_rng(5).uniform(0.5, 2.0, 220)
    result = check_grad(cube_sum, wrong_at(7 * 10 + 3, 215), x, shapes=shapes)
    assert result.mode == "fast" and result.verdict == "fail"
    assert sorted((m.index, m.name) for m in result.mismatches) == [(73, "W1[7, 3]"), (215, "w2[5]")]


def test_assertion_messages_name_the_component():
    with pytest.raises(AssertionError, match=r"worst component b\[2\]: claimed"):
        assert_grad_correct(cube_sum, wrong_at(14), X_SMALL, shapes=SMALL)
    checker = GradChecker()  # the pytest fixture's object forwards shapes= too
    assert checker.check(cube_sum, wrong_at(3), X_SMALL, shapes=SMALL).name == "W[0, 3]"
    with pytest.raises(AssertionError, match=r"worst component W\[0, 3\]"):
        checker.assert_correct(cube_sum, wrong_at(3), X_SMALL, shapes=SMALL)


def layer(x):
    W, b = x[:6].reshape(2, 3), x[6:]
    return np.tanh(W @ np.array([0.5, -1.0, 2.0]) + b)


def layer_jacobian(x):
    W, b = x[:6].reshape(2, 3), x[6:]
    slope = 1 - np.tanh(W @ np.array([0.5, -1.0, 2.0]) + b) ** 2
    jacobian = np.zeros((2, 8))
    for row in range(2):
        jacobian[row, 3 * row : 3 * row + 3] = slope[row] * np.array([0.5, -1.0, 2.0])
        jacobian[row, 6 + row] = slope[row]
    return jacobian


def test_jacobian_columns_are_named_and_rows_kept():
    x = np.linspace(-0.4, 0.3, 8)
    shapes = {"W": (2, 3), "b": (2,)}
    assert check_jacobian(layer, layer_jacobian, x, shapes=shapes).passed

    def wrong(x):
        jacobian = layer_jacobian(x)
        jacobian[1, 5] *= 1.01
        return jacobian

    result = check_jacobian(layer, wrong, x, shapes=shapes)
    assert result.verdict == "fail"
    assert (result.index, result.name, result.worst.label) == ((1, 5), "W[1, 2]", "(1, W[1, 2])")
    with pytest.raises(AssertionError, match=r"\n\s*\(1, W\[1, 2\]\)\s+"):
        assert_jacobian_correct(layer, wrong, x, shapes=shapes)


def test_shapes_with_several_points_and_a_box():
    shapes = {"W": (2, 2), "b": ()}
    result = check_grad(cube_sum, wrong_at(4), box=([0.5] * 5, [2.0] * 5), n_points=3, shapes=shapes)
    assert result.verdict == "fail" and all(r.name == "b" for r in result.per_point)
    with pytest.raises(ValueError, match="x has 5 components"):
        check_grad(cube_sum, wrong_at(4), np.ones((3, 5)), shapes={"W": (2, 2), "b": (2,)})


def test_inconclusive_reasons_name_the_block():
    def f(x):
        return np.sum(np.abs(x)) + np.sum(x**2)

    def right_derivative(x):  # a one-sided derivative at the kink of a[0]
        return np.where(x >= 0, 1.0, -1.0) + 2 * x

    x = np.array([0.0, 2.0, 1.0, 1.0])
    result = check_grad(f, right_derivative, x, shapes={"a": (2,), "W": (1, 2)})
    assert result.verdict == "inconclusive" and "kink in coordinate a[0]" in result.reason
