"""The command line and the report files it writes."""

from __future__ import annotations

import json

import pandas as pd
import pytest

import diffcompare
from diffcompare.harness.cli import main
from diffcompare.harness.report import atomic_write, write_reports
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
    summary = (tmp_path / "summary.md").read_text()
    assert "## Summary per method" in summary
    assert "## Studies not run\n\n- swell: its function is not a suite function" in summary
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


# --- studies follow --functions and --methods --------------------------------------------


def test_studies_are_planned_from_the_functions_and_methods_of_the_run():
    from diffcompare.harness.studies import STEP_STUDY_FUNCTIONS, plan_studies

    everything = plan_studies(None, list(METHODS))
    assert all(plan.runs for plan in everything.values())
    assert everything["steps"].functions == STEP_STUDY_FUNCTIONS
    assert everything["scaling"].methods == tuple(METHODS)

    rosenbrock = plan_studies(["rosenbrock", "booth"], ["tape", "central", "autograd"])
    assert rosenbrock["scaling"].functions == ("rosenbrock",)
    assert rosenbrock["scaling"].methods == ("tape", "central", "autograd")
    assert rosenbrock["steps"].functions == ("rosenbrock",) and rosenbrock["steps"].methods == ("central",)
    assert (
        "mlp_loss" in rosenbrock["mlp_layers"].skipped
        and "not a suite function" in rosenbrock["swell"].skipped
    )

    few_methods = plan_studies(None, ["tape"])
    assert few_methods["swell"].methods == ("tape",) and few_methods["swell"].runs
    assert "needs 2 of the methods" in few_methods["mlp_layers"].skipped
    assert "central" in few_methods["steps"].skipped
    assert few_methods["mlp_layers"].functions == ("mlp_loss",)

    untimed = plan_studies(None, list(METHODS), timing=False)
    assert {name for name, plan in untimed.items() if not plan.runs} == {"scaling", "mlp_layers"}
    assert all(not plan.runs for plan in plan_studies((), list(METHODS)).values())  # own functions only


def test_a_study_runs_only_the_chosen_functions_and_methods(tmp_path):
    args = ["--functions", "rosenbrock", "--methods", "tape", "central", "--sizes", "2", "3"]
    assert main(["compare", *FAST, *args, "--out", str(tmp_path)]) == 0
    scaling = pd.read_csv(tmp_path / "scaling.csv")
    assert set(scaling["study"]) == {"rosenbrock"} and set(scaling["method"]) == {"tape", "central"}
    assert set(pd.read_csv(tmp_path / "step_study.csv")["function"]) == {"rosenbrock"}
    assert not (tmp_path / "mlp_layers.csv").exists() and not (tmp_path / "swell.csv").exists()
    studies = json.loads((tmp_path / "meta.json").read_text())["studies"]
    assert studies["scaling"] == {
        "status": "done",
        "functions": ["rosenbrock"],
        "methods": ["tape", "central"],
    }
    assert studies["mlp_layers"]["status"] == "skipped"
    assert "(mlp_loss) is among" in studies["mlp_layers"]["reason"]


def test_the_swell_and_mlp_studies_measure_only_the_chosen_methods(tmp_path):
    from diffcompare.harness.plots import plot_all
    from diffcompare.harness.studies import mlp_layer_study, swell_study

    swell = swell_study(depths=(1, 2), methods=("tape",))
    assert swell["expr_ops"].isna().all() and swell["setup_s"].isna().all()
    assert (swell["tape_nodes"] > 0).all()
    assert [p.name for p in plot_all(tmp_path, swell=swell)] == ["expression_swell.png"]
    layers = mlp_layer_study(((2, 3, 1),), batch=4, repeats=1, min_run_time=0.0, methods=("autograd", "tape"))
    assert set(layers["method"]) == {"autograd", "tape"} == set(layers["against"])
    assert (layers["max_rel_err"] <= 1e-14).all()


def test_an_interrupted_run_says_which_studies_it_did_not_reach(tmp_path, monkeypatch):
    import diffcompare.harness.studies as studies

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(studies, "step_study", interrupted)
    args = ["--functions", "rosenbrock", "--methods", "tape", "central", "--sizes", "2", "--no-timing"]
    assert main(["compare", *FAST, *args, "--out", str(tmp_path)]) == 130
    meta = json.loads((tmp_path / "meta.json").read_text())
    assert meta["studies"]["steps"]["status"] == "not reached (interrupted)"
    assert meta["studies"]["scaling"]["status"] == "skipped"  # --no-timing
    assert meta["interrupted"] is True and (tmp_path / "results.csv").exists()


# --- a run replaces the previous run's files, and only those ----------------------------


def _table():
    return diffcompare.compare(lambda x, xp: xp.sum(x**2), [[1.0, 2.0]], methods=["tape"], timing=False)


