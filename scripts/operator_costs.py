"""The cost of derivatives relative to f (gradient, HVP, Hessian) and the Jacobian's crossover.

Times every method of ``diffcompare.grad``, ``diffcompare.hvp`` and ``diffcompare.hessian``
on Rosenbrock, Styblinski-Tang and log-sum-exp at n = 100 against one numpy evaluation of
f, then ``jacobian(g, "tape")`` against ``jacobian(g, "forward")`` for g(x) = tanh(A x)
with n = 64 and m = 1 ... 256, and with m = 64 and n = 1 ... 4096.  BLAS on one thread.
Writes to ``--out`` (default ``reports``): ``operator_costs.csv``, ``operator_costs.md``,
``jacobian_crossover.csv`` and ``jacobian_crossover.png``.  About three minutes on 2 cores.

Usage: ``python scripts/operator_costs.py [--out reports] [--n 100] [--budget 15] [--seed 0]``
"""

from __future__ import annotations

import argparse
import sys
import time

from diffcompare.bench.costs import jacobian_crossover, operator_costs, write_operator_cost_reports
from diffcompare.suite.records import suite

FUNCTIONS = ("rosenbrock", "styblinski_tang", "log_sum_exp")
POWERS = tuple(2**k for k in range(9))  # m = 1 ... 256 at n = 64
WIDE_POWERS = tuple(2**k for k in range(13))  # n = 1 ... 4096 at m = 64: forward's passes grow as n / 64
FIXED = 64


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="reports", help="directory for the reports")
    parser.add_argument("--n", type=int, default=100, help="dimension of the suite functions")
    parser.add_argument(
        "--budget", type=float, default=15.0, help="seconds for one method's setup and first call"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the points, directions and matrices")
    args = parser.parse_args(argv)
    if args.n < 2:
        parser.error(f"--n must be >= 2; got {args.n}")
    if not args.budget > 0:
        parser.error(f"--budget must be > 0; got {args.budget}")
    if args.seed < 0:
        parser.error(f"--seed must be >= 0; got {args.seed}")
    argv = sys.argv[1:] if argv is None else list(argv)
    command = " ".join(["python scripts/operator_costs.py", *argv])

    records = [record.resized(args.n) for record in suite(FUNCTIONS)]
    costs = operator_costs(records, seed=args.seed, budget_s=args.budget, progress=print)
    by_m = jacobian_crossover([(FIXED, m) for m in POWERS], sweep="m", seed=args.seed, progress=print)
    by_n = jacobian_crossover([(n, FIXED) for n in WIDE_POWERS], sweep="n", seed=args.seed, progress=print)
    import pandas as pd

    crossover = pd.concat([by_m, by_n], ignore_index=True)
    date = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    for path in write_operator_cost_reports(args.out, costs, crossover, command, date):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
