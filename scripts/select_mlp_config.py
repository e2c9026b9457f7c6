"""Choose the digits MLP's training configuration on a validation set, never the test set.

A seeded validation set (20 % of every class, seed 1) is carved out of the digits
training set (:func:`~diffcompare.mlp.training.validation_split`); every candidate in
:data:`CANDIDATES` trains on the rest with the SymPy-derived layer rules and is scored by
its validation accuracy after the last epoch.  The pick is the highest validation
accuracy; ties go to the cheaper run (fewer parameters times epochs), then to the earlier
candidate.  The test set is not loaded into any run here: ``scripts/train_mlp.py`` trains
the pick once on the whole training set and reports its test accuracy.

Writes ``train_mlp_selection.csv`` (one row per candidate) and prints the table and the pick.

Usage: ``python scripts/select_mlp_config.py [--out reports]``
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from diffcompare.harness.report import atomic_write
from diffcompare.mlp.training import TrainingConfig, load_digits_split, train, validation_split

VALIDATION_FRACTION = 0.2
VALIDATION_SEEDS = (1, 2, 3, 4, 5)
SOURCE = "tape"

#: The candidates: the original run first, then a grid over activation, widths, batch
#: size and weight decay, 60 epochs with the cosine schedule; learning rate 0.1,
#: momentum 0.9 and seed 0 throughout.
CANDIDATES = (
    TrainingConfig(),
    *(
        TrainingConfig(
            hidden=hidden,
            activation=activation,
            epochs=60,
            batch_size=batch_size,
            schedule="cosine",
            weight_decay=decay,
        )
        for activation, hidden, batch_size, decay in itertools.product(
            ("tanh", "relu"), ((128,), (128, 64), (256, 128)), (32, 64), (0.0, 1e-3)
        )
    ),
)


def cost(config: TrainingConfig, features: int, classes: int) -> int:
    """Parameters times epochs: the work of a run, up to a constant."""
    widths = (features, *config.hidden, classes)
    parameters = sum(n_out * (n_in + 1) for n_in, n_out in zip(widths[:-1], widths[1:], strict=True))
    return parameters * config.epochs


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="reports", help="directory for train_mlp_selection.csv")
    args = parser.parse_args(argv)

    try:
        data = load_digits_split(test_fraction=0.2, seed=0)
    except ImportError as error:
        print(f"select_mlp_config: {error}", file=sys.stderr)
        return 2
    splits = [validation_split(data, VALIDATION_FRACTION, seed) for seed in VALIDATION_SEEDS]
    print(
        f"digits training set split {len(VALIDATION_SEEDS)} ways (seeds {VALIDATION_SEEDS}) into "
        f"{len(splits[0].train_labels)} training and {len(splits[0].test_labels)} validation samples; "
        f"{len(CANDIDATES)} candidates, gradients from {SOURCE}"
    )
    rows = []
    with threadpool_limits(1):
        for index, config in enumerate(CANDIDATES):
            start = time.perf_counter()
            results = [train(split, config, SOURCE) for split in splits]
            rows.append(
                {
                    "candidate": index,
                    "activation": config.activation,
                    "hidden": "-".join(map(str, config.hidden)),
                    "epochs": config.epochs,
                    "batch_size": config.batch_size,
                    "schedule": config.schedule,
                    "weight_decay": config.weight_decay,
                    "final_train_loss": np.mean([r.losses[-1] for r in results]),
                    **{
                        f"validation_accuracy_{s}": r.test_accuracy
                        for s, r in zip(VALIDATION_SEEDS, results, strict=True)
                    },
                    "validation_accuracy": np.mean([r.test_accuracy for r in results]),
                    "cost": cost(config, data.features, data.classes),
                    "seconds": round(time.perf_counter() - start, 2),
                }
            )
            row = rows[-1]
            print(
                f"  {index:2d} {config.activation:<4} {row['hidden']:>7} {config.epochs:3d} epochs "
                f"batch {config.batch_size:2d} "
                f"{config.schedule:<8} decay {config.weight_decay:<6g} loss {row['final_train_loss']:.5f} "
                f"validation {row['validation_accuracy']:.4f}  ({row['seconds']:.1f} s)",
                flush=True,
            )
    table = pd.DataFrame(rows)
    ranked = table.sort_values(["validation_accuracy", "cost", "candidate"], ascending=[False, True, True])
    pick = ranked.iloc[0]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = atomic_write(out / "train_mlp_selection.csv", table.to_csv(index=False, float_format="%.17g"))
    print(f"wrote {path}")
    print(
        f"pick: candidate {pick['candidate']}: {pick['activation']} {pick['hidden']}, "
        f"{pick['epochs']} epochs, batch {pick['batch_size']}, "
        f"{pick['schedule']}, weight decay {pick['weight_decay']:g}, "
        f"validation accuracy {pick['validation_accuracy']:.4f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
