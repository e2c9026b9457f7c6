"""Speed benchmarks: every gradient method on the same workloads, in one process and run.

Three workloads, each a list of :class:`BenchCase` records (a name, a size and one
:class:`Candidate` per method):

* ``primitive``: forward + record + backward of one ``sin`` on a size-1 array, the
  per-operation overhead of a tracer (numpy's own ``sin`` is the baseline; torch only
  where it is importable);
* ``rosenbrock``: the gradient at n = 2 ... 10,000 (numpy forward, a hand-written numpy
  gradient, autograd, the tape, SymPy, forward mode, central differences);
* ``mlp``: the 784-128-10 perceptron with a batch of 64 (numpy forward, the
  SymPy-derived backpropagation rules as the hand-written baseline, autograd, the tape).

Every candidate is set up once (timed once, under the time budget), called once (timed,
under the budget, its gradient checked against the case's reference) and then timed by
:func:`diffcompare.timing.measure`.  Ratios (gradient over forward, tape over autograd)
divide medians taken in the same run, which is what makes them comparable on a shared
machine.  BLAS runs on one thread (``threadpoolctl``), recorded in the metadata.
"""

from __future__ import annotations

import datetime
import json
import math
import os
import platform
import warnings
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from importlib import metadata as package_metadata
from pathlib import Path
from typing import Any

import autograd
import autograd.numpy as anp
import numpy as np
import pandas as pd
from threadpoolctl import threadpool_info, threadpool_limits

from .accuracy import normwise_relative_error
from .backends.numpy_backend import numpy_namespace
from .budget import BudgetExceeded, time_budget
from .functions import rosenbrock
from .methods import METHODS
from .mlp import MLP
from .mlp_symbolic import backprop_gradient, layer_rules
from .records import SEED
from .report import atomic_write
from .timing import measure, time_once

__all__ = [
    "BENCH_COLUMNS",
    "FULL",
    "GOALS",
    "GOAL_COLUMNS",
    "QUICK",
    "WORKLOADS",
    "BenchCase",
    "BenchConfig",
    "BenchRun",
    "Candidate",
    "CountingFunction",
    "Goal",
    "bench_markdown",
    "count_evaluations",
    "evaluate_goals",
    "format_seconds",
    "mlp_cases",
    "primitive_cases",
    "rosenbrock_cases",
    "rosenbrock_gradient",
    "run_benchmark",
    "run_cases",
    "write_bench_reports",
]

#: The workloads, in the order they run.
WORKLOADS = ("primitive", "rosenbrock", "mlp")

#: Columns of ``bench.csv``, one row per (workload, size, method).
BENCH_COLUMNS = [
    "workload", "size", "method", "status", "median_s", "spread_s", "min_s", "max_s", "repeats", "loops",
    "ratio_to_forward", "ratio_tape_to_autograd", "setup_s", "evaluations", "rel_err", "message",
]  # fmt: skip

#: Columns of the goal table.
GOAL_COLUMNS = ["goal", "target", "measured", "status"]

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

#: Characters of an exception message kept in a row.
MESSAGE_CHARS = 200


