"""Gradient checkers on gradients nobody here wrote: false fails, inconclusive, detection, cost.

In one run, on the cases, points and mistakes of :mod:`diffcompare.oracle.corpus`
(scikit-learn, statsmodels and scipy gradients, and the situation families), every
checker judges every correct gradient (which must not be failed) and every mistake
that is visible at its point (which must be failed).  ``f`` is a black box returning a
Python float for all of them:

* diffcompare's ``check_grad``, mode "auto";
* ``scipy.optimize.check_grad`` with the relative threshold of ``oracle_bench.py``
  (:data:`oracle_bench.SCIPY_RTOL`);
* numdifftools' ``Gradient`` at the point, judged by :data:`ND_RTOL`;
* ``torch.autograd.gradcheck`` (float64, default eps/atol/rtol) on ``f`` wrapped as a
  ``torch.autograd.Function`` whose backward returns ``grad_output`` times the claimed
  gradient, when torch imports.

Rates are reported separately for typical and awkward points and for the tuning and
holdout cases.  Writes ``reports/oracle_open_world.csv`` (one row per checker, case,
point and variant) and ``reports/oracle_open_world.md``.  numpy runs on one BLAS
thread; times are single wall-clock measurements, to be compared within one run.

Usage: ``python scripts/oracle_open_world.py [--out reports] [--quick]`` (``--quick``:
the first two typical points of each case, and every awkward point).
"""

from __future__ import annotations

import argparse
import subprocess
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata as package_metadata
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.optimize
from oracle_bench import (
    DETAIL_CHARS,
    SCIPY_RTOL,
    Outcome,
    counted,
    markdown_table,
    torch_gradcheck,
    write_outputs,
)
from threadpoolctl import threadpool_limits

import diffcompare
from diffcompare.oracle.corpus import CORPUS, OpenCase, build, check_seed, mistakes, point_seed
from diffcompare.suite.records import SEED

#: numdifftools returns an estimate, not a verdict.  Its default (central differences,
#: Richardson extrapolation over a step ladder) is good to about 1e-10 relative on a
#: smooth float64 function; the rule is ``||claimed - estimate||_inf <= ND_RTOL
#: ||estimate||_inf`` (max-norms, so a component small next to the others is judged on
#: the gradient's scale, as diffcompare does), and a non-finite estimate is
#: "inconclusive".  1e-6 is the relative error diffcompare's oracle promises to
#: resolve, so both are asked the same question.
ND_RTOL = 1e-6

#: Typical points per case with --quick.
QUICK_TYPICAL = 2


@dataclass(frozen=True)
class Checker:
    """A gradient checker: ``run(f, claimed, x, seed) -> Outcome``, ``f`` counted by the caller."""

    name: str
    run: Callable[[Callable, Callable, np.ndarray, int], Outcome]
    note: str


def _diffcompare(f, claimed, x, seed):
    result = diffcompare.check_grad(f, claimed, x, seed=seed)
    return Outcome(result.verdict, -1, result.reason)


def _scipy(f, claimed, x, seed):
    err = scipy.optimize.check_grad(f, claimed, x)
    scale = np.linalg.norm(claimed(x))
    if not np.isfinite(err):
        return Outcome("inconclusive", -1, f"err={err}")
    return Outcome("pass" if err <= SCIPY_RTOL * scale else "fail", -1, f"err={err:.3g} ||grad||={scale:.3g}")


def _numdifftools_checker() -> Checker | None:
    try:
        import numdifftools
    except ImportError:
        return None

    def run(f, claimed, x, seed):
        estimate = np.asarray(numdifftools.Gradient(f)(x), dtype=np.float64).reshape(-1)
        if not np.all(np.isfinite(estimate)):
            return Outcome("inconclusive", -1, "estimate not finite")
        gap = float(np.max(np.abs(np.asarray(claimed(x)) - estimate)))
        scale = float(np.max(np.abs(estimate)))
        return Outcome("pass" if gap <= ND_RTOL * scale else "fail", -1, f"gap={gap:.3g} scale={scale:.3g}")

    return Checker("numdifftools", run, f"nd.Gradient, pass iff max gap <= {ND_RTOL:g} max |estimate|")


def _torch_checker() -> Checker | None:
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(1)

    def run(f, claimed, x, seed):
        return Outcome("pass" if torch_gradcheck(f, claimed, x) else "fail", -1)

    return Checker("torch gradcheck", run, "torch.autograd.gradcheck, float64, default eps/atol/rtol")


def checkers() -> tuple[Checker, ...]:
    """diffcompare and scipy, then numdifftools and torch where they import."""
    found = [
        Checker("diffcompare", _diffcompare, "check_grad(f, grad, x), mode 'auto', black box"),
        Checker("scipy check_grad", _scipy, f"err <= {SCIPY_RTOL:g} ||grad||_2"),
    ]
    for make, package in ((_numdifftools_checker, "numdifftools"), (_torch_checker, "torch")):
        checker = make()
        if checker is None:
            print(f"{package} is not installed: no {package} rows")
        else:
            found.append(checker)
    return tuple(found)


