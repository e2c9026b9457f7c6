"""The comparison, the same as ``diffcompare compare`` (``--out reports`` rewrites the committed reports)."""

import sys

from diffcompare.harness.cli import main

if __name__ == "__main__":
    sys.exit(main(["compare", *sys.argv[1:]]))
