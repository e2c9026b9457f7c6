"""A per-case time budget, so that one exploding SymPy computation cannot hang a run.

The budget is a one-shot ``ITIMER_REAL`` timer whose ``SIGALRM`` handler raises
:class:`BudgetExceeded` in the main thread.  Python runs signal handlers between
bytecodes, so the alarm interrupts Python code (SymPy is pure Python) and blocking calls
such as ``time.sleep``, but not a long-running C call such as one large NumPy
operation: that is interrupted only when it returns.  The harness uses a budget around
each method's setup (tracing, ``sympy.diff``, ``lambdify``) and around its evaluation.
"""

from __future__ import annotations

import math
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from numbers import Real
from typing import Any

__all__ = ["BudgetExceeded", "REPEAT", "time_budget"]

#: setitimer rounds up to whole microseconds; 0 would disarm the timer instead of firing.
_SOONEST = 1e-6

#: Once it has gone off, the alarm goes off again this often until the block ends: its
#: exception may have been lost (Python ignores one raised inside a garbage collector's
#: callback or a ``__del__``, as it does inside Hypothesis's gc callback, and extension
#: modules can discard it), and the block would then run on to its own end.
REPEAT = 0.05


class BudgetExceeded(Exception):
    """A block ran longer than its time budget; the harness records a ``timeout`` row.

    Parameters
    ----------
    seconds : float
        The budget that was exceeded, available as ``.seconds``.

    Examples
    --------
    >>> print(BudgetExceeded(2.5))
    time budget of 2.5 s exceeded
    """

    def __init__(self, seconds: float) -> None:
        # seconds is the only argument so that the exception pickles (multiprocessing).
        super().__init__(seconds)
        self.seconds = seconds

    def __str__(self) -> str:
        return f"time budget of {self.seconds:g} s exceeded"


def _signals_usable() -> bool:
    # Handlers can only be installed, and only run, in the main thread.
    return (
        hasattr(signal, "setitimer")
        and hasattr(signal, "SIGALRM")
        and threading.current_thread() is threading.main_thread()
    )


class _Alarm:
    """One armed budget: its handler, and what to put back when it ends.

    The alarm raises :class:`BudgetExceeded` every :data:`REPEAT` seconds once due,
    until the block ends, which puts back the previous handler and the outer timer; the
    ``done`` flag makes sure that happens exactly once, and that an alarm still pending
    then is ignored.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.done = False
        self.fired = False  # the handler raised BudgetExceeded (the block may have lost it)
        self.previous_handler = signal.getsignal(signal.SIGALRM)
        # Stop the outer timer (if any) and remember how much of it was left.
        self.started = time.monotonic()
        self.outer_delay, self.outer_interval = signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, self._fire)
        signal.setitimer(signal.ITIMER_REAL, seconds)

    def _restore(self, frame: Any) -> None:
        self.done = True
        signal.setitimer(signal.ITIMER_REAL, 0)
        # signal.signal first runs any alarm still pending, which _fire now ignores.
        signal.signal(signal.SIGALRM, self.previous_handler)
        if self.outer_delay <= 0:
            return
        # The outer deadline kept counting while this budget ran.
        left = self.outer_delay - (time.monotonic() - self.started)
        if left > 0:
            signal.setitimer(signal.ITIMER_REAL, left, self.outer_interval)
        elif callable(self.previous_handler):
            # It passed while SIGALRM could not be handled (a long C call): deliver the
            # outer alarm now, so that the outer budget's exception is the one raised.
            if self.outer_interval > 0:
                signal.setitimer(signal.ITIMER_REAL, self.outer_interval, self.outer_interval)
            self.previous_handler(signal.SIGALRM, frame)
        else:
            # SIG_DFL or SIG_IGN: let the kernel deliver it as it would have.
            signal.setitimer(signal.ITIMER_REAL, _SOONEST, self.outer_interval)

    def _fire(self, signum: int, frame: Any) -> None:
        if self.done:
            return
        if self._outer_due():
            self._restore(frame)  # delivers the outer alarm: its exception comes first
        else:
            signal.setitimer(signal.ITIMER_REAL, REPEAT)
        self.fired = True
        raise BudgetExceeded(self.seconds)

    def _outer_due(self) -> bool:
        return 0 < self.outer_delay <= time.monotonic() - self.started

    def close(self) -> None:
        if not self.done:
            self._restore(None)


def _check_seconds(seconds: Any) -> None:
    if not isinstance(seconds, Real) or isinstance(seconds, bool):
        raise TypeError(f"seconds must be a real number or None; got {type(seconds).__name__}")
    if math.isnan(seconds) or seconds <= 0:
        raise ValueError(f"seconds must be > 0 or None; got {seconds}")


@contextmanager
def time_budget(seconds: float | None) -> Iterator[None]:
    """Raise :class:`BudgetExceeded` inside the block if it runs longer than ``seconds``.

    The limit is a ``SIGALRM`` from ``signal.setitimer``: it interrupts Python bytecode
    and blocking calls such as ``time.sleep``, not a long-running C call, which is
    interrupted only once it returns.  On leaving the block the previous ``SIGALRM``
    handler and timer are put back.  Budgets nest: an outer timer keeps counting inside
    an inner budget, and when it is due first it is left alone, so the outer deadline
    still applies.  When the outer deadline passes inside the inner block, the outer
    budget's exception is raised; ``BudgetExceeded.seconds`` says which budget ran out.

    The alarm's exception may be raised inside code that swallows it: an extension
    module that checks an ``isinstance`` or calls back into Python and discards the
    error it gets (SymEngine's conversion from SymPy does, and then fails with an
    ``AttributeError``), or an ``except Exception`` inside the block, or Python itself
    (inside a garbage collector's callback).  So the alarm goes off again every
    :data:`REPEAT` seconds until the block ends, and a block whose alarm went off always
    ends with :class:`BudgetExceeded`: raised from whatever other exception ends it, or
    on leaving it if it ends normally.

    Without a limit, the block simply runs: when ``seconds`` is ``None`` or infinite,
    where ``setitimer`` does not exist (Windows), outside the main thread (signal
    handlers only run there), when the current ``SIGALRM`` handler was installed
    outside Python and so could not be put back, and when a timer set by other code is
    due first and its handler does not end the block.

    Parameters
    ----------
    seconds : float or None
        Longest the block may run, in seconds; ``None`` for no limit.

    Yields
    ------
    None

    Raises
    ------
    BudgetExceeded
        Inside the block, once it has run for ``seconds``.
    TypeError
        If ``seconds`` is not a real number or ``None``.
    ValueError
        If ``seconds`` is not positive.

    Examples
    --------
    >>> with time_budget(5.0):
    ...     total = sum(range(1000))
    >>> total
    499500
    """
    if seconds is not None:
        _check_seconds(seconds)
    if seconds is None or math.isinf(seconds) or not _signals_usable():
        yield
        return
    if signal.getsignal(signal.SIGALRM) is None:
        yield
        return
    outer_delay, _ = signal.getitimer(signal.ITIMER_REAL)
    if 0 < outer_delay <= seconds:
        # An outer timer is due first: its handler ends the block, ours would never fire.
        yield
        return
    alarm = _Alarm(seconds)
    try:
        yield
    except BudgetExceeded:
        raise
    except Exception as error:
        if alarm.fired:  # the alarm's exception was swallowed, and this came of it
            raise BudgetExceeded(seconds) from error
        raise
    else:
        if alarm.fired:  # swallowed, and the block went on: whatever it returns is suspect
            raise BudgetExceeded(seconds)
    finally:
        alarm.close()
