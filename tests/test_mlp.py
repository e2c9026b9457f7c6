"""The MLP model, its SymPy-derived layer rules, and their agreement with the other methods.

Three witnesses check the rules: SymPy itself (derived expressions against
``sympy.diff`` at points), the loss expanded element by element into scalar symbols at
2-3-2 (``diffcompare.methods.symbolic.gradient``), and autograd and the tape at real sizes.  Deliberately
wrong rules must make each comparison fail.
"""

from __future__ import annotations

import dataclasses
import itertools

import mpmath
import numpy as np
import pytest
import sympy

from diffcompare.methods import METHODS
from diffcompare.methods.symbolic.gradient import differentiate
from diffcompare.mlp.model import ACTIVATIONS, LOSSES, MLP
from diffcompare.mlp.symbolic import (
    A,
    MatrixRule,
    Z,
    activation_derivative,
    activation_expression,
    backprop_gradient,
    layer_products,
    layer_rules,
    output_error,
    symbolic_backprop,
)
from diffcompare.ops.numpy_namespace import numpy_namespace
from diffcompare.suite.functions import _data_rng, make_mlp_loss
from diffcompare.truth.accuracy import normwise_relative_error

# Normwise relative error per parameter block, by comparison.
# "exact": rules and witness both evaluated at 40 digits; "float64_witness": the float64
# rules against the 40-digit witness (a few roundings in a handful of terms, ~8 ulp).
TOLERANCE = {"exact": 1e-30, "float64_witness": 4e-15, "methods": 1e-12}

COMBINATIONS = list(itertools.product(ACTIVATIONS, LOSSES))


def block_errors(mlp: MLP, gradient, reference) -> dict[str, float]:
    """Normwise relative error of each parameter block (W1, b1, ...)."""
    return {name: normwise_relative_error(gradient[s], reference[s]) for name, s in mlp.layer_slices()}


def check_blocks(mlp: MLP, gradient, reference, tolerance: float, what: str) -> None:
    errors = block_errors(mlp, gradient, reference)
    bad = {name: err for name, err in errors.items() if not err <= tolerance}
    if bad:
        raise AssertionError(
            f"{what}: {mlp.layers} {mlp.activation} {mlp.loss}: blocks above {tolerance:g}: {bad}"
        )


# --- the model ---------------------------------------------------------------------------


def test_dim_and_slices():
    net = MLP.random((784, 128, 10), "relu", "softmax_cross_entropy", batch=3, seed=0)
    assert net.dim == 784 * 128 + 128 + 128 * 10 + 10 == 101770
    slices = net.layer_slices()
    assert [name for name, _ in slices] == ["W1", "b1", "W2", "b2"]
    assert [s.stop - s.start for _, s in slices] == [784 * 128, 128, 1280, 10]
    assert slices[-1][1].stop == net.dim


def test_flatten_unflatten_round_trip():
    net = MLP.random((5, 7, 6, 3), "tanh", "mse", batch=4, seed=2)
    x = net.random_parameters(seed=3)
    params = net.unflatten(x)
    assert [(w.shape, b.shape) for w, b in params] == [((7, 5), (7,)), ((6, 7), (6,)), ((3, 6), (3,))]
    np.testing.assert_array_equal(net.flatten(params), x)
    # W is row-major (out x in): the second entry of the vector is W1[0, 1].
    assert params[0][0][0, 1] == x[1]


def test_layout_matches_make_mlp_loss():
    # make_mlp_loss draws its data from functions._data_rng(5) and (6).
    f, dim = make_mlp_loss((2, 3, 1), 4)
    inputs = _data_rng(5).standard_normal((4, 2))
    targets = _data_rng(6).standard_normal((4, 1))
    net = MLP((2, 3, 1), "tanh", "mse", inputs, targets)
    x = net.random_parameters(seed=0)
    assert net.dim == dim
    assert net.f(x, numpy_namespace) == f(x, numpy_namespace)


def test_random_is_seeded_and_one_hot():
    a = MLP.random((3, 4, 5), "sigmoid", "softmax_cross_entropy", batch=7, seed=11)
    b = MLP.random((3, 4, 5), "sigmoid", "softmax_cross_entropy", batch=7, seed=11)
    np.testing.assert_array_equal(a.inputs, b.inputs)
    np.testing.assert_array_equal(a.targets, b.targets)
    np.testing.assert_array_equal(a.targets.sum(axis=1), np.ones(7))
    assert set(np.unique(a.targets)) <= {0.0, 1.0}


