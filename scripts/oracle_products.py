"""The Jacobian-product checkers on the product mutation suite: false fails, caught
mutations, inconclusive verdicts, cost.

Every case of :func:`diffcompare.oracle.product_mutations.cases` (stacked suite
functions and bundle-adjustment residuals; forward mode's JVP and the tape's VJP as the
correct products) is checked correct and under every mutation that applies, by
``check_jvp`` and ``check_vjp`` (mode "auto", which is "full" at these sizes, and
"fast"), and by the dot-product test ``check_jvp_vjp`` with the wrong side paired with
the other side correct (a jvp and a vjp wrong alike are adjoint: the test cannot see
them, and does not claim to).

Writes ``reports/oracle_products.csv`` (one row per checker, case and variant) and
``reports/oracle_products.md``.

Usage: ``python scripts/oracle_products.py [--out reports]``
"""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

import diffcompare
from diffcompare.oracle.product_mutations import MUTATIONS, cases, mutant


def checks(case, products) -> dict:
    """Checker name -> a call returning its result on ``products`` (the case or a mutant)."""
    g, x = case.g, case.x
    return {
        "check_jvp": lambda: diffcompare.check_jvp(g, products.jvp, x),
        "check_jvp_fast": lambda: diffcompare.check_jvp(g, products.jvp, x, mode="fast"),
        "check_vjp": lambda: diffcompare.check_vjp(g, products.vjp, x),
        "check_vjp_fast": lambda: diffcompare.check_vjp(g, products.vjp, x, mode="fast"),
        "check_jvp_vjp (jvp checked)": lambda: diffcompare.check_jvp_vjp(g, products.jvp, case.vjp, x),
        "check_jvp_vjp (vjp checked)": lambda: diffcompare.check_jvp_vjp(g, case.jvp, products.vjp, x),
    }


def suite_rows() -> list[dict]:
    rows = []
    for case in cases():
        variants = [("correct", case)] + [(name, mutant(case, name)) for name in MUTATIONS]
        for variant, products in variants:
            if products is None:
                continue
            for checker, run in checks(case, products).items():
                result = run()
                m, n = case.jacobian.shape
                rows.append(
                    {
                        "checker": checker, "case": case.name, "m": m, "n": n, "variant": variant,
                        "verdict": result.verdict, "mode": result.mode,
                        "evaluations_of_g": result.evaluations, "seconds": result.seconds,
                        "reason": result.reason[:160],
                    }
                )  # fmt: skip
    return rows


def markdown(frame: pd.DataFrame) -> str:
    lines = ["# Jacobian-product checkers on the product mutation suite", ""]
    shapes = frame.drop_duplicates("case")
    lines.append(
        f"{frame.case.nunique()} cases (stacked suite functions at seeded points and the bundle-adjustment "
        f"residuals; m from {shapes.m.min()} to {shapes.m.max()}, "
        f"n from {shapes.n.min()} to {shapes.n.max()}); "
        "forward mode's JVP and the tape's VJP as the correct products.  "
        "Reproduce: `python scripts/oracle_products.py`."
    )
    lines += [
        "",
        "| checker | variant | cases | pass | fail | inconclusive | median evaluations of g |",
        "|---|---|---|---|---|---|---|",
    ]
    for (checker, variant), group in frame.groupby(["checker", "variant"], sort=False):
        counts = group.verdict.value_counts()
        lines.append(
            f"| {checker} | {variant} | {len(group)} | {counts.get('pass', 0)} | {counts.get('fail', 0)} "
            f"| {counts.get('inconclusive', 0)} | {int(np.median(group.evaluations_of_g))} |"
        )
    correct = frame[frame.variant == "correct"]
    wrong = frame[frame.variant != "correct"]
    caught = (wrong.verdict == "fail").mean()
    lines += [
        "",
        f"False fails (correct products failed): {int((correct.verdict == 'fail').sum())} "
        f"of {len(correct)}.  "
        f"Mutations failed: {int((wrong.verdict == 'fail').sum())} of {len(wrong)} ({100 * caught:.1f} %), "
        f"passed: {int((wrong.verdict == 'pass').sum())}, inconclusive: "
        f"{int((wrong.verdict == 'inconclusive').sum())}.",
        "",
        "Correct products failed or not passed, and mutations not failed:",
        "",
    ]
    odd = frame[((frame.variant == "correct") & (frame.verdict != "pass")) | (
        (frame.variant != "correct") & (frame.verdict != "fail"))]  # fmt: skip
    lines += [f"- {r.checker} {r.case} {r.variant}: {r.verdict}: {r.reason}" for r in odd.itertuples()] or [
        "- none"
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=Path("reports"))
    out = parser.parse_args().out
    out.mkdir(parents=True, exist_ok=True)
    with threadpool_limits(1), warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        frame = pd.DataFrame(suite_rows())
    frame.to_csv(out / "oracle_products.csv", index=False)
    (out / "oracle_products.md").write_text(markdown(frame))
    print((out / "oracle_products.md").read_text())


if __name__ == "__main__":
    main()