def _case_rows(case: OpenCase, checkers, quick: bool) -> list[dict]:
    problem = build(case)
    rows = []
    kinds = {
        "typical": problem.typical[:QUICK_TYPICAL] if quick else problem.typical,
        "awkward": problem.awkward,
    }
    for kind, points in kinds.items():
        for i, x in enumerate(points):
            label = case.awkward[i] if kind == "awkward" else str(i)
            # where the shipped gradient itself is measurably off, it is a mistake too
            shipped = "inaccurate" if kind == "awkward" and label in case.inaccurate else "correct"
            variants = {shipped: problem.grad} | mistakes(case, problem, x, point_seed(case, kind, i))
            for variant, claimed in variants.items():
                for checker in checkers:
                    f, calls = counted(problem.f)
                    start = time.perf_counter()
                    try:
                        outcome = checker.run(f, claimed, x, check_seed(case, kind, i))
                    except Exception as error:  # a crashing checker is a result, not the end of the run
                        outcome = Outcome("error", -1, f"{type(error).__name__}: {error}")
                    seconds = time.perf_counter() - start
                    rows.append(
                        check_row(checker.name, case, x, kind, label, variant, outcome, seconds, calls())
                    )
    return rows


def check_row(
    checker: str, case: OpenCase, x, kind, label, variant, outcome: Outcome, seconds, evaluations
) -> dict:
    """One row of the results: who judged what, where, the verdict and its cost."""
    return {
        "checker": checker,
        "case": case.name,
        "holdout": case.holdout,
        "tags": " ".join(case.tags),
        "dim": x.size,
        "kind": kind,
        "point": label,
        "variant": variant,
        "expected": "pass" if variant == "correct" else "fail",
        "verdict": outcome.verdict,
        "seconds": seconds,
        "evaluations": evaluations,
        "detail": " ".join(outcome.detail.split())[:DETAIL_CHARS],
    }


def run_corpus(checkers, quick: bool, progress=print) -> pd.DataFrame:
    """Every checker on every point and variant of the corpus: one row per check."""
    rows = []
    for case in CORPUS:
        started = time.perf_counter()
        try:
            rows += _case_rows(case, checkers, quick)
        except ImportError as error:
            progress(f"{case.name:24s} skipped: {error}")
            continue
        progress(f"{case.name:24s} {time.perf_counter() - started:7.1f} s")
    return pd.DataFrame(rows)


def _rate(frame: pd.DataFrame, verdict: str) -> float:
    return float(np.mean(frame["verdict"] == verdict)) if len(frame) else float("nan")


def summary_table(results: pd.DataFrame) -> pd.DataFrame:
    """Per checker and split (tuning, holdout): false fails, inconclusive, detection, cost."""
    rows = []
    for (checker, holdout), group in results.groupby(["checker", "holdout"], sort=False):
        correct, wrong = group[group["expected"] == "pass"], group[group["expected"] == "fail"]
        typical, awkward = correct[correct["kind"] == "typical"], correct[correct["kind"] == "awkward"]
        rows.append(
            {
                "checker": checker,
                "cases": "holdout" if holdout else "tuning",
                "correct_typical": len(typical),
                "false_fail_typical": _rate(typical, "fail"),
                "correct_awkward": len(awkward),
                "false_fail_awkward": _rate(awkward, "fail"),
                "inconclusive_correct": _rate(correct, "inconclusive"),
                "mistakes": len(wrong),
                "detection": _rate(wrong, "fail"),
                "detection_typical": _rate(wrong[wrong["kind"] == "typical"], "fail"),
                "inconclusive_mistakes": _rate(wrong, "inconclusive"),
                "errors": int(np.sum(group["verdict"] == "error")),
                "median_ms": 1e3 * float(group["seconds"].median()),
                "median_evaluations": float(group["evaluations"].median()),
            }
        )
    return pd.DataFrame(rows).sort_values(["cases", "checker"], ascending=[False, True], kind="stable")


def _family(tags: str) -> str:
    tags = tags.split()
    if "noise" in tags or "float32" in tags:
        return "noisy or float32 f"
    return "other situations" if "situation" in tags else "libraries"


def family_table(results: pd.DataFrame) -> pd.DataFrame:
    """False fails and detection per checker and family of cases (libraries, noisy f, other)."""
    frame = results.assign(family=results["tags"].map(_family))
    rows = []
    for (family, checker), group in frame.groupby(["family", "checker"], sort=True):
        correct, wrong = group[group["expected"] == "pass"], group[group["expected"] == "fail"]
        rows.append(
            {
                "family": family,
                "checker": checker,
                "false_fail_typical": _rate(correct[correct["kind"] == "typical"], "fail"),
                "false_fail_awkward": _rate(correct[correct["kind"] == "awkward"], "fail"),
                "inconclusive_correct": _rate(correct, "inconclusive"),
                "detection_typical": _rate(wrong[wrong["kind"] == "typical"], "fail"),
            }
        )
    return pd.DataFrame(rows)


