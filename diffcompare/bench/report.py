"""The benchmark's files: ``bench.csv`` (the tidy table), ``bench.md`` and ``bench_meta.json``.

The Markdown report opens with the run's header (command, versions, threads, how the
times were taken), then the goals of issues 6 and 17 with their verdicts, the informational
marginal cost per recorded ``sin`` next to them, then every measured row.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..harness.report import atomic_write
from .goals import GOAL_COLUMNS
from .marginal import CHAIN_WORKLOAD, INTERCEPT_WORKLOAD, SLOPE_WORKLOAD
from .measure import format_seconds
from .run import BenchRun

__all__ = ["bench_markdown", "write_bench_reports"]

#: Workloads of fitted lines, not timings: reported in their own section.
_FITTED = (SLOPE_WORKLOAD, INTERCEPT_WORKLOAD)


def _cell(value: Any) -> str:
    if isinstance(value, float | np.floating):
        return "" if math.isnan(value) else f"{value:.3g}"
    return str(value).replace("|", "\\|").replace("\n", " ")


def _markdown_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(value) for value in row) + " |" for row in rows]
    return "\n".join(lines)


def _format_bytes(count: float) -> str:
    """``2.5e6`` -> ``'2.38 MiB'``; blank for NaN."""
    if math.isnan(count):
        return ""
    for unit, scale in (("MiB", 2.0**20), ("KiB", 2.0**10)):
        if count >= scale:
            return f"{count / scale:.3g} {unit}"
    return f"{int(count)} B"


def _results_table(table: pd.DataFrame) -> str:
    header = ["workload", "n", "method", "status", "median", "IQR", "runs", "x forward", "tape / autograd",
              "setup", "f evals", "peak memory", "message"]  # fmt: skip
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
            _format_bytes(row.peak_bytes),
            row.message,
        ]
        for row in table.itertuples(index=False)
    ]
    return _markdown_table(header, rows)


_MARGINAL_TEXT = (
    "Not a goal: the goal on the tape's per-primitive overhead above keeps the issue's "
    "definition, one `sin` recorded and walked back, and that time is mostly paid once per call "
    "(a leaf node, the output check, setting up the walk). Here `sin(sin(...sin(x)))` with k "
    "nested `sin` on the same size-1 array is timed like every other row (the `sin_chain` rows "
    "under Results), and a least-squares line through the medians, time = fixed + k x marginal, "
    "separates what one more recorded `sin` costs (the slope: its value, its node, its step of the "
    "backward walk) from the fixed cost of a call (the intercept). The standard error comes from "
    "the scatter about the line. In `bench.csv` these are the `sin_chain_slope` and "
    "`sin_chain_intercept` rows (`median_s` the fitted value, `spread_s` its standard error)."
)


def _marginal_section(table: pd.DataFrame) -> list[str]:
    fitted = table[table["workload"].isin(_FITTED)]
    if fitted.empty:
        return []
    lengths = table.loc[table["workload"] == CHAIN_WORKLOAD, "size"]
    span = f"{lengths.min():,}-{lengths.max():,}" if not lengths.empty else "several"
    labels = {
        SLOPE_WORKLOAD: f"marginal cost per sin (slope over chains of {span} sins)",
        INTERCEPT_WORKLOAD: "fixed cost per call (intercept)",
    }
    header = ["informational figure", "status", "fitted", "std. error", "x numpy_forward", "tape / autograd",
              "message"]  # fmt: skip
    rows = []
    for method in dict.fromkeys(fitted["method"]):
        for workload, label in labels.items():
            matches = fitted[(fitted["workload"] == workload) & (fitted["method"] == method)]
            for row in matches.itertuples(index=False):
                message = "" if row.status == "ok" else row.message  # the ok rows' note is the text above
                seconds = [format_seconds(row.median_s), format_seconds(row.spread_s)]
                ratios = [row.ratio_to_forward, row.ratio_tape_to_autograd]
                rows.append([f"{method} {label}", row.status, *seconds, *ratios, message])
    return [
        "## Marginal cost per recorded sin (informational)",
        _MARGINAL_TEXT,
        _markdown_table(header, rows),
    ]


_ISSUE17_TEXT = (
    "Speed as users see it: every row of the `natural_*` workloads is a call of "
    "`diffcompare.grad(f, method)` (the point checked, the singular-point check included) on "
    "functions written in a natural style (`diffcompare.bench.natural`): Rosenbrock with slices, "
    "the MLP as `tanh(X @ W1 + b1) @ W2 + b2` with the weights reshaped from slices of x and a "
    "max-shifted log-softmax cross-entropy, 100 nested `sin` on one element. Each ratio divides "
    "medians of this run; the medians are quoted with their interquartile ranges. Peak memory is "
    "the tracemalloc peak of one further, untimed call."
)


def _issue17_section(issue17: pd.DataFrame | None) -> list[str]:
    if issue17 is None:
        return []
    table = _markdown_table(GOAL_COLUMNS, issue17.itertuples(index=False))
    return ["## Goals of issue 17", _ISSUE17_TEXT, table]


def _threads_text(meta: dict) -> str:
    threads = meta.get("threads") or []
    if not threads:
        return "threadpoolctl found no BLAS or OpenMP library"
    return "; ".join(
        f"{info.get('internal_api')} {info.get('version')} ({info.get('user_api')}): "
        f"{info.get('num_threads')} thread(s)"
        for info in threads
    )


def bench_markdown(
    table: pd.DataFrame, goals: pd.DataFrame, meta: dict, issue17: pd.DataFrame | None = None
) -> str:
    """The Markdown report: run header, the goals of issues 6 and 17 with verdicts, every row.

    The lines fitted through the ``sin`` chains (:func:`~diffcompare.bench.marginal_rows`)
    get their own section after the goals, labelled informational, instead of rows in
    the results table.

    Parameters
    ----------
    table : pandas.DataFrame
        Rows as :func:`~diffcompare.bench.run_cases` returns them.
    goals : pandas.DataFrame
        Verdicts as :func:`~diffcompare.bench.evaluate_goals` returns them.
    meta : dict
        The run's metadata (:attr:`BenchRun.meta`); missing keys print as blanks.
    issue17 : pandas.DataFrame, optional
        Verdicts on :data:`~diffcompare.bench.ISSUE17_GOALS`; without them, no section.

    Returns
    -------
    str
        The report, ending in a newline.
    """
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
        "and the MLP, `cos` for `sin`, the chain rule for the `sin` chains). IQR is the "
        "interquartile range of the runs. `x forward` divides by `numpy_forward` at the same "
        "size, `tape / autograd` is on the tape row; every ratio comes from this one run. "
        "Setup (tracing, `sympy.diff`, compiling) is timed once; setups and first calls have a "
        f"{config.get('budget_s', '')} s budget.",
        "## Goals of issue 6",
        _markdown_table(GOAL_COLUMNS, goals.itertuples(index=False)),
        *_issue17_section(issue17),
        *_marginal_section(table),
        "## Results",
        # The fitted lines are not timings: they have their own section above.
        _results_table(table[~table["workload"].isin(_FITTED)]),
    ]
    return "\n\n".join(parts) + "\n"


def write_bench_reports(folder: str | os.PathLike, run: BenchRun) -> list[Path]:
    """Write ``bench.csv``, ``bench.md`` and ``bench_meta.json`` atomically into ``folder``.

    Parameters
    ----------
    folder : str or path-like
        Created if missing; existing reports in it are replaced.
    run : BenchRun
        What :func:`~diffcompare.bench.run_benchmark` returned.

    Returns
    -------
    list of pathlib.Path
        The three files written.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    return [
        atomic_write(folder / "bench.csv", run.table.to_csv(index=False, float_format="%.6g")),
        atomic_write(folder / "bench.md", bench_markdown(run.table, run.goals, run.meta, run.issue17)),
        atomic_write(folder / "bench_meta.json", json.dumps(run.meta, indent=2, default=str) + "\n"),
    ]
