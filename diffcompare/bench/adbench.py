"""The ADBench workloads as benchmark cases, and ADBench's GMM comparison.

:func:`adbench_cases` turns a workload record (:mod:`diffcompare.suite.workloads`) into
a :class:`~diffcompare.bench.BenchCase` with one candidate per registered method,
for the benchmark's ``gmm``, ``bundle_adjustment`` and ``lstm`` workloads.

:func:`adbench_gmm` is ADBench's figure for GMM: for each size ``(d, k, n)`` and every
method of :data:`diffcompare.methods.METHODS` (read at run time, so a method added
later appears), the time of one gradient divided by the time of one objective
evaluation, both medians of repeated runs with BLAS on one thread.  Each method has a
time budget for its setup and for its first gradient; a method that exceeds it, refuses
the function or fails gets a row with that status and the message, and is not attempted
at larger sizes (rows ``timeout`` with "not attempted").  No row is ever missing.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..budget import BudgetExceeded, time_budget
from ..harness.timing import measure, one_blas_thread, time_once
from ..methods import METHODS
from ..ops.numpy_namespace import numpy_namespace
from ..suite.records import SEED
from ..suite.workloads import WorkloadFunction, bundle_adjustment, gmm, lstm
from .workloads import DIFFERENCE_TOLERANCE, EXACT_TOLERANCE, FORWARD, BenchCase, Candidate

__all__ = [
    "ADBENCH_GMM_COLUMNS",
    "AGREEMENT_REFERENCES",
    "FULL_GMM_SIZES",
    "QUICK_GMM_SIZES",
    "GmmStudy",
    "adbench_cases",
    "adbench_gmm",
    "plot_adbench_gmm",
    "workload_record",
]

#: Columns of ``adbench_gmm.csv``, one row per (size, method).
ADBENCH_GMM_COLUMNS = [
    "d", "k", "n", "params", "method", "status", "setup_s", "objective_s", "gradient_s", "ratio",
    "rel_to_tape", "rel_to_autograd", "message",
]  # fmt: skip

#: The independent gradients every method's is compared with, normwise
#: (``|g - r| / |r|``): the columns ``rel_to_tape`` and ``rel_to_autograd``.
AGREEMENT_REFERENCES = ("tape", "autograd")


def _parameters(size: tuple[int, int, int]) -> int:
    d, k, _ = size
    return k * (1 + d + d * (d + 1) // 2)


#: ADBench's GMM grid with n = 1,000 (k up to 50), in increasing parameter count.
FULL_GMM_SIZES = tuple(
    sorted(((d, k, 1_000) for d in (2, 10, 20, 32, 64) for k in (5, 10, 25, 50)), key=_parameters)
)
#: ``--quick``: three small sizes.
QUICK_GMM_SIZES = ((2, 5, 1_000), (2, 10, 1_000), (10, 5, 1_000))

#: Each benchmark workload at the size it is timed: ADBench's smallest instances.
_BENCH_RECORDS: dict[str, Callable[[int], WorkloadFunction]] = {
    "gmm": lambda seed: gmm(10, 25, 1_000, seed=seed),
    "bundle_adjustment": lambda seed: bundle_adjustment(49, 7_776, 31_843, seed=seed),
    "lstm": lambda seed: lstm(2, 1_024, seed=seed),
}


def workload_record(workload: str, seed: int = SEED) -> WorkloadFunction:
    """The record a benchmark workload times (``gmm``, ``bundle_adjustment``, ``lstm``)."""
    if workload not in _BENCH_RECORDS:
        raise ValueError(f"workload must be one of {list(_BENCH_RECORDS)}; got {workload!r}")
    return _BENCH_RECORDS[workload](seed)


def adbench_cases(workload: str, seed: int = SEED) -> list[BenchCase]:
    """One case: the numpy objective and every registered method on the workload.

    The reference gradient is autograd's (an independent package); each method's
    tolerance is the benchmark's for its family.
    """
    record = workload_record(workload, seed)
    x = record.points_for(seed, 1)[0]
    f = record.f

    def candidate(method: str) -> Candidate:
        def setup():
            gradient = METHODS[method].prepare(f, x.size).gradient
            return lambda: gradient(x)

        exact = METHODS[method].family == "exact"
        return Candidate(method, setup, EXACT_TOLERANCE if exact else DIFFERENCE_TOLERANCE)

    reference = METHODS["autograd"].prepare(f, x.size).gradient(x)
    candidates = (
        Candidate(FORWARD, lambda: lambda: f(x, numpy_namespace), tolerance=None),
        *(candidate(method) for method in METHODS),
    )
    return [BenchCase(workload, record.dim, candidates, reference=reference)]


# --- ADBench's GMM figure ---------------------------------------------------------------------


@dataclass(frozen=True)
class GmmStudy:
    """How the GMM comparison is run.

    Attributes
    ----------
    sizes : tuple of (d, k, n)
        In the order run; a method that stops is not attempted at any size with as many
        parameters or more.
    budget_s : float
        Seconds for one method's setup, and again for its first gradient.
    repeats : int
        Timed runs of the objective and of each gradient (medians reported).
    min_run_time : float
        Least seconds per timed run (fast calls are looped).
    seed : int
        Seed of the data and of the point.
    """

    sizes: tuple[tuple[int, int, int], ...] = FULL_GMM_SIZES
    budget_s: float = 10.0
    repeats: int = 5
    min_run_time: float = 0.05
    seed: int = SEED

    def __post_init__(self):
        if not self.sizes or any(len(s) != 3 for s in self.sizes):
            raise ValueError(f"sizes must be (d, k, n) triples; got {self.sizes!r}")
        if not self.budget_s > 0:
            raise ValueError(f"budget_s must be > 0; got {self.budget_s!r}")
        if isinstance(self.repeats, bool) or not isinstance(self.repeats, int) or self.repeats < 1:
            raise ValueError(f"repeats must be an integer >= 1; got {self.repeats!r}")


def _row(d, k, n, params, method, status, message="", **values) -> dict:
    row = dict.fromkeys(ADBENCH_GMM_COLUMNS, math.nan)
    row.update(d=d, k=k, n=n, params=params, method=method, status=status, message=message[:200], **values)
    return row


def _agreement_references(record, x, study: GmmStudy, gradients: dict) -> dict[str, np.ndarray]:
    """The tape's and autograd's gradients at ``x``: from this size's rows where they ran
    (``gradients``), computed here otherwise (a reference that fails is left out)."""
    references = {}
    for method in AGREEMENT_REFERENCES:
        if method in gradients:
            references[method] = gradients[method]
            continue
        try:
            with time_budget(2 * study.budget_s):
                references[method] = METHODS[method].prepare(record.f, record.dim).gradient(x)
        except Exception:  # its column stays NaN; its own row says why
            continue
    return references


def _relative_differences(gradient: np.ndarray, references: dict[str, np.ndarray]) -> dict[str, float]:
    return {
        f"rel_to_{name}": float(np.linalg.norm(gradient - r) / np.linalg.norm(r))
        for name, r in references.items()
    }


def _gradient_row(record, x, method, objective_s, study: GmmStudy) -> tuple[dict, np.ndarray | None]:
    """The method's row at this size, and its first gradient (None if it gave none)."""
    sizes = dict(record.sizes)
    d, k, n = sizes["d"], sizes["k"], sizes["n"]
    values = {"objective_s": objective_s}
    first = None
    try:
        with time_budget(study.budget_s):
            prepared, values["setup_s"] = time_once(lambda: METHODS[method].prepare(record.f, record.dim))
        with time_budget(study.budget_s):
            first, first_s = time_once(lambda: prepared.gradient(x))
        if not np.all(np.isfinite(first)):
            message = "the gradient has inf or nan entries"
            return _row(d, k, n, record.dim, method, "nonfinite", message, **values), first
        # slow gradients get fewer runs, so a method near the budget cannot stall the study
        repeats = max(1, min(study.repeats, int(study.budget_s // max(first_s, 1e-9))))
        timing = measure(
            lambda: prepared.gradient(x), repeats=repeats, min_run_time=study.min_run_time, warmup=0
        )
    except BudgetExceeded as error:
        return _row(d, k, n, record.dim, method, "timeout", str(error), **values), first
    except NotImplementedError as error:
        message = f"{type(error).__name__}: {error}"
        return _row(d, k, n, record.dim, method, "unsupported", message, **values), first
    except Exception as error:  # a failing method is a row; the study goes on
        return _row(d, k, n, record.dim, method, "error", f"{type(error).__name__}: {error}", **values), first
    row = _row(
        d,
        k,
        n,
        record.dim,
        method,
        "ok",
        gradient_s=timing.median,
        ratio=timing.median / objective_s,
        **values,
    )
    return row, first


def adbench_gmm(
    study: GmmStudy = GmmStudy(),
    methods: Sequence[str] | None = None,
    progress: Callable[[str], None] | None = None,
) -> pd.DataFrame:
    """Gradient time over objective time for every method at each GMM size.

    Parameters
    ----------
    study : GmmStudy
        Sizes, budget, repeats, seed.
    methods : sequence of str, optional
        Method names (default: every method in :data:`~diffcompare.methods.METHODS`,
        read when called).
    progress : callable, optional
        Called with a line of text before each size.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`ADBENCH_GMM_COLUMNS`; one row per size and method (with the
        normwise relative difference of its gradient from the tape's and autograd's,
        :data:`AGREEMENT_REFERENCES`), statuses
        ``ok``, ``timeout``, ``unsupported``, ``error``, ``nonfinite``; after a method
        stops, its rows at sizes with as many parameters or more repeat that status with
        the message "not attempted: ...".
    """
    chosen = list(METHODS) if methods is None else list(methods)
    unknown = [m for m in chosen if m not in METHODS]
    if unknown:
        raise ValueError(f"methods must be among {list(METHODS)}; got {unknown}")
    stopped: dict[str, tuple[int, str, str]] = {}  # method -> (parameters, status, message)
    rows = []
    with one_blas_thread(), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for d, k, n in study.sizes:
            record = gmm(d, k, n, seed=study.seed)
            x = record.points_for(study.seed, 1)[0]
            if progress is not None:
                progress(f"gmm d={d} k={k} n={n}: {record.dim} parameters")
            objective = measure(
                lambda r=record, x=x: r.f(x, numpy_namespace),
                repeats=study.repeats,
                min_run_time=study.min_run_time,
            )
            gradients = {}  # method -> its first gradient at this size
            size_rows = []
            for method in chosen:
                if method in stopped and record.dim >= stopped[method][0]:
                    _, status, message = stopped[method]
                    size_rows.append(
                        _row(d, k, n, record.dim, method, status, message, objective_s=objective.median)
                    )
                    continue
                row, first = _gradient_row(record, x, method, objective.median, study)
                if first is not None:
                    gradients[method] = first
                if row["status"] != "ok" and record.dim < stopped.get(method, (math.inf,))[0]:
                    message = f"not attempted: {row['status']} at d={d} k={k} n={n} ({record.dim} parameters)"
                    stopped[method] = (record.dim, row["status"], message)
                size_rows.append(row)
            # each gradient beside the tape's and autograd's, reused from their own rows
            references = _agreement_references(record, x, study, gradients)
            for row in size_rows:
                if row["method"] in gradients:
                    row.update(_relative_differences(gradients[row["method"]], references))
            rows.extend(size_rows)
    return pd.DataFrame(rows, columns=ADBENCH_GMM_COLUMNS)


def plot_adbench_gmm(table: pd.DataFrame, path) -> None:
    """Log-log plot of the ratio against the parameter count, one line per method.

    Where a method stopped, its line ends in a cross at the parameter count of that size
    (placed at its last measured ratio, or at the top of the axes if it never ran).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 5.5))
    measured = table[table["status"] == "ok"]
    top = measured["ratio"].max() if len(measured) else 10.0
    never = 0  # methods that never ran: crosses stacked above the measured lines
    for method, rows in table.groupby("method", sort=False):
        ok = rows[rows["status"] == "ok"].groupby("params")["ratio"].median()
        (line,) = ax.plot(ok.index, ok.values, marker="o", markersize=3, label=method)
        first_stop = rows[rows["status"] != "ok"].sort_values("params").head(1)
        for _, stop in first_stop.iterrows():
            if len(ok):
                y, text = ok.values[-1], stop["status"]
            else:
                never += 1
                y, text = top * 2.5**never, f"{method}: {stop['status']}"
            ax.plot([stop["params"]], [y], marker="x", markersize=9, color=line.get_color())
            ax.annotate(text, (stop["params"], y), fontsize=7, color=line.get_color(),
                        xytext=(5, -3), textcoords="offset points")  # fmt: skip
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("parameters (k (1 + d + d(d+1)/2))")
    ax.set_ylabel("time(gradient) / time(objective)")
    n_values = sorted(set(table["n"]))
    ax.set_title(
        f"GMM with a Wishart prior, n = {', '.join(map(str, n_values))}: x marks where a method stops"
    )
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8, ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
