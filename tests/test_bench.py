"""The benchmark instrument: rows, statuses, evaluation counts, goal verdicts, Markdown.

No test here asserts a time: the runs use one repeat with no minimum run time, and the
goal logic and the marginal-cost fit are driven with synthetic numbers.
"""

from __future__ import annotations

import math
import time

import numpy as np
import pandas as pd
import pytest

from diffcompare import grad
from diffcompare.bench import (
    BENCH_COLUMNS,
    GOAL_COLUMNS,
    GOALS,
    BenchCase,
    BenchConfig,
    Candidate,
    CountingFunction,
    bench_markdown,
    count_evaluations,
    evaluate_goals,
    fit_marginal_cost,
    marginal_rows,
    rosenbrock_cases,
    rosenbrock_gradient,
    run_benchmark,
    run_cases,
    sin_chain,
    sin_chain_cases,
    write_bench_reports,
)
from diffcompare.methods.central.difference import central_difference
from diffcompare.suite.functions import rosenbrock

STATUSES = {"ok", "wrong", "error", "timeout", "skipped"}

#: One run per candidate, no autoranging: the statistics are meaningless, the rows not.
TINY = BenchConfig(
    workloads=("primitive", "rosenbrock"), sizes=(2, 3), repeats=1, min_repeats=1, min_run_time=0.0,
    budget_s=30.0, case_seconds=0.0,
)  # fmt: skip


@pytest.fixture(scope="module")
def tiny_run():
    return run_benchmark(TINY, command="test")


def test_tiny_run_has_the_columns_and_a_row_per_candidate(tiny_run):
    table = tiny_run.table
    assert list(table.columns) == BENCH_COLUMNS
    assert set(table["status"]) <= STATUSES
    expected = [(c.workload, c.size) for c in rosenbrock_cases(TINY.sizes) for _ in c.candidates]
    assert list(zip(table["workload"], table["size"], strict=True))[-len(expected) :] == expected
    # Every method works at n = 2 and 3; only torch may be missing.
    assert set(table.loc[table["method"] != "torch", "status"]) == {"ok"}
    torch = table.loc[table["method"] == "torch", "status"]
    assert len(torch) == 1  # the primitive workload only
    assert torch.isin(["ok", "skipped"]).all()


def test_tiny_run_ratios_and_counts(tiny_run):
    table = tiny_run.table.set_index(["workload", "size", "method"])
    assert len(table) == 20  # primitive: 4 candidates; rosenbrock at n = 2 and 3: 8 each
    torch_ok = int(table.loc[("primitive", 1, "torch"), "status"] == "ok")
    ok = table[table["status"] == "ok"]
    assert len(ok) == 19 + torch_ok
    assert (ok["repeats"] == 1).all() and (ok["median_s"] >= 0).all()
    forward_passes = ok.xs("numpy_forward", level="method")
    assert len(forward_passes) == 3
    assert (forward_passes["ratio_to_forward"] == 1.0).all()
    tape = table.loc[("rosenbrock", 3, "tape")]
    assert tape["ratio_tape_to_autograd"] == pytest.approx(
        tape["median_s"] / table.loc[("rosenbrock", 3, "autograd"), "median_s"]
    )
    others = table.drop(index="tape", level="method")
    assert len(others) == 17
    assert others["ratio_tape_to_autograd"].isna().all()
    assert table.loc[("rosenbrock", 3, "central"), "evaluations"] == 6
    assert table.loc[("rosenbrock", 3, "tape"), "evaluations"] == 1
    assert table.loc[("rosenbrock", 3, "symbolic"), "setup_s"] > 0
    # every gradient is scored and right; a forward pass has no gradient to score
    assert forward_passes["rel_err"].isna().all()
    gradients = ok.drop(index="numpy_forward", level="method")
    assert len(gradients) == 16 + torch_ok
    assert (gradients["rel_err"] < 1e-5).all()


