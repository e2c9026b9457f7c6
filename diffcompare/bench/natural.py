"""Natural-style workloads, timed through the public ``diffcompare.grad`` (issue 17).

The functions here are written the way a user writes them, independently of the suite's
records and of :mod:`diffcompare.mlp`: slices and operators rather than the suite's
formulations, weights cut out of the parameter vector and reshaped inside ``f``.  Each
comes with a hand-derived numpy gradient that serves as the reference.

* ``natural_rosenbrock``: ``sum(100 (x[1:] - x[:-1]**2)**2 + (1 - x[:-1])**2)``;
* ``natural_mlp``: a 784-128-10 perceptron on a batch of 64, ``tanh(X @ W1 + b1) @ W2 + b2``
  and a max-shifted log-softmax cross-entropy;
* ``nested_sin``: 100 nested ``sin`` on the one element of a length-1 vector.

Every candidate (numpy forward aside) is ``diffcompare.grad(f, method)``: the point is
checked and, where the method computes ``f(x)`` itself, the singular-point check reads
that value, exactly what a user's call pays.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from ..gradient import grad
from ..ops.numpy_namespace import numpy_namespace
from ..suite.records import SEED
from ..validation import check_count
from .workloads import EXACT_TOLERANCE, FORWARD, BenchCase, Candidate

__all__ = [
    "NATURAL_METHODS",
    "NaturalMLP",
    "natural_cases",
    "natural_mlp",
    "natural_rosenbrock",
    "natural_rosenbrock_gradient",
    "nested_sin",
]

#: Methods timed on every natural workload (symbolic_vector on Rosenbrock too).
NATURAL_METHODS = ("autograd", "tape")
#: Nested ``sin`` in the ``natural_sin`` workload.
NESTED_SINS = 100
#: Layer widths and batch of the ``natural_mlp`` workload.
NATURAL_MLP_LAYERS = (784, 128, 10)
NATURAL_MLP_BATCH = 64


def natural_rosenbrock(x, xp):
    """Rosenbrock as a user writes it: ``sum(100 (x[1:] - x[:-1]**2)**2 + (1 - x[:-1])**2)``."""
    head = x[:-1]
    return xp.sum(100.0 * (x[1:] - head**2) ** 2 + (1.0 - head) ** 2)


def natural_rosenbrock_gradient(x: np.ndarray) -> np.ndarray:
    """The gradient of :func:`natural_rosenbrock`, derived by hand.

    With ``t_i = x_{i+1} - x_i^2``: ``-400 x_i t_i - 2 (1 - x_i)`` from term ``i`` and
    ``200 t_{i-1}`` from the term before.

    Examples
    --------
    >>> natural_rosenbrock_gradient(np.array([0.0, 0.0]))
    array([-2.,  0.])
    """
    head, t = x[:-1], x[1:] - x[:-1] ** 2
    gradient = np.zeros_like(x)
    gradient[:-1] = -400.0 * head * t - 2.0 * (1.0 - head)
    gradient[1:] += 200.0 * t
    return gradient


def nested_sin(sins: int = NESTED_SINS) -> Callable:
    """``f(x, xp) = sin(sin(...sin(x[0])))`` with ``sins`` nested ``sin`` on a length-1 ``x``.

    Examples
    --------
    >>> f = nested_sin(2)
    >>> bool(f(np.array([0.5]), np) == np.sin(np.sin(0.5)))
    True
    """
    sins = check_count(sins, "sins")

    def f(x, xp):
        value = x[0]
        for _ in range(sins):
            value = xp.sin(value)
        return value

    f.__name__ = f"nested_sin_{sins}"
    return f


def _nested_sin_gradient(x: np.ndarray, sins: int) -> np.ndarray:
    # The chain rule written out: the product of cos at each inner value.
    value, derivative = x[0], 1.0
    for _ in range(sins):
        value, derivative = np.sin(value), derivative * np.cos(value)
    return np.array([derivative])


@dataclass(frozen=True)
class NaturalMLP:
    """A tanh perceptron with a softmax cross-entropy, its parameters one flat vector.

    The vector holds ``W1`` (row-major, ``(784, 128)``), ``b1``, ``W2``, ``b2`` in that
    order; ``f`` slices and reshapes them, as a user who packs parameters writes it.

    Attributes
    ----------
    inputs : numpy.ndarray
        The batch, ``(batch, widths[0])``.
    labels : numpy.ndarray
        One-hot targets, ``(batch, widths[-1])``.
    widths : tuple of int
        ``(inputs, hidden, classes)``.
    """

    inputs: np.ndarray
    labels: np.ndarray
    widths: tuple[int, int, int]

    @property
    def dim(self) -> int:
        """Number of parameters."""
        n_in, hidden, classes = self.widths
        return n_in * hidden + hidden + hidden * classes + classes

    def unpack(self, x, xp):
        """``W1, b1, W2, b2`` as slices of ``x``, the matrices reshaped."""
        n_in, hidden, classes = self.widths
        stops = np.cumsum([n_in * hidden, hidden, hidden * classes])
        w1 = xp.reshape(x[: stops[0]], (n_in, hidden))
        w2 = xp.reshape(x[stops[1] : stops[2]], (hidden, classes))
        return w1, x[stops[0] : stops[1]], w2, x[stops[2] :]

    def f(self, x, xp):
        """The mean cross-entropy of the batch."""
        w1, b1, w2, b2 = self.unpack(x, xp)
        logits = xp.tanh(self.inputs @ w1 + b1) @ w2 + b2
        # Shifted by the row maximum, exp never overflows; the shift cancels in value.
        shifted = logits - xp.max(logits, axis=1, keepdims=True)
        log_probabilities = shifted - xp.log(xp.sum(xp.exp(shifted), axis=1, keepdims=True))
        return -xp.mean(xp.sum(self.labels * log_probabilities, axis=1))

    def gradient(self, x: np.ndarray) -> np.ndarray:
        """Backpropagation by hand: the reference gradient."""
        w1, b1, w2, b2 = self.unpack(x, np)
        hidden = np.tanh(self.inputs @ w1 + b1)
        logits = hidden @ w2 + b2
        e = np.exp(logits - logits.max(axis=1, keepdims=True))
        # d(loss)/d(logits) = (softmax - labels) / batch
        delta = (e / e.sum(axis=1, keepdims=True) - self.labels) / len(self.inputs)
        delta_hidden = (delta @ w2.T) * (1.0 - hidden**2)
        parts = (self.inputs.T @ delta_hidden, delta_hidden.sum(axis=0), hidden.T @ delta, delta.sum(axis=0))
        return np.concatenate([np.ravel(part) for part in parts])


def natural_mlp(seed: int = SEED, widths=NATURAL_MLP_LAYERS, batch: int = NATURAL_MLP_BATCH):
    """A :class:`NaturalMLP` with seeded data and a seeded parameter point.

    Returns
    -------
    (NaturalMLP, numpy.ndarray)
        The model and a parameter vector (Glorot-scaled weights, zero-mean biases).

    Examples
    --------
    >>> model, x = natural_mlp(widths=(4, 3, 2), batch=5)
    >>> model.dim == x.size == 4 * 3 + 3 + 3 * 2 + 2
    True
    """
    rng = np.random.default_rng([seed, 17])
    n_in, hidden, classes = widths
    inputs = rng.standard_normal((batch, n_in))
    labels = np.eye(classes)[rng.integers(0, classes, batch)]
    model = NaturalMLP(inputs, labels, (n_in, hidden, classes))
    parts = (
        rng.standard_normal(n_in * hidden) / np.sqrt(n_in),
        0.1 * rng.standard_normal(hidden),
        rng.standard_normal(hidden * classes) / np.sqrt(hidden),
        0.1 * rng.standard_normal(classes),
    )
    return model, np.concatenate(parts)


def _forward(f: Callable, x: np.ndarray) -> Candidate:
    return Candidate(FORWARD, lambda: lambda: f(x, numpy_namespace), tolerance=None)


def _public(method: str, f: Callable, x: np.ndarray) -> Candidate:
    def setup():
        gradient = grad(f, method)
        gradient(x)  # the method's per-length setup runs on the first call
        return lambda: gradient(x)

    return Candidate(method, setup, EXACT_TOLERANCE)


def natural_cases(
    workload: str, sizes: Sequence[int] = (10, 1_000, 10_000), seed: int = SEED
) -> list[BenchCase]:
    """The cases of one natural workload: ``natural_rosenbrock``, ``natural_mlp`` or ``natural_sin``.

    Parameters
    ----------
    workload : str
        Which workload.
    sizes : sequence of int
        Rosenbrock dimensions (``natural_rosenbrock`` only).
    seed : int
        Seed of the points and of the MLP's data.

    Returns
    -------
    list of BenchCase
        numpy forward, then :data:`NATURAL_METHODS` through ``diffcompare.grad``
        (and ``symbolic_vector`` on Rosenbrock).

    Raises
    ------
    ValueError
        If ``workload`` is unknown.
    """
    if workload == "natural_rosenbrock":
        cases = []
        for n in sizes:
            x = np.random.default_rng([seed, n, 17]).uniform(-2.0, 2.0, n)
            methods = (*NATURAL_METHODS, "symbolic_vector")
            gradients = (_public(method, natural_rosenbrock, x) for method in methods)
            candidates = (_forward(natural_rosenbrock, x), *gradients)
            cases.append(BenchCase(workload, n, candidates, reference=natural_rosenbrock_gradient(x)))
        return cases
    if workload == "natural_mlp":
        model, x = natural_mlp(seed)
        candidates = (_forward(model.f, x), *(_public(m, model.f, x) for m in NATURAL_METHODS))
        return [BenchCase(workload, model.dim, candidates, reference=model.gradient(x))]
    if workload == "natural_sin":
        x = np.random.default_rng([seed, 17]).uniform(-1.0, 1.0, 1)
        f = nested_sin(NESTED_SINS)
        candidates = (_forward(f, x), *(_public(m, f, x) for m in NATURAL_METHODS))
        return [BenchCase(workload, NESTED_SINS, candidates, reference=_nested_sin_gradient(x, NESTED_SINS))]
    raise ValueError(f"workload must be natural_rosenbrock, natural_mlp or natural_sin; got {workload!r}")
