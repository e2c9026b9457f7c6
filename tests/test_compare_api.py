"""diffcompare.compare(f, points) and write_reports on a caller's own function."""

import numpy as np
import pandas as pd
import pytest

import diffcompare
from diffcompare.harness.run import COLUMNS


def loss(x, xp):
    return xp.sum(xp.tanh(x) ** 2) + xp.logsumexp(x)


POINTS = np.array([[0.5, -1.0, 2.0], [0.1, 0.2, 0.3]])


def test_rows_per_point_and_method_with_the_results_columns():
    table = diffcompare.compare(loss, POINTS, methods=["tape", "autograd", "central"], timing=False)
    assert list(table.columns) == COLUMNS
    assert table[["point", "method"]].values.tolist() == [
        [f"point-{i}", m] for i in range(2) for m in ("tape", "autograd", "central")
    ]
    assert set(table["status"]) == {"ok"} and set(table["kind"]) == {"point"}
    exact = table[table["method"] != "central"]
    assert (exact["max_rel_err"] < 1e-14).all()
    assert (table.loc[table["method"] == "central", "max_rel_err"] < 1e-7).all()
    # the points are the caller's, in order
    assert [np.fromstring(x.strip("[]"), sep=" ").tolist() for x in table["x"][::3]] == POINTS.tolist()


def test_one_point_and_timing():
    table = diffcompare.compare(loss, POINTS[0], methods=["tape"], name="mine")
    assert len(table) == 1 and table["function"].iloc[0] == "mine"
    assert table["eval_s"].iloc[0] > 0 and table["status"].iloc[0] == "ok"


def test_a_function_no_tracer_can_follow_gives_rows_with_reasons():
    def with_python_branch(x, xp):
        return xp.sum(x**2) if float(x[0]) > 0 else xp.sum(x)  # float() of a traced value

    table = diffcompare.compare(with_python_branch, POINTS[0], methods=["symbolic", "central"], timing=False)
    messages = dict(zip(table["method"], table["message"], strict=True))
    assert list(table["status"]) == ["error", "no_reference"]
    assert "converted a traced value to a Python float" in messages["symbolic"]
    # central differences ran, but without a reference there is nothing to score them by,
    # and no exact method to agree with
    assert messages["central"].startswith("no reference: agreement only; SymPy could not trace")
    assert messages["central"].endswith("no consensus: fewer than two exact methods agree within 1e-06")
    assert table["max_rel_err"].isna().all() and table["consensus_dist"].isna().all()


@pytest.mark.parametrize(
    ("points", "error", "match"),
    [
        ([], ValueError, "points"),
        (np.zeros((0, 3)), ValueError, "at least one point"),
        ([[0.0, np.nan]], ValueError, "points\\[0\\]"),
        (np.zeros((2, 2, 2)), ValueError, "one point \\(n,\\) or rows"),
        ([1, 2], TypeError, "points"),
    ],
)
def test_bad_points_are_refused_before_any_work(points, error, match):
    with pytest.raises(error, match=match):
        diffcompare.compare(loss, points, methods=["tape"], timing=False)


def test_bad_arguments():
    with pytest.raises(TypeError, match="f must be a callable"):
        diffcompare.compare("loss", POINTS)
    with pytest.raises(ValueError, match="unknown methods"):
        diffcompare.compare(loss, POINTS, methods=["nope"])
    with pytest.raises(TypeError, match="methods must be a sequence"):
        diffcompare.compare(loss, POINTS, methods="tape")
    with pytest.raises(ValueError, match="budget_s"):
        diffcompare.compare(loss, POINTS, budget_s=0)


def test_write_reports_writes_the_tables(tmp_path):
    table = diffcompare.compare(loss, POINTS, methods=["tape"], timing=False)
    written = {path.name for path in diffcompare.write_reports(tmp_path, table, draw=False)}
    assert {"results.csv", "summary.csv", "summary.md"} <= written
    assert len(pd.read_csv(tmp_path / "results.csv")) == 2


def test_the_error_plot_draws_a_callers_points_and_an_empty_table(tmp_path):
    # a table of the caller's points has no "ordinary" rows; one with nothing scored has
    # no positive error at all: both once failed in the log-scaled plot
    table = diffcompare.compare(loss, POINTS, methods=["tape", "central"], timing=False)
    assert (tmp_path / "a" / "error_by_method.png") in diffcompare.write_reports(tmp_path / "a", table)

    def untraceable(x, xp):
        return xp.sum(x) * float(x[0])

    nothing = diffcompare.compare(untraceable, POINTS[0], methods=["tape"], timing=False)
    assert set(nothing["status"]) == {"error"}
    assert (tmp_path / "b" / "error_by_method.png") in diffcompare.write_reports(tmp_path / "b", nothing)


def _with_python_branch(x, xp):
    return xp.sum(xp.sin(x) * x) if x[0] > 0 else xp.sum(x)


def test_reports_keep_rows_without_a_reference_apart_from_the_errors(tmp_path):
    table = diffcompare.compare(
        _with_python_branch, POINTS, methods=["tape", "forward", "central"], timing=False, directional=False
    )
    diffcompare.write_reports(tmp_path, table, draw=False)
    summary = pd.read_csv(tmp_path / "summary.csv").set_index("method")
    assert (summary["no_reference"] == 2).all() and (summary["ok"] == 0).all()
    assert summary["max_norm_rel_err"].isna().all()  # no error figure from agreement
    assert summary.loc["central", "max_consensus_dist"] < 1e-8
    text = (tmp_path / "summary.md").read_text()
    assert "## Rows without a reference: agreement only" in text
    assert "Agreement is not accuracy" in text
    assert "## Rows that are not ok" not in text


def test_reports_give_the_directional_error_where_sympy_cannot_trace(tmp_path):
    table = diffcompare.compare(_with_python_branch, POINTS, methods=["tape", "central"], timing=False)
    diffcompare.write_reports(tmp_path, table, draw=False)
    summary = pd.read_csv(tmp_path / "summary.csv").set_index("method")
    assert (summary["directional"] == 2).all() and (summary["no_reference"] == 0).all()
    assert summary.loc["tape", "max_dir_rel_err"] <= 1e-15
    assert 0 < summary.loc["central", "max_dir_rel_err"] < 1e-8
    assert summary["max_norm_rel_err"].isna().all()  # one direction is no full error figure
    text = (tmp_path / "summary.md").read_text()
    assert "## Rows scored along a random direction" in text
    assert "## Rows that are not ok" not in text