@dataclass(frozen=True)
class BenchConfig:
    """What to run and how long to spend on it.

    Attributes
    ----------
    workloads : tuple of str
        Any of ``"primitive"``, ``"rosenbrock"``, ``"mlp"``.
    sizes : tuple of int
        Rosenbrock dimensions.
    repeats : int
        Timed runs per candidate (each autoranged to at least ``min_run_time``).
    min_repeats : int
        Fewest timed runs when one call is slow (see ``case_seconds``).
    min_run_time : float
        Least seconds per timed run: per-call times far below the clock's resolution
        are measured over many calls.
    budget_s : float or None
        Time budget of each setup and of each first call; beyond it the row is a
        ``timeout`` and larger sizes of that method are not attempted.
    case_seconds : float
        Time the repeats of one slow candidate may take: with a first call of ``t``
        seconds, ``max(min_repeats, min(repeats, case_seconds // t))`` runs are timed,
        so forward mode at n = 10,000 (seconds per gradient) cannot dominate the run.
    seed : int
        Seed of the Rosenbrock points and of the MLP's data and parameters.
    """

    workloads: tuple[str, ...] = ("primitive", "rosenbrock", "mlp")
    sizes: tuple[int, ...] = (2, 10, 100, 1_000, 10_000)
    repeats: int = 7
    min_repeats: int = 3
    min_run_time: float = 0.05
    budget_s: float | None = 10.0
    case_seconds: float = 10.0
    seed: int = SEED

    def __post_init__(self):
        unknown = set(self.workloads) - set(WORKLOADS)
        if unknown:
            raise ValueError(f"workloads must be among {list(WORKLOADS)}; got {sorted(unknown)}")
        if any(not isinstance(n, int) or isinstance(n, bool) or n < 2 for n in self.sizes):
            raise ValueError(f"sizes must be integers >= 2; got {self.sizes}")
        for name in ("repeats", "min_repeats"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be an integer >= 1; got {value!r}")
        if self.min_run_time < 0 or self.case_seconds < 0:
            raise ValueError("min_run_time and case_seconds must be >= 0")
        if not isinstance(self.seed, int) or isinstance(self.seed, bool) or self.seed < 0:
            raise ValueError(f"seed must be a non-negative integer; got {self.seed!r}")
        if self.budget_s is not None and not self.budget_s > 0:
            raise ValueError(f"budget_s must be > 0 or None; got {self.budget_s!r}")


#: The full run: every size, 7 repeats, 10 s budget (about two minutes on 2 cores).
FULL = BenchConfig()
#: ``--quick``: three sizes, 3 short repeats (1 for slow calls), 2 s budget.
QUICK = BenchConfig(
    sizes=(2, 100, 10_000), repeats=3, min_repeats=1, min_run_time=0.02, budget_s=2.0, case_seconds=2.0
)


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


@dataclass(frozen=True)
class BenchRun:
    """A finished benchmark: the tidy table, the goal verdicts and the run's metadata."""

    table: pd.DataFrame
    goals: pd.DataFrame
    meta: dict = field(default_factory=dict)


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


# --- workloads -------------------------------------------------------------------------


def _method_candidate(method: str, f: Callable, x: np.ndarray, tolerance: float, count: bool = True):
    def setup():
        gradient = METHODS[method].prepare(f, x.size).gradient
        return lambda: gradient(x)

    evaluations = (lambda: count_evaluations(method, f, x)) if count else None
    return Candidate(method, setup, tolerance, evaluations)


def _torch_candidate(x: np.ndarray) -> Candidate:
    try:
        import torch
    except ImportError:
        return Candidate("torch", lambda: None, skip="torch is not importable")

    def setup():
        torch.set_num_threads(1)
        leaf = torch.tensor(x, dtype=torch.float64, requires_grad=True)

        def run():
            torch.sin(leaf).backward()
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
    x = np.array(np.random.default_rng(seed).uniform(-1.0, 1.0))
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

    The hand-written baseline is :func:`diffcompare.mlp_symbolic.backprop_gradient`:
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


_CASE_BUILDERS: dict[str, Callable[[BenchConfig], list[BenchCase]]] = {
    "primitive": lambda config: primitive_cases(config.seed),
    "rosenbrock": lambda config: rosenbrock_cases(config.sizes, config.seed),
    "mlp": lambda config: mlp_cases(config.seed),
}


# --- measuring -------------------------------------------------------------------------


def _row(case: BenchCase, candidate: Candidate, status: str, message: str = "", **values) -> dict:
    row = dict.fromkeys(BENCH_COLUMNS, math.nan)
    row.update(workload=case.workload, size=case.size, method=candidate.method, status=status)
    row.update(message=message[:MESSAGE_CHARS], **values)
    return row


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


def _repeats_for(first_s: float, config: BenchConfig) -> int:
    # Slow calls get fewer runs: the median of 3 runs of a 3 s gradient says as much as
    # the median of 7, and the full run has to finish in minutes.
    if first_s <= 0:
        return config.repeats
    fitting = int(config.case_seconds // first_s)
    return max(min(config.min_repeats, config.repeats), min(config.repeats, fitting))


def _run_candidate(case: BenchCase, candidate: Candidate, config: BenchConfig) -> dict:
    if candidate.skip:
        return _row(case, candidate, "skipped", candidate.skip)
    values: dict[str, Any] = {}
    try:
        with time_budget(config.budget_s):
            run, values["setup_s"] = time_once(candidate.setup)
        # The first call is the warm-up, the correctness check and the cost estimate.
        with time_budget(config.budget_s):
            result, first_s = time_once(run)
        status, message = "ok", ""
        if candidate.tolerance is not None and case.reference is not None:
            result = np.asarray(result, dtype=np.float64)
            if result.size != case.reference.size:
                raise ValueError(f"gradient has {result.size} entries; expected {case.reference.size}")
            values["rel_err"] = normwise_relative_error(result.reshape(case.reference.shape), case.reference)
            if not values["rel_err"] <= candidate.tolerance:
                status = "wrong"
                message = f"relative error {values['rel_err']:.3g} > {candidate.tolerance:g} to the reference"
        timing = measure(
            run, repeats=_repeats_for(first_s, config), min_run_time=config.min_run_time, warmup=0
        )
    except BudgetExceeded as error:
        return _row(case, candidate, "timeout", str(error), **values)
    except Exception as error:  # a failing method is a row, the run goes on
        return _row(case, candidate, "error", _describe(error), **values)
    if candidate.evaluations is not None:
        # Counting is a separate, untimed gradient call; if it fails the timing stands.
        try:
            with time_budget(config.budget_s):
                values["evaluations"] = candidate.evaluations()
        except Exception as error:  # BudgetExceeded included
            message = "; ".join(filter(None, [message, f"evaluations not counted: {_describe(error)}"]))
    return _row(
        case,
        candidate,
        status,
        message,
        median_s=timing.median,
        # measure reports the interquartile range relative to the median; the table
        # gives it in seconds, next to the fastest and slowest run.
        spread_s=timing.spread * timing.median,
        min_s=timing.minimum,
        max_s=timing.maximum,
        repeats=timing.runs,
        loops=timing.loops,
        **values,
    )


def _add_ratios(rows: list[dict]) -> None:
    medians = {row["method"]: row["median_s"] for row in rows}
    forward = medians.get(FORWARD, math.nan)
    autograd_s = medians.get("autograd", math.nan)
    for row in rows:
        row["ratio_to_forward"] = row["median_s"] / forward
        if row["method"] == "tape":
            row["ratio_tape_to_autograd"] = row["median_s"] / autograd_s


def run_cases(
    cases: Sequence[BenchCase], config: BenchConfig, progress: Callable[[str], None] | None = None
) -> pd.DataFrame:
    """Run every candidate of every case; one row each, in order (see :data:`BENCH_COLUMNS`).

    Statuses: ``ok``; ``wrong`` (timed, but the gradient is off by more than the
    candidate's tolerance); ``error`` (it raised; ``message`` says what); ``timeout``
    (setup or first call over ``config.budget_s``, and every larger size of the same
    workload and method after it); ``skipped`` (e.g. torch not installed).  Cases must
    be in increasing size within a workload for the timeout carry-over to make sense.

    Examples
    --------
    >>> config = BenchConfig(workloads=("rosenbrock",), sizes=(2,), repeats=1, min_run_time=0.0)
    >>> table = run_cases(rosenbrock_cases([2])[:1], config)
    >>> list(table["status"].unique())
    ['ok']
    """
    table_rows = []
    timed_out: dict[tuple[str, str], int] = {}
    for case in cases:
        if progress is not None:
            progress(f"bench {case.workload} n={case.size}")
        rows = []
        for candidate in case.candidates:
            earlier = timed_out.get((case.workload, candidate.method))
            if earlier is not None:
                message = f"not attempted: timed out at n = {earlier:,} (budget {config.budget_s:g} s)"
                rows.append(_row(case, candidate, "timeout", message))
                continue
            # Hard points are not benchmarked; overflow warnings would only be noise.
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                row = _run_candidate(case, candidate, config)
            if row["status"] == "timeout":
                timed_out[(case.workload, candidate.method)] = case.size
            rows.append(row)
        _add_ratios(rows)
        table_rows += rows
    return pd.DataFrame(table_rows, columns=BENCH_COLUMNS)


def _versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in ("diffcompare", "numpy", "autograd", "sympy", "torch", "threadpoolctl"):
        try:
            versions[name] = package_metadata.version(name)
        except package_metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def _thread_settings() -> list[dict]:
    keys = ("user_api", "internal_api", "num_threads", "version", "threading_layer", "prefix")
    return [{key: info.get(key) for key in keys} for info in threadpool_info()]


def run_benchmark(
    config: BenchConfig = FULL, progress: Callable[[str], None] | None = None, command: str = ""
) -> BenchRun:
    """Run the configured workloads with BLAS pinned to one thread.

    Parameters
    ----------
    config : BenchConfig
        Workloads, sizes, repeats and budgets (:data:`FULL` or :data:`QUICK`).
    progress : callable, optional
        Called with a line of text before each case.
    command : str, optional
        The command line, recorded in the metadata.

    Returns
    -------
    BenchRun
        The table (:data:`BENCH_COLUMNS`), the goals of issue 6 (:func:`evaluate_goals`)
        and metadata: versions, platform, CPU count, the thread settings threadpoolctl
        reported inside the limit, the thread environment variables, config and date.
    """
    # One BLAS thread: a matmul's time then does not depend on what else the machine
    # runs, and numpy, autograd and the tape all call the same single-threaded kernels.
    with threadpool_limits(limits=1):
        threads = _thread_settings()
        cases = [case for name in config.workloads for case in _CASE_BUILDERS[name](config)]
        table = run_cases(cases, config, progress)
    meta = {
        "command": command,
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "versions": _versions(),
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "usable_cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "threadpool_limits": 1,
        "threads": threads,
        "thread_env": {
            name: os.environ.get(name)
            for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
        },
        "config": asdict(config),
    }
    return BenchRun(table, evaluate_goals(table, config.budget_s), meta)


# --- the goals of issue 6 --------------------------------------------------------------


@dataclass(frozen=True)
class Goal:
    """One target of issue 6: ``check(table, budget_s) -> (measured, status)``."""

    name: str
    target: str
    check: Callable[[pd.DataFrame, float | None], tuple[str, str]]


def format_seconds(seconds: float) -> str:
    """``1.5e-06`` -> ``'1.5 us'``: three significant digits in the unit that fits.

    Examples
    --------
    >>> format_seconds(1.5e-6), format_seconds(0.0123), format_seconds(2.0), format_seconds(math.nan)
    ('1.5 us', '12.3 ms', '2 s', '')
    """
    if not math.isfinite(seconds):
        return ""
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if abs(seconds) >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


def _rows(table: pd.DataFrame, workload: str, method: str) -> pd.DataFrame:
    return table[(table["workload"] == workload) & (table["method"] == method)]


def _unusable(*groups: pd.DataFrame) -> tuple[str, str] | None:
    """``(measured, status)`` when a group of needed rows is empty or has a row not ``ok``."""
    for rows in groups:
        if rows.empty:
            return "not run", "not measured"
        bad = rows[rows["status"] != "ok"]
        if bad.empty:
            continue
        first = bad.iloc[0]
        text = f"{first['method']} n = {first['size']:,}: {first['status']}"
        # A timeout (budgets are seconds, the targets micro- to milliseconds), an error
        # or a wrong gradient all miss the goal; a skipped row says nothing.
        if first["status"] == "skipped":
            return text, "not measured"
        return text, "fail"
    return None


def _verdict(passed: bool) -> str:
    return "pass" if passed else "fail"


def _tape_primitive(table, budget_s):
    rows = _rows(table, "primitive", "tape")
    unusable = _unusable(rows)
    if unusable:
        return unusable
    seconds = float(rows["median_s"].iloc[0])
    return format_seconds(seconds), _verdict(seconds <= 2e-6)


def _rosenbrock_tape(table, budget_s):
    required = (2, 10, 100, 1_000, 10_000)
    rows = _rows(table, "rosenbrock", "tape")
    rows = rows[rows["size"].isin(required)]
    unusable = _unusable(rows, _rows(table, "rosenbrock", "autograd"))
    if unusable:
        return unusable
    pairs = zip(rows["size"], rows["ratio_tape_to_autograd"], strict=True)
    ratios = {n: ratio for n, ratio in pairs if math.isfinite(ratio)}  # NaN: no autograd time at n
    if not ratios:
        return "no autograd time at the tape's sizes", "not measured"
    worst = max(ratios, key=ratios.get)
    measured = f"worst {ratios[worst]:.2f} at n = {worst:,}"
    if any(ratio > 1 / 3 for ratio in ratios.values()):
        return measured, "fail"
    missing = [n for n in required if n not in ratios]
    if missing:
        return measured + f"; n = {', '.join(f'{n:,}' for n in missing)} not run", "incomplete"
    return measured, "pass"


def _mlp_tape_over(method: str, limit: float):
    def check(table, budget_s):
        tape, other = _rows(table, "mlp", "tape"), _rows(table, "mlp", method)
        unusable = _unusable(tape, other)
        if unusable:
            return unusable
        ratio = float(tape["median_s"].iloc[0] / other["median_s"].iloc[0])
        return f"{ratio:.2f}", _verdict(ratio <= limit)

    return check


def _symbolic_row(table):
    # The goal asks for the vectorised symbolic form; the scalar-symbol method keeps its
    # own rows (and times out from n = 1,000), as the issue expects.
    rows = _rows(table, "rosenbrock", "symbolic_vector")
    return rows[rows["size"] == 10_000]


def _symbolic_setup(table, budget_s):
    rows = _symbolic_row(table)
    if not rows.empty and rows["status"].iloc[0] == "timeout":
        # A timeout proves "over 2 s" only when the budget was at least 2 s.
        if budget_s is None or budget_s >= 2.0:
            return f"timeout (> {budget_s or 2:g} s)", "fail"
        return f"timeout at {budget_s:g} s budget", "not measured"
    if not rows.empty and rows["status"].iloc[0] == "wrong" and math.isfinite(rows["setup_s"].iloc[0]):
        return f"{format_seconds(rows['setup_s'].iloc[0])}, gradient wrong", "fail"
    unusable = _unusable(rows)
    if unusable:
        return unusable
    seconds = float(rows["setup_s"].iloc[0])
    return format_seconds(seconds), _verdict(seconds < 2.0)


def _symbolic_eval(table, budget_s):
    rows = _symbolic_row(table)
    forward = _rows(table, "rosenbrock", FORWARD)
    unusable = _unusable(rows, forward[forward["size"] == 10_000])
    if unusable:
        return unusable
    ratio = float(rows["ratio_to_forward"].iloc[0])
    return f"{ratio:.2f}x forward", _verdict(ratio <= 3.0)


def _central_evaluations(table, budget_s):
    rows = _rows(table, "rosenbrock", "central")
    rows = rows[np.isfinite(rows["evaluations"].astype(float))]
    if rows.empty:
        return "not run", "not measured"
    sizes, counts = rows["size"].to_numpy(), rows["evaluations"].to_numpy()
    # The count is exact; the time per evaluation says whether anything else costs per
    # coordinate: central time / (evaluations x forward time) near 1 means nothing does.
    per_evaluation = rows["ratio_to_forward"].to_numpy() / counts
    extra = counts - 2 * sizes
    if np.all(extra == extra[0]):
        pattern = "2n" if extra[0] == 0 else f"2n {'+' if extra[0] > 0 else '-'} {abs(int(extra[0]))}"
    else:
        pattern = ", ".join(map(str, counts)) + " evaluations"
    measured = (
        f"{pattern} at n = {', '.join(f'{n:,}' for n in sizes)}; "
        f"time / (evaluations x forward) {np.nanmin(per_evaluation):.2f}-{np.nanmax(per_evaluation):.2f}"
    )
    return measured, _verdict(bool(np.all(counts <= 2 * sizes + 1)))


#: The goals of issue 6 that one benchmark run can decide.
GOALS: tuple[Goal, ...] = (
    Goal("tape per-primitive overhead (one sin, forward + record + backward)", "<= 2 us", _tape_primitive),
    Goal("Rosenbrock gradient: tape / autograd, n = 2 ... 10,000", "<= 1/3", _rosenbrock_tape),
    Goal("MLP 784-128-10 (batch 64): tape / autograd", "<= 0.8", _mlp_tape_over("autograd", 0.8)),
    Goal("MLP 784-128-10 (batch 64): tape / hand backprop", "<= 1.3", _mlp_tape_over("hand_backprop", 1.3)),
    Goal("symbolic_vector Rosenbrock n = 10,000: setup", "< 2 s", _symbolic_setup),
    Goal("symbolic_vector Rosenbrock n = 10,000: evaluation / numpy forward", "<= 3", _symbolic_eval),
    Goal("central differences: evaluations of f per gradient", "<= 2n + 1", _central_evaluations),
)  # fmt: skip


def evaluate_goals(table: pd.DataFrame, budget_s: float | None = None) -> pd.DataFrame:
    """Judge each of :data:`GOALS` on a benchmark table.

    Parameters
    ----------
    table : pandas.DataFrame
        Rows as :func:`run_cases` returns them.
    budget_s : float, optional
        The budget the table was measured with: a symbolic ``timeout`` fails the 2 s
        setup goal only if the budget was at least 2 s.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`GOAL_COLUMNS`; ``status`` is ``pass``, ``fail``, ``incomplete``
        (what ran passes, some required sizes did not run) or ``not measured``.
    """
    rows = []
    for goal in GOALS:
        measured, status = goal.check(table, budget_s)
        rows.append({"goal": goal.name, "target": goal.target, "measured": measured, "status": status})
    return pd.DataFrame(rows, columns=GOAL_COLUMNS)


# --- reports ---------------------------------------------------------------------------


def _cell(value: Any) -> str:
    if isinstance(value, float | np.floating):
        return "" if math.isnan(value) else f"{value:.3g}"
    return str(value).replace("|", "\\|").replace("\n", " ")


def _markdown_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(value) for value in row) + " |" for row in rows]
    return "\n".join(lines)