def test_a_run_removes_the_files_of_the_previous_run_it_does_not_write_again(tmp_path):
    from diffcompare.harness.studies import step_study

    steps = step_study(["booth"], steps=(1e-3, 1e-6))
    first = {p.name for p in write_reports(tmp_path, _table(), steps=steps)}
    assert {"step_study.csv", "step_study.png", "error_by_method.png", "meta.json"} <= first
    (tmp_path / "notes.txt").write_text("mine")  # the caller's, and files of other tools
    (tmp_path / "bench.csv").write_text("other tool")
    second = {p.name for p in write_reports(tmp_path, _table(), draw=False)}
    assert second == {"results.csv", "summary.csv", "summary.md", "meta.json"}
    assert {p.name for p in tmp_path.iterdir()} == second | {"notes.txt", "bench.csv"}
    meta = json.loads((tmp_path / "meta.json").read_text())
    assert sorted(meta["files"]) == sorted(second)
    assert sorted(meta["removed_stale"]) == sorted(first - second)


@pytest.mark.parametrize(
    "previous",
    [
        '{"command": "diffcompare compare"}',  # a meta.json from before the manifest
        "not json",
        '{"files": "results.csv"}',
        '{"files": ["notes.txt", "../outside.csv", "step_study.csv/x"]}',  # never names it did not write
    ],
)
def test_only_files_a_run_wrote_and_listed_are_ever_removed(tmp_path, previous):
    folder = tmp_path / "reports"
    folder.mkdir()
    for name in ("notes.txt", "step_study.csv", "time_vs_n.png"):
        (folder / name).write_text("kept")
    (tmp_path / "outside.csv").write_text("kept")
    (folder / "meta.json").write_text(previous)
    write_reports(folder, _table(), draw=False)
    assert all((folder / name).exists() for name in ("notes.txt", "step_study.csv", "time_vs_n.png"))
    assert (tmp_path / "outside.csv").exists()
    assert json.loads((folder / "meta.json").read_text())["removed_stale"] == []


def test_every_file_a_full_run_writes_is_one_a_later_run_may_remove(tmp_path):
    from diffcompare.harness.report import REPORT_FILES

    assert len(set(REPORT_FILES)) == len(REPORT_FILES)
    assert {"results.csv", "summary.csv", "scaling.csv", "swell.csv", "step_study.csv", "mlp_layers.csv",
            "operators.csv", "summary.md", "meta.json", "error_by_method.png", "time_vs_n.png",
            "step_study.png", "expression_swell.png"} == set(REPORT_FILES)  # fmt: skip


# --- the default output folder and BLAS threads -----------------------------------------


def test_the_default_output_folder_is_ignored_by_git_and_used_without_out(tmp_path, monkeypatch):
    from pathlib import Path

    from diffcompare.harness.cli import DEFAULT_OUT

    gitignore = (Path(__file__).parents[1] / ".gitignore").read_text().splitlines()
    assert f"{DEFAULT_OUT}/" in gitignore and DEFAULT_OUT != "reports"
    monkeypatch.chdir(tmp_path)
    assert (
        main(["compare", *FAST, "--no-studies", "--no-timing", "--functions", "booth", "--methods", "tape"])
        == 0
    )
    assert {p.name for p in (tmp_path / DEFAULT_OUT).iterdir()} >= {"results.csv", "meta.json"}


def test_blas_runs_on_one_thread_during_a_run_and_is_recorded(tmp_path):
    from threadpoolctl import threadpool_info

    before = [pool["num_threads"] for pool in threadpool_info()]
    table = _table()
    assert table.attrs["threadpool_limits"] == 1
    assert all(pool["num_threads"] == 1 for pool in table.attrs["blas_threads"])
    assert [pool["num_threads"] for pool in threadpool_info()] == before  # restored afterwards
    write_reports(tmp_path / "api", table, draw=False)
    assert json.loads((tmp_path / "api" / "meta.json").read_text())["threadpool_limits"] == 1
    args = ["--no-studies", "--no-timing", "--functions", "booth", "--methods", "tape"]
    assert main(["compare", *FAST, *args, "--out", str(tmp_path / "cli")]) == 0
    meta = json.loads((tmp_path / "cli" / "meta.json").read_text())
    assert meta["threadpool_limits"] == 1
    assert all(pool["num_threads"] == 1 for pool in meta["blas_threads"])


def test_a_second_run_into_the_same_folder_leaves_no_file_of_the_first(tmp_path):
    args = ["--functions", "rosenbrock", "--methods", "tape", "central", "--no-timing"]
    assert main(["compare", *FAST, *args, "--out", str(tmp_path)]) == 0
    assert (tmp_path / "step_study.csv").exists() and (tmp_path / "step_study.png").exists()
    assert main(["compare", *FAST, *args, "--no-studies", "--out", str(tmp_path)]) == 0
    left = {p.name for p in tmp_path.iterdir()}
    assert left == {"results.csv", "summary.csv", "summary.md", "error_by_method.png", "meta.json"}
