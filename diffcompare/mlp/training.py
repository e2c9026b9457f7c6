"""Training the :class:`~diffcompare.mlp.model.MLP` by mini-batch SGD, with a choice of gradient.

The same loop runs with each gradient source: the SymPy-derived layer rules
(:func:`~diffcompare.mlp.symbolic.backprop_gradient`), the autograd package and
diffcompare's tape.  Every run starts from the same seeded parameters and sees the same
batches in the same order (the shuffle of epoch ``e`` is drawn from
``numpy.random.default_rng([seed, e])``, whatever the source), so the only difference
between runs is the rounding inside the gradients.  Such differences start at a few ulps;
on the digits the per-epoch loss curves of exact gradients agree to 2.8e-14 relative with
the 64-32-10 tanh net (30 epochs) and to 1.1e-10 with :data:`DIGITS_CONFIG` (relu, 2,700
steps, where the large early steps amplify the differences to about 1e-10 around epoch 11
before they shrink to about 1e-11 again); :data:`CURVE_TOLERANCE` is the bar.

An :class:`MLP` holds its data batch, so the loop builds one per mini-batch (cheap: the
constructor only checks and copies the arrays).  :func:`predict` does the same for the
test inputs, since ``MLP`` has no method taking other inputs.

The digits data ship inside scikit-learn (:func:`load_digits_split`), which is an
optional dependency: without it :func:`load_digits_split` raises ``ImportError`` with
:data:`SKLEARN_MISSING_MESSAGE`.  The rest of the module needs only numpy.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

from ..methods import METHODS
from ..ops.numpy_namespace import numpy_namespace
from ..validation import check_seed
from .model import MLP
from .symbolic import backprop_gradient

__all__ = [
    "CURVE_TOLERANCE",
    "DIGITS_CONFIG",
    "GRADIENT_SOURCES",
    "MIN_TEST_ACCURACY",
    "SCHEDULES",
    "SKLEARN_MISSING_MESSAGE",
    "DataSplit",
    "TrainingConfig",
    "TrainingResult",
    "curve_differences",
    "epoch_batches",
    "load_digits_split",
    "momentum_step",
    "one_hot",
    "predict",
    "split_data",
    "stratified_split",
    "train",
    "validation_split",
]

#: Largest relative difference allowed between the loss curves of two gradient sources.
CURVE_TOLERANCE = 1e-9
#: Least test accuracy the digits run must reach.
MIN_TEST_ACCURACY = 0.97
#: Learning-rate schedules over the epochs (see :meth:`TrainingConfig.learning_rate_at`).
SCHEDULES: tuple[str, ...] = ("constant", "cosine")

SKLEARN_MISSING_MESSAGE = (
    "scikit-learn is not installed; the handwritten digits data set ships inside it. "
    'Install the optional extra with  pip install -e ".[train]"  (or  pip install scikit-learn).'
)

GradientFactory = Callable[[MLP], Callable[[np.ndarray], np.ndarray]]


def _rules_gradient(mlp: MLP) -> Callable[[np.ndarray], np.ndarray]:
    return lambda x: backprop_gradient(mlp, x)


def _method_gradient(name: str) -> GradientFactory:
    return lambda mlp: METHODS[name].prepare(mlp.f, mlp.dim).gradient


#: Gradient sources by name: each maps a network (one mini-batch) to ``x -> gradient``.
GRADIENT_SOURCES: Mapping[str, GradientFactory] = {
    "symbolic_rules": _rules_gradient,
    "autograd": _method_gradient("autograd"),
    "tape": _method_gradient("tape"),
}


# --- data ------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class DataSplit:
    """Inputs and integer labels, split into a training and a test set.

    Attributes
    ----------
    train_inputs, test_inputs : numpy.ndarray, shape (samples, features)
    train_labels, test_labels : numpy.ndarray of int, shape (samples,)
        Classes ``0 ... classes - 1``.
    classes : int
    """

    train_inputs: np.ndarray = field(repr=False)
    train_labels: np.ndarray = field(repr=False)
    test_inputs: np.ndarray = field(repr=False)
    test_labels: np.ndarray = field(repr=False)
    classes: int

    @property
    def features(self) -> int:
        return self.train_inputs.shape[1]


def one_hot(labels, classes: int) -> np.ndarray:
    """Rows of the ``classes x classes`` identity picked by ``labels``.

    Raises
    ------
    ValueError
        If a label is not an integer in ``0 ... classes - 1``.

    Examples
    --------
    >>> one_hot([2, 0], 3)
    array([[0., 0., 1.],
           [1., 0., 0.]])
    """
    labels = _check_labels(labels, classes)
    return np.eye(classes)[labels]


def _check_labels(labels, classes: int) -> np.ndarray:
    labels = np.asarray(labels)
    if labels.ndim != 1 or labels.dtype.kind not in "iu":
        raise ValueError(
            f"labels must be a 1-d integer array; got shape {labels.shape}, dtype {labels.dtype}"
        )
    if labels.size and (labels.min() < 0 or labels.max() >= classes):
        raise ValueError(f"labels must lie in 0 ... {classes - 1}; got {labels.min()} ... {labels.max()}")
    return labels


def stratified_split(labels, test_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Seeded indices ``(train, test)`` holding ``test_fraction`` of every class in test.

    Each class's indices are shuffled with ``numpy.random.default_rng(seed)`` and the
    first ``round(test_fraction * count)`` go to the test set; both index arrays are
    returned sorted.

    Raises
    ------
    ValueError
        If ``test_fraction`` is not strictly between 0 and 1.

    Examples
    --------
    >>> train, test = stratified_split([0, 0, 0, 0, 1, 1, 1, 1], 0.25, seed=0)
    >>> len(train), len(test)
    (6, 2)
    """
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must be between 0 and 1 (exclusive); got {test_fraction!r}")
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    test = []
    for label in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == label))
        test.append(members[: int(round(test_fraction * members.size))])
    test = np.sort(np.concatenate(test))
    train = np.setdiff1d(np.arange(labels.size), test)
    return train, test


