"""Speed benchmarks of issues 6 and 17 in one run: per-primitive overhead, Rosenbrock, the MLP.

Times every method on the workloads of ``diffcompare.bench`` with numpy pinned to one
BLAS thread, and writes to ``--out`` (default ``reports``):

* ``bench.csv``: one row per (workload, size, method) with the median time, its
  interquartile range, the number of runs, the ratios to the numpy forward pass and
  tape / autograd, the status, setup time and evaluations of ``f``; after the
  ``sin_chain`` rows (1 to 64 nested ``sin``), the ``sin_chain_slope`` and
  ``sin_chain_intercept`` rows: the marginal cost per recorded ``sin`` and the fixed
  cost per call, fitted by least squares;
* ``bench.md``: versions, thread settings and CPU count, the goals of issues 6 and 17
  (natural-style functions through ``diffcompare.grad``) with pass/fail, the marginal
  cost per ``sin`` (informational, not a goal), and the table with each row's peak
  memory (tracemalloc, one untimed call);
* ``bench_meta.json``: the same metadata in full.

The full run takes about 90 s on 2 cores; ``--quick`` (n = 2, 100, 10,000 for the
suite's Rosenbrock, fewer and shorter runs, 2 s budget) under 30 s.

Usage: ``python scripts/bench.py [--out reports] [--quick] [--repeats N] [--seed S]``
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace

from diffcompare.bench import FULL, QUICK, run_benchmark, write_bench_reports


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="reports", help="directory for bench.csv and bench.md")
    parser.add_argument("--quick", action="store_true", help="fewer sizes and shorter runs (under 30 s)")
    parser.add_argument("--repeats", type=int, help="timed runs per method (default 7, 3 with --quick)")
    parser.add_argument("--seed", type=int, help="seed of the points, data and parameters")
    args = parser.parse_args(argv)
    config = QUICK if args.quick else FULL
    if args.repeats is not None:
        if args.repeats < 1:
            parser.error(f"--repeats must be >= 1; got {args.repeats}")
        config = replace(config, repeats=args.repeats)
    if args.seed is not None:
        config = replace(config, seed=args.seed)
    argv = sys.argv[1:] if argv is None else list(argv)
    run = run_benchmark(config, progress=print, command=" ".join(["python scripts/bench.py", *argv]))
    for path in write_bench_reports(args.out, run):
        print(f"wrote {path}")
    print()
    print(run.goals.to_string(index=False))
    print()
    print(run.issue17.to_string(index=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
