"""measure and time_once driven by a fake clock: exact arithmetic, no real waiting."""

from __future__ import annotations

import math

import pytest

from diffcompare.harness.timing import Timing, measure, time_once


class FakeClock:
    """Time stands still except when the scripted function moves it forward."""

    def __init__(self) -> None:
        self.now = 0.0
        self.readings = 0

    def __call__(self) -> float:
        self.readings += 1
        return self.now


class ScriptedCall:
    """A function whose n-th call takes ``durations[n]`` seconds on ``clock``.

    Durations are binary fractions, so the sums and quotients below are exact.
    """

    def __init__(self, clock: FakeClock, durations: list[float]) -> None:
        self.clock = clock
        self.durations = durations
        self.calls = 0

    def __call__(self) -> int:
        self.clock.now += self.durations[self.calls]
        self.calls += 1
        return self.calls


def scripted(durations: list[float]) -> tuple[FakeClock, ScriptedCall]:
    clock = FakeClock()
    return clock, ScriptedCall(clock, durations)


def test_autorange_steps_through_1_2_5_and_reuses_the_last_run():
    clock, fn = scripted([1 / 64] * 100)
    timing = measure(fn, repeats=3, min_run_time=4 / 64, warmup=0, clock=clock)
    # Runs of 1 and 2 calls (1/64, 2/64 s) are too short; 5 calls take 5/64 >= 4/64.
    assert timing.loops == 5
    assert timing.runs == 3
    # 1 + 2 + 5 autoranging calls, the 5-call run counting as the first repeat, then two more.
    assert fn.calls == 1 + 2 + 5 + 2 * 5
    assert timing == Timing(
        median=1 / 64, minimum=1 / 64, maximum=1 / 64, spread=0.0, runs=3, loops=5, total=18 / 64
    )


def test_autorange_reaches_tens_and_hundreds():
    clock, fn = scripted([1 / 1024] * 1000)
    timing = measure(fn, repeats=1, min_run_time=100 / 1024, warmup=0, clock=clock)
    # 50 calls take 50/1024 s, too short; 100 calls are enough.
    assert timing.loops == 100
    assert fn.calls == 1 + 2 + 5 + 10 + 20 + 50 + 100


def test_max_loops_caps_the_autorange():
    clock, fn = scripted([0.0] * 100)
    timing = measure(fn, repeats=2, min_run_time=1.0, warmup=0, max_loops=7, clock=clock)
    # The clock never advances, so only the cap stops the search: 1, 2, 5, then 7.
    assert timing.loops == 7
    assert fn.calls == 1 + 2 + 5 + 7 + 7
    assert (timing.median, timing.minimum, timing.maximum, timing.spread) == (0.0, 0.0, 0.0, 0.0)


def test_statistics_over_runs_are_exact():
    # Warm-up takes 100 s; then five one-call runs of 2, 1, 4, 1 and 8 s.
    clock, fn = scripted([100.0, 2.0, 1.0, 4.0, 1.0, 8.0])
    timing = measure(fn, repeats=5, min_run_time=0.0, warmup=1, clock=clock)
    assert fn.calls == 6
    # Sorted per-call times 1, 1, 2, 4, 8: median 2, quartiles 1 and 4, IQR / median 1.5.
    assert timing == Timing(median=2.0, minimum=1.0, maximum=8.0, spread=1.5, runs=5, loops=1, total=116.0)


def test_per_call_time_is_run_time_over_loops():
    # Two-call runs: 1/4 + 1/4 s, then 1/8 + 1/8 s, then 1/2 + 1/2 s.
    durations = [1 / 4, 1 / 4, 1 / 4, 1 / 8, 1 / 8, 1 / 2, 1 / 2]
    clock, fn = scripted(durations)
    # One call (1/4 s) is short of 1/2 s; two calls (1/2 s) are enough.
    timing = measure(fn, repeats=3, min_run_time=0.5, warmup=0, clock=clock)
    assert timing.loops == 2
    assert (timing.minimum, timing.median, timing.maximum) == (1 / 8, 1 / 4, 1 / 2)
    # Quartiles of 1/8, 1/4, 1/2 interpolate to 3/16 and 3/8: IQR 3/16, over 1/4.
    assert timing.spread == 0.75


def test_warmup_calls_are_not_timed_but_count_in_total():
    clock, fn = scripted([50.0, 50.0, 50.0, 1.0, 1.0])
    timing = measure(fn, repeats=2, min_run_time=0.0, warmup=3, clock=clock)
    assert fn.calls == 5
    assert timing.maximum == 1.0
    assert timing.total == 152.0


def test_a_single_run_has_no_spread():
    clock, fn = scripted([3.0])
    timing = measure(fn, repeats=1, min_run_time=0.0, warmup=0, clock=clock)
    assert (timing.median, timing.spread, timing.runs) == (3.0, 0.0, 1)