def split_data(inputs, labels, classes: int, test_fraction: float = 0.2, seed: int = 0) -> DataSplit:
    """A :class:`DataSplit` of ``inputs`` (rows) and ``labels`` by :func:`stratified_split`.

    Raises
    ------
    ValueError
        If ``inputs`` is not a finite 2-d array with a row per label, or a label is out
        of range.
    """
    inputs = np.asarray(inputs, dtype=np.float64)
    labels = _check_labels(labels, classes)
    if inputs.ndim != 2 or inputs.shape[0] != labels.size:
        raise ValueError(f"inputs must have shape ({labels.size}, features); got {inputs.shape}")
    if not np.all(np.isfinite(inputs)):
        raise ValueError("inputs must be finite")
    train, test = stratified_split(labels, test_fraction, seed)
    return DataSplit(inputs[train], labels[train], inputs[test], labels[test], classes)


def validation_split(data: DataSplit, fraction: float = 0.2, seed: int = 1) -> DataSplit:
    """Carve a validation set out of ``data``'s training set; the test set is left out.

    The returned split trains on the rest of the training set and holds the validation
    samples (``fraction`` of every class, by :func:`stratified_split` with ``seed``) in
    its ``test_*`` fields, so that :func:`train` reports validation accuracy and a
    configuration can be chosen without looking at the test set.

    Raises
    ------
    ValueError
        If ``fraction`` is not strictly between 0 and 1.

    Examples
    --------
    >>> data = split_data(np.arange(20.0)[:, None], np.repeat([0, 1], 10), 2, test_fraction=0.2)
    >>> inner = validation_split(data, 0.25, seed=0)
    >>> len(inner.train_labels), len(inner.test_labels)
    (12, 4)
    """
    train_idx, valid_idx = stratified_split(data.train_labels, fraction, seed)
    return DataSplit(
        data.train_inputs[train_idx],
        data.train_labels[train_idx],
        data.train_inputs[valid_idx],
        data.train_labels[valid_idx],
        data.classes,
    )


def load_digits_split(test_fraction: float = 0.2, seed: int = 0) -> DataSplit:
    """scikit-learn's 8x8 handwritten digits, pixels scaled to [0, 1], split by class.

    The 1,797 images ship inside the scikit-learn package: nothing is downloaded.
    Pixels are integers 0 ... 16, divided by 16.

    Raises
    ------
    ImportError
        With :data:`SKLEARN_MISSING_MESSAGE` if scikit-learn is not installed.
    """
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise ImportError(SKLEARN_MISSING_MESSAGE) from None
    digits = load_digits()
    return split_data(digits.data / 16.0, digits.target.astype(np.int64), 10, test_fraction, seed)


# --- training --------------------------------------------------------------------------


