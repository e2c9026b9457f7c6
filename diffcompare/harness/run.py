"""The comparison harness: accuracy and timing of every method on every case.

A case is one (function, dimension, point, method).  For each function the harness
prepares the reference and every method once (the method's setup is timed once:
tracing, ``sympy.diff``, ``lambdify``), then at each point computes the gradient,
scores it against the reference and, when timing is on, measures the gradient and the
plain numpy forward pass with :func:`~diffcompare.harness.timing.measure`.

Nothing that goes wrong in one case stops the run: it becomes a row whose ``status``
says what happened (``error``, ``nonfinite``, ``timeout``, ``unsupported``) and whose
``message`` says why.  SymPy work and every evaluation run under a time budget.

Where there is no full reference (SymPy cannot trace ``f``, more than
:data:`~diffcompare.truth.reference.MAX_REFERENCE_DIM` coordinates, a record marked
``symbolic_reference=False``, a timed-out trace), the harness measures one certified
50-digit directional derivative ``g . v`` along a seeded random direction
(:mod:`~diffcompare.truth.directional`): every method that ran gets the status
``directional`` and its normwise directional error ``dir_rel_err``.  Where that fails
too (or the full reference is unstable), every method that ran keeps its row with
status ``no_reference``.  Both keep their gradient's size, their times, and how far each
is from the other methods (:mod:`~diffcompare.harness.agreement`).
"""

from __future__ import annotations

import contextlib
import pickle
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from ..budget import BudgetExceeded, time_budget
from ..methods import METHODS
from ..ops.fallback import numpy_fallback
from ..suite.records import SEED, SuiteFunction
from ..truth.accuracy import gradient_error
from ..truth.directional import directional_derivative, directional_error, random_direction
from ..truth.reference import PreparedReference, ReferenceGradient
from .agreement import AGREEMENT_RTOL, agreement
from .executors import check_parallel_options, open_executor
from .timing import measure, time_once

__all__ = [
    "COLUMNS",
    "COLUMN_DOCS",
    "STATUSES",
    "HarnessOptions",
    "collect_references",
    "run_function",
    "run_suite",
    "submit_references",
]

#: Row statuses, in the order a reader should worry about them.
STATUSES = ("ok", "directional", "no_reference", "nonfinite", "error", "timeout", "unsupported")

ACCURACY_COLUMNS = [
    "max_rel_err",
    "norm_rel_err",
    "median_rel_err",
    "max_ulp_err",
    "median_ulp_err",
    "max_abs_err",
]
#: Cross-method agreement, filled only in ``no_reference`` rows (never an error: see COLUMN_DOCS).
AGREEMENT_COLUMNS = ["consensus_dist", "agrees_with"]
TIMING_COLUMNS = ["setup_s", "eval_s", "eval_spread", "eval_runs", "forward_s", "ratio_to_forward"]
SIZE_COLUMNS = ["f_evals", "expr_ops", "cse_ops", "tape_nodes"]
COLUMNS = [
    "function", "dim", "point", "kind", "method", "status",
    *ACCURACY_COLUMNS, "dir_rel_err", "err_estimate", "grad_max_abs", *AGREEMENT_COLUMNS, *TIMING_COLUMNS,
    *SIZE_COLUMNS, "message", "x",
]  # fmt: skip

#: What each column of ``results.csv`` holds.
# fmt: off
COLUMN_DOCS = {
    "function": "the test function's name",
    "dim": "its number of coordinates n",
    "point": "the point's label (ordinary-0, a hard point's tag, point-0 for compare())",
    "kind": "ordinary, a hard point's tag, or point",
    "method": "the differentiation method",
    "status": f"one of {', '.join(STATUSES)}",
    "max_rel_err": "largest componentwise |g - ref| / |ref| against the 50-digit reference",
    "norm_rel_err": "max|g - ref| / max|ref| against the 50-digit reference",
    "median_rel_err": "median componentwise relative error against the reference",
    "max_ulp_err": "largest componentwise error in units of the reference's last place",
    "median_ulp_err": "median componentwise error in ulps",
    "max_abs_err": "largest componentwise |g - ref|",
    "dir_rel_err": (
        "directional rows only: |g.v - t| / max(|g| |v|, |t|), t the certified 50-digit derivative "
        "along a seeded random direction v (no full reference there)"
    ),
    "err_estimate": "the method's own error estimate, largest component (Richardson)",
    "grad_max_abs": "max |g|, the size of the method's gradient (every row with a gradient)",
    "consensus_dist": (
        "no_reference and directional rows: max|g - c| / max|c|, c the componentwise median of the largest "
        "group of exact methods agreeing pairwise within AGREEMENT_RTOL (NaN without one); "
        "agreement, not accuracy"
    ),
    "agrees_with": (
        "no_reference and directional rows: the other methods whose gradient is within AGREEMENT_RTOL "
        "(max|a - b| <= 1e-6 max(max|a|, max|b|)) of this one, space-separated"
    ),
    "setup_s": "seconds to prepare the method (once per function)",
    "eval_s": "median seconds per gradient",
    "eval_spread": "spread of the timed runs",
    "eval_runs": "gradients timed",
    "forward_s": "median seconds of the plain numpy f(x)",
    "ratio_to_forward": "eval_s / forward_s",
    "f_evals": "evaluations of f per gradient (difference methods)",
    "expr_ops": "operations of the symbolic derivative",
    "cse_ops": "operations after common-subexpression elimination",
    "tape_nodes": "nodes the tape records (symbolic_array: the tape's count for the same f, beside cse_ops)",
    "message": "why a row is not ok, or notes on the method's own estimate",
    "x": "the point",
}
# fmt: on

