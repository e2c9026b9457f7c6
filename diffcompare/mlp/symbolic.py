"""Backpropagation rules for :class:`diffcompare.mlp.model.MLP`, derived by SymPy.

Nothing here is a typed-in table of derivatives.  Three derivations, each small enough
for SymPy, give the pieces of backpropagation:

1. **Activation derivatives** (:func:`activation_derivative`).  The activation is
   written as a SymPy expression of its input ``z`` (``tanh(z)``,
   ``1/(1 + exp(-z))``, a ``Piecewise`` for relu), differentiated with ``sympy.diff``,
   and ``z`` is then eliminated in favour of the output ``a``: for smooth activations
   both are rewritten in ``u = exp(z)`` (rational functions of ``u``), ``a = s(u)`` is
   solved for ``u`` and substituted into the derivative; a ``Piecewise`` is inverted
   branch by branch.  Backpropagation then needs only the stored activations.
2. **Output error terms** (:func:`output_error`).  The loss is written on one sample's
   symbols (three output components, batch size ``N`` and width ``K`` as symbols) and
   differentiated by each output component; the softmax is then recognised by
   substituting ``sum(exp(z)) -> S`` and ``exp(z_j) -> p_j S``.  The result must be the
   same expression of ``(component_j, y_j)`` for every ``j``; renaming it to
   ``(a, y)`` lifts it to an elementwise rule on whole matrices.
3. **Matrix products** (:func:`layer_products`).  One layer ``Z = A W^T + 1 b^T`` on a
   batch of symbols (2 rows, 3 inputs, 4 outputs) feeds an undefined loss
   ``L(Z_00, ..., Z_13)``; ``sympy.diff`` by every weight, bias and previous
   pre-activation (through an undefined activation ``sigma``) gives sums of
   ``dL/dZ_ni`` (renamed ``Delta_ni``) times entries of ``A`` and ``W``.  The matrix
   form is found by trying every product of two operands (``Delta``, ``A``, ``W``, a
   column of ones, and their transposes), optionally times ``sigma'(A)`` elementwise,
   and keeping the one whose entries equal the derivatives identically.

SymPy's own matrix calculus (``MatrixSymbol.diff`` through ``tanh``) is not used: in
SymPy 1.14 it returns shape-inconsistent results for hidden layers and 0 for a softmax
loss.  Whatever the route, :mod:`tests.test_mlp` checks the rules against the loss
expanded element by element and against autograd and the tape.
"""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass, field

import numpy as np
import sympy

from ..methods.symbolic.namespace import SymbolicArray, sympy_namespace
from ..ops.numpy_namespace import numpy_namespace
from .model import ACTIVATIONS, LOSSES, MLP

__all__ = [
    "LayerRules",
    "MatrixRule",
    "OutputError",
    "activation_derivative",
    "activation_expression",
    "backprop_gradient",
    "layer_products",
    "layer_rules",
    "output_error",
    "symbolic_backprop",
]

Z = sympy.Symbol("z", real=True)
A = sympy.Symbol("a", real=True)

# The activations as functions of z, the same functions the xp namespaces compute.
# "linear" is the output layer's.
# fmt: off
_ACTIVATION_EXPRESSIONS = {
    "tanh":    sympy.tanh(Z),
    "sigmoid": 1 / (1 + sympy.exp(-Z)),
    "relu":    sympy.Piecewise((Z, Z > 0), (0, True)),
    "linear":  Z,
}
# fmt: on


def activation_expression(name: str) -> sympy.Expr:
    """The activation ``name`` as a SymPy expression of :data:`Z`.

    Raises
    ------
    ValueError
        If ``name`` is not a hidden activation or ``"linear"``.
    """
    if name not in _ACTIVATION_EXPRESSIONS:
        choices = ", ".join(map(repr, _ACTIVATION_EXPRESSIONS))
        raise ValueError(f"activation must be one of {choices}; got {name!r}")
    return _ACTIVATION_EXPRESSIONS[name]


def _solve_single(equation, unknown):
    solutions = sympy.solve(equation, unknown)
    if len(solutions) != 1:
        raise NotImplementedError(f"cannot invert {equation} for {unknown}: solutions {solutions}")
    return solutions[0]