def test_tiny_run_metadata_records_pinned_threads(tiny_run):
    meta = tiny_run.meta
    assert meta["threadpool_limits"] == 1
    assert all(info["num_threads"] == 1 for info in meta["threads"])
    assert meta["cpu_count"] >= 1
    assert meta["config"]["seed"] == TINY.seed
    assert {"numpy", "autograd"} <= set(meta["versions"])
    assert list(tiny_run.goals.columns) == GOAL_COLUMNS
    assert len(tiny_run.goals) == len(GOALS)


def _gradient_of_sum(x: np.ndarray) -> Candidate:
    return Candidate("right", lambda: lambda: np.ones_like(x))


def test_raising_wrong_and_skipped_methods_become_rows():
    x = np.zeros(3)

    def broken_setup():
        raise RuntimeError("no rule for cosh")

    def broken_run():
        return lambda: 1 / 0

    case = BenchCase(
        "synthetic",
        3,
        (
            _gradient_of_sum(x),
            Candidate("setup_raises", broken_setup),
            Candidate("run_raises", broken_run),
            Candidate("wrong", lambda: lambda: 2 * np.ones_like(x)),
            Candidate("wrong_shape", lambda: lambda: np.ones(4)),
            Candidate("absent", lambda: None, skip="library not installed"),
            Candidate("uncounted", lambda: lambda: np.ones_like(x), evaluations=lambda: 1 / 0),
        ),
        reference=np.ones(3),
    )
    table = run_cases([case], TINY).set_index("method")
    assert table.loc["right", "status"] == "ok"
    assert table.loc["setup_raises", "status"] == "error"
    assert table.loc["setup_raises", "message"] == "RuntimeError: no rule for cosh"
    assert table.loc["run_raises", "status"] == "error"
    assert table.loc["run_raises", "message"].startswith("ZeroDivisionError")
    assert math.isfinite(table.loc["run_raises", "setup_s"])
    assert table.loc["wrong", "status"] == "wrong"
    assert table.loc["wrong", "rel_err"] == 1.0
    assert "relative error" in table.loc["wrong", "message"]
    assert table.loc["wrong_shape", "status"] == "error"
    assert table.loc["absent", "status"] == "skipped"
    assert table.loc["absent", "message"] == "library not installed"
    # A failed count leaves the timing standing.
    assert table.loc["uncounted", "status"] == "ok"
    assert table.loc["uncounted", "message"].startswith("evaluations not counted: ZeroDivisionError")
    assert math.isnan(table.loc["uncounted", "evaluations"]) and table.loc["uncounted", "median_s"] >= 0


def test_a_timeout_is_a_row_and_larger_sizes_are_not_attempted():
    def slow_setup():
        end = time.monotonic() + 5.0  # pure Python, so the alarm interrupts it
        while time.monotonic() < end:
            pass

    config = BenchConfig(repeats=1, min_repeats=1, min_run_time=0.0, budget_s=0.05, case_seconds=0.0)
    cases = [BenchCase("synthetic", n, (Candidate("slow", slow_setup),)) for n in (2, 4)]
    started = time.monotonic()
    table = run_cases(cases, config)
    assert time.monotonic() - started < 4.0
    assert list(table["status"]) == ["timeout", "timeout"]
    assert "budget" in table["message"].iloc[0]
    assert table["message"].iloc[1] == "not attempted: timed out at n = 2 (budget 0.05 s)"


@pytest.mark.parametrize("n", [2, 5, 17])
def test_central_difference_count(n):
    x = np.random.default_rng(n).uniform(-2.0, 2.0, n)
    direct = CountingFunction(rosenbrock)
    central_difference(direct, x)
    assert count_evaluations("central", rosenbrock, x) == direct.calls
    # Issue 6: at most 2n + 1 evaluations (two per coordinate, one for f(x) if used).
    assert 2 * n <= direct.calls <= 2 * n + 1


