"""The accuracy table: every suite function, point and method against the reference.

One failing case becomes a row with its status and message; the run goes on.  Files
are written atomically (to a temporary name, then renamed), so an interrupted run
never leaves half a file.
"""

from __future__ import annotations

import os
import tempfile
import warnings
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from .accuracy import gradient_error
from .methods import METHODS
from .records import SuiteFunction
from .reference import PreparedReference

__all__ = ["COLUMNS", "STATUSES", "accuracy_table", "summarise", "write_reports"]

#: Row statuses: ``ok``; ``nonfinite`` (the method or the reference gives inf/nan);
#: ``error`` (something raised); ``unsupported`` (no reference for this size).
STATUSES = ("ok", "nonfinite", "error", "unsupported")

COLUMNS = [
    "function", "dim", "point", "kind", "method", "status",
    "max_rel_err", "norm_rel_err", "median_rel_err", "max_ulp_err", "median_ulp_err", "max_abs_err",
    "message", "x",
]  # fmt: skip

_REFERENCE_STATUS = {
    "nonfinite": "nonfinite",
    "unstable": "error",
    "too_large": "unsupported",
    "error": "error",
}


def _row(record, label, kind, point, method, status, message="", error=None):
    row = {
        "function": record.name, "dim": record.dim, "point": label, "kind": kind,
        "method": method, "status": status, "message": message,
        "x": " ".join(repr(float(v)) for v in point),
    }  # fmt: skip
    for column in COLUMNS[6:12]:
        row[column] = getattr(error, column) if error is not None else np.nan
    return row


def _points(record: SuiteFunction):
    for i, point in enumerate(record.points):
        yield f"ordinary-{i}", "ordinary", point
    for i, hard in enumerate(record.hard_points):
        yield f"{hard.tag}-{i}", hard.tag, np.array(hard.x)


def _function_rows(record: SuiteFunction, methods: Sequence[str]) -> list[dict]:
    try:
        reference = PreparedReference(record.f, record.dim)
        failure = None
    except Exception as error:  # a function SymPy cannot trace: every row says so
        reference, failure = None, f"reference: {type(error).__name__}: {error}"
    prepared, setup_failures = {}, {}
    for method in methods:
        try:
            prepared[method] = METHODS[method].prepare(record.f, record.dim)
        except Exception as error:
            setup_failures[method] = f"{type(error).__name__}: {error}"
    rows = []
    for label, kind, point in _points(record):
        truth = reference(point) if reference is not None else None
        for method in methods:
            if method in setup_failures:
                rows.append(_row(record, label, kind, point, method, "error", setup_failures[method]))
                continue
            if truth is None or truth.status != "ok":
                message = failure or f"reference {truth.status}: {truth.message}"
                status = "error" if truth is None else _REFERENCE_STATUS[truth.status]
                rows.append(_row(record, label, kind, point, method, status, message))
                continue
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)
                    value = prepared[method].gradient(point)
            except Exception as error:
                rows.append(
                    _row(record, label, kind, point, method, "error", f"{type(error).__name__}: {error}")
                )
                continue
            error = gradient_error(value, truth.value)
            if not np.all(np.isfinite(value)):
                rows.append(
                    _row(record, label, kind, point, method, "nonfinite", "gradient has inf or nan", error)
                )
            else:
                rows.append(_row(record, label, kind, point, method, "ok", "", error))
    return rows


def accuracy_table(
    records: Iterable[SuiteFunction],
    methods: Sequence[str] = tuple(METHODS),
    progress: Callable[[str], None] | None = None,
) -> pd.DataFrame:
    """One row per (function, point, method): errors against the reference.

    Parameters
    ----------
    records : iterable of SuiteFunction
        Functions to evaluate (e.g. ``diffcompare.suite()``).
    methods : sequence of str
        Method names from :data:`diffcompare.METHODS`.
    progress : callable, optional
        Called with each function's name before it is evaluated.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`COLUMNS`.
    """
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        raise ValueError(f"unknown methods {unknown}; expected some of {', '.join(METHODS)}")
    rows = []
    for record in records:
        if progress is not None:
            progress(record.name)
        rows.extend(_function_rows(record, methods))
    return pd.DataFrame(rows, columns=COLUMNS)


def summarise(table: pd.DataFrame) -> pd.DataFrame:
    """Per method and kind of point (ordinary or hard): rows, ok rows and error statistics."""
    table = table.assign(kind=np.where(table["kind"] == "ordinary", "ordinary", "hard"))
    ok = table[table["status"] == "ok"]
    grouped = ok.groupby(["kind", "method"], sort=False)
    summary = pd.DataFrame(
        {
            "max_norm_rel_err": grouped["norm_rel_err"].max(),
            "median_max_ulp_err": grouped["max_ulp_err"].median(),
            "share_within_4_ulp": grouped["max_ulp_err"].apply(lambda s: float(np.mean(s <= 4))),
        }
    )
    counts = table.groupby(["kind", "method"], sort=False).agg(
        rows=("status", "size"), ok=("status", lambda s: int(np.sum(s == "ok")))
    )
    return counts.join(summary).reset_index()


def _atomic_write(path: Path, text: str) -> None:
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "w") as stream:
            stream.write(text)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def _markdown_table(frame: pd.DataFrame) -> str:
    def cell(value):
        if isinstance(value, float):
            return f"{value:.3g}"
        return str(value)

    lines = ["| " + " | ".join(frame.columns) + " |", "|" + "---|" * len(frame.columns)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join(lines)


def write_reports(table: pd.DataFrame, folder: str | os.PathLike) -> list[Path]:
    """Write ``accuracy.csv`` and ``accuracy.md`` into ``folder``; return their paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    csv_path, md_path = folder / "accuracy.csv", folder / "accuracy.md"
    _atomic_write(csv_path, table.to_csv(index=False, float_format="%.6g"))
    ordinary = table[(table["kind"] == "ordinary") & (table["status"] == "ok")]
    per_function = ordinary.pivot_table(
        index="function", columns="method", values="max_ulp_err", aggfunc="max", sort=False
    )
    hard = table[table["kind"] != "ordinary"][
        ["function", "point", "method", "status", "max_ulp_err", "norm_rel_err"]
    ]
    text = "\n\n".join(
        [
            "# Accuracy against the 50-digit reference",
            "Errors of each method's gradient against SymPy's derivative evaluated with certified "
            "50-digit precision and rounded to float64. `norm_rel_err` is max|g - ref| / max|ref|; "
            "ulp errors are componentwise, in units of the reference's last place.",
            "## Summary",
            _markdown_table(summarise(table)),
            "## Worst componentwise error at ordinary points (ulp)",
            _markdown_table(per_function.reset_index()),
            "## Hard points",
            _markdown_table(hard),
        ]
    )
    _atomic_write(md_path, text + "\n")
    return [csv_path, md_path]
