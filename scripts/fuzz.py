"""Differential fuzzing of every method against the 50-digit truth.

Runs N generated expressions (seeds ``S .. S+N-1``, see ``diffcompare.fuzz``) through
every method of ``diffcompare.METHODS`` and the reference, classifies each
disagreement, and writes ``fuzz.csv`` (one row per disagreement: seed, expression,
point, method, classification, errors, note) and ``fuzz_summary.md`` (counts per
classification and method, runtime) into the output directory.  Any row can be
reproduced with ``diffcompare.fuzz.fuzz_seed(seed)``.  Two runs with the same seed
write the same CSV.

Usage: ``python scripts/fuzz.py --n 10000 [--seed S] [--out reports] [--workers 2]``
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from threadpoolctl import threadpool_limits

from diffcompare.fuzz.report import write_reports
from diffcompare.fuzz.runner import run_fuzz


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000, help="expressions to run (default 1000)")
    parser.add_argument("--seed", type=int, default=0, help="first seed (default 0)")
    parser.add_argument("--out", type=Path, default=Path("reports"), help="output directory")
    parser.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--max-dim", type=int, default=3, help="largest length of x (1-4)")
    parser.add_argument("--max-depth", type=int, default=4, help="largest nesting of operations")
    parser.add_argument("--quiet", action="store_true", help="no progress output")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.n < 1 or args.seed < 0 or args.workers < 1:
        print("--n and --workers must be >= 1 and --seed >= 0", file=sys.stderr)
        return 2
    step = max(args.n // 20, 1)

    def progress(done: int) -> None:
        if not args.quiet and (done % step == 0 or done == args.n):
            print(f"{done}/{args.n} expressions, {time.perf_counter() - start:.0f} s", flush=True)

    start = time.perf_counter()
    with threadpool_limits(limits=1):  # two workers on two cores: no BLAS threads on top
        cases = run_fuzz(
            range(args.seed, args.seed + args.n),
            workers=args.workers,
            max_dim=args.max_dim,
            max_depth=args.max_depth,
            progress=progress,
        )
    runtime = time.perf_counter() - start
    settings = {
        "seeds": f"{args.seed} .. {args.seed + args.n - 1}",
        "max_dim": args.max_dim,
        "max_depth": args.max_depth,
        "workers": args.workers,
    }
    csv_path, md_path = write_reports(cases, args.out, runtime, settings)
    if not args.quiet:
        print(md_path.read_text())
        print(f"wrote {csv_path} and {md_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
