"""One benchmark run: every configured workload with BLAS pinned to one thread.

:func:`run_benchmark` builds the cases, times them, fits the marginal cost per ``sin``,
judges the goals and records what a reader needs to trust the numbers: versions,
platform, CPU count and the thread settings threadpoolctl reported inside the limit.
"""

from __future__ import annotations

import datetime
import os
import platform
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from importlib import metadata as package_metadata

import pandas as pd

from ..harness.timing import one_blas_thread
from .config import FULL, BenchConfig
from .goals import ISSUE17_GOALS, evaluate_goals
from .marginal import CHAIN_WORKLOAD, marginal_rows
from .measure import BENCH_COLUMNS, run_cases
from .workloads import workload_cases

__all__ = ["BenchRun", "run_benchmark"]


@dataclass(frozen=True)
class BenchRun:
    """A finished benchmark: the tidy table, the goal verdicts and the run's metadata.

    ``goals`` holds the verdicts of issue 6, ``issue17`` those of issue 17 (``None``
    for a run built without them).
    """

    table: pd.DataFrame
    goals: pd.DataFrame
    meta: dict = field(default_factory=dict)
    issue17: pd.DataFrame | None = None


def _versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in ("diffcompare", "numpy", "autograd", "sympy", "torch", "threadpoolctl"):
        try:
            versions[name] = package_metadata.version(name)
        except package_metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def run_benchmark(
    config: BenchConfig = FULL, progress: Callable[[str], None] | None = None, command: str = ""
) -> BenchRun:
    """Run the configured workloads with BLAS pinned to one thread.

    Parameters
    ----------
    config : BenchConfig
        Workloads, sizes, repeats and budgets (:data:`~diffcompare.bench.FULL` or
        :data:`~diffcompare.bench.QUICK`).
    progress : callable, optional
        Called with a line of text before each case.
    command : str, optional
        The command line, recorded in the metadata.

    Returns
    -------
    BenchRun
        The table (:data:`~diffcompare.bench.BENCH_COLUMNS`; after the ``sin_chain``
        rows, the lines fitted through them by
        :func:`~diffcompare.bench.marginal_rows`), the goals of issues 6 and 17
        (:func:`~diffcompare.bench.evaluate_goals`) and metadata: versions, platform, CPU
        count, the thread settings threadpoolctl reported inside the limit, the thread
        environment variables, config and date.
    """
    with one_blas_thread() as threads:
        cases = {name: workload_cases(name, config) for name in config.workloads}
        rows: list[dict] = []
        for name, workload in cases.items():
            measured = run_cases(workload, config, progress)
            rows += measured.to_dict("records")
            if name == CHAIN_WORKLOAD:
                rows += marginal_rows(measured)  # the fitted lines follow the chains they fit
        table = pd.DataFrame(rows, columns=BENCH_COLUMNS)
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
    return BenchRun(
        table,
        evaluate_goals(table, config.budget_s),
        meta,
        evaluate_goals(table, config.budget_s, ISSUE17_GOALS),
    )
