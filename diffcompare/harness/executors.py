"""Where parallel work runs: local worker processes or a Dask cluster, behind one interface.

The harness (the references of the suite) and the fuzzer (one expression per task) hand
their work to a :class:`concurrent.futures.Executor` opened by :func:`open_executor`:
a :class:`~concurrent.futures.ProcessPoolExecutor` for ``jobs > 1``, the executor of a
``dask.distributed.Client`` for a ``scheduler`` address, and none at all (the caller
runs the work itself, in order) for one local process.  Both callers collect results in
submission order, never completion order, so a table is the same however it was run.

Dask is an optional extra (``pip install "diffcompare[dask]"``), imported only when a
scheduler is given.  The workers of the cluster must have the same diffcompare installed:
they receive suite records and methods by reference to their modules.
"""

from __future__ import annotations

import importlib.util
import multiprocessing
import os
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import contextmanager
from typing import Any

__all__ = [
    "BESIDE_TIMING_NICENESS",
    "DASK_INSTALL",
    "check_parallel_options",
    "open_executor",
    "ordered_map",
    "usable_cores",
]

#: What to run when ``dask.distributed`` is missing.
DASK_INSTALL = 'pip install "diffcompare[dask]"'

#: Kept alive so that each worker's BLAS limit holds for its whole life.
_worker_blas_limit = None


def _is_client(scheduler: Any) -> bool:
    return hasattr(scheduler, "get_executor") and hasattr(scheduler, "scheduler_info")


def check_parallel_options(jobs: int = 1, scheduler: Any = None, *, jobs_name: str = "jobs") -> None:
    """Refuse a bad combination of local processes and a Dask scheduler, before any work.

    Parameters
    ----------
    jobs : int
        Local worker processes (1: none, the caller's process does the work).
    scheduler : str, dask.distributed.Client or None
        The address of a Dask scheduler (``"tcp://host:8786"``), or a connected client.
    jobs_name : str
        What the caller calls ``jobs`` (``"workers"``, ``"--jobs"``), for the messages.

    Raises
    ------
    TypeError
        If ``jobs`` is not an integer or ``scheduler`` is neither a string nor a client.
    ValueError
        If ``jobs < 1``, if ``scheduler`` is an empty string, or if both ``jobs > 1`` and
        a scheduler are given (the cluster's workers are the parallelism; there is no
        sensible meaning for local processes on top).
    ImportError
        If a scheduler is given and ``dask.distributed`` is not installed.

    Examples
    --------
    >>> check_parallel_options(jobs=2, scheduler="tcp://127.0.0.1:8786")
    Traceback (most recent call last):
    ...
    ValueError: jobs=2 and a scheduler are exclusive (the cluster's workers are the parallelism)
    """
    if not isinstance(jobs, int) or isinstance(jobs, bool):
        raise TypeError(f"{jobs_name} must be an integer >= 1; got {type(jobs).__name__}")
    if jobs < 1:
        raise ValueError(f"{jobs_name} must be an integer >= 1; got {jobs!r}")
    if scheduler is None:
        return
    if isinstance(scheduler, str):
        if not scheduler.strip():
            raise ValueError("scheduler must be the address of a Dask scheduler; got an empty string")
    elif not _is_client(scheduler):
        kind = type(scheduler).__name__
        raise TypeError(f"scheduler must be an address string or a dask.distributed.Client; got {kind}")
    if jobs > 1:
        why = "the cluster's workers are the parallelism"
        raise ValueError(f"{jobs_name}={jobs} and a scheduler are exclusive ({why})")
    if importlib.util.find_spec("distributed") is None:
        raise ImportError(f"a Dask scheduler needs dask.distributed, which is not installed: {DASK_INSTALL}")


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity where the system has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS and Windows have no sched_getaffinity
        return os.cpu_count() or 1


#: The niceness of workers beside a caller that times: the lowest priority, so that the
#: scheduler gives the timing process its CPU whenever the two compete (a machine with
#: other work on it); on an idle machine each has a core and the priority changes nothing.
BESIDE_TIMING_NICENESS = 19


def _start_worker(niceness: int = 0) -> None:
    if niceness and hasattr(os, "nice"):
        os.nice(niceness)
    _one_blas_thread()


def _one_blas_thread() -> None:
    # N processes on N cores: a multi-threaded BLAS in each would oversubscribe them.
    global _worker_blas_limit
    from threadpoolctl import threadpool_limits

    _worker_blas_limit = threadpool_limits(limits=1)


