"""Fit a 100 x 50 linear least-squares model by gradient descent with every exact method.

Each method of family ``"exact"`` in the registry whose package is installed prepares
the gradient of the same ``f(w, xp)`` once; plain full-batch gradient descent (step 0.5,
from ``w = 0``) then runs the same number of steps with each, the loss evaluated with
numpy (pinned to one thread).  Writes ``train_linear.csv`` (step, method, loss) and
``train_linear.png`` (the loss curves, log y, and their relative differences), and prints
per method how many steps give bitwise the same loss as the first method and the largest
relative difference.

Each method's preparation and run has a time budget (``--budget``, seconds): a method
that exceeds it is reported as timed out and left out of the comparison (SymPy's
``symbolic`` differentiates the 5,000-product loss slowly).

Exit status: 0 if every curve that was computed agrees with the first to
``LINEAR_CURVE_TOLERANCE`` at every step; 1 otherwise.

Usage: ``python scripts/train_linear.py [--out reports] [--steps 200] [--budget 1800]``
(``--samples`` and ``--features`` change the problem's size).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from diffcompare.budget import BudgetExceeded, time_budget
from diffcompare.harness.plots import save_figure
from diffcompare.harness.report import atomic_write
from diffcompare.mlp.linear import LINEAR_CURVE_TOLERANCE, LinearProblem, available_exact_methods, fit_linear
from diffcompare.mlp.training import curve_differences

NOISE, SEED = 0.1, 0
LEARNING_RATE = 0.5
FLOOR = 1e-18  # differences of exactly 0 are drawn here on the log axis


def plot_curves(fits, problem: LinearProblem, path: Path) -> Path:
    """Loss curves (log y) above each method's relative difference from the first (log y)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = np.arange(fits[0].losses.size)
    reference = fits[0].losses
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(8, 7), sharex=True, height_ratios=(2, 1))
    markers = "ox+s^vd*"
    for fit, marker in zip(fits, markers, strict=False):
        top.plot(steps, fit.losses, marker=marker, markevery=max(1, steps.size // 10), label=fit.method)
    top.set_yscale("log")
    top.set_ylabel("mean squared residual")
    samples, features = problem.inputs.shape
    top.set_title(f"Linear least squares {samples} x {features}, gradient descent with every exact method")
    top.legend(fontsize=8)
    top.grid(True, which="both", alpha=0.3)
    for fit, marker in zip(fits[1:], markers[1:], strict=False):
        difference = np.abs(fit.losses - reference) / np.abs(reference)
        bottom.plot(
            steps, np.maximum(difference, FLOOR), marker=marker, linestyle="", markersize=3, label=fit.method
        )
    bottom.axhline(
        LINEAR_CURVE_TOLERANCE, color="red", linestyle="--", label=f"tolerance {LINEAR_CURVE_TOLERANCE:g}"
    )
    bottom.set_yscale("log")
    bottom.set_xlabel("step")
    bottom.set_ylabel(f"|loss - loss_{fits[0].method}| / loss\n(0 drawn at {FLOOR:g})")
    bottom.legend(fontsize=7, ncol=3)
    bottom.grid(True, which="both", alpha=0.3)
    save_figure(fig, Path(path))
    plt.close(fig)
    return path


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out", default="reports", help="directory for train_linear.csv and train_linear.png"
    )
    parser.add_argument("--steps", type=int, default=200, help="gradient-descent steps per method")
    parser.add_argument("--samples", type=int, default=100, help="rows of X")
    parser.add_argument("--features", type=int, default=50, help="columns of X (weights)")
    parser.add_argument("--budget", type=float, default=1800.0, help="seconds per method (prepare and run)")
    args = parser.parse_args(argv)

    problem = LinearProblem.random(args.samples, args.features, NOISE, SEED)
    methods = available_exact_methods()
    print(
        f"linear least squares {args.samples} x {args.features} (X ~ U(-1, 1), noise {NOISE}, seed {SEED}); "
        f"gradient descent, step {LEARNING_RATE}, {args.steps} steps; "
        f"exact methods: {', '.join(m.name for m in methods)}"
    )
    fits = []
    with threadpool_limits(1):
        for method in methods:
            start = time.perf_counter()
            try:
                with time_budget(args.budget):
                    fits.append(fit_linear(problem, method, args.steps, LEARNING_RATE))
            except BudgetExceeded:
                print(f"  {method.name:<16} timed out after {args.budget:g} s: left out", flush=True)
                continue
            print(
                f"  {method.name:<16} {time.perf_counter() - start:7.2f} s (prepare and {args.steps} steps)",
                flush=True,
            )

    if len(fits) < 2:
        print("FAILED: fewer than two methods finished; nothing to compare", file=sys.stderr)
        return 1
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    table = pd.DataFrame(
        [
            {"step": step, "method": fit.method, "loss": loss}
            for fit in fits
            for step, loss in enumerate(fit.losses)
        ]
    )
    csv_path = atomic_write(out / "train_linear.csv", table.to_csv(index=False, float_format="%.17g"))
    png_path = plot_curves(fits, problem, out / "train_linear.png")
    print(f"wrote {csv_path} and {png_path}")

    reference = fits[0]
    print(f"\nloss {reference.losses[0]:.6g} at step 0, {reference.losses[-1]:.6g} after {args.steps} steps")
    print(f"against {reference.method}: steps with bitwise the same loss, largest relative difference")
    for fit in fits[1:]:
        same = int(np.sum(fit.losses == reference.losses))
        difference = float(np.max(np.abs(fit.losses - reference.losses) / np.abs(reference.losses)))
        print(f"  {fit.method:<16} {same:4d} of {fit.losses.size}   {difference:.3e}")
    worst = float(curve_differences(fits).max())
    print(f"largest over all methods and steps: {worst:.3e} (tolerance {LINEAR_CURVE_TOLERANCE:g})")
    if not worst <= LINEAR_CURVE_TOLERANCE:  # also catches NaN
        print(f"FAILED: loss curves differ by {worst:.3e} > {LINEAR_CURVE_TOLERANCE:g}", file=sys.stderr)
        return 1
    print("OK: every exact method gives the same loss curve within the tolerance")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
