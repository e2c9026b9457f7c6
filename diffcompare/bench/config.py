"""What a benchmark run measures and how long it may spend on it.

:class:`BenchConfig` names the workloads, the Rosenbrock sizes, the ``sin`` chain
lengths, the repeats and the time budgets; :data:`FULL` is the committed run and :data:`QUICK` the smoke run.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..suite.records import SEED

__all__ = [
    "ADBENCH_WORKLOADS",
    "DEFAULT_WORKLOADS",
    "FULL",
    "NATURAL_WORKLOADS",
    "QUICK",
    "WORKLOADS",
    "BenchConfig",
]

#: Natural-style functions through the public ``diffcompare.grad`` (issue 17,
#: :mod:`~diffcompare.bench.natural`).
NATURAL_WORKLOADS = ("natural_rosenbrock", "natural_mlp", "natural_sin")
#: The workloads of a default run, in the order they run.
DEFAULT_WORKLOADS = ("primitive", "sin_chain", "rosenbrock", "mlp", *NATURAL_WORKLOADS)
#: ADBench's objectives at their smallest instances (:mod:`~diffcompare.bench.adbench`):
#: every registered method, chosen explicitly (``workloads=(..., "gmm")``).
ADBENCH_WORKLOADS = ("gmm", "bundle_adjustment", "lstm")
#: Every workload a configuration may name.
WORKLOADS = DEFAULT_WORKLOADS + ADBENCH_WORKLOADS


def _is_count(value) -> bool:
    # bool is an int subclass, but sizes=(True,) is a mistake, not a size.
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True)
class BenchConfig:
    """What to run and how long to spend on it.

    Attributes
    ----------
    workloads : tuple of str
        Any of :data:`WORKLOADS` (default :data:`DEFAULT_WORKLOADS`).
    sizes : tuple of int
        Rosenbrock dimensions.
    natural_sizes : tuple of int
        Dimensions of the natural-style Rosenbrock (``natural_rosenbrock``).
    chain_lengths : tuple of int
        Numbers of nested ``sin`` in the ``sin_chain`` workload, increasing; the marginal
        cost per recorded primitive is the slope of time against these lengths.
    repeats : int
        Timed runs per candidate (each autoranged to at least ``min_run_time``).
    min_repeats : int
        Fewest timed runs when one call is slow (see ``case_seconds``).
    min_run_time : float
        Least seconds per timed run: per-call times far below the clock's resolution
        are measured over many calls.
    budget_s : float or None
        Time budget of each setup and of each first call; beyond it the row is a
        ``timeout`` and larger sizes of that method are not attempted.
    case_seconds : float
        Time the repeats of one slow candidate may take: with a first call of ``t``
        seconds, ``max(min_repeats, min(repeats, case_seconds // t))`` runs are timed,
        so forward mode at n = 10,000 (seconds per gradient) cannot dominate the run.
    seed : int
        Seed of the Rosenbrock points and of the MLP's data and parameters.

    Raises
    ------
    ValueError
        If a workload is unknown or a number is out of range.

    Examples
    --------
    >>> BenchConfig(sizes=(2, 10), repeats=3).sizes
    (2, 10)
    """

    workloads: tuple[str, ...] = DEFAULT_WORKLOADS
    sizes: tuple[int, ...] = (2, 10, 100, 1_000, 10_000)
    natural_sizes: tuple[int, ...] = (10, 1_000, 10_000)
    chain_lengths: tuple[int, ...] = (1, 2, 4, 8, 16, 32, 64)
    repeats: int = 7
    min_repeats: int = 3
    min_run_time: float = 0.05
    budget_s: float | None = 10.0
    case_seconds: float = 10.0
    seed: int = SEED

    def __post_init__(self):
        unknown = set(self.workloads) - set(WORKLOADS)
        if unknown:
            raise ValueError(f"workloads must be among {list(WORKLOADS)}; got {sorted(unknown)}")
        for name in ("sizes", "natural_sizes"):
            if any(not _is_count(n) or n < 2 for n in getattr(self, name)):
                raise ValueError(f"{name} must be integers >= 2; got {getattr(self, name)}")
        lengths = self.chain_lengths
        if (
            len(lengths) < 2
            or any(not _is_count(k) or k < 1 for k in lengths)
            or list(lengths) != sorted(set(lengths))
        ):
            # A slope needs two lengths; increasing order lets a timeout skip the longer chains.
            raise ValueError(f"chain_lengths must be at least two increasing integers >= 1; got {lengths}")
        for name in ("repeats", "min_repeats"):
            value = getattr(self, name)
            if not _is_count(value) or value < 1:
                raise ValueError(f"{name} must be an integer >= 1; got {value!r}")
        if self.min_run_time < 0 or self.case_seconds < 0:
            raise ValueError("min_run_time and case_seconds must be >= 0")
        if not _is_count(self.seed) or self.seed < 0:
            raise ValueError(f"seed must be a non-negative integer; got {self.seed!r}")
        if self.budget_s is not None and not self.budget_s > 0:
            raise ValueError(f"budget_s must be > 0 or None; got {self.budget_s!r}")


#: The full run: every size, chains of 1 to 64 sins, 7 repeats, 10 s budget.
FULL = BenchConfig()
#: ``--quick``: three sizes, the same chains, 3 short repeats (1 for slow calls), 2 s budget.
QUICK = BenchConfig(
    sizes=(2, 100, 10_000), repeats=3, min_repeats=1, min_run_time=0.02, budget_s=2.0, case_seconds=2.0
)