def test_known_loss_value():
    # One sample, one layer (linear): z = W x + b = [1, 0]; y one-hot on the second class.
    net = MLP((1, 2), "tanh", "softmax_cross_entropy", [[1.0]], [[0.0, 1.0]])
    x = np.array([1.0, 0.0, 0.0, 0.0])
    assert net.f(x, numpy_namespace) == pytest.approx(np.log(np.e + 1.0), rel=1e-15)
    mse = MLP((1, 2), "tanh", "mse", [[1.0]], [[0.0, 1.0]])
    assert mse.f(x, numpy_namespace) == pytest.approx(1.0, rel=1e-15)  # (1 + 1) / 2


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"layers": (3,)}, "layers"),
        ({"layers": (3, 0, 2)}, "layers"),
        ({"layers": (3, 2.5, 2)}, "layers"),
        ({"activation": "softsign"}, "activation"),
        ({"loss": "hinge"}, "loss"),
        ({"inputs": np.zeros((4, 2))}, "inputs"),
        ({"inputs": np.zeros(3)}, "inputs"),
        ({"inputs": np.full((4, 3), np.nan)}, "inputs"),
        ({"targets": np.zeros((4, 5))}, "targets"),
        ({"targets": np.zeros((5, 2))}, "targets"),
    ],
)
def test_bad_arguments(kwargs, name):
    arguments = {
        "layers": (3, 4, 2),
        "activation": "tanh",
        "loss": "mse",
        "inputs": np.zeros((4, 3)),
        "targets": np.zeros((4, 2)),
    }
    with pytest.raises(ValueError, match=name):
        MLP(**{**arguments, **kwargs})


@pytest.mark.parametrize(
    ("kwargs", "name"), [({"batch": 0}, "batch"), ({"seed": -1}, "seed"), ({"batch": True}, "batch")]
)
def test_bad_random_arguments(kwargs, name):
    with pytest.raises(ValueError, match=name):
        MLP.random(**{"layers": (2, 2), "activation": "tanh", "loss": "mse", "batch": 2, "seed": 0, **kwargs})


def test_bad_parameter_vectors():
    net = MLP.random((3, 4, 2), "tanh", "mse", batch=2, seed=0)
    with pytest.raises(ValueError, match="length 26"):
        net.unflatten(np.zeros(25))
    with pytest.raises(ValueError, match="W1"):
        net.flatten([(np.zeros((3, 4)), np.zeros(4)), (np.zeros((2, 4)), np.zeros(2))])
    with pytest.raises(ValueError, match="shape"):
        backprop_gradient(net, np.zeros(25))
    with pytest.raises(ValueError, match="rules"):
        backprop_gradient(net, np.zeros(26), layer_rules("relu", "mse"))


# --- the derivations -----------------------------------------------------------------------

POINTS = (-6.0, -1.5, -0.25, 0.375, 1.0, 4.0)


@pytest.mark.parametrize("name", [*ACTIVATIONS, "linear"])
def test_activation_derivative_matches_sympy_diff_at_points(name):
    """sigma'(a) at a = sigma(z) equals sympy.diff(sigma)(z), at 40 digits."""
    expression = activation_expression(name)
    slope = activation_derivative(name)
    assert slope.free_symbols <= {A}
    direct = sympy.diff(expression, Z)
    for point in POINTS:
        z0 = sympy.Rational(point)
        through_output = slope.subs(A, expression.subs(Z, z0)).evalf(40)
        assert abs(through_output - direct.subs(Z, z0).evalf(40)) < 1e-35, (name, point)


def test_activation_derivatives_known_forms():
    assert sympy.expand(activation_derivative("tanh") - (1 - A**2)) == 0
    assert sympy.expand(activation_derivative("sigmoid") - A * (1 - A)) == 0
    relu = activation_derivative("relu")
    assert [relu.subs(A, v) for v in (2.0, 1e-300, 0.0)] == [1, 1, 0]
    assert activation_derivative("linear") == 1


def test_output_error_known_forms():
    mse = output_error("mse")
    a, y, n, k = mse.arguments
    assert sympy.simplify(mse.expression - 2 * (a - y) / (n * k)) == 0
    assert not mse.uses_softmax
    ce = output_error("softmax_cross_entropy")
    p, y, n = ce.arguments
    assert sympy.simplify(ce.expression - (p - y) / n) == 0
    assert ce.uses_softmax


def test_layer_products_known_forms():
    assert layer_products() == {
        "W": MatrixRule("DT", "A"),
        "b": MatrixRule("1T", "D"),
        "delta": MatrixRule("D", "W", hadamard=True),
    }


