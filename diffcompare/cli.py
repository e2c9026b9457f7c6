"""The ``diffcompare`` command line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from .methods import METHODS
from .records import suite
from .report import accuracy_table, summarise, write_reports

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="diffcompare", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    compare = commands.add_parser(
        "compare", help="score every method on the suite against the 50-digit reference"
    )
    compare.add_argument("--functions", nargs="+", metavar="NAME", help="suite functions (default: all)")
    compare.add_argument(
        "--methods",
        nargs="+",
        metavar="NAME",
        choices=list(METHODS),
        default=list(METHODS),
        help=f"methods (default: all of {', '.join(METHODS)})",
    )
    compare.add_argument("--out", default="reports", help="output folder (default: reports)")
    compare.add_argument("--quiet", action="store_true", help="print nothing but errors")
    commands.add_parser("list", help="list the suite's functions")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = _parser().parse_args(argv)
    if args.command == "list":
        for record in suite():
            print(f"{record.name:24s} dim={record.dim:<3d} {record.notes}")
        return 0
    try:
        records = suite(args.functions)
    except ValueError as error:
        print(f"diffcompare: {error}", file=sys.stderr)
        return 2
    progress = None if args.quiet else (lambda name: print(f"  {name}", file=sys.stderr, flush=True))
    table = accuracy_table(records, args.methods, progress=progress)
    paths = write_reports(table, args.out)
    if not args.quiet:
        print(summarise(table).to_string(index=False))
        for path in paths:
            print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
