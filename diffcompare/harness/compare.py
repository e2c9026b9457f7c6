"""The comparison on a caller's own function: ``compare(f, points)``.

The suite's records carry their own points; here the caller gives ``f(x, xp)`` and the
points, and gets the rows :func:`~diffcompare.harness.run.run_suite` writes for the
suite (the columns of ``results.csv``), one per point and method.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from ..methods import METHODS
from ..suite.records import HardPoint, SuiteFunction
from ..validation import as_point, check_callable
from .run import HarnessOptions, run_suite
from .timing import one_blas_thread

__all__ = ["caller_record", "compare"]


def compare(
    f: Callable,
    points,
    methods: Sequence[str] | None = None,
    *,
    name: str = "f",
    timing: bool = True,
    budget_s: float | None = 30.0,
    directional: bool = True,
) -> pd.DataFrame:
    """Every method's gradient of ``f`` at each point, scored against the 50-digit truth.

    Parameters
    ----------
    f : callable
        ``f(x, xp)`` returning a scalar, written against the array namespace ``xp``.
    points : array_like
        One point, shape ``(n,)``, or several as the rows of ``(k, n)``.
    methods : sequence of str, optional
        Names from :data:`diffcompare.METHODS` (default: all of them).
    name : str, optional
        The function's name in the ``function`` column.
    timing : bool, optional
        Measure setup and evaluation times too (off: accuracy only, much faster).
    budget_s : float or None, optional
        Time budget of each setup and each evaluation, in seconds.
    directional : bool, optional
        Where SymPy cannot give the full reference, score every method along a random
        direction at 50 digits (status ``directional``); off: agreement only
        (``no_reference``).

    Returns
    -------
    pandas.DataFrame
        The columns of ``results.csv``; ``point`` is ``point-0``, ``point-1``, ... in
        the order given, with ``kind`` ``"point"``.  A method that fails at a point is a
        row with its status and message; the others are still measured.  BLAS runs on
        one thread during the comparison (as in the benchmark); ``table.attrs`` records
        it (``threadpool_limits``, ``blas_threads``), and :func:`write_reports` copies it
        into ``meta.json``.

    Raises
    ------
    TypeError
        If ``f`` is not callable, ``points`` is not real floating point, or ``name``
        is not a string.
    ValueError
        If ``points`` is empty, not 1-d or 2-d, or not finite, or a method is unknown.

    Examples
    --------
    >>> import numpy as np
    >>> table = compare(lambda x, xp: xp.sum(xp.sin(x) * x), [[0.5, 2.0], [1.0, -1.0]],
    ...                 methods=["tape", "central"], timing=False)
    >>> table[["point", "method", "status"]].values.tolist()[:2]
    [['point-0', 'tape', 'ok'], ['point-0', 'central', 'ok']]
    """
    check_callable(f, "f")
    if not isinstance(name, str) or not name:
        raise TypeError(f"name must be a non-empty string; got {name!r}")
    rows = _rows(points)
    chosen = tuple(METHODS) if methods is None else tuple(methods)
    if isinstance(methods, str) or not all(isinstance(m, str) for m in chosen):
        raise TypeError(f"methods must be a sequence of method names; got {methods!r}")
    if budget_s is not None and (
        isinstance(budget_s, bool) or not isinstance(budget_s, numbers.Real) or not budget_s > 0
    ):
        raise ValueError(f"budget_s must be a positive number of seconds or None; got {budget_s!r}")
    options = HarnessOptions(
        methods=chosen,
        timing=bool(timing),
        budget_s=budget_s,
        ordinary_points=0,
        hard_points=True,
        directional=bool(directional),
    )
    with one_blas_thread() as threads:
        table = run_suite([caller_record(f, rows, name)], options)
    table.attrs.update(threadpool_limits=1, blas_threads=threads)
    return table


def caller_record(
    f: Callable, points: np.ndarray, name: str, kind: str = "point", note: str = "given by the caller"
) -> SuiteFunction:
    """A caller's ``f`` and points as a record the harness runs like a suite function.

    The points become the record's tagged points (``kind``; rows ``kind-0``, ``kind-1``,
    ...), so a run with ``HarnessOptions(ordinary_points=0)`` evaluates exactly them;
    the domain is their bounding box.

    Parameters
    ----------
    f : callable
        ``f(x, xp)``.
    points : numpy.ndarray
        Finite float64 rows, shape ``(k, n)``.
    name : str
        The ``function`` column.
    kind : str, optional
        The ``kind`` column: ``"point"`` for given points, ``"ordinary"`` for points
        drawn uniformly from a domain.
    note : str, optional
        Where the points come from.
    """
    low, high = points.min(axis=0), points.max(axis=0)
    return SuiteFunction(
        name=name,
        f=f,
        dim=points.shape[1],
        domain=tuple(zip(low.tolist(), np.where(high > low, high, low + 1.0).tolist(), strict=True)),
        hard_points=tuple(HardPoint(kind, tuple(row.tolist()), note) for row in points),
        notes="a caller's function",
    )


def _rows(points) -> np.ndarray:
    """The points as rows of a finite float64 array, shape (k, n)."""
    array = np.asarray(points)
    if array.ndim == 2:
        if array.shape[0] == 0:
            raise ValueError("points must hold at least one point; got shape (0, n)")
        return np.array([as_point(row, f"points[{i}]", dim=array.shape[1]) for i, row in enumerate(array)])
    if array.ndim == 1:
        return as_point(array, "points")[None, :]
    raise ValueError(f"points must be one point (n,) or rows of points (k, n); got shape {array.shape}")
