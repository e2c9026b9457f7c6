"""The marginal cost of one recorded primitive: a straight line through the ``sin`` chains.

The goal of issue 6 times one ``sin`` recorded and walked back.  That figure is mostly
what every call pays once (a leaf node, the output check, setting up the walk), not what
each recorded operation adds.  The ``sin_chain`` workload times ``sin`` nested k times,
and a least-squares line through the medians, ``time = intercept + slope k``, separates
the two: the slope is the cost of one more primitive (its forward value, its node, its
step in the backward walk), the intercept the fixed cost of a call.  The figures are
informational; the goal keeps its own definition.

The fitted lines are rows of the benchmark table under their own workload names,
:data:`SLOPE_WORKLOAD` and :data:`INTERCEPT_WORKLOAD`: ``median_s`` holds the fitted
value, ``spread_s`` its standard error and ``size`` the longest chain.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .measure import add_ratios, bench_row

__all__ = [
    "CHAIN_WORKLOAD",
    "INTERCEPT_WORKLOAD",
    "SLOPE_WORKLOAD",
    "MarginalCost",
    "fit_marginal_cost",
    "marginal_rows",
]

#: Workload of the timed chains, one row per (length, method).
CHAIN_WORKLOAD = "sin_chain"
#: Workload of the fitted slopes: seconds per additional ``sin``.
SLOPE_WORKLOAD = "sin_chain_slope"
#: Workload of the fitted intercepts: seconds per call before any ``sin``.
INTERCEPT_WORKLOAD = "sin_chain_intercept"


@dataclass(frozen=True)
class MarginalCost:
    """A least-squares line ``seconds = intercept + slope * length``.

    Attributes
    ----------
    slope : float
        Seconds per additional primitive.
    intercept : float
        Seconds at length 0: the fixed cost of a call.
    slope_stderr, intercept_stderr : float
        Standard errors from the residuals; NaN with only two points (no residual
        degrees of freedom).
    points : int
        Number of (length, seconds) pairs fitted.
    """

    slope: float
    intercept: float
    slope_stderr: float
    intercept_stderr: float
    points: int


def _fit_input(lengths: Sequence[float], seconds: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    k = np.asarray(lengths, dtype=np.float64)
    t = np.asarray(seconds, dtype=np.float64)
    if k.ndim != 1 or t.shape != k.shape:
        raise ValueError(
            f"lengths and seconds must be 1-D and of the same length; got shapes {k.shape} and {t.shape}"
        )
    if not (np.all(np.isfinite(k)) and np.all(np.isfinite(t))):
        raise ValueError(f"lengths and seconds must be finite; got {k.tolist()} and {t.tolist()}")
    if np.unique(k).size < 2:
        raise ValueError(f"a slope needs at least two distinct lengths; got {k.tolist()}")
    return k, t


def fit_marginal_cost(lengths: Sequence[float], seconds: Sequence[float]) -> MarginalCost:
    """Fit ``seconds = intercept + slope * length`` by ordinary least squares.

    Parameters
    ----------
    lengths : sequence of float
        Primitives per call (the chain lengths); at least two distinct values.
    seconds : sequence of float
        Time per call at each length (the medians), same length as ``lengths``.

    Returns
    -------
    MarginalCost
        Slope (seconds per primitive), intercept (fixed seconds per call), their
        standard errors and the number of points.

    Raises
    ------
    ValueError
        If the inputs are not 1-D of one length, are not finite, or have fewer than two
        distinct lengths.

    Examples
    --------
    >>> fit = fit_marginal_cost([1, 2, 4, 8], [11e-6, 12e-6, 14e-6, 18e-6])
    >>> round(fit.slope * 1e6, 12), round(fit.intercept * 1e6, 12), fit.points
    (1.0, 10.0, 4)
    """
    k, t = _fit_input(lengths, seconds)
    # Centred sums: the raw normal equations need n sum k^2 - (sum k)^2, a difference that
    # loses digits when the lengths are large against their spread; centring k first
    # computes the same sum of squares without the cancellation.
    # Centred, the slope and the mean time are uncorrelated, so the intercept is the mean
    # time less slope times the mean length.
    k_mean, t_mean = k.mean(), t.mean()
    centred = k - k_mean
    sxx = float(centred @ centred)
    slope = float(centred @ (t - t_mean)) / sxx
    intercept = float(t_mean - slope * k_mean)
    # Standard errors with the residual variance RSS / (n - 2).  They treat the medians
    # as independent with equal noise, which timings on a shared machine only roughly
    # are: read them as the scale of the scatter about the line, not as an interval.
    # With lengths 1, 2, 4, ..., 64 the longest chains carry most of the slope's weight.
    freedom = k.size - 2
    if freedom > 0:
        residuals = t - (intercept + slope * k)
        variance = float(residuals @ residuals) / freedom
        slope_stderr = math.sqrt(variance / sxx)
        intercept_stderr = math.sqrt(variance * (1.0 / k.size + k_mean**2 / sxx))
    else:
        slope_stderr = intercept_stderr = math.nan
    return MarginalCost(slope, intercept, slope_stderr, intercept_stderr, int(k.size))


def marginal_rows(table: pd.DataFrame) -> list[dict]:
    """Slope and intercept rows, one each per method of the table's ``sin_chain`` rows.

    A method with a chain row that is not ``ok`` (skipped, timed out, failed, wrong) is
    not fitted: its two rows carry that row's status and say which chain it was.

    Parameters
    ----------
    table : pandas.DataFrame
        Rows as :func:`~diffcompare.bench.run_cases` returns them; rows of other
        workloads are ignored.

    Returns
    -------
    list of dict
        Rows of :data:`~diffcompare.bench.BENCH_COLUMNS`: the :data:`SLOPE_WORKLOAD`
        rows, then the :data:`INTERCEPT_WORKLOAD` rows, each set with its ratios to
        ``numpy_forward`` and, on the tape row, to autograd.  Empty without chain rows.
    """
    chains = table[table["workload"] == CHAIN_WORKLOAD]
    slopes, intercepts = [], []
    for method in dict.fromkeys(chains["method"]):  # in order of appearance
        rows = chains[chains["method"] == method]
        lengths = rows["size"].to_numpy()
        longest = int(lengths.max())
        bad = rows[rows["status"] != "ok"]
        slope_values: dict[str, float] = {}
        intercept_values: dict[str, float] = {}
        if not bad.empty:
            first = bad.iloc[0]
            status = first["status"]
            message = first["message"] if status == "skipped" else ""
            message = message or f"not fitted: the chain of {first['size']} sins is {status}"
        else:
            try:
                fit = fit_marginal_cost(lengths, rows["median_s"].to_numpy())
            except ValueError as error:  # e.g. a single length: a row, not a crash
                status, message = "error", f"not fitted: {error}"
            else:
                status = "ok"
                message = (
                    f"informational: least squares over the medians of {fit.points} chains of "
                    f"{int(lengths.min())}-{longest} sins; spread_s is the standard error"
                )
                slope_values = {"median_s": fit.slope, "spread_s": fit.slope_stderr}
                intercept_values = {"median_s": fit.intercept, "spread_s": fit.intercept_stderr}
        slopes.append(bench_row(SLOPE_WORKLOAD, longest, method, status, message, **slope_values))
        intercepts.append(bench_row(INTERCEPT_WORKLOAD, longest, method, status, message, **intercept_values))
    add_ratios(slopes)
    add_ratios(intercepts)
    return slopes + intercepts
