"""``diffcompare.grad``: differentiate any ``f(x, xp)`` with a chosen method."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .methods import get_method
from .validation import as_point, check_callable, check_finite_value, refuse_singular

__all__ = ["grad"]


def grad(f: Callable, method: str = "tape") -> Callable[[np.ndarray], np.ndarray]:
    """Return a function that computes the gradient of ``f(x, xp)``, like ``autograd.grad``.

    Parameters
    ----------
    f : callable
        ``f(x, xp)``: a scalar function of a float64 vector ``x`` written against the
        array namespace ``xp``.
    method : str
        How to differentiate: a name in :data:`diffcompare.METHODS` (``"tape"``,
        ``"autograd"``, ``"symbolic"``, ``"symbolic_vector"``, ``"symengine"``,
        ``"forward"``, ``"central"``, ``"complex_step"``, ``"richardson"``).  The method's setup
        (tracing, ``sympy.diff``, ...) runs on the first call for each length of ``x``
        and is reused after that.

    Returns
    -------
    callable
        ``gradient(x) -> numpy.ndarray`` of the same shape as ``x``.

    Raises
    ------
    TypeError
        If ``f`` is not callable, or (on call) ``x`` is not a float array.
    ValueError
        If ``method`` is unknown, or (on call) ``x`` is not a finite 1-d vector, ``f``
        does not return a scalar, or ``f(x)`` is not finite (a singular point: checked
        on the value the forward pass of the tape or of forward mode computes, and on
        the value ``symbolic_vector`` compiles beside its partials when ``f`` uses only
        operations finite everywhere; otherwise with one numpy evaluation of ``f``
        before the method runs, since SymPy simplifies ``(x - a) / (x - a)`` to 1).

    Notes
    -----
    ``x`` is not copied when it already is a float64 vector in C order; no method writes
    to it, and ``f`` must not either.

    Examples
    --------
    >>> import diffcompare
    >>> g = diffcompare.grad(lambda x, xp: xp.sum(xp.sin(x)), method="symbolic")
    >>> g([0.0, 3.141592653589793])
    array([ 1., -1.])
    """
    check_callable(f)
    chosen = get_method(method)
    prepared = {}

    def gradient(x) -> np.ndarray:
        x = as_point(x, copy=False)  # copied only to change dtype or layout
        try:
            ready = prepared.get(x.size)
            if ready is None:
                ready = prepared[x.size] = chosen.prepare(f, x.size)
            if ready.checked is not None:
                # the method refuses a singular point from its own forward pass
                return _own(ready.checked(x, refuse_singular), x)
        except Exception:
            # What the numpy check raises comes first, as when it ran before the method;
            # otherwise the method's own error.
            check_finite_value(f, x)
            raise
        check_finite_value(f, x)
        return _own(ready.gradient(x), x)

    gradient.__name__ = f"grad_{method}_{getattr(f, '__name__', 'f')}"
    return gradient


def _own(gradient: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``gradient``, copied if it shares memory with the caller's ``x`` (never handed back)."""
    if np.may_share_memory(gradient, x):
        return np.array(gradient)
    return gradient