def test_spread_is_infinite_when_the_median_is_zero_but_runs_differ():
    clock, fn = scripted([0.0, 0.0, 0.0, 1.0, 2.0])
    timing = measure(fn, repeats=5, min_run_time=0.0, warmup=0, clock=clock)
    assert timing.median == 0.0
    assert timing.spread == math.inf


def test_timing_is_frozen():
    clock, fn = scripted([1.0])
    timing = measure(fn, repeats=1, min_run_time=0.0, warmup=0, clock=clock)
    with pytest.raises(AttributeError):
        timing.median = 0.0


@pytest.mark.parametrize("failing_call", [0, 1, 4])
def test_exceptions_from_fn_propagate_unchanged(failing_call):
    # Call 0 is the warm-up, 1 the first autoranging run, 4 a repeat.
    error = RuntimeError("boom")
    calls = []

    def fn():
        calls.append(None)
        if len(calls) - 1 == failing_call:
            raise error

    with pytest.raises(RuntimeError) as caught:
        measure(fn, repeats=5, min_run_time=0.0, warmup=1, clock=FakeClock())
    assert caught.value is error


@pytest.mark.parametrize(
    ("kwargs", "exception", "message"),
    [
        ({"fn": 3}, TypeError, "fn must be callable; got int"),
        ({"clock": 0.0}, TypeError, "clock must be callable; got float"),
        ({"repeats": 0}, ValueError, "repeats must be >= 1; got 0"),
        ({"repeats": 2.0}, TypeError, "repeats must be an integer; got float"),
        ({"repeats": True}, TypeError, "repeats must be an integer; got bool"),
        ({"min_run_time": -0.1}, ValueError, "min_run_time must be >= 0; got -0.1"),
        ({"min_run_time": math.nan}, ValueError, "min_run_time must be >= 0; got nan"),
        ({"min_run_time": "1"}, TypeError, "min_run_time must be a real number of seconds; got str"),
        ({"warmup": -1}, ValueError, "warmup must be >= 0; got -1"),
        ({"warmup": None}, TypeError, "warmup must be an integer; got NoneType"),
        ({"max_loops": 0}, ValueError, "max_loops must be >= 1; got 0"),
    ],
)
def test_measure_rejects_bad_arguments(kwargs, exception, message):
    clock, fn = scripted([1.0] * 10)
    arguments = {"fn": fn, "clock": clock, **kwargs}
    call = arguments.pop("fn")
    with pytest.raises(exception, match=f"^{message}$"):
        measure(call, **arguments)
    assert fn.calls == 0


def test_time_once_returns_result_and_duration():
    clock, fn = scripted([0.75])
    result, seconds = time_once(fn, clock=clock)
    assert (result, seconds) == (1, 0.75)
    assert clock.readings == 2


def test_time_once_propagates_exceptions_unchanged():
    error = ValueError("no derivative")

    def fn():
        raise error

    with pytest.raises(ValueError) as caught:
        time_once(fn, clock=FakeClock())
    assert caught.value is error


@pytest.mark.parametrize(
    ("fn", "clock", "message"),
    [(None, FakeClock(), "fn must be callable; got NoneType"), (len, 1, "clock must be callable; got int")],
)
def test_time_once_rejects_non_callables(fn, clock, message):
    with pytest.raises(TypeError, match=f"^{message}$"):
        time_once(fn, clock=clock)


def test_settle_stops_once_three_runs_agree():
    # Each run is one call (min_run_time 0): 8/64, 9/64, 8/64 agree within 1/8 of the fastest.
    clock, fn = scripted([8 / 64, 9 / 64, 8 / 64] + [1.0] * 10)
    timing = measure(fn, repeats=7, min_run_time=0.0, warmup=0, settle=1 / 8, clock=clock)
    assert (timing.runs, fn.calls) == (3, 3)
    assert timing.median == 8 / 64


def test_settle_keeps_timing_while_the_runs_disagree_and_never_beyond_repeats():
    # The second run is twice as slow: not settled after 3 or 4 runs (max - min = 8/64 > 1/8 * 8/64).
    clock, fn = scripted([8 / 64, 16 / 64, 8 / 64, 8 / 64, 8 / 64, 8 / 64])
    timing = measure(fn, repeats=5, min_run_time=0.0, warmup=0, settle=1 / 8, clock=clock)
    assert (timing.runs, fn.calls) == (5, 5)
    assert timing.maximum == 16 / 64


def test_without_settle_every_repeat_runs_even_when_they_agree():
    clock, fn = scripted([1 / 64] * 10)
    assert measure(fn, repeats=6, min_run_time=0.0, warmup=0, clock=clock).runs == 6


@pytest.mark.parametrize(("settle", "error"), [(-0.1, ValueError), (math.nan, ValueError), ("1%", TypeError)])
def test_settle_must_be_a_non_negative_number(settle, error):
    with pytest.raises(error, match="settle"):
        measure(lambda: None, settle=settle)
