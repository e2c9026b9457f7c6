"""How long a call takes: timeit-style repeated runs with an injectable clock.

A single call of a fast gradient is shorter than the clock's resolution and overhead, so
``measure`` calls the function many times per run (autoranging the count the way
``timeit.Timer.autorange`` does) and divides.  Several runs are timed and summarised by
their median, which ignores the occasional run slowed by the scheduler or the garbage
collector, and by the interquartile range relative to the median, which says how far to
trust it.  The clock is a parameter so that the tests can drive the arithmetic with a
fake clock instead of waiting.
"""

from __future__ import annotations

import contextlib
import itertools
import math
import statistics
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from numbers import Real
from typing import Any, TypeVar

__all__ = ["SETTLED_RUNS", "Timing", "blas_thread_settings", "measure", "one_blas_thread", "time_once"]

T = TypeVar("T")


@dataclass(frozen=True)
class Timing:
    """Per-call times of a function over several timed runs.

    Attributes
    ----------
    median : float
        Median over the runs of the seconds per call.
    minimum : float
        Fastest run's seconds per call.
    maximum : float
        Slowest run's seconds per call.
    spread : float
        Relative spread: the interquartile range of the per-call times divided by their
        median (quartiles interpolated linearly, as ``numpy.percentile`` does).  0 when
        every run took the same time, and for a single run; ``inf`` when the median is
        0 but the runs differ.
    runs : int
        Number of timed runs the statistics are taken over.
    loops : int
        Calls per run.
    total : float
        Seconds spent in ``measure``, warm-up and autoranging included.
    """

    median: float
    minimum: float
    maximum: float
    spread: float
    runs: int
    loops: int
    total: float


def _check_callable(value: Any, name: str) -> None:
    if not callable(value):
        raise TypeError(f"{name} must be callable; got {type(value).__name__}")


def _check_count(value: Any, name: str, minimum: int) -> None:
    # bool is an int subclass, but repeats=True is a mistake, not a count.
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{name} must be an integer; got {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}; got {value}")


def _check_seconds(value: Any, name: str) -> None:
    if not isinstance(value, Real) or isinstance(value, bool):
        raise TypeError(f"{name} must be a real number of seconds; got {type(value).__name__}")
    if math.isnan(value) or value < 0:
        raise ValueError(f"{name} must be >= 0; got {value}")


def _loop_counts(max_loops: int) -> Iterator[int]:
    """1, 2, 5, 10, 20, 50, ... as timeit uses, ending with ``max_loops``."""
    for power in itertools.count():
        for factor in (1, 2, 5):
            loops = factor * 10**power
            if loops >= max_loops:
                yield max_loops
                return
            yield loops


def _time_run(fn: Callable[[], Any], loops: int, clock: Callable[[], float]) -> float:
    # itertools.repeat avoids creating an int per iteration: the loop itself then costs
    # as little as a Python loop can, and that cost is included in the per-call time.
    calls = itertools.repeat(None, loops)
    start = clock()
    for _ in calls:
        fn()
    return clock() - start


def _relative_spread(per_call: list[float], median: float) -> float:
    if len(per_call) < 2:
        return 0.0
    # "inclusive" interpolates between order statistics, like numpy's default percentile.
    first, _, third = statistics.quantiles(per_call, n=4, method="inclusive")
    interquartile = third - first
    if interquartile == 0:
        return 0.0
    return interquartile / median if median > 0 else math.inf


#: Runs that must agree before ``measure(..., settle=...)`` stops early: with three, one
#: run slowed by the scheduler cannot by itself make the others look settled.
SETTLED_RUNS = 3


def _settled(run_times: list[float], settle: float | None) -> bool:
    if settle is None or len(run_times) < SETTLED_RUNS:
        return False
    return max(run_times) - min(run_times) <= settle * min(run_times)


