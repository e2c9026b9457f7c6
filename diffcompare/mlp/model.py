"""A multilayer perceptron written once against ``xp``, its parameters one flat vector.

Every differentiation method sees an ordinary ``f(x, xp)``: ``x`` holds each layer's
weights ``W`` (``out x in``, row-major) and then its biases ``b``, layer after layer, the
layout of :func:`diffcompare.suite.functions.make_mlp_loss`.  Hidden layers apply the
activation; the output layer is linear.  :meth:`MLP.layer_slices` names the blocks
(``"W1"``, ``"b1"``, ...) so that gradients can be compared per layer and parameter.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..ops.numpy_namespace import numpy_namespace
from ..validation import check_seed

__all__ = ["ACTIVATIONS", "LOSSES", "MLP"]

#: Hidden-layer activations.
ACTIVATIONS: tuple[str, ...] = ("tanh", "sigmoid", "relu")
#: Losses on the linear output layer.
LOSSES: tuple[str, ...] = ("mse", "softmax_cross_entropy")


def _activate(name: str, z, xp):
    if name == "tanh":
        return xp.tanh(z)
    if name == "sigmoid":
        return xp.sigmoid(z)
    return xp.maximum(z, 0.0)  # relu


def _check_layers(layers) -> tuple[int, ...]:
    if not isinstance(layers, (tuple, list)):
        raise TypeError(f"layers must be a tuple of widths; got {type(layers).__name__}")
    if len(layers) < 2:
        raise ValueError(f"layers must have at least 2 widths (input, output); got {tuple(layers)}")
    for width in layers:
        if not isinstance(width, (int, np.integer)) or isinstance(width, bool) or width < 1:
            raise ValueError(f"layers must be positive integers; got {tuple(layers)}")
    return tuple(int(w) for w in layers)


def _check_choice(value, name: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}; got {value!r}")


def _check_matrix(value, name: str, shape_text: str, columns: int) -> np.ndarray:
    array = np.asarray(value)
    if array.dtype.kind not in "fiu":
        raise TypeError(f"{name} must be a real array; got dtype {array.dtype}")
    if array.ndim != 2 or array.shape[0] < 1 or array.shape[1] != columns:
        raise ValueError(f"{name} must have shape {shape_text}; got {array.shape}")
    array = np.array(array, dtype=np.float64)
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must be finite")
    array.setflags(write=False)
    return array


# eq=False: the fields hold arrays, so equality and hashing go by identity.
@dataclass(frozen=True, eq=False)
class MLP:
    """A perceptron's loss on fixed data, as a function of its flattened parameters.

    Parameters
    ----------
    layers : tuple of int
        Widths from input to output, e.g. ``(784, 128, 10)``.
    activation : {"tanh", "sigmoid", "relu"}
        Activation of the hidden layers (the output layer is linear).
    loss : {"mse", "softmax_cross_entropy"}
        Mean squared error over every output entry, or the batch mean of
        ``logsumexp(z) - y . z`` (softmax cross-entropy for one-hot ``y``).
    inputs : array, shape (batch, layers[0])
    targets : array, shape (batch, layers[-1])
        One-hot rows for cross-entropy.

    Raises
    ------
    TypeError, ValueError
        Naming the argument that is wrong.

    Examples
    --------
    >>> net = MLP.random((4, 8, 3), "tanh", "mse", batch=5, seed=0)
    >>> net.dim, [name for name, _ in net.layer_slices()]
    (67, ['W1', 'b1', 'W2', 'b2'])
    >>> float(net.f(net.random_parameters(seed=0), numpy_namespace)) > 0
    True
    """

    layers: tuple[int, ...]
    activation: str
    loss: str
    inputs: np.ndarray = field(repr=False)
    targets: np.ndarray = field(repr=False)

    def __post_init__(self):
        layers = _check_layers(self.layers)
        _check_choice(self.activation, "activation", ACTIVATIONS)
        _check_choice(self.loss, "loss", LOSSES)
        inputs = _check_matrix(self.inputs, "inputs", f"(batch, {layers[0]})", layers[0])
        targets = _check_matrix(self.targets, "targets", f"(batch, {layers[-1]})", layers[-1])
        if targets.shape[0] != inputs.shape[0]:
            raise ValueError(
                f"targets must have as many rows as inputs ({inputs.shape[0]}); got {targets.shape[0]}"
            )
        object.__setattr__(self, "layers", layers)
        object.__setattr__(self, "inputs", inputs)
        object.__setattr__(self, "targets", targets)

    @classmethod
    def random(cls, layers, activation: str, loss: str, batch: int, seed: int) -> MLP:
        """A network on seeded random data.

        ``numpy.random.default_rng(seed)`` draws the inputs (standard normal, ``batch x
        layers[0]``), then the targets: standard normal for ``"mse"``, one-hot rows of
        uniformly drawn classes for ``"softmax_cross_entropy"``.  The same seed gives the
        same data on every platform.

        Raises
        ------
        TypeError, ValueError
            For a non-integer or non-positive ``batch``, a negative ``seed`` and the
            errors of the constructor.
        """
        layers = _check_layers(layers)
        _check_choice(activation, "activation", ACTIVATIONS)
        _check_choice(loss, "loss", LOSSES)
        if not isinstance(batch, (int, np.integer)) or isinstance(batch, bool) or batch < 1:
            raise ValueError(f"batch must be a positive integer; got {batch!r}")
        check_seed(seed)
        rng = np.random.default_rng(seed)
        inputs = rng.standard_normal((batch, layers[0]))
        if loss == "mse":
            targets = rng.standard_normal((batch, layers[-1]))
        else:
            targets = np.eye(layers[-1])[rng.integers(0, layers[-1], size=batch)]
        return cls(layers, activation, loss, inputs, targets)

    @property
    def batch(self) -> int:
        """Number of rows of ``inputs``."""
        return self.inputs.shape[0]

    @property
    def shapes(self) -> list[tuple[int, int]]:
        """``(out, in)`` of each layer's weight matrix."""
        return list(zip(self.layers[1:], self.layers[:-1], strict=True))

    @property
    def dim(self) -> int:
        """Number of parameters: every layer's ``out * in + out``."""
        return sum(n_out * (n_in + 1) for n_out, n_in in self.shapes)

    def layer_slices(self) -> list[tuple[str, slice]]:
        """``[("W1", slice), ("b1", slice), ("W2", ...), ...]`` into the flat vector."""
        slices, offset = [], 0
        for i, (n_out, n_in) in enumerate(self.shapes, start=1):
            slices.append((f"W{i}", slice(offset, offset + n_out * n_in)))
            offset += n_out * n_in
            slices.append((f"b{i}", slice(offset, offset + n_out)))
            offset += n_out
        return slices

    def unflatten(self, x, xp=numpy_namespace) -> list[tuple[object, object]]:
        """Split the flat vector ``x`` into ``[(W1, b1), (W2, b2), ...]``.

        ``W`` has shape ``(out, in)``, ``b`` shape ``(out,)``.  ``xp`` reshapes (numpy by
        default; pass a tracing namespace to keep ``x`` traced).

        Raises
        ------
        ValueError
            If ``x`` does not have length :attr:`dim`.
        """
        if len(x) != self.dim:
            raise ValueError(f"x must have length {self.dim}; got {len(x)}")
        params, offset = [], 0
        for n_out, n_in in self.shapes:
            w = xp.reshape(x[offset : offset + n_out * n_in], (n_out, n_in))
            b = x[offset + n_out * n_in : offset + n_out * (n_in + 1)]
            offset += n_out * (n_in + 1)
            params.append((w, b))
        return params

    def flatten(self, params) -> np.ndarray:
        """The flat float64 vector of ``[(W1, b1), ...]``, the inverse of :meth:`unflatten`.

        Raises
        ------
        ValueError
            If the number of layers or a block's shape does not match :attr:`layers`.
        """
        params = list(params)
        if len(params) != len(self.shapes):
            raise ValueError(f"params must have {len(self.shapes)} (W, b) pairs; got {len(params)}")
        blocks = []
        for i, ((w, b), (n_out, n_in)) in enumerate(zip(params, self.shapes, strict=True), start=1):
            w, b = np.asarray(w, dtype=np.float64), np.asarray(b, dtype=np.float64)
            if w.shape != (n_out, n_in):
                raise ValueError(f"params W{i} must have shape {(n_out, n_in)}; got {w.shape}")
            if b.shape != (n_out,):
                raise ValueError(f"params b{i} must have shape {(n_out,)}; got {b.shape}")
            blocks += [w.ravel(), b]
        return np.concatenate(blocks)

    def random_parameters(self, seed: int) -> np.ndarray:
        """Seeded parameters: ``W ~ N(0, 1/in)`` (Glorot-like), ``b ~ N(0, 0.01)``.

        Drawn with ``numpy.random.default_rng(seed)``, layer by layer, W before b.
        """
        rng = np.random.default_rng(seed)
        params = [
            (rng.standard_normal((n_out, n_in)) / np.sqrt(n_in), 0.1 * rng.standard_normal(n_out))
            for n_out, n_in in self.shapes
        ]
        return self.flatten(params)

    def forward(self, x, xp) -> list:
        """``[A0, A1, ..., A_{L-1}, Z_L]``: the inputs, each hidden layer's activations and
        the linear output layer, evaluated with ``xp``."""
        h = xp.asarray(self.inputs)
        outputs = [h]
        params = self.unflatten(x, xp)
        for i, (w, b) in enumerate(params):
            h = xp.matmul(h, xp.transpose(w)) + b
            if i < len(params) - 1:
                h = _activate(self.activation, h, xp)
            outputs.append(h)
        return outputs

    def f(self, x, xp):
        """The loss at the flat parameter vector ``x``, using only ``xp`` operations."""
        z = self.forward(x, xp)[-1]
        y = xp.asarray(self.targets)
        if self.loss == "mse":
            return xp.mean((z - y) ** 2)
        # logsumexp(z) - y.z per row, averaged over the batch: the cross-entropy of
        # softmax(z) against one-hot y, with the log-sum-exp computed stably.
        return (xp.sum(xp.logsumexp(z, axis=1)) - xp.sum(y * z)) / float(self.batch)
