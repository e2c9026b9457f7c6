"""Fuzzing runs: every method against the truth on generated expressions, in parallel.

:func:`fuzz_expression` differentiates one expression by every method of
:data:`diffcompare.methods.METHODS`, computes the 50-digit reference and classifies the
disagreements.  :func:`run_fuzz` does that for a range of seeds, in worker processes,
returning the cases in seed order: the same seeds give the same expressions, points
and verdicts in any number of workers, local or on a Dask cluster (only ``seconds``
differs).
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from ..budget import BudgetExceeded, time_budget
from ..harness.executors import check_parallel_options, open_executor, ordered_map
from ..methods import METHODS
from ..truth.accuracy import normwise_relative_error
from ..truth.reference import PreparedReference, ReferenceGradient
from .classify import MethodResult, Verdict, classify
from .evidence import BUDGET_S, ExpressionEvidence
from .expression import Expression
from .generator import build_expression

__all__ = ["FuzzCase", "fuzz_expression", "fuzz_seed", "run_fuzz"]


@dataclass(frozen=True)
class FuzzCase:
    """One expression's outcome.

    Attributes
    ----------
    expression : Expression
    reference_status : str
    errors : dict of str to float
        Normwise relative error per method (NaN where there is no gradient or reference).
    verdicts : tuple of Verdict
        The classified disagreements (empty when every method is within its bound).
    seconds : float
        Wall-clock time of the whole case, classification included.
    """

    expression: Expression
    reference_status: str
    errors: dict
    verdicts: tuple[Verdict, ...]
    seconds: float


def _run(fn: Callable, budget_s: float | None):
    with time_budget(budget_s), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return fn()


def _method_result(name: str, expression: Expression, x: np.ndarray, budget_s) -> MethodResult:
    try:
        gradient = _run(lambda: METHODS[name].prepare(expression.f, expression.dim).gradient(x), budget_s)
    except BudgetExceeded as error:
        return MethodResult(name, "timeout", message=str(error))
    except NotImplementedError as error:
        return MethodResult(name, "unsupported", message=f"NotImplementedError: {error}")
    except Exception as error:
        return MethodResult(name, "error", message=f"{type(error).__name__}: {error}")
    return MethodResult(name, "ok", np.asarray(gradient, dtype=np.float64))


def _reference(expression: Expression, x: np.ndarray, budget_s) -> ReferenceGradient:
    try:
        return _run(lambda: PreparedReference(expression.f, expression.dim)(x), budget_s)
    except BudgetExceeded as error:
        return ReferenceGradient(None, "timeout", 50, str(error))
    except Exception as error:
        return ReferenceGradient(None, "error", 50, f"{type(error).__name__}: {error}")


def fuzz_expression(
    expression: Expression, methods: Sequence[str] = tuple(METHODS), budget_s: float | None = BUDGET_S
) -> FuzzCase:
    """Differentiate ``expression`` at its point by every method and classify the results.

    Parameters
    ----------
    expression : Expression
    methods : sequence of str, optional
        Names in :data:`diffcompare.methods.METHODS` (default: all).
    budget_s : float or None, optional
        Time budget of each method and of the reference.

    Returns
    -------
    FuzzCase
    """
    start = time.perf_counter()
    x = np.array(expression.point, dtype=np.float64)
    reference = _reference(expression, x, budget_s)
    results = {name: _method_result(name, expression, x, budget_s) for name in methods}
    verdicts = classify(results, reference, ExpressionEvidence(expression, budget_s=budget_s))
    errors = {}
    for name, result in results.items():
        ok = result.status == "ok" and reference.status == "ok"
        errors[name] = normwise_relative_error(result.gradient, reference.value) if ok else float("nan")
    return FuzzCase(expression, reference.status, errors, tuple(verdicts), time.perf_counter() - start)


def fuzz_seed(seed: int, max_dim: int = 3, max_depth: int = 4) -> FuzzCase:
    """:func:`fuzz_expression` on ``build_expression(seed, max_dim, max_depth)``."""
    return fuzz_expression(build_expression(seed, max_dim=max_dim, max_depth=max_depth))


def _fuzz_seed_args(args: tuple[int, int, int]) -> FuzzCase:
    return fuzz_seed(*args)


#: Expressions sent to a local worker at once, and how many a worker runs before it is
#: replaced (lambdify keeps every generated source: about 20 kB per expression).
CHUNK = 8
RECYCLE_AFTER = 500

#: What a recycling pool's fork server imports once, so that new workers start warm.
_WARM_MODULES = ("diffcompare.fuzz.runner", "sympy", "mpmath", "autograd")


def run_fuzz(
    seeds: Iterable[int],
    workers: int | None = None,
    max_dim: int = 3,
    max_depth: int = 4,
    progress: Callable[[int], None] | None = None,
    scheduler=None,
) -> list[FuzzCase]:
    """Fuzz every seed; the cases come back in seed order.

    Parameters
    ----------
    seeds : iterable of int
    workers : int, optional
        Local worker processes (1: run in this process; default 2, or none with a
        scheduler).
    max_dim, max_depth : int, optional
        Passed to :func:`~diffcompare.fuzz.generator.build_expression`.
    progress : callable, optional
        Called with the number of cases done after each one.
    scheduler : str or dask.distributed.Client, optional
        Run the expressions on a Dask cluster instead (needs the ``dask`` extra; not
        with ``workers > 1``); see :func:`~diffcompare.harness.executors.open_executor`.

    Returns
    -------
    list of FuzzCase
        In the order of ``seeds``, however many workers ran them: the same seeds give
        the same cases (only ``seconds`` differs).

    Raises
    ------
    ValueError
        If ``workers`` is not a positive integer, or is above 1 with a scheduler.
    """
    if workers is None:
        workers = 1 if scheduler is not None else 2
    if not isinstance(workers, int) or isinstance(workers, bool) or workers < 1:
        raise ValueError(f"workers must be a positive integer; got {workers!r}")
    check_parallel_options(workers, scheduler, jobs_name="workers")
    tasks = [(int(seed), max_dim, max_depth) for seed in seeds]
    cases: list[FuzzCase] = []
    with open_executor(
        workers, scheduler, recycle_after=max(RECYCLE_AFTER // CHUNK, 1), preload=_WARM_MODULES
    ) as executor:
        for case in ordered_map(executor, _fuzz_seed_args, tasks, chunksize=CHUNK):
            cases.append(case)
            if progress is not None:
                progress(len(cases))
    return cases
