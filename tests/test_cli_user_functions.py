"""``diffcompare compare --function FILE.py:NAME``: a caller's own function from the command line."""

from __future__ import annotations

import hashlib
import json
import sys
import warnings

import numpy as np
import pandas as pd
import pytest

from diffcompare.harness.cli import main
from diffcompare.harness.user_functions import load_function, module_name_for
from diffcompare.suite.records import SuiteFunction
from diffcompare.truth.reference import reference_gradient

ACCURACY = ["--quiet", "--no-timing", "--methods", "tape", "central"]

SOURCE = """
LOADS = []
LOADS.append(1)  # counts how often the file is executed


def loss(x, xp):
    return xp.sum(xp.tanh(x) ** 2) + xp.logsumexp(x)


def booth(x, xp):  # the name of a suite function
    return (x[0] + 2 * x[1] - 7) ** 2 + (2 * x[0] + x[1] - 5) ** 2
"""


@pytest.fixture
def user_file(tmp_path):
    path = tmp_path / "my_loss.py"
    path.write_text(SOURCE)
    return path


def _results(out) -> pd.DataFrame:
    return pd.read_csv(out / "results.csv")


def _meta(out) -> dict:
    return json.loads((out / "meta.json").read_text())


def _xs(table: pd.DataFrame) -> list[list[float]]:
    return [[float(v) for v in x.split()] for x in table["x"]]


def _loss(x, xp):
    return xp.sum(xp.tanh(x) ** 2) + xp.logsumexp(x)


def test_given_points_are_measured_and_the_suite_is_not_run(user_file, tmp_path):
    out = tmp_path / "out"
    points = [[0.5, -1.0, 2.0], [-1e-3, 0.25, 3.0]]  # "-1e-3": argparse alone reads it as an option
    argv = ["compare", *ACCURACY, "--function", f"{user_file}:loss", "--dim", "3"]
    for point in points:
        argv += ["--point", *map(str, point)]
    assert main([*argv, "--out", str(out)]) == 0
    table = _results(out)
    assert set(table["function"]) == {"loss"}  # only the caller's function
    assert table[["point", "kind", "method"]].values.tolist() == [
        [f"point-{i}", "point", m] for i in range(2) for m in ("tape", "central")
    ]
    assert (table["status"] == "ok").all()
    assert _xs(table)[::2] == points
    # the errors are the distance to the 50-digit reference, computed here independently
    tape = table[table["method"] == "tape"]
    for x, error in zip(points, tape["max_abs_err"], strict=True):
        truth = reference_gradient(_loss, np.array(x)).value
        assert error <= 4 * np.finfo(float).eps * np.max(np.abs(truth))
    assert (table.loc[table["method"] == "central", "max_rel_err"].between(1e-13, 1e-6)).all()
    meta = _meta(out)
    (described,) = meta["user_functions"]
    assert described["points"] == points and described["dim"] == 3
    assert described["sha256"] == hashlib.sha256(user_file.read_bytes()).hexdigest()
    assert {study["status"] for study in meta["studies"].values()} == {"skipped"}


def test_domain_points_are_drawn_with_the_seed(tmp_path):
    spec = "diffcompare.suite.functions:rosenbrock"  # package.module:NAME
    argv = [
        "compare",
        *ACCURACY,
        "--function",
        spec,
        "--dim",
        "3",
        "--domain",
        "-1.5",
        "0.5",
        "--points",
        "4",
    ]
    drawn = {}
    for seed in ("7", "8"):
        out = tmp_path / seed
        assert main([*argv, "--seed", seed, "--out", str(out)]) == 0
        table = _results(out)
        tape = table[table["method"] == "tape"]
        assert tape["point"].tolist() == [f"ordinary-{i}" for i in range(4)]
        assert set(tape["kind"]) == {"ordinary"} and (table["status"] == "ok").all()
        drawn[seed] = np.array(_xs(tape))
    from diffcompare.suite.functions import rosenbrock

    expected = SuiteFunction("rosenbrock", rosenbrock, 3, (-1.5, 0.5)).points_for(7, count=4)
    np.testing.assert_array_equal(drawn["7"], expected)  # the same seed draws the same points
    assert ((drawn["7"] >= -1.5) & (drawn["7"] < 0.5)).all()
    assert not np.array_equal(drawn["7"], drawn["8"])
    assert _meta(tmp_path / "7")["user_functions"][0]["seed"] == 7


