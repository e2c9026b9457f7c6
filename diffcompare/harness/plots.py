"""PNG plots of the reports (matplotlib, no screen needed)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["FLOOR", "PLOT_FILES", "plot_all", "save_figure"]

#: Errors of exactly 0 are drawn at this value on log axes.
FLOOR = 1e-18


def _figure():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _finish(ax, xlabel: str, ylabel: str, title: str, log_x: bool = True) -> None:
    if log_x:
        ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(fontsize=8)
    ax.grid(True, which="both", alpha=0.3)


def save_figure(fig, path: Path) -> Path:
    """Write ``fig`` to ``path`` (PNG) by way of a temporary file, so no reader sees half a file."""
    temporary = path.with_name(f".{path.name}.tmp.png")
    fig.savefig(temporary, dpi=110, bbox_inches="tight")
    temporary.replace(path)
    return path


def error_by_method(results: pd.DataFrame, path: Path) -> Path:
    """Normwise relative error of every method at every ordinary point (log scale).

    A table without ordinary points (a caller's own points, from ``compare``) is drawn
    at all of its points.
    """
    plt = _figure()
    ok = results[results["status"] == "ok"]
    where = "ordinary points"
    if (ok["kind"] == "ordinary").any():
        ok = ok[ok["kind"] == "ordinary"]
    else:
        where = "the points given"
    methods = list(dict.fromkeys(results["method"]))
    fig, ax = plt.subplots(figsize=(8, 4.5))
    rng = np.random.default_rng(0)  # jitter only; fixed so the picture is reproducible
    for i, method in enumerate(methods):
        errors = np.maximum(ok.loc[ok["method"] == method, "norm_rel_err"].to_numpy(float), FLOOR)
        ax.scatter(i + rng.uniform(-0.25, 0.25, errors.size), errors, s=9, alpha=0.5)
        if errors.size:
            ax.hlines(np.median(errors), i - 0.35, i + 0.35, color="black")
    ax.set_yscale("log")
    if ok.empty:  # nothing scored: an empty log axis still needs limits
        ax.set_ylim(FLOOR, 1.0)
    ax.set_xticks(range(len(methods)), methods, rotation=20)
    ax.set_ylabel(f"max|g - ref| / max|ref|  (0 drawn at {FLOOR:g})")
    ax.set_title(f"Gradient error against the 50-digit reference, {where} (bar: median)")
    ax.grid(True, axis="y", alpha=0.3)
    return save_figure(fig, path)


def time_versus_n(scaling: pd.DataFrame, path: Path) -> Path:
    """Gradient time against n for Rosenbrock, log-log, with the forward pass."""
    plt = _figure()
    rosen = scaling[scaling["study"] == "rosenbrock"]
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for method, group in rosen.groupby("method", sort=False):
        timed = group[group["eval_s"].notna()]
        ax.plot(timed["dim"], timed["eval_s"], marker="o", label=method)
    forward = rosen.groupby("dim")["forward_s"].median()
    ax.plot(forward.index, forward.to_numpy(), color="black", linestyle="--", label="forward (numpy)")
    _finish(ax, "n", "seconds per gradient (median)", "Rosenbrock: gradient time against n")
    return save_figure(fig, path)


def step_curve(steps: pd.DataFrame, path: Path) -> Path:
    """Central-difference error against the relative step: the V-shaped curve."""
    plt = _figure()
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for name, group in steps.groupby("function", sort=False):
        scanned = group[~group["rule"]].sort_values("step")
        ax.plot(scanned["step"], np.maximum(scanned["norm_rel_err"], FLOOR), marker=".", label=name)
    rule = steps.loc[steps["rule"], "step"]
    if len(rule):
        ax.axvline(rule.iloc[0], color="black", linestyle="--", label="h = cbrt(eps)")
    title = "Central differences: truncation (h^2) against rounding (eps/h)"
    _finish(ax, "relative step h", "normwise relative error", title)
    return save_figure(fig, path)


def swell_curve(swell: pd.DataFrame, path: Path) -> Path:
    """SymPy derivative size with and without CSE, and tape nodes, against depth."""
    plt = _figure()
    fig, ax = plt.subplots(figsize=(7, 4.5))
    curves = {"expr_ops": "SymPy derivative, operations", "cse_ops": "after CSE", "tape_nodes": "tape nodes"}
    for column, label in curves.items():
        if swell[column].notna().any():  # a study limited by --methods leaves a column empty
            ax.plot(swell["depth"], swell[column], marker="o", label=label)
    _finish(ax, "nesting depth k", "size", "Expression swell: u_k = sin(u_{k-1}) u_{k-1} + x1", log_x=False)
    return save_figure(fig, path)


#: The table each plot draws, its file and the function that draws it.
_PLOTS = (
    ("results", "error_by_method.png", error_by_method),
    ("scaling", "time_vs_n.png", time_versus_n),
    ("steps", "step_study.png", step_curve),
    ("swell", "expression_swell.png", swell_curve),
)

#: Every file :func:`plot_all` can write.
PLOT_FILES = tuple(name for _, name, _ in _PLOTS)


def plot_all(folder: Path, results=None, scaling=None, steps=None, swell=None) -> list[Path]:
    """Draw every plot whose data is given; returns the files written."""
    folder = Path(folder)
    tables = {"results": results, "scaling": scaling, "steps": steps, "swell": swell}
    drawn = []
    for table, name, draw in _PLOTS:
        if tables[table] is not None and len(tables[table]):
            drawn.append(draw(tables[table], folder / name))
    _figure().close("all")
    return drawn
