"""The operator study: Jacobians, JVPs, VJPs, Hessians and HVPs against the 50-digit truth.

A small subset keeps it to seconds of a full comparison: the Hessian and the HVP of each
suite function at its first ordinary point, and the Jacobian, JVP and VJP of the suite's
functions stacked by dimension (:func:`~diffcompare.operators.cases.stacked_suite`) at
their first drawn point.  Every method of each operator's table runs (those standing for
a gradient method of the run: ``central_gradient`` follows ``central``).  The truth is
:func:`~diffcompare.truth.operators.reference_hessian` or
:func:`~diffcompare.truth.operators.reference_jacobian`; a JVP, VJP or HVP is scored
against the float64 product of that matrix with its seeded direction.  A case that fails
is a row with its status and message, as in ``results.csv``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial

import numpy as np
import pandas as pd

from ..operators import (
    HESSIAN_METHODS,
    HVP_METHODS,
    JACOBIAN_METHODS,
    JVP_METHODS,
    VJP_METHODS,
    hessian,
    hvp,
    jacobian,
    jvp,
    vjp,
)
from ..operators.cases import stacked_suite
from ..ops.numpy_namespace import numpy_namespace
from ..suite.records import SEED, SuiteFunction
from ..truth.accuracy import normwise_relative_error, relative_error
from ..truth.directional import random_direction
from ..truth.operators import reference_hessian, reference_jacobian
from ..truth.reference import ReferenceGradient
from .run import HarnessOptions, _failure, _quietly
from .timing import measure, time_once

__all__ = [
    "OPERATOR_COLUMNS",
    "OPERATORS",
    "OperatorCase",
    "operator_cases",
    "operator_study",
    "operator_truth",
]

OPERATOR_COLUMNS = [
    "function", "dim", "point", "operator", "method", "status",
    "max_rel_err", "norm_rel_err", "first_call_s", "eval_s", "message",
]  # fmt: skip

# Each operator: its table of methods, the operator itself, whether it takes a vector
# function g (Jacobian side) or a scalar f (Hessian side), the direction it is called
# with (t and v of length n, u of length m; None: called with x alone), and its truth
# from the 50-digit matrix M and that direction d.
# fmt: off
OPERATORS = {
    "jacobian": (JACOBIAN_METHODS, jacobian, True,  None, lambda M: M),
    "jvp":      (JVP_METHODS,      jvp,      True,  "t",  lambda M, d: M @ d),
    "vjp":      (VJP_METHODS,      vjp,      True,  "u",  lambda M, d: d @ M),
    "hessian":  (HESSIAN_METHODS,  hessian,  False, None, lambda M: M),
    "hvp":      (HVP_METHODS,      hvp,      False, "v",  lambda M, d: M @ d),
}
# fmt: on

#: The gradient method of a run that an operator method stands for, where the names differ.
GRADIENT_METHOD = {"central_gradient": "central"}

#: Seconds one timed run lasts at least, against the harness's 10 ms: these are
#: indicative times of small cases (``scripts/operator_costs.py`` measures costs).
_MIN_RUN_TIME = 0.002


@dataclass(frozen=True)
class OperatorCase:
    """One function at one point: ``f`` scalar (Hessian, HVP) or a vector ``g`` (the rest)."""

    function: str
    f: Callable
    point: str
    x: np.ndarray
    vector: bool

    @property
    def operators(self) -> tuple[str, ...]:
        """The operators measured on this case."""
        return tuple(name for name, entry in OPERATORS.items() if entry[2] == self.vector)


def operator_cases(records: Sequence[SuiteFunction]) -> list[OperatorCase]:
    """The study's cases for suite ``records``: each at its first ordinary point (Hessian,
    HVP), and the records stacked by dimension at their first drawn point (the rest)."""
    cases = [OperatorCase(record.name, record.f, "ordinary-0", record.points[0], False) for record in records]
    for _, g, x in stacked_suite(records, points=1):
        cases.append(OperatorCase(g.__name__, g, "drawn-0", x, True))
    return cases


def operator_truth(case: OperatorCase, budget_s: float | None = None) -> ReferenceGradient:
    """The 50-digit Jacobian or Hessian of a case, within the budget (a failure is a status)."""
    reference = reference_jacobian if case.vector else reference_hessian
    try:
        return _quietly(lambda: reference(case.f, case.x), budget_s)
    except Exception as error:
        status, message = _failure(error)
        return ReferenceGradient(None, "error", 50, f"reference {status}: {message}")


def _directions(case: OperatorCase, truth: ReferenceGradient, seed: int) -> dict[str, np.ndarray]:
    n = m = case.x.size
    if case.vector and truth.value is not None:
        m = truth.value.shape[0]
    elif case.vector:  # no truth: the length of g(x), if g can say
        try:
            m = len(np.atleast_1d(_quietly(lambda: case.f(case.x, numpy_namespace), None)))
        except Exception:
            pass  # every method of the case fails on g too, and its rows say why
    return {
        "t": random_direction(n, seed, case.function, "t"),
        "u": random_direction(m, seed, case.function, "u"),
        "v": random_direction(n, seed, case.function, "v"),
    }


def _score(row: dict, value, expected) -> None:
    value = np.asarray(value, dtype=np.float64)
    if not np.all(np.isfinite(value)):
        row.update(status="nonfinite", message="the result has inf or nan entries")
    elif expected is None:
        return  # no_reference, set by the caller
    else:
        row["max_rel_err"] = float(np.max(relative_error(value, expected)))
        row["norm_rel_err"] = normwise_relative_error(value, expected)


def _run_method(row: dict, call: Callable, expected, options: HarnessOptions) -> None:
    """Fill one row: the first call (setup included), its score, then the timed calls."""
    try:
        value, first_call_s = _quietly(lambda: time_once(call), options.budget_s)
        _score(row, value, expected)
        if options.timing:
            row["first_call_s"] = first_call_s
        if options.timing and row["status"] in ("ok", "no_reference"):
            timing = _quietly(
                lambda: measure(
                    call,
                    repeats=options.repeats,
                    min_run_time=_MIN_RUN_TIME,
                    warmup=0,
                    settle=options.settle,
                ),
                options.budget_s,
            )
            row["eval_s"] = timing.median
    except Exception as error:
        row["status"], row["message"] = _failure(error)


def operator_study(
    cases: Sequence[OperatorCase],
    methods: Sequence[str],
    options: HarnessOptions | None = None,
    truths: Sequence | None = None,
    progress: Callable[[str], None] | None = None,
) -> pd.DataFrame:
    """Every operator method on every case, scored against the 50-digit truth.

    Parameters
    ----------
    cases : sequence of OperatorCase
        As from :func:`operator_cases`.
    methods : sequence of str
        The run's gradient methods; an operator method runs if it is one of them (or
        stands for one, :data:`GRADIENT_METHOD`).
    options : HarnessOptions, optional
        ``budget_s`` bounds each truth and each call, ``timing`` turns the times on,
        ``repeats``, ``settle`` and ``seed`` (of the directions) as in the harness.
    truths : sequence, optional
        The truth of each case, or a future of it (computed by a worker meanwhile);
        computed here if not given, or, with ``options.timing``, not ready.
    progress : callable, optional
        ``progress(label)`` before each case.

    Returns
    -------
    pandas.DataFrame
        One row per (case, operator, method) with the columns :data:`OPERATOR_COLUMNS`:
        ``max_rel_err`` the largest entrywise relative error, ``norm_rel_err``
        ``max |value - truth| / max |truth|``; ``first_call_s`` the first call (setup
        included), ``eval_s`` the median per call after it; ``status`` ``ok``,
        ``no_reference``, ``nonfinite``, ``error``, ``timeout`` or ``unsupported``.
    """
    options = HarnessOptions() if options is None else options
    seed = SEED if options.seed is None else options.seed
    rows = []
    for index, case in enumerate(cases):
        if progress is not None:
            progress(f"operators {case.function}")
        truth = truths[index] if truths is not None else None
        if hasattr(truth, "result") and options.timing and not truth.done():
            truth.cancel()  # from a worker, not ready: while timing, not waited for
            truth = None
        elif hasattr(truth, "result"):
            truth = truth.result()
        if truth is None:
            truth = operator_truth(case, options.budget_s)
        directions = _directions(case, truth, seed)
        for operator in case.operators:
            table, make, _, direction, expected_from = OPERATORS[operator]
            along = () if direction is None else (directions[direction],)
            expected = expected_from(truth.value, *along) if truth.status == "ok" else None
            for method in table:
                if GRADIENT_METHOD.get(method, method) not in methods:
                    continue
                row = dict.fromkeys(OPERATOR_COLUMNS, np.nan)
                row.update(
                    function=case.function, dim=case.x.size, point=case.point, operator=operator,
                    method=method, status="ok", message="",
                )  # fmt: skip
                if expected is None:
                    row.update(status="no_reference", message=f"no reference: {truth.message}")
                rows.append(row)
                _run_method(row, partial(make(case.f, method), case.x, *along), expected, options)
    return pd.DataFrame(rows, columns=OPERATOR_COLUMNS)