def test_counting_excludes_setup():
    # Forward mode evaluates f once per 64 directions; autograd and the tape once.
    x = np.ones(130)
    assert count_evaluations("forward", rosenbrock, x) == 3
    assert count_evaluations("tape", rosenbrock, x) == 1
    assert count_evaluations("autograd", rosenbrock, x) == 1


def test_hand_written_rosenbrock_gradient_matches_autograd():
    x = np.random.default_rng(0).uniform(-2.0, 2.0, 7)
    np.testing.assert_allclose(rosenbrock_gradient(x), grad(rosenbrock, "autograd")(x), rtol=1e-14)


# --- goals on synthetic tables ---------------------------------------------------------


def _row(workload, size, method, median_s, status="ok", **values):
    row = dict.fromkeys(BENCH_COLUMNS, math.nan)
    row.update(workload=workload, size=size, method=method, median_s=median_s, status=status, message="")
    row.update(values)
    return row


def _synthetic_table(tape_factor=0.2, primitive=1e-6, mlp_tape=1.0e-3, setup=0.5, symbolic=20e-6, extra=1):
    rows = [_row("primitive", 1, "numpy_forward", 2e-7), _row("primitive", 1, "tape", primitive)]
    for n in (2, 10, 100, 1_000, 10_000):
        forward, autograd_s = 10e-6, 300e-6
        rows += [
            _row("rosenbrock", n, "numpy_forward", forward, ratio_to_forward=1.0),
            _row("rosenbrock", n, "autograd", autograd_s, ratio_to_forward=autograd_s / forward),
            _row("rosenbrock", n, "tape", tape_factor * autograd_s, ratio_tape_to_autograd=tape_factor),
            _row("rosenbrock", n, "symbolic_vector", symbolic, setup_s=setup,
                 ratio_to_forward=symbolic / forward),
            _row("rosenbrock", n, "central", (2 * n + extra) * forward, evaluations=2 * n + extra,
                 ratio_to_forward=2 * n + extra),
        ]  # fmt: skip
    rows += [
        _row("mlp", 101_770, "numpy_forward", 0.4e-3),
        _row("mlp", 101_770, "hand_backprop", 0.9e-3),
        _row("mlp", 101_770, "autograd", 1.5e-3),
        _row("mlp", 101_770, "tape", mlp_tape),
    ]
    return pd.DataFrame(rows, columns=BENCH_COLUMNS)


def _statuses(table, budget_s=10.0):
    goals = evaluate_goals(table, budget_s)
    return dict(zip(goals["goal"], goals["status"], strict=True))


def test_goals_pass_on_good_numbers():
    assert set(_statuses(_synthetic_table()).values()) == {"pass"}


def test_goals_fail_on_bad_numbers():
    statuses = _statuses(
        _synthetic_table(tape_factor=0.5, primitive=3e-6, mlp_tape=1.3e-3, setup=2.5, symbolic=40e-6, extra=2)
    )
    assert set(statuses.values()) == {"fail"}


def test_each_goal_judges_its_own_number():
    names = [goal.name for goal in GOALS]
    statuses = _statuses(_synthetic_table(primitive=2.5e-6))
    assert statuses[names[0]] == "fail"
    assert [statuses[name] for name in names[1:]] == ["pass"] * (len(names) - 1)
    # 1.19 ms: under 0.8 x autograd (1.2 ms), over 1.3 x the hand-written backprop (1.17 ms).
    statuses = _statuses(_synthetic_table(mlp_tape=1.19e-3))
    assert (statuses[names[2]], statuses[names[3]]) == ("pass", "fail")


