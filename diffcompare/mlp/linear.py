"""A linear least-squares model fitted by full-batch gradient descent with each exact method.

The linear model is the perceptron without hidden layers (and without a bias), so it
lives next to the MLP's training and takes its steps with the same
:func:`~diffcompare.mlp.training.momentum_step` (here with momentum 0: plain gradient
descent).  Its loss is an ordinary ``f(w, xp)``, so every method in
:data:`diffcompare.methods.METHODS` differentiates it from the same source.

Every run starts from ``w = 0`` and evaluates the loss with numpy, so two runs differ
only by the rounding inside their gradients.  Gradient descent on a convex quadratic
with a step below ``2 / lambda_max`` contracts every error in ``w`` (the iteration
matrix ``I - lr H`` has spectral radius below 1), so rounding differences do not grow
step to step: :data:`LINEAR_CURVE_TOLERANCE` bounds the relative difference of the loss
curves.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field

import numpy as np

from ..methods import METHODS
from ..methods.base import GradientMethod
from ..ops.numpy_namespace import numpy_namespace
from ..validation import check_seed
from .training import momentum_step

__all__ = [
    "LINEAR_CURVE_TOLERANCE",
    "LinearFit",
    "LinearProblem",
    "available_exact_methods",
    "fit_linear",
]

#: Largest relative difference allowed between the loss curves of two exact methods.
#: Their gradients differ by a few ulps (each sums the same products in its own order);
#: the contraction keeps the curves within 5.7e-15 of each other on the 100 x 50 problem
#: (``scripts/train_linear.py``), and the bar leaves a factor of 100 for other data and
#: machines.
LINEAR_CURVE_TOLERANCE = 1e-12


# eq=False: the fields hold arrays, so equality and hashing go by identity.
@dataclass(frozen=True, eq=False)
class LinearProblem:
    """Least squares ``mean((X w - y)**2)`` on fixed data, as a function of ``w``.

    Parameters
    ----------
    inputs : array, shape (samples, features)
        ``X``.
    targets : array, shape (samples,)
        ``y``.
    true_weights : array, shape (features,), optional
        The weights the targets were made from, if known (:meth:`random` sets them).

    Raises
    ------
    ValueError
        If the shapes do not match or an entry is not finite.

    Examples
    --------
    >>> problem = LinearProblem.random(samples=6, features=3, seed=0)
    >>> problem.dim, float(problem.f(problem.true_weights, numpy_namespace)) < 0.1
    (3, True)
    """

    inputs: np.ndarray = field(repr=False)
    targets: np.ndarray = field(repr=False)
    true_weights: np.ndarray | None = field(default=None, repr=False)

    def __post_init__(self):
        inputs = np.array(self.inputs, dtype=np.float64)
        targets = np.array(self.targets, dtype=np.float64)
        if inputs.ndim != 2 or inputs.shape[0] < 1 or inputs.shape[1] < 1:
            raise ValueError(f"inputs must have shape (samples, features); got {inputs.shape}")
        if targets.shape != (inputs.shape[0],):
            raise ValueError(f"targets must have shape ({inputs.shape[0]},); got {targets.shape}")
        if not (np.all(np.isfinite(inputs)) and np.all(np.isfinite(targets))):
            raise ValueError("inputs and targets must be finite")
        arrays = [inputs, targets]
        if self.true_weights is not None:
            true_weights = np.array(self.true_weights, dtype=np.float64)
            if true_weights.shape != (inputs.shape[1],):
                raise ValueError(
                    f"true_weights must have shape ({inputs.shape[1]},); got {true_weights.shape}"
                )
            object.__setattr__(self, "true_weights", true_weights)
            arrays.append(true_weights)
        for array in arrays:
            array.setflags(write=False)
        object.__setattr__(self, "inputs", inputs)
        object.__setattr__(self, "targets", targets)

    @classmethod
    def random(
        cls, samples: int = 100, features: int = 50, noise: float = 0.1, seed: int = 0
    ) -> LinearProblem:
        """Seeded data: ``X ~ U(-1, 1)``, ``y = X w* + noise * N(0, 1)``, ``w* ~ N(0, 1)``.

        Drawn with ``numpy.random.default_rng(seed)`` in that order (X, w*, noise).
        Centred inputs keep ``X^T X / samples`` well conditioned (eigenvalues about
        ``(1 +- sqrt(features / samples))**2 / 3``), so gradient descent converges in a
        few hundred steps.

        Raises
        ------
        ValueError
            For a non-positive size, a negative noise or seed.
        """
        for name, value in (("samples", samples), ("features", features)):
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be a positive integer; got {value!r}")
        if not (isinstance(noise, (int, float)) and noise >= 0):
            raise ValueError(f"noise must be a non-negative number; got {noise!r}")
        check_seed(seed)
        rng = np.random.default_rng(seed)
        inputs = rng.uniform(-1.0, 1.0, (samples, features))
        weights = rng.standard_normal(features)
        targets = inputs @ weights + noise * rng.standard_normal(samples)
        return cls(inputs, targets, weights)

    @property
    def dim(self) -> int:
        """Number of weights (features)."""
        return self.inputs.shape[1]

    def f(self, w, xp):
        """The mean squared residual at ``w``, using only ``xp`` operations.

        Written row by row (a dot product per sample) rather than as one ``matmul``:
        ``symbolic_vector`` keeps one symbol per 1-d slice and cannot express a matrix
        product, and this way every exact method differentiates the same source.
        """
        total = 0.0
        for row, target in zip(self.inputs, self.targets, strict=True):
            total = total + (xp.sum(xp.asarray(row) * w) - float(target)) ** 2
        return total / float(self.inputs.shape[0])


@dataclass(frozen=True, eq=False)
class LinearFit:
    """One gradient-descent run.

    Attributes
    ----------
    method : str
        The differentiation method's name.
    losses : numpy.ndarray, shape (steps + 1,)
        The loss at ``w_0 = 0`` and after each step.
    weights : numpy.ndarray
        The final ``w``.
    """

    method: str
    losses: np.ndarray = field(repr=False)
    weights: np.ndarray = field(repr=False)


def available_exact_methods() -> tuple[GradientMethod, ...]:
    """The registry's methods of family ``"exact"`` whose optional package is installed."""
    return tuple(
        method
        for method in METHODS.values()
        if method.family == "exact"
        and (method.requires is None or importlib.util.find_spec(method.requires) is not None)
    )