def test_rules_print_as_text_and_latex(capsys):
    rules = layer_rules("sigmoid", "softmax_cross_entropy")
    rules.print()
    text = capsys.readouterr().out
    for piece in ("Δ_l^T A_{l-1}", "1^T Δ_l", "(Δ_l W_l) ∘ σ'(A_{l-1})", "softmax", "-a*(a - 1)"):
        assert piece in text
    latex = rules.latex()
    assert latex.startswith("\\begin{aligned}") and latex.endswith("\\end{aligned}")
    assert r"\Delta_l^{\top} A_{l-1}" in latex and r"\odot \sigma'(A_{l-1})" in latex


@pytest.mark.parametrize("name", ["softsign", "linear_output"])
def test_unknown_names_raise(name):
    with pytest.raises(ValueError, match="activation"):
        activation_derivative(name)
    with pytest.raises(ValueError, match="loss"):
        output_error(name)


# --- witness 1: the loss expanded into scalar symbols ------------------------------------------

WITNESS_DIGITS = 40


def _at_points(symbols, expressions, points):
    """Evaluate SymPy expressions at float64 points with mpmath at WITNESS_DIGITS digits."""
    function = sympy.lambdify([symbols], list(expressions), modules="mpmath")
    with mpmath.workdps(WITNESS_DIGITS):
        return [function([mpmath.mpf(float(v)) for v in x]) for x in points]


def _relative_errors(mlp, values, reference):
    """Normwise relative error per block of two lists of mpmath numbers."""
    errors = {}
    for name, s in mlp.layer_slices():
        diff = max(abs(v - r) for v, r in zip(values[s], reference[s], strict=True))
        errors[name] = float(diff / max(abs(r) for r in reference[s]))
    return errors


def check_exact(mlp, values, reference, what="witness"):
    errors = _relative_errors(mlp, values, reference)
    bad = {name: err for name, err in errors.items() if not err <= TOLERANCE["exact"]}
    if bad:
        raise AssertionError(f"{what}: {mlp.layers} {mlp.activation} {mlp.loss}: blocks differ {bad}")


@pytest.fixture(scope="module")
def small_witnesses():
    """At 2-3-2 with a batch of 2, per (activation, loss): the net, seeded points, and
    SymPy's gradient of the loss expanded element by element (``differentiate`` on
    ``net.f``), as expressions and at the points at 40 digits."""
    cases = {}
    for activation, loss in COMBINATIONS:
        net = MLP.random((2, 3, 2), activation, loss, batch=2, seed=7)
        symbols, _, gradient = differentiate(net.f, net.dim)
        points = [net.random_parameters(seed=s) for s in range(3)]
        cases[activation, loss] = (net, points, symbols, _at_points(symbols, gradient, points), gradient)
    return cases


@pytest.mark.parametrize(("activation", "loss"), COMBINATIONS)
def test_rules_agree_with_elementwise_witness(small_witnesses, activation, loss):
    """The matrix-form rules, applied to SymPy symbols, equal the element-by-element
    derivative: at 40 digits they agree to 1e-30 (limited by the evaluation, not by the
    rules); evaluated in float64 they agree with the witness to rounding."""
    net, points, symbols, witnesses, _ = small_witnesses[activation, loss]
    rule_symbols, rule_gradient = symbolic_backprop(net)
    assert rule_symbols == symbols
    for x, rules_value, witness in zip(
        points, _at_points(symbols, rule_gradient, points), witnesses, strict=True
    ):
        check_exact(net, rules_value, witness)
        rounded = np.array([float(w) for w in witness])
        check_blocks(net, backprop_gradient(net, x), rounded, TOLERANCE["float64_witness"], "float64 witness")


def test_rules_equal_witness_symbolically_on_output_layer(small_witnesses):
    """For tanh and mean squared error, the output layer's rules simplify to the
    element-by-element derivative exactly."""
    net, _, _, _, gradient = small_witnesses["tanh", "mse"]
    _, rule_gradient = symbolic_backprop(net)
    output_layer = slice(net.layer_slices()[2][1].start, net.dim)
    for rule, witness in zip(rule_gradient[output_layer], gradient[output_layer], strict=True):
        assert sympy.simplify(rule - witness) == 0


def _wrong_rules(activation, loss, mistake):
    rules = layer_rules(activation, loss)
    if mistake == "transposed_weights":
        return dataclasses.replace(rules, products={**rules.products, "W": MatrixRule("AT", "D")})
    if mistake == "no_activation_slope":
        return dataclasses.replace(rules, products={**rules.products, "delta": MatrixRule("D", "W")})
    if mistake == "wrong_activation":
        # tanh's derivative (1 - a^2) used for a sigmoid network
        return dataclasses.replace(rules, slope=activation_derivative("tanh"))
    if mistake == "error_without_batch_mean":
        n = rules.error.arguments[2]
        return dataclasses.replace(
            rules, error=dataclasses.replace(rules.error, expression=rules.error.expression * n)
        )
    raise ValueError(mistake)


