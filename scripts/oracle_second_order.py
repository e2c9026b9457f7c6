"""The second-order and product checkers on the second-order mutation suite: false fails,
caught mutations, inconclusive verdicts, cost.

Every case of :func:`diffcompare.oracle.second_mutations.cases` (suite functions at their
ordinary and hard points, autograd's Hessian as the truth) is checked correct and under
every mutation that applies, by ``check_hessian`` (also with ``f`` as a black box, the
fallback without the tape's gradient) and by ``check_hvp`` (fast mode, 2 directions).
Then ``check_hessian``'s wall time at n = 10, 30, 100 on scalable suite functions
(median of 5 runs; numpy on one BLAS thread) and ``check_hvp``'s gradient evaluations
at n up to 1,000.

Writes ``reports/oracle_second_order.csv`` (one row per checker, case and variant) and
``reports/oracle_second_order.md``.

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
                "check_hessian": lambda h=hessian, c=case: diffcompare.check_hessian(c.f, lambda x: h, c.x)
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
            seconds, verdicts = [], []
            for _ in range(5):
                start = time.perf_counter()
                result = diffcompare.check_hessian(record.f, lambda z, h=truth: h, x)
                seconds.append(time.perf_counter() - start)
                verdicts.append(result.verdict)
            rows.append(
                {
                    "function": name, "n": n, "median_seconds": float(np.median(seconds)),
                    "verdict": verdicts[0], "gradient_evaluations": result.evaluations,
                }
            )  # fmt: skip
    return rows


def hvp_budget_rows() -> list[dict]:
    rows = []
    for n in HVP_DIMS:
        x = np.linspace(-1.0, 1.5, n)
        result = diffcompare.check_hvp(
            lambda z, xp: xp.sum(xp.sin(z) * z), lambda z, v: (2 * np.cos(z) - np.sin(z) * z) * v, x
        )
        rows.append({"n": n, "verdict": result.verdict, "gradient_evaluations": result.evaluations})
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
    lines += ["| function | n | median s | gradient evaluations | verdict |", "|---|---|---|---|---|"]
    lines += [
        f"| {r.function} | {r.n} | {r.median_seconds:.3f} | {r.gradient_evaluations} | {r.verdict} |"
        for r in timing.itertuples()
    ]
    lines += ["", "## check_hvp gradient evaluations, fast mode (2 directions)", ""]
    lines += ["| n | gradient evaluations | verdict |", "|---|---|---|"]
    lines += [f"| {r.n} | {r.gradient_evaluations} | {r.verdict} |" for r in budget.itertuples()]
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
        budget = pd.DataFrame(hvp_budget_rows())
    frame.to_csv(out / "oracle_second_order.csv", index=False)
    timing.to_csv(out / "oracle_second_order_timing.csv", index=False)
    (out / "oracle_second_order.md").write_text(markdown(frame, timing, budget))
    print((out / "oracle_second_order.md").read_text())


if __name__ == "__main__":
    main()
