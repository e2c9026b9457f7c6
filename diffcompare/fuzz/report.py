"""The fuzzing run's files: ``fuzz.csv`` (one row per disagreement) and ``fuzz_summary.md``."""

from __future__ import annotations

import collections
import csv
import io
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..harness.report import atomic_write
from .classify import CLASSIFICATIONS, EXPLAINED, ROUNDING_UNIT
from .runner import FuzzCase

__all__ = ["CSV_COLUMNS", "disagreement_rows", "summary_markdown", "write_reports"]

#: Columns of ``fuzz.csv``.
CSV_COLUMNS = (
    "seed",
    "dim",
    "expression",
    "point",
    "method",
    "classification",
    "norm_rel_err",
    "ulp_err",
    "amplification",
    "note",
)


def disagreement_rows(cases: Sequence[FuzzCase]) -> list[dict]:
    """One dict per verdict, in seed order, with the :data:`CSV_COLUMNS` keys."""
    rows = []
    for case in cases:
        e = case.expression
        for verdict in case.verdicts:
            rows.append(
                {
                    "seed": e.seed,
                    "dim": e.dim,
                    "expression": e.text,
                    "point": " ".join(repr(v) for v in e.point),
                    "method": verdict.method,
                    "classification": verdict.classification,
                    "norm_rel_err": f"{verdict.norm_rel_err:.3e}",
                    "ulp_err": f"{verdict.ulp_err:.4g}",
                    "amplification": f"{verdict.amplification:.3g}",
                    "note": verdict.note,
                }
            )
    return rows


def _table(header: Sequence[str], rows: Sequence[Sequence]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return lines


def _explained(verdict) -> bool:
    return verdict.norm_rel_err <= EXPLAINED * verdict.amplification * ROUNDING_UNIT


def summary_markdown(cases: Sequence[FuzzCase], runtime_s: float, settings: dict) -> str:
    """The summary: counts per classification and method, bugs, conditioning, coverage, time.

    Parameters
    ----------
    cases : sequence of FuzzCase
    runtime_s : float
        Wall-clock time of the whole run.
    settings : dict
        Shown as given (seed range, workers, limits).

    Returns
    -------
    str
        Markdown.
    """
    verdicts = [(case, v) for case in cases for v in case.verdicts]
    methods = list(cases[0].errors) if cases else []
    counts = collections.Counter((v.classification, v.method) for _, v in verdicts)
    lines = ["# Differential fuzzing", ""]
    lines += [f"- {key}: {value}" for key, value in settings.items()]
    seconds = np.array([c.seconds for c in cases]) if cases else np.zeros(1)
    lines += [
        f"- expressions: {len(cases)}; runtime {runtime_s:.1f} s wall "
        f"({len(cases) / max(runtime_s, 1e-9):.1f} expressions/s); per expression: median "
        f"{np.median(seconds) * 1e3:.0f} ms, 99th percentile {np.percentile(seconds, 99) * 1e3:.0f} ms, "
        f"max {seconds.max():.1f} s",
        "",
        "## Disagreements per classification and method",
        "",
    ]
    columns = [m for m in [*methods, "reference"] if any(k[1] == m for k in counts)]
    rows = [
        [c, *(counts.get((c, m), 0) for m in columns), sum(counts.get((c, m), 0) for m in columns)]
        for c in CLASSIFICATIONS
    ]
    lines += _table(["classification", *columns, "total"], rows) if columns else ["No disagreements."]
    statuses = collections.Counter(c.reference_status for c in cases)
    lines += ["", "Reference statuses: " + ", ".join(f"{s} {n}" for s, n in sorted(statuses.items())), ""]

    lines += ["## Rule bugs", ""]
    bugs = [(c, v) for c, v in verdicts if v.classification == "rule bug"]
    found = [f"- seed {c.expression.seed}, {v.method}: `{c.expression.text}`; {v.note}" for c, v in bugs]
    lines += found or ["None."]

    lines += ["", "## Method errors (grouped by message)", ""]
    errors = collections.defaultdict(list)
    for c, v in verdicts:
        if v.classification in ("method error", "timeout"):
            errors[(v.method, v.note[:120])].append(c)
    for (method, message), group in sorted(errors.items(), key=lambda kv: -len(kv[1])):
        shortest = min(group, key=lambda c: (len(c.expression.text), c.expression.seed))
        lines.append(
            f"- {method}, {len(group)} expressions: {message}; shortest: seed {shortest.expression.seed} "
            f"`{shortest.expression.text}`"
        )
    if not errors:
        lines.append("None.")

    lines += ["", "## Ill-conditioned", ""]
    ill = [(c, v) for c, v in verdicts if v.classification == "ill-conditioned"]
    explained = [pair for pair in ill if _explained(pair[1])]
    lines.append(
        f"{len(ill)} rows; {len(explained)} explained by the rounding amplification A of the derivative "
        f"(error <= {EXPLAINED:g} A u)."
    )
    lines += [
        f"- NOT explained: seed {c.expression.seed}, {v.method}: `{c.expression.text}`; {v.note}"
        for c, v in ill
        if not _explained(v)
    ]

    lines += ["", "## Formula limits (documented weak rules of SymPy and autograd)", ""]
    limits = collections.Counter(
        (v.method, v.note.split(":")[0]) for _, v in verdicts if v.classification == "formula limit"
    )
    lines += [f"- {m}: {n} ({why})" for (m, why), n in sorted(limits.items())] or ["None."]

    lines += ["", "## Accuracy of the methods (expressions with a certified reference)", ""]
    rows = []
    for m in methods:
        errs = np.array([c.errors[m] for c in cases if np.isfinite(c.errors[m])])
        if errs.size:
            quantiles = (np.median(errs), np.percentile(errs, 99), errs.max())
            rows.append([m, errs.size, *(f"{q:.2g}" for q in quantiles)])
    lines += _table(["method", "gradients", "median error", "99th percentile", "max"], rows)

    lines += ["", "## Coverage: expressions using each operation", ""]
    used = collections.Counter(op for c in cases for op in c.expression.ops())
    lines.append(", ".join(f"{op} {n}" for op, n in sorted(used.items())))
    return "\n".join(lines) + "\n"


def write_reports(
    cases: Sequence[FuzzCase], out: Path, runtime_s: float, settings: dict
) -> tuple[Path, Path]:
    """Write ``fuzz.csv`` and ``fuzz_summary.md`` into ``out`` (created if needed), atomically.

    Returns
    -------
    tuple of Path
        The two paths.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(disagreement_rows(cases))
    csv_path = atomic_write(out / "fuzz.csv", buffer.getvalue())
    md_path = atomic_write(out / "fuzz_summary.md", summary_markdown(cases, runtime_s, settings))
    return csv_path, md_path
