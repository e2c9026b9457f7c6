"""Train the digits MLP (64-256-128-10 relu) on scikit-learn's 8x8 digits with each gradient source.

The SymPy-derived layer rules, autograd and the tape train from the same seed on the
same batches with ``DIGITS_CONFIG`` (SGD with momentum and a cosine learning-rate
schedule, softmax cross-entropy, 80/20 stratified split, numpy pinned to one thread);
``scripts/select_mlp_config.py`` chose that configuration on validation sets carved from
the training set.  Writes ``train_mlp.csv`` (epoch, source, loss, test_accuracy
after that epoch) and ``train_mlp.png`` (the loss curves, log y, and their relative
differences), prints the largest relative difference between the curves per epoch and
the final test accuracies.

Exit status: 0 if the curves agree to ``CURVE_TOLERANCE`` (1e-9) at every epoch and
every test accuracy reaches ``MIN_TEST_ACCURACY`` (97%); 1 otherwise; 2 if scikit-learn
(the optional extra ``train``) is not installed.

Usage: ``python scripts/train_mlp.py [--out reports] [--epochs 60]``
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from diffcompare.harness.plots import save_figure
from diffcompare.harness.report import atomic_write
from diffcompare.mlp.training import (
    CURVE_TOLERANCE,
    DIGITS_CONFIG,
    GRADIENT_SOURCES,
    MIN_TEST_ACCURACY,
    curve_differences,
    load_digits_split,
    train,
)

FLOOR = 1e-18  # differences of exactly 0 are drawn here on the log axis


def curves_table(results) -> pd.DataFrame:
    """One row per epoch and source: epoch (from 1), source, loss, test_accuracy."""
    return pd.DataFrame(
        [
            {"epoch": epoch, "source": r.source, "loss": loss, "test_accuracy": accuracy}
            for r in results
            for epoch, (loss, accuracy) in enumerate(zip(r.losses, r.test_accuracies, strict=True), start=1)
        ]
    )


def plot_curves(results, differences: np.ndarray, title: str, path: Path) -> Path:
    """Loss curves (log y) above the relative difference between them (log y)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    epochs = np.arange(1, differences.size + 1)
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(8, 7), sharex=True, height_ratios=(2, 1))
    # The curves lie on top of each other: distinct markers and dashes keep all three visible.
    for r, (marker, dashes) in zip(results, (("o", "-"), ("x", "--"), ("+", ":")), strict=False):
        label = f"{r.source} (test accuracy {r.test_accuracy:.1%})"
        top.plot(epochs, r.losses, dashes, marker=marker, markersize=6, label=label)
    top.set_yscale("log")
    top.set_ylabel("mean training loss (cross-entropy)")
    top.set_title(f"{title} on the 8x8 digits: the same run with each gradient source")
    top.legend(fontsize=8)
    top.grid(True, which="both", alpha=0.3)
    bottom.plot(epochs, np.maximum(differences, FLOOR), "k.-", label="max relative difference")
    bottom.axhline(CURVE_TOLERANCE, color="red", linestyle="--", label=f"tolerance {CURVE_TOLERANCE:g}")
    bottom.set_yscale("log")
    bottom.set_xlabel("epoch")
    bottom.set_ylabel(f"|loss - loss_rules| / loss_rules\n(0 drawn at {FLOOR:g})")
    bottom.legend(fontsize=8)
    bottom.grid(True, which="both", alpha=0.3)
    save_figure(fig, Path(path))
    plt.close(fig)
    return path


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="reports", help="directory for train_mlp.csv and train_mlp.png")
    parser.add_argument("--epochs", type=int, default=DIGITS_CONFIG.epochs, help="epochs per run")
    args = parser.parse_args(argv)

    try:
        data = load_digits_split(test_fraction=0.2, seed=0)
    except ImportError as error:
        print(f"train_mlp: {error}", file=sys.stderr)
        return 2
    config = dataclasses.replace(DIGITS_CONFIG, epochs=args.epochs)
    title = f"{data.features}-{'-'.join(map(str, config.hidden))}-{data.classes} {config.activation} MLP"
    print(
        f"digits: {len(data.train_labels)} training, {len(data.test_labels)} test samples; {title}, "
        f"batch {config.batch_size}, SGD lr {config.learning_rate} ({config.schedule}) momentum "
        f"{config.momentum}, weight decay {config.weight_decay:g}, {config.epochs} epochs, seed {config.seed}"
    )

    results = []
    with threadpool_limits(1):
        for source in GRADIENT_SOURCES:
            start = time.perf_counter()
            results.append(train(data, config, source))
            print(f"  {source:<15} {time.perf_counter() - start:6.2f} s")
    differences = curve_differences(results)

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    csv_path = atomic_write(
        out / "train_mlp.csv", curves_table(results).to_csv(index=False, float_format="%.17g")
    )
    png_path = plot_curves(results, differences, title, out / "train_mlp.png")
    print(f"wrote {csv_path} and {png_path}")

    print(f"\nmax relative difference between the loss curves (vs {results[0].source}), per epoch:")
    for epoch, (difference, loss) in enumerate(zip(differences, results[0].losses, strict=True), start=1):
        print(f"  epoch {epoch:3d}  loss {loss:.6f}  max rel diff {difference:.3e}")
    worst = float(differences.max())
    print(f"largest over all epochs: {worst:.3e} (tolerance {CURVE_TOLERANCE:g})")
    print("\ntest accuracy after the last epoch:")
    for r in results:
        print(f"  {r.source:<15} {r.test_accuracy:.4f}")

    failures = []
    if not worst <= CURVE_TOLERANCE:  # also catches NaN
        failures.append(f"loss curves differ by {worst:.3e} > {CURVE_TOLERANCE:g}")
    failures += [
        f"{r.source} test accuracy {r.test_accuracy:.4f} < {MIN_TEST_ACCURACY}"
        for r in results
        if r.test_accuracy < MIN_TEST_ACCURACY
    ]
    for failure in failures:
        print(f"FAILED: {failure}", file=sys.stderr)
    if not failures:
        print("OK: the curves agree and every source reaches the accuracy bar")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