def _in_terms_of_output(activation: sympy.Expr, derivative: sympy.Expr) -> sympy.Expr:
    """Rewrite ``derivative`` (a function of z) as a function of ``a = activation(z)``."""
    if Z not in derivative.free_symbols:
        return derivative
    if isinstance(activation, sympy.Piecewise):
        # diff of a Piecewise keeps its conditions, so the branches line up.  On a
        # branch where the activation varies, invert it there (relu: z = a on z > 0,
        # so the condition becomes a > 0); a branch where it is constant must already
        # have a z-free derivative and condition.
        pieces = []
        for (value, condition), (slope, slope_condition) in zip(
            activation.args, derivative.args, strict=True
        ):
            if condition != slope_condition:
                raise NotImplementedError(f"branches of {derivative} do not match {activation}")
            if Z in value.free_symbols:
                inverse = _solve_single(sympy.Eq(A, value), Z)
                slope, condition = slope.subs(Z, inverse), condition.subs(Z, inverse)
            pieces.append((slope, condition))
        return sympy.Piecewise(*pieces)
    # Smooth activations: with u = exp(z) > 0 both the activation and its derivative
    # become rational in u; solve a = s(u) for u and substitute.  Every root must give
    # the same result (tanh has two roots +-u in u**2, the derivative is even in u).
    u = sympy.Symbol("u", positive=True)
    in_u = [sympy.simplify(e.rewrite(sympy.exp).subs(Z, sympy.log(u))) for e in (activation, derivative)]
    candidates = {
        sympy.factor(sympy.simplify(in_u[1].subs(u, root))) for root in sympy.solve(sympy.Eq(A, in_u[0]), u)
    }
    if len(candidates) != 1:
        raise NotImplementedError(f"cannot write {derivative} through a = {activation}: {candidates}")
    return candidates.pop()


@functools.cache
def activation_derivative(name: str) -> sympy.Expr:
    """The derivative of activation ``name`` as an expression of its output :data:`A`.

    Derived by ``sympy.diff`` of :func:`activation_expression` and elimination of z
    (see the module docstring): ``tanh`` gives ``(1 - a)(1 + a)``, ``sigmoid``
    ``a (1 - a)``, ``relu`` the step ``Piecewise((1, a > 0), (0, True))``.

    Raises
    ------
    ValueError
        For an unknown activation.
    NotImplementedError
        If z cannot be eliminated.

    Examples
    --------
    >>> activation_derivative("sigmoid")
    -a*(a - 1)
    """
    expression = activation_expression(name)
    result = _in_terms_of_output(expression, sympy.diff(expression, Z))
    if Z in result.free_symbols:
        raise NotImplementedError(f"the derivative of {name} still depends on z: {result}")
    return result


@dataclass(frozen=True)
class OutputError:
    """``dL/dZ_L`` entry by entry, as an expression lifted to whole matrices.

    Attributes
    ----------
    loss : str
    expression : sympy.Expr
        In the symbols ``arguments``; applied elementwise to matrices.
    arguments : tuple of sympy.Symbol
        ``(a, y, N, K)`` for ``"mse"`` (``a`` the output), ``(p, y, N)`` for
        ``"softmax_cross_entropy"`` (``p`` the row-wise softmax of the output).
    uses_softmax : bool
    """

    loss: str
    expression: sympy.Expr
    arguments: tuple
    uses_softmax: bool


_COMPONENTS = 3  # output components in the per-sample derivation


@functools.cache
def output_error(loss: str) -> OutputError:
    """Derive the output-layer error term of ``loss`` with ``sympy.diff``.

    One sample's contribution to the batch loss, on three output components:
    ``sum_k (a_k - y_k)**2 / (N K)`` for ``"mse"`` and
    ``(log(sum_k exp(z_k)) - sum_k y_k z_k) / N`` for ``"softmax_cross_entropy"``.
    Gives ``(2 a - 2 y) / (N K)`` and ``(p - y) / N``.

    Raises
    ------
    ValueError
        For an unknown loss.
    NotImplementedError
        If the components do not share one template.
    """
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {', '.join(map(repr, LOSSES))}; got {loss!r}")
    n, k = sympy.symbols("N K", positive=True)
    y = sympy.symbols(f"y0:{_COMPONENTS}", real=True)
    a, p, target = sympy.symbols("a p y", real=True)
    if loss == "mse":
        outs = sympy.symbols(f"a0:{_COMPONENTS}", real=True)
        sample_loss = sum((o - t) ** 2 for o, t in zip(outs, y, strict=True)) / (n * k)
        entry, arguments = a, (a, target, n, k)
    else:
        outs = sympy.symbols(f"z0:{_COMPONENTS}", real=True)
        total = sympy.Add(*map(sympy.exp, outs))
        sample_loss = (sympy.log(total) - sum(o * t for o, t in zip(outs, y, strict=True))) / n
        entry, arguments = p, (p, target, n)
    templates = set()
    for j in range(_COMPONENTS):
        term = sympy.diff(sample_loss, outs[j])
        if loss == "mse":
            term = term.subs({outs[j]: a, y[j]: target})
        else:
            # Recognise the softmax: exp(z_j) / sum_k exp(z_k) = p_j.
            s = sympy.Symbol("S", positive=True)
            term = term.subs(total, s).subs(sympy.exp(outs[j]), entry * s).subs(y[j], target)
        term = sympy.together(sympy.expand(sympy.simplify(term)))  # (2*a - 2*y)/(K*N)
        if not term.free_symbols <= set(arguments):
            raise NotImplementedError(f"{loss}: component {j} error {term} is not elementwise")
        templates.add(term)
    if len(templates) != 1:
        raise NotImplementedError(f"{loss}: components give different error terms {templates}")
    return OutputError(loss, templates.pop(), arguments, loss == "softmax_cross_entropy")


