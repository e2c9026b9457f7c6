"""time_budget against real alarms: short busy loops, well under two seconds in all.

These tests wait on purpose (they test the budget, not anybody's speed); the bounds on
elapsed times are loose so that a loaded machine does not make them flaky.
"""

from __future__ import annotations

import math
import pickle
import signal
import threading
import time

import pytest

from diffcompare.budget import REPEAT, BudgetExceeded, time_budget

needs_setitimer = pytest.mark.skipif(
    not hasattr(signal, "setitimer"), reason="time_budget runs unlimited without signal.setitimer"
)


def spin(seconds: float) -> None:
    """Pure-Python busy wait: what a runaway SymPy computation looks like to the alarm."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass


def no_timer() -> bool:
    return signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


@pytest.fixture(autouse=True)
def alarm_state():
    """Start each test with the default SIGALRM handler and no timer, and check both afterwards."""
    if not hasattr(signal, "setitimer"):
        yield None
        return
    previous = signal.signal(signal.SIGALRM, signal.SIG_DFL)
    signal.setitimer(signal.ITIMER_REAL, 0)
    yield
    try:
        assert no_timer(), "a timer was left running"
        assert signal.getsignal(signal.SIGALRM) is signal.SIG_DFL, "the SIGALRM handler was not restored"
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@needs_setitimer
def test_busy_loop_is_interrupted():
    start = time.monotonic()
    with pytest.raises(BudgetExceeded, match=r"^time budget of 0\.05 s exceeded$") as caught:
        with time_budget(0.05):
            spin(1.0)
    assert 0.04 < time.monotonic() - start < 0.5
    assert caught.value.seconds == 0.05


@needs_setitimer
def test_block_finishing_in_time_is_not_interrupted():
    with time_budget(0.5):
        total = sum(range(1000))
    assert total == 499500
    # The alarm has been cancelled: nothing can fire after the block.
    assert no_timer()


@needs_setitimer
def test_exceptions_from_the_block_propagate_and_cancel_the_alarm():
    with pytest.raises(KeyError):
        with time_budget(0.5):
            raise KeyError("x")
    assert no_timer()


@needs_setitimer
@pytest.mark.parametrize("overrun", [False, True])
def test_previous_handler_and_timer_are_restored(overrun):
    calls = []

    def handler(signum, frame):
        calls.append(signum)

    signal.signal(signal.SIGALRM, handler)
    signal.setitimer(signal.ITIMER_REAL, 5.0)
    try:
        if overrun:
            with pytest.raises(BudgetExceeded):
                with time_budget(0.05):
                    spin(1.0)
        else:
            with time_budget(0.05):
                pass
        assert signal.getsignal(signal.SIGALRM) is handler
        # The previous timer was paused, not cancelled, and the time spent inside counted.
        left, _ = signal.getitimer(signal.ITIMER_REAL)
        assert 4.0 < left < 5.0
        assert calls == []
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, signal.SIG_DFL)


@needs_setitimer
def test_outer_deadline_applies_inside_a_longer_inner_budget():
    start = time.monotonic()
    with pytest.raises(BudgetExceeded) as caught:
        with time_budget(0.1):
            with time_budget(5.0):
                spin(1.0)
    assert caught.value.seconds == 0.1
    assert time.monotonic() - start < 0.6


@needs_setitimer
def test_inner_budget_fires_and_the_outer_keeps_counting():
    with time_budget(5.0):
        outer_handler = signal.getsignal(signal.SIGALRM)
        with pytest.raises(BudgetExceeded) as caught:
            with time_budget(0.05):
                spin(1.0)
        assert caught.value.seconds == 0.05
        assert signal.getsignal(signal.SIGALRM) == outer_handler
        left, _ = signal.getitimer(signal.ITIMER_REAL)
        assert 4.0 < left < 5.0


@needs_setitimer
def test_outer_budget_fires_after_an_inner_block_finished_in_time():
    with pytest.raises(BudgetExceeded) as caught:
        with time_budget(0.15):
            with time_budget(1.0):
                pass
            spin(1.0)
    assert caught.value.seconds == 0.15


@needs_setitimer
@pytest.mark.skipif(not hasattr(signal, "pthread_sigmask"), reason="needs signal.pthread_sigmask")
def test_outer_deadline_that_passed_inside_the_inner_block_wins():
    # With SIGALRM blocked, the inner block overruns both deadlines, as a long C call
    # would.  When the inner alarm finally lands, the outer budget's exception is raised.
    start = time.monotonic()
    with pytest.raises(BudgetExceeded) as caught:
        with time_budget(0.1):
            with time_budget(0.05):
                signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
                try:
                    spin(0.15)
                finally:
                    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGALRM})
    if time.monotonic() - start < 0.14:
        pytest.skip("SIGALRM was delivered through another thread despite the mask")
    assert caught.value.seconds == 0.1


@needs_setitimer
@pytest.mark.skipif(not hasattr(signal, "sigtimedwait"), reason="needs signal.sigtimedwait")
def test_outer_deadline_that_passed_is_honoured_when_the_inner_block_ends():
    # Same, but the inner alarm is swallowed, so the inner block ends normally after
    # the outer deadline: leaving it must raise the outer budget's exception at once.
    reached = []
    with pytest.raises(BudgetExceeded) as caught:
        with time_budget(0.1):
            with time_budget(0.05):
                signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
                try:
                    spin(0.15)
                    signal.sigtimedwait({signal.SIGALRM}, 0)
                finally:
                    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGALRM})
            reached.append("after the inner block")
            spin(1.0)
    if reached:
        pytest.skip("SIGALRM was delivered through another thread despite the mask")
    assert caught.value.seconds == 0.1


@pytest.mark.parametrize("seconds", [None, math.inf])
def test_no_limit(seconds):
    with time_budget(seconds):
        spin(0.06)
    if hasattr(signal, "setitimer"):
        assert no_timer()


@needs_setitimer
def test_no_limit_inside_a_budget_leaves_the_outer_alone():
    with time_budget(5.0):
        with time_budget(None):
            pass
        left, _ = signal.getitimer(signal.ITIMER_REAL)
        assert 4.0 < left <= 5.0


def test_outside_the_main_thread_the_block_runs_unlimited():
    outcome = {}

    def work():
        try:
            with time_budget(0.02):
                spin(0.06)
            outcome["finished"] = True
        except BaseException as error:  # report anything, including BudgetExceeded
            outcome["error"] = error

    worker = threading.Thread(target=work)
    worker.start()
    worker.join(timeout=5.0)
    assert outcome == {"finished": True}


@pytest.mark.parametrize(
    ("seconds", "exception", "message"),
    [
        (0, ValueError, "seconds must be > 0 or None; got 0"),
        (-1.5, ValueError, "seconds must be > 0 or None; got -1.5"),
        (math.nan, ValueError, "seconds must be > 0 or None; got nan"),
        ("1", TypeError, "seconds must be a real number or None; got str"),
        (True, TypeError, "seconds must be a real number or None; got bool"),
        (1j, TypeError, "seconds must be a real number or None; got complex"),
    ],
)
def test_bad_seconds_are_rejected(seconds, exception, message):
    with pytest.raises(exception, match=f"^{message}$"):
        with time_budget(seconds):
            pass


def swallow_the_alarm(seconds: float) -> None:
    """Spin until the alarm's exception arrives and discard it, as an extension module can."""
    try:
        spin(seconds)
    except BudgetExceeded:
        return
    raise AssertionError(f"no alarm within {seconds} s")