def fit_linear(problem: LinearProblem, method: GradientMethod, steps: int, learning_rate: float) -> LinearFit:
    """Plain full-batch gradient descent from ``w = 0`` with ``method``'s gradient.

    Parameters
    ----------
    problem : LinearProblem
    method : GradientMethod
        A record of :data:`diffcompare.methods.METHODS`; prepared once for the run.
    steps : int
    learning_rate : float
        Converges below ``2 / lambda_max`` of the Hessian ``2 X^T X / samples``.

    Returns
    -------
    LinearFit

    Raises
    ------
    TypeError
        If ``problem`` or ``method`` is of the wrong kind.
    ValueError
        For a non-positive ``steps`` or ``learning_rate``.

    Examples
    --------
    >>> problem = LinearProblem.random(samples=20, features=4, seed=1)
    >>> fit = fit_linear(problem, METHODS["tape"], steps=50, learning_rate=0.5)
    >>> round(float(fit.losses[0]), 4), round(float(fit.losses[-1]), 4)  # the noise floor is left
    (1.4917, 0.0041)
    """
    if not isinstance(problem, LinearProblem):
        raise TypeError(f"problem must be a LinearProblem; got {type(problem).__name__}")
    if not (hasattr(method, "prepare") and hasattr(method, "name")):
        raise TypeError(f"method must be a method record with prepare(); got {type(method).__name__}")
    if not isinstance(steps, (int, np.integer)) or isinstance(steps, bool) or steps < 1:
        raise ValueError(f"steps must be a positive integer; got {steps!r}")
    if not (isinstance(learning_rate, (int, float)) and learning_rate > 0):
        raise ValueError(f"learning_rate must be a positive number; got {learning_rate!r}")

    gradient = method.prepare(problem.f, problem.dim).gradient
    w = np.zeros(problem.dim)
    velocity = np.zeros_like(w)
    losses = [float(problem.f(w, numpy_namespace))]
    for _ in range(steps):
        w, velocity = momentum_step(
            w, velocity, np.asarray(gradient(w), dtype=np.float64), learning_rate, 0.0
        )
        losses.append(float(problem.f(w, numpy_namespace)))
    return LinearFit(method.name, np.array(losses), w)
