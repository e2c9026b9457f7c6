"""The second-order and product checkers on the second-order mutation suite: false fails,
caught mutations, inconclusive verdicts, cost.

Every case of :func:`diffcompare.oracle.second_mutations.cases` (suite functions at their
ordinary and hard points, autograd's Hessian as the truth) is checked correct and under
every mutation that applies, by ``check_hessian`` (full and fast mode, and with ``f``
as a black box, the fallback without the tape's gradient) and by ``check_hvp`` (fast
mode, 2 directions).  Then ``check_hessian``'s wall time in each mode (auto, full, fast) at n = 10, 30,
100 on scalable suite functions (median of 5 runs; numpy on one BLAS thread) and the
gradient evaluations of fast mode at n up to 1,000, for a correct claim and for one
with a wrong entry (which fast mode names within the same budget).

Writes ``reports/oracle_second_order.csv`` (one row per checker, case and variant),
``oracle_second_order_timing.csv``, ``oracle_second_order_budget.csv`` and
``oracle_second_order.md``.

Usage: ``python scripts/oracle_second_order.py [--out reports]``
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

import diffcompare
from diffcompare.ops.numpy_namespace import numpy_namespace
from diffcompare.oracle.second_mutations import HVP_MUTATIONS, MUTATIONS, cases, mutated_hessian
from diffcompare.suite.records import suite

TIMING_DIMS = (10, 30, 100)
TIMING_FUNCTIONS = ("rosenbrock", "styblinski_tang", "zakharov", "log_sum_exp")
HVP_DIMS = (10, 100, 1000)


def suite_rows() -> list[dict]:
    rows = []
    for case in cases():
        variants = [("correct", case.hessian)]
        variants += [(name, mutated_hessian(case, name)) for name in MUTATIONS]
        for variant, hessian in variants:
            if hessian is None:
                continue
            black_box = lambda x, f=case.f: f(x, numpy_namespace)  # noqa: E731
            checks = {
                "check_hessian": lambda h=hessian, c=case: diffcompare.check_hessian(
                    c.f, lambda x: h, c.x, mode="full"
                ),
                "check_hessian_fast": lambda h=hessian, c=case: diffcompare.check_hessian(
                    c.f, lambda x: h, c.x, mode="fast"
                ),
            }
            checks["check_hessian_black_box"] = lambda h=hessian, c=case, f=black_box: (
                diffcompare.check_hessian(f, lambda x: h, c.x)
            )
            if variant == "correct" or variant in HVP_MUTATIONS:
                checks["check_hvp"] = lambda h=hessian, c=case: diffcompare.check_hvp(
                    c.f, lambda x, v: h @ v, c.x
                )
            for checker, run in checks.items():
                result = run()
                rows.append(
                    {
                        "checker": checker,
                        "case": case.name,
                        "hard": case.hard,
                        "n": case.x.size,
                        "variant": variant,
                        "verdict": result.verdict,
                        "gradient_evaluations": result.evaluations,
                        "seconds": result.seconds,
                        "index": result.index,
                        "reason": result.reason[:160],
                    }
                )
    return rows


def timing_rows() -> list[dict]:
    import autograd

    from diffcompare.methods.autograd.namespace import as_traced, autograd_namespace

    rows = []
    records = {record.name: record for record in suite()}
    for name in TIMING_FUNCTIONS:
        for n in TIMING_DIMS:
            record = records[name].resized(n)
            x = record.points[0]
            traced = lambda z, f=record.f: f(as_traced(z), autograd_namespace)  # noqa: E731
            truth = np.asarray(autograd.hessian(traced)(x))
            for mode in ("auto", "full", "fast"):
                seconds, verdicts = [], []
                for _ in range(5):
                    start = time.perf_counter()
                    result = diffcompare.check_hessian(record.f, lambda z, h=truth: h, x, mode=mode)
                    seconds.append(time.perf_counter() - start)
                    verdicts.append(result.verdict)
                rows.append(
                    {
                        "function": name, "n": n, "mode": mode, "median_seconds": float(np.median(seconds)),
                        "verdict": verdicts[0], "gradient_evaluations": result.evaluations,
                    }
                )  # fmt: skip
    return rows


def sin_times_x(z, xp):
    return xp.sum(xp.sin(z) * z) + z[0] * z[-1]


def budget_rows() -> list[dict]:
    """Fast mode's gradient evaluations, correct and with entry (0, n - 1) off by 1e-4."""
    rows = []
    for n in HVP_DIMS:
        x = np.linspace(-1.0, 1.5, n)
        right = np.diag(2 * np.cos(x) - np.sin(x) * x)
        right[0, -1] += 1.0
        right[-1, 0] += 1.0
        wrong = right.copy()
        wrong[0, -1] = wrong[-1, 0] = 1.0 + 1e-4
        for claim, h in (("correct", right), ("entry (0, n-1) off by 1e-4", wrong)):
            results = {
                "check_hvp": diffcompare.check_hvp(sin_times_x, lambda z, v, h=h: h @ v, x),
                "check_hessian": diffcompare.check_hessian(sin_times_x, lambda z, h=h: h, x, mode="fast"),
            }
            for checker, result in results.items():
                rows.append(
                    {
                        "checker": checker, "n": n, "claim": claim, "verdict": result.verdict,
                        "index": result.index, "gradient_evaluations": result.evaluations,
                    }
                )  # fmt: skip
    return rows


