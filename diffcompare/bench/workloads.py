"""The benchmark's cases: each workload is a list of :class:`BenchCase` records.

* ``primitive``: forward + record + backward of one ``sin`` on a size-1 array, the
  per-operation overhead of a tracer (numpy's own ``sin`` is the baseline; torch only
  where it is importable);
* ``sin_chain``: ``sin(sin(...sin(x)))`` with k = 1, 2, 4, ..., 64 nested ``sin`` on
  the same size-1 array, from which :mod:`~diffcompare.bench.marginal` separates the
  cost of one more recorded primitive from the fixed cost of a call;
* ``rosenbrock``: the gradient at n = 2 ... 10,000 (numpy forward, a hand-written numpy
  gradient, autograd, the tape, SymPy, forward mode, central differences);
* ``mlp``: the 784-128-10 perceptron with a batch of 64 (numpy forward, the
  SymPy-derived backpropagation rules as the hand-written baseline, autograd, the tape).

A case holds one :class:`Candidate` per method and the gradient they should return.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import autograd
import autograd.numpy as anp
import numpy as np

from ..methods import METHODS
from ..mlp.model import MLP
from ..mlp.symbolic import backprop_gradient, layer_rules
from ..ops.numpy_namespace import numpy_namespace
from ..suite.functions import rosenbrock
from ..suite.records import SEED
from .config import WORKLOADS, BenchConfig

__all__ = [
    "DIFFERENCE_TOLERANCE",
    "EXACT_TOLERANCE",
    "FORWARD",
    "BenchCase",
    "Candidate",
    "CountingFunction",
    "count_evaluations",
    "mlp_cases",
    "primitive_cases",
    "rosenbrock_cases",
    "rosenbrock_gradient",
    "sin_chain",
    "sin_chain_cases",
    "workload_cases",
]

#: Name of the baseline row every ``ratio_to_forward`` divides by.
FORWARD = "numpy_forward"

#: Normwise relative error above which a gradient is reported as ``wrong``.  Exact
#: methods agree with the hand-written gradients to a few ulp (1e-15); 1e-10 leaves room
#: for summation order at n = 10,000 and still catches any wrong rule.  Central
#: differences lose about eps |f| / h to rounding, and Rosenbrock's |f| grows with n
#: (4.5e6 at the n = 10,000 point, against a largest gradient entry of 6e3): 2e-8 there,
#: so 1e-5 flags only real faults.
EXACT_TOLERANCE = 1e-10
DIFFERENCE_TOLERANCE = 1e-5

#: The 784-128-10 network of issue 6: tanh hidden layer, mean squared error.
MLP_LAYERS = (784, 128, 10)
MLP_BATCH = 64


@dataclass(frozen=True)
class Candidate:
    """One method on one case.

    Attributes
    ----------
    method : str
        Row name: a name in :data:`diffcompare.METHODS`, or ``numpy_forward``,
        ``hand_gradient``, ``hand_backprop``, ``torch``.
    setup : callable
        ``setup() -> run``: all one-off work (tracing, ``sympy.diff``, ...), timed once;
        ``run()`` is the zero-argument call that is timed, returning the gradient (or the
        forward value).
    tolerance : float or None
        Largest normwise relative error of ``run()`` against the case's reference;
        ``None`` for rows that are not gradients (the forward pass).
    evaluations : callable, optional
        ``evaluations() -> int``: calls of ``f`` made by one gradient, counted apart from
        the timed calls so that the counting wrapper never adds to a time.
    skip : str
        Non-empty: the row is ``skipped`` with this message (e.g. torch not installed).
    """

    method: str
    setup: Callable[[], Callable[[], Any]]
    tolerance: float | None = EXACT_TOLERANCE
    evaluations: Callable[[], int] | None = None
    skip: str = ""


@dataclass(frozen=True)
class BenchCase:
    """A workload at one size: the candidates and the gradient they should return."""

    workload: str
    size: int
    candidates: tuple[Candidate, ...]
    reference: np.ndarray | None = None


class CountingFunction:
    """``f(x, xp)`` that counts its calls in ``.calls``.

    Examples
    --------
    >>> counted = CountingFunction(lambda x, xp: xp.sum(x))
    >>> _ = counted(np.ones(3), numpy_namespace), counted(np.ones(3), numpy_namespace)
    >>> counted.calls
    2
    """

    def __init__(self, f: Callable):
        self.f = f
        self.calls = 0
        self.__name__ = getattr(f, "__name__", "f")

    def __call__(self, x, xp):
        self.calls += 1
        return self.f(x, xp)


def count_evaluations(method: str, f: Callable, x: np.ndarray) -> int:
    """Calls of ``f`` one gradient by ``method`` makes at ``x`` (setup calls excluded).

    Examples
    --------
    >>> count_evaluations("central", rosenbrock, np.zeros(3))
    6
    """
    counted = CountingFunction(f)
    gradient = METHODS[method].prepare(counted, x.size).gradient
    counted.calls = 0  # tracing in prepare is setup, not part of a gradient
    gradient(x)
    return counted.calls


def _method_candidate(method: str, f: Callable, x: np.ndarray, tolerance: float, count: bool = True):
    def setup():
        gradient = METHODS[method].prepare(f, x.size).gradient
        return lambda: gradient(x)

    evaluations = (lambda: count_evaluations(method, f, x)) if count else None
    return Candidate(method, setup, tolerance, evaluations)


def _torch_candidate(x: np.ndarray, sins: int = 1) -> Candidate:
    try:
        import torch
    except ImportError:
        return Candidate("torch", lambda: None, skip="torch is not importable")

    def setup():
        torch.set_num_threads(1)
        leaf = torch.tensor(x, dtype=torch.float64, requires_grad=True)

        def run():
            value = leaf
            for _ in range(sins):
                value = torch.sin(value)
            value.backward()
            grad, leaf.grad = leaf.grad, None  # a fresh gradient per call, as the others
            return grad.numpy()

        return run

    return Candidate("torch", setup)


def primitive_cases(seed: int = SEED) -> list[BenchCase]:
    """One ``sin`` on a size-1 array: the fixed cost per recorded operation.

    The array is 0-d (size 1, shape ``()``) so that ``sin`` alone is a scalar function:
    a ``sum`` or an index to make it scalar would be a second primitive.  autograd is
    called directly (``autograd.grad(autograd.numpy.sin)``, the figure of issue 6); the
    tape goes through diffcompare's method, namespace dispatch included.
    """
    x = _primitive_point(seed)
    autograd_sin = autograd.grad(anp.sin)

    def sin(x, xp):
        return xp.sin(x)

    candidates = (
        Candidate(FORWARD, lambda: lambda: np.sin(x), tolerance=None),
        Candidate("autograd", lambda: lambda: autograd_sin(x)),
        _method_candidate("tape", sin, x, EXACT_TOLERANCE, count=False),
        _torch_candidate(x),
    )
    return [BenchCase("primitive", 1, candidates, reference=np.cos(x))]


def _primitive_point(seed: int) -> np.ndarray:
    return np.array(np.random.default_rng(seed).uniform(-1.0, 1.0))


def sin_chain(sins: int) -> Callable:
    """``f(x, xp) = sin(sin(...sin(x)))`` with ``sins`` nested ``sin``.

    Parameters
    ----------
    sins : int
        How many ``sin`` to nest, at least 1.

    Returns
    -------
    callable
        ``f(x, xp)`` in the suite's form, named ``sin_chain_<sins>``.

    Raises
    ------
    ValueError
        If ``sins`` is not an integer >= 1.

    Examples
    --------
    >>> f = sin_chain(3)
    >>> f.__name__, bool(f(np.array(0.5), np) == np.sin(np.sin(np.sin(0.5))))
    ('sin_chain_3', True)
    """
    if not isinstance(sins, int) or isinstance(sins, bool) or sins < 1:
        raise ValueError(f"sins must be an integer >= 1; got {sins!r}")

    # A loop, not an unrolled expression: its cost (tens of ns per pass) is the same for
    # every method and lands in the slope, far below any tracer's cost per primitive.
    def f(x, xp):
        for _ in range(sins):
            x = xp.sin(x)
        return x

    f.__name__ = f"sin_chain_{sins}"
    return f


def sin_chain_cases(lengths: Sequence[int], seed: int = SEED) -> list[BenchCase]:
    """``sin`` nested ``k`` times on the size-1 point of :func:`primitive_cases`, for each ``k``.

    The candidates are those of ``primitive``, called the same way (autograd directly,
    the tape through diffcompare's method), so that ``k = 1`` repeats that case.  The
    reference is the chain rule written out: with ``s_0 = x`` and ``s_{j+1} = sin(s_j)``,
    the derivative is the product of ``cos(s_j)`` over ``j < k``.
    """
    x = _primitive_point(seed)
    cases = []
    for k in lengths:
        f = sin_chain(k)
        autograd_chain = autograd.grad(lambda x, f=f: f(x, anp))
        inner = [x]
        for _ in range(k - 1):
            inner.append(np.sin(inner[-1]))
        candidates = (
            Candidate(FORWARD, lambda f=f: lambda: f(x, numpy_namespace), tolerance=None),
            Candidate("autograd", lambda g=autograd_chain: lambda: g(x)),
            _method_candidate("tape", f, x, EXACT_TOLERANCE, count=False),
            _torch_candidate(x, k),
        )
        cases.append(BenchCase("sin_chain", k, candidates, reference=np.asarray(np.prod(np.cos(inner)))))
    return cases


def rosenbrock_gradient(x: np.ndarray) -> np.ndarray:
    """The Rosenbrock gradient written out in numpy: the hand-written baseline.

    With ``t_i = x_{i+1} - x_i^2``, f = sum 100 t_i^2 + (1 - x_i)^2, so
    ``df/dx_i = -400 x_i t_i - 2 (1 - x_i)`` from the term ``i`` and ``+200 t_{i-1}``
    from the term before.

    Examples
    --------
    >>> rosenbrock_gradient(np.array([0.0, 0.0]))
    array([-2.,  0.])
    """
    head = x[:-1]
    t = x[1:] - head**2
    grad = np.zeros_like(x)
    grad[:-1] = -400.0 * head * t - 2.0 * (1.0 - head)
    grad[1:] += 200.0 * t
    return grad


def rosenbrock_cases(sizes: Sequence[int], seed: int = SEED) -> list[BenchCase]:
    """Rosenbrock at each size, the point drawn uniformly from the suite's box [-2, 2]^n."""
    cases = []
    for n in sizes:
        x = np.random.default_rng([seed, n]).uniform(-2.0, 2.0, n)
        candidates = (
            Candidate(FORWARD, lambda x=x: lambda: rosenbrock(x, numpy_namespace), tolerance=None),
            Candidate("hand_gradient", lambda x=x: lambda: rosenbrock_gradient(x)),
            _method_candidate("autograd", rosenbrock, x, EXACT_TOLERANCE),
            _method_candidate("tape", rosenbrock, x, EXACT_TOLERANCE),
            # Counting would prepare (trace, differentiate, compile) a second time.
            _method_candidate("symbolic", rosenbrock, x, EXACT_TOLERANCE, count=False),
            _method_candidate("symbolic_vector", rosenbrock, x, EXACT_TOLERANCE, count=False),
            _method_candidate("forward", rosenbrock, x, EXACT_TOLERANCE),
            _method_candidate("central", rosenbrock, x, DIFFERENCE_TOLERANCE),
        )
        cases.append(BenchCase("rosenbrock", n, candidates, reference=rosenbrock_gradient(x)))
    return cases


def mlp_cases(seed: int = SEED) -> list[BenchCase]:
    """The 784-128-10 tanh perceptron, mean squared error, batch 64 (101,770 parameters).

    The hand-written baseline is :func:`diffcompare.mlp.symbolic.backprop_gradient`:
    backpropagation with the layer rules SymPy derived, evaluated in numpy.  It is also
    the reference gradient, computed here, so the rules are derived (and cached) before
    any timing and its ``setup_s`` is only the cache lookup.
    """
    net = MLP.random(MLP_LAYERS, "tanh", "mse", batch=MLP_BATCH, seed=seed)
    x = net.random_parameters(seed=seed + 1)

    def hand_backprop():
        rules = layer_rules(net.activation, net.loss)
        return lambda: backprop_gradient(net, x, rules)

    candidates = (
        Candidate(FORWARD, lambda: lambda: net.f(x, numpy_namespace), tolerance=None),
        Candidate("hand_backprop", hand_backprop),
        _method_candidate("autograd", net.f, x, EXACT_TOLERANCE, count=False),
        _method_candidate("tape", net.f, x, EXACT_TOLERANCE, count=False),
    )
    return [BenchCase("mlp", net.dim, candidates, reference=backprop_gradient(net, x))]


#: How each workload builds its cases from a configuration.
_CASE_BUILDERS: dict[str, Callable[[BenchConfig], list[BenchCase]]] = {
    "primitive": lambda config: primitive_cases(config.seed),
    "sin_chain": lambda config: sin_chain_cases(config.chain_lengths, config.seed),
    "rosenbrock": lambda config: rosenbrock_cases(config.sizes, config.seed),
    "mlp": lambda config: mlp_cases(config.seed),
    **{
        name: lambda config, name=name: _adbench(name, config.seed)
        for name in ("gmm", "bundle_adjustment", "lstm")
    },
    **{
        name: lambda config, name=name: _natural(name, config)
        for name in ("natural_rosenbrock", "natural_mlp", "natural_sin")
    },
}


def _natural(workload: str, config: BenchConfig) -> list[BenchCase]:
    from .natural import natural_cases  # it builds on this module's records

    return natural_cases(workload, config.natural_sizes, config.seed)


def _adbench(workload: str, seed: int) -> list[BenchCase]:
    from .adbench import adbench_cases  # it builds on this module's records

    return adbench_cases(workload, seed)


def workload_cases(workload: str, config: BenchConfig) -> list[BenchCase]:
    """The cases of one workload, sized and seeded by ``config``.

    Parameters
    ----------
    workload : str
        One of :data:`~diffcompare.bench.WORKLOADS`.
    config : BenchConfig
        Sizes and seed.

    Returns
    -------
    list of BenchCase
        In increasing size, as :func:`~diffcompare.bench.run_cases` expects.

    Raises
    ------
    ValueError
        If ``workload`` is not one of the workloads.

    Examples
    --------
    >>> [case.size for case in workload_cases("rosenbrock", BenchConfig(sizes=(2, 10)))]
    [2, 10]
    """
    if workload not in _CASE_BUILDERS:
        raise ValueError(f"workload must be among {list(WORKLOADS)}; got {workload!r}")
    return _CASE_BUILDERS[workload](config)
