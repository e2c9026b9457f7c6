"""The fuzzing run's files: ``fuzz.csv`` (one row per disagreement), ``fuzz_summary.md``
(the counts) and ``fuzz_run.json`` (workers, shards and times)."""

from __future__ import annotations

import collections
import csv
import io
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..harness.report import atomic_write
from .classify import CLASSIFICATIONS, EXPLAINED, ROUNDING_UNIT
from .runner import FuzzCase

__all__ = ["CSV_COLUMNS", "disagreement_rows", "run_log", "summary_markdown", "write_reports"]

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


def summary_markdown(cases: Sequence[FuzzCase], settings: dict) -> str:
    """The summary: counts per classification and method, bugs, conditioning, coverage.

    It depends only on the cases' expressions and verdicts, never on how they were run
    (workers, shards, time: see :func:`run_log`), so the same seeds give the same text.

    Parameters
    ----------
    cases : sequence of FuzzCase
    settings : dict
        Shown as given (seed range, generator limits).

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
    lines += [
        f"- expressions: {len(cases)}",
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


def run_log(cases: Sequence[FuzzCase], run: dict) -> dict:
    """How the run went: ``run`` (workers, runtime, shards) and the time per expression.

    Parameters
    ----------
    cases : sequence of FuzzCase
    run : dict
        What the caller knows: workers or scheduler, wall-clock ``runtime_s``, shards.

    Returns
    -------
    dict
        ``run`` with ``expressions`` and ``seconds_per_expression`` (median, 99th
        percentile, max) added.
    """
    seconds = np.array([c.seconds for c in cases]) if cases else np.zeros(1)
    quantiles = (np.median(seconds), np.percentile(seconds, 99), seconds.max())
    per_expression = dict(zip(("median", "p99", "max"), (round(float(q), 4) for q in quantiles), strict=True))
    return {**run, "expressions": len(cases), "seconds_per_expression": per_expression}


def write_reports(cases: Sequence[FuzzCase], out: Path, settings: dict, run: dict) -> tuple[Path, Path, Path]:
    """Write ``fuzz.csv``, ``fuzz_summary.md`` and ``fuzz_run.json`` into ``out``, atomically.

    The first two depend only on the cases (the same seeds give the same bytes, however
    the run was split); ``fuzz_run.json`` is :func:`run_log`.

    Parameters
    ----------
    cases : sequence of FuzzCase
    out : Path
        Created if needed.
    settings : dict
        The summary's header (see :func:`summary_markdown`).
    run : dict
        See :func:`run_log`.

    Returns
    -------
    tuple of Path
        The three paths.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(disagreement_rows(cases))
    csv_path = atomic_write(out / "fuzz.csv", buffer.getvalue())
    md_path = atomic_write(out / "fuzz_summary.md", summary_markdown(cases, settings))
    log_path = atomic_write(out / "fuzz_run.json", json.dumps(run_log(cases, run), indent=2) + "\n")
    return csv_path, md_path, log_path