def test_missing_sizes_make_a_goal_incomplete_and_missing_rows_not_measured():
    table = _synthetic_table()
    table = table[~((table["workload"] == "rosenbrock") & (table["size"] == 1_000))]
    goals = evaluate_goals(table, 10.0).set_index("goal")
    assert goals.loc[GOALS[1].name, "status"] == "incomplete"
    assert "1,000" in goals.loc[GOALS[1].name, "measured"]
    empty = evaluate_goals(pd.DataFrame(columns=BENCH_COLUMNS))
    assert set(empty["status"]) == {"not measured"}
    without_autograd = evaluate_goals(table[table["method"] != "autograd"]).set_index("goal")
    assert without_autograd.loc[GOALS[2].name, "status"] == "not measured"
    assert without_autograd.loc[GOALS[3].name, "status"] == "pass"


def test_timeouts_and_wrong_gradients_fail_goals():
    table = _synthetic_table()
    symbolic = (table["method"] == "symbolic_vector") & (table["size"] == 10_000)
    table.loc[symbolic, ["status", "median_s", "setup_s"]] = ["timeout", math.nan, math.nan]
    assert _statuses(table, budget_s=10.0)[GOALS[4].name] == "fail"
    assert _statuses(table, budget_s=10.0)[GOALS[5].name] == "fail"
    # A 1 s budget cannot tell whether the setup would have taken under 2 s.
    assert _statuses(table, budget_s=1.0)[GOALS[4].name] == "not measured"
    tape = (table["workload"] == "mlp") & (table["method"] == "tape")
    table.loc[tape, "status"] = "wrong"
    assert _statuses(table)[GOALS[2].name] == "fail"


# --- reports ---------------------------------------------------------------------------


def test_markdown_has_the_goal_and_result_tables(tiny_run):
    text = bench_markdown(tiny_run.table, tiny_run.goals, tiny_run.meta)
    lines = text.splitlines()
    assert lines[0] == "# diffcompare benchmarks"
    assert "| goal | target | measured | status |" in lines
    header = next(line for line in lines if line.startswith("| workload |"))
    columns = header.count("|")
    start = lines.index(header)
    body = lines[start + 2 : start + 2 + len(tiny_run.table)]
    assert lines[start + 1] == "|" + "---|" * (columns - 1)
    assert all(line.count("|") == columns for line in body)
    assert "numpy " in text and "autograd " in text and "thread(s)" in text


def test_markdown_escapes_pipes_in_messages():
    table = pd.DataFrame(
        [_row("w", 2, "m", math.nan, status="error", message="a | b")], columns=BENCH_COLUMNS
    )
    text = bench_markdown(table, evaluate_goals(table), {})
    assert "a \\| b" in text


def test_reports_are_written(tiny_run, tmp_path):
    paths = write_bench_reports(tmp_path / "out", tiny_run)
    assert sorted(p.name for p in paths) == ["bench.csv", "bench.md", "bench_meta.json"]
    written = pd.read_csv(tmp_path / "out" / "bench.csv")
    assert list(written.columns) == BENCH_COLUMNS
    assert len(written) == len(tiny_run.table)


# --- marginal cost per recorded primitive ----------------------------------------------

CHAINS = (1, 2, 4, 8, 16, 32, 64)


def test_fit_hard_coded_line():
    # k = 1, 2, 3 and t = 1, 3, 2: slope Sxt / Sxx = 1 / 2, intercept 2 - 2 x 1/2 = 1;
    # residuals -1/2, 1, -1/2, so the residual variance is 3/2 over one degree of freedom.
    fit = fit_marginal_cost([1, 2, 3], [1.0, 3.0, 2.0])
    assert (fit.slope, fit.intercept, fit.points) == (0.5, 1.0, 3)
    assert fit.slope_stderr == pytest.approx(math.sqrt(1.5 / 2))
    assert fit.intercept_stderr == pytest.approx(math.sqrt(1.5 * (1 / 3 + 4 / 2)))


