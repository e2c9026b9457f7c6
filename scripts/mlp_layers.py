"""Per-layer comparison of the SymPy-derived MLP rules with autograd and the tape.

Writes ``reports/mlp_layers.csv`` (see ``diffcompare.harness.studies.mlp_layer_study``) for
4-8-3, 64-32-10, 784-128-10 and the 3-layer 5-7-6-3, batch 64, every activation and
loss, numpy pinned to one thread; then prints the 784-128-10 timings and the ratio of
the rules to autograd.  ``diffcompare compare`` writes the same file.

Usage: ``python scripts/mlp_layers.py [--out reports]``
"""

from __future__ import annotations

import argparse
from pathlib import Path

from threadpoolctl import threadpool_limits

from diffcompare.harness.report import atomic_write, mlp_timing_table
from diffcompare.harness.studies import mlp_layer_study


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="reports", help="directory for mlp_layers.csv")
    args = parser.parse_args(argv)
    with threadpool_limits(1):
        table = mlp_layer_study(progress=print)
    Path(args.out).mkdir(parents=True, exist_ok=True)
    path = atomic_write(Path(args.out) / "mlp_layers.csv", table.to_csv(index=False, float_format="%.6g"))
    worst = table.groupby("network", sort=False)["max_rel_err"].max()
    print(f"\nwrote {path} ({len(table)} rows); worst block error per network:")
    print(worst.to_string())
    print("\n784-128-10, batch 64, one thread: seconds per gradient")
    print(mlp_timing_table(table).to_string(index=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
