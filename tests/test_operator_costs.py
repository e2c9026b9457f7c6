"""The operator cost table and the Jacobian crossover: shapes, statuses and ratios, never timings."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from diffcompare.bench.costs import (
    COST_COLUMNS,
    CROSSOVER_COLUMNS,
    DIFFSHARP_ANCHORS,
    crossover_ratio,
    jacobian_crossover,
    operator_costs,
    operator_costs_markdown,
    write_operator_cost_reports,
)
from diffcompare.suite.records import suite

FAST = {"budget_s": 5.0, "repeats": 2, "min_run_time": 1e-3}
FEW_METHODS = {"gradient": ["tape", "forward"], "hvp": ["tape"], "hessian": ["central"]}


def _detaching(x, xp):
    # np.asarray detaches x from the tape and the dual numbers: those methods must refuse it
    return xp.sum(x * x) + float(np.asarray(x, dtype=np.float64)[0])


@pytest.fixture(scope="module")
def costs() -> pd.DataFrame:
    rosenbrock = suite(["rosenbrock"])[0].resized(4)
    detaching = replace(rosenbrock, name="detaching", f=_detaching)
    methods = {**FEW_METHODS, "gradient": ["tape", "forward", "central", "no_such_method"]}
    return operator_costs([rosenbrock, detaching], methods=methods, seed=3, **FAST)


def test_cost_table_has_one_row_per_function_operator_and_method(costs):
    assert list(costs.columns) == COST_COLUMNS
    assert len(costs) == 2 * (4 + 1 + 1)
    assert set(costs["function"]) == {"rosenbrock", "detaching"}
    assert set(costs["operator"]) == {"gradient", "hvp", "hessian"}
    assert (costs["n"] == 4).all()


def test_every_row_has_a_status_and_ok_rows_have_positive_ratios(costs):
    assert costs["status"].isin(["ok", "error", "timeout"]).all()
    ok = costs[costs["status"] == "ok"]
    assert len(ok) >= 5  # every rosenbrock row but the unknown method
    assert (ok["median_s"] > 0).all() and (ok["f_median_s"] > 0).all()
    assert np.allclose(ok["ratio_to_f"], ok["median_s"] / ok["f_median_s"])
    assert (ok["ratio_to_f"] > 0).all()


def test_a_failing_method_is_a_row_with_status_and_message(costs):
    unknown = costs[costs["method"] == "no_such_method"]
    assert len(unknown) == 2
    assert (unknown["status"] == "error").all()
    assert unknown["message"].str.contains("no_such_method").all()
    assert unknown["ratio_to_f"].isna().all()
    refused = costs[(costs["function"] == "detaching") & costs["method"].isin(["tape", "forward"])]
    assert (refused["status"] == "error").all()
    assert refused["message"].str.startswith("TypeError").all()
    # central differences only evaluate f on plain arrays, so they go through
    central = costs[(costs["function"] == "detaching") & (costs["method"] == "central")]
    assert central["status"].tolist() == ["ok", "ok"]


def test_a_method_over_its_budget_is_a_timeout_row():
    record = suite(["rosenbrock"])[0].resized(40)
    table = operator_costs(
        [record], methods={"hessian": ["symbolic"]}, budget_s=1e-4, repeats=1, min_run_time=1e-3
    )
    assert table["status"].tolist() == ["timeout"]
    assert math.isnan(table["ratio_to_f"].iloc[0])
    assert table["message"].iloc[0]


def test_crossover_sweep_has_both_methods_per_size():
    table = jacobian_crossover([(8, 1), (8, 32)], seed=1, **FAST)
    assert list(table.columns) == CROSSOVER_COLUMNS
    assert table[["n", "m", "method"]].values.tolist() == [
        [8, 1, "tape"], [8, 1, "forward"], [8, 32, "tape"], [8, 32, "forward"],
    ]  # fmt: skip
    assert (table["status"] == "ok").all() and (table["median_s"] > 0).all()
    assert np.allclose(table["m_over_n"], table["m"] / table["n"])


def _synthetic(ratios: dict[float, float]) -> pd.DataFrame:
    rows = []
    for m_over_n, tape_over_forward in ratios.items():
        for method, seconds in (("tape", tape_over_forward), ("forward", 1.0)):
            rows.append(
                {"sweep": "m", "m_over_n": m_over_n, "method": method, "status": "ok", "median_s": seconds}
            )
    return pd.DataFrame(rows)


def test_crossover_ratio_interpolates_in_log_log():
    # log(tape/forward) goes from log(1/2) to log(2) as log(m/n) goes from log 1 to log 4:
    # zero halfway, at m/n = 2
    assert crossover_ratio(_synthetic({0.5: 0.25, 1.0: 0.5, 4.0: 2.0, 8.0: 4.0})) == pytest.approx(2.0)
    assert math.isnan(crossover_ratio(_synthetic({1.0: 2.0, 4.0: 3.0})))  # forward faster throughout


def test_reports_are_written_with_anchors_and_statuses(costs, tmp_path):
    crossover = jacobian_crossover([(8, 1), (8, 64)], seed=1, **FAST)
    paths = write_operator_cost_reports(tmp_path, costs, crossover, command="cmd", date="today")
    assert [path.name for path in paths] == [
        "operator_costs.csv", "operator_costs.md", "jacobian_crossover.csv", "jacobian_crossover.png",
    ]  # fmt: skip
    assert all(path.stat().st_size > 0 for path in paths)
    assert list(pd.read_csv(paths[0]).columns) == COST_COLUMNS
    text = operator_costs_markdown(costs, crossover)
    assert "| gradient | no_such_method | error | error |" in text
    assert f"{DIFFSHARP_ANCHORS['hessian']['finite_differences']:,.0f}x" in text


@pytest.mark.parametrize(
    ("kwargs", "error", "name"),
    [
        ({"functions": []}, ValueError, "functions"),
        ({"functions": [object()]}, TypeError, "functions"),
        ({"methods": {"jacobian": ["tape"]}}, ValueError, "methods"),
        ({"methods": ["tape"]}, TypeError, "methods"),
        ({"budget_s": 0}, ValueError, "budget_s"),
        ({"repeats": 1.5}, ValueError, "repeats"),
        ({"seed": -1}, ValueError, "seed"),
    ],
)
def test_operator_costs_bad_input(kwargs, error, name):
    arguments = {"functions": suite(["rosenbrock"])[0:1], **kwargs}
    with pytest.raises(error, match=name):
        operator_costs(**arguments)


@pytest.mark.parametrize(
    ("sizes", "error"),
    [([], ValueError), ([(0, 3)], ValueError), ([(2, 3, 4)], ValueError), ([[2, 3]], ValueError)],
)
def test_jacobian_crossover_bad_sizes(sizes, error):
    with pytest.raises(error, match="sizes"):
        jacobian_crossover(sizes)


@pytest.mark.parametrize(
    ("kwargs", "error", "name"),
    [
        ({"seed": -1}, ValueError, "seed"),
        ({"repeats": 0}, ValueError, "repeats"),
        ({"budget_s": "1"}, TypeError, "budget_s"),
        ({"min_run_time": 0.0}, ValueError, "min_run_time"),
    ],
)
def test_jacobian_crossover_bad_options(kwargs, error, name):
    with pytest.raises(error, match=name):
        jacobian_crossover([(2, 3)], **kwargs)


def _sweep(ratios: dict[int, float], n: int = 8) -> pd.DataFrame:
    table = _synthetic({m / n: ratio for m, ratio in ratios.items()})
    table["m"] = (table["m_over_n"] * n).round().astype(int)
    table["n"] = n
    return table


def test_markdown_states_the_crossover_or_who_wins_throughout(costs):
    crossing = operator_costs_markdown(costs, _sweep({8: 0.5, 32: 2.0}))
    assert "forward becomes faster than tape at m / n = 2." in crossing
    assert "| 8 | 32 | 4 | 2e+03 ms | 1e+03 ms | 2 |" in crossing
    forward_wins = operator_costs_markdown(costs, _sweep({8: 3.0, 32: 5.0}))
    assert "forward is faster than tape at every size timed." in forward_wins
    tape_wins = operator_costs_markdown(costs, _sweep({8: 0.5, 32: 0.25}))
    assert "tape is faster than forward at every size timed." in tape_wins
