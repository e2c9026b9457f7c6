"""The ``diffcompare`` command line: ``diffcompare compare`` writes the reports.

Every option is checked before any work, a caller's functions (``--function``) loaded and
called once at their first point: a mistake is one line and exit status 2 within a
second, not after minutes of measuring.  Heavy modules (pandas, SymPy, the harness) load
only after the checks pass.
"""

from __future__ import annotations

import argparse
import hashlib
import math
import os
import re
import sys
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from ..methods import METHODS

__all__ = ["DEFAULT_OUT", "main"]

#: Where ``diffcompare compare`` writes without ``--out``: a folder the repository's
#: .gitignore ignores, so that a run never rewrites the committed ``reports/``.
DEFAULT_OUT = "diffcompare-reports"

#: Points drawn from ``--domain`` without ``--points`` (as many as a suite function has).
DEFAULT_DRAWN_POINTS = 3


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
    operator_functions: tuple[str, ...] | None  # None: every suite function of the run


def _profiles() -> tuple[Profile, Profile]:
    from .studies import MLP_LAYER_NETWORKS, MLP_SIZES, ROSENBROCK_SIZES, STEP_STUDY_FUNCTIONS

    full = Profile(
        repeats=5,
        min_run_time=0.01,
        budget_s=30.0,
        rosenbrock_sizes=ROSENBROCK_SIZES,
        mlp_sizes=MLP_SIZES,
        depths=tuple(range(1, 13)),
        steps=tuple(10.0 ** -(k / 2) for k in range(2, 29)),
        mlp_networks=MLP_LAYER_NETWORKS,
        operator_functions=None,
    )
    quick = Profile(
        repeats=3,
        min_run_time=0.002,
        budget_s=10.0,
        rosenbrock_sizes=(2, 10, 100),
        mlp_sizes=MLP_SIZES[:1],
        depths=tuple(range(1, 9)),
        steps=tuple(10.0**-k for k in range(1, 15)),
        mlp_networks=((4, 8, 3), (5, 7, 6, 3)),
        operator_functions=STEP_STUDY_FUNCTIONS,
    )
    return full, quick


# Values of single options, converted and checked by argparse: a bad one is refused
# with "argument --seed: ..." and exit status 2.


def _integer_at_least(low: int):
    def integer(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be an integer >= {low}, got {text}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"must be an integer >= {low}, got {text}")
        return value

    return integer


_positive_int = _integer_at_least(1)
_seed = _integer_at_least(0)