def test_fit_recovers_a_known_slope_and_intercept():
    seconds = [4e-6 + 1.5e-6 * k for k in CHAINS]
    fit = fit_marginal_cost(CHAINS, seconds)
    assert fit.slope == pytest.approx(1.5e-6, rel=1e-12)
    assert fit.intercept == pytest.approx(4e-6, rel=1e-12)
    assert fit.slope_stderr == pytest.approx(0.0, abs=1e-18)
    assert fit.intercept_stderr == pytest.approx(0.0, abs=1e-18)
    assert fit.points == len(CHAINS)


def test_fit_agrees_with_numpy_polyfit_on_noisy_medians():
    lengths = np.array(CHAINS, dtype=float)
    seconds = 3e-6 + 0.5e-6 * lengths + np.random.default_rng(1).normal(0.0, 1e-7, lengths.size)
    fit = fit_marginal_cost(lengths, seconds)
    (slope, intercept), covariance = np.polyfit(lengths, seconds, 1, cov=True)
    assert (fit.slope, fit.intercept) == pytest.approx((slope, intercept), rel=1e-10)
    assert (fit.slope_stderr, fit.intercept_stderr) == pytest.approx(np.sqrt(np.diag(covariance)), rel=1e-8)


def test_fit_properties():
    lengths = np.array(CHAINS, dtype=float)
    seconds = 2e-6 + 0.7e-6 * lengths + np.random.default_rng(2).normal(0.0, 5e-8, lengths.size)
    fit = fit_marginal_cost(lengths, seconds)
    # A fixed cost added to every call moves the intercept only.
    shifted = fit_marginal_cost(lengths, seconds + 1e-5)
    assert shifted.slope == pytest.approx(fit.slope, rel=1e-9)
    assert shifted.intercept == pytest.approx(fit.intercept + 1e-5, rel=1e-9)
    assert shifted.slope_stderr == pytest.approx(fit.slope_stderr, rel=1e-6)
    # A slower machine (every time doubled) doubles every figure.
    doubled = fit_marginal_cost(lengths, 2 * seconds)
    assert (doubled.slope, doubled.intercept) == pytest.approx((2 * fit.slope, 2 * fit.intercept))
    assert doubled.slope_stderr == pytest.approx(2 * fit.slope_stderr)
    # The order of the points does not matter.
    order = np.random.default_rng(3).permutation(lengths.size)
    permuted = fit_marginal_cost(lengths[order], seconds[order])
    assert (permuted.slope, permuted.intercept) == pytest.approx((fit.slope, fit.intercept), rel=1e-12)


def test_fit_through_two_points_is_exact_without_errors():
    fit = fit_marginal_cost([1, 3], [5.0, 9.0])
    assert (fit.slope, fit.intercept, fit.points) == (2.0, 3.0, 2)
    assert math.isnan(fit.slope_stderr) and math.isnan(fit.intercept_stderr)


@pytest.mark.parametrize(
    ("lengths", "seconds", "match"),
    [
        ([1, 2, 4], [1.0, 2.0], "same length"),
        ([[1, 2], [4, 8]], [[1.0, 2.0], [3.0, 4.0]], "1-D"),
        ([1, 2, 4], [1.0, math.nan, 3.0], "finite"),
        ([1, math.inf, 4], [1.0, 2.0, 3.0], "finite"),
        ([4, 4, 4], [1.0, 2.0, 3.0], "two distinct lengths"),
        ([], [], "two distinct lengths"),
    ],
)
def test_fit_rejects_bad_input(lengths, seconds, match):
    with pytest.raises(ValueError, match=match):
        fit_marginal_cost(lengths, seconds)


def test_sin_chain_is_nested_sin():
    x = np.array(0.3)
    assert sin_chain(1)(x, np) == np.sin(0.3)
    assert sin_chain(2)(x, np) == np.sin(np.sin(0.3))
    with pytest.raises(ValueError, match="sins"):
        sin_chain(0)


