"""Gradient checkers on the mutation suite: detection, false alarms, inconclusive, time.

In one run, on the same cases, points and mutations (``diffcompare.oracle.mutations``),
every checker judges every correct hand-written gradient (expected verdict "pass") and
every applicable mutation (expected "fail"):

* diffcompare's ``check_grad`` in mode ``"full"`` and ``"fast"``, given ``f(x, xp)``
  (an AD reference is available) or the black box ``f(x)``;
* ``scipy.optimize.check_grad`` with a relative threshold (see :data:`SCIPY_RTOL`);
* autograd's ``check_grads`` on ``f`` wrapped as a primitive whose VJP is the claimed
  gradient;
* ``torch.autograd.gradcheck`` only where torch is importable.

Writes ``reports/oracle_bench.csv`` (one row per checker, case, point and variant) and
``reports/oracle_bench.md`` (rates and median time per checker, detection per mutation,
every wrong decision).  numpy runs on one BLAS thread; times are single wall-clock
measurements of one check each, so compare medians within one run.

Usage: ``python scripts/oracle_bench.py [--out reports] [--quick]`` (``--quick``: the
first point of each case and no n = 5,000 case).
"""

from __future__ import annotations

import argparse
import importlib.util
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata as package_metadata
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.optimize
from autograd.extend import defvjp, primitive
from autograd.test_util import check_grads
from threadpoolctl import threadpool_limits

import diffcompare
from diffcompare.harness.report import atomic_write
from diffcompare.ops.numpy_namespace import numpy_namespace
from diffcompare.oracle.mutations import CASES, MUTATIONS, GradCase, mutant, point_seed
from diffcompare.suite.records import SEED

#: scipy's check_grad returns ``||grad(x) - fd||_2`` with forward differences of absolute
#: step sqrt(eps) ~ 1.5e-8 in every coordinate; it has no verdict of its own.  Practice
#: compares that norm with a threshold; an absolute one (``err < 1e-5``) passes every
#: gradient of a function scaled by 1e-8 and rejects every one scaled by 1e8, so we use
#: the relative rule ``err <= SCIPY_RTOL * ||grad(x)||_2``.  For a function with O(1)
#: conditioning forward differences at this step are good to about 1e-8 relative
#: (truncation h |f''| / 2 plus rounding eps |f| / h); 1e-5 leaves three orders of
#: magnitude for curvature and cancellation while still catching errors of 1e-4.
SCIPY_RTOL = 1e-5

#: Characters of a checker's message kept in the CSV.
DETAIL_CHARS = 300


@dataclass(frozen=True)
class Outcome:
    """One check: the verdict, the calls of ``f`` it made and what the checker said."""

    verdict: str
    evaluations: int
    detail: str = ""


@dataclass(frozen=True)
class Checker:
    """A gradient checker: ``run(case, claimed, x, seed) -> Outcome``."""

    name: str
    run: Callable[[GradCase, Callable, np.ndarray, int], Outcome]
    note: str


def torch_gradcheck(f: Callable, claimed: Callable, x: np.ndarray) -> bool:
    """``torch.autograd.gradcheck`` (float64) on ``f`` whose backward is the claimed gradient."""
    import torch

    class Claimed(torch.autograd.Function):
        @staticmethod
        def forward(ctx, t):
            ctx.save_for_backward(t)
            return torch.tensor(float(f(t.detach().numpy())), dtype=torch.float64)

        @staticmethod
        def backward(ctx, g):
            (t,) = ctx.saved_tensors
            return g * torch.from_numpy(np.asarray(claimed(t.detach().numpy()), dtype=np.float64))

    point = torch.tensor(np.array(x), dtype=torch.float64, requires_grad=True)
    return bool(torch.autograd.gradcheck(Claimed.apply, (point,), raise_exception=False))


def black_box(case: GradCase) -> Callable[[np.ndarray], float]:
    """``f(x)`` evaluated with plain numpy: no AD reference for the checker."""

    def f(x):
        return case.f(x, numpy_namespace)

    return f


def counted(f: Callable) -> tuple[Callable, Callable[[], int]]:
    """``f`` wrapped to count its calls, and a function returning the count."""
    calls = [0]

    def wrapped(*args):
        calls[0] += 1
        return f(*args)

    return wrapped, lambda: calls[0]


def _diffcompare(mode: str, form: str) -> Callable:
    def run(case, claimed, x, seed):
        f = case.f if form == "xp" else black_box(case)
        result = diffcompare.check_grad(f, claimed, x, mode=mode, seed=seed)
        return Outcome(result.verdict, result.evaluations, result.reason)

    return run


