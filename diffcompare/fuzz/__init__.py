"""Differential fuzzing: random expressions, every method, the 50-digit truth, classified.

One module per job: :mod:`~diffcompare.fuzz.expression` (the node-table record, its
printer and evaluator), :mod:`~diffcompare.fuzz.domains` (enclosures, fuzz domains and
the wrappers that keep arguments inside them), :mod:`~diffcompare.fuzz.generator` (the
seeded builder and the hypothesis strategy), :mod:`~diffcompare.fuzz.fit` (its second
pass, which moves arguments into their domains), :mod:`~diffcompare.fuzz.classify` (bounds
and classifications), :mod:`~diffcompare.fuzz.evidence` (rounding amplification and
localization), :mod:`~diffcompare.fuzz.runner` (one expression, many in parallel, locally
or on a Dask cluster), :mod:`~diffcompare.fuzz.report` (``fuzz.csv``, ``fuzz_summary.md``
and ``fuzz_run.json``) and :mod:`~diffcompare.fuzz.shards` (a campaign split over
machines and merged again).

>>> from diffcompare.fuzz import build_expression, fuzz_expression
>>> case = fuzz_expression(build_expression(4))
>>> case.expression.text, case.verdicts
('arctanh(0.57 * arctan(x[2]))', ())
"""

from .classify import BOUNDS, CLASSIFICATIONS, KNOWN_LIMITS, Bound, MethodResult, Verdict, classify
from .expression import Expression, Node, expression_text, make_function
from .generator import build_expression, expressions
from .runner import FuzzCase, fuzz_expression, fuzz_seed, run_fuzz

__all__ = [
    "BOUNDS",
    "Bound",
    "CLASSIFICATIONS",
    "Expression",
    "FuzzCase",
    "KNOWN_LIMITS",
    "MethodResult",
    "Node",
    "Verdict",
    "build_expression",
    "classify",
    "expression_text",
    "expressions",
    "fuzz_expression",
    "fuzz_seed",
    "make_function",
    "run_fuzz",
]