def test_sin_chain_references_are_the_chain_rule():
    one, two = sin_chain_cases([1, 2], seed=5)
    # The 1-sin case's numpy_forward returns sin(x); x is drawn from [-1, 1], where
    # arcsin undoes sin, so this recovers the point without repeating how it is drawn.
    point = np.arcsin(one.candidates[0].setup()())
    assert one.reference == pytest.approx(np.cos(point), rel=1e-14)
    assert two.reference == pytest.approx(np.cos(np.sin(point)) * np.cos(point), rel=1e-14)
    assert [case.size for case in (one, two)] == [1, 2]


def _chain_table(slopes, intercepts, lengths=CHAINS, status=None):
    """Synthetic ``sin_chain`` rows: exact lines ``intercept + slope k`` per method."""
    rows = []
    for k in lengths:
        for method in slopes:
            row_status = (status or {}).get((method, k), "ok")
            seconds = intercepts[method] + slopes[method] * k if row_status == "ok" else math.nan
            rows.append(_row("sin_chain", k, method, seconds, status=row_status))
        rows.append(
            _row("sin_chain", k, "torch", math.nan, status="skipped", message="torch is not importable")
        )
    return pd.DataFrame(rows, columns=BENCH_COLUMNS)


SLOPES = {"numpy_forward": 0.2e-6, "autograd": 6e-6, "tape": 3e-6}
INTERCEPTS = {"numpy_forward": 0.5e-6, "autograd": 30e-6, "tape": 6e-6}


def test_marginal_rows_fit_each_method():
    rows = pd.DataFrame(marginal_rows(_chain_table(SLOPES, INTERCEPTS)), columns=BENCH_COLUMNS)
    assert list(rows["workload"]) == ["sin_chain_slope"] * 4 + ["sin_chain_intercept"] * 4
    assert list(rows["method"]) == ["numpy_forward", "autograd", "tape", "torch"] * 2
    assert (rows["size"] == 64).all()
    fitted = rows.set_index(["workload", "method"])
    for method in SLOPES:
        slope = fitted.loc[("sin_chain_slope", method)]
        intercept = fitted.loc[("sin_chain_intercept", method)]
        assert slope["status"] == intercept["status"] == "ok"
        assert slope["median_s"] == pytest.approx(SLOPES[method], rel=1e-9)
        assert intercept["median_s"] == pytest.approx(INTERCEPTS[method], rel=1e-9)
        assert slope["message"].startswith("informational")
    assert fitted.loc[("sin_chain_slope", "tape"), "ratio_tape_to_autograd"] == pytest.approx(0.5)
    assert fitted.loc[("sin_chain_intercept", "tape"), "ratio_tape_to_autograd"] == pytest.approx(0.2)
    assert fitted.loc[("sin_chain_slope", "autograd"), "ratio_to_forward"] == pytest.approx(30.0)
    torch = fitted.loc[("sin_chain_slope", "torch")]
    assert torch["status"] == "skipped" and torch["message"] == "torch is not importable"
    assert math.isnan(torch["median_s"])


def test_marginal_rows_do_not_fit_a_method_with_a_failed_chain():
    table = _chain_table(SLOPES, INTERCEPTS, status={("tape", 32): "timeout", ("tape", 64): "timeout"})
    fitted = pd.DataFrame(marginal_rows(table)).set_index(["workload", "method"])
    tape = fitted.loc[("sin_chain_slope", "tape")]
    assert tape["status"] == "timeout"
    assert tape["message"] == "not fitted: the chain of 32 sins is timeout"
    assert math.isnan(tape["median_s"]) and math.isnan(tape["ratio_tape_to_autograd"])
    assert fitted.loc[("sin_chain_slope", "autograd"), "status"] == "ok"
    # One length only: a row saying why, not an exception.
    single = pd.DataFrame(marginal_rows(_chain_table(SLOPES, INTERCEPTS, lengths=(8,))))
    assert set(single.loc[single["method"] != "torch", "status"]) == {"error"}
    assert single["message"].iloc[0].startswith("not fitted: a slope needs")
    assert marginal_rows(_synthetic_table()) == []