def markdown(frame: pd.DataFrame, timing: pd.DataFrame, budget: pd.DataFrame) -> str:
    lines = ["# Second-order and product checkers on the mutation suite", ""]
    lines.append(
        f"{frame.case.nunique()} cases (suite functions at ordinary and hard points, "
        f"{frame[frame.hard].case.nunique()} hard), autograd's Hessian as the truth.  "
        "Reproduce: `python scripts/oracle_second_order.py`."
    )
    lines += ["", "| checker | variant | cases | pass | fail | inconclusive |", "|---|---|---|---|---|---|"]
    for (checker, variant), group in frame.groupby(["checker", "variant"], sort=False):
        counts = group.verdict.value_counts()
        lines.append(
            f"| {checker} | {variant} | {len(group)} | {counts.get('pass', 0)} | {counts.get('fail', 0)} "
            f"| {counts.get('inconclusive', 0)} |"
        )
    lines += ["", "Correct Hessians or HVPs failed (false fails):", ""]
    false = frame[(frame.variant == "correct") & (frame.verdict == "fail")]
    lines += [f"- {r.checker} {r.case}: {r.reason}" for r in false.itertuples()] or ["- none"]
    lines += ["", "## check_hessian wall time (median of 5, one BLAS thread)", ""]
    lines += [
        "| function | n | mode | median s | gradient evaluations | verdict |",
        "|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {r.function} | {r.n} | {r.mode} | {r.median_seconds:.4f} | {r.gradient_evaluations} "
        f"| {r.verdict} |"
        for r in timing.itertuples()
    ]
    for mode, group in timing.groupby("mode", sort=False):
        lines.append(
            f"\nMedian over these functions and n <= 100, {mode} mode: "
            f"{group.median_seconds.median():.4f} s; slowest: {group.median_seconds.max():.4f} s."
        )
    lines += ["", "## Fast mode's gradient evaluations (2 directions; budget 40)", ""]
    lines += [
        "| checker | n | claim | gradient evaluations | verdict | entry named |",
        "|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {r.checker} | {r.n} | {r.claim} | {r.gradient_evaluations} | {r.verdict} | {r.index} |"
        for r in budget.itertuples()
    ]
    hvp = frame[frame.checker == "check_hvp"].gradient_evaluations
    fast = frame[frame.checker == "check_hessian_fast"].gradient_evaluations
    lines.append(
        f"\nOver the mutation suite: check_hvp spent at most {int(hvp.max())} gradient evaluations; "
        f"fast check_hessian a median of {int(fast.median())}, and checked every column in "
        f"{int((fast > 40).sum())} of {len(fast)} checks, where the random directions' ladders "
        "could not settle within the budget."
    )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=Path("reports"))
    out = parser.parse_args().out
    out.mkdir(parents=True, exist_ok=True)
    with threadpool_limits(1), warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        frame = pd.DataFrame(suite_rows())
        timing = pd.DataFrame(timing_rows())
        budget = pd.DataFrame(budget_rows())
    frame.to_csv(out / "oracle_second_order.csv", index=False)
    timing.to_csv(out / "oracle_second_order_timing.csv", index=False)
    budget.to_csv(out / "oracle_second_order_budget.csv", index=False)
    (out / "oracle_second_order.md").write_text(markdown(frame, timing, budget))
    print((out / "oracle_second_order.md").read_text())


if __name__ == "__main__":
    main()
