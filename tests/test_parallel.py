"""Work beyond one process: the executor choice, a Dask cluster, and sharded fuzzing campaigns.

A run on a Dask cluster (an in-process ``LocalCluster``: the same client, scheduler and
serialisation as a real one, without starting processes) must give the table of the
same run in one process, and a fuzzing campaign split into N shards must merge into
the reports of the unsharded run, byte for byte.
"""

from __future__ import annotations

import importlib.util
import io
import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from diffcompare.fuzz import build_expression, run_fuzz
from diffcompare.fuzz.classify import Verdict
from diffcompare.fuzz.report import write_reports
from diffcompare.fuzz.runner import FuzzCase
from diffcompare.fuzz.shards import (
    Campaign,
    merge_shards,
    parse_shard,
    read_shard,
    shard_file_name,
    shard_seeds,
    write_shard,
)
from diffcompare.harness.cli import main as compare_main
from diffcompare.harness.executors import (
    BESIDE_TIMING_NICENESS,
    check_parallel_options,
    open_executor,
    ordered_map,
)
from diffcompare.harness.run import TIMING_COLUMNS, HarnessOptions, run_suite
from diffcompare.suite.records import SuiteFunction, suite

HAVE_DASK = importlib.util.find_spec("distributed") is not None
needs_dask = pytest.mark.skipif(
    not HAVE_DASK, reason='needs dask.distributed: pip install "diffcompare[dask]"'
)

ROOT = Path(__file__).resolve().parent.parent
FUZZ_SCRIPT = ROOT / "scripts" / "fuzz.py"

#: Two cheap suite functions and two cheap methods, accuracy only.
TINY = HarnessOptions(methods=("tape", "central"), timing=False, budget_s=20.0)
TINY_FUNCTIONS = ("booth", "beale")
#: A handful of fuzz seeds (a second in one process), four of them with a disagreement
#: (symbolic_vector declines them), so that the order of the merged rows matters.
FUZZ_CAMPAIGN = Campaign(first_seed=5, n=7)


def _untimed(table: pd.DataFrame) -> pd.DataFrame:
    # setup_s is a measured time even without timing; everything else must be equal
    return table.drop(columns=[*TIMING_COLUMNS])


# ---------------------------------------------------------------------------------------
# The executor choice and its refusals
# ---------------------------------------------------------------------------------------


def test_one_local_job_runs_here_in_order():
    with open_executor(jobs=1) as executor:
        assert executor is None
        assert list(ordered_map(executor, abs, [-3, 1, -2])) == [3, 1, 2]


def test_a_process_pool_keeps_the_order_of_the_items_not_of_completion():
    # The first items take longest: completion order is the reverse of submission order.
    with open_executor(jobs=2) as executor:
        delays = [0.3, 0.2, 0.1, 0.0]
        assert list(ordered_map(executor, _sleep_and_return, delays)) == delays
        assert executor.submit(os.nice, 0).result() == os.nice(0)  # no caller timing: usual priority


def test_a_pool_beside_a_busy_caller_leaves_the_caller_its_core():
    # jobs counts the caller, who times meanwhile: two jobs are one worker, so every task
    # runs in the same process, never in this one; three jobs are two workers.
    with open_executor(jobs=2, caller_busy=True) as executor:
        pids = {executor.submit(_sleep_and_pid, 0.05).result() for _ in range(3)}
        assert len(pids) == 1 and os.getpid() not in pids
        # at the lowest priority, so that it never takes CPU time from the timing
        assert executor.submit(os.nice, 0).result() == min(19, os.nice(0) + BESIDE_TIMING_NICENESS)
        overlapping = [executor.submit(_sleep_and_pid, 0.2) for _ in range(2)]
        assert len({future.result() for future in overlapping}) == 1
    with open_executor(jobs=3, caller_busy=True) as executor:
        overlapping = [executor.submit(_sleep_and_pid, 0.3) for _ in range(2)]
        assert len({future.result() for future in overlapping}) == 2
    with open_executor(jobs=1, caller_busy=True) as executor:
        assert executor is None


def _sleep_and_pid(seconds: float) -> int:
    import time

    time.sleep(seconds)
    return os.getpid()


def _sleep_and_return(seconds: float) -> float:
    import time

    time.sleep(seconds)
    return seconds