WRONG_RULES = [
    ("tanh", "mse", "transposed_weights"),
    ("tanh", "softmax_cross_entropy", "no_activation_slope"),
    ("sigmoid", "mse", "wrong_activation"),
    ("relu", "softmax_cross_entropy", "error_without_batch_mean"),
]


@pytest.mark.parametrize(("activation", "loss", "mistake"), WRONG_RULES)
def test_witness_rejects_wrong_rules(small_witnesses, activation, loss, mistake):
    """Test the tester: each deliberately wrong rule must fail both witness comparisons."""
    net, points, symbols, witnesses, _ = small_witnesses[activation, loss]
    wrong = _wrong_rules(activation, loss, mistake)
    _, wrong_gradient = symbolic_backprop(net, wrong)
    with pytest.raises(AssertionError, match="witness"):
        check_exact(net, _at_points(symbols, wrong_gradient, points[:1])[0], witnesses[0])
    rounded = np.array([float(w) for w in witnesses[0]])
    with pytest.raises(AssertionError, match="witness"):
        check_blocks(
            net, backprop_gradient(net, points[0], wrong), rounded, TOLERANCE["float64_witness"], "witness"
        )


def test_product_search_rejects_wrong_candidates():
    """The matrix-form search only accepts products equal to the derivatives: the
    derivative of a weight entry is not (A^T Delta) nor (Delta^T A) times a slope."""
    from diffcompare.mlp.symbolic import _find_product, _matrix

    delta, a_prev = _matrix(2, 4, "d"), _matrix(2, 3, "a")
    target = a_prev.T * delta  # (in x out): the transposed weight gradient
    rule = _find_product(target, {"D": delta, "A": a_prev, "W": _matrix(4, 3, "w")}, _matrix(2, 3, "s"))
    assert rule == MatrixRule("AT", "D")
    with pytest.raises(NotImplementedError, match="no product"):
        _find_product(target + sympy.ones(3, 4), {"D": delta, "A": a_prev}, _matrix(2, 3, "s"))


# --- witness 2: autograd and the tape at real sizes --------------------------------------------

NETWORKS = [(4, 8, 3), (5, 7, 6, 3), (64, 32, 10), (784, 128, 10)]


@pytest.mark.parametrize("layers", NETWORKS, ids=lambda layers: "-".join(map(str, layers)))
@pytest.mark.parametrize(("activation", "loss"), COMBINATIONS)
def test_rules_agree_with_autograd_and_tape(layers, activation, loss):
    net = MLP.random(layers, activation, loss, batch=64, seed=1)
    x = net.random_parameters(seed=2)
    rules_gradient = backprop_gradient(net, x)
    for method in ("autograd", "tape"):
        gradient = METHODS[method].prepare(net.f, net.dim).gradient(x)
        check_blocks(net, gradient, rules_gradient, TOLERANCE["methods"], method)


def test_rules_agree_with_autograd_and_tape_on_the_digits_network():
    """The network the digits run trains (64-256-128-10, relu, cross-entropy, batches of 32)."""
    from diffcompare.mlp.training import DIGITS_CONFIG

    layers = (64, *DIGITS_CONFIG.hidden, 10)
    net = MLP.random(
        layers, DIGITS_CONFIG.activation, "softmax_cross_entropy", DIGITS_CONFIG.batch_size, seed=1
    )
    x = net.random_parameters(seed=2)
    rules_gradient = backprop_gradient(net, x)
    for method in ("autograd", "tape"):
        gradient = METHODS[method].prepare(net.f, net.dim).gradient(x)
        check_blocks(net, gradient, rules_gradient, TOLERANCE["methods"], method)


def test_methods_reject_wrong_rules():
    """Test the tester at 5-7-6-3: a transposed weight gradient fails against autograd."""
    net = MLP.random((5, 7, 6, 3), "tanh", "mse", batch=64, seed=1)
    x = net.random_parameters(seed=2)
    wrong = backprop_gradient(net, x, _wrong_rules("tanh", "mse", "transposed_weights"))
    gradient = METHODS["autograd"].prepare(net.f, net.dim).gradient(x)
    with pytest.raises(AssertionError, match="W1"):
        check_blocks(net, gradient, wrong, TOLERANCE["methods"], "autograd")
