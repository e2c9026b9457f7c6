"""Fuzzing campaigns split over machines: a deterministic partition of the seeds and a merge.

A campaign is fixed by its seeds (``first_seed .. first_seed + n - 1``) and the generator's
limits; :func:`shard_seeds` gives shard ``k`` of ``N`` the seeds at positions
``k - 1, k - 1 + N, ...`` (round robin, so that slow stretches of seeds are shared out).
Each shard run writes a JSON file (:func:`write_shard`) holding its cases in full: the
expressions' node tables, the statuses, errors and verdicts, and how the run went.
:func:`merge_shards` checks that the files are the ``N`` shards of one campaign, each once,
and returns the cases in seed order, from which :func:`~diffcompare.fuzz.report.write_reports`
writes the same ``fuzz.csv`` and ``fuzz_summary.md``, byte for byte, as one unsharded run.

Floats are written with ``repr`` (JSON numbers read back to the same double); NaN and
infinities, which strict JSON has no numbers for, as the strings ``"nan"``, ``"inf"``,
``"-inf"``.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..harness.report import atomic_write
from .classify import Verdict
from .expression import Expression, Node
from .runner import FuzzCase

__all__ = [
    "Campaign",
    "merge_shards",
    "parse_shard",
    "read_shard",
    "shard_file_name",
    "shard_seeds",
    "write_shard",
]

FORMAT = "diffcompare fuzz shard"
VERSION = 1


@dataclass(frozen=True)
class Campaign:
    """What determines a fuzzing run's results: its seeds and the generator's limits.

    Attributes
    ----------
    first_seed : int
    n : int
        The seeds are ``first_seed .. first_seed + n - 1``.
    max_dim, max_depth : int
        Passed to :func:`~diffcompare.fuzz.generator.build_expression`.
    """

    first_seed: int
    n: int
    max_dim: int = 3
    max_depth: int = 4

    @property
    def seeds(self) -> range:
        return range(self.first_seed, self.first_seed + self.n)

    def settings(self) -> dict:
        """The lines of ``fuzz_summary.md``'s header."""
        return {
            "seeds": f"{self.first_seed} .. {self.first_seed + self.n - 1}",
            "max_dim": self.max_dim,
            "max_depth": self.max_depth,
        }


def parse_shard(text: str) -> tuple[int, int]:
    """``(k, N)`` from ``"k/N"``.

    Raises
    ------
    ValueError
        Unless ``text`` is two integers ``k/N`` with ``1 <= k <= N``.

    Examples
    --------
    >>> parse_shard("2/3")
    (2, 3)
    >>> parse_shard("4/3")
    Traceback (most recent call last):
    ...
    ValueError: shard must be k/N with 1 <= k <= N; got '4/3'
    """
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
    if match is None or not 1 <= int(match[1]) <= int(match[2]):
        raise ValueError(f"shard must be k/N with 1 <= k <= N; got {text!r}")
    return int(match[1]), int(match[2])


def shard_seeds(seeds: Sequence[int], k: int, count: int) -> Sequence[int]:
    """Shard ``k`` of ``count`` (1-based): the seeds at positions ``k - 1, k - 1 + count, ...``.

    The shards of any ``count`` partition ``seeds``: each seed is in exactly one.

    >>> list(shard_seeds(range(10), 2, 3))
    [1, 4, 7]
    """
    if not 1 <= k <= count:
        raise ValueError(f"shard must be k/N with 1 <= k <= N; got {k}/{count}")
    return seeds[k - 1 :: count]


def shard_file_name(k: int, count: int) -> str:
    """``fuzz_shard_2_of_3.json``."""
    return f"fuzz_shard_{k}_of_{count}.json"


def _number(value: float) -> float | str:
    value = float(value)
    return value if math.isfinite(value) else repr(value)


def _float(value: float | str) -> float:
    return float(value)  # float("nan"), float("inf") and float("-inf") read the strings back


def _tuples(value: Any) -> Any:
    """JSON arrays back to the tuples the node tables are made of (nested: array constants)."""
    return tuple(_tuples(v) for v in value) if isinstance(value, list) else value


def _node(node: Node) -> list:
    return [node.op, list(node.args), list(node.shape), node.params]


def _case_record(case: FuzzCase) -> dict:
    e = case.expression
    return {
        "seed": e.seed,
        "dim": e.dim,
        "point": [_number(v) for v in e.point],
        "box": [_number(v) for v in e.box],
        "nodes": [_node(node) for node in e.nodes],
        "reference_status": case.reference_status,
        "errors": {method: _number(error) for method, error in case.errors.items()},
        "verdicts": [
            {
                "method": v.method,
                "classification": v.classification,
                "norm_rel_err": _number(v.norm_rel_err),
                "ulp_err": _number(v.ulp_err),
                "note": v.note,
                "amplification": _number(v.amplification),
            }
            for v in case.verdicts
        ],
        "seconds": case.seconds,
    }


