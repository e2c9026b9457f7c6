"""Setup and evaluation cost of the symbolic gradient, SymPy against SymEngine, stage by stage.

For each case (a suite function at a dimension ``n``) the setup of method ``symbolic``
is split into its stages and every stage is timed on its own:

1. ``trace``: ``f(x, xp)`` evaluated on SymPy symbols (``diffcompare.methods.symbolic.gradient.trace``),
   shared by both backends;
2. ``diff``: ``sympy.diff`` per coordinate, against ``convert`` (the traced expression
   and the symbols turned into SymEngine objects) followed by ``symengine.diff``;
3. compilation: the steps of ``symbolic_gradient`` in its order (``cse``: float
   round-trip and ``sympy.cse``; ``lambdify``: ``lambdify_numpy``), against
   ``symengine.Lambdify(symbols, gradient, cse=True)`` with its ``lambda`` backend (a
   tree of C++ closures) and its ``llvm`` backend (machine code);
4. ``evaluate``: seconds per gradient at the first point, median over timed runs;
5. ``accuracy``: largest normwise relative error over the points against the 50-digit
   reference (n <= 100 only), and ``agreement``: the same measure between each
   SymEngine gradient and the SymPy one.

The setup stages of a case run in sequence from a cleared SymPy cache, as in one call of
``symbolic_gradient``; the whole sequence is repeated (each time from a cleared cache)
up to :data:`SETUP_PASSES` times while a pass stays under :data:`REPEAT_BELOW` seconds,
and each stage reports its median over the passes.  Every stage runs under a time
budget; one that runs out is recorded as ``timeout`` and the stages that need its
result as ``skipped``.  The budget is a ``SIGALRM``, which cannot interrupt one long
SymEngine call (C++) until it returns.

Cases: Rosenbrock at n = 10, 30, 100, 300, 1000; Ackley and the piecewise ``where``
function at n = 2, 5, 10; and every suite function at its own dimension, to see which
ones SymEngine differentiates and compiles correctly.  Points come from
``SuiteFunction.points_for(POINT_SEED)``; numpy runs on one BLAS thread.

Writes ``reports/symengine_study.csv`` (one row per function, n, stage and backend) and
``reports/symengine_study.md`` (tables, versions and a summary of the measurements).

Usage: ``python scripts/symengine_study.py [--out reports] [--budget 60]``
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import symengine
import sympy
from sympy.core.cache import clear_cache
from threadpoolctl import threadpool_limits

import diffcompare
from diffcompare.budget import BudgetExceeded, time_budget
from diffcompare.harness.report import atomic_write
from diffcompare.harness.timing import measure
from diffcompare.methods.symbolic.gradient import _with_round_trip_floats, lambdify_numpy, trace
from diffcompare.truth.accuracy import normwise_relative_error
from diffcompare.truth.reference import PreparedReference

#: Seed of the evaluation points (``SuiteFunction.points_for``).
POINT_SEED = 20250101
#: Rosenbrock dimensions of the scaling study.
ROSENBROCK_DIMS = (10, 30, 100, 300, 1000)
#: Further scalable functions, at small dimensions.
SMALL_CASES = (("ackley", (2, 5, 10)), ("piecewise_where", (2, 5, 10)))
#: The reference refuses large n and is slow well before; only n up to this is scored.
MAX_SCORED_DIM = 100
#: Most passes over the setup stages of one case (each from a cleared SymPy cache).
SETUP_PASSES = 3
#: A pass that took longer than this many seconds is not repeated.
REPEAT_BELOW = 15.0
#: Timed runs of the evaluation, each of at least ``EVALUATION_RUN_TIME`` seconds.
EVALUATION_RUNS = 7
EVALUATION_RUN_TIME = 0.05
#: The two compiled SymEngine variants (``Lambdify`` backends).
SYMENGINE_BACKENDS = ("lambda", "llvm")

COLUMNS = [
    "function",
    "n",
    "stage",
    "backend",
    "seconds",
    "spread",
    "max_rel_diff",
    "runs",
    "status",
    "detail",
]


@dataclass
class Case:
    """One function at one dimension: its time budget per stage and its rows."""

    function: diffcompare.SuiteFunction
    budget: float
    rows: list[dict] = field(default_factory=list)

    def add(self, stage: str, backend: str, status: str, **values) -> None:
        row = dict.fromkeys(COLUMNS, None)
        row.update(function=self.function.name, n=self.function.dim, stage=stage, backend=backend)
        row.update(status=status, **values)
        self.rows.append(row)


def _describe(error: BaseException) -> str:
    text = f"{type(error).__name__}: {error}".replace("\n", " ")
    return text if len(text) <= 160 else text[:157] + "..."


def _timed(case: Case, fn: Callable):
    """``fn()`` and its wall-clock seconds, under the case's budget."""
    started = time.perf_counter()
    with time_budget(case.budget):
        result = fn()
    return result, time.perf_counter() - started