# --- matrix form of one layer --------------------------------------------------------

# Operands of the layer rules: D = Delta_l = dL/dZ_l (batch x out), A = A_{l-1}
# (batch x in), W = W_l (out x in), 1 = a column of ones (batch x 1), S = sigma'(A_{l-1}).
# fmt: off
_TEXT =  {"D": "Δ_l",      "A": "A_{l-1}", "W": "W_l", "1": "1",            "S": "σ'(A_{l-1})"}
_LATEX = {"D": r"\Delta_l", "A": "A_{l-1}", "W": "W_l", "1": r"\mathbf{1}", "S": r"\sigma'(A_{l-1})"}
# fmt: on


@dataclass(frozen=True)
class MatrixRule:
    """``left @ right`` (each operand possibly transposed), times ``S`` elementwise if
    ``hadamard``.  Operands are keys of the layer's operand dict (``"D"``, ``"A"``,
    ``"W"``, ``"1"``); a trailing ``"T"`` transposes."""

    left: str
    right: str
    hadamard: bool = False

    def evaluate(self, operands: dict) -> np.ndarray:
        """Evaluate with numpy arrays ``operands`` (keys as in the rule, plus ``"S"``)."""
        left, right = (
            operands[name[0]].T if name.endswith("T") else operands[name[0]]
            for name in (self.left, self.right)
        )
        product = np.matmul(left, right)
        return product * operands["S"] if self.hadamard else product

    def _format(self, names: dict, transpose: str, times: str) -> str:
        text = " ".join(names[n[0]] + (transpose if n.endswith("T") else "") for n in (self.left, self.right))
        return f"({text}) {times} {names['S']}" if self.hadamard else text

    def text(self) -> str:
        return self._format(_TEXT, "^T", "∘")

    def latex(self) -> str:
        return self._format(_LATEX, r"^{\top}", r"\odot")


_BATCH, _IN, _OUT = 2, 3, 4  # distinct sizes, so that only correct shapes line up


def _matrix(rows: int, cols: int, name: str) -> sympy.Matrix:
    return sympy.Matrix(rows, cols, lambda r, c: sympy.Symbol(f"{name}_{r}{c}", real=True))


