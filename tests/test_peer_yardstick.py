"""The peer yardstick script: its table, its classification and its report cannot rot.

The table's facts are checked against the libraries (every numpy/scipy name exists, in
autograd too) and, where the peer's source is on this machine, against the peer's
tests.  Each status is produced by a record built to produce it (a deliberately wrong
twin must be caught), and the table itself is sound: in a namespace that has every
twin (numpy and scipy themselves), central differences agree with autograd on the
records sampled here, and on all of them in the slow run.
"""

from __future__ import annotations

import csv
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import diffcompare

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "peer_yardstick.py"
#: A git clone of autograd's repository, if the environment names one (the check that
#: the table cites every gradient test of the peer runs only then).
PEER_REPOSITORY = Path(os.environ.get("AUTOGRAD_SOURCE", "/nonexistent"))


def load_script():
    spec = importlib.util.spec_from_file_location("peer_yardstick_script", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the script runs
    spec.loader.exec_module(module)
    return module


yardstick = load_script()
TABLE = yardstick.TABLE
APPLICABLE = [entry for entry in TABLE if not entry.skip]


def entry(key: str):
    (found,) = [e for e in TABLE if e.key == key]
    return found


# One record per category (the handful the fast run measures end to end).
SAMPLE = [
    "numpy.sin",
    "numpy.var [ddof=2]",
    "x[[0, 1, 0]] [repeated indices]",
    "numpy.linalg.slogdet",
    "scipy.special.gammaln",
    "scipy.stats.norm.logpdf [broadcast]",
    "numpy.fft.rfft [axis=0]",
    "numpy.linspace [traced endpoints]",
]


class PlainNumpy:
    """numpy in which the record's xp spelling leads to the record's own numpy/scipy function.

    With it, ``f(x, xp)`` of a record is the peer's computation on plain arrays, which
    central differences can differentiate whatever diffcompare supports.
    """

    backend = "numpy"

    def __init__(self, path: str | None, target, fallback=np):
        self._path, self._target, self._fallback = path or "", target, fallback

    def __getattr__(self, name):
        head, _, rest = self._path.partition(".")
        if name == head:
            return (
                PlainNumpy(rest, self._target, getattr(self._fallback, name, None)) if rest else self._target
            )
        return getattr(self._fallback, name)


def plain_central_gradient(record):
    x, weights, reference = yardstick.peer_reference(record)
    xp = PlainNumpy(
        yardstick.twin_path(record), yardstick.resolve(record.name) if yardstick.is_function(record) else None
    )
    f = yardstick.scalar_function(record, weights, lambda m: yardstick.twin_function(record, m))
    return diffcompare.central_difference(f, x, xp), reference


def test_keys_are_unique_and_categories_known():
    keys = [e.key for e in TABLE]
    assert len(keys) == len(set(keys)), [k for k in keys if keys.count(k) > 1]
    assert {e.category for e in TABLE} == set(yardstick.CATEGORIES)
    assert all(e.tests for e in TABLE)
    assert all(bool(e.skip) != bool(e.call) for e in TABLE)


def test_every_call_compiles_with_its_inputs():
    for record in APPLICABLE:
        call = yardstick.compiled(record)
        assert call.__code__.co_argcount == 2 + len(record.args), record.key


@pytest.mark.parametrize("prefix", ["numpy", "scipy", "operator", "builtins"])
def test_named_functions_exist_in_their_library_and_in_autograd(prefix):
    records = [e for e in TABLE if e.name.split(".")[0] == prefix]
    assert records
    for record in records:
        assert callable(yardstick.resolve(record.name)) or record.name in ("numpy.r_", "numpy.c_"), record.key
        if not record.skip:
            assert yardstick.peer_function(record) is not None, record.key


def test_peer_tests_are_named_by_file_and_test():
    for record in TABLE:
        for test_id in yardstick.peer_test_ids(record):
            file, _, test = test_id.partition("::")
            assert file in yardstick.PEER_FILES.values() and test.startswith("test_"), test_id


@pytest.mark.skipif(
    not PEER_REPOSITORY.exists(),
    reason="set AUTOGRAD_SOURCE to a clone of autograd to check the table against it",
)
def test_peer_tests_exist_at_the_recorded_commit():
    for file in yardstick.PEER_FILES.values():
        source = subprocess.run(
            ["git", "-C", str(PEER_REPOSITORY), "show", f"{yardstick.PEER_COMMIT}:{file}"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        cited = {
            test
            for r in TABLE
            for f, _, test in map(lambda t: t.partition("::"), yardstick.peer_test_ids(r))
            if f == file
        }
        defined = {
            line.split("(")[0].split()[-1]
            for line in source.splitlines()
            if line.lstrip().startswith("def test_")
        }
        assert cited <= defined, (file, cited - defined)
        # every gradient test of the file is cited, except those that check no gradient
        uncited = (
            defined
            - cited
            - {
                "test_numpy_version",
                "test_comparison_values",
                "test_rfftn_odd_not_implemented",
                "test_convolve_generalization",
                "test_msort",
            }
        )
        assert not uncited, (file, sorted(uncited))


@pytest.mark.parametrize(
    ("name", "twin"),
    [
        ("numpy.var", "xp.var"),
        ("numpy.linalg.slogdet", "xp.linalg.slogdet"),
        ("numpy.fft.rfft", "xp.fft.rfft"),
        ("scipy.special.gammaln", "xp.gammaln"),
        ("scipy.stats.norm.logpdf", "xp.stats.norm.logpdf"),
        ("scipy.linalg.sqrtm", "xp.linalg.sqrtm"),
        ("operator.mod", "operator.mod"),
        ("x[2:4]", ""),
    ],
)
def test_twin_spelling(name, twin):
    record = yardstick.E(name, "", yardstick.OTHER, yardstick.A(3), "F(a)", "sys:test_sin")
    assert yardstick.twin_label(record) == twin


def test_twin_override_is_used():
    assert yardstick.twin_label(entry("scipy.special.expit")) == "xp.sigmoid"
    assert yardstick.twin_label(entry("numpy.array [of traced scalars]")) == "xp.asarray"


def test_a_supported_function_is_direct_for_every_method():
    result = yardstick.measure(entry("numpy.sin"))
    assert result.status == "direct", result.message
    assert all(result.methods[m].startswith("ok ") for m in yardstick.TOLERANCE)


def test_a_wrong_twin_is_caught():
    # cos is not the derivative-preserving twin of sin: the yardstick must say "wrong".
    record = yardstick.E(
        "numpy.sin", "wrong twin", yardstick.ELEM, yardstick.A(3, 2), "F(a)", "sys:test_sin", twin="cos"
    )
    result = yardstick.measure(record)
    assert result.status == "wrong"
    assert all(result.methods[m].startswith("wrong ") for m in yardstick.TOLERANCE)
    assert "tape, forward: normwise relative error" in result.message
    assert "central: normwise relative error" in result.message


def test_a_missing_operation_is_refused_by_name():
    record = yardstick.E(
        "numpy.sin", "absent twin", yardstick.ELEM, yardstick.A(3), "F(a)", "sys:test_sin", twin="no_such_op"
    )
    result = yardstick.measure(record)
    assert result.status == "refused"
    assert set(result.methods.values()) == {"refused"}
    assert "'no_such_op'" in result.message


def test_a_crash_that_is_no_refusal_is_an_error():
    # xp.pi is a number: calling it raises TypeError, which names no missing operation.
    record = yardstick.E(
        "numpy.sin", "not callable", yardstick.ELEM, yardstick.A(3), "F(a)", "sys:test_sin", twin="pi"
    )
    result = yardstick.measure(record)
    assert result.status == "error"
    assert "TypeError" in result.message


def test_not_applicable_records_and_peer_failures():
    assert yardstick.measure(entry("numpy.linalg.svd [complex input]")).status == "not_applicable"
    record = yardstick.E(
        "numpy.sin", "bad call", yardstick.ELEM, yardstick.A(3), "F(a, no_such_keyword=1)", "sys:test_sin"
    )
    result = yardstick.measure(record)
    assert result.status == "not_applicable"
    assert result.message.startswith("the peer fails here: TypeError")


def test_points_weights_and_results_are_reproducible():
    record = entry("numpy.linalg.slogdet")
    first, second = yardstick.peer_reference(record), yardstick.peer_reference(record)
    np.testing.assert_array_equal(first[0], second[0])
    np.testing.assert_array_equal(first[2], second[2])
    assert yardstick.measure(record) == yardstick.measure(record)
    assert (
        record.seed
        == yardstick.E(record.name, record.variant, yardstick.OTHER, yardstick.A(1), "F(a)", "x:y").seed
    )


def test_complex_output_enters_as_real_and_imaginary_parts():
    out = np.array([1.0 + 2.0j, -3.0 + 0.5j])
    weights = ([2.0, 1.0], [10.0, -4.0])
    assert yardstick.scalarize(out, weights, np) == pytest.approx(2 * 1 - 3 + 10 * 2 - 4 * 0.5)


@pytest.mark.parametrize("key", SAMPLE)
def test_sampled_records_are_sound_in_plain_numpy(key):
    gradient, reference = plain_central_gradient(entry(key))
    assert diffcompare.normwise_relative_error(gradient, reference) <= yardstick.TOLERANCE["central"]


@pytest.mark.slow
@pytest.mark.parametrize("record", APPLICABLE, ids=lambda e: e.key)
def test_every_record_is_sound_in_plain_numpy(record):
    gradient, reference = plain_central_gradient(record)
    assert diffcompare.normwise_relative_error(gradient, reference) <= yardstick.TOLERANCE["central"]


def test_main_writes_the_csv_and_the_summary(tmp_path, capsys):
    assert yardstick.main(["--out", str(tmp_path), "--only", *SAMPLE]) == 0
    rows = list(csv.DictReader((tmp_path / "peer_yardstick.csv").open()))
    expected = [e.key for e in TABLE if e.key in SAMPLE or e.name in SAMPLE]
    assert len(expected) > len(SAMPLE)  # "numpy.linalg.slogdet" is a key and the name of two records
    assert [r["name"] + (f" [{r['variant']}]" if r["variant"] else "") for r in rows] == expected
    assert {r["status"] for r in rows} <= set(yardstick.STATUSES)
    assert rows[0]["status"] == "direct" and rows[0]["twin"] == "xp.sin"
    printed = capsys.readouterr().out
    assert f"{len(expected)} constructs" in printed
    counts = {s: sum(r["status"] == s for r in rows) for s in yardstick.STATUSES}
    assert ", ".join(f"{counts[s]} {s}" for s in yardstick.STATUSES) in printed
