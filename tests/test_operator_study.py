"""The comparison's operator study: Jacobians, JVPs, VJPs, Hessians and HVPs against the truth."""

from __future__ import annotations

import json
import pickle
from concurrent.futures import Future

import numpy as np
import pandas as pd
import pytest

import diffcompare
from diffcompare.harness.cli import main
from diffcompare.harness.operator_study import (
    OPERATOR_COLUMNS,
    OPERATORS,
    operator_cases,
    operator_study,
    operator_truth,
)
from diffcompare.harness.run import HarnessOptions
from diffcompare.harness.studies import plan_studies
from diffcompare.methods import METHODS
from diffcompare.operators import HESSIAN_METHODS
from diffcompare.truth.reference import ReferenceGradient

ACCURACY_ONLY = HarnessOptions(timing=False, budget_s=20.0)


@pytest.fixture(scope="module")
def booth_cases():
    return operator_cases(diffcompare.suite(["booth", "matyas"]))


@pytest.fixture(scope="module")
def booth_truths(booth_cases):
    return [operator_truth(case) for case in booth_cases]


def _expected_rows(cases, methods) -> int:
    chosen = lambda table: sum(1 for m in table if {"central_gradient": "central"}.get(m, m) in methods)  # noqa: E731
    return sum(chosen(OPERATORS[operator][0]) for case in cases for operator in case.operators)


def test_cases_are_each_function_at_its_first_point_and_the_functions_stacked_by_dimension(booth_cases):
    scalar = [case for case in booth_cases if not case.vector]
    vector = [case for case in booth_cases if case.vector]
    assert [case.function for case in scalar] == ["booth", "matyas"]
    assert np.array_equal(scalar[0].x, diffcompare.suite(["booth"])[0].points[0])
    # both are two-dimensional: one stacked g = [booth, matyas], at one drawn point in (0.2, 0.8)^2
    assert [case.function for case in vector] == ["suite_dim2"]
    assert vector[0].f(vector[0].x, np).shape == (2,)
    assert np.all((vector[0].x > 0.2) & (vector[0].x < 0.8))
    assert scalar[0].operators == ("hessian", "hvp") and vector[0].operators == ("jacobian", "jvp", "vjp")
    # a worker process receives the cases themselves
    assert (
        pickle.loads(pickle.dumps(vector[0])).f(vector[0].x, np).tolist()
        == vector[0].f(vector[0].x, np).tolist()
    )


def test_every_method_agrees_with_the_truth(booth_cases, booth_truths):
    table = operator_study(booth_cases, list(METHODS), ACCURACY_ONLY, truths=booth_truths)
    assert list(table.columns) == OPERATOR_COLUMNS
    assert len(table) == _expected_rows(booth_cases, METHODS)
    assert (table["status"] == "ok").all(), table[table["status"] != "ok"]
    differences = table["method"].isin(["central", "central_gradient"])
    assert (table.loc[~differences, "norm_rel_err"] <= 1e-12).all()
    assert (table.loc[differences, "norm_rel_err"] <= 1e-5).all()
    assert table[["first_call_s", "eval_s"]].isna().all().all()  # accuracy only: no times


def test_the_study_follows_the_runs_methods_and_times_when_asked(booth_cases, booth_truths):
    options = HarnessOptions(timing=True, repeats=2, budget_s=20.0)
    table = operator_study(booth_cases[:1], ["tape", "central"], options, truths=booth_truths[:1])
    # booth's Hessian and HVP by the tape and by differences (central_gradient follows central)
    assert set(zip(table["operator"], table["method"], strict=True)) == {
        ("hessian", "tape"), ("hessian", "central"), ("hessian", "central_gradient"),
        ("hvp", "tape"), ("hvp", "central_gradient"),
    }  # fmt: skip
    assert (table["eval_s"] > 0).all() and (table["first_call_s"] > 0).all()