def _setup_pass(case: Case) -> tuple[dict, dict, dict]:
    """One pass over every setup stage: ``(seconds, failures, products)``, keyed by (stage, backend).

    A failed stage is recorded in ``failures`` as ``(status, detail)``; the stages that
    need its product are recorded as skipped.
    """
    f, dim = case.function.f, case.function.dim
    seconds: dict = {}
    failures: dict = {}
    products: dict = {}

    def stage(key, fn, needs=()):
        missing = [k for k in needs if k not in products]
        if missing:
            failures[key] = ("skipped", f"needs {missing[0][0]} ({missing[0][1]})")
            return
        try:
            products[key], seconds[key] = _timed(case, fn)
        except BudgetExceeded as error:
            failures[key] = ("timeout", str(error))
        except Exception as error:  # RecursionError too: SymPy or SymEngine giving up
            failures[key] = ("error", _describe(error))

    clear_cache()
    traced = ("trace", "sympy")
    stage(traced, lambda: trace(f, dim))

    # The steps of diffcompare.methods.symbolic.gradient.symbolic_gradient, in its order.
    def sympy_diff():
        symbols, expression = products[traced]
        return tuple(sympy.diff(expression, s) for s in symbols)

    def sympy_cse():
        return sympy.cse(_with_round_trip_floats(products[("diff", "sympy")]))

    def sympy_lambdify():
        symbols, _ = products[traced]
        gradient = products[("diff", "sympy")]
        return lambdify_numpy([symbols], list(gradient), products[("cse", "sympy")])

    def sympy_count_ops():
        return sum(sympy.count_ops(e) for e in products[("diff", "sympy")])

    stage(("diff", "sympy"), sympy_diff, needs=[traced])
    stage(("cse", "sympy"), sympy_cse, needs=[("diff", "sympy")])
    stage(("lambdify", "sympy"), sympy_lambdify, needs=[("cse", "sympy")])
    stage(("count_ops", "sympy"), sympy_count_ops, needs=[("diff", "sympy")])

    def symengine_convert():
        symbols, expression = products[traced]
        return [symengine.sympify(s) for s in symbols], symengine.sympify(expression)

    def symengine_diff():
        symbols, expression = products[("convert", "symengine")]
        return [symengine.diff(expression, s) for s in symbols]

    stage(("convert", "symengine"), symengine_convert, needs=[traced])
    stage(("diff", "symengine"), symengine_diff, needs=[("convert", "symengine")])
    for backend in SYMENGINE_BACKENDS:

        def compile_gradient(backend=backend):
            symbols, _ = products[("convert", "symengine")]
            gradient = products[("diff", "symengine")]
            return symengine.Lambdify(symbols, gradient, cse=True, backend=backend, real=True)

        stage(("compile", f"symengine-{backend}"), compile_gradient, needs=[("diff", "symengine")])
    return seconds, failures, products


