"""Error measures of a computed gradient against the reference."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "GradientError",
    "gradient_error",
    "relative_error",
    "normwise_relative_error",
    "ulp_error",
    "ulp_distance",
]

_TINY = np.finfo(np.float64).tiny


def relative_error(value, reference) -> np.ndarray:
    """Componentwise ``|value - reference| / |reference|``.

    Where the reference is exactly zero the absolute error is used instead (0 when
    both are zero).  Infinities of the same sign agree; anything else non-finite
    gives ``inf``.
    """
    value = np.asarray(value, dtype=np.float64)
    reference = np.asarray(reference, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        diff = np.abs(value - reference)
        err = np.where(reference == 0, diff, diff / np.abs(reference))
    same = value == reference  # also covers equal infinities
    return np.where(same, 0.0, np.where(np.isnan(err), np.inf, err))


def ulp_error(value, reference) -> np.ndarray:
    """Componentwise ``|value - reference|`` in units of the reference's last place.

    The unit is ``numpy.spacing(|reference|)``, so results are integers or halves for
    values one or two roundings away; subnormal references use the subnormal spacing.
    """
    value = np.asarray(value, dtype=np.float64)
    reference = np.asarray(reference, dtype=np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        err = np.abs(value - reference) / np.spacing(np.abs(reference))
    same = value == reference
    return np.where(same, 0.0, np.where(np.isnan(err), np.inf, err))


def normwise_relative_error(value, reference) -> float:
    """``max |value - reference| / max |reference|``: the error relative to the gradient's size.

    Unlike the componentwise error it does not blow up on a component that is small
    only because its terms cancel, where every float64 method loses digits alike.
    """
    value = np.asarray(value, dtype=np.float64)
    reference = np.asarray(reference, dtype=np.float64)
    scale = np.max(np.abs(reference))
    with np.errstate(invalid="ignore", over="ignore"):
        diff = np.where(value == reference, 0.0, np.abs(value - reference))
    worst = float(np.max(np.where(np.isnan(diff), np.inf, diff)))
    if worst == 0.0:
        return 0.0
    return worst / scale if scale > 0 else worst


def ulp_distance(a, b) -> float:
    """Largest ``|a_i - b_i|`` in units of the last place of ``max |b|``.

    This is how far two gradients are apart relative to the gradient's size, in ulps;
    0 means identical.
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        diff = np.where(a == b, 0.0, np.abs(a - b))
    worst = float(np.max(np.where(np.isnan(diff), np.inf, diff)))
    return worst / float(np.spacing(np.max(np.abs(b)))) if worst else 0.0


@dataclass(frozen=True)
class GradientError:
    """Summary of one gradient's error against the reference (componentwise unless named)."""

    max_rel_err: float
    norm_rel_err: float
    median_rel_err: float
    max_ulp_err: float
    median_ulp_err: float
    max_abs_err: float


def gradient_error(value, reference) -> GradientError:
    """Summarise the componentwise errors of ``value`` against ``reference``."""
    value = np.asarray(value, dtype=np.float64)
    reference = np.asarray(reference, dtype=np.float64)
    rel = relative_error(value, reference)
    ulp = ulp_error(value, reference)
    with np.errstate(invalid="ignore"):
        absolute = np.where(value == reference, 0.0, np.abs(value - reference))
    absolute = np.where(np.isnan(absolute), np.inf, absolute)
    return GradientError(
        max_rel_err=float(rel.max()),
        norm_rel_err=normwise_relative_error(value, reference),
        median_rel_err=float(np.median(rel)),
        max_ulp_err=float(ulp.max()),
        median_ulp_err=float(np.median(ulp)),
        max_abs_err=float(absolute.max()),
    )