def _process_pool(
    jobs: int, recycle_after: int | None, preload: Sequence[str], niceness: int = 0
) -> ProcessPoolExecutor:
    methods = multiprocessing.get_all_start_methods()
    if recycle_after is None:
        # fork keeps the parent's imports (SymPy, autograd): the workers start at once.
        context = multiprocessing.get_context("fork" if "fork" in methods else None)
    else:
        # A forked worker cannot be replaced safely (CPython refuses max_tasks_per_child
        # with fork); a fork server imports the heavy modules once and forks the workers,
        # and their replacements, from that warm copy.
        context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
        if context.get_start_method() == "forkserver":
            context.set_forkserver_preload(list(preload))
    return ProcessPoolExecutor(
        jobs,
        mp_context=context,
        initializer=_start_worker,
        initargs=(niceness,),
        max_tasks_per_child=recycle_after,
    )


def _dask_client(scheduler: Any):
    """``(client, owned)``: a client connected to ``scheduler``, and whether to close it."""
    if not isinstance(scheduler, str):
        return scheduler, False
    try:
        from distributed import Client
    except ImportError as error:
        raise ImportError(f"a Dask scheduler needs dask.distributed: {DASK_INSTALL}") from error
    try:
        # set_as_default=False: the caller's own dask work keeps its scheduler.
        return Client(scheduler, set_as_default=False), True
    except OSError as error:
        raise ConnectionError(f"cannot reach the Dask scheduler at {scheduler!r}: {error}") from error


@contextmanager
def open_executor(
    jobs: int = 1,
    scheduler: Any = None,
    *,
    recycle_after: int | None = None,
    preload: Sequence[str] = (),
    caller_busy: bool = False,
) -> Iterator[Executor | None]:
    """The executor for ``jobs`` local processes or a Dask ``scheduler``; ``None`` for neither.

    On leaving the block normally every submitted task has finished; on an exception
    (Ctrl-C included) the tasks not yet started are cancelled.

    Parameters
    ----------
    jobs : int
        Local worker processes; 1 (with no scheduler) yields ``None``: run the work here.
    scheduler : str, dask.distributed.Client or None
        A scheduler address (a client is opened and closed here) or a connected client
        (left open).  Tasks are submitted with ``pure=False``, so that two tasks are never
        merged because Dask hashed their arguments alike.
    recycle_after : int, optional
        Replace a local worker after this many tasks (bounds memory that grows per task,
        such as the sources ``lambdify`` keeps).  Ignored by Dask, whose workers manage
        their own memory.
    preload : sequence of str
        Modules a recycling pool's fork server imports once, so that each new worker
        starts warm.
    caller_busy : bool
        The caller keeps a core busy meanwhile (the harness times there): ``jobs``
        counts the caller's process, so ``jobs - 1`` local workers are started, and
        ``jobs=2`` on two cores leaves the timing a core of its own; the workers run at
        the lowest priority (:data:`BESIDE_TIMING_NICENESS`), so that on a machine busy
        with other work they take CPU time from others before the timing.

    Yields
    ------
    concurrent.futures.Executor or None

    Raises
    ------
    TypeError, ValueError, ImportError
        As :func:`check_parallel_options`.
    ConnectionError
        If the scheduler cannot be reached.

    Warns
    -----
    RuntimeWarning
        With a scheduler: Dask workers run tasks in threads, where
        :func:`~diffcompare.budget.time_budget` cannot interrupt them, so a case that
        would time out in a local process runs to its end on the cluster.
    """
    check_parallel_options(jobs, scheduler)
    if scheduler is None and jobs == 1:
        yield None
        return
    if scheduler is None and caller_busy:
        jobs -= 1  # >= 1: jobs == 1 has returned above
    if scheduler is None:
        niceness = BESIDE_TIMING_NICENESS if caller_busy else 0
        pool = _process_pool(jobs, recycle_after, preload, niceness)
        try:
            yield pool
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
        return
    warnings.warn(
        "time budgets are not enforced on Dask workers: they run tasks in threads, and the "
        "budget's SIGALRM reaches only a main thread, so a case that would time out in a local "
        "process runs to its end",
        RuntimeWarning,
        stacklevel=3,
    )
    client, owned = _dask_client(scheduler)
    try:
        executor = client.get_executor(pure=False)
        try:
            yield executor
        except BaseException:
            executor.shutdown(wait=False)  # cancels what has not run
            raise
        executor.shutdown(wait=True)
    finally:
        if owned:
            client.close()


def ordered_map(
    executor: Executor | None, fn: Callable, items: Iterable, chunksize: int = 1
) -> Iterator[Any]:
    """``fn`` of each item, in the order of ``items``, in this process when ``executor`` is None.

    ``chunksize`` batches items per task of a process pool (Dask ignores it).
    """
    if executor is None:
        return map(fn, items)
    return executor.map(fn, items, chunksize=chunksize)