def _rename_loss_derivatives(expression, delta: sympy.Matrix):
    """Replace each ``Subs(Derivative(L(..., xi, ...), xi), xi, Z_ni)`` by ``Delta_ni``.

    The position of the differentiated argument of L gives (n, i): L takes the
    entries of Z row by row.
    """
    replacements = {}
    for subs in expression.atoms(sympy.Subs):
        derivative = subs.expr
        position = derivative.expr.args.index(derivative.variables[0])
        replacements[subs] = delta[position // _OUT, position % _OUT]
    return expression.xreplace(replacements)


def _find_product(target: sympy.Matrix, operands: dict, elementwise: sympy.Matrix) -> MatrixRule:
    """The product of two operands (optionally times ``elementwise``) equal to ``target``."""
    names = [n + t for n in operands for t in ("", "T")]
    for left, right, hadamard in itertools.product(names, names, (False, True)):
        lm, rm = (operands[n[0]].T if n.endswith("T") else operands[n[0]] for n in (left, right))
        if lm.shape[1] != rm.shape[0] or (lm.shape[0], rm.shape[1]) != target.shape:
            continue
        product = lm * rm
        if hadamard and product.shape != elementwise.shape:
            continue
        if hadamard:
            product = product.multiply_elementwise(elementwise)
        if (product - target).expand().is_zero_matrix:
            return MatrixRule(left, right, hadamard)
    raise NotImplementedError(f"no product of two operands matches {target}")


@functools.cache
def layer_products() -> dict[str, MatrixRule]:
    """Derive the matrix form of the weight, bias and hidden-error gradients.

    Returns ``{"W": Delta^T A, "b": 1^T Delta, "delta": (Delta W) ∘ sigma'(A)}`` as
    :class:`MatrixRule` objects, found as described in the module docstring.
    """
    a_prev = _matrix(_BATCH, _IN, "a")
    z_prev = _matrix(_BATCH, _IN, "zp")
    w = _matrix(_OUT, _IN, "w")
    b = _matrix(1, _OUT, "b")
    delta = _matrix(_BATCH, _OUT, "delta")
    slope = _matrix(_BATCH, _IN, "s")  # sigma'(z_prev) entry by entry
    ones = sympy.ones(_BATCH, 1)
    loss = sympy.Function("L")
    sigma = sympy.Function("sigma")

    z = a_prev * w.T + ones * b
    layer_loss = loss(*z)
    grad_w = w.applyfunc(lambda v: _rename_loss_derivatives(sympy.diff(layer_loss, v), delta))
    grad_b = b.applyfunc(lambda v: _rename_loss_derivatives(sympy.diff(layer_loss, v), delta))

    # The previous layer's pre-activations reach L through A_{l-1} = sigma(Z_{l-1}).
    hidden_loss = loss(*(z_prev.applyfunc(sigma) * w.T + ones * b))
    slopes = {sympy.Derivative(sigma(v), v): slope[i] for i, v in enumerate(z_prev)}
    grad_z = z_prev.applyfunc(
        lambda v: _rename_loss_derivatives(sympy.diff(hidden_loss, v), delta).xreplace(slopes)
    )
    for gradient in (grad_w, grad_b, grad_z):
        leftover = set().union(*(e.atoms(sympy.Function) for e in gradient))
        if leftover:
            raise NotImplementedError(f"derivative terms left unrenamed: {leftover}")

    operands = {"D": delta, "A": a_prev, "W": w, "1": ones}
    return {
        "W": _find_product(grad_w, operands, slope),
        "b": _find_product(grad_b, operands, slope),
        "delta": _find_product(grad_z, operands, slope),
    }


# --- the rules, printed and compiled -------------------------------------------------


@dataclass(frozen=True)
class LayerRules:
    """Backpropagation for one activation and loss, derived by SymPy and compiled.

    Attributes
    ----------
    activation, loss : str
    slope : sympy.Expr
        ``sigma'(a)``, from :func:`activation_derivative`.
    output_slope : sympy.Expr
        The (linear) output layer's derivative, 1.
    error : OutputError
        From :func:`output_error`.
    products : dict of MatrixRule
        From :func:`layer_products`.
    slope_fn, output_slope_fn, error_fn : callable
        ``slope``, ``output_slope`` and ``error.expression`` lambdified to numpy (on
        first use), applied elementwise.
    """

    activation: str
    loss: str
    slope: sympy.Expr
    output_slope: sympy.Expr
    error: OutputError
    products: dict = field(repr=False)

    # cached_property stores in the instance __dict__, which a frozen dataclass allows.
    @functools.cached_property
    def slope_fn(self):
        return sympy.lambdify([A], self.slope, modules="numpy")

    @functools.cached_property
    def output_slope_fn(self):
        return sympy.lambdify([A], self.output_slope, modules="numpy")

    @functools.cached_property
    def error_fn(self):
        return sympy.lambdify(list(self.error.arguments), self.error.expression, modules="numpy")

    def text(self) -> str:
        """The rules in plain text."""
        e = self.error
        output = "softmax(Z_L) row by row" if e.uses_softmax else "Z_L"
        return "\n".join(
            (
                f"MLP layer rules derived by SymPy: activation {self.activation}, loss {self.loss}",
                f"  activation     a = {activation_expression(self.activation)},  σ'(a) = {self.slope}",
                f"  output error   Δ_L = E({e.arguments[0]} = {output}, Y) ∘ {self.output_slope},"
                f"  E = {e.expression}",
                f"  hidden layers  Δ_{{l-1}} = {self.products['delta'].text()}",
                f"  weights        ∂L/∂W_l = {self.products['W'].text()}",
                f"  biases         ∂L/∂b_l = {self.products['b'].text()}",
            )
        )

    def latex(self) -> str:
        """The rules as a LaTeX ``aligned`` block."""
        e = self.error
        output = r"\operatorname{softmax}(Z_L)" if e.uses_softmax else "Z_L"
        lines = (
            rf"a &= {sympy.latex(activation_expression(self.activation))}, \quad "
            rf"\sigma'(a) = {sympy.latex(self.slope)}",
            rf"\Delta_L &= E \odot {sympy.latex(self.output_slope)}, \quad E = "
            rf"{sympy.latex(e.expression)}, \quad {sympy.latex(e.arguments[0])} = {output}",
            rf"\Delta_{{l-1}} &= {self.products['delta'].latex()}",
            rf"\frac{{\partial L}}{{\partial W_l}} &= {self.products['W'].latex()}",
            rf"\frac{{\partial L}}{{\partial b_l}} &= {self.products['b'].latex()}",
        )
        return "\\begin{aligned}\n" + " \\\\\n".join(lines) + "\n\\end{aligned}"

    def print(self) -> None:
        """Print :meth:`text`."""
        print(self.text())

    def __str__(self) -> str:
        return self.text()


@functools.cache
def layer_rules(activation: str, loss: str) -> LayerRules:
    """Derive (once per pair, cached) the rules for ``activation`` and ``loss``.

    Raises
    ------
    ValueError
        For an unknown activation or loss.

    Examples
    --------
    >>> print(layer_rules("sigmoid", "softmax_cross_entropy").products["W"].text())
    Δ_l^T A_{l-1}
    """
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {', '.join(map(repr, ACTIVATIONS))}; got {activation!r}")
    return LayerRules(
        activation=activation,
        loss=loss,
        slope=activation_derivative(activation),
        output_slope=activation_derivative("linear"),
        error=output_error(loss),
        products=layer_products(),
    )


# --- evaluating the rules --------------------------------------------------------------


def _check_rules(mlp: MLP, rules: LayerRules | None) -> LayerRules:
    rules = layer_rules(mlp.activation, mlp.loss) if rules is None else rules
    if (rules.activation, rules.loss) != (mlp.activation, mlp.loss):
        raise ValueError(
            f"rules are for ({rules.activation}, {rules.loss}); "
            f"the network has ({mlp.activation}, {mlp.loss})"
        )
    return rules


def _backpropagate(mlp: MLP, outputs, params, rules: LayerRules, elementwise) -> list:
    """The rules applied layer by layer, from the output back; returns the flat blocks.

    ``outputs`` are ``mlp.forward``'s ``[A0, ..., Z_L]``, ``params`` the ``(W, b)``
    pairs and ``elementwise`` evaluates the rules' scalar expressions on arrays:
    ``elementwise.slope(A)``, ``.output_slope(Z)``, ``.error(Z_L)``.  The matrix
    products are ``numpy.matmul``, on float64 or on SymPy object arrays alike.
    """
    delta = elementwise.error(outputs[-1]) * elementwise.output_slope(outputs[-1])
    ones = np.ones((mlp.batch, 1))
    blocks = []
    for layer in range(len(params) - 1, -1, -1):
        operands = {"D": delta, "A": outputs[layer], "W": params[layer][0], "1": ones}
        blocks.append(rules.products["b"].evaluate(operands).ravel())
        blocks.append(rules.products["W"].evaluate(operands).ravel())
        if layer > 0:
            operands["S"] = elementwise.slope(outputs[layer])
            delta = rules.products["delta"].evaluate(operands)
    return blocks[::-1]


def _softmax_rows(z: np.ndarray) -> np.ndarray:
    shifted = np.exp(z - np.max(z, axis=1, keepdims=True))  # exp cannot overflow
    return shifted / np.sum(shifted, axis=1, keepdims=True)


def _broadcast(values, shape) -> np.ndarray:
    # lambdify turns a constant expression (relu' on one branch, the linear slope) into
    # a function returning a scalar; broadcast it to the array's shape.
    return np.broadcast_to(np.asarray(values, dtype=np.float64), shape)


class _Float64Elementwise:
    """The rules' scalar expressions as lambdified numpy functions."""

    def __init__(self, mlp: MLP, rules: LayerRules):
        self.mlp, self.rules = mlp, rules

    def slope(self, a):
        return _broadcast(self.rules.slope_fn(a), a.shape)

    def output_slope(self, z):
        return _broadcast(self.rules.output_slope_fn(z), z.shape)

    def error(self, z):
        batch, width = self.mlp.targets.shape
        if self.rules.error.uses_softmax:
            return _broadcast(self.rules.error_fn(_softmax_rows(z), self.mlp.targets, batch), z.shape)
        return _broadcast(self.rules.error_fn(z, self.mlp.targets, batch, width), z.shape)


class _SymbolicElementwise:
    """The rules' scalar expressions substituted into SymPy object arrays."""

    def __init__(self, mlp: MLP, rules: LayerRules):
        self.mlp, self.rules = mlp, rules

    @staticmethod
    def _substitute(expression, arguments, *arrays):
        apply = np.frompyfunc(
            lambda *values: expression.xreplace(dict(zip(arguments, values, strict=True))), len(arrays), 1
        )
        return apply(*arrays)

    def slope(self, a):
        return self._substitute(self.rules.slope, (A,), a)

    def output_slope(self, z):
        return self._substitute(self.rules.output_slope, (A,), z)

    def error(self, z):
        batch, width = self.mlp.targets.shape
        targets = np.frompyfunc(lambda v: sympy.Float(float(v), 100), 1, 1)(self.mlp.targets)
        e = self.rules.error
        if e.uses_softmax:
            exps = np.frompyfunc(sympy.exp, 1, 1)(np.asarray(z, dtype=object))
            rows = np.array([sympy.Add(*row) for row in exps], dtype=object)[:, None]
            p, y, n = e.arguments
            return self._substitute(e.expression.subs(n, batch), (p, y), exps / rows, targets)
        a, y, n, k = e.arguments
        return self._substitute(e.expression.subs({n: batch, k: width}), (a, y), np.asarray(z), targets)


def backprop_gradient(mlp: MLP, x: np.ndarray, rules: LayerRules | None = None) -> np.ndarray:
    """The gradient of ``mlp.f`` at ``x``, evaluating the derived rules with numpy.

    Parameters
    ----------
    mlp : MLP
    x : array of shape (mlp.dim,)
        Flat parameters.
    rules : LayerRules, optional
        ``layer_rules(mlp.activation, mlp.loss)`` by default; pass other rules to test
        the checks.

    Returns
    -------
    numpy.ndarray
        The flat gradient, laid out like ``x``.

    Raises
    ------
    ValueError
        If ``x`` has the wrong length or ``rules`` are for another activation or loss.

    Examples
    --------
    >>> net = MLP.random((4, 8, 3), "relu", "softmax_cross_entropy", batch=6, seed=1)
    >>> backprop_gradient(net, net.random_parameters(seed=1)).shape
    (67,)
    """
    rules = _check_rules(mlp, rules)
    x = np.asarray(x, dtype=np.float64)
    if x.shape != (mlp.dim,):
        raise ValueError(f"x must have shape ({mlp.dim},); got {x.shape}")
    outputs = mlp.forward(x, numpy_namespace)
    blocks = _backpropagate(mlp, outputs, mlp.unflatten(x), rules, _Float64Elementwise(mlp, rules))
    return np.concatenate(blocks)


def symbolic_backprop(mlp: MLP, rules: LayerRules | None = None) -> tuple[tuple, list]:
    """The rules applied to SymPy symbols: ``(symbols, gradient expressions)``.

    The same layer-by-layer evaluation as :func:`backprop_gradient`, on object arrays
    of SymPy expressions of ``x0 ... x{dim-1}`` (the symbols
    :func:`diffcompare.methods.symbolic.gradient.trace` uses), so that the rules can be compared with
    the loss differentiated element by element at any precision.  Only for small
    networks.
    """
    rules = _check_rules(mlp, rules)
    symbols = sympy.symbols(f"x0:{mlp.dim}", real=True)
    x = np.array(symbols, dtype=object).view(SymbolicArray)
    outputs = [np.asarray(o, dtype=object) for o in mlp.forward(x, sympy_namespace)]
    params = [(np.asarray(w, dtype=object), b) for w, b in mlp.unflatten(x, sympy_namespace)]
    blocks = _backpropagate(mlp, outputs, params, rules, _SymbolicElementwise(mlp, rules))
    return symbols, [sympy.sympify(e) for e in np.concatenate(blocks)]