def _scipy(case, claimed, x, seed):
    f, calls = counted(black_box(case))
    err = scipy.optimize.check_grad(f, claimed, x)
    scale = np.linalg.norm(claimed(x))
    if not np.isfinite(err):
        return Outcome("inconclusive", calls(), f"err={err}")
    verdict = "pass" if err <= SCIPY_RTOL * scale else "fail"
    return Outcome(verdict, calls(), f"err={err:.3g} ||grad||={scale:.3g}")


def _autograd(case, claimed, x, seed):
    f, calls = counted(black_box(case))

    # f is opaque to autograd; its derivative is whatever the user claims.
    @primitive
    def claimed_f(x):
        return f(x)

    defvjp(claimed_f, lambda ans, x: lambda g: g * claimed(x))
    np.random.seed(seed)  # check_grads draws its random vectors from numpy's global generator
    try:
        check_grads(claimed_f, modes=["rev"], order=1)(x)
    except AssertionError as error:
        return Outcome("fail", calls(), " ".join(str(error).split()))
    return Outcome("pass", calls())


def _torch_checker() -> Checker | None:
    if importlib.util.find_spec("torch") is None:
        return None

    def run(case, claimed, x, seed):
        f, calls = counted(black_box(case))
        return Outcome("pass" if torch_gradcheck(f, claimed, x) else "fail", calls())

    return Checker("torch gradcheck", run, "torch.autograd.gradcheck, default tolerances")


# fmt: off
CHECKERS: tuple[Checker, ...] = (
    Checker("diffcompare full f(x, xp)", _diffcompare("full", "xp"),        "mode='full', tape reference"),
    Checker("diffcompare full f(x)",     _diffcompare("full", "black_box"), "mode='full', black box"),
    Checker("diffcompare fast f(x, xp)", _diffcompare("fast", "xp"),        "mode='fast', tape reference"),
    Checker("diffcompare fast f(x)",     _diffcompare("fast", "black_box"), "mode='fast', black box"),
    Checker("scipy check_grad",          _scipy,                            f"err <= {SCIPY_RTOL:g} |grad|"),
    Checker("autograd check_grads",      _autograd,                         "defvjp, modes=['rev'], order=1"),
)
# fmt: on


def check_seed(case: GradCase, point_index: int) -> int:
    """A 32-bit seed for the checkers' random draws at one point of one case."""
    return int(np.random.SeedSequence(point_seed(case, point_index)).generate_state(1)[0])


def run_bench(checkers, cases, quick: bool, progress=print) -> pd.DataFrame:
    """Every checker on every point and variant of ``cases``: one row per check."""
    rows = []
    for case in cases:
        started = time.perf_counter()
        points = case.points[:1] if quick else case.points
        for i, x in enumerate(points):
            seed = point_seed(case, i)
            variants = {"correct": case.grad}
            variants |= {n: mutant(case, n, seed) for n in MUTATIONS if MUTATIONS[n].applies(case)}
            for variant, claimed in variants.items():
                expected = "pass" if variant == "correct" else "fail"
                for checker in checkers:
                    start = time.perf_counter()
                    try:
                        outcome = checker.run(case, claimed, x, check_seed(case, i))
                    except Exception as error:  # a crashing checker is a result, not the end of the run
                        outcome = Outcome("error", -1, f"{type(error).__name__}: {error}")
                    seconds = time.perf_counter() - start
                    rows.append(
                        {
                            "checker": checker.name,
                            "case": case.name,
                            "tags": " ".join(case.tags),
                            "dim": case.dim,
                            "point": i,
                            "variant": variant,
                            "expected": expected,
                            "verdict": outcome.verdict,
                            "correct_decision": outcome.verdict == expected,
                            "seconds": seconds,
                            "evaluations": outcome.evaluations,
                            "detail": outcome.detail[:DETAIL_CHARS],
                        }
                    )
        progress(f"{case.name:20s} {time.perf_counter() - started:7.1f} s")
    return pd.DataFrame(rows)