def _record_setup(case: Case) -> dict:
    """Run the setup passes, record one row per stage and return the last pass's products."""
    passes = []
    for _ in range(SETUP_PASSES):
        seconds, failures, products = _setup_pass(case)
        passes.append(seconds)
        timed_out = any(status == "timeout" for status, _ in failures.values())
        if timed_out or sum(seconds.values()) > REPEAT_BELOW:
            break
    for key in [*seconds, *failures]:
        stage, backend = key
        if key in failures:
            status, detail = failures[key]
            limit = case.budget if status == "timeout" else None
            case.add(stage, backend, status, seconds=limit, runs=len(passes), detail=detail)
        else:
            times = [p[key] for p in passes if key in p]
            case.add(stage, backend, "ok", seconds=statistics.median(times), runs=len(times))
    _record_totals(case, seconds, failures, passes)
    return products


def _record_totals(case: Case, seconds: dict, failures: dict, passes: list[dict]) -> None:
    """Derived rows: SymPy's compile (cse + lambdify) and each backend's whole setup."""
    parts = {
        ("compile", "sympy"): [("cse", "sympy"), ("lambdify", "sympy")],
        ("setup", "sympy"): [("trace", "sympy"), ("diff", "sympy"), ("cse", "sympy"), ("lambdify", "sympy")],
    }
    for backend in SYMENGINE_BACKENDS:
        parts[("setup", f"symengine-{backend}")] = [
            ("trace", "sympy"),
            ("convert", "symengine"),
            ("diff", "symengine"),
            ("compile", f"symengine-{backend}"),
        ]
    for (stage, backend), keys in parts.items():
        detail = "sum of " + " + ".join(f"{s} ({b})" for s, b in keys)
        failed = [k for k in keys if k in failures]
        if failed:
            case.add(stage, backend, "incomplete", detail=f"{detail}; {failed[0][0]} did not finish")
            continue
        totals = [sum(p[k] for k in keys) for p in passes if all(k in p for k in keys)]
        case.add(stage, backend, "ok", seconds=statistics.median(totals), runs=len(totals), detail=detail)


def _compiled_gradients(products: dict, dim: int) -> dict[str, Callable]:
    """The compiled gradients of the setup, each ``x -> float64 array of shape (dim,)``."""
    compiled = {}
    if ("lambdify", "sympy") in products:
        function = products[("lambdify", "sympy")]
        # What SymbolicGradient.__call__ does with the generated function's result.
        compiled["sympy"] = lambda x, fn=function: np.asarray(fn(x), dtype=np.float64).reshape(dim)
    for backend in SYMENGINE_BACKENDS:
        if ("compile", f"symengine-{backend}") in products:
            compiled[f"symengine-{backend}"] = products[("compile", f"symengine-{backend}")]
    return compiled


def _record_evaluation(case: Case, compiled: dict[str, Callable], point: np.ndarray) -> dict[str, Callable]:
    """Time each compiled gradient at ``point``; return the ones that ran."""
    working = {}
    for backend, gradient in compiled.items():
        try:
            with time_budget(case.budget):
                timing = measure(
                    lambda g=gradient: g(point), repeats=EVALUATION_RUNS, min_run_time=EVALUATION_RUN_TIME
                )
        except BudgetExceeded as error:
            case.add("evaluate", backend, "timeout", seconds=case.budget, detail=str(error))
            continue
        except Exception as error:
            case.add("evaluate", backend, "error", detail=_describe(error))
            continue
        working[backend] = gradient
        case.add(
            "evaluate",
            backend,
            "ok",
            seconds=timing.median,
            spread=timing.spread,
            runs=timing.runs,
            detail=f"median of {timing.runs} runs of {timing.loops} calls",
        )
    return working


def _worst_difference(values, references) -> float:
    return max(normwise_relative_error(v, r) for v, r in zip(values, references, strict=True))


def _worst_disagreement(values, others) -> float:
    """Like :func:`_worst_difference`, but a nan in both at the same component agrees.

    At an overflowing hard point both compiled gradients may return nan; that they do
    so alike is what the comparison between backends is about.
    """
    worst = 0.0
    for a, b in zip(values, others, strict=True):
        a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
        both = np.isnan(a) & np.isnan(b)
        worst = max(worst, normwise_relative_error(np.where(both, 0.0, a), np.where(both, 0.0, b)))
    return worst


