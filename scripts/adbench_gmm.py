"""ADBench's GMM comparison: gradient time over objective time for every method.

For each GMM size (d in 2, 10, 20, 32, 64 and k in 5, 10, 25, 50, n = 1,000; ``--quick``:
three small sizes) and every method registered in ``diffcompare.methods.METHODS``, times
one gradient and one objective evaluation (medians, BLAS on one thread) and writes to
``--out`` (default ``reports``):

* ``adbench_gmm.csv``: d, k, n, params, method, status, setup_s, objective_s,
  gradient_s, ratio, message; a method that times out, refuses or fails has a row
  with its status and message at that size and "not attempted" rows after it;
* ``adbench_gmm.png``: the ratio against the parameter count, log-log, one line per
  method, a cross where a method stops.

Usage: ``python scripts/adbench_gmm.py [--out reports] [--quick] [--budget S] [--repeats N]``
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from diffcompare.bench.adbench import QUICK_GMM_SIZES, GmmStudy, adbench_gmm, plot_adbench_gmm
from diffcompare.harness.report import atomic_write


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="reports", help="directory for adbench_gmm.csv and .png")
    parser.add_argument("--quick", action="store_true", help="three small sizes, short runs")
    parser.add_argument("--budget", type=float, help="seconds per method for setup, and for a first gradient")
    parser.add_argument("--repeats", type=int, help="timed runs per measurement (default 5, 3 with --quick)")
    args = parser.parse_args(argv)
    study = GmmStudy()
    if args.quick:
        study = GmmStudy(sizes=QUICK_GMM_SIZES, budget_s=3.0, repeats=3, min_run_time=0.02)
    if args.budget is not None or args.repeats is not None:
        try:
            study = GmmStudy(
                sizes=study.sizes,
                budget_s=args.budget if args.budget is not None else study.budget_s,
                repeats=args.repeats if args.repeats is not None else study.repeats,
                min_run_time=study.min_run_time,
                seed=study.seed,
            )
        except ValueError as error:
            parser.error(str(error))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    table = adbench_gmm(study, progress=lambda line: print(line, file=sys.stderr, flush=True))
    atomic_write(out / "adbench_gmm.csv", table.to_csv(index=False, float_format="%.6g"))
    plot_adbench_gmm(table, out / "adbench_gmm.png")
    counts = table["status"].value_counts().to_dict()
    print(
        f"{len(table)} rows ({counts}) in {time.perf_counter() - start:.0f} s -> {out}/adbench_gmm.csv, .png"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