#: Statuses of rows without the full reference that keep their gradients and times.
_UNSCORED = ("directional", "no_reference")

#: The row status of a method that ran, by the reference's status (when not ``ok``).
_REFERENCE_STATUS = {
    "nonfinite": "nonfinite",
    "unstable": "no_reference",
    "too_large": "no_reference",
    "error": "no_reference",
}


@dataclass(frozen=True)
class HarnessOptions:
    """How much to measure.

    Attributes
    ----------
    methods : tuple of str
        Method names from :data:`diffcompare.METHODS`.
    timing : bool
        Measure setup, evaluation and forward times (off: accuracy only).
    repeats : int
        Timed runs per measurement; the median is reported.
    min_run_time : float
        Seconds one timed run should last at least (calls are looped to reach it).
    budget_s : float or None
        Time budget of each setup and each evaluation, in seconds.
    seed : int or None
        Seed of the ordinary points (``None``: the suite's own seed).
    ordinary_points : int
        How many of each function's ordinary points to use (at most 3).
    hard_points : bool
        Whether to include the tagged hard points.
    directional : bool
        Where the full reference is missing, measure a certified directional derivative
        (off: such rows are ``no_reference``, agreement only).
    settle : float or None
        With ``settle``, ``repeats`` is a most: a measurement stops once three runs agree
        within this relative spread (see :func:`~diffcompare.harness.timing.measure`);
        ``None`` always times ``repeats`` runs.
    """

    methods: tuple[str, ...] = tuple(METHODS)
    timing: bool = True
    repeats: int = 5
    min_run_time: float = 0.01
    budget_s: float | None = 30.0
    seed: int | None = None
    ordinary_points: int = 3
    hard_points: bool = True
    directional: bool = True
    settle: float | None = 0.05

    def __post_init__(self):
        unknown = [m for m in self.methods if m not in METHODS]
        if unknown:
            raise ValueError(f"unknown methods {unknown}; expected some of {', '.join(METHODS)}")
        if not isinstance(self.repeats, int) or self.repeats < 1:
            raise ValueError(f"repeats must be an integer >= 1; got {self.repeats!r}")


def _points(record: SuiteFunction, options: HarnessOptions):
    ordinary = record.points if options.seed is None else record.points_for(options.seed)
    for i, point in enumerate(ordinary[: options.ordinary_points]):
        yield f"ordinary-{i}", "ordinary", point
    for i, hard in enumerate(record.hard_points if options.hard_points else ()):
        yield f"{hard.tag}-{i}", hard.tag, np.array(hard.x)


def _failure(error: BaseException) -> tuple[str, str]:
    """The status and message of an exception raised by a case."""
    if isinstance(error, BudgetExceeded):
        return "timeout", str(error)
    if isinstance(error, NotImplementedError):
        return "unsupported", f"{type(error).__name__}: {error}"
    return "error", f"{type(error).__name__}: {error}"


def _quietly(fn: Callable, budget_s: float | None):
    """Run ``fn`` under the time budget with float warnings silenced (hard points overflow)."""
    with time_budget(budget_s), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return fn()