def _record_accuracy(case: Case, compiled: dict[str, Callable], point_sets: dict[str, np.ndarray]) -> None:
    """Per point set: agreement with SymPy's gradient, and errors against the reference (small n).

    A point where the reference is not ``ok`` (it overflows, or 50 and 100 digits round
    differently) is left out of the errors and counted in the detail.
    """
    reference = None
    if case.function.dim <= MAX_SCORED_DIM and compiled:
        try:
            with time_budget(case.budget):
                reference = PreparedReference(case.function.f, case.function.dim)
        except BudgetExceeded as error:
            for backend in compiled:
                case.add("accuracy", backend, "timeout", detail=f"reference: {error}")
    for suffix, points in point_sets.items():
        with np.errstate(all="ignore"):
            values = {backend: [gradient(x) for x in points] for backend, gradient in compiled.items()}
        label = f"{len(points)} {'hard' if suffix else 'ordinary'} points"
        for backend in values:
            if backend != "sympy" and "sympy" in values:
                difference = _worst_disagreement(values[backend], values["sympy"])
                case.add(
                    "agreement" + suffix, backend, "ok", max_rel_diff=difference, detail=f"{label}, vs sympy"
                )
        if reference is None:
            continue
        try:
            with time_budget(case.budget):
                truths = [reference(x) for x in points]
        except BudgetExceeded as error:
            for backend in values:
                case.add("accuracy" + suffix, backend, "timeout", detail=f"reference: {error}")
            continue
        scored = [i for i, t in enumerate(truths) if t.status == "ok"]
        left_out = "" if len(scored) == len(points) else f"; {len(points) - len(scored)} without a reference"
        for backend in values:
            if not scored:
                case.add("accuracy" + suffix, backend, "no_reference", detail=f"{label}: {truths[0].message}")
                continue
            error = _worst_difference([values[backend][i] for i in scored], [truths[i].value for i in scored])
            case.add("accuracy" + suffix, backend, "ok", max_rel_diff=error, detail=f"{label}{left_out}")


def study_case(function: diffcompare.SuiteFunction, budget: float) -> list[dict]:
    """Every row of one function at its dimension."""
    case = Case(function, budget)
    products = _record_setup(case)
    points = function.points_for(POINT_SEED)
    compiled = _record_evaluation(case, _compiled_gradients(products, function.dim), points[0])
    point_sets = {"": points}
    if function.hard_points:
        point_sets["_hard"] = np.array([h.x for h in function.hard_points], dtype=np.float64)
    _record_accuracy(case, compiled, point_sets)
    return case.rows


def cases() -> list[diffcompare.SuiteFunction]:
    """The scaling cases first, then every suite function at its own dimension."""
    rosenbrock = diffcompare.suite(["rosenbrock"])[0]
    chosen = [rosenbrock.resized(n) for n in ROSENBROCK_DIMS]
    for name, dims in SMALL_CASES:
        chosen.extend(diffcompare.suite([name])[0].resized(n) for n in dims)
    taken = {(c.name, c.dim) for c in chosen}
    chosen.extend(f for f in diffcompare.suite() if (f.name, f.dim) not in taken)
    return chosen


# --- the report ------------------------------------------------------------------------


def _markdown_table(frame: pd.DataFrame) -> str:
    lines = ["| " + " | ".join(map(str, frame.columns)) + " |", "|" + "---|" * len(frame.columns)]
    lines.extend("| " + " | ".join(map(str, row)) + " |" for row in frame.itertuples(index=False))
    return "\n".join(lines)


def _cell(row: pd.Series | None, scale: float = 1.0, digits: int = 3) -> str:
    if row is None:
        return "-"
    if row["status"] != "ok":
        return row["status"]
    is_error = row["stage"].startswith(("accuracy", "agreement"))
    value = row["max_rel_diff"] if is_error else row["seconds"] * scale
    return f"{value:.{digits}g}"


def _lookup(table: pd.DataFrame, name: str, n: int, stage: str, backend: str) -> pd.Series | None:
    hit = table[
        (table.function == name) & (table.n == n) & (table.stage == stage) & (table.backend == backend)
    ]
    return None if hit.empty else hit.iloc[0]


