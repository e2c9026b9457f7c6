"""Benchmark of method ``symbolic_array``: setup, gradient time, and Laue's size table.

Laue, Mitterreiter and Giesen claim that symbolic differentiation on array expressions,
with common subexpressions shared, is as efficient as reverse mode: the derivative's
expression has at most a small constant times the operations of the function's
computation graph.  This script measures it for diffcompare's implementation:

* ``reports/symbolic_array.csv``: per case, the setup time (trace, differentiation,
  code generation and compilation; once), the median time of one gradient, of the
  tape's gradient and of the numpy forward evaluation, and the medians of their ratios
  over 7 rounds (each round times the three in turn with
  :func:`diffcompare.harness.timing.measure`; numpy on one BLAS thread), with the
  normwise difference to the tape's gradient.  Every case is timed twice: with glibc's
  allocator as it comes, then told to keep freed memory (``mallopt``; see
  :func:`keep_freed_memory`), since at n = 1e5 page faults on fresh arrays, not
  arithmetic, decide the times of every method and of the forward.  Cases: the 784-128-10 MLP (tanh, mean
  squared error, batch 64: the benchmark's ``mlp`` workload), the ADBench workloads
  (:mod:`diffcompare.suite.workloads`: GMM at d, k = 2, 5; 10, 25; 64, 50 with
  n = 1,000, bundle adjustment with 49 cameras, 7,776 points and 31,843
  observations, the LSTM with 2 layers and 1,024 characters), and Rosenbrock at
  n = 10 to 100,000 (setup must not grow with n).
* ``reports/laue_table.csv``: ``cse_ops`` (operations in the generated gradient code)
  against the tape's node count for the same ``f`` (``tape_nodes``) and their ratio,
  on the MLP, the ADBench workloads, every suite function and the expression-swell
  family (:func:`diffcompare.harness.studies.swell_function`) at depths 1 to 20.

Usage: ``python scripts/symbolic_array_bench.py [--out reports] [--quick]``
"""

from __future__ import annotations

import argparse
import ctypes
from pathlib import Path

import numpy as np
import pandas as pd

from diffcompare.bench.workloads import MLP_BATCH, MLP_LAYERS
from diffcompare.harness.report import atomic_write
from diffcompare.harness.studies import swell_function
from diffcompare.harness.timing import measure, one_blas_thread, time_once
from diffcompare.methods import METHODS
from diffcompare.mlp.model import MLP
from diffcompare.ops.numpy_namespace import numpy_namespace
from diffcompare.suite.functions import rosenbrock
from diffcompare.suite.records import SEED, suite
from diffcompare.suite.workloads import bundle_adjustment, gmm, lstm
from diffcompare.truth.accuracy import normwise_relative_error


def label(record) -> str:
    """``gmm_d10_k5_n1000``: the workload's name and sizes."""
    return "_".join([record.name, *(f"{name}{value}" for name, value in record.sizes)])


def adbench_records(quick: bool):
    """The ADBench workloads: GMM at ADBench's sizes, bundle adjustment, the LSTM."""
    sizes = ((10, 5),) if quick else ((2, 5), (10, 25), (64, 50))
    for d, k in sizes:
        yield gmm(d, k, 1000, seed=SEED)
    yield bundle_adjustment(49, 7776, 31843, seed=SEED)
    yield lstm(2, 64 if quick else 1024, seed=SEED)


def timing_cases(quick: bool):
    """``(case, f, x)`` for the timing table."""
    net = MLP.random(MLP_LAYERS, "tanh", "mse", batch=MLP_BATCH, seed=SEED)
    yield "mlp_784_128_10", net.f, net.random_parameters(seed=SEED + 1)
    for record in adbench_records(quick):
        yield label(record), record.f, record.points[0]
    for n in (10, 1000) if quick else (10, 1000, 100_000):
        yield f"rosenbrock_{n}", rosenbrock, np.random.default_rng([SEED, n]).uniform(-2.0, 2.0, n)