class _Case:
    """Accumulates one row; fields not set stay NaN."""

    def __init__(self, record: SuiteFunction, label: str, kind: str, point: np.ndarray, method: str):
        self.row = dict.fromkeys(COLUMNS, np.nan)
        self.row.update(
            function=record.name, dim=record.dim, point=label, kind=kind, method=method,
            status="ok", message="", x=" ".join(repr(float(v)) for v in point),
        )  # fmt: skip

    def fail(self, status: str, message: str) -> dict:
        self.row.update(status=status, message=message)
        return self.row


def prepare_reference(record: SuiteFunction, budget_s: float | None):
    """``(PreparedReference or None, failure message)``, within the budget."""
    if not record.symbolic_reference:
        return None, (
            f"too large for the symbolic reference: {record.name} is not traced into SymPy "
            "(one expression per data point)"
        )
    try:
        return _quietly(lambda: PreparedReference(record.f, record.dim), budget_s), ""
    except Exception as error:
        status, message = _failure(error)
        return None, f"reference {status}: {message}"


#: Full-reference statuses where a directional derivative is measured instead: the
#: reference is missing, not doubtful (an unstable one keeps its status).
_DIRECTIONAL_FOR = ("too_large", "error")


def reference_values(record: SuiteFunction, options: HarnessOptions):
    """The reference at every point of ``record``: a list of ReferenceGradient.

    Where the full reference is missing and ``options.directional`` is on, each carries
    its point's certified directional derivative in ``directional``.
    """
    budget_s = options.budget_s
    reference, failure = prepare_reference(record, budget_s)
    values = []
    for index, (_, _, point) in enumerate(_points(record, options)):
        if reference is None:
            truth = ReferenceGradient(None, "error", 50, failure)
        else:
            try:
                truth = _quietly(lambda p=point: reference(p), budget_s)
            except Exception as error:
                status, message = _failure(error)
                truth = ReferenceGradient(None, "error", 50, f"reference {status}: {message}")
        if options.directional and truth.status in _DIRECTIONAL_FOR:
            seed = SEED if options.seed is None else options.seed
            direction = random_direction(record.dim, seed, record.name, index)
            along = _quietly(
                lambda p=point, v=direction: directional_derivative(record.f, p, v, budget_s=budget_s), None
            )
            truth = replace(truth, directional=along)
        values.append(truth)
    return values


def _estimate_notes(value: np.ndarray, estimate: np.ndarray, truth: np.ndarray) -> list[str]:
    """What a row should say about a method's own error estimate next to the true error."""
    notes = []
    unknown = np.flatnonzero(np.isfinite(value) & (estimate == np.inf))
    if unknown.size:
        notes.append(f"the method's own error estimate is infinite at components {unknown.tolist()}")
    short = np.flatnonzero(np.isfinite(estimate) & ~(np.abs(value - truth) <= estimate))
    if short.size:
        notes.append(f"the error exceeds the method's own estimate at components {short.tolist()}")
    return notes


def _score(
    case: _Case, prepared, point: np.ndarray, truth: ReferenceGradient, budget_s: float | None
) -> np.ndarray:
    """Compute the gradient, fill the row's accuracy (or say why not), return the gradient."""
    estimate = None
    if prepared.with_error is not None:
        value, estimate = _quietly(lambda: prepared.with_error(point), budget_s)
        case.row["err_estimate"] = float(np.max(np.abs(estimate)))
    else:
        value = _quietly(lambda: prepared.gradient(point), budget_s)
    value = np.asarray(value, dtype=np.float64)
    case.row["grad_max_abs"] = float(np.max(np.abs(value), initial=0.0))
    status, messages = "ok", []
    if not np.all(np.isfinite(value)):
        status = "nonfinite"
        messages.append("the gradient has inf or nan components")
    along = truth.directional
    if truth.status != "ok" and along is not None and along.status == "ok":
        case.row["dir_rel_err"] = directional_error(value, along)
        status = "nonfinite" if status == "nonfinite" else "directional"
        messages.append(f"no full reference: error along one random direction only; {truth.message}")
    elif truth.status != "ok":
        status = "nonfinite" if status == "nonfinite" else _REFERENCE_STATUS[truth.status]
        agreement_only = _REFERENCE_STATUS[truth.status] == "no_reference"
        messages.append(f"no reference: {'agreement only; ' if agreement_only else ''}{truth.message}")
        if along is not None:
            messages.append(f"directional reference {along.status}: {along.message}")
    else:
        case.row.update(vars(gradient_error(value, truth.value)))
        if estimate is not None:
            messages += _estimate_notes(value, estimate, truth.value)
    if messages:
        case.fail(status, "; ".join(messages))
    return value