# (header, stage, backend, scale): the columns of the setup and the evaluation tables.
SETUP_COLUMNS = [
    ("trace", "trace", "sympy", 1.0),
    ("diff sympy", "diff", "sympy", 1.0),
    ("convert symengine", "convert", "symengine", 1.0),
    ("diff symengine", "diff", "symengine", 1.0),
    ("cse sympy", "cse", "sympy", 1.0),
    ("lambdify sympy", "lambdify", "sympy", 1.0),
    ("Lambdify lambda", "compile", "symengine-lambda", 1.0),
    ("Lambdify llvm", "compile", "symengine-llvm", 1.0),
    ("setup sympy", "setup", "sympy", 1.0),
    ("setup symengine-lambda", "setup", "symengine-lambda", 1.0),
    ("setup symengine-llvm", "setup", "symengine-llvm", 1.0),
]
EVALUATION_COLUMNS = [
    ("eval sympy (us)", "evaluate", "sympy", 1e6),
    ("eval lambda (us)", "evaluate", "symengine-lambda", 1e6),
    ("eval llvm (us)", "evaluate", "symengine-llvm", 1e6),
    ("spread sympy", "evaluate", "sympy", None),
    ("spread lambda", "evaluate", "symengine-lambda", None),
    ("spread llvm", "evaluate", "symengine-llvm", None),
    ("err sympy", "accuracy", "sympy", 1.0),
    ("err lambda", "accuracy", "symengine-lambda", 1.0),
    ("err llvm", "accuracy", "symengine-llvm", 1.0),
    ("lambda vs sympy", "agreement", "symengine-lambda", 1.0),
    ("llvm vs sympy", "agreement", "symengine-llvm", 1.0),
]

SWEEP_COLUMNS = [c for c in EVALUATION_COLUMNS if c[1] in ("accuracy", "agreement")] + [
    ("hard err sympy", "accuracy_hard", "sympy", 1.0),
    ("hard err lambda", "accuracy_hard", "symengine-lambda", 1.0),
    ("hard err llvm", "accuracy_hard", "symengine-llvm", 1.0),
    ("hard lambda vs sympy", "agreement_hard", "symengine-lambda", 1.0),
    ("hard llvm vs sympy", "agreement_hard", "symengine-llvm", 1.0),
]


def _symengine_status(table: pd.DataFrame, name: str, n: int) -> str:
    """``ok``, or the first SymEngine stage that failed and why."""
    rows = table[(table.function == name) & (table.n == n) & table.backend.str.startswith("symengine")]
    failed = rows[~rows.status.isin(["ok", "incomplete"])]
    if failed.empty:
        return "ok"
    first = failed.iloc[0]
    return f"{first['stage']} ({first['backend']}) {first['status']}: {first['detail']}"


def _stage_table(table: pd.DataFrame, keys: list[tuple[str, int]], columns) -> pd.DataFrame:
    records = []
    for name, n in keys:
        record = {"function": name, "n": n}
        for header, stage, backend, scale in columns:
            row = _lookup(table, name, n, stage, backend)
            if scale is None:  # the evaluation's relative spread
                ok = row is not None and row["status"] == "ok"
                record[header] = f"{row['spread']:.2f}" if ok else "-"
            else:
                record[header] = _cell(row, scale)
        records.append(record)
    return pd.DataFrame(records)


def _seconds(table: pd.DataFrame, name: str, n: int, stage: str, backend: str) -> float | None:
    row = _lookup(table, name, n, stage, backend)
    return None if row is None or row["status"] != "ok" else float(row["seconds"])


def _ratio(slow: float | None, fast: float | None) -> str:
    return "-" if slow is None or fast is None or fast == 0 else f"{slow / fast:.0f}x"


def _alike(a: float, b: float) -> bool:
    """Errors of the same size: both infinite, both at most ``1e-15``, or within a factor 4."""
    if math.isinf(a) or math.isinf(b):
        return math.isinf(a) and math.isinf(b)
    return max(a, b) <= 4 * max(min(a, b), 1e-15)