def _results_table(table: pd.DataFrame) -> str:
    header = ["workload", "n", "method", "status", "median", "IQR", "runs", "x forward", "tape / autograd",
              "setup", "f evals", "message"]  # fmt: skip
    rows = [
        [
            row.workload,
            f"{row.size:,}",
            row.method,
            row.status,
            format_seconds(row.median_s),
            format_seconds(row.spread_s),
            "" if math.isnan(row.repeats) else int(row.repeats),
            row.ratio_to_forward,
            row.ratio_tape_to_autograd,
            format_seconds(row.setup_s),
            "" if math.isnan(row.evaluations) else int(row.evaluations),
            row.message,
        ]
        for row in table.itertuples(index=False)
    ]
    return _markdown_table(header, rows)


def _threads_text(meta: dict) -> str:
    threads = meta.get("threads") or []
    if not threads:
        return "threadpoolctl found no BLAS or OpenMP library"
    return "; ".join(
        f"{info.get('internal_api')} {info.get('version')} ({info.get('user_api')}): "
        f"{info.get('num_threads')} thread(s)"
        for info in threads
    )


def bench_markdown(table: pd.DataFrame, goals: pd.DataFrame, meta: dict) -> str:
    """The Markdown report: run header, the goals of issue 6 with verdicts, every row."""
    versions = meta.get("versions", {})
    config = meta.get("config", {})
    version_text = ", ".join(f"{name} {versions[name]}" for name in versions)
    parts = [
        "# diffcompare benchmarks",
        f"Command: `{meta.get('command', '')}`, {meta.get('date', '')}; seed {config.get('seed', '')}.",
        f"{version_text}. {meta.get('platform', '')}, {meta.get('cpu_count', '')} CPUs "
        f"({meta.get('usable_cpus', '')} usable). Threads, inside `threadpool_limits(1)`: "
        f"{_threads_text(meta)}.",
        f"Each time is the median per call over `runs` timed runs (up to {config.get('repeats', '')}; "
        f"fewer for calls slower than {config.get('case_seconds', '')} s / runs), each run "
        f"autoranged to at least {config.get('min_run_time', '')} s, after one untimed warm-up "
        "call that is also checked against the reference gradient (hand-written for Rosenbrock "
        "and the MLP, `cos` for `sin`). IQR is the interquartile range of the runs. `x forward` "
        "divides by `numpy_forward` at the same size, `tape / autograd` is on the tape row; "
        "every ratio comes from this one run. Setup (tracing, `sympy.diff`, compiling) is "
        f"timed once; setups and first calls have a {config.get('budget_s', '')} s budget.",
        "## Goals of issue 6",
        _markdown_table(GOAL_COLUMNS, goals.itertuples(index=False)),
        "## Results",
        _results_table(table),
    ]
    return "\n\n".join(parts) + "\n"


def write_bench_reports(folder: str | os.PathLike, run: BenchRun) -> list[Path]:
    """Write ``bench.csv``, ``bench.md`` and ``bench_meta.json`` atomically into ``folder``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    return [
        atomic_write(folder / "bench.csv", run.table.to_csv(index=False, float_format="%.6g")),
        atomic_write(folder / "bench.md", bench_markdown(run.table, run.goals, run.meta)),
        atomic_write(folder / "bench_meta.json", json.dumps(run.meta, indent=2, default=str) + "\n"),
    ]