@dataclass(frozen=True)
class TrainingConfig:
    """Network and optimiser settings shared by every gradient source.

    Attributes
    ----------
    hidden : tuple of int
        Hidden layer widths; the input and output widths come from the data.
    activation : str
        Hidden-layer activation, one of :data:`diffcompare.mlp.model.ACTIVATIONS`.
    epochs : int
    batch_size : int
        The last batch of an epoch holds the remainder.
    learning_rate : float
        The step size of the first epoch.
    momentum : float
        Heavy-ball momentum in [0, 1) (see :func:`momentum_step`).
    seed : int
        Seeds the initial parameters (:meth:`MLP.random_parameters`) and the shuffles.
    schedule : str
        One of :data:`SCHEDULES`: the step size over the epochs
        (:meth:`learning_rate_at`).
    weight_decay : float
        Non-negative ``lambda`` added as ``lambda * x`` to every gradient (an L2 penalty
        applied by the optimiser, so every gradient source differentiates the same loss).
    """

    hidden: tuple[int, ...] = (32,)
    activation: str = "tanh"
    epochs: int = 30
    batch_size: int = 64
    learning_rate: float = 0.1
    momentum: float = 0.9
    seed: int = 0
    schedule: str = "constant"
    weight_decay: float = 0.0

    def __post_init__(self):
        for name in ("epochs", "batch_size"):
            value = getattr(self, name)
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be a positive integer; got {value!r}")
        check_seed(self.seed)
        if not (isinstance(self.learning_rate, (int, float)) and self.learning_rate > 0):
            raise ValueError(f"learning_rate must be a positive number; got {self.learning_rate!r}")
        if not (isinstance(self.momentum, (int, float)) and 0 <= self.momentum < 1):
            raise ValueError(f"momentum must be in [0, 1); got {self.momentum!r}")
        if self.schedule not in SCHEDULES:
            names = ", ".join(map(repr, SCHEDULES))
            raise ValueError(f"schedule must be one of {names}; got {self.schedule!r}")
        if not (isinstance(self.weight_decay, (int, float)) and self.weight_decay >= 0):
            raise ValueError(f"weight_decay must be a non-negative number; got {self.weight_decay!r}")
        object.__setattr__(self, "hidden", tuple(self.hidden))

    def learning_rate_at(self, epoch: int) -> float:
        """The step size during ``epoch`` (from 0).

        ``"constant"``: :attr:`learning_rate` throughout.  ``"cosine"``: half a cosine
        from :attr:`learning_rate` down towards 0, ``lr (1 + cos(pi e / epochs)) / 2``,
        so the last epochs take small steps around the minimum SGD has found instead of
        bouncing across it with the mini-batch noise.

        Examples
        --------
        >>> config = TrainingConfig(epochs=4, learning_rate=0.2, schedule="cosine")
        >>> [round(config.learning_rate_at(e), 4) for e in range(4)]
        [0.2, 0.1707, 0.1, 0.0293]
        """
        if self.schedule == "constant":
            return float(self.learning_rate)
        return float(self.learning_rate * 0.5 * (1.0 + np.cos(np.pi * epoch / self.epochs)))


#: The digits run's configuration, chosen by ``scripts/select_mlp_config.py`` on validation
#: sets carved from the training set (the best mean validation accuracy of its grid, 98.5 %
#: over five seeded splits); the test set played no part in the choice.
DIGITS_CONFIG = TrainingConfig(
    hidden=(256, 128), activation="relu", epochs=60, batch_size=32, schedule="cosine"
)


@dataclass(frozen=True, eq=False)
class TrainingResult:
    """One training run.

    Attributes
    ----------
    source : str
        The gradient source's name (``"custom"`` for a callable).
    losses : numpy.ndarray, shape (epochs,)
        Mean training loss of each epoch: the loss of every mini-batch at the parameters
        it was drawn with (before its step), averaged with the batch sizes as weights.
    test_accuracies : numpy.ndarray, shape (epochs,)
        Fraction of test samples classified right after each epoch.
    parameters : numpy.ndarray
        Final flat parameters.
    """

    source: str
    losses: np.ndarray = field(repr=False)
    test_accuracies: np.ndarray = field(repr=False)
    parameters: np.ndarray = field(repr=False)

    @property
    def test_accuracy(self) -> float:
        """Test accuracy at the end of training."""
        return float(self.test_accuracies[-1])


def momentum_step(x, velocity, gradient, learning_rate: float, momentum: float, weight_decay: float = 0.0):
    """One heavy-ball step: ``v <- momentum v - learning_rate (g + weight_decay x)``, ``x <- x + v``.

    With ``momentum = 0`` and ``weight_decay = 0`` it is a plain gradient-descent step.
    Returns the new ``(x, v)``; the inputs are not modified.

    Examples
    --------
    >>> momentum_step(np.array([1.0]), np.array([0.5]), np.array([2.0]), 0.1, 0.9)
    (array([1.25]), array([0.25]))
    """
    step = gradient + weight_decay * x if weight_decay else gradient
    velocity = momentum * velocity - learning_rate * step
    return x + velocity, velocity