def _hard_point_summary(table: pd.DataFrame) -> list[str]:
    """How the SymEngine errors at the hard points compare with SymPy's."""
    hard = table[(table.stage == "accuracy_hard") & (table.status == "ok")]
    if hard.empty:
        return []
    errors = hard.pivot_table(index=["function", "n"], columns="backend", values="max_rel_diff", sort=False)
    errors = errors.dropna()  # a backend without a compiled gradient there
    others = [b for b in errors.columns if b != "sympy"]
    alike = errors.apply(lambda r: all(_alike(r[b], r["sympy"]) for b in others), axis=1)
    sentence = (
        f"At the hard points, SymEngine's errors against the reference were of the same size as SymPy's "
        f"(within a factor 4, both at most 1e-15, or both infinite) in {int(alike.sum())} of {len(alike)} "
        "functions"
    )
    differing = errors[~alike]
    if differing.empty:
        return [sentence + "."]
    described = [
        f"{name} (n = {n}): " + ", ".join(f"{row[b]:.2g} ({b})" for b in errors.columns)
        for (name, n), row in differing.iterrows()
    ]
    return [sentence + "; the others: " + "; ".join(described) + "."]


def summary(table: pd.DataFrame) -> str:
    """A paragraph of the Rosenbrock figures, computed from the table."""
    name = "rosenbrock"
    sentences = []
    for n in ROSENBROCK_DIMS:
        sympy_diff = _seconds(table, name, n, "diff", "sympy")
        se_diff = _seconds(table, name, n, "diff", "symengine")
        convert = _seconds(table, name, n, "convert", "symengine")
        sympy_setup = _seconds(table, name, n, "setup", "sympy")
        se_setup = _seconds(table, name, n, "setup", "symengine-lambda")
        llvm_setup = _seconds(table, name, n, "setup", "symengine-llvm")
        if sympy_setup is not None and sympy_diff is not None:
            sympy_part = (
                f"SymPy's setup took {sympy_setup:.3g} s, {100 * sympy_diff / sympy_setup:.0f}% of it "
                f"in sympy.diff ({sympy_diff:.3g} s)"
            )
        else:
            row = _lookup(table, name, n, "diff", "sympy")
            sympy_part = f"sympy.diff did not finish ({row['status']}: {row['detail']})"
        if None in (se_diff, convert, se_setup, llvm_setup):
            se_part = "the SymEngine path did not finish"
        else:
            se_part = f"conversion plus symengine.diff took {se_diff + convert:.3g} s"
            if sympy_diff is not None:
                se_part += f" ({_ratio(sympy_diff, se_diff + convert)} faster than sympy.diff)"
            se_part += f", the whole SymEngine setup {se_setup:.3g} s (lambda) or {llvm_setup:.3g} s (llvm)"
        sentences.append(f"At n = {n}, {sympy_part}; {se_part}.")
    evaluation = []
    for n in ROSENBROCK_DIMS:
        times = [
            _seconds(table, name, n, "evaluate", b) for b in ("sympy", "symengine-lambda", "symengine-llvm")
        ]
        cells = ["-" if t is None else f"{t * 1e6:.3g}" for t in times]
        evaluation.append(f"n = {n}: " + " / ".join(cells))
    sentences.append(
        "Microseconds per gradient (SymPy numpy / SymEngine lambda / SymEngine llvm): "
        + "; ".join(evaluation)
        + "."
    )
    scored = table[(table.stage == "accuracy") & (table.status == "ok")]
    agreement = table[(table.stage == "agreement") & (table.status == "ok")]
    if not scored.empty and not agreement.empty:
        worst = scored.groupby("backend")["max_rel_diff"].max()
        sentences.append(
            "At the ordinary points of every scored case the largest normwise error against the 50-digit "
            "reference was "
            + ", ".join(f"{v:.2g} ({b})" for b, v in worst.items())
            + "; the SymEngine gradients differed from SymPy's by at most "
            + f"{agreement['max_rel_diff'].max():.2g}."
        )
    sentences.extend(_hard_point_summary(table))
    failed = table[table.backend.str.startswith("symengine") & ~table.status.isin(["ok", "incomplete"])]
    for (fname, n), rows in failed.groupby(["function", "n"], sort=False):
        reasons = "; ".join(f"{r['stage']} ({r['backend']}): {r['detail']}" for _, r in rows.iterrows())
        sentences.append(f"SymEngine failed on {fname} (n = {n}): {reasons}.")
    return " ".join(sentences)