def _case(record: dict) -> FuzzCase:
    nodes = tuple(
        Node(op, _tuples(args), _tuples(shape), _tuples(params))
        for op, args, shape, params in record["nodes"]
    )
    expression = Expression(
        record["seed"],
        record["dim"],
        nodes,
        tuple(_float(v) for v in record["point"]),
        tuple(_float(v) for v in record["box"]),
    )
    verdicts = tuple(
        Verdict(
            v["method"],
            v["classification"],
            _float(v["norm_rel_err"]),
            _float(v["ulp_err"]),
            v["note"],
            _float(v["amplification"]),
        )
        for v in record["verdicts"]
    )
    errors = {method: _float(error) for method, error in record["errors"].items()}
    return FuzzCase(expression, record["reference_status"], errors, verdicts, record["seconds"])


def _plain(value: Any) -> Any:
    # numpy scalars in a node's parameters (an axis, a constant) as plain numbers
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"cannot write {type(value).__name__} to a shard file")


def write_shard(
    path: str | Path, cases: Sequence[FuzzCase], campaign: Campaign, k: int, count: int, run: dict
) -> Path:
    """Write shard ``k`` of ``count`` of ``campaign`` to ``path`` (atomically).

    Parameters
    ----------
    path : str or Path
    cases : sequence of FuzzCase
        The cases of ``shard_seeds(campaign.seeds, k, count)``, in that order.
    campaign : Campaign
    k, count : int
    run : dict
        How the shard ran (workers, runtime); kept for the merged run log.

    Returns
    -------
    Path

    Raises
    ------
    ValueError
        If the cases are not those of the shard.
    """
    expected = list(shard_seeds(campaign.seeds, k, count))
    if [case.expression.seed for case in cases] != expected:
        raise ValueError(f"cases must be those of shard {k}/{count}, seeds {expected[:3]}... in order")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "format": FORMAT,
        "version": VERSION,
        "campaign": vars(campaign),
        "shard": [k, count],
        "run": run,
        "cases": [_case_record(case) for case in cases],
    }
    return atomic_write(path, json.dumps(document, allow_nan=False, default=_plain) + "\n")


def read_shard(path: str | Path) -> tuple[Campaign, int, int, dict, list[FuzzCase]]:
    """``(campaign, k, count, run, cases)`` of a file written by :func:`write_shard`.

    Raises
    ------
    ValueError
        If the file is not a shard file of this version.
    """
    path = Path(path)
    try:
        document = json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise ValueError(f"{path} is not a fuzz shard file: {error}") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ValueError(f"{path} is not a fuzz shard file (no format {FORMAT!r})")
    if document.get("version") != VERSION:
        raise ValueError(f"{path} is a fuzz shard file of version {document.get('version')}, not {VERSION}")
    k, count = document["shard"]
    cases = [_case(record) for record in document["cases"]]
    return Campaign(**document["campaign"]), k, count, document["run"], cases


def merge_shards(paths: Iterable[str | Path]) -> tuple[Campaign, list[dict], list[FuzzCase]]:
    """The cases of a whole campaign, in seed order, from the files of all its shards.

    Parameters
    ----------
    paths : iterable of str or Path
        Shard files, in any order.

    Returns
    -------
    campaign : Campaign
    runs : list of dict
        Each shard's run record, by shard, with ``"shard": "k/N"`` added.
    cases : list of FuzzCase

    Raises
    ------
    ValueError
        If no file is given, if the files belong to different campaigns or splits, if a
        shard is missing or given twice, or if a shard does not hold its own seeds.
    """
    shards = {}
    campaign = count = None
    for path in paths:
        this_campaign, k, this_count, run, cases = read_shard(path)
        if campaign is None:
            campaign, count = this_campaign, this_count
        if this_campaign != campaign:
            raise ValueError(f"{path} is a shard of another campaign: {this_campaign} instead of {campaign}")
        if this_count != count:
            raise ValueError(f"{path} is shard {k}/{this_count}, the others are shards of {count}")
        if k in shards:
            raise ValueError(f"shard {k}/{count} is given twice ({shards[k][0]} and {path})")
        if [c.expression.seed for c in cases] != list(shard_seeds(campaign.seeds, k, count)):
            raise ValueError(f"{path} does not hold the seeds of shard {k}/{count}")
        shards[k] = (path, run, cases)
    if campaign is None:
        raise ValueError("no shard files to merge")
    missing = [f"{k}/{count}" for k in range(1, count + 1) if k not in shards]
    if missing:
        raise ValueError(f"missing shards {', '.join(missing)} of the campaign {campaign}")
    # Shard k holds positions k - 1, k - 1 + N, ...: position i is case i // N of shard i % N + 1.
    cases = [shards[i % count + 1][2][i // count] for i in range(campaign.n)]
    runs = [{"shard": f"{k}/{count}", **shards[k][1]} for k in range(1, count + 1)]
    return campaign, runs, cases