def keep_freed_memory() -> bool:
    """Ask glibc's allocator to keep freed memory (no trimming, no per-array mmap).

    By default a freed array of a megabyte goes back to the system and the next one is
    faulted in page by page: a gradient whose temporaries outlive a few calls' worth
    of heap pays that on every call, and the numpy forward, with fewer live arrays,
    sometimes does and sometimes does not.  Returns False where ``mallopt`` is missing.
    """
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3
    return bool(libc.mallopt(m_trim_threshold, 1 << 30)) and bool(libc.mallopt(m_mmap_threshold, 1 << 29))


def timing_table(quick: bool, allocator: str) -> pd.DataFrame:
    rows = []
    repeats = 3 if quick else 7
    for case, f, x in timing_cases(quick):
        print(f"timing {case} ({allocator} allocator)", flush=True)
        prepared, setup_s = time_once(lambda f=f, x=x: METHODS["symbolic_array"].prepare(f, x.size))
        tape = METHODS["tape"].prepare(f, x.size)
        calls = {
            "gradient": lambda p=prepared, x=x: p.gradient(x),
            "tape": lambda p=tape, x=x: p.gradient(x),
            "forward": lambda f=f, x=x: f(x, numpy_namespace),
        }
        # Rounds of the three, one after the other: on a shared machine the load drifts,
        # and a ratio taken within one round compares like with like.
        rounds = []
        with one_blas_thread():
            for _ in range(repeats):
                rounds.append([measure(call, repeats=3).median for call in calls.values()])
        gradient_s, tape_s, forward_s = np.median(rounds, axis=0)
        to_tape = float(np.median([g / t for g, t, _ in rounds]))
        to_forward = float(np.median([g / f for g, _, f in rounds]))
        rows.append(
            {
                "case": case,
                "allocator": allocator,
                "n": x.size,
                "setup_s": setup_s,
                "gradient_s": gradient_s,
                "tape_s": tape_s,
                "forward_s": forward_s,
                "ratio_to_tape": to_tape,
                "ratio_to_forward": to_forward,
                "diff_to_tape": normwise_relative_error(prepared.gradient(x), tape.gradient(x)),
                "cse_ops": prepared.details["cse_ops"],
                "tape_nodes": prepared.details["tape_nodes"],
            }
        )
    return pd.DataFrame(rows)


def laue_cases(quick: bool):
    """``(family, case, f, dim)`` for Laue's table."""
    net = MLP.random(MLP_LAYERS, "tanh", "mse", batch=MLP_BATCH, seed=SEED)
    yield "mlp", "mlp_784_128_10", net.f, net.dim
    for record in adbench_records(quick):
        yield record.name, label(record), record.f, record.dim
    for record in suite():
        yield "suite", record.name, record.f, record.dim
    for depth in range(1, 11 if quick else 21):
        yield "swell", f"swell_{depth}", swell_function(depth), 2


def laue_table(quick: bool) -> pd.DataFrame:
    rows = []
    for family, case, f, dim in laue_cases(quick):
        details = METHODS["symbolic_array"].prepare(f, dim).details
        rows.append(
            {
                "family": family,
                "case": case,
                "n": dim,
                "cse_ops": details["cse_ops"],
                "tape_nodes": details["tape_nodes"],
                "ratio": details["cse_ops"] / details["tape_nodes"],
            }
        )
    return pd.DataFrame(rows)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("reports"))
    parser.add_argument("--quick", action="store_true", help="fewer sizes, depths and runs")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    timing = timing_table(args.quick, "default")
    if keep_freed_memory():
        timing = pd.concat([timing, timing_table(args.quick, "keeps freed memory")], ignore_index=True)
    atomic_write(args.out / "symbolic_array.csv", timing.to_csv(index=False))
    laue = laue_table(args.quick)
    atomic_write(args.out / "laue_table.csv", laue.to_csv(index=False))
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(timing.to_string(index=False, float_format=lambda v: f"{v:.3g}"))
        print(laue.groupby("family")["ratio"].agg(["count", "min", "median", "max"]))


if __name__ == "__main__":
    main()