def markdown(table: pd.DataFrame, wall_seconds: float, budget: float) -> str:
    versions = (
        f"sympy {sympy.__version__}, symengine {symengine.__version__} "
        f"(LLVM backend {'available' if symengine.have_llvm else 'not available'}), "
        f"numpy {np.__version__}, Python {platform.python_version()}"
    )
    rosenbrock = [("rosenbrock", n) for n in ROSENBROCK_DIMS]
    small = [(name, n) for name, dims in SMALL_CASES for n in dims]
    scaling = {(name, n) for name, n in rosenbrock + small}
    sweep = [
        k
        for k in table[["function", "n"]].drop_duplicates().itertuples(index=False)
        if tuple(k) not in scaling
    ]
    sweep = [tuple(k) for k in sweep]
    sweep_table = _stage_table(table, sweep, SWEEP_COLUMNS)
    sweep_table.insert(2, "symengine", [_symengine_status(table, name, n) for name, n in sweep])
    return "\n".join(
        [
            "# SymPy or SymEngine for method `symbolic`: setup stages, evaluation, accuracy",
            "",
            f"`python scripts/symengine_study.py`; {versions}; {os.cpu_count()} CPU cores (shared), numpy on "
            f"one BLAS thread; point seed {POINT_SEED}; time budget {budget:g} s per stage; whole run "
            f"{wall_seconds:.0f} s.",
            "",
            "Setup stages are wall-clock seconds, the median over up to "
            f"{SETUP_PASSES} passes from a cleared SymPy cache (one pass when a pass took over "
            f"{REPEAT_BELOW:g} s; `runs` in the CSV).  The machine is shared, so single setup "
            "times can be off by tens of percent; compare ratios, not digits.  Evaluation is the median "
            f"over {EVALUATION_RUNS} timed runs of many calls at one point; `spread` is the interquartile "
            "range over the median.  `err` is the largest normwise relative error "
            "(max |g - ref| / max |ref|) over 3 points against the 50-digit reference (n <= "
            f"{MAX_SCORED_DIM}); `vs sympy` is the same measure against SymPy's compiled gradient.  "
            "`setup symengine-*` = trace + convert + diff (symengine) + Lambdify; `setup sympy` = trace + "
            "diff + cse + lambdify (`count_ops`, which `symbolic_gradient` also runs, is in the CSV only).",
            "",
            "## Summary",
            "",
            summary(table),
            "",
            "## Setup, seconds",
            "",
            _markdown_table(_stage_table(table, rosenbrock + small, SETUP_COLUMNS)),
            "",
            "## Evaluation and accuracy",
            "",
            _markdown_table(_stage_table(table, rosenbrock + small, EVALUATION_COLUMNS)),
            "",
            "## Every suite function at its own dimension: accuracy",
            "",
            "`hard`: the function's tagged hard points (`SuiteFunction.hard_points`), where it has any.",
            "",
            _markdown_table(sweep_table),
            "",
        ]
    )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="reports", help="directory for symengine_study.csv and .md")
    parser.add_argument("--budget", type=float, default=60.0, help="seconds allowed per stage")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    rows = []
    with threadpool_limits(1):
        for function in cases():
            case_started = time.perf_counter()
            rows.extend(study_case(function, args.budget))
            print(f"{function.name} n={function.dim}: {time.perf_counter() - case_started:.1f} s", flush=True)
    table = pd.DataFrame(rows, columns=COLUMNS)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    csv_path = atomic_write(out / "symengine_study.csv", table.to_csv(index=False, float_format="%.6g"))
    md_path = atomic_write(
        out / "symengine_study.md", markdown(table, time.perf_counter() - started, args.budget)
    )
    print(f"wrote {csv_path} ({len(table)} rows) and {md_path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