def _pivot(frame: pd.DataFrame, index: str, values: str) -> pd.DataFrame:
    return frame.pivot_table(
        index=index, columns="checker", values=values, aggfunc="mean", sort=False
    ).reset_index()


def _versions() -> str:
    found = []
    for name in ("numpy", "scipy", "scikit-learn", "statsmodels", "numdifftools", "torch", "pandas"):
        try:
            found.append(f"{name} {package_metadata.version(name)}")
        except package_metadata.PackageNotFoundError:
            found.append(f"{name} not installed")
    return ", ".join(found)


def _commit() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        )
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return out.stdout.strip()


def report_markdown(results: pd.DataFrame, checkers, quick: bool) -> str:
    """The summary, false fails per case, detection per mistake and diffcompare's wrong calls."""
    correct = results[results["expected"] == "pass"].assign(false_fail=lambda r: r["verdict"] == "fail")
    wrong = results[results["expected"] == "fail"].assign(caught=lambda r: r["verdict"] == "fail")
    case_kind = correct.assign(case_kind=correct["case"] + " (" + correct["kind"] + ")")
    # correct gradients judged "fail" by every checker but diffcompare count as a doubt on the case
    by_point = correct.pivot_table(
        index=["case", "kind", "point"], columns="checker", values="false_fail", aggfunc="max"
    )
    peers = [c.name for c in checkers if c.name != "diffcompare"]
    all_peers = by_point[by_point[peers].all(axis=1)].reset_index() if peers else by_point.iloc[:0]
    ours = results[(results["checker"] == "diffcompare") & (results["verdict"] != results["expected"])]
    ours = ours[~((ours["expected"] == "pass") & (ours["verdict"] == "inconclusive"))]
    columns = ["case", "holdout", "kind", "point", "variant", "verdict", "detail"]
    parts = [
        "# Gradient checkers on an open-world corpus",
        f"`python scripts/oracle_open_world.py{' --quick' if quick else ''}`; commit {_commit()}; "
        f"seed {SEED}; {_versions()}. {results['case'].nunique()} cases "
        f"({results.loc[results['holdout'], 'case'].nunique()} holdout), "
        f"{len(results) // len(checkers)} (point, variant) checks per checker; numpy on one BLAS thread; "
        "one wall-clock measurement per check; evaluations of f counted by a wrapper.",
        "Checkers: " + "; ".join(f"**{c.name}**: {c.note}" for c in checkers) + ".",
        "## Summary",
        "False fail: a correct gradient judged `fail`. Inconclusive: share of the correct gradients "
        "(and of the mistakes). Detection: mistakes judged `fail` (all points; typical points only). "
        "`tuning` and `holdout` are the corpus's two sets of cases.",
        markdown_table(summary_table(results)),
        "## By family of cases",
        "Libraries: the scikit-learn, statsmodels and scipy cases; noisy or float32 f: the noise_* "
        "cases and the float32 loss; other situations: the pole, j0 near 1000, the MLE, the 1e-9 loss.",
        markdown_table(family_table(results)),
        "## False fails per case and kind of point",
        markdown_table(_pivot(case_kind, "case_kind", "false_fail")),
        "## Detection per mistake",
        markdown_table(_pivot(wrong, "variant", "caught")),
        "## Correct gradients that every peer fails",
        markdown_table(all_peers) if len(all_peers) else "None.",
        "## Wrong decisions of diffcompare",
        "Correct gradients judged `fail`, and mistakes not judged `fail`.",
        markdown_table(ours[columns]) if len(ours) else "None.",
    ]
    return "\n\n".join(parts) + "\n"


def run_script(argv, description: str, stem: str, make_checkers, run, report) -> int:
    """Parse ``--out``/``--quick``, run every checker on the corpus, write ``stem``.csv/.md."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--out", default="reports", help=f"directory for {stem}.csv and .md")
    parser.add_argument(
        "--quick", action="store_true", help=f"the first {QUICK_TYPICAL} typical points per case"
    )
    args = parser.parse_args(argv)
    # Steps leave the functions' domains (alpha < 0, overflow in exp) by design; the
    # libraries' RuntimeWarnings about it would bury the progress lines.
    with threadpool_limits(1), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        found = make_checkers()
        results = run(found, args.quick)
    write_outputs(Path(args.out), stem, results, report(results, found, args.quick))
    print(summary_table(results).to_string(index=False))
    return 0


def main(argv=None) -> int:
    return run_script(
        argv, __doc__.splitlines()[0], "oracle_open_world", checkers, run_corpus, report_markdown
    )


if __name__ == "__main__":
    raise SystemExit(main())
