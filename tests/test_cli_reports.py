"""The command line and the report files it writes."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from diffcompare.harness.cli import main
from diffcompare.harness.report import atomic_write
from diffcompare.harness.run import COLUMNS
from diffcompare.methods import METHODS

FAST = ["--quick", "--quiet", "--repeats", "1"]


def test_compare_writes_every_report(tmp_path):
    # functions and methods of the scaling, step and MLP studies, so that those run
    functions = ["booth", "rosenbrock", "mlp_loss", "exp_log"]
    methods = ["symbolic", "autograd", "tape", "central"]
    args = ["--functions", *functions, "--methods", *methods, "--sizes", "2", "10"]
    assert main(["compare", *FAST, *args, "--out", str(tmp_path)]) == 0
    names = {p.name for p in tmp_path.iterdir()}
    expected = {
        "results.csv",
        "summary.csv",
        "scaling.csv",
        "step_study.csv",
        "mlp_layers.csv",
        "meta.json",
        "summary.md",
    }
    assert expected <= names
    assert {"error_by_method.png", "time_vs_n.png", "step_study.png"} <= names
    assert not [n for n in names if n.startswith(".")]  # no temporary left behind
    results = pd.read_csv(tmp_path / "results.csv")
    assert list(results.columns) == COLUMNS
    assert set(results["function"]) == set(functions)
    scaling = pd.read_csv(tmp_path / "scaling.csv")
    assert set(scaling.loc[scaling["study"] == "rosenbrock", "dim"]) == {2, 10}
    assert set(scaling["method"]) == set(methods)
    assert set(pd.read_csv(tmp_path / "step_study.csv")["function"]) == {"rosenbrock", "exp_log"}
    meta = json.loads((tmp_path / "meta.json").read_text())
    assert {"versions", "platform", "blas_threads", "seed", "command", "date"} <= set(meta)
    assert meta["interrupted"] is False
    # the swell study's function is not in the suite: with --functions it is skipped, and said so
    assert "swell.csv" not in names and "expression_swell.png" not in names
    assert meta["studies"]["swell"]["status"] == "skipped"
    assert "not a suite function" in meta["studies"]["swell"]["reason"]
    assert {meta["studies"][s]["status"] for s in ("scaling", "steps", "mlp_layers")} == {"done"}
    # the manifest lists exactly the files of the run
    assert set(meta["files"]) == names and meta["removed_stale"] == []
    assert "## Summary per method" in (tmp_path / "summary.md").read_text()
    layers = pd.read_csv(tmp_path / "mlp_layers.csv")
    assert set(layers["network"]) == {"4-8-3", "5-7-6-3"}
    # (2 + 3 layers) x (W, b) x 3 activations x 2 losses x 6 ordered pairs of methods
    assert len(layers) == 360
    assert (layers["max_rel_err"] <= 1e-12).all()


def test_options_choose_functions_methods_and_skip_studies(tmp_path, capsys):
    args = ["compare", *FAST, "--no-studies", "--functions", "beale", "--methods", "tape", "central"]
    assert main([*args, "--out", str(tmp_path)]) == 0
    assert capsys.readouterr().out == ""
    results = pd.read_csv(tmp_path / "results.csv")
    assert set(results["method"]) == {"tape", "central"}
    assert not (tmp_path / "scaling.csv").exists()


def test_no_timing_and_seed(tmp_path):
    assert main(["compare", *FAST, "--no-studies", "--no-timing", "--functions", "booth", "--seed", "3",
                 "--out", str(tmp_path)]) == 0  # fmt: skip
    results = pd.read_csv(tmp_path / "results.csv")
    assert len(results) == 3 * len(METHODS)
    assert results["eval_s"].isna().all()
    assert json.loads((tmp_path / "meta.json").read_text())["seed"] == 3


def test_jobs_option(tmp_path):
    args = ["--no-studies", "--no-timing", "--jobs", "2", "--functions", "booth", "beale"]
    assert main(["compare", *FAST, *args, "--out", str(tmp_path)]) == 0
    results = pd.read_csv(tmp_path / "results.csv")
    per_function = 3 * len(METHODS)  # three ordinary points; neither function has hard points
    assert results.groupby("function").size().to_dict() == {"beale": per_function, "booth": per_function}
    assert (results["status"] == "ok").all()


def test_unknown_function_exits_2(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_status:
        main(["compare", "--functions", "nope", "--out", str(tmp_path / "out")])
    assert exit_status.value.code == 2
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last.startswith("diffcompare compare: error: --functions: unknown suite functions ['nope']")
    assert not (tmp_path / "out").exists()


def test_bad_option_values_are_refused(capsys):
    with pytest.raises(SystemExit):
        main(["compare", "--repeats", "0"])
    assert "must be an integer >= 1" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["compare", "--methods", "magic"])


def test_list(capsys):
    assert main(["list"]) == 0
    assert "rosenbrock" in capsys.readouterr().out


def test_interrupted_run_writes_complete_files_of_what_finished(tmp_path, interrupt_second_function):
    status = main(["compare", *FAST, "--functions", "booth", "beale", "--out", str(tmp_path)])
    assert status == 130
    results = pd.read_csv(tmp_path / "results.csv")
    assert set(results["function"]) == {"booth"}
    assert json.loads((tmp_path / "meta.json").read_text())["interrupted"] is True


def test_atomic_write_keeps_the_old_file_when_interrupted(tmp_path, monkeypatch):
    target = tmp_path / "results.csv"
    atomic_write(target, "old\n")

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("diffcompare.harness.report.os.replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        atomic_write(target, "new\n")
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["results.csv"]
