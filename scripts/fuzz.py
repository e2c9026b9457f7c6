"""Differential fuzzing of every method against the 50-digit truth.

Runs N generated expressions (seeds ``S .. S+N-1``, see ``diffcompare.fuzz``) through
every method of ``diffcompare.METHODS`` and the reference, classifies each
disagreement, and writes into the output directory ``fuzz.csv`` (one row per
disagreement: seed, expression, point, method, classification, errors, note),
``fuzz_summary.md`` (counts per classification and method) and ``fuzz_run.json``
(workers, runtime, time per expression).  Any row can be reproduced with
``diffcompare.fuzz.fuzz_seed(seed)``.  The same seeds give the same ``fuzz.csv`` and
``fuzz_summary.md``, byte for byte, however the run is split.

Usage::

    python scripts/fuzz.py --n 10000 [--seed S] [--out reports] [--workers 2]
    python scripts/fuzz.py --n 10000 --scheduler tcp://host:8786     # on a Dask cluster
    python scripts/fuzz.py --n 10000 --shard 2/3 --out shards        # shard 2 of 3 of the seeds
    python scripts/fuzz.py --merge shards/fuzz_shard_*.json --out reports

A shard run writes ``fuzz_shard_K_of_N.json``; ``--merge`` checks that it is given all N
shards of one campaign and writes the same reports as the unsharded run.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from threadpoolctl import threadpool_limits

from diffcompare.fuzz.report import write_reports
from diffcompare.fuzz.runner import run_fuzz
from diffcompare.fuzz.shards import (
    Campaign,
    merge_shards,
    parse_shard,
    shard_file_name,
    shard_seeds,
    write_shard,
)
from diffcompare.harness.executors import check_parallel_options

# The options that define a campaign or how to run it; --merge reads them from the files.
RUN_OPTIONS = ("n", "seed", "workers", "max_dim", "max_depth", "shard", "scheduler")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, help="expressions to run (default 1000)")
    parser.add_argument("--seed", type=int, help="first seed (default 0)")
    parser.add_argument("--out", type=Path, default=Path("reports"), help="output directory")
    parser.add_argument("--workers", type=int, help="local worker processes (default 2)")
    parser.add_argument("--max-dim", type=int, help="largest length of x (1-4, default 3)")
    parser.add_argument("--max-depth", type=int, help="largest nesting of operations (default 4)")
    parser.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run on a Dask cluster (needs the dask extra; not with --workers)",
    )
    parser.add_argument("--shard", metavar="K/N", help="run only shard K of N of the seeds; write its file")
    parser.add_argument(
        "--merge", nargs="+", type=Path, metavar="FILE", help="merge shard files into reports"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress output")
    return parser


def _fail(message: str) -> int:
    print(f"fuzz.py: {message}", file=sys.stderr)
    return 2


def _report(args, cases, settings: dict, run: dict) -> None:
    csv_path, md_path, log_path = write_reports(cases, args.out, settings, run)
    if not args.quiet:
        print(md_path.read_text())
        print(f"wrote {csv_path}, {md_path} and {log_path}")


def _merge(args) -> int:
    given = [f"--{name.replace('_', '-')}" for name in RUN_OPTIONS if getattr(args, name) is not None]
    if given:
        return _fail(f"--merge takes the campaign from the shard files; drop {' '.join(given)}")
    try:
        campaign, runs, cases = merge_shards(args.merge)
    except (OSError, ValueError) as error:
        return _fail(str(error))
    _report(args, cases, campaign.settings(), {"shards": runs})
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.merge is not None:
        return _merge(args)
    campaign = Campaign(
        first_seed=0 if args.seed is None else args.seed,
        n=1000 if args.n is None else args.n,
        max_dim=3 if args.max_dim is None else args.max_dim,
        max_depth=4 if args.max_depth is None else args.max_depth,
    )
    if campaign.n < 1 or campaign.first_seed < 0 or (args.workers is not None and args.workers < 1):
        return _fail("--n and --workers must be >= 1 and --seed >= 0")
    try:
        shard = parse_shard(args.shard) if args.shard is not None else None
        check_parallel_options(args.workers or 1, args.scheduler, jobs_name="--workers")
    except (ValueError, ImportError) as error:
        return _fail(str(error))
    seeds = campaign.seeds if shard is None else shard_seeds(campaign.seeds, *shard)
    step = max(len(seeds) // 20, 1)

    def progress(done: int) -> None:
        if not args.quiet and (done % step == 0 or done == len(seeds)):
            print(f"{done}/{len(seeds)} expressions, {time.perf_counter() - start:.0f} s", flush=True)

    start = time.perf_counter()
    with threadpool_limits(limits=1):  # two workers on two cores: no BLAS threads on top
        cases = run_fuzz(
            seeds,
            workers=args.workers,
            max_dim=campaign.max_dim,
            max_depth=campaign.max_depth,
            progress=progress,
            scheduler=args.scheduler,
        )
    runtime = time.perf_counter() - start
    run = {
        "workers": args.workers or (None if args.scheduler else 2),
        "scheduler": args.scheduler,
        "runtime_s": round(runtime, 1),
    }
    if shard is None:
        _report(args, cases, campaign.settings(), run)
    else:
        path = write_shard(args.out / shard_file_name(*shard), cases, campaign, *shard, run)
        if not args.quiet:
            print(f"wrote {path} ({len(cases)} expressions, {runtime:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