def measure(
    fn: Callable[[], Any],
    *,
    repeats: int = 5,
    min_run_time: float = 0.05,
    warmup: int = 1,
    max_loops: int = 10**6,
    clock: Callable[[], float] = time.perf_counter,
    settle: float | None = None,
) -> Timing:
    """Time ``fn()`` over several runs of many calls each.

    ``fn`` is first called ``warmup`` times untimed (caches, lazy compilation).  Then the
    number of calls per run is autoranged through 1, 2, 5, 10, 20, 50, ... until one run
    of that many calls takes at least ``min_run_time`` (or ``max_loops`` is reached), so
    that the clock's resolution and overhead are small against the run.  The last
    autoranging run already has the chosen number of calls and counts as the first of
    the ``repeats`` runs; the shorter runs before it are discarded.

    With ``settle``, ``repeats`` is a most: the runs stop as soon as
    :data:`SETTLED_RUNS` of them agree, the slowest within ``settle`` (relative) of the
    fastest.  The median of runs that agree that closely is known to that precision, and
    the further runs would only cost time (seconds each for a slow gradient).

    Parameters
    ----------
    fn : callable
        Called with no arguments; its result is discarded.
    repeats : int, optional
        Number of timed runs, at least 1.
    min_run_time : float, optional
        Least seconds one run should take, at least 0.
    warmup : int, optional
        Untimed calls before timing, at least 0.
    max_loops : int, optional
        Most calls per run, at least 1.
    clock : callable, optional
        Returns the current time in seconds; ``time.perf_counter`` by default.
    settle : float, optional
        Stop before ``repeats`` runs once the runs so far have settled (see above); at
        least 0.  ``None`` (the default) always times ``repeats`` runs.

    Returns
    -------
    Timing
        Median, fastest and slowest seconds per call, relative spread, number of runs,
        calls per run and the total time spent.

    Raises
    ------
    TypeError
        If ``fn`` or ``clock`` is not callable, or an argument has the wrong type.
    ValueError
        If an argument is out of range.
    Exception
        Whatever ``fn`` raises, unchanged.

    Examples
    --------
    A fake clock that advances half a second each time it is read:

    >>> ticks = iter(range(100))
    >>> timing = measure(lambda: None, repeats=3, min_run_time=0.1, clock=lambda: next(ticks) / 2)
    >>> timing.loops, timing.runs, timing.median, timing.spread
    (1, 3, 0.5, 0.0)

    Runs that agree stop early with ``settle``: three here, not ten.

    >>> ticks = iter(range(100))
    >>> measure(lambda: None, repeats=10, min_run_time=0.1, settle=0.01, clock=lambda: next(ticks) / 2).runs
    3
    """
    _check_callable(fn, "fn")
    _check_count(repeats, "repeats", 1)
    _check_seconds(min_run_time, "min_run_time")
    _check_count(warmup, "warmup", 0)
    _check_count(max_loops, "max_loops", 1)
    _check_callable(clock, "clock")
    if settle is not None and (not isinstance(settle, Real) or isinstance(settle, bool)):
        raise TypeError(f"settle must be a real number or None; got {type(settle).__name__}")
    if settle is not None and not settle >= 0:
        raise ValueError(f"settle must be >= 0; got {settle}")

    started = clock()
    for _ in range(warmup):
        fn()

    for loops in _loop_counts(max_loops):
        run_time = _time_run(fn, loops, clock)
        if run_time >= min_run_time:
            break
    run_times = [run_time]
    while len(run_times) < repeats and not _settled(run_times, settle):
        run_times.append(_time_run(fn, loops, clock))
    total = clock() - started

    per_call = [run_time / loops for run_time in run_times]
    median = statistics.median(per_call)
    return Timing(
        median=median,
        minimum=min(per_call),
        maximum=max(per_call),
        spread=_relative_spread(per_call, median),
        runs=len(per_call),
        loops=loops,
        total=total,
    )


def time_once(fn: Callable[[], T], clock: Callable[[], float] = time.perf_counter) -> tuple[T, float]:
    """Call ``fn()`` once and time it: for one-off setup costs such as tracing or ``sympy.diff``.

    Parameters
    ----------
    fn : callable
        Called with no arguments.
    clock : callable, optional
        Returns the current time in seconds; ``time.perf_counter`` by default.

    Returns
    -------
    tuple
        ``(result, seconds)``: what ``fn`` returned and how long the call took.

    Raises
    ------
    TypeError
        If ``fn`` or ``clock`` is not callable.
    Exception
        Whatever ``fn`` raises, unchanged.

    Examples
    --------
    >>> result, seconds = time_once(lambda: 6 * 7)
    >>> result
    42
    """
    _check_callable(fn, "fn")
    _check_callable(clock, "clock")
    start = clock()
    result = fn()
    return result, clock() - start


def blas_thread_settings() -> list[dict]:
    """The thread pools (BLAS, OpenMP) loaded in this process, as threadpoolctl reports them.

    Returns
    -------
    list of dict
        One entry per pool: ``user_api``, ``internal_api``, ``num_threads``, ``version``,
        ``threading_layer`` and ``prefix`` (``None`` where threadpoolctl has no value).
    """
    from threadpoolctl import threadpool_info

    keys = ("user_api", "internal_api", "num_threads", "version", "threading_layer", "prefix")
    return [{key: info.get(key) for key in keys} for info in threadpool_info()]


@contextlib.contextmanager
def one_blas_thread() -> Iterator[list[dict]]:
    """Pin BLAS and OpenMP to one thread inside the block; yield the settings reported there.

    A matmul on several threads takes a time that depends on what else the machine runs,
    and a multi-threaded reduction may sum in another order from run to run.  On one
    thread numpy, autograd and the tape call the same single-threaded kernels, so their
    times compare and their last bits repeat.  Every timed run (the benchmark, the
    harness, :func:`diffcompare.compare`) goes through this one helper.

    Examples
    --------
    >>> with one_blas_thread() as threads:
    ...     all(pool["num_threads"] == 1 for pool in threads)
    True
    """
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        yield blas_thread_settings()
