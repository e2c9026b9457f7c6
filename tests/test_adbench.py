"""ADBench's GMM comparison and the ADBench benchmark workloads: rows for every method,
statuses where a method stops, the registry read at run time."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest

from diffcompare.bench import ADBENCH_GMM_COLUMNS, BenchConfig, GmmStudy, adbench_gmm, plot_adbench_gmm
from diffcompare.bench import adbench as adbench_module
from diffcompare.bench.config import DEFAULT_WORKLOADS
from diffcompare.bench.workloads import workload_cases
from diffcompare.methods import METHODS, PreparedGradient

TINY = GmmStudy(sizes=((2, 2, 20), (2, 3, 20)), budget_s=2.0, repeats=1, min_run_time=0.0)


def test_every_method_has_a_row_at_every_size_with_its_status():
    table = adbench_gmm(TINY, methods=["tape", "autograd", "symbolic_vector"])
    assert list(table.columns) == ADBENCH_GMM_COLUMNS
    assert len(table) == 2 * 3
    assert table[["d", "k", "n", "params"]].drop_duplicates().values.tolist() == [
        [2, 2, 20, 12],
        [2, 3, 20, 18],
    ]
    ok = table[table["method"].isin(["tape", "autograd"])]
    assert (ok["status"] == "ok").all()
    assert (ok["ratio"] > 0).all()
    assert np.allclose(ok["ratio"], ok["gradient_s"] / ok["objective_s"])
    refused = table[table["method"] == "symbolic_vector"]
    assert refused["status"].tolist() == ["unsupported", "unsupported"]
    assert "does not support 'reshape'" in refused["message"].iloc[0]
    assert refused["message"].iloc[1] == "not attempted: unsupported at d=2 k=2 n=20 (12 parameters)"


class _Sleeper:
    """A registered method whose gradient takes longer than any budget of the tests."""

    name, family, accuracy, requires = "sleeper", "exact", 1e-14, None

    def evaluations(self, dim):
        return 0

    def prepare(self, f, dim):
        def gradient(x):
            time.sleep(5.0)
            return np.zeros_like(x)

        return PreparedGradient(gradient)


def test_a_method_registered_later_appears_and_a_timeout_is_a_row(monkeypatch):
    monkeypatch.setattr(adbench_module, "METHODS", {"tape": METHODS["tape"], "sleeper": _Sleeper()})
    study = GmmStudy(sizes=((2, 2, 20), (2, 3, 20), (2, 1, 20)), budget_s=0.3, repeats=1, min_run_time=0.0)
    table = adbench_gmm(study)
    sleeper = table[table["method"] == "sleeper"]
    assert sleeper["status"].tolist() == ["timeout"] * 3
    assert "0.3" in sleeper["message"].iloc[0]
    assert sleeper["message"].iloc[1].startswith("not attempted: timeout at d=2 k=2")
    # a smaller size than where it stopped is attempted again (and times out again)
    assert not sleeper["message"].iloc[2].startswith("not attempted")
    assert (table[table["method"] == "tape"]["status"] == "ok").all()


def test_bad_study_and_unknown_methods_raise_naming_them():
    with pytest.raises(ValueError, match="^sizes must be"):
        GmmStudy(sizes=((2, 3),))
    with pytest.raises(ValueError, match="^budget_s must be"):
        GmmStudy(budget_s=0.0)
    with pytest.raises(ValueError, match="^repeats must be"):
        GmmStudy(repeats=0)
    with pytest.raises(ValueError, match="^methods must be among"):
        adbench_gmm(TINY, methods=["tape", "no_such_method"])


def test_the_plot_is_written(tmp_path):
    table = pd.DataFrame(
        [
            {"d": 2, "k": k, "n": 20, "params": 6 * k, "method": m, "status": s, "ratio": r}
            for k, m, s, r in [(2, "tape", "ok", 3.0), (3, "tape", "ok", 4.0), (2, "slow", "timeout", np.nan)]
        ],
        columns=ADBENCH_GMM_COLUMNS,
    )
    plot_adbench_gmm(table, tmp_path / "adbench_gmm.png")
    assert (tmp_path / "adbench_gmm.png").stat().st_size > 10_000


def test_adbench_workloads_are_benchmark_cases_chosen_by_name():
    assert "gmm" not in DEFAULT_WORKLOADS and "gmm" not in BenchConfig().workloads
    (case,) = workload_cases("gmm", BenchConfig(workloads=("gmm",)))
    assert case.workload == "gmm" and case.size == 25 * (1 + 10 + 55)
    assert [c.method for c in case.candidates] == ["numpy_forward", *METHODS]
    assert case.reference.shape == (case.size,)