def test_a_truth_from_a_worker_gives_the_same_table(booth_cases, booth_truths):
    futures = []
    for truth in booth_truths:
        future = Future()
        future.set_result(truth)
        futures.append(future)
    here = operator_study(booth_cases, ["tape", "forward"], ACCURACY_ONLY)
    sent = operator_study(booth_cases, ["tape", "forward"], ACCURACY_ONLY, truths=futures)
    pd.testing.assert_frame_equal(here, sent)


def test_a_failing_method_is_a_row_with_its_status_and_a_wrong_one_is_seen(
    monkeypatch, booth_cases, booth_truths
):
    def missing_rule(f, n):
        raise NotImplementedError("no rule for 'frobnicate'")

    def off_by_one_entry(f, n):
        right = HESSIAN_METHODS["forward"](f, n)
        return lambda x: right(x) + np.eye(n)[0] * 1e-3

    monkeypatch.setitem(HESSIAN_METHODS, "tape", missing_rule)
    monkeypatch.setitem(HESSIAN_METHODS, "autograd", off_by_one_entry)
    table = operator_study(
        booth_cases[:1], ["tape", "autograd", "forward"], ACCURACY_ONLY, truths=booth_truths[:1]
    )
    rows = table[table["operator"] == "hessian"].set_index("method")
    assert rows.loc["tape", "status"] == "unsupported"
    assert "no rule for 'frobnicate'" in rows.loc["tape", "message"]
    assert np.isnan(rows.loc["tape", "norm_rel_err"])
    assert rows.loc["autograd", "status"] == "ok" and rows.loc["autograd", "norm_rel_err"] > 1e-5
    assert rows.loc["forward", "norm_rel_err"] <= 1e-12
    # the HVPs of the same case ran on
    assert (table.loc[table["operator"] == "hvp", "status"] == "ok").all()


def test_without_a_truth_the_methods_run_and_say_so(booth_cases):
    missing = ReferenceGradient(None, "error", 50, "reference timeout: time budget of 1 s exceeded")
    table = operator_study(booth_cases, ["tape"], ACCURACY_ONLY, truths=[missing] * len(booth_cases))
    assert (table["status"] == "no_reference").all()
    assert table["message"].str.contains("time budget of 1 s exceeded").all()
    assert table["norm_rel_err"].isna().all()


def test_the_plan_follows_functions_and_methods():
    plan = plan_studies(["booth", "gmm"], ["tape", "symengine"])["operators"]
    assert (plan.functions, plan.methods, plan.skipped) == (("booth",), ("tape",), "")
    assert plan_studies(["booth"], ["symengine"])["operators"].skipped.startswith("it needs 1 of the methods")
    assert plan_studies(["gmm"], ["tape"])["operators"].skipped.startswith("none of its functions")


def test_compare_writes_operators_csv_and_its_summary(tmp_path):
    args = ["--quiet", "--no-timing", "--functions", "booth", "--methods", "tape", "central"]
    assert main(["compare", *args, "--out", str(tmp_path)]) == 0
    operators = pd.read_csv(tmp_path / "operators.csv")
    assert list(operators.columns) == OPERATOR_COLUMNS
    assert set(operators["function"]) == {"booth", "suite_dim2"}
    assert set(operators["method"]) == {"tape", "central", "central_gradient"}
    assert (operators["status"] == "ok").all()
    meta = json.loads((tmp_path / "meta.json").read_text())
    assert meta["studies"]["operators"]["status"] == "done" and "operators.csv" in meta["files"]
    assert "## Jacobians, JVPs, VJPs, Hessians and HVPs" in (tmp_path / "summary.md").read_text()


def test_quick_measures_the_operators_on_its_few_functions_only(tmp_path):
    args = ["--quick", "--quiet", "--no-timing", "--functions", "booth", "--methods", "tape"]
    assert main(["compare", *args, "--out", str(tmp_path)]) == 0
    meta = json.loads((tmp_path / "meta.json").read_text())
    assert meta["studies"]["operators"]["status"] == "skipped"
    assert "--quick measures it on rosenbrock" in meta["studies"]["operators"]["reason"]
    assert not (tmp_path / "operators.csv").exists()
