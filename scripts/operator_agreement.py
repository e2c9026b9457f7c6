"""Agreement of every Jacobian, JVP, VJP, Hessian and HVP method with the 50-digit truth.

Hessians and HVPs over the suite's functions at their three ordinary points; Jacobians,
JVPs and VJPs over vector functions made from the suite (every function of one
dimension stacked into ``g(x) = [f1(x), f2(x), ...]``, at three seeded points in
(0.2, 0.8)^n) and the bundle-adjustment residuals (2 cameras, 3 points, 4
observations, at the workload's three points).  Directions are seeded.  Prints one
Markdown row per operator and method: the worst and the median normwise relative error
(``max |value - truth| / max |truth|``) and the number of cases; with ``--out`` also
writes ``operator_agreement.csv`` there.

Usage: ``python scripts/operator_agreement.py [--out reports]``
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

import numpy as np

from diffcompare.operators import (
    HESSIAN_METHODS,
    HVP_METHODS,
    JACOBIAN_METHODS,
    JVP_METHODS,
    VJP_METHODS,
    hessian,
    hvp,
    jacobian,
    jvp,
    vjp,
)
from diffcompare.operators.cases import vector_cases
from diffcompare.suite.records import suite
from diffcompare.truth.accuracy import normwise_relative_error
from diffcompare.truth.operators import reference_hessian, reference_jacobian

SEED = 16


def measure() -> list[dict]:
    errors: dict[tuple[str, str], list[float]] = {}
    rng = np.random.default_rng(SEED)

    def record(operator, method, value, truth):
        errors.setdefault((operator, method), []).append(normwise_relative_error(value, truth))

    for name, g, x in vector_cases():
        truth = reference_jacobian(g, x)
        if truth.status != "ok":
            print(f"skipped {name}: truth {truth.status}: {truth.message}", file=sys.stderr)
            continue
        J = truth.value
        t, u = rng.standard_normal(J.shape[1]), rng.standard_normal(J.shape[0])
        for method in JACOBIAN_METHODS:
            record("jacobian", method, jacobian(g, method)(x), J)
        for method in JVP_METHODS:
            record("jvp", method, jvp(g, method)(x, t), J @ t)
        for method in VJP_METHODS:
            record("vjp", method, vjp(g, method)(x, u), u @ J)
    for function in suite():
        for x in function.points:
            truth = reference_hessian(function.f, x)
            if truth.status != "ok":
                print(f"skipped {function.name}: truth {truth.status}: {truth.message}", file=sys.stderr)
                continue
            v = rng.standard_normal(x.size)
            for method in HESSIAN_METHODS:
                record("hessian", method, hessian(function.f, method)(x), truth.value)
            for method in HVP_METHODS:
                record("hvp", method, hvp(function.f, method)(x, v), truth.value @ v)
    return [
        {
            "operator": operator,
            "method": method,
            "cases": len(values),
            "worst": max(values),
            "median": float(np.median(values)),
        }
        for (operator, method), values in errors.items()
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", help="directory for operator_agreement.csv")
    args = parser.parse_args(argv)
    rows = measure()
    print("| operator | method | cases | worst | median |")
    print("|---|---|---:|---:|---:|")
    for row in rows:
        worst, median = f"{row['worst']:.1e}", f"{row['median']:.1e}"
        print(f"| {row['operator']} | {row['method']} | {row['cases']} | {worst} | {median} |")
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        with open(out / "operator_agreement.csv", "w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
