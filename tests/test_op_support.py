"""The README's table of operations is the code's: probed by running every method."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np
import pytest

from diffcompare.methods import METHODS
from diffcompare.ops import DERIVED, OPS
from diffcompare.ops.support import PROBES, probe_names, support_markdown, support_table

README = Path(__file__).resolve().parents[1] / "README.md"
START, END = (
    "<!-- operations table: python -m diffcompare.ops.support -->",
    "<!-- end of the operations table -->",
)

#: Methods whose gradient is exact up to rounding, and how close they must come to the tape.
EXACT = ("symbolic", "symbolic_vector", "symengine", "autograd", "forward", "complex_step")


@pytest.fixture(scope="module")
def gradients():
    """Every method's gradient on every probe, or None where it refused by name."""
    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import diffcompare

        for op, probe in PROBES.items():
            for method in METHODS:
                try:
                    out[op, method] = diffcompare.grad(probe.f, method)(np.array(probe.point))
                except NotImplementedError:
                    out[op, method] = None
    return out


def test_every_operation_has_one_probe():
    assert list(PROBES) == probe_names()
    assert set(PROBES) == set(OPS) | set(DERIVED)


def test_the_readme_table_is_the_codes():
    text = README.read_text()
    match = re.search(re.escape(START) + r"\n(.*?)" + re.escape(END), text, re.S)
    assert match, "the README has no generated table of operations"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        generated = support_markdown(support_table())
    assert match.group(1) == generated, "run python -m diffcompare.ops.support and paste its table"


@pytest.mark.parametrize("op", list(PROBES))
def test_what_the_table_calls_supported_is_right(op, gradients):
    # "yes" means the right number: every exact method agrees with the tape to 1e-10,
    # the differences to 1e-6 (every probe is smooth at its point).
    tape = gradients[op, "tape"]
    assert tape is not None and np.all(np.isfinite(tape))
    scale = np.max(np.abs(tape)) or 1.0
    for method in METHODS:
        value = gradients[op, method]
        if value is None or method == "tape":
            continue
        tolerance = 1e-10 if method in EXACT else 1e-6
        assert np.max(np.abs(value - tape)) <= tolerance * scale, (op, method, value, tape)


def test_the_tracing_methods_refuse_only_what_they_cannot_express(gradients):
    # The tape, forward mode, autograd and the methods that evaluate f support every
    # operation; SymPy's refusals are named in the README (sort, eigh).
    for op in PROBES:
        for method in ("tape", "forward", "autograd", "central", "richardson"):
            assert gradients[op, method] is not None, (op, method)
    refused = {op for op in PROBES if gradients[op, "symbolic"] is None}
    assert refused == {"sort", "linalg.eigh"}
