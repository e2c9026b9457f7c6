"""Timing the candidates: one row per (case, method), with statuses, ratios and counts.

Every candidate is set up once (timed once, under the time budget), called once (timed,
under the budget, its gradient checked against the case's reference) and then timed by
:func:`diffcompare.harness.timing.measure`.  Ratios (gradient over forward, tape over autograd)
divide medians taken in the same run, which is what makes them comparable on a shared
machine.
"""

from __future__ import annotations

import math
import tracemalloc
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..budget import BudgetExceeded, time_budget
from ..harness.timing import measure, time_once
from ..truth.accuracy import normwise_relative_error
from .config import BenchConfig
from .workloads import FORWARD, BenchCase, Candidate

__all__ = ["BENCH_COLUMNS", "add_ratios", "bench_row", "format_seconds", "peak_bytes", "run_cases"]

#: Columns of ``bench.csv``, one row per (workload, size, method).
BENCH_COLUMNS = [
    "workload", "size", "method", "status", "median_s", "spread_s", "min_s", "max_s", "repeats", "loops",
    "ratio_to_forward", "ratio_tape_to_autograd", "setup_s", "evaluations", "rel_err", "peak_bytes",
    "message",
]  # fmt: skip

#: Calls slower than this (the first, timed call) are not traced for their peak memory:
#: tracemalloc slows every Python allocation, and the slow rows are not the ones compared.
MEMORY_CALL_LIMIT_S = 1.0

#: Characters of an exception message kept in a row.
MESSAGE_CHARS = 200


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


def peak_bytes(run: Callable[[], Any]) -> int:
    """Peak memory allocated during one call of ``run()``, beyond what was in use before it.

    Measured with :mod:`tracemalloc` (numpy reports its array buffers to it), in a call
    of its own: tracing slows allocation, so it never overlaps a timed call.  What ``run``
    returns counts, what it frees before returning counts only while it is alive.

    Examples
    --------
    >>> peak_bytes(lambda: np.ones(1_000)) >= 8_000
    True
    """
    tracing = tracemalloc.is_tracing()
    if not tracing:
        tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before, _ = tracemalloc.get_traced_memory()
        result = run()
        _, peak = tracemalloc.get_traced_memory()
        del result
    finally:
        if not tracing:
            tracemalloc.stop()
    return peak - before


def bench_row(workload: str, size: int, method: str, status: str, message: str = "", **values) -> dict:
    """One row of :data:`BENCH_COLUMNS`: the given values, NaN elsewhere.

    Examples
    --------
    >>> row = bench_row("rosenbrock", 2, "tape", "ok", median_s=1e-5)
    >>> list(row) == BENCH_COLUMNS, row["median_s"], math.isnan(row["min_s"])
    (True, 1e-05, True)
    """
    row = dict.fromkeys(BENCH_COLUMNS, math.nan)
    row.update(workload=workload, size=size, method=method, status=status)
    row.update(message=message[:MESSAGE_CHARS], **values)
    return row


def _row(case: BenchCase, candidate: Candidate, status: str, message: str = "", **values) -> dict:
    return bench_row(case.workload, case.size, candidate.method, status, message, **values)


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
    if first_s <= MEMORY_CALL_LIMIT_S:
        # A separate, untimed call; if it fails the timing stands.
        try:
            with time_budget(config.budget_s):
                values["peak_bytes"] = peak_bytes(run)
        except Exception as error:  # BudgetExceeded included
            message = "; ".join(filter(None, [message, f"memory not measured: {_describe(error)}"]))
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


def add_ratios(rows: list[dict]) -> None:
    """Fill ``ratio_to_forward`` and, on the tape row, ``ratio_tape_to_autograd`` in place.

    ``rows`` are the rows of one case (one per method); a missing baseline gives NaN.

    Examples
    --------
    >>> rows = [bench_row("w", 2, m, "ok", median_s=s) for m, s in
    ...         [("numpy_forward", 1.0), ("autograd", 8.0), ("tape", 2.0)]]
    >>> add_ratios(rows)
    >>> [row["ratio_to_forward"] for row in rows], rows[2]["ratio_tape_to_autograd"]
    ([1.0, 8.0, 2.0], 0.25)
    """
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
    >>> from diffcompare.bench import rosenbrock_cases
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
        add_ratios(rows)
        table_rows += rows
    return pd.DataFrame(table_rows, columns=BENCH_COLUMNS)