def epoch_batches(samples: int, batch_size: int, seed: int, epoch: int) -> list[np.ndarray]:
    """Index arrays of the mini-batches of ``epoch``: a permutation cut into ``batch_size`` pieces.

    The permutation depends only on ``(seed, epoch)``, so every run sees the same batches.

    Examples
    --------
    >>> [b.size for b in epoch_batches(10, 4, seed=0, epoch=0)]
    [4, 4, 2]
    """
    order = np.random.default_rng([seed, epoch]).permutation(samples)
    return [order[start : start + batch_size] for start in range(0, samples, batch_size)]


def _layers(data: DataSplit, config: TrainingConfig) -> tuple[int, ...]:
    return (data.features, *config.hidden, data.classes)


def predict(layers, activation: str, x: np.ndarray, inputs: np.ndarray) -> np.ndarray:
    """Predicted classes (argmax of the output layer) of the network ``x`` on ``inputs``.

    ``MLP`` evaluates only the inputs it holds, so this builds one with ``inputs`` and
    placeholder targets (the loss is not used).
    """
    net = MLP(tuple(layers), activation, "mse", inputs, np.zeros((len(inputs), layers[-1])))
    return np.argmax(net.forward(x, numpy_namespace)[-1], axis=1)


def train(data: DataSplit, config: TrainingConfig, source: str | GradientFactory) -> TrainingResult:
    """Train a softmax cross-entropy MLP on ``data`` with gradients from ``source``.

    Parameters
    ----------
    data : DataSplit
    config : TrainingConfig
    source : str or callable
        A key of :data:`GRADIENT_SOURCES`, or a callable with the same signature
        (``MLP -> (x -> gradient)``), e.g. to check that a wrong gradient is noticed.

    Returns
    -------
    TrainingResult

    Raises
    ------
    ValueError
        For an unknown source name.
    TypeError
        If ``source`` is neither a string nor callable.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> labels = np.repeat([0, 1], 20)
    >>> data = split_data(rng.standard_normal((40, 2)) + 3 * labels[:, None], labels, 2)
    >>> result = train(data, TrainingConfig(hidden=(4,), epochs=3, batch_size=8), "symbolic_rules")
    >>> bool(result.losses[-1] < result.losses[0])
    True
    """
    if isinstance(source, str):
        if source not in GRADIENT_SOURCES:
            names = ", ".join(map(repr, GRADIENT_SOURCES))
            raise ValueError(f"unknown gradient source {source!r}; expected one of {names}")
        name, factory = source, GRADIENT_SOURCES[source]
    elif callable(source):
        name, factory = "custom", source
    else:
        raise TypeError(f"source must be a name or a callable; got {type(source).__name__}")

    layers = _layers(data, config)
    targets = one_hot(data.train_labels, data.classes)
    x = None
    velocity = None
    losses, accuracies = [], []
    for epoch in range(config.epochs):
        learning_rate = config.learning_rate_at(epoch)
        total, count = 0.0, 0
        for batch in epoch_batches(len(targets), config.batch_size, config.seed, epoch):
            net = MLP(
                layers, config.activation, "softmax_cross_entropy", data.train_inputs[batch], targets[batch]
            )
            if x is None:
                x = net.random_parameters(config.seed)
                velocity = np.zeros_like(x)
            total += float(net.f(x, numpy_namespace)) * batch.size
            count += batch.size
            x, velocity = momentum_step(
                x, velocity, factory(net)(x), learning_rate, config.momentum, config.weight_decay
            )
        losses.append(total / count)
        predicted = predict(layers, config.activation, x, data.test_inputs)
        accuracies.append(float(np.mean(predicted == data.test_labels)))
    return TrainingResult(name, np.array(losses), np.array(accuracies), x)


def curve_differences(results) -> np.ndarray:
    """Per epoch (or step), the largest ``|loss_s - loss_0| / |loss_0|`` over the runs ``s``.

    ``results`` are runs with a ``losses`` array: :class:`TrainingResult` or
    :class:`~diffcompare.mlp.linear.LinearFit`.  ``loss_0`` is the first run's curve.

    Raises
    ------
    ValueError
        If fewer than two runs are given or their curves differ in length.

    Examples
    --------
    >>> a = TrainingResult("a", np.array([2.0, 1.0]), np.ones(2), np.zeros(1))
    >>> b = TrainingResult("b", np.array([2.0, 1.5]), np.ones(2), np.zeros(1))
    >>> curve_differences([a, b])
    array([0. , 0.5])
    """
    if len(results) < 2:
        raise ValueError(f"need at least two runs to compare; got {len(results)}")
    lengths = {r.losses.size for r in results}
    if len(lengths) != 1:
        raise ValueError(f"loss curves must have the same length; got lengths {sorted(lengths)}")
    reference = results[0].losses
    return np.max([np.abs(r.losses - reference) / np.abs(reference) for r in results[1:]], axis=0)