def _agree(rows: dict[str, dict], gradients: dict[str, np.ndarray]) -> None:
    """Fill the agreement columns of one point's rows, for want of a reference."""
    found = agreement(gradients, {m for m in gradients if METHODS[m].family == "exact"})
    if found.consensus:
        note = f"consensus of {', '.join(found.consensus)} (agreeing within {AGREEMENT_RTOL:g})"
    else:
        note = f"no consensus: fewer than two exact methods agree within {AGREEMENT_RTOL:g}"
    for method, row in rows.items():
        if row["status"] not in _UNSCORED:  # failed after its gradient (timing): counted, not filled
            continue
        row["consensus_dist"] = found.consensus_dist[method]
        row["agrees_with"] = " ".join(found.agrees_with[method])
        row["message"] = f"{row['message']}; {note}"


def _time(case: _Case, prepared, point: np.ndarray, forward_s: float, options: HarnessOptions) -> None:
    # The scoring has just called prepared.gradient(point): that call was the warm-up.
    # (A method with its own error estimate was scored through with_error instead.)
    warmup = 1 if prepared.with_error is not None else 0
    timing = _quietly(
        lambda: measure(
            lambda: prepared.gradient(point),
            repeats=options.repeats,
            min_run_time=options.min_run_time,
            warmup=warmup,
            settle=options.settle,
        ),
        options.budget_s,
    )
    case.row.update(eval_s=timing.median, eval_spread=timing.spread, eval_runs=timing.runs * timing.loops)
    case.row.update(
        forward_s=forward_s, ratio_to_forward=timing.median / forward_s if forward_s > 0 else np.nan
    )


def _forward_time(record: SuiteFunction, point: np.ndarray, options: HarnessOptions) -> float:
    """Median time of the plain numpy forward pass; NaN if f fails (its rows say why)."""

    def forward():
        return record.f(point, numpy_fallback)

    try:
        timing = _quietly(
            lambda: measure(
                forward, repeats=options.repeats, min_run_time=options.min_run_time, settle=options.settle
            ),
            options.budget_s,
        )
    except Exception:
        return np.nan
    return timing.median


def run_function(
    record: SuiteFunction,
    options: HarnessOptions = HarnessOptions(),
    references: Sequence[ReferenceGradient] | Future | None = None,
    setup_failures: Mapping[str, tuple[str, str]] | None = None,
) -> list[dict]:
    """All rows of one suite function: each point by each method.

    Parameters
    ----------
    record : SuiteFunction
    options : HarnessOptions
    references : sequence of ReferenceGradient, optional
        Precomputed references, one per point (as from :func:`reference_values`), or a
        future of them (:func:`submit_references`), taken after the setups (computed
        here instead if it is not ready and ``options.timing`` is on).
    setup_failures : mapping, optional
        Method -> ``(status, message)`` for methods whose setup is known to fail on
        this record under the same budget (tried by a worker): their rows say so, and
        they are not prepared again.

    Returns
    -------
    list of dict
        Rows with the keys :data:`COLUMNS`.
    """
    prepared, setup = {}, {}
    for method in options.methods:
        if setup_failures and method in setup_failures:
            setup[method] = setup_failures[method]
            continue
        try:
            prepared[method], setup[method] = _quietly(
                lambda m=method: time_once(lambda: METHODS[m].prepare(record.f, record.dim)), options.budget_s
            )
        except Exception as error:
            setup[method] = _failure(error)
    # A worker computes the references meanwhile.  While timing, this process never
    # waits for it (on a busy machine the worker, at the lowest priority, may lag): a
    # reference not ready is computed here, to the same value.
    if hasattr(references, "result"):
        references = collect_references(references, record, wait=not options.timing)
    if references is None:
        references = reference_values(record, options)
    rows = []
    for (label, kind, point), truth in zip(_points(record, options), references, strict=True):
        forward_s = _forward_time(record, point, options) if options.timing else np.nan
        gradients, ran = {}, {}  # the methods that returned a gradient, for want of a reference
        for method in options.methods:
            case = _Case(record, label, kind, point, method)
            rows.append(case.row)
            if method not in prepared:
                case.fail(*setup[method])
                continue
            case.row["setup_s"] = setup[method]
            details = prepared[method].details
            case.row.update({k: details[k] for k in SIZE_COLUMNS if k in details})
            try:
                if prepared[method].graph_size is not None:
                    size = prepared[method].graph_size
                    case.row["tape_nodes"] = _quietly(lambda s=size, p=point: s(p), options.budget_s)
                gradients[method] = _score(case, prepared[method], point, truth, options.budget_s)
                ran[method] = case.row
                if options.timing and case.row["status"] in ("ok", *_UNSCORED):
                    _time(case, prepared[method], point, forward_s, options)
            except Exception as error:
                case.fail(*_failure(error))
        if _REFERENCE_STATUS.get(truth.status) == "no_reference" and gradients:
            _agree(ran, gradients)
    return rows


