"""The goals of issues 6 and 17 that one benchmark run can decide, and their verdicts.

Issue 6 times prepared gradients on the suite's formulations (:data:`GOALS`); issue 17
times ``diffcompare.grad`` on natural-style functions (:data:`ISSUE17_GOALS`, the
``natural_*`` workloads of :mod:`~diffcompare.bench.natural`).

Each :class:`Goal` is a name, a target and a check that reads the benchmark table and
returns the measured value as text and a status: ``pass``, ``fail``, ``incomplete``
(what ran passes, some required sizes did not run) or ``not measured``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .measure import format_seconds
from .workloads import FORWARD

__all__ = ["GOALS", "GOAL_COLUMNS", "ISSUE17_GOALS", "Goal", "evaluate_goals"]

#: Columns of the goal table.
GOAL_COLUMNS = ["goal", "target", "measured", "status"]


@dataclass(frozen=True)
class Goal:
    """One target of an issue: ``check(table, budget_s) -> (measured, status)``."""

    name: str
    target: str
    check: Callable[[pd.DataFrame, float | None], tuple[str, str]]


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


def _spread(row, per: int = 1) -> str:
    """``1.80 ms (IQR 30.0 us)``: a median with its interquartile range, divided by ``per``."""
    return f"{format_seconds(row['median_s'] / per)} (IQR {format_seconds(row['spread_s'] / per)})"


def _natural_tape_over_autograd(workload: str, limit: float, sizes=None, per: int = 1):
    """tape / autograd on a natural workload, at each required size (every size run if None)."""

    def check(table, budget_s):
        tape, autograd = _rows(table, workload, "tape"), _rows(table, workload, "autograd")
        unusable = _unusable(tape, autograd)
        if unusable:
            return unusable
        required = sorted(set(tape["size"])) if sizes is None else sizes
        parts, ratios = [], []
        for n in required:
            t, a = tape[tape["size"] == n], autograd[autograd["size"] == n]
            if t.empty or a.empty:
                continue
            t, a = t.iloc[0], a.iloc[0]
            ratios.append(t["median_s"] / a["median_s"])
            where = f"n = {n:,}: " if len(required) > 1 else ""
            # per > 1: the times per operation (the nested sins), not per call
            parts.append(f"{where}{ratios[-1]:.2f} (tape {_spread(t, per)}, autograd {_spread(a, per)})")
        if not ratios:
            return "not run", "not measured"
        measured = "; ".join(parts)
        if any(ratio > limit for ratio in ratios):
            return measured, "fail"
        if len(ratios) < len(required):
            return measured + "; some sizes not run", "incomplete"
        return measured, "pass"

    return check


def _natural_symbolic_vector(table, budget_s):
    rows = _rows(table, "natural_rosenbrock", "symbolic_vector")
    rows, forward = rows[rows["size"] == 10_000], _rows(table, "natural_rosenbrock", FORWARD)
    forward = forward[forward["size"] == 10_000]
    unusable = _unusable(rows, forward)
    if unusable:
        return unusable
    ratio = float(rows["median_s"].iloc[0] / forward["median_s"].iloc[0])
    measured = f"{ratio:.2f}x forward (gradient {_spread(rows.iloc[0])}, forward {_spread(forward.iloc[0])})"
    return measured, _verdict(ratio <= 3.0)


def _natural_mlp_memory(table, budget_s):
    tape, autograd = _rows(table, "natural_mlp", "tape"), _rows(table, "natural_mlp", "autograd")
    unusable = _unusable(tape, autograd)
    if unusable:
        return unusable
    tape_bytes, autograd_bytes = float(tape["peak_bytes"].iloc[0]), float(autograd["peak_bytes"].iloc[0])
    if not (math.isfinite(tape_bytes) and math.isfinite(autograd_bytes)):
        return "peak memory not measured", "not measured"
    mib = 2.0**20
    measured = f"tape {tape_bytes / mib:.1f} MiB, autograd {autograd_bytes / mib:.1f} MiB"
    return measured, _verdict(tape_bytes <= autograd_bytes)


#: Nested ``sin`` of the ``natural_sin`` workload (its size column).
_NESTED_SINS = 100

#: The goals of issue 17: ``diffcompare.grad`` on the natural-style workloads, BLAS on one thread.
ISSUE17_GOALS: tuple[Goal, ...] = (
    Goal("natural Rosenbrock through grad: tape / autograd, n = 10, 1,000, 10,000", "<= 1/3",
         _natural_tape_over_autograd("natural_rosenbrock", 1 / 3, (10, 1_000, 10_000))),
    Goal("natural MLP 784-128-10, batch 64, through grad: tape / autograd", "<= 0.8",
         _natural_tape_over_autograd("natural_mlp", 0.8)),
    Goal("100 nested sin on one element through grad, per op: tape / autograd", "<= 0.4",
         _natural_tape_over_autograd("natural_sin", 0.4, per=_NESTED_SINS)),
    Goal("symbolic_vector natural Rosenbrock n = 10,000 through grad: gradient / numpy forward", "<= 3",
         _natural_symbolic_vector),
    Goal("natural MLP: peak memory per gradient (tracemalloc), tape vs autograd", "tape <= autograd",
         _natural_mlp_memory),
)  # fmt: skip


def evaluate_goals(
    table: pd.DataFrame, budget_s: float | None = None, goals: tuple[Goal, ...] = GOALS
) -> pd.DataFrame:
    """Judge each of ``goals`` (default :data:`GOALS`, issue 6's) on a benchmark table.

    Parameters
    ----------
    table : pandas.DataFrame
        Rows as :func:`~diffcompare.bench.run_cases` returns them.
    budget_s : float, optional
        The budget the table was measured with: a symbolic ``timeout`` fails the 2 s
        setup goal only if the budget was at least 2 s.
    goals : tuple of Goal
        :data:`GOALS` or :data:`ISSUE17_GOALS`.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`GOAL_COLUMNS`; ``status`` is ``pass``, ``fail``, ``incomplete``
        (what ran passes, some required sizes did not run) or ``not measured``.

    Examples
    --------
    >>> from diffcompare.bench import BENCH_COLUMNS
    >>> goals = evaluate_goals(pd.DataFrame(columns=BENCH_COLUMNS))
    >>> len(goals) == len(GOALS), set(goals["status"])
    (True, {'not measured'})
    """
    rows = []
    for goal in goals:
        measured, status = goal.check(table, budget_s)
        rows.append({"goal": goal.name, "target": goal.target, "measured": measured, "status": status})
    return pd.DataFrame(rows, columns=GOAL_COLUMNS)
