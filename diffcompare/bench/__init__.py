"""Speed benchmarks: every gradient method on the same workloads, in one process and run.

One module per job:

==============  ==========================================================================
``config``      :class:`BenchConfig` (workloads, sizes, repeats, budgets), :data:`FULL`,
                :data:`QUICK`
``workloads``   the cases: one ``sin`` (``primitive``), chains of 1 to 64 nested ``sin``
                (``sin_chain``), Rosenbrock at n = 2 ... 10,000, the 784-128-10 MLP;
                :class:`Candidate` and :class:`BenchCase` records
``adbench``     ADBench's GMM, bundle adjustment and LSTM as cases with every registered
                method (workloads ``gmm``, ``bundle_adjustment``, ``lstm``, chosen by name),
                and ADBench's GMM figure: gradient over objective time per method and size
                (:func:`adbench_gmm`, ``scripts/adbench_gmm.py``)
``measure``     timing the candidates into rows of :data:`BENCH_COLUMNS`, with statuses,
                ratios and the peak memory of an untimed call (:func:`run_cases`)
``marginal``    the marginal cost per recorded ``sin``: a least-squares line through the
                chains' medians (:func:`fit_marginal_cost`, :func:`marginal_rows`),
                informational, next to the goals
``natural``     natural-style Rosenbrock, MLP and nested ``sin`` timed through
                ``diffcompare.grad`` (issue 17), with hand-derived reference gradients
``costs``       every gradient, HVP and Hessian method against one evaluation of ``f``, and
                the tape-vs-forward Jacobian crossover (``scripts/operator_costs.py``)
``goals``       the goals of issues 6 and 17 as tables and their verdicts
                (:func:`evaluate_goals`)
``run``         a whole run with BLAS pinned to one thread, and its metadata
                (:func:`run_benchmark`)
``report``      ``bench.csv``, ``bench.md`` and ``bench_meta.json``
==============  ==========================================================================

Ratios (gradient over forward, tape over autograd) divide medians taken in the same run,
which is what makes them comparable on a shared machine.  BLAS runs on one thread
(``threadpoolctl``), recorded in the metadata.
"""

from .adbench import ADBENCH_GMM_COLUMNS, GmmStudy, adbench_cases, adbench_gmm, plot_adbench_gmm
from .config import (
    ADBENCH_WORKLOADS,
    DEFAULT_WORKLOADS,
    FULL,
    NATURAL_WORKLOADS,
    QUICK,
    WORKLOADS,
    BenchConfig,
)
from .goals import GOAL_COLUMNS, GOALS, ISSUE17_GOALS, Goal, evaluate_goals
from .marginal import MarginalCost, fit_marginal_cost, marginal_rows
from .measure import BENCH_COLUMNS, format_seconds, peak_bytes, run_cases
from .natural import NaturalMLP, natural_cases, natural_mlp, natural_rosenbrock, nested_sin
from .report import bench_markdown, write_bench_reports
from .run import BenchRun, run_benchmark
from .workloads import (
    BenchCase,
    Candidate,
    CountingFunction,
    count_evaluations,
    mlp_cases,
    primitive_cases,
    rosenbrock_cases,
    rosenbrock_gradient,
    sin_chain,
    sin_chain_cases,
)

__all__ = [
    "ADBENCH_GMM_COLUMNS",
    "ADBENCH_WORKLOADS",
    "BENCH_COLUMNS",
    "DEFAULT_WORKLOADS",
    "GmmStudy",
    "adbench_cases",
    "adbench_gmm",
    "plot_adbench_gmm",
    "FULL",
    "GOALS",
    "GOAL_COLUMNS",
    "ISSUE17_GOALS",
    "NATURAL_WORKLOADS",
    "NaturalMLP",
    "QUICK",
    "WORKLOADS",
    "BenchCase",
    "BenchConfig",
    "BenchRun",
    "Candidate",
    "CountingFunction",
    "Goal",
    "MarginalCost",
    "bench_markdown",
    "count_evaluations",
    "evaluate_goals",
    "fit_marginal_cost",
    "format_seconds",
    "marginal_rows",
    "mlp_cases",
    "natural_cases",
    "natural_mlp",
    "natural_rosenbrock",
    "nested_sin",
    "peak_bytes",
    "primitive_cases",
    "rosenbrock_cases",
    "rosenbrock_gradient",
    "run_benchmark",
    "run_cases",
    "sin_chain",
    "sin_chain_cases",
    "write_bench_reports",
]