@pytest.fixture(scope="module")
def chain_run():
    config = BenchConfig(
        workloads=("primitive", "sin_chain"), chain_lengths=(1, 2, 3), repeats=1, min_repeats=1,
        min_run_time=0.0, budget_s=30.0, case_seconds=0.0,
    )  # fmt: skip
    return run_benchmark(config, command="test")


def test_chain_run_times_every_chain_and_fits_after_them(chain_run):
    table = chain_run.table
    assert list(dict.fromkeys(table["workload"])) == [
        "primitive", "sin_chain", "sin_chain_slope", "sin_chain_intercept",
    ]  # fmt: skip
    chains = table[table["workload"] == "sin_chain"]
    assert len(chains) == 12  # numpy_forward, autograd, tape, torch at each length
    assert list(dict.fromkeys(chains["size"])) == [1, 2, 3]
    # Every gradient of every chain is right; only torch may be missing.
    assert set(chains.loc[chains["method"] != "torch", "status"]) == {"ok"}
    gradients = chains[chains["method"].isin(["autograd", "tape"])]
    assert len(gradients) == 6
    assert (gradients["rel_err"] < 1e-12).all()
    torch = chains[chains["method"] == "torch"]
    assert len(torch) == 3
    assert (torch["rel_err"] < 1e-12).eq(torch["status"] == "ok").all()  # NaN where skipped
    forward_passes = chains[chains["method"] == "numpy_forward"]
    assert len(forward_passes) == 3 and forward_passes["rel_err"].isna().all()
    fitted = table[table["workload"].isin(["sin_chain_slope", "sin_chain_intercept"])]
    ok = fitted[fitted["method"] != "torch"]
    assert len(ok) == 6
    assert set(ok["status"]) == {"ok"} and np.isfinite(ok["median_s"].astype(float)).all()
    # Informational only: the goals are the same seven, judged the same way.
    assert list(chain_run.goals["goal"]) == [goal.name for goal in GOALS]


def test_markdown_labels_the_marginal_cost_as_informational(chain_run):
    text = bench_markdown(chain_run.table, chain_run.goals, chain_run.meta)
    lines = text.splitlines()
    goals, section, results = (
        lines.index("## Goals of issue 6"),
        lines.index("## Marginal cost per recorded sin (informational)"),
        lines.index("## Results"),
    )
    assert goals < section < results
    assert "Not a goal" in lines[section + 2]
    assert any(
        line.startswith("| tape marginal cost per sin (slope over chains of 1-3 sins) | ok |")
        for line in lines
    )
    assert any(line.startswith("| autograd fixed cost per call (intercept) | ok |") for line in lines)
    # The goal keeps the definition, and fitted lines are not timing rows.
    assert "| tape per-primitive overhead (one sin, forward + record + backward) | <= 2 us |" in text
    assert not any(line.startswith("| sin_chain_slope") for line in lines[results:])
    assert any(line.startswith("| sin_chain | 3 | tape |") for line in lines[results:])


def test_markdown_has_no_marginal_section_without_chains(tiny_run):
    assert "Marginal cost" not in bench_markdown(tiny_run.table, tiny_run.goals, tiny_run.meta)


def test_config_rejects_bad_values():
    with pytest.raises(ValueError, match="workloads"):
        BenchConfig(workloads=("nope",))
    with pytest.raises(ValueError, match="sizes"):
        BenchConfig(sizes=(1,))
    with pytest.raises(ValueError, match="repeats"):
        BenchConfig(repeats=0)
    with pytest.raises(ValueError, match="seed"):
        BenchConfig(seed=-1)
    for lengths in [(4,), (2, 1), (0, 1), (1, 1, 2), (1, 2.5)]:
        with pytest.raises(ValueError, match="chain_lengths"):
            BenchConfig(chain_lengths=lengths)