def test_suite_and_own_functions_together_and_a_file_runs_once(user_file, tmp_path):
    out = tmp_path / "out"
    spec = str(user_file)
    argv = ["compare", *ACCURACY, "--no-studies", "--functions", "booth"]
    argv += ["--function", f"{spec}:loss", "--dim", "2", "--point", "0.1", "0.2"]
    argv += ["--function", f"{spec}:booth", "--dim", "2", "--domain", "-1", "1", "--points", "2"]
    assert main([*argv, "--out", str(out)]) == 0
    table = _results(out)
    # the caller's booth is not the suite's: it takes the file's name in front of its own
    assert table.groupby("function", sort=False).size().to_dict() == {
        "booth": 6,
        "loss": 2,
        "my_loss.booth": 4,
    }
    assert (table["status"] == "ok").all()
    module = sys.modules[module_name_for(user_file)]
    assert module.LOADS == [1]  # two functions of one file: the file ran once


def test_a_users_file_cannot_replace_a_module_of_the_same_name(tmp_path):
    shadow = tmp_path / "json.py"
    shadow.write_text("def f(x, xp):\n    return xp.sum(x)\n")
    f = load_function(f"{shadow}:f")
    assert f.__module__ == module_name_for(shadow) != "json"
    assert sys.modules["json"] is json and hasattr(json, "dumps")


def test_jobs_send_a_users_function_to_the_workers(user_file, tmp_path):
    out = tmp_path / "out"
    argv = ["compare", *ACCURACY, "--jobs", "2", "--function", f"{user_file}:loss", "--dim", "2"]
    argv += ["--point", "0.5", "1.0", "--function", f"{user_file}:booth", "--dim", "2", "--point", "1", "3"]
    with warnings.catch_warnings():
        # the reference computed in this process, not by a worker, would warn
        warnings.simplefilter("error", RuntimeWarning)
        assert main([*argv, "--out", str(out)]) == 0
    table = _results(out)
    assert (table["status"] == "ok").all()
    # booth's gradient at its minimum (1, 3) is exactly zero: every error is absolute there
    booth = table[table["function"] == "booth"]
    assert (booth.loc[booth["method"] == "tape", "max_abs_err"] == 0).all()