def _finite(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number, got {text}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number, got {text}")
    return value


def _seconds(text: str) -> float:
    value = _finite(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, got {text}")
    return value


class _StartFunction(argparse.Action):
    """``--function SPEC`` opens a group; the ``--dim``, ``--point``, ``--domain`` and
    ``--points`` after it (up to the next ``--function``) describe it."""

    def __call__(self, parser, namespace, values, option_string=None):
        groups = [*(getattr(namespace, self.dest, None) or [])]
        groups.append({"spec": values, "dim": None, "point": [], "domain": None, "points": None})
        setattr(namespace, self.dest, groups)


class _DescribeFunction(argparse.Action):
    def __call__(self, parser, namespace, values, option_string=None):
        groups = getattr(namespace, "user_functions", None)
        if not groups:
            parser.error(f"{option_string} must follow the --function it describes")
        group = groups[-1]
        if self.dest == "point":
            group["point"].append(values)
        elif group[self.dest] is not None:
            parser.error(f"{option_string} given twice for --function {group['spec']}")
        else:
            group[self.dest] = values


# argparse reads "-1e-3" as an option (it knows only "-1" and "-1.5" as negative
# numbers), so that "--point -1e-3 2" would fail; "-inf" is read as a number too, and
# then refused as not finite.
_NEGATIVE_NUMBER = re.compile(r"^-(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$|^-(inf|infinity|nan)$", re.IGNORECASE)


def _parsers() -> tuple[argparse.ArgumentParser, argparse.ArgumentParser]:
    """The program's parser and its ``compare`` subcommand's."""
    parser = argparse.ArgumentParser(prog="diffcompare", description="Compare differentiation methods.")
    commands = parser.add_subparsers(dest="command", required=True)
    compare = commands.add_parser(
        "compare",
        help="measure every method's accuracy and speed; write reports",
        description="Measure every method on the suite and on your own f(x, xp); write reports.",
        epilog="The studies (scaling, swell, steps, mlp_layers, operators) measure only the functions and "
        "methods of the run; one left with none is skipped, and meta.json says why.",
    )
    compare._negative_number_matcher = _NEGATIVE_NUMBER
    compare.add_argument(
        "--functions", nargs="+", metavar="NAME", help="suite functions and workloads (default: all)"
    )
    compare.add_argument(
        "--methods",
        nargs="+",
        metavar="NAME",
        choices=list(METHODS),
        default=list(METHODS),
        help=f"methods (default: all of {', '.join(METHODS)})",
    )
    mine = compare.add_argument_group(
        "your own function",
        "f(x, xp) written against the array namespace xp (xp.sin, xp.sum, ...). Repeat --function "
        "for several; the options after each describe it. With --function and no --functions, "
        "the suite is not run.",
    )
    mine.add_argument(
        "--function",
        dest="user_functions",
        action=_StartFunction,
        metavar="FILE.py:NAME",
        help="a function f(x, xp): FILE.py:NAME or package.module:NAME",
    )
    mine.add_argument(
        "--dim",
        type=_positive_int,
        action=_DescribeFunction,
        default=argparse.SUPPRESS,
        help="length of x (required)",
    )
    mine.add_argument(
        "--point",
        nargs="+",
        type=_finite,
        action=_DescribeFunction,
        default=argparse.SUPPRESS,
        metavar="X",
        help="a point, its --dim coordinates (repeatable)",
    )
    mine.add_argument(
        "--domain",
        nargs=2,
        type=_finite,
        action=_DescribeFunction,
        default=argparse.SUPPRESS,
        metavar=("LO", "HI"),
        help="draw points uniformly from [LO, HI]^dim with --seed (instead of --point)",
    )
    mine.add_argument(
        "--points",
        type=_positive_int,
        action=_DescribeFunction,
        default=argparse.SUPPRESS,
        metavar="K",
        help=f"how many points to draw from --domain (default {DEFAULT_DRAWN_POINTS})",
    )
    compare.add_argument(
        "--sizes", nargs="+", type=_positive_int, metavar="N", help="Rosenbrock sizes to scale over (>= 2)"
    )
    compare.add_argument("--repeats", type=_positive_int, help="timed runs per measurement (median reported)")
    compare.add_argument(
        "--budget", type=_seconds, metavar="SECONDS", help="time budget per setup or evaluation"
    )
    compare.add_argument(
        "--seed", type=_seed, help="seed of the ordinary and --domain points (default: the suite's)"
    )
    compare.add_argument("--out", default=DEFAULT_OUT, help=f"output folder (default: {DEFAULT_OUT})")
    compare.add_argument("--quick", action="store_true", help="fewer repeats and sizes (under a minute)")
    compare.add_argument(
        "--jobs",
        type=_positive_int,
        help="processes, this one included, for the accuracy-only work (the references, the operator "
        "study's truth); with timing on, this one times alone meanwhile (default: the machine's cores; "
        "1 with --scheduler)",
    )
    compare.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run the accuracy-only work on a Dask cluster (tcp://host:8786; needs the dask extra; "
        "not with --jobs)",
    )
    compare.add_argument("--no-timing", action="store_true", help="accuracy only")
    compare.add_argument(
        "--no-studies", action="store_true", help="skip the scaling, swell, step, MLP and operator studies"
    )
    compare.add_argument("--quiet", action="store_true", help="print nothing but errors")
    commands.add_parser("list", help="list the suite's functions")
    return parser, compare


@dataclass
class _Checked:
    """A run whose options all passed: what it measures."""

    suite_records: tuple = ()
    suite_names: tuple[str, ...] | None = None  # None: the whole suite (for the studies)
    user_records: list = field(default_factory=list)
    user_meta: list = field(default_factory=list)


def _duplicates(names: Sequence[str]) -> list[str]:
    return sorted({name for name in names if list(names).count(name) > 1})


def _check_out(parser: argparse.ArgumentParser, out: str) -> None:
    path = Path(out).expanduser()
    if path.exists() and not path.is_dir():
        parser.error(f"--out: {out} exists and is not a folder")
    existing = next(p for p in [path, *path.absolute().parents] if p.exists())
    if not os.access(existing, os.W_OK | os.X_OK):
        parser.error(f"--out: cannot create or write {out} (no write permission in {existing})")


def _check_function_options(parser, group: dict) -> None:
    """The options of one ``--function`` group, before its file is loaded."""
    spec, dim = group["spec"], group["dim"]
    where = f"--function {spec}"
    if dim is None:
        parser.error(f"{where} needs --dim N (the length of x)")
    if group["point"] and group["domain"] is not None:
        parser.error(f"{where}: give --point or --domain, not both")
    if group["points"] is not None and group["domain"] is None:
        parser.error(f"{where}: --points needs --domain LO HI")
    if not group["point"] and group["domain"] is None:
        parser.error(f"{where} needs --point X1 ... X{dim} or --domain LO HI")
    for point in group["point"]:
        if len(point) != dim:
            parser.error(f"{where}: --point has {len(point)} coordinates; --dim is {dim}")
    if group["domain"] is not None and not group["domain"][0] < group["domain"][1]:
        low, high = group["domain"]
        parser.error(f"{where}: --domain LO HI needs LO < HI; got {low:g} {high:g}")


def _load_user_function(parser, group: dict, taken: set[str], seed: int):
    """Load and probe one ``--function``: its record (a caller's record, as for
    :func:`~diffcompare.compare`) and what ``meta.json`` says of it."""
    import numpy as np

    from ..ops.numpy_namespace import numpy_namespace
    from ..suite.records import SuiteFunction
    from ..validation import check_scalar_output
    from .user_functions import load_function, spec_file

    spec, dim = group["spec"], group["dim"]
    where = f"--function {spec}"
    try:
        f = load_function(spec)
    except (TypeError, ValueError) as error:
        parser.error(f"--function {error}")
    location, _, attribute = spec.rpartition(":")
    path = spec_file(spec)
    name = attribute
    if name in taken:  # a suite function or another file's function of the same name
        name = f"{path.stem if path is not None else location}.{attribute}"
    if name in taken:
        parser.error(f"{where}: its name {name!r} is taken by another function of this run")
    taken.add(name)

    meta = {"function": spec, "name": name, "dim": dim}
    if path is not None:
        meta["sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
    if group["point"]:
        points = np.array(group["point"], dtype=np.float64)
        kind, note = "point", "given with --point"
        meta["points"] = points.tolist()
    else:
        (low, high), count = group["domain"], group["points"] or DEFAULT_DRAWN_POINTS
        points = SuiteFunction(name, f, dim, (low, high)).points_for(seed, count=count)
        kind, note = "ordinary", f"drawn uniformly from [{low:g}, {high:g}]^{dim} with seed {seed}"
        meta.update(domain=[low, high], drawn=count, seed=seed)
    # One call at the first point catches a wrong --dim or a broken f now, not as a
    # table of error rows after the whole run.
    try:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            check_scalar_output(f(points[0].copy(), numpy_namespace), "numpy")
    except Exception as error:
        parser.error(f"{where}: f(x, xp) at x = {points[0].tolist()} failed: {type(error).__name__}: {error}")

    from .compare import caller_record  # the harness: only once the checks have passed

    return caller_record(f, points, name, kind, note), meta


def _check(parser: argparse.ArgumentParser, args: argparse.Namespace) -> _Checked:
    """Every check on a ``compare`` command line, before any work (argparse's type checks
    have already run); a mistake exits with status 2 and one line naming the option."""
    from ..suite.records import SEED, suite
    from .executors import check_parallel_options, usable_cores

    if args.jobs is None:
        args.jobs = 1 if args.scheduler is not None else usable_cores()
    try:
        check_parallel_options(args.jobs, args.scheduler, jobs_name="--jobs")
    except (ValueError, ImportError) as error:
        parser.error(str(error))
    for option, names in (("--functions", args.functions or ()), ("--methods", args.methods)):
        if _duplicates(names):
            parser.error(f"{option}: {', '.join(_duplicates(names))} given more than once")
    checked = _Checked()
    if args.functions is not None:
        try:
            checked.suite_records = suite(args.functions)
        except ValueError as error:
            parser.error(f"--functions: {error}")
        checked.suite_names = tuple(args.functions)
    elif not args.user_functions:
        from ..suite.workloads import workloads

        checked.suite_records, checked.suite_names = (*suite(), *workloads()), None
    else:
        checked.suite_names = ()  # only the caller's functions: no suite, no suite studies
    (rosenbrock,) = suite(["rosenbrock"])
    small = [n for n in args.sizes or () if n < rosenbrock.min_dim]
    if small:
        parser.error(f"--sizes: Rosenbrock needs n >= {rosenbrock.min_dim}; got {small[0]}")
    _check_out(parser, args.out)
    taken = {record.name for record in checked.suite_records}
    seed = SEED if args.seed is None else args.seed
    for group in args.user_functions or ():
        _check_function_options(parser, group)
    for group in args.user_functions or ():  # loading runs the caller's code: after every other check
        record, meta = _load_user_function(parser, group, taken, seed)
        checked.user_records.append(record)
        checked.user_meta.append(meta)
    return checked


def _progress(quiet: bool):
    """A progress bar on stderr for the functions, and a line per study step."""
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


def _offset(progress, start: int, total: int):
    """``progress`` for a second part of the functions: counts on from ``start`` of ``total``."""
    if progress is None:
        return None
    return lambda done, _, name: progress(start + done, total, name)


def _operator_cases(plan):
    from ..suite.records import suite
    from .operator_study import operator_cases

    return operator_cases(suite(list(plan.functions)))


def _narrow_operator_plan(plans: dict, profile: Profile) -> None:
    """The operator study of a profile with fewer functions (--quick) measures only those."""
    from .studies import StudyPlan

    plan, chosen = plans["operators"], profile.operator_functions
    if chosen is None or not plan.runs:
        return
    functions = tuple(name for name in plan.functions if name in chosen)
    why = f"--quick measures it on {', '.join(chosen)} only, none of them in this run"
    skipped = "" if functions else why
    plans["operators"] = StudyPlan(plan.name, functions, plan.methods, skipped)


def _send_study_work(pool, plans, options, profile: Profile, sizes) -> dict:
    """Send the studies' accuracy-only work (the scaling study's references and trial
    setups, the operator study's truth) to the workers now, so that it is done when the
    studies reach it."""
    from .operator_study import operator_truth
    from .run import submit_references
    from .studies import TRIED_SETUPS, scaling_cases, scaling_options, setup_trials

    sent = {}
    if pool is None:
        return sent
    scaling = plans["scaling"]
    sizing = scaling_cases(*_scaling_sizes(scaling, profile, sizes)) if scaling.runs else []
    if sizing:
        records = [record for _, record in sizing]
        futures = submit_references(pool, records, scaling_options(options))
        sent["scaling"] = [futures.get(i) for i in range(len(sizing))]
    if sizing and options.timing:  # accuracy only, this process waits for no timing
        sent["trials"] = {}
        for study in dict.fromkeys(study for study, _ in sizing):
            chain = [record for name, record in sizing if name == study]
            for method in (m for m in TRIED_SETUPS if m in scaling.methods):
                sent["trials"][study, method] = pool.submit(setup_trials, method, chain, options.budget_s)
    if plans["operators"].runs:
        cases = _operator_cases(plans["operators"])
        sent["operators"] = [pool.submit(operator_truth, case, options.budget_s) for case in cases]
    return sent


def _scaling_sizes(plan, profile: Profile, sizes) -> tuple:
    rosenbrock_sizes = sizes if "rosenbrock" in plan.functions else ()
    mlp_sizes = profile.mlp_sizes if "mlp_loss" in plan.functions else ()
    return rosenbrock_sizes, mlp_sizes


def _run_studies(
    plans, options, profile: Profile, sizes, progress, studies: dict, status: dict, sent: dict, seconds: dict
) -> None:
    """Run the planned studies into ``studies`` (name -> table), marking each done in ``status``
    and its wall-clock time in ``seconds``; ``sent`` holds the work :func:`_send_study_work`
    gave the workers."""
    from .operator_study import operator_study
    from .studies import mlp_layer_study, scaling_study, step_study, swell_study

    def scaling(plan):
        chosen = replace(options, methods=plan.methods)
        rosenbrock_sizes, mlp_sizes = _scaling_sizes(plan, profile, sizes)
        return scaling_study(
            chosen,
            rosenbrock_sizes,
            mlp_sizes,
            progress=progress,
            references=sent.get("scaling"),
            trials=sent.get("trials"),
        )

    def swell(plan):
        return swell_study(profile.depths, options.budget_s, progress=progress, methods=plan.methods)

    def steps(plan):
        return step_study(plan.functions, steps=profile.steps, progress=progress)

    def mlp_layers(plan):
        repeats, min_time = options.repeats, 5 * profile.min_run_time
        return mlp_layer_study(
            profile.mlp_networks,
            repeats=repeats,
            min_run_time=min_time,
            progress=progress,
            methods=plan.methods,
            settle=options.settle,
        )

    def operators(plan):
        cases = _operator_cases(plan)
        return operator_study(cases, plan.methods, options, truths=sent.get("operators"), progress=progress)

    run = {
        "scaling": scaling,
        "swell": swell,
        "steps": steps,
        "mlp_layers": mlp_layers,
        "operators": operators,
    }
    for name, plan in plans.items():
        if plan.runs:
            started = time.perf_counter()
            studies[name] = run[name](plan)
            status[name] = "done"
            seconds[name] = round(time.perf_counter() - started, 1)


def _study_meta(plans, status: dict) -> dict:
    return {
        name: {
            "status": "skipped" if not plan.runs else status.get(name, "not reached (interrupted)"),
            "functions": list(plan.functions),
            "methods": list(plan.methods),
            **({"reason": plan.skipped} if plan.skipped else {}),
        }
        for name, plan in plans.items()
    }


def _compare(parser: argparse.ArgumentParser, args, argv: Sequence[str]) -> int:
    checked = _check(parser, args)

    import pandas as pd

    from .executors import open_executor
    from .report import run_metadata, summarise, write_reports
    from .run import COLUMNS, HarnessOptions, run_suite, submit_references
    from .studies import StudyPlan, plan_studies
    from .timing import one_blas_thread

    full, quick = _profiles()
    profile = quick if args.quick else full
    options = HarnessOptions(
        methods=tuple(args.methods),
        timing=not args.no_timing,
        repeats=args.repeats or profile.repeats,
        min_run_time=profile.min_run_time,
        budget_s=args.budget if args.budget is not None else profile.budget_s,
        seed=args.seed,
    )
    plans = plan_studies(checked.suite_names, options.methods, timing=options.timing)
    _narrow_operator_plan(plans, profile)
    if args.no_studies:
        plans = {name: StudyPlan(name, (), (), "--no-studies") for name in plans}
    if not args.quiet and checked.suite_records:
        for plan in plans.values():
            if plan.skipped and not args.no_studies:
                print(f"diffcompare: skipping the {plan.name} study: {plan.skipped}", file=sys.stderr)
    function_progress, study_progress = _progress(args.quiet)
    suite_count, total = len(checked.suite_records), len(checked.suite_records) + len(checked.user_records)
    started = time.perf_counter()
    rows: list[dict] = []
    studies: dict[str, pd.DataFrame] = {}
    status: dict[str, str] = {}
    seconds: dict[str, float] = {}  # wall-clock seconds of each part of the run
    workers = 0
    interrupted = False
    sizes = tuple(args.sizes) if args.sizes else profile.rosenbrock_sizes
    # BLAS on one thread for the whole run, as in the benchmark: the times compare, and
    # the accuracy columns do not depend on the machine's thread count.
    with one_blas_thread() as threads:
        try:
            # One set of workers for the whole run: the suite's references first, then the
            # studies' accuracy-only work, all sent now and done while this process times.
            with open_executor(args.jobs, args.scheduler, caller_busy=options.timing) as pool:
                workers = 0 if pool is None else args.jobs - 1 if options.timing else args.jobs
                suite_sent = None
                if pool is not None:
                    suite_sent = submit_references(pool, checked.suite_records, options)
                sent = _send_study_work(pool, plans, options, profile, sizes)
                started_suite = time.perf_counter()
                run_suite(
                    checked.suite_records,
                    options,
                    jobs=args.jobs,
                    progress=function_progress,
                    rows=rows,
                    scheduler=args.scheduler,
                    executor=pool,
                    references=suite_sent,
                )
                seconds["suite"] = round(time.perf_counter() - started_suite, 1)
                started_yours = time.perf_counter()
                run_suite(
                    checked.user_records,
                    replace(options, ordinary_points=0),  # exactly the points given or drawn
                    jobs=args.jobs,
                    scheduler=args.scheduler,
                    progress=_offset(function_progress, suite_count, total),
                    rows=rows,
                    executor=pool,
                )
                seconds["your functions"] = round(time.perf_counter() - started_yours, 1)
                _run_studies(plans, options, profile, sizes, study_progress, studies, status, sent, seconds)
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
        user_functions=checked.user_meta,
        studies=_study_meta(plans, status),
        threadpool_limits=1,
        blas_threads=threads,
        workers=workers,
        seconds=round(time.perf_counter() - started, 1),
        seconds_by_part=seconds,
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
        operators=studies.get("operators"),
    )
    if not args.quiet:
        print(file=sys.stderr)
        print(summarise(results).to_string(index=False))
        print(f"wrote {len(paths)} files to {args.out} in {meta['seconds']} s")
    return 130 if interrupted else 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status.

    A mistake in the options exits at once (``SystemExit`` with status 2, one line on
    stderr naming the option), before any work.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    parser, compare = _parsers()
    args = parser.parse_args(argv)
    if args.command == "list":
        from ..suite.records import suite
        from ..suite.workloads import workloads

        for record in (*suite(), *workloads()):
            print(f"{record.name:24s} dim={record.dim:<3d} {record.notes}")
        return 0
    return _compare(compare, args, argv)


if __name__ == "__main__":
    sys.exit(main())