@pytest.mark.parametrize(
    ("jobs", "scheduler", "error", "message"),
    [
        (0, None, ValueError, r"jobs must be an integer >= 1; got 0"),
        (2.0, None, TypeError, r"jobs must be an integer >= 1; got float"),
        (True, None, TypeError, r"jobs must be an integer >= 1; got bool"),
        (2, "tcp://127.0.0.1:8786", ValueError, r"jobs=2 and a scheduler are exclusive"),
        (1, "", ValueError, r"scheduler must be the address of a Dask scheduler; got an empty string"),
        (1, 8786, TypeError, r"scheduler must be an address string or a dask.distributed.Client; got int"),
    ],
)
def test_bad_parallel_options_are_refused_before_any_work(jobs, scheduler, error, message):
    with pytest.raises(error, match=message):
        check_parallel_options(jobs, scheduler)
    with pytest.raises(error, match=message):
        run_suite(suite(["booth"]), TINY, jobs=jobs, scheduler=scheduler)


def test_without_dask_a_scheduler_names_the_extra(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "distributed" else real(name, *a)
    )
    with pytest.raises(ImportError, match=r'pip install "diffcompare\[dask\]"'):
        check_parallel_options(1, "tcp://127.0.0.1:8786")


def test_the_command_line_refuses_jobs_with_a_scheduler_in_one_line(tmp_path, capsys):
    args = [
        "compare",
        "--quiet",
        "--no-studies",
        "--no-timing",
        "--functions",
        "booth",
        "--out",
        str(tmp_path),
    ]
    with pytest.raises(SystemExit) as exit_status:
        compare_main([*args, "--jobs", "2", "--scheduler", "tcp://127.0.0.1:8786"])
    assert exit_status.value.code == 2
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert (
        last.startswith("diffcompare compare: error: ") and "--jobs=2 and a scheduler are exclusive" in last
    )
    assert not (tmp_path / "results.csv").exists()


def test_the_dask_extra_is_declared():
    text = (ROOT / "pyproject.toml").read_text()
    assert 'dask = ["dask[distributed]' in text


# ---------------------------------------------------------------------------------------
# A Dask cluster gives the table of one process
# ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cluster():
    if not HAVE_DASK:
        pytest.skip('needs dask.distributed: pip install "diffcompare[dask]"')
    from distributed import LocalCluster

    with LocalCluster(processes=False, n_workers=1, threads_per_worker=2, dashboard_address=None) as local:
        yield local


def _not_booth(x, xp):
    # module level, so that it travels by reference; named like a suite function on purpose
    return xp.sum(xp.sin(x) * x) + x[0] * x[1]


@needs_dask
def test_a_dask_cluster_gives_the_table_of_one_process(cluster):
    records = [*suite(TINY_FUNCTIONS), SuiteFunction("booth", _not_booth, 2, (-2.0, 2.0))]
    here = run_suite(records, TINY, jobs=1)
    with pytest.warns(RuntimeWarning, match="time budgets are not enforced on Dask workers"):
        there = run_suite(records, TINY, scheduler=cluster.scheduler_address)
    pd.testing.assert_frame_equal(_untimed(there), _untimed(here), check_exact=True)
    # the user's "booth" was scored against its own reference, not the suite's namesake
    assert (there["status"] == "ok").all() and (
        there.loc[there["method"] == "tape", "max_rel_err"] < 1e-14
    ).all()
    assert list(there["function"]) == ["booth"] * 6 + ["beale"] * 6 + ["booth"] * 6


@needs_dask
def test_a_connected_client_is_used_and_left_open(cluster):
    from distributed import Client

    with Client(cluster, set_as_default=False) as client:
        with pytest.warns(RuntimeWarning, match="not enforced"):
            table = run_suite(suite(["booth"]), TINY, scheduler=client)
        assert client.status == "running"
    assert len(table) == 3 * len(TINY.methods) and (table["status"] == "ok").all()


@needs_dask
def test_the_command_line_runs_on_a_scheduler(cluster, tmp_path):
    args = ["compare", "--quiet", "--no-studies", "--no-timing", "--methods", *TINY.methods]
    with pytest.warns(RuntimeWarning, match="not enforced"):
        status = compare_main(
            [
                *args,
                "--functions",
                *TINY_FUNCTIONS,
                "--scheduler",
                cluster.scheduler_address,
                "--out",
                str(tmp_path),
            ]
        )
    assert status == 0
    here = run_suite(suite(TINY_FUNCTIONS), TINY)
    accuracy = ["function", "point", "method", "status", "max_rel_err", "max_ulp_err", "x"]
    written = pd.read_csv(tmp_path / "results.csv")[accuracy]
    expected = pd.read_csv(io.StringIO(here.to_csv(index=False, float_format="%.6g")))[accuracy]  # as written
    pd.testing.assert_frame_equal(written, expected, check_exact=True)
    assert json.loads((tmp_path / "meta.json").read_text())["scheduler"] == cluster.scheduler_address


