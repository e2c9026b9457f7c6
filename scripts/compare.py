"""Produce the comparison reports in reports/ (same as ``diffcompare compare``)."""

import sys

from diffcompare.harness.cli import main

if __name__ == "__main__":
    sys.exit(main(["compare", *sys.argv[1:]]))
