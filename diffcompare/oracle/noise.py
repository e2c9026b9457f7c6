"""Measuring the noise of a computed function instead of assuming it.

A function computed in floating point is a smooth function plus noise: rounding in
float64 (a few ulps of ``|f|`` for a short formula, 30-60 ulps for a Cholesky inside),
rounding in float32 returned as a Python float, a nondeterministic reduction order, a
stochastic simulation.  Differences of ``f`` divide that noise by the step, so a
reference's error estimate must know its size.

The method is Moré and Wild's ("Estimating computational noise", SIAM J. Sci. Comput.
33(3), 2011).  Sample ``f`` at ``m + 1`` equally spaced points ``x + (i - m/2) delta d``
along a direction.  The ``k``-th differences of the samples remove the smooth part up
to degree ``k - 1`` (what is left is ``delta^k`` times a ``k``-th derivative: nothing
for small ``delta``) while the noise, independent from point to point with variance
``sigma^2``, gives ``k``-th differences of variance ``(2k)! / (k!)^2 sigma^2``.  So ::

    sigma_k = sqrt(gamma_k mean((Delta^k f)^2)),   gamma_k = (k!)^2 / (2k)!

estimates ``sigma`` at every order where the smooth part is gone.  An order is trusted
where three consecutive estimates agree within a factor of 4 and the ``k``-th
differences change sign (a smooth remainder has one sign).  Deterministic rounding
counts as noise here: moving ``x`` by ``delta`` far above its ulp changes the low bits
of every intermediate result, so their errors are as good as independent.

Two ways to fail, each with its remedy in :func:`measure_noise`: ``delta`` too small
(more than half the samples equal: the steps do not reach the noise's grain, as for a
float32 ``f`` at a relative step of 1e-8) and ``delta`` too large (no order settles, the
smooth part still shows).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__ = ["noise_from_samples", "measure_noise", "SAMPLES", "SPACING", "RESPACE", "TRIES", "WIDE", "SPIKE"]

#: Intervals of the sample table (``m``; ``m + 1`` values, the middle one at ``x``).
#: Moré and Wild found 6 to 8 enough for orders up to 4 or 5.
SAMPLES = 8

#: Largest spread of a table of samples, relative to their largest magnitude, that is
#: still read as noise (Moré and Wild's test for a spacing too large).
WIDE = 0.1

#: Ratio of the largest adjacent pair of squared second differences to the mean of the
#: others above which the samples are taken to straddle a kink (see
#: :func:`noise_from_samples`).
SPIKE = 150.0

#: First spacing, relative to the direction (which carries each coordinate's scale).
#: 2^-33 (1.2e-10) of the scale moves every coordinate by ~4e5 ulps: far above the grain of
#: float64 rounding, whose errors are as good as independent from sample to sample;
#: the second differences of a function smooth on a scale of 1e-3 are then below 1e-14
#: of its size, and the eight samples span less than 1e-9, so a kink 1e-7 away (the
#: oracle's hard points) stays outside.
SPACING = 2.0**-33

#: Factor between the spacings of successive tables: 1.2e-10 times 1024 reaches the
#: grain of float32 (eps 1.2e-7, a sample moves ~8 of its ulps); divided by it, noise
#: too small to show above the smooth part at 1.2e-10.
RESPACE = 2.0**10

#: Most tables sampled (each costs :data:`SAMPLES` calls).
TRIES = 3


def noise_from_samples(samples: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The noise level of each column of a table of equally spaced samples.

    Parameters
    ----------
    samples : numpy.ndarray, shape (m + 1, q)
        ``q`` functions sampled at the same ``m + 1`` equally spaced points.

    Returns
    -------
    sigma : numpy.ndarray, shape (q,)
        The estimated standard deviation of the noise; 0 where the samples are too
        close to differ, the smallest estimate over the orders where no order settled.
    status : numpy.ndarray of str, shape (q,)
        ``"ok"``, ``"too_small"`` (more than half of the first differences are 0),
        ``"too_large"`` (no order settled: the smooth part still shows, and ``sigma``
        is only an upper bound) or ``"not_finite"`` (a sample is NaN or infinite: the
        noise is unknown, and ``sigma`` is 0).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> t = np.linspace(-1e-3, 1e-3, 9)[:, None]
    >>> sigma, status = noise_from_samples(np.exp(t) + 1e-9 * rng.standard_normal((9, 1)))
    >>> str(status[0]), bool(3e-10 < sigma[0] < 3e-9)
    ('ok', True)
    """
    table = np.array(samples, dtype=np.float64)
    m, q = table.shape[0] - 1, table.shape[1]
    # Moré and Wild's first test: samples that spread over more than a tenth of their
    # size are no small perturbation of one value (a pole crossed, a change of sign).
    magnitude = np.max(np.abs(table), axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        spread = np.ptp(table, axis=0) > WIDE * magnitude
    # Each column scaled by a power of two near its magnitude (exact: no digit changes)
    # so that the squares below cannot overflow for samples near 1e308; sigma is
    # scaled back at the end.
    usable = np.isfinite(magnitude) & (magnitude > 0)
    scale = np.ldexp(1.0, np.frexp(np.where(usable, magnitude, 1.0))[1])
    table = table / scale
    levels = np.empty((m, q))
    sign_change = np.empty((m, q), dtype=bool)
    gamma = 1.0
    for k in range(1, m + 1):
        table = np.diff(table, axis=0)
        if k == 1:
            too_small = np.count_nonzero(table == 0, axis=0) > m / 2
        if k == 2:
            # A kink between two samples shows as two adjacent nonzero second
            # differences, which spread through the higher orders like noise would:
            # read it as a spacing too large.  For Gaussian noise the largest adjacent
            # pair of squared second differences exceeds SPIKE times the mean of the
            # others in 1 table of 1,000 (62 and 103 times in 1 of 100 and of 300).
            squares = table**2
            pairs = squares[:-1] + squares[1:]
            largest = pairs.max(axis=0)
            rest = (squares.sum(axis=0) - largest) / (m - 3)
            kink = largest > SPIKE * rest
        gamma *= 0.5 * k / (2 * k - 1)  # (k!)^2 / (2k)! from the previous order's
        levels[k - 1] = np.sqrt(gamma * np.mean(table**2, axis=0))
        sign_change[k - 1] = (table.min(axis=0) < 0) & (table.max(axis=0) > 0)
    sigma = np.full(q, np.nan)
    for k in range(m - 2):
        window = levels[k : k + 3]
        settled = (window.max(axis=0) <= 4.0 * window.min(axis=0)) & sign_change[k] & np.isnan(sigma)
        sigma = np.where(settled, levels[k], sigma)
    sigma = np.where(spread | kink, np.nan, sigma)
    status = np.where(too_small, "too_small", np.where(np.isnan(sigma), "too_large", "ok"))
    sigma = np.where(too_small, 0.0, np.where(np.isnan(sigma), levels.min(axis=0), sigma))
    finite = np.all(np.isfinite(samples), axis=0)
    return np.where(finite, sigma * scale, 0.0), np.where(finite, status, "not_finite")


def measure_noise(
    function: Callable[[np.ndarray], np.ndarray],
    x: np.ndarray,
    direction: np.ndarray,
    at_x: np.ndarray,
    floor: np.ndarray | float = np.inf,
    exact: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """The noise of each output of ``function`` near ``x``, and its status.

    Samples ``function`` (returning a 1-d array) along ``direction``, reusing
    ``at_x``, its value at ``x``: first at the spacing :data:`SPACING`, then at a
    spacing :data:`RESPACE` times larger while every output stays equal, or smaller
    for the outputs where the smooth part still shows, up to :data:`TRIES` tables.
    Outputs that stay equal get 0 (no noise above the grain of the steps); outputs
    that never settle get the smallest estimate over the orders, an upper bound on
    their noise, and the status ``"too_large"``.

    Noise above ``floor`` (per output) is confirmed on a table :data:`RESPACE` times
    finer: noise keeps its size whatever the spacing, while a smooth part that only
    looked like noise (``f`` 1e-9 from a pole, sampled 1e-10 apart) shrinks with it.
    Where the finer table gives less than a quarter, its estimate is kept.

    With ``exact`` (the default) every sample point is exact (see :func:`_table`): the
    noise of ``f`` itself, not of its rounded arguments.  Without, the points are
    rounded, which also keeps the rounding inside ``function`` varying where exact
    steps would not (``x^2`` at ``x = 1 + 1e-10``, whose rounding error moves by 1e-3
    ulp per step of a multiple of the ulp): the measure for a gradient's own rounding.
    """
    at_x = np.asarray(at_x, dtype=np.float64).reshape(-1)
    sigma = np.full(at_x.size, np.nan)
    status = np.full(at_x.size, "too_large")
    spacing = SPACING
    for _ in range(TRIES):
        found, found_status = noise_from_samples(_table(function, x, direction, at_x, spacing, exact))
        open_ = status != "ok"
        sigma = np.where(open_, found, sigma)
        status = np.where(open_, found_status, status)
        if np.all(status == "too_small"):
            spacing *= RESPACE  # nothing moved: the noise, if any, has a coarser grain
            continue
        # An output that stays equal while others move is constant here: no noise.
        status = np.where(status == "too_small", "ok", status)
        if np.all((status == "ok") | (status == "not_finite")):
            break
        spacing /= RESPACE
    for _ in range(TRIES - 1):
        suspect = (status == "ok") & (sigma > floor)
        if not suspect.any():
            break
        spacing /= RESPACE
        found, found_status = noise_from_samples(_table(function, x, direction, at_x, spacing, exact))
        smaller = suspect & (found_status == "ok") & (found < sigma / 4.0)
        sigma = np.where(smaller, found, sigma)
        if not smaller.any():
            break
    return sigma, status


def _table(function, x, direction, at_x, spacing, exact) -> np.ndarray:
    """``function`` at the :data:`SAMPLES` + 1 points ``x + (i - m/2) step``.

    With ``exact``, ``step`` is ``spacing * direction`` rounded, per coordinate, to a multiple of the
    ulp at the far end of the samples, so that every point is exact.  Rounded
    arguments would add noise of their own, ``|df/dx_k|`` times half an ulp of
    ``x_k``: 1e-9 from a pole that is ~1e2, which the ladders along a coordinate never
    see (they divide by the width actually taken).  The step's low bits stay
    irregular, so the rounding inside ``f`` still varies from sample to sample (steps
    of a power of two would keep it nearly the same).
    """
    half = SAMPLES // 2
    step = spacing * direction
    if exact:
        unit = np.spacing(np.abs(x) + half * np.abs(step))
        step = np.round(step / unit) * unit
    rows = [
        at_x if i == 0 else np.asarray(function(x + i * step), dtype=np.float64).reshape(-1)
        for i in range(-half, half + 1)
    ]
    return np.array(rows)