@needs_dask
def test_an_unreachable_scheduler_is_a_connection_error():
    import dask

    # the discard port: nothing listens; give up after 1 s instead of the default 30 s
    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}), pytest.warns(RuntimeWarning):
        with pytest.raises(ConnectionError, match="cannot reach the Dask scheduler at 'tcp://127.0.0.1:9'"):
            with open_executor(scheduler="tcp://127.0.0.1:9"):
                pass


@needs_dask
def test_the_fuzzer_on_dask_gives_the_cases_of_one_process(cluster):
    seeds = range(5)
    here = run_fuzz(seeds, workers=1)
    with pytest.warns(RuntimeWarning, match="not enforced"):
        there = run_fuzz(seeds, scheduler=cluster.scheduler_address)
    assert [_without_time(c) for c in there] == [_without_time(c) for c in here]
    with pytest.raises(ValueError, match="^workers=2 and a scheduler are exclusive"):
        run_fuzz(seeds, workers=2, scheduler=cluster.scheduler_address)


def _without_time(case: FuzzCase) -> tuple:
    # NaN != NaN: compare the errors by their text
    return case.expression, case.reference_status, repr(case.errors), case.verdicts


# ---------------------------------------------------------------------------------------
# Sharded fuzzing: a partition of the seeds, and a merge that gives the same bytes
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["0/3", "4/3", "3", "1/0", "a/b", "-1/2", "2/3/4", ""])
def test_bad_shards_are_refused(text):
    with pytest.raises(ValueError, match=r"^shard must be k/N with 1 <= k <= N; got "):
        parse_shard(text)


