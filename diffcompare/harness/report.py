"""Writing the reports: tidy CSVs, a summary, run metadata, Markdown and plots.

Every file is written atomically (to a temporary name in the same folder, then
renamed), so an interrupted run never leaves half a file: a reader sees the previous
version or the new one.  ``meta.json`` lists the files a run wrote (``files``); the next
run into the same folder removes those of them it does not write again, so a folder
never mixes two runs, and never touches a file it did not write.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import tempfile
from collections.abc import Sequence
from importlib import metadata as package_metadata
from pathlib import Path

import numpy as np
import pandas as pd

from .. import __version__
from ..suite.records import SEED
from . import plots
from .timing import blas_thread_settings

__all__ = [
    "REPORT_FILES",
    "atomic_write",
    "mlp_timing_table",
    "operator_summary",
    "run_metadata",
    "summarise",
    "write_reports",
]

#: Each table :func:`write_reports` writes and its file.
_TABLES = (
    ("results", "results.csv"),
    ("summary", "summary.csv"),
    ("scaling", "scaling.csv"),
    ("swell", "swell.csv"),
    ("steps", "step_study.csv"),
    ("mlp_layers", "mlp_layers.csv"),
    ("operators", "operators.csv"),
)

#: Every file :func:`write_reports` can write: the only names a later run may remove.
REPORT_FILES = (*(name for _, name in _TABLES), "summary.md", *plots.PLOT_FILES, "meta.json")


def atomic_write(path: Path, text: str) -> Path:
    """Write ``text`` to ``path`` so that ``path`` is never seen half-written."""
    path = Path(path)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.chmod(temporary, 0o644)  # mkstemp's 0600 would hide reports from other users
        with os.fdopen(handle, "w") as stream:
            stream.write(text)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise
    return path


def summarise(results: pd.DataFrame) -> pd.DataFrame:
    """Per kind of point and method: counts, accuracy and speed.

    The kinds are ``ordinary`` (drawn from the domain), ``point`` (given by the caller)
    and ``hard`` (every tagged hard point).  Accuracy comes from the ``ok`` rows only;
    ``max_dir_rel_err`` from the ``directional`` rows (the error along one random
    direction, where there is no full reference); ``max_consensus_dist`` from the
    ``no_reference`` rows (agreement with the other methods, not accuracy); times from
    all three.
    """
    kind = results["kind"]
    results = results.assign(kind=np.where(kind.isin(["ordinary", "point"]), kind, "hard"))
    keys = ["kind", "method"]
    counts = results.groupby(keys, sort=False).agg(
        rows=("status", "size"),
        ok=("status", lambda s: int(np.sum(s == "ok"))),
        directional=("status", lambda s: int(np.sum(s == "directional"))),
        no_reference=("status", lambda s: int(np.sum(s == "no_reference"))),
    )
    ok = results[results["status"] == "ok"]
    accuracy = ok.groupby(keys, sort=False).agg(
        max_norm_rel_err=("norm_rel_err", "max"),
        median_norm_rel_err=("norm_rel_err", "median"),
        median_max_ulp_err=("max_ulp_err", "median"),
        share_within_4_ulp=("max_ulp_err", lambda s: float(np.mean(s <= 4))),
    )
    along = results[results["status"] == "directional"]
    directional = along.groupby(keys, sort=False).agg(max_dir_rel_err=("dir_rel_err", "max"))
    # Rows without a reference were timed too; their agreement is kept apart from the errors.
    unscored = results[results["status"] == "no_reference"]
    agreement = unscored.groupby(keys, sort=False).agg(max_consensus_dist=("consensus_dist", "max"))
    timed = results[results["status"].isin(["ok", "directional", "no_reference"])]
    speed = timed.groupby(keys, sort=False).agg(
        median_setup_s=("setup_s", "median"),
        median_eval_s=("eval_s", "median"),
        median_ratio_to_forward=("ratio_to_forward", "median"),
        median_f_evals=("f_evals", "median"),
    )
    return counts.join(accuracy).join(directional).join(agreement).join(speed).reset_index()


def mlp_timing_table(mlp_layers: pd.DataFrame, network: str = "784-128-10") -> pd.DataFrame:
    """Seconds per gradient of each method on one network, and the rules/autograd ratio."""
    rows = mlp_layers[mlp_layers["network"] == network]
    times = rows.pivot_table(index=["activation", "loss"], columns="method", values="eval_s", aggfunc="first")
    times["rules_over_autograd"] = times["symbolic_rules"] / times["autograd"]
    return times.reset_index()


def _versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in ("diffcompare", "numpy", "sympy", "mpmath", "autograd", "pandas", "matplotlib"):
        try:
            versions[name] = package_metadata.version(name)
        except package_metadata.PackageNotFoundError:
            versions[name] = __version__ if name == "diffcompare" else "not installed"
    return versions


def run_metadata(argv: Sequence[str], seed: int | None, **extra) -> dict:
    """Versions, platform, BLAS threads, seed, command line and date of a run.

    ``blas_threads`` is what threadpoolctl reports where this is called: inside
    :func:`~diffcompare.harness.timing.one_blas_thread`, one thread per pool.
    """
    return {
        "versions": _versions(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "blas_threads": blas_thread_settings(),
        "seed": SEED if seed is None else seed,
        "command": " ".join(["diffcompare", *argv]),
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        **extra,
    }


def _markdown_table(frame: pd.DataFrame) -> str:
    def cell(value):
        if isinstance(value, float | np.floating):
            return "" if np.isnan(value) else f"{value:.3g}"
        return str(value)

    lines = ["| " + " | ".join(map(str, frame.columns)) + " |", "|" + "---|" * len(frame.columns)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join(lines)


def operator_summary(operators: pd.DataFrame) -> pd.DataFrame:
    """Per operator and method: cases, how many are ok, the worst and median normwise
    error against the 50-digit truth, and the median seconds per call."""
    ok = operators[operators["status"] == "ok"]
    keys = ["operator", "method"]
    counts = operators.groupby(keys, sort=False).agg(
        cases=("status", "size"), ok=("status", lambda s: int(np.sum(s == "ok")))
    )
    errors = ok.groupby(keys, sort=False).agg(
        worst_norm_rel_err=("norm_rel_err", "max"), median_norm_rel_err=("norm_rel_err", "median")
    )
    times = operators.groupby(keys, sort=False).agg(median_eval_s=("eval_s", "median"))
    return counts.join(errors).join(times).reset_index()


def _markdown(results, scaling, swell, steps, best, mlp_layers, meta, operators=None) -> str:
    parts = ["# diffcompare comparison", f"Command: `{meta.get('command', '')}`, {meta.get('date', '')}."]
    if meta.get("interrupted"):
        parts.append("**This run was interrupted; the tables hold what finished.**")
    if results is not None:
        parts += [
            "## Summary per method",
            "Errors against SymPy's derivative evaluated with certified 50-digit precision. "
            "`norm_rel_err` is max|g - ref| / max|ref|; ulp errors are componentwise. Times are "
            "medians; `ratio_to_forward` divides the gradient's time by the numpy forward pass.",
            _markdown_table(summarise(results)),
            "## Worst componentwise error at ordinary points (ulp)",
            _markdown_table(
                results[(results["kind"] == "ordinary") & (results["status"] == "ok")]
                .pivot_table(
                    index="function", columns="method", values="max_ulp_err", aggfunc="max", sort=False
                )
                .reset_index()
            ),
        ]
        along = results[results["status"] == "directional"]
        if len(along):
            parts += [
                "## Rows scored along a random direction",
                "No full 50-digit reference here (see the message): `dir_rel_err` is "
                "|g.v - t| / max(|g| |v|, |t|), with t the derivative along a seeded random direction v "
                "evaluated at 50 digits and checked at 100.",
                _markdown_table(along[["function", "dim", "point", "method", "dir_rel_err", "grad_max_abs"]]),
            ]
        unscored = results[results["status"] == "no_reference"]
        if len(unscored):
            parts += [
                "## Rows without a reference: agreement only",
                "No 50-digit truth here (see the message), so no error is measured. "
                "`consensus_dist` is max|g - c| / max|c| against the median c of the exact methods "
                "that agree pairwise within 1e-6; `agrees_with` lists the methods within 1e-6 of "
                "this one. Agreement is not accuracy: methods sharing a flaw agree on a wrong number.",
                _markdown_table(
                    unscored[["function", "point", "method", "grad_max_abs", "consensus_dist", "agrees_with"]]
                ),
            ]
        failed = results[~results["status"].isin(["ok", "directional", "no_reference"])]
        if len(failed):
            parts += [
                "## Rows that are not ok",
                _markdown_table(failed[["function", "point", "method", "status", "message"]]),
            ]
    skipped = {name: study for name, study in meta.get("studies", {}).items() if study["status"] != "done"}
    if skipped:
        parts += [
            "## Studies not run",
            "\n".join(f"- {name}: {study.get('reason', study['status'])}" for name, study in skipped.items()),
        ]
    if scaling is not None:
        view = scaling[
            ["study", "function", "dim", "method", "status", "setup_s", "eval_s", "ratio_to_forward"]
        ]
        parts += ["## Scaling", _markdown_table(view)]
    if swell is not None:
        parts += ["## Expression swell", _markdown_table(swell.drop(columns=["message"]))]
    if best is not None:
        parts += ["## Central-difference step: best against the cbrt(eps) rule", _markdown_table(best)]
    if mlp_layers is not None and len(mlp_layers):
        worst = mlp_layers.groupby(["network", "method"], sort=False)["max_rel_err"].max().reset_index()
        parts += [
            "## MLP: SymPy-derived layer rules against autograd and the tape",
            "Worst normwise relative error of any parameter block against the other two methods:",
            _markdown_table(worst),
        ]
        if (mlp_layers["network"] == "784-128-10").any():
            timing = _markdown_table(mlp_timing_table(mlp_layers))
            parts += ["784-128-10, batch 64, seconds per gradient:", timing]
    if operators is not None and len(operators):
        parts += [
            "## Jacobians, JVPs, VJPs, Hessians and HVPs",
            "Every operator method against the 50-digit Jacobian or Hessian (`operators.csv`): the "
            "Hessian and HVP of each suite function at its first ordinary point, the Jacobian, JVP "
            "and VJP of the suite's functions stacked by dimension at one drawn point. "
            "`norm_rel_err` is max|value - truth| / max|truth|.",
            _markdown_table(operator_summary(operators)),
        ]
        failed = operators[~operators["status"].isin(["ok"])]
        if len(failed):
            parts += [
                "Operator rows that are not ok:",
                _markdown_table(failed[["function", "point", "operator", "method", "status", "message"]]),
            ]
    return "\n\n".join(parts) + "\n"


def _previous_files(folder: Path) -> list[str]:
    """The files the previous run listed in ``folder/meta.json`` (none if unreadable)."""
    try:
        listed = json.loads((folder / "meta.json").read_text()).get("files", [])
    except (OSError, ValueError, AttributeError):
        return []
    return [name for name in listed if isinstance(name, str)] if isinstance(listed, list) else []


def write_reports(
    folder: str | os.PathLike,
    results: pd.DataFrame | None = None,
    scaling: pd.DataFrame | None = None,
    swell: pd.DataFrame | None = None,
    steps: pd.DataFrame | None = None,
    meta: dict | None = None,
    draw: bool = True,
    mlp_layers: pd.DataFrame | None = None,
    operators: pd.DataFrame | None = None,
) -> list[Path]:
    """Write every report whose data is given into ``folder``; return the paths written.

    Parameters
    ----------
    folder : str or path
        Created if missing.
    results, scaling, swell, steps, mlp_layers, operators : pandas.DataFrame, optional
        The tables of a run (``results`` as from :func:`~diffcompare.compare`,
        ``operators`` from :func:`~diffcompare.harness.operator_study.operator_study`).
    meta : dict, optional
        The run's metadata (:func:`run_metadata`); without it, what ``results.attrs``
        holds (:func:`~diffcompare.compare` records its BLAS threads there).
    draw : bool, optional
        Draw the PNG plots.

    Returns
    -------
    list of Path
        ``results.csv``, ``summary.csv``, ``scaling.csv``, ``swell.csv``,
        ``step_study.csv``, ``mlp_layers.csv``, ``operators.csv``, ``summary.md`` and the PNG plots, as far
        as their data is given, then ``meta.json``.

    Notes
    -----
    ``meta.json`` is written last and lists the files written (``files``) and the files
    of the previous run in ``folder`` that this one did not write again
    (``removed_stale``): those are then deleted.  Only names of :data:`REPORT_FILES`
    that the previous ``meta.json`` listed are ever deleted.
    """
    from .studies import best_steps

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    previous = _previous_files(folder)
    if meta is None:
        meta = dict(results.attrs) if results is not None else {}
    tables = {
        "results": results,
        "summary": summarise(results) if results is not None else None,
        "scaling": scaling,
        "swell": swell,
        "steps": steps,
        "mlp_layers": mlp_layers,
        "operators": operators,
    }
    written = [
        atomic_write(folder / name, tables[table].to_csv(index=False, float_format="%.6g"))
        for table, name in _TABLES
        if tables[table] is not None
    ]
    best = best_steps(steps) if steps is not None and len(steps) else None
    text = _markdown(results, scaling, swell, steps, best, mlp_layers, meta, operators)
    written.append(atomic_write(folder / "summary.md", text))
    if draw:
        written += plots.plot_all(folder, results=results, scaling=scaling, steps=steps, swell=swell)
    names = [path.name for path in written] + ["meta.json"]
    stale = [name for name in dict.fromkeys(previous) if name in REPORT_FILES and name not in names]
    meta = {**meta, "files": names, "removed_stale": stale}
    written.append(atomic_write(folder / "meta.json", json.dumps(meta, indent=2, default=str) + "\n"))
    for name in stale:
        (folder / name).unlink(missing_ok=True)
    return written