def summary_table(results: pd.DataFrame) -> pd.DataFrame:
    """Per checker: detection, false-alarm and inconclusive rates, errors, median cost."""
    rows = []
    for checker, group in results.groupby("checker", sort=False):
        mutated, correct = group[group["expected"] == "fail"], group[group["expected"] == "pass"]
        rows.append(
            {
                "checker": checker,
                "mutations": len(mutated),
                "detection_rate": float(np.mean(mutated["verdict"] == "fail")),
                "correct_gradients": len(correct),
                "false_alarm_rate": float(np.mean(correct["verdict"] == "fail")),
                "inconclusive_rate": float(np.mean(group["verdict"] == "inconclusive")),
                "errors": int(np.sum(group["verdict"] == "error")),
                "median_ms": 1e3 * float(group["seconds"].median()),
                "median_evaluations": float(group["evaluations"].median()),
                # per component of x, on the correct gradients: the cost of a pass
                "median_evaluations_per_component_correct": float(
                    (correct["evaluations"] / correct["dim"]).median()
                ),
            }
        )
    return pd.DataFrame(rows)


def markdown_table(frame: pd.DataFrame) -> str:
    """A pipe table; floats with three significant digits."""
    header = "| " + " | ".join(map(str, frame.columns)) + " |"
    lines = [header, "|" + "---|" * frame.shape[1]]
    for row in frame.itertuples(index=False):
        cells = [f"{v:.3g}" if isinstance(v, float) else str(v) for v in row]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _versions() -> str:
    names = ("numpy", "scipy", "autograd", "pandas", "torch")
    found = []
    for name in names:
        try:
            found.append(f"{name} {package_metadata.version(name)}")
        except package_metadata.PackageNotFoundError:
            found.append(f"{name} not installed")
    return ", ".join(found)


def report_markdown(results: pd.DataFrame, checkers, quick: bool) -> str:
    """The summary per checker, detection per mutation and every wrong decision."""
    detection = (
        results[results["expected"] == "fail"]
        .assign(caught=lambda r: r["verdict"] == "fail")
        .pivot_table(index="variant", columns="checker", values="caught", aggfunc="mean", sort=False)
        .reset_index()
    )
    by_case = results.pivot_table(
        index="case", columns="checker", values="correct_decision", aggfunc="mean", sort=False
    ).reset_index()
    wrong = results[~results["correct_decision"]]
    parts = [
        "# Gradient checkers on the mutation suite",
        f"`python scripts/oracle_bench.py{' --quick' if quick else ''}`; seed {SEED}; {_versions()}. "
        f"{results['case'].nunique()} cases, {len(results) // len(checkers)} (point, variant) checks per "
        "checker, numpy on one BLAS thread, one wall-clock measurement per check.",
        "Checkers: " + "; ".join(f"**{c.name}**: {c.note}" for c in checkers) + ".",
        "## Summary",
        "Detection: mutations judged `fail`. False alarm: correct gradients judged `fail`. "
        "Inconclusive: share of all checks.",
        markdown_table(summary_table(results)),
        "## Detection rate per mutation",
        markdown_table(detection),
        "## Correct decisions per case",
        markdown_table(by_case),
        "## Wrong decisions of diffcompare",
    ]
    ours = wrong[wrong["checker"].str.startswith("diffcompare")]
    columns = ["checker", "case", "point", "variant", "verdict", "detail"]
    parts.append(markdown_table(ours[columns]) if len(ours) else "None.")
    return "\n\n".join(parts) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="reports", help="directory for oracle_bench.csv and .md")
    parser.add_argument("--quick", action="store_true", help="first point of each case, no n = 5,000")
    args = parser.parse_args(argv)
    checkers = CHECKERS
    torch_checker = _torch_checker()
    if torch_checker is None:
        print("torch is not installed: no torch.autograd.gradcheck rows")
    else:
        checkers = (*checkers, torch_checker)
    cases = [case for case in CASES if not (args.quick and "large" in case.tags)]
    with threadpool_limits(1):
        results = run_bench(checkers, cases, args.quick)
    write_outputs(Path(args.out), "oracle_bench", results, report_markdown(results, checkers, args.quick))
    print(summary_table(results).to_string(index=False))
    return 0


def write_outputs(out: Path, stem: str, results: pd.DataFrame, markdown: str) -> None:
    """``<stem>.csv`` (every row) and ``<stem>.md`` in ``out``, each written atomically."""
    out.mkdir(parents=True, exist_ok=True)
    csv = atomic_write(out / f"{stem}.csv", results.to_csv(index=False, float_format="%.6g"))
    md = atomic_write(out / f"{stem}.md", markdown)
    print(f"\nwrote {csv} ({len(results)} rows) and {md}\n")


if __name__ == "__main__":
    raise SystemExit(main())