@pytest.mark.parametrize("count", [1, 2, 3, 5, 12])
def test_shards_partition_the_seeds(count):
    seeds = range(100, 111)
    parts = [list(shard_seeds(seeds, k, count)) for k in range(1, count + 1)]
    assert sorted(s for part in parts for s in part) == list(seeds)
    assert parts[0][0] == 100 and all(len(p) in (len(seeds) // count, -(-len(seeds) // count)) for p in parts)


def test_a_case_survives_its_shard_file(tmp_path):
    # Expressions of every kind (array constants, index keys, axes) and non-finite floats.
    campaign = Campaign(first_seed=0, n=300)
    verdict = Verdict(
        "central", "difference error", 3.5e-9, float("inf"), "a note, with \u00e9", float("nan")
    )
    cases = [
        FuzzCase(build_expression(s), "ok", {"tape": 1e-17, "symbolic": float("nan")}, (verdict,), 0.25)
        for s in campaign.seeds
    ]
    path = write_shard(tmp_path / "s.json", cases, campaign, 1, 1, {"workers": 1})
    json.loads(path.read_text(), parse_constant=pytest.fail)  # strict JSON: no NaN or Infinity
    read_campaign, k, count, run, again = read_shard(path)
    assert (read_campaign, k, count, run) == (campaign, 1, 1, {"workers": 1})
    assert [c.expression for c in again] == [c.expression for c in cases]
    assert [c.expression.text for c in again] == [c.expression.text for c in cases]
    assert np.isnan(again[0].errors["symbolic"]) and again[0].errors["tape"] == 1e-17
    assert again[0].verdicts[0].ulp_err == np.inf and np.isnan(again[0].verdicts[0].amplification)
    assert again[0].verdicts[0].note == verdict.note


def _fuzz_script():
    """``scripts/fuzz.py`` as a module (scripts are not a package), to call its ``main``."""
    spec = importlib.util.spec_from_file_location("fuzz_script", FUZZ_SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


FUZZ_MAIN = _fuzz_script().main


@pytest.fixture(scope="module")
def fuzz_cases():
    """The cases of FUZZ_CAMPAIGN, computed once, in this process."""
    return run_fuzz(FUZZ_CAMPAIGN.seeds, workers=1)


def _write_sharded(cases, campaign: Campaign, count: int, folder: Path) -> list[Path]:
    paths = []
    for k in range(1, count + 1):
        positions = range(k - 1, campaign.n, count)
        shard_cases = [cases[i] for i in positions]
        run = {"workers": 1, "runtime_s": float(k)}
        paths.append(write_shard(folder / shard_file_name(k, count), shard_cases, campaign, k, count, run))
    return paths


def _report_bytes(folder: Path) -> tuple[bytes, bytes]:
    return (folder / "fuzz.csv").read_bytes(), (folder / "fuzz_summary.md").read_bytes()


@pytest.mark.parametrize("count", [1, 2, 3])
def test_merged_shards_give_the_reports_of_the_unsharded_run_byte_for_byte(fuzz_cases, tmp_path, count):
    whole = tmp_path / "whole"
    write_reports(fuzz_cases, whole, FUZZ_CAMPAIGN.settings(), {"workers": 1, "runtime_s": 9.0})
    paths = _write_sharded(fuzz_cases, FUZZ_CAMPAIGN, count, tmp_path / "shards")
    campaign, runs, merged = merge_shards(reversed(paths))  # any order of the files
    assert campaign == FUZZ_CAMPAIGN and [r["shard"] for r in runs] == [
        f"{k}/{count}" for k in range(1, count + 1)
    ]
    assert [c.expression.seed for c in merged] == list(FUZZ_CAMPAIGN.seeds)
    write_reports(merged, tmp_path / "merged", campaign.settings(), {"shards": runs})
    assert _report_bytes(tmp_path / "merged") == _report_bytes(whole)
    # the header and at least two disagreements, so that the merge's row order is tested
    assert _report_bytes(whole)[0].count(b"\n") >= 3


def test_the_script_shards_and_merges_like_the_unsharded_run(tmp_path, capsys):
    # End to end through the command line: 2 shards of 4 seeds, the merge, the unsharded run.
    common = ["--quiet", "--n", "4", "--seed", "3", "--workers", "1"]
    for k in (1, 2):
        assert FUZZ_MAIN([*common, "--shard", f"{k}/2", "--out", str(tmp_path / "shards")]) == 0
    files = sorted((tmp_path / "shards").glob("fuzz_shard_*_of_2.json"))
    assert [f.name for f in files] == ["fuzz_shard_1_of_2.json", "fuzz_shard_2_of_2.json"]
    assert FUZZ_MAIN(["--quiet", "--merge", *map(str, files), "--out", str(tmp_path / "merged")]) == 0
    assert FUZZ_MAIN([*common, "--out", str(tmp_path / "whole")]) == 0
    assert capsys.readouterr().err == ""
    assert _report_bytes(tmp_path / "merged") == _report_bytes(tmp_path / "whole")
    log = json.loads((tmp_path / "merged" / "fuzz_run.json").read_text())
    assert [r["shard"] for r in log["shards"]] == ["1/2", "2/2"] and log["expressions"] == 4


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--shard", "4/3"], "shard must be k/N with 1 <= k <= N; got '4/3'"),
        (["--shard", "0/2"], "shard must be k/N with 1 <= k <= N; got '0/2'"),
        (
            ["--workers", "2", "--scheduler", "tcp://127.0.0.1:8786"],
            "--workers=2 and a scheduler are exclusive",
        ),
        (
            ["--merge", "nothing.json", "--n", "5"],
            "--merge takes the campaign from the shard files; drop --n",
        ),
        (["--merge", "nothing.json"], "nothing.json"),
    ],
)
def test_the_script_refuses_bad_options_in_one_line(args, message, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert FUZZ_MAIN(["--quiet", *args, "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err
    assert not list(tmp_path.iterdir())


def test_a_merge_refuses_missing_duplicate_and_foreign_shards(fuzz_cases, tmp_path):
    paths = _write_sharded(fuzz_cases, FUZZ_CAMPAIGN, 3, tmp_path)
    with pytest.raises(ValueError, match=r"missing shards 2/3 of the campaign"):
        merge_shards([paths[0], paths[2]])
    with pytest.raises(ValueError, match=r"shard 1/3 is given twice"):
        merge_shards([paths[0], paths[0], paths[1], paths[2]])
    halves = _write_sharded(fuzz_cases[:6], Campaign(5, 6), 2, tmp_path / "other")
    with pytest.raises(ValueError, match=r"is a shard of another campaign"):
        merge_shards([*paths, halves[0]])
    two = _write_sharded(fuzz_cases, FUZZ_CAMPAIGN, 2, tmp_path / "two")
    with pytest.raises(ValueError, match=r"is shard 1/2, the others are shards of 3"):
        merge_shards([*paths, two[0]])
    with pytest.raises(ValueError, match="no shard files to merge"):
        merge_shards([])
    not_a_shard = tmp_path / "results.json"
    not_a_shard.write_text('{"rows": []}')
    with pytest.raises(ValueError, match="is not a fuzz shard file"):
        merge_shards([not_a_shard])


def test_a_shard_holds_only_its_own_seeds(fuzz_cases, tmp_path):
    with pytest.raises(ValueError, match=r"cases must be those of shard 2/3"):
        write_shard(tmp_path / "s.json", fuzz_cases[:2], FUZZ_CAMPAIGN, 2, 3, {})
