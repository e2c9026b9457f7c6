"""The harness: one row per case, a status for every failure, deterministic accuracy."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

import diffcompare
from diffcompare.harness.run import (
    COLUMNS,
    STATUSES,
    HarnessOptions,
    reference_values,
    run_function,
    run_suite,
)
from diffcompare.methods import METHODS, PreparedGradient
from diffcompare.methods.symbolic.namespace import SymbolicArray
from diffcompare.suite.records import HardPoint, SuiteFunction

EPS = np.finfo(np.float64).eps
ACCURACY_ONLY = HarnessOptions(timing=False, budget_s=20.0)
QUICK_TIMING = HarnessOptions(repeats=2, min_run_time=0.0, budget_s=20.0)

REQUIRED = [
    "function", "dim", "point", "method", "status", "max_rel_err", "median_rel_err", "max_ulp_err",
    "max_abs_err", "setup_s", "eval_s", "eval_runs", "forward_s", "ratio_to_forward", "f_evals",
    "expr_ops", "message",
]  # fmt: skip


def test_schema_holds_the_required_columns():
    assert set(REQUIRED) <= set(COLUMNS)
    table = run_suite(diffcompare.suite(["booth"]), ACCURACY_ONLY)
    assert list(table.columns) == COLUMNS
    assert len(table) == 3 * len(diffcompare.METHODS)
    assert set(table["status"]) <= set(STATUSES)


def test_timing_columns_are_filled_and_consistent():
    table = run_suite(diffcompare.suite(["booth"]), QUICK_TIMING)
    assert len(table) == 3 * len(diffcompare.METHODS)  # booth has no hard points
    assert (table["status"] == "ok").all()
    assert (table["eval_s"] > 0).all() and (table["setup_s"] >= 0).all() and (table["forward_s"] > 0).all()
    np.testing.assert_allclose(table["ratio_to_forward"], table["eval_s"] / table["forward_s"])
    assert (table["eval_runs"] >= 2).all()
    central = table[table["method"] == "central"]
    assert len(central) == 3 and (central["f_evals"] == 4).all()
    symbolic = table[table["method"] == "symbolic"]
    assert len(symbolic) == 3 and (symbolic["expr_ops"] > 0).all() and (symbolic["cse_ops"] > 0).all()
    tape_nodes = table.loc[table["method"] == "tape", "tape_nodes"]
    assert len(tape_nodes) == 3 and (tape_nodes > 0).all()


def test_accuracy_only_leaves_timing_empty():
    table = run_suite(diffcompare.suite(["booth"]), ACCURACY_ONLY)
    assert len(table) == 3 * len(diffcompare.METHODS)
    assert table["eval_s"].isna().all()
    assert table["max_rel_err"].notna().all()


def test_a_function_that_raises_becomes_error_rows_and_the_run_goes_on():
    def broken(x, xp):
        raise RuntimeError("model diverged")

    records = [SuiteFunction("broken", broken, 2, (0.5, 1.5)), *diffcompare.suite(["booth"])]
    table = run_suite(records, ACCURACY_ONLY)
    broken_rows = table[table["function"] == "broken"]
    assert len(broken_rows) == 3 * len(diffcompare.METHODS)
    assert (broken_rows["status"] == "error").all()
    assert broken_rows["message"].str.contains("model diverged").all()
    booth_rows = table[table["function"] == "booth"]
    assert len(booth_rows) == 3 * len(diffcompare.METHODS)
    assert (booth_rows["status"] == "ok").all()


def test_nan_from_one_method_is_nonfinite_and_others_stay_ok():
    # softplus at 800: SymPy's exp(x)/(1 + exp(x)) is inf/inf = nan, the tape is fine
    table = run_suite(diffcompare.suite(["softplus_sum"]), ACCURACY_ONLY)
    hard = table[table["kind"] == "saturation"].set_index("method")
    assert hard.loc["symbolic", "status"] == "nonfinite"
    assert "inf or nan" in hard.loc["symbolic", "message"]
    assert hard.loc["tape", "status"] == "ok"


def test_singular_reference_is_nonfinite_with_its_reason():
    record = SuiteFunction("sqrt_at_zero", lambda x, xp: xp.sum(xp.sqrt(x)), 1, (0.0, 0.0))
    table = run_suite([record], ACCURACY_ONLY)
    complex_step = table["method"] == "complex_step"
    assert complex_step.sum() == 3 and (~complex_step).sum() == 3 * (len(diffcompare.METHODS) - 1)
    assert (table.loc[~complex_step, "status"] == "nonfinite").all()
    assert table.loc[~complex_step, "message"].str.contains("no reference").all()
    # the complex step refuses: its value there depends on its step
    assert (table.loc[complex_step, "status"] == "error").all()


def test_a_point_on_a_pole_gives_rows_that_say_so_and_no_error_numbers():
    # log(x - 0.5) at x = (0.5, 0.5): f is -inf; no row may carry an accuracy figure
    record = SuiteFunction("log_pole", lambda x, xp: xp.sum(xp.log(x - 0.5)), 2, (0.5, 0.5))
    table = run_suite([record], ACCURACY_ONLY)
    assert len(table) == 3 * len(diffcompare.METHODS)
    assert table["max_rel_err"].isna().all()
    complex_step = table["method"] == "complex_step"
    assert complex_step.sum() == 3
    assert (table.loc[complex_step, "status"] == "error").all()
    assert (table.loc[~complex_step, "status"] == "nonfinite").all()
    assert table.loc[complex_step, "message"].str.contains("complex step is not reliable at x").all()
    assert table.loc[~complex_step, "message"].str.contains("the derivative is infinite here").all()


def test_next_to_a_pole_every_row_is_scored_and_richardson_says_its_estimate_is_infinite():
    # 1/(x - 0.5) + x[1] at 0.5 + 2^-20: the derivative is -2^40 = -1.1e12
    def next_to_a_pole(x, xp):
        return 1.0 / (x[0] - 0.5) + x[1]

    point = HardPoint("near_singularity", (0.5 + 2.0**-20, 1.5), "2^-20 from the pole")
    record = SuiteFunction("next_to_a_pole", next_to_a_pole, 2, (1.0, 2.0), hard_points=(point,))
    table = run_suite([record], HarnessOptions(timing=False, ordinary_points=0)).set_index("method")
    assert list(table.index) == list(diffcompare.METHODS)
    assert (table["status"] == "ok").all()
    exact = ["symbolic", "symbolic_vector", "symengine", "autograd", "tape", "forward", "complex_step"]
    assert (table.loc[exact, "max_rel_err"] <= 1e-15).all()
    assert (table.loc[exact, "message"] == "").all()
    # central: +2.8e10 (its step spans the pole), scored as it is
    central = 1.0 / (np.cbrt(EPS) ** 2 - 2.0**-40)
    assert table.loc["central", "max_rel_err"] == pytest.approx(1.0 + central / 2.0**40)
    assert table.loc["central", "message"] == ""
    # richardson: 500, with an infinite estimate of its own, and a row that says so
    assert table.loc["richardson", "max_rel_err"] == pytest.approx(1.0, abs=1e-9)
    assert table.loc["richardson", "err_estimate"] == np.inf
    note = "the method's own error estimate is infinite at components [0]"
    assert table.loc["richardson", "message"] == note


def test_a_richardson_estimate_short_of_the_error_is_noted():
    # rastrigin at x ~ 1e6: the steps average cos(2 pi x) away (see diffcompare.methods.richardson.ladder)
    options = HarnessOptions(methods=("richardson",), timing=False, ordinary_points=0)
    table = run_suite(diffcompare.suite(["rastrigin"]), options)
    assert list(table["kind"]) == ["large"]
    assert table.loc[0, "status"] == "ok"
    assert table.loc[0, "message"] == "the error exceeds the method's own estimate at components [0, 1, 2]"


def test_a_sympy_blow_up_is_a_timeout_row():
    def explodes_under_sympy(x, xp):
        if isinstance(x, SymbolicArray):
            while True:  # stands for SymPy work that never finishes
                pass
        return xp.sum(x**2)

    record = SuiteFunction("sympy_blow_up", explodes_under_sympy, 2, (0.5, 1.5))
    options = HarnessOptions(methods=("symbolic", "tape"), timing=False, budget_s=0.3)
    table = run_suite([record], options)
    symbolic = table[table["method"] == "symbolic"]
    assert len(symbolic) == 3
    assert (symbolic["status"] == "timeout").all()
    assert symbolic["message"].str.contains("0.3").all()
    # the full reference timed out too: the tape is scored along a random direction instead
    tape = table[table["method"] == "tape"]
    assert len(tape) == 3
    assert (tape["status"] == "directional").all() and tape["message"].str.contains("timeout").all()
    assert tape["max_rel_err"].isna().all()
    assert (tape["dir_rel_err"] <= METHODS["tape"].accuracy).all()


def test_missing_operation_is_unsupported():
    # numpy's qr: central evaluates it, the tape and the reference (SymPy) refuse it by name
    def f(x, xp):
        return xp.linalg.qr(xp.reshape(x, (2, 2)))[1][1, 1] ** 2

    record = SuiteFunction("uses_qr", f, 4, (0.5, 1.5))
    table = run_suite([record], HarnessOptions(methods=("tape", "central"), timing=False))
    assert len(table) == 6
    tape, central = table[table["method"] == "tape"], table[table["method"] == "central"]
    assert (tape["status"] == "unsupported").all()
    assert tape["message"].str.contains("tape does not support 'linalg.qr'").all()
    assert (central["status"] == "no_reference").all()
    assert central["message"].str.contains("symbolic does not support 'linalg.qr'").all()


def test_too_large_for_the_reference_still_has_timings():
    (rosenbrock,) = diffcompare.suite(["rosenbrock"])
    options = HarnessOptions(
        methods=("tape",), repeats=2, min_run_time=0.0, ordinary_points=1, hard_points=False
    )
    (row,) = run_function(rosenbrock.resized(300), options)
    assert row["status"] == "directional"
    assert "exceeds" in row["message"]
    assert row["eval_s"] > 0
    assert row["dir_rel_err"] <= METHODS["tape"].accuracy


def test_same_seed_same_accuracy_and_another_seed_other_points():
    records = diffcompare.suite(["mlp_loss", "softmax_cross_entropy"])
    accuracy = ["x", "max_rel_err", "norm_rel_err", "max_ulp_err", "max_abs_err"]
    first = run_suite(records, ACCURACY_ONLY)[accuracy]
    pd.testing.assert_frame_equal(first, run_suite(records, ACCURACY_ONLY)[accuracy])
    reseeded = run_suite(records, HarnessOptions(timing=False, seed=7))
    assert not reseeded["x"].equals(first["x"])


def test_jobs_give_the_same_accuracy_as_one_process():
    records = diffcompare.suite(["beale", "tanh_sum"])
    accuracy = ["function", "point", "method", "status", "max_rel_err", "max_ulp_err"]
    serial = run_suite(records, ACCURACY_ONLY, jobs=1)[accuracy]
    parallel = run_suite(records, ACCURACY_ONLY, jobs=2)[accuracy]
    pd.testing.assert_frame_equal(serial, parallel)


def _not_rosenbrock(x, xp):
    # module level, so a worker receives it by reference
    return xp.sum(xp.sin(x) * x)


def test_jobs_score_a_users_function_against_its_own_reference_not_a_suite_namesake():
    # named like a suite function but defined differently; the workers must not swap them
    record = SuiteFunction("rosenbrock", _not_rosenbrock, 3, (-2.0, 2.0))
    options = HarnessOptions(methods=("tape",), timing=False, budget_s=20.0)
    accuracy = ["function", "point", "method", "status", "max_rel_err", "max_ulp_err", "x"]
    serial = run_suite([record], options, jobs=1)[accuracy]
    parallel = run_suite([record], options, jobs=2)[accuracy]
    assert len(parallel) == 3
    assert (parallel["status"] == "ok").all()
    assert (parallel["max_rel_err"] < 1e-15).all()
    pd.testing.assert_frame_equal(serial, parallel)


def test_jobs_with_a_record_that_cannot_be_pickled_compute_its_reference_here_with_a_warning():
    record = SuiteFunction("rosenbrock", lambda x, xp: xp.sum(xp.sin(x) * x), 3, (-2.0, 2.0))
    options = HarnessOptions(methods=("tape",), timing=False, budget_s=20.0)
    with pytest.warns(RuntimeWarning, match="reference of 'rosenbrock' is computed in this process"):
        table = run_suite([record, *diffcompare.suite(["booth"])], options, jobs=2)
    assert list(table["function"]) == ["rosenbrock"] * 3 + ["booth"] * 3
    assert (table["status"] == "ok").all()
    assert (table["max_rel_err"] < 1e-15).all()


def test_rows_are_kept_when_interrupted(interrupt_second_function):
    rows = []
    with pytest.raises(KeyboardInterrupt):
        run_suite(diffcompare.suite(["booth", "beale"]), ACCURACY_ONLY, rows=rows)
    assert {row["function"] for row in rows} == {"booth"}


def test_bad_options_are_refused():
    with pytest.raises(ValueError, match="unknown methods"):
        HarnessOptions(methods=("forward_mode_typo",))
    with pytest.raises(ValueError, match="repeats must be an integer >= 1"):
        HarnessOptions(repeats=0)
    with pytest.raises(ValueError, match="jobs must be an integer >= 1"):
        run_suite(diffcompare.suite(["booth"]), ACCURACY_ONLY, jobs=0)


def test_the_scaling_study_does_not_rerun_a_method_at_larger_sizes_after_a_timeout():
    from diffcompare.harness.studies import scaling_study

    options = HarnessOptions(methods=("symbolic", "tape"), timing=False, budget_s=0.5)
    table = scaling_study(options, rosenbrock_sizes=(2, 150, 300), mlp_sizes=()).set_index(["dim", "method"])
    assert table.loc[(2, "symbolic"), "status"] != "timeout"
    assert table.loc[(150, "symbolic"), "status"] == "timeout"
    assert table.loc[(150, "symbolic"), "message"] == "time budget of 0.5 s exceeded"
    assert table.loc[(300, "symbolic"), "status"] == "timeout"
    skipped = "not run: it exceeded the time budget at the smaller n = 150"
    assert table.loc[(300, "symbolic"), "message"] == skipped
    assert (table.xs("tape", level="method")["status"] != "timeout").all()
    assert list(table.index.get_level_values("method")) == ["symbolic", "tape"] * 3


# --- no reference: agreement only ------------------------------------------------------

EXACT_RUNNING = ("tape", "forward", "autograd", "complex_step")


def _branching(x, xp):
    # Python control flow on a value: the tracers that see values follow it, SymPy cannot
    if x[0] > 0:
        return xp.sum(xp.sin(x) * x) + xp.logsumexp(x)
    return xp.sum(x)


def _branching_gradient(x):
    softmax = np.exp(x - np.max(x)) / np.sum(np.exp(x - np.max(x)))
    return np.cos(x) * x + np.sin(x) + softmax


def test_without_a_reference_every_method_that_ran_keeps_its_gradient_and_agreement():
    x = np.array([0.5, 1.0, -2.0])
    table = diffcompare.compare(
        _branching, x, methods=[*EXACT_RUNNING, "central", "symbolic"], timing=False, directional=False
    )
    rows = table.set_index("method")
    assert rows.loc["symbolic", "status"] == "unsupported"  # it failed itself: its own status
    assert "Python control flow" in rows.loc["symbolic", "message"]
    ran = rows.drop(index="symbolic")
    assert (ran["status"] == "no_reference").all()
    assert ran["message"].str.startswith("no reference: agreement only; SymPy could not trace").all()
    assert (
        ran["message"]
        .str.endswith("consensus of tape, forward, autograd, complex_step (agreeing within 1e-06)")
        .all()
    )
    assert ran[["max_rel_err", "norm_rel_err", "max_ulp_err"]].isna().all().all()  # no error figures
    # the figures are finite and as small as each method's record says
    assert (ran.loc[list(EXACT_RUNNING), "consensus_dist"] <= METHODS["tape"].accuracy).all()
    assert ran.loc["central", "consensus_dist"] <= METHODS["central"].accuracy
    assert ran["grad_max_abs"].to_numpy() == pytest.approx(np.max(np.abs(_branching_gradient(x))), rel=1e-8)
    assert set(ran.loc["tape", "agrees_with"].split()) == {"forward", "autograd", "complex_step", "central"}


def test_a_function_too_large_for_the_reference_is_compared_method_to_method():
    (rosenbrock,) = diffcompare.suite(["rosenbrock"])
    options = HarnessOptions(
        methods=("tape", "forward", "central"),
        timing=False,
        ordinary_points=1,
        hard_points=False,
        directional=False,
    )
    rows = {row["method"]: row for row in run_function(rosenbrock.resized(300), options)}
    assert {row["status"] for row in rows.values()} == {"no_reference"}
    assert all("exceeds" in row["message"] for row in rows.values())
    assert rows["tape"]["consensus_dist"] <= 1e-15 and rows["forward"]["consensus_dist"] <= 1e-15
    assert 0 < rows["central"]["consensus_dist"] <= METHODS["central"].accuracy
    assert rows["central"]["agrees_with"] == "tape forward"


class _OffByAFactor:
    """A deliberately broken exact method: the forward-mode gradient times 1.001."""

    name, family, accuracy, requires = "forward", "exact", 1e-14, None

    def evaluations(self, dim):
        return 1

    def prepare(self, f, dim):
        prepared = METHODS_BEFORE["forward"].prepare(f, dim)
        return PreparedGradient(lambda x: 1.001 * prepared.gradient(x))


METHODS_BEFORE = dict(METHODS)


def test_a_broken_method_shows_as_disagreeing(monkeypatch):
    monkeypatch.setitem(METHODS, "forward", _OffByAFactor())
    x = np.array([0.5, 1.0, -2.0])
    table = diffcompare.compare(
        _branching, x, methods=[*EXACT_RUNNING, "central"], timing=False, directional=False
    )
    rows = table.set_index("method")
    assert rows.loc["forward", "status"] == "no_reference"
    assert rows.loc["forward", "consensus_dist"] == pytest.approx(1e-3, rel=1e-6)
    assert rows.loc["forward", "agrees_with"] == ""
    assert all("forward" not in rows.loc[m, "agrees_with"].split() for m in ("tape", "autograd", "central"))
    assert (
        rows["message"]
        .str.endswith("consensus of tape, autograd, complex_step (agreeing within 1e-06)")
        .all()
    )


def test_agreement_needs_two_exact_methods_and_one_largest_camp():
    from diffcompare.harness.agreement import AGREEMENT_RTOL, agreement, gradient_distance

    g = np.array([1.0, -2.0, 4.0])
    near = g * (1.0 + 0.5 * AGREEMENT_RTOL)
    far = g * (1.0 + 2.0 * AGREEMENT_RTOL)
    assert gradient_distance(g, near) <= AGREEMENT_RTOL < gradient_distance(g, far)
    camps = agreement(
        {"tape": g, "forward": g, "autograd": -g, "symbolic": -g}, {"tape", "forward", "autograd", "symbolic"}
    )
    assert camps.consensus == () and np.isnan(camps.consensus_dist["tape"])
    assert camps.agrees_with == {
        "tape": ("forward",),
        "forward": ("tape",),
        "autograd": ("symbolic",),
        "symbolic": ("autograd",),
    }
    alone = agreement({"tape": g, "central": near}, {"tape"})
    assert alone.consensus == () and alone.agrees_with["central"] == ("tape",)
    nan = agreement({"tape": g, "forward": g, "autograd": g * np.nan}, {"tape", "forward", "autograd"})
    assert nan.consensus == ("tape", "forward") and nan.agrees_with["autograd"] == ()
    assert nan.consensus_dist["autograd"] == np.inf


def test_the_column_docs_cover_every_column_and_say_agreement_is_not_accuracy():
    from diffcompare.harness.run import COLUMN_DOCS

    assert list(COLUMN_DOCS) == COLUMNS
    assert "agreement, not accuracy" in COLUMN_DOCS["consensus_dist"]
    assert "no_reference" in COLUMN_DOCS["status"]


def test_without_a_full_reference_every_method_is_scored_along_a_random_direction(monkeypatch):
    # SymPy cannot trace the Python branch; the directional truth follows it on values
    x = np.array([0.5, 1.0, -2.0])
    table = diffcompare.compare(_branching, x, methods=[*EXACT_RUNNING, "central"], timing=False)
    rows = table.set_index("method")
    assert (rows["status"] == "directional").all()
    assert rows["message"].str.startswith("no full reference: error along one random direction only").all()
    assert (rows.loc[list(EXACT_RUNNING), "dir_rel_err"] <= METHODS["tape"].accuracy).all()
    assert 0 < rows.loc["central", "dir_rel_err"] <= METHODS["central"].accuracy
    assert rows[["max_rel_err", "norm_rel_err"]].isna().all().all()
    # a gradient off by 0.1 % is measured as off by about that much along the direction
    monkeypatch.setitem(METHODS, "forward", _OffByAFactor())
    broken = diffcompare.compare(_branching, x, methods=["tape", "forward"], timing=False)
    err = broken.set_index("method")["dir_rel_err"]
    assert err["tape"] <= 1e-15 and 1e-4 < err["forward"] <= 1e-3


def test_the_scaling_study_takes_references_sent_ahead_and_gives_the_same_rows():
    from concurrent.futures import Future

    from diffcompare.harness.run import reference_values
    from diffcompare.harness.studies import scaling_cases, scaling_options, scaling_study

    options = HarnessOptions(methods=("tape", "central"), timing=False, budget_s=20.0)
    cases = scaling_cases((2, 10), ())
    futures = []
    for _, record in cases:
        future = Future()
        future.set_result(reference_values(record, scaling_options(options)))
        futures.append(future)
    here = scaling_study(options, (2, 10), ())
    sent = scaling_study(options, (2, 10), (), references=futures)
    accuracy = [c for c in COLUMNS if c not in ("setup_s",)]
    pd.testing.assert_frame_equal(here[accuracy], sent[accuracy])
    assert (here["status"] == "ok").all() and list(here["dim"]) == [2, 2, 10, 10]


def test_setup_trials_stop_at_the_first_timeout_and_the_scaling_study_takes_it_as_its_own():
    import pickle

    from diffcompare.harness.studies import mlp_record, scaling_cases, scaling_study, setup_trials

    cases = scaling_cases((2, 100, 1000), ())
    # SymPy's gradient of Rosenbrock takes seconds at n = 100: past a 0.3 s budget
    outcomes = setup_trials("symbolic", [record for _, record in cases], budget_s=0.3)
    assert outcomes[0] is None and len(outcomes) == 2  # n = 1000 is not tried after the timeout
    assert outcomes[1] == ("timeout", "time budget of 0.3 s exceeded")
    options = HarnessOptions(methods=("symbolic", "tape"), timing=False, budget_s=20.0, directional=False)
    table = scaling_study(options, (2, 100, 1000), (), trials={("rosenbrock", "symbolic"): outcomes})
    symbolic = table[table["method"] == "symbolic"].set_index("dim")
    assert symbolic.loc[2, "status"] == "ok"
    assert symbolic.loc[100, "status"] == "timeout" and symbolic.loc[100, "message"] == outcomes[1][1]
    not_run = symbolic.loc[1000, "message"]
    assert not_run.startswith("not run: it exceeded the time budget at the smaller n = 100")
    assert (table.loc[table["method"] == "tape", "status"] != "timeout").all()
    # the scaling MLPs go to a worker as their sizes, and are the same function there
    record = mlp_record((2, 3, 1), 4)
    sent = pickle.loads(pickle.dumps(record))
    x = record.points[0]
    assert sent.f(x, np) == record.f(x, np) and sent.dim == record.dim == 13


def test_while_timing_a_reference_the_worker_has_not_finished_is_computed_here_not_waited_for():
    from concurrent.futures import Future

    (booth,) = diffcompare.suite(["booth"])
    timed = HarnessOptions(methods=("tape",), repeats=1, min_run_time=0.0, budget_s=20.0)
    pending = Future()  # a worker that never gets to it
    rows = pd.DataFrame(run_function(booth, timed, pending))
    assert pending.cancelled()
    assert (rows["status"] == "ok").all() and (rows["max_rel_err"] <= 1e-15).all()
    # accuracy only, this process has nothing to time: it waits for the worker
    finished = Future()
    finished.set_result(reference_values(booth, ACCURACY_ONLY))
    untimed = pd.DataFrame(run_function(booth, replace(timed, timing=False), finished))
    pd.testing.assert_series_equal(untimed["max_rel_err"], rows["max_rel_err"])