def _picklable(record: SuiteFunction) -> str:
    """``""`` if a worker process can receive ``record``, else why not."""
    try:
        pickle.dumps(record)
    except (pickle.PicklingError, AttributeError, TypeError) as error:
        return f"{type(error).__name__}: {error}"
    return ""


def _in_this_process(record: SuiteFunction, why: str) -> None:
    warnings.warn(
        f"the reference of {record.name!r} is computed in this process, not by a worker: {why} "
        "(a lambda or a nested function cannot be sent to another process; define f at the "
        "top level of a module to share the work)",
        RuntimeWarning,
        stacklevel=3,
    )


def submit_references(executor, records: Sequence[SuiteFunction], options: HarnessOptions) -> dict:
    """Send the references of ``records`` to ``executor``: record index -> future.

    A record that cannot be pickled (its ``f`` is a lambda or a closure) is left out,
    with a ``RuntimeWarning``: its reference is then computed by the caller.
    """
    futures = {}
    for i, record in enumerate(records):
        why = _picklable(record)
        if why:
            _in_this_process(record, why)
        else:
            futures[i] = executor.submit(reference_values, record, options)
    return futures


def collect_references(future, record: SuiteFunction, wait: bool = True):
    """The references a future of :func:`submit_references` holds; ``None`` (compute
    them here) if there is no future, sending the work failed, or, with ``wait`` False,
    the worker has not finished them yet (the task is then cancelled if not started)."""
    if future is None:
        return None
    if not wait and not future.done():
        future.cancel()
        return None
    try:
        return future.result()
    except Exception as error:  # sending the work failed: the reference's own failures are rows
        _in_this_process(record, f"{type(error).__name__}: {error}")
        return None


def run_suite(
    records: Iterable[SuiteFunction],
    options: HarnessOptions = HarnessOptions(),
    jobs: int = 1,
    progress: Callable[[int, int, str], None] | None = None,
    rows: list | None = None,
    scheduler=None,
    executor=None,
    references: Mapping | None = None,
) -> pd.DataFrame:
    """Rows for every record, as a DataFrame with columns :data:`COLUMNS`.

    Parameters
    ----------
    records : iterable of SuiteFunction
    options : HarnessOptions
    jobs : int
        Processes for the accuracy-only work (the references), this one included when
        timing: timing always runs in this process, one case at a time, while ``jobs - 1``
        workers compute references (accuracy only: ``jobs`` workers).  Each worker
        receives the record itself; a record that cannot be pickled (its ``f`` is a
        lambda or a closure) has its reference computed here, with a ``RuntimeWarning``.
    progress : callable, optional
        ``progress(done, total, name)`` before each function.
    rows : list, optional
        Rows are appended here as each function finishes, so that a caller who is
        interrupted (Ctrl-C) keeps everything already measured.
    scheduler : str or dask.distributed.Client, optional
        Send the references to a Dask cluster instead of local processes (needs the
        ``dask`` extra; exclusive with ``jobs > 1``); see
        :func:`~diffcompare.harness.executors.open_executor`.  The table is the same as
        with ``jobs=1``: rows follow the records, whatever finishes first.
    executor : concurrent.futures.Executor, optional
        An executor the caller has opened (and keeps for other work); ``jobs`` and
        ``scheduler`` then only are checked.
    references : mapping, optional
        What :func:`submit_references` returned for these records and ``executor``, when
        the caller has sent them already (ahead of other work it queues there).
    """
    records = list(records)
    check_parallel_options(jobs, scheduler)
    rows = [] if rows is None else rows
    if executor is None:
        opened = open_executor(jobs, scheduler, caller_busy=options.timing)
    else:
        opened = contextlib.nullcontext(executor)
    with opened as pool:
        if references is not None:
            futures = references
        else:
            futures = submit_references(pool, records, options) if pool is not None else {}
        for done, record in enumerate(records):
            if progress is not None:
                progress(done, len(records), record.name)
            rows.extend(run_function(record, options, futures.get(done)))
    return pd.DataFrame(rows, columns=COLUMNS)