@needs_setitimer
def test_a_swallowed_alarm_turns_the_exception_that_follows_into_budget_exceeded():
    # SymEngine's converter loses the alarm's exception in an isinstance check and then
    # fails with an AttributeError; the budget is what ran out.
    with pytest.raises(BudgetExceeded, match="0.05 s") as caught:
        with time_budget(0.05):
            swallow_the_alarm(2.0)
            raise AttributeError("'Integer' object has no attribute 'as_base_exp'")
    assert isinstance(caught.value.__cause__, AttributeError)
    assert no_timer()


@needs_setitimer
def test_a_block_that_swallowed_its_alarm_and_finished_raises_on_leaving():
    finished = []
    with pytest.raises(BudgetExceeded, match="0.05 s"):
        with time_budget(0.05):
            swallow_the_alarm(2.0)
            finished.append(True)
    assert finished == [True]
    assert no_timer()


@needs_setitimer
def test_an_inner_swallowed_alarm_does_not_end_the_outer_block():
    with time_budget(5.0):
        with pytest.raises(BudgetExceeded) as caught:
            with time_budget(0.05):
                swallow_the_alarm(2.0)
        assert caught.value.seconds == 0.05
        after = sum(range(10))
    assert after == 45


def test_budget_exceeded_pickles_with_its_seconds():
    error = pickle.loads(pickle.dumps(BudgetExceeded(2.5)))
    assert error.seconds == 2.5
    assert str(error) == "time budget of 2.5 s exceeded"


@needs_setitimer
def test_a_swallowed_alarm_goes_off_again_while_the_block_runs_on():
    # Python ignores an exception raised inside a garbage collector's callback, as
    # Hypothesis registers one: the block must still stop soon, not at its own end.
    start = time.monotonic()
    with pytest.raises(BudgetExceeded, match="0.05 s"):
        with time_budget(0.05):
            swallow_the_alarm(2.0)
            spin(5.0)
    assert time.monotonic() - start < 0.05 + 10 * REPEAT
    assert no_timer()
