"""The ``diffcompare`` command line: ``diffcompare compare`` writes the reports."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from ..methods import METHODS
from ..suite.records import suite
from .executors import check_parallel_options
from .report import run_metadata, summarise, write_reports
from .run import COLUMNS, HarnessOptions, run_suite
from .studies import (
    MLP_LAYER_NETWORKS,
    MLP_SIZES,
    ROSENBROCK_SIZES,
    mlp_layer_study,
    scaling_study,
    step_study,
    swell_study,
)

__all__ = ["main"]


@dataclass(frozen=True)
class Profile:
    """What a full and a quick run measure."""

    repeats: int
    min_run_time: float
    budget_s: float
    rosenbrock_sizes: tuple[int, ...]
    mlp_sizes: tuple
    depths: tuple[int, ...]
    steps: tuple[float, ...]
    mlp_networks: tuple


FULL = Profile(
    repeats=5,
    min_run_time=0.01,
    budget_s=30.0,
    rosenbrock_sizes=ROSENBROCK_SIZES,
    mlp_sizes=MLP_SIZES,
    depths=tuple(range(1, 13)),
    steps=tuple(10.0 ** -(k / 2) for k in range(2, 29)),
    mlp_networks=MLP_LAYER_NETWORKS,
)
QUICK = Profile(
    repeats=3,
    min_run_time=0.002,
    budget_s=10.0,
    rosenbrock_sizes=(2, 10, 100),
    mlp_sizes=MLP_SIZES[:1],
    depths=tuple(range(1, 9)),
    steps=tuple(10.0**-k for k in range(1, 15)),
    mlp_networks=((4, 8, 3), (5, 7, 6, 3)),
)


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be an integer >= 1, got {text}")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="diffcompare", description="Compare differentiation methods.")
    commands = parser.add_subparsers(dest="command", required=True)
    compare = commands.add_parser("compare", help="measure every method's accuracy and speed; write reports")
    compare.add_argument("--functions", nargs="+", metavar="NAME", help="suite functions (default: all)")
    compare.add_argument(
        "--methods",
        nargs="+",
        metavar="NAME",
        choices=list(METHODS),
        default=list(METHODS),
        help=f"methods (default: all of {', '.join(METHODS)})",
    )
    compare.add_argument(
        "--sizes", nargs="+", type=_positive_int, metavar="N", help="Rosenbrock sizes to scale over"
    )
    compare.add_argument("--repeats", type=_positive_int, help="timed runs per measurement (median reported)")
    compare.add_argument(
        "--budget", type=float, metavar="SECONDS", help="time budget per setup or evaluation"
    )
    compare.add_argument("--seed", type=int, help="seed of the ordinary points (default: the suite's)")
    compare.add_argument("--out", default="reports", help="output folder (default: reports)")
    compare.add_argument("--quick", action="store_true", help="fewer repeats and sizes (under a minute)")
    compare.add_argument("--jobs", type=_positive_int, default=1, help="processes for the accuracy-only work")
    compare.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run the accuracy-only work on a Dask cluster (tcp://host:8786; needs the dask extra; "
        "not with --jobs)",
    )
    compare.add_argument("--no-timing", action="store_true", help="accuracy only")
    compare.add_argument("--no-studies", action="store_true", help="skip scaling, swell and step studies")
    compare.add_argument("--quiet", action="store_true", help="print nothing but errors")
    commands.add_parser("list", help="list the suite's functions")
    return parser


def _progress(quiet: bool):
    """A progress bar on stderr for the suite, and a line per study step."""
    if quiet:
        return None, None
    redraw = "\r" if sys.stderr.isatty() else "\n"

    def function_progress(done, total, name):
        filled = 30 * done // total
        bar = "#" * filled + "-" * (30 - filled)
        print(f"[{bar}] {done + 1:>2}/{total} {name:<24}", end=redraw, file=sys.stderr, flush=True)

    def study_progress(label):
        print(f"{label:<70}", end=redraw, file=sys.stderr, flush=True)

    return function_progress, study_progress


def _compare(args, argv: Sequence[str]) -> int:
    try:
        records = suite(args.functions)
    except ValueError as error:
        print(f"diffcompare: {error}", file=sys.stderr)
        return 2
    try:
        check_parallel_options(args.jobs, args.scheduler, jobs_name="--jobs")
    except (ValueError, ImportError) as error:
        print(f"diffcompare: {error}", file=sys.stderr)
        return 2
    profile = QUICK if args.quick else FULL
    options = HarnessOptions(
        methods=tuple(args.methods),
        timing=not args.no_timing,
        repeats=args.repeats or profile.repeats,
        min_run_time=profile.min_run_time,
        budget_s=args.budget if args.budget is not None else profile.budget_s,
        seed=args.seed,
    )
    function_progress, study_progress = _progress(args.quiet)
    started = time.perf_counter()
    rows: list[dict] = []
    studies: dict[str, pd.DataFrame] = {}
    interrupted = False
    try:
        run_suite(
            records, options, jobs=args.jobs, progress=function_progress, rows=rows, scheduler=args.scheduler
        )
        if not args.no_studies:
            if options.timing:
                sizes = tuple(args.sizes) if args.sizes else profile.rosenbrock_sizes
                studies["scaling"] = scaling_study(options, sizes, profile.mlp_sizes, progress=study_progress)
            studies["swell"] = swell_study(profile.depths, options.budget_s, progress=study_progress)
            studies["steps"] = step_study(steps=profile.steps, progress=study_progress)
            if options.timing:
                repeats, min_time = options.repeats, 5 * profile.min_run_time
                studies["mlp_layers"] = mlp_layer_study(
                    profile.mlp_networks, repeats=repeats, min_run_time=min_time, progress=study_progress
                )
    except ConnectionError as error:
        print(f"diffcompare: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        interrupted = True
        print("diffcompare: interrupted; writing what finished", file=sys.stderr)
    results = pd.DataFrame(rows, columns=COLUMNS)
    meta = run_metadata(
        argv,
        args.seed,
        quick=args.quick,
        jobs=args.jobs,
        scheduler=args.scheduler,
        options=vars(options),
        seconds=round(time.perf_counter() - started, 1),
        interrupted=interrupted,
    )
    paths = write_reports(
        args.out,
        results,
        studies.get("scaling"),
        studies.get("swell"),
        studies.get("steps"),
        meta,
        mlp_layers=studies.get("mlp_layers"),
    )
    if not args.quiet:
        print(file=sys.stderr)
        print(summarise(results).to_string(index=False))
        print(f"wrote {len(paths)} files to {args.out} in {meta['seconds']} s")
    return 130 if interrupted else 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = _parser().parse_args(argv)
    if args.command == "list":
        for record in suite():
            print(f"{record.name:24s} dim={record.dim:<3d} {record.notes}")
        return 0
    return _compare(args, argv)


if __name__ == "__main__":
    sys.exit(main())
