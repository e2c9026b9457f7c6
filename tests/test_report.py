"""The accuracy report: schema, statuses per failing case, atomic files, command line."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import diffcompare
from diffcompare.cli import main
from diffcompare.records import SuiteFunction
from diffcompare.report import COLUMNS, STATUSES, accuracy_table, summarise, write_reports


def _record(name, f, dim=2):
    return SuiteFunction(name, f, dim, (0.5, 1.5))


def test_schema_and_one_row_per_point_and_method():
    records = diffcompare.suite(["booth", "tanh_sum"])
    table = accuracy_table(records)
    assert list(table.columns) == COLUMNS
    expected = sum((3 + len(r.hard_points)) * 4 for r in records)
    assert len(table) == expected
    assert set(table["status"]) <= set(STATUSES)
    assert table.loc[table["status"] == "ok", "max_rel_err"].notna().all()


def test_a_function_that_raises_becomes_error_rows_and_the_run_goes_on():
    def broken(x, xp):
        raise RuntimeError("model diverged")

    table = accuracy_table([_record("broken", broken), *diffcompare.suite(["booth"])])
    broken_rows = table[table["function"] == "broken"]
    assert (broken_rows["status"] == "error").all()
    assert broken_rows["message"].str.contains("model diverged").all()
    assert (table[table["function"] == "booth"]["status"] == "ok").all()


def test_a_method_returning_nan_is_nonfinite():
    # sqrt'(0) is infinite: the reference says nonfinite, and so does every row
    table = accuracy_table([SuiteFunction("sqrt_at_zero", lambda x, xp: xp.sum(xp.sqrt(x)), 1, (0.0, 0.0))])
    assert (table["status"] == "nonfinite").all()
    assert table["message"].str.contains("reference nonfinite").all()


def test_nan_from_one_method_only():
    # softplus at 800: SymPy's exp(x)/(1 + exp(x)) is inf/inf = nan, the others are fine
    (softplus,) = diffcompare.suite(["softplus_sum"])
    table = accuracy_table([softplus])
    hard = table[(table["kind"] == "saturation")]
    assert hard.set_index("method").loc["symbolic", "status"] == "nonfinite"
    assert hard.set_index("method").loc["tape", "status"] == "ok"


def test_too_large_for_the_reference_is_unsupported():
    (rosenbrock,) = diffcompare.suite(["rosenbrock"])
    table = accuracy_table([rosenbrock.resized(201)], methods=["tape"])
    assert (table["status"] == "unsupported").all()
    assert table["message"].str.contains("exceeds").all()


def test_unknown_method_is_refused():
    with pytest.raises(ValueError, match="unknown methods"):
        accuracy_table(diffcompare.suite(["booth"]), methods=["forward"])


def test_accuracy_columns_are_deterministic():
    records = diffcompare.suite(["mlp_loss", "softmax_cross_entropy"])
    accuracy = COLUMNS[6:12]
    pd.testing.assert_frame_equal(accuracy_table(records)[accuracy], accuracy_table(records)[accuracy])


def test_reports_are_written_whole_and_no_temporary_is_left(tmp_path):
    table = accuracy_table(diffcompare.suite(["booth"]))
    paths = write_reports(table, tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["accuracy.csv", "accuracy.md"]
    reread = pd.read_csv(paths[0])
    assert list(reread.columns) == COLUMNS
    assert len(reread) == len(table)
    assert "# Accuracy" in paths[1].read_text()


def test_an_interrupted_write_leaves_the_old_file(tmp_path, monkeypatch):
    table = accuracy_table(diffcompare.suite(["booth"]))
    write_reports(table, tmp_path)
    before = (tmp_path / "accuracy.csv").read_text()

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("diffcompare.report.os.replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_reports(table.head(2), tmp_path)
    assert (tmp_path / "accuracy.csv").read_text() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["accuracy.csv", "accuracy.md"]


def test_command_line_options(tmp_path, capsys):
    assert (
        main(
            [
                "compare",
                "--functions",
                "booth",
                "beale",
                "--methods",
                "tape",
                "central",
                "--out",
                str(tmp_path),
                "--quiet",
            ]
        )
        == 0
    )
    assert capsys.readouterr().out == ""
    table = pd.read_csv(tmp_path / "accuracy.csv")
    assert set(table["function"]) == {"booth", "beale"}
    assert set(table["method"]) == {"tape", "central"}


def test_command_line_rejects_unknown_functions(tmp_path, capsys):
    assert main(["compare", "--functions", "nope", "--out", str(tmp_path)]) == 2
    assert "unknown suite functions" in capsys.readouterr().err


def test_command_line_lists_the_suite(capsys):
    assert main(["list"]) == 0
    assert "rosenbrock" in capsys.readouterr().out


def test_summary_counts(tmp_path):
    table = accuracy_table(diffcompare.suite(["booth"]), methods=["tape"])
    summary = summarise(table)
    row = summary.iloc[0]
    assert (row["kind"], row["method"], row["rows"], row["ok"]) == ("ordinary", "tape", 3, 3)
    assert np.isclose(row["share_within_4_ulp"], 1.0)