BAD_SOURCE = """
def plain(x):
    return x.sum()

NOT_CALLABLE = 3

def three(x, xp):
    return x[0] + x[1] + x[2]
"""


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--function", "{dir}/missing.py:f", "--dim", "2", "--point", "1", "2"], "no file"),
        (["--function", "{file}:nope", "--dim", "2", "--point", "1", "2"], "has no 'nope'"),
        (["--function", "{file}:NOT_CALLABLE", "--dim", "2", "--point", "1", "2"], "is not callable"),
        (["--function", "{file}:plain", "--dim", "2", "--point", "1", "2"], "diffcompare needs f(x, xp)"),
        (["--function", "{file}", "--dim", "2", "--point", "1", "2"], "must be FILE.py:NAME"),
        (
            ["--function", "{dir}/raising.py:f", "--dim", "2", "--point", "1", "2"],
            "raised RuntimeError: boom",
        ),
        (["--function", "no_such_package.mod:f", "--dim", "2", "--point", "1", "2"], "cannot import"),
        (["--function", "{file}:three", "--point", "1", "2"], "needs --dim N"),
        (
            ["--function", "{file}:three", "--dim", "0", "--point", "1"],
            "argument --dim: must be an integer >= 1",
        ),
        (
            ["--function", "{file}:three", "--dim", "3", "--point", "1", "2"],
            "--point has 2 coordinates; --dim is 3",
        ),
        (["--function", "{file}:three", "--dim", "3"], "needs --point X1 ... X3 or --domain LO HI"),
        (["--function", "{file}:three", "--dim", "3", "--domain", "1", "1"], "needs LO < HI; got 1 1"),
        (["--function", "{file}:three", "--dim", "3", "--domain", "2", "-1"], "needs LO < HI"),
        (["--function", "{file}:three", "--dim", "3", "--points", "4"], "--points needs --domain"),
        (["--function", "{file}:three", "--dim", "1", "--point", "1", "--domain", "0", "1"], "not both"),
        (
            ["--function", "{file}:three", "--dim", "3", "--dim", "3", "--point", "1", "2", "3"],
            "--dim given twice",
        ),
        (["--dim", "3", "--function", "{file}:three"], "--dim must follow the --function it describes"),
        (
            ["--function", "{file}:three", "--dim", "3", "--point", "1", "nan", "3"],
            "argument --point: must be a finite",
        ),
        # the one call at the first point: a --dim too small for f
        (["--function", "{file}:three", "--dim", "2", "--point", "1", "2"], "failed: IndexError"),
    ],
)
def test_a_bad_function_option_is_refused_before_any_work(tmp_path, capsys, monkeypatch, options, message):
    source = tmp_path / "bad.py"
    source.write_text(BAD_SOURCE)
    (tmp_path / "raising.py").write_text("raise RuntimeError('boom')\n")
    _refuse_any_work(monkeypatch)
    argv = [o.format(dir=tmp_path, file=source) for o in options]
    with pytest.raises(SystemExit) as exit_status:
        main(["compare", *argv, "--out", str(tmp_path / "out")])
    assert exit_status.value.code == 2
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last.startswith("diffcompare compare: error: ") and message in last
    assert not (tmp_path / "out").exists()


def _refuse_any_work(monkeypatch):
    """Make every entry to the harness fail the test."""
    import diffcompare.harness.run as harness

    def no_work(*args, **kwargs):
        raise AssertionError("the run started before the options were checked")

    monkeypatch.setattr(harness, "run_suite", no_work)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--sizes", "1"], "--sizes: Rosenbrock needs n >= 2; got 1"),
        (["--sizes", "0"], "argument --sizes: must be an integer >= 1"),
        (["--seed", "-1"], "argument --seed: must be an integer >= 0, got -1"),
        (["--seed", "1.5"], "argument --seed: must be an integer >= 0"),
        (["--budget", "0"], "argument --budget: must be a positive number of seconds, got 0"),
        (["--budget", "-3"], "argument --budget: must be a positive number of seconds"),
        (["--budget", "inf"], "argument --budget: must be a finite number"),
        (["--repeats", "0"], "argument --repeats: must be an integer >= 1"),
        (["--jobs", "0"], "argument --jobs: must be an integer >= 1"),
        (["--methods", "magic"], "argument --methods: invalid choice: 'magic'"),
        (["--methods", "tape", "tape"], "--methods: tape given more than once"),
        (["--functions", "booth", "nope"], "--functions: unknown suite functions ['nope']"),
        (["--functions", "booth", "booth"], "--functions: booth given more than once"),
        (["--out", "{file}"], "--out: {file} exists and is not a folder"),
    ],
)
def test_a_bad_option_is_refused_before_any_work(tmp_path, capsys, monkeypatch, options, message):
    a_file = tmp_path / "a_file"
    a_file.write_text("")
    monkeypatch.chdir(tmp_path)  # the default --out, were it reached
    _refuse_any_work(monkeypatch)
    argv = [o.format(file=a_file) for o in options]
    with pytest.raises(SystemExit) as exit_status:
        main(["compare", "--quiet", *argv])
    assert exit_status.value.code == 2
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last == last.strip() and "\n" not in last
    assert last.startswith("diffcompare compare: error: ") and message.format(file=a_file) in last
