"""Checkers for Jacobian products: ``check_jvp``, ``check_vjp`` and ``check_jvp_vjp``.

For ``g: R^n -> R^m``, ``jvp(x, t) = J t`` is a derivative along ``t``: its reference is
the complex step along ``t`` when ``g`` carries complex input and agrees with
differences, else the Ridders-extrapolated central differences of
:func:`~diffcompare.oracle.references.line_derivative`, each with an error estimate.
``vjp(x, u) = J^T u`` is no derivative along a line; it is checked through directional
derivatives: ``<J^T u, t> = <u, J t>`` for random ``t`` (fast), or against ``J^T u``
from every column of ``J`` (full, which names the wrong component).

Given both, the dot-product test ``<u, jvp(x, t)> = <vjp(x, u), t>`` holds for any pair
of a correct jvp and vjp to rounding: it checks them against each other with no
difference noise at all (it cannot see a jvp and a vjp wrong in the same way, which
the references do).
"""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np

from ..validation import as_point, check_callable, takes_namespace
from .entries import Judged, check_options, claimed_array, judge, result_from, seeded_direction
from .references import INITIAL_STEP, Objective, complex_derivative, line_derivative
from .result import GradCheckResult, Mismatch, relative, require
from .tolerance import SAFETY, Tolerance

__all__ = [
    "check_jvp",
    "check_vjp",
    "check_jvp_vjp",
    "assert_jvp_correct",
    "assert_vjp_correct",
    "FULL_UP_TO",
]

#: ``mode="auto"`` compares every column up to this ``n`` (as ``check_grad`` does).
FULL_UP_TO = 100


class _Lines:
    """Derivatives of ``g`` along lines: complex step where usable, else differences."""

    def __init__(self, g, x: np.ndarray, complex_step):
        if takes_namespace(g):
            from ..ops.fallback import numpy_fallback

            function = g

            def g(z):
                return function(z, numpy_fallback)

        self.objective, self.at_x = Objective.probe(g, x, scalar=False)
        self.x = x
        self.complex_ok = complex_step is not False
        self.require_complex = complex_step is True
        self.notes: list[str] = []
        self.used: list[str] = ["richardson"]

    @property
    def m(self) -> int:
        return self.at_x.size

    def along(self, d: np.ndarray, initial_step: float = INITIAL_STEP) -> tuple[np.ndarray, np.ndarray]:
        value, error = line_derivative(self.objective, self.x, d, initial_step, f_at_x=self.at_x)
        if not self.complex_ok:
            return value, error
        found = complex_derivative(self.objective, self.x, d)
        if isinstance(found, str):
            self._drop_complex(found)
            return value, error
        complex_value, complex_error = found
        allowance = 1024 * self.objective.eps * np.abs(complex_value)
        with np.errstate(invalid="ignore"):
            if np.all(np.abs(complex_value - value) <= SAFETY * (error + complex_error) + allowance):
                if "complex_step" not in self.used:
                    self.used.append("complex_step")
                return complex_value, complex_error
        self._drop_complex("the complex step disagreed with differences (g is not analytic here?)")
        return value, error

    def column(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        unit = np.zeros_like(self.x)
        unit[k] = 1.0
        return self.along(unit, INITIAL_STEP * max(1.0, abs(float(self.x[k]))))

    def _drop_complex(self, reason: str) -> None:
        if self.require_complex:
            raise ValueError(f"complex_step=True but the complex step cannot be used: {reason}")
        self.complex_ok = False
        self.notes.append(f"no complex step: {reason}")


def _validate(g, name, function, x, mode, directions, complex_step, rtol, atol, seed) -> np.ndarray:
    check_callable(g, "g")
    if not callable(function):
        raise TypeError(f"{name} must be callable; got {type(function).__name__}")
    if mode not in ("auto", "fast", "full"):
        raise ValueError(f"mode must be 'auto', 'fast' or 'full'; got {mode!r}")
    if complex_step not in ("auto", True, False):
        raise ValueError(f"complex_step must be 'auto', True or False; got {complex_step!r}")
    check_options(rtol, atol, seed, directions)
    return as_point(x)


def _finish(judged, lines: _Lines, check, noun, x, seed, mode, start, failure=None) -> GradCheckResult:
    result = result_from(
        judged,
        check=check,
        noun=noun,
        point=x,
        seed=seed,
        mode=mode,
        references=tuple(lines.used),
        evaluations=lines.objective.evaluations,
        counted="g",
        notes=lines.notes,
        failure=failure,
    )
    return replace(result, seconds=time.perf_counter() - start)


def check_jvp(
    g,
    jvp,
    x,
    *,
    mode: str = "auto",
    directions: int = 3,
    complex_step: bool | str = "auto",
    rtol: float | None = None,
    atol: float | None = None,
    seed: int = 0,
) -> GradCheckResult:
    """Check a hand-written Jacobian-vector product ``jvp(x, t) = J t``.

    Parameters
    ----------
    g : callable
        ``g(x)`` (or ``g(x, xp)``) returning shape ``(m,)``.
    jvp : callable
        ``jvp(x, t)`` returning the claimed ``J t``, shape ``(m,)``.
    x : array_like
        The point, shape ``(n,)``.
    mode : {"auto", "full", "fast"}, optional
        "full" checks ``jvp(x, e_k)`` for every ``k`` (every entry of ``J``, indexed
        ``(row, column)``); "fast" checks ``directions`` seeded random directions;
        "auto" is "full" up to ``n = 100``.
    directions : int, optional
        Random directions in fast mode.
    complex_step : {"auto", True, False}, optional
        Use the complex step where ``g`` takes complex input and agrees with
        differences ("auto"), require it (True) or never (False).
    rtol, atol : float, optional
        Replace the claim's rounding allowance by ``atol + rtol * |reference|``.
    seed : int, optional
        Seeds the directions.

    Returns
    -------
    GradCheckResult
        ``check == "JVP"``.

    Raises
    ------
    TypeError
        If ``g`` or ``jvp`` is not callable, or they give non-real values.
    ValueError
        If ``x`` is not a finite vector, ``g(x)`` is not a finite 1-d array, ``jvp``
        gives the wrong shape, or an option is out of range.

    Examples
    --------
    >>> import numpy as np
    >>> g = lambda x: np.array([x[0] * x[1], np.sin(x[0])])
    >>> jvp = lambda x, t: np.array([x[1] * t[0] + x[0] * t[1], np.cos(x[0]) * t[0]])
    >>> check_jvp(g, jvp, [1.0, 2.0]).verdict
    'pass'
    >>> check_jvp(g, lambda x, t: jvp(x, t) * [1.0, -1.0], [1.0, 2.0]).index
    (1, 0)
    """
    start = time.perf_counter()
    x = _validate(g, "jvp", jvp, x, mode, directions, complex_step, rtol, atol, seed)
    n = x.size
    lines = _Lines(g, x, complex_step)
    m = lines.m
    _, dtype = claimed_array(jvp, "jvp", (x, np.eye(1, n).ravel()), (m,))
    tolerance = Tolerance.choose(dtype, rtol, atol)
    mode = ("full" if n <= FULL_UP_TO else "fast") if mode == "auto" else mode
    if mode == "full":
        claimed = np.column_stack([claimed_array(jvp, "jvp", (x, e), (m,))[0] for e in np.eye(n)])
        columns = [lines.column(k) for k in range(n)]
        value = np.column_stack([c[0] for c in columns])
        error = np.column_stack([c[1] for c in columns])
        judged = [judge(claimed, value, error, tolerance, lambda i, k: ((int(i), int(k)), None))]
        noun = "entries"
    else:
        rng = np.random.default_rng([seed, 0])
        along = []
        for _ in range(directions):
            t = seeded_direction(rng, np.maximum(1.0, np.abs(x)))
            along.append((claimed_array(jvp, "jvp", (x, t), (m,))[0], *lines.along(t)))
        # (J t)_i sums terms J_ik t_k that can cancel to far below their size (1e-4 of
        # them in a stacked suite function), and the claim rounds on the terms' scale:
        # each component's scale is its largest over the directions, as a row's
        # max-norm is for full mode.
        values = np.column_stack([value for _, value, _ in along])
        row_scale = np.max(np.where(np.isfinite(values), np.abs(values), 0.0), axis=1, keepdims=True)
        judged = []
        for r, (claimed, value, error) in enumerate(along):
            label = lambda i, _, r=r: (int(i), f"(J t)[{int(i)}] along random direction {r}")  # noqa: E731
            judged.append(
                judge(claimed[:, None], value[:, None], error[:, None], tolerance, label, row_scale)
            )
        noun = "components"
    return _finish(judged, lines, "JVP", noun, x, seed, mode, start)


def check_vjp(
    g,
    vjp,
    x,
    *,
    jvp=None,
    mode: str = "auto",
    directions: int = 3,
    complex_step: bool | str = "auto",
    rtol: float | None = None,
    atol: float | None = None,
    seed: int = 0,
) -> GradCheckResult:
    """Check a hand-written vector-Jacobian product ``vjp(x, u) = J^T u``.

    ``u`` are seeded random vectors.  "full" mode compares every component of
    ``vjp(x, u)`` with ``J^T u`` built from every column of ``J`` (and names the wrong
    one); "fast" compares ``<vjp(x, u), t>`` with the derivative ``<u, J t>`` along a
    random ``t``.  With ``jvp=``, the dot-product test of :func:`check_jvp_vjp` runs too
    and a jvp and vjp that are not adjoint fail, whatever the references say.

    Parameters
    ----------
    g, x, mode, directions, complex_step, rtol, atol, seed
        As for :func:`check_jvp`; ``directions`` is the number of random ``u``.
    vjp : callable
        ``vjp(x, u)`` returning the claimed ``J^T u``, shape ``(n,)``.
    jvp : callable, optional
        ``jvp(x, t)``, checked against ``vjp`` by the dot-product test.

    Returns
    -------
    GradCheckResult
        ``check == "VJP"``; components are named ``(J^T u)[k] for random u r``.

    Raises
    ------
    TypeError, ValueError
        As for :func:`check_jvp`.

    Examples
    --------
    >>> import numpy as np
    >>> g = lambda x: np.array([x[0] * x[1], np.sin(x[0])])
    >>> vjp = lambda x, u: np.array([x[1] * u[0] + np.cos(x[0]) * u[1], x[0] * u[0]])
    >>> check_vjp(g, vjp, [1.0, 2.0]).verdict
    'pass'
    """
    start = time.perf_counter()
    x = _validate(g, "vjp", vjp, x, mode, directions, complex_step, rtol, atol, seed)
    if jvp is not None and not callable(jvp):
        raise TypeError(f"jvp must be callable or None; got {type(jvp).__name__}")
    n = x.size
    lines = _Lines(g, x, complex_step)
    m = lines.m
    _, dtype = claimed_array(vjp, "vjp", (x, np.ones(m)), (n,))
    tolerance = Tolerance.choose(dtype, rtol, atol)
    failure = None
    if jvp is not None:
        failure = _adjoint_failure(_dot_products(jvp, vjp, x, m, directions, seed, tolerance, dtype))
    mode = ("full" if n <= FULL_UP_TO else "fast") if mode == "auto" else mode
    rng = np.random.default_rng([seed, 0])
    judged = []
    if mode == "full":
        columns = [lines.column(k) for k in range(n)]
        jacobian = np.column_stack([c[0] for c in columns])
        jacobian_error = np.column_stack([c[1] for c in columns])
        for r in range(directions):
            u = seeded_direction(rng, np.ones(m))
            claimed, _ = claimed_array(vjp, "vjp", (x, u), (n,))
            value, error = u @ jacobian, np.abs(u) @ jacobian_error
            label = lambda k, _, r=r: (int(k), f"(J^T u)[{int(k)}] for random u {r}")  # noqa: E731
            judged.append(judge(claimed[:, None], value[:, None], error[:, None], tolerance, label))
        noun = "components"
    else:
        for r in range(directions):
            u = seeded_direction(rng, np.ones(m))
            t = seeded_direction(rng, np.maximum(1.0, np.abs(x)))
            claimed, _ = claimed_array(vjp, "vjp", (x, u), (n,))
            value, error = lines.along(t)
            scale = np.array([[max(np.abs(claimed) @ np.abs(t), np.abs(u) @ np.abs(value))]])
            label = lambda *_, r=r: (r, f"<J^T u, t> for random pair {r}")  # noqa: E731
            judged.append(
                judge(
                    np.array([[claimed @ t]]),
                    np.array([[u @ value]]),
                    np.array([[np.abs(u) @ error]]),
                    tolerance,
                    label,
                    row_scale=scale,
                )  # fmt: skip
            )
        noun = "directional derivatives"
    return _finish(judged, lines, "VJP", noun, x, seed, mode, start, failure)


def _dot_products(jvp, vjp, x, m, directions, seed, tolerance: Tolerance, dtype) -> Judged:
    """``<u, jvp(x, t)>`` against ``<vjp(x, u), t>`` for seeded random pairs: (directions, 1).

    Both are sums of products of the claims' values, so they agree to the rounding of
    those sums: the claims' allowance times the sums of the terms' magnitudes.
    """
    rng = np.random.default_rng([seed, 2])
    forward, backward, scale = [], [], []
    for _ in range(directions):
        u = seeded_direction(rng, np.ones(m))
        t = seeded_direction(rng, np.ones(x.size))
        jt, _ = claimed_array(jvp, "jvp", (x, t), (m,))
        ju, _ = claimed_array(vjp, "vjp", (x, u), (x.size,))
        forward.append(u @ jt)
        backward.append(ju @ t)
        scale.append(np.abs(u) @ np.abs(jt) + np.abs(ju) @ np.abs(t))
    value, claimed = np.array(forward)[:, None], np.array(backward)[:, None]
    error = np.zeros_like(value)
    label = lambda r, _: (int(r), f"<J^T u, t> for random pair {int(r)}")  # noqa: E731
    return judge(claimed, value, error, tolerance, label, row_scale=np.array(scale)[:, None])


def _adjoint_failure(judged: Judged) -> tuple[str, Mismatch] | None:
    rows = np.flatnonzero(judged.bad[:, 0])
    if rows.size == 0:
        return None
    r = int(rows[np.argmax(np.abs(judged.claimed - judged.value)[rows, 0])])
    a, b = float(judged.value[r, 0]), float(judged.claimed[r, 0])
    reason = (
        f"jvp and vjp are not adjoint: <u, J t> = {a!r} from jvp but <J^T u, t> = {b!r} from vjp "
        f"(random pair {r}, seeded)"
    )
    record = Mismatch(r, b, a, abs(a - b), relative(abs(a - b), a), float(judged.tolerance[r, 0]),
                      f"<J^T u, t> for random pair {r}")  # fmt: skip
    return reason, record


def check_jvp_vjp(
    g,
    jvp,
    vjp,
    x,
    *,
    directions: int = 3,
    rtol: float | None = None,
    atol: float | None = None,
    seed: int = 0,
) -> GradCheckResult:
    """The dot-product test: ``<u, jvp(x, t)> = <vjp(x, u), t>`` for seeded random pairs.

    No differences are taken (``g`` is evaluated once, for ``m``): the two sides agree
    to the rounding of their sums for any adjoint pair, so a 1e-12 relative
    inconsistency shows.  It cannot tell which side is wrong, nor see both wrong
    alike: use :func:`check_jvp` and :func:`check_vjp` for that.

    Parameters
    ----------
    g, x, rtol, atol, seed
        As for :func:`check_jvp`.
    jvp, vjp : callable
        ``jvp(x, t)`` shape ``(m,)`` and ``vjp(x, u)`` shape ``(n,)``.
    directions : int, optional
        Random pairs ``(u, t)``.

    Returns
    -------
    GradCheckResult
        ``check == "JVP/VJP"``.

    Raises
    ------
    TypeError, ValueError
        As for :func:`check_jvp`.

    Examples
    --------
    >>> import numpy as np
    >>> A = np.array([[1.0, 2.0, 0.5], [0.0, -1.0, 3.0]])
    >>> g, jvp = lambda x: A @ x, lambda x, t: A @ t
    >>> check_jvp_vjp(g, jvp, lambda x, u: A.T @ u, [1.0, 2.0, 3.0]).verdict
    'pass'
    >>> check_jvp_vjp(g, jvp, lambda x, u: A[:, ::-1].T @ u, [1.0, 2.0, 3.0]).reason
    'jvp and vjp are not adjoint...'
    """
    start = time.perf_counter()
    x = _validate(g, "jvp", jvp, x, "auto", directions, False, rtol, atol, seed)
    if not callable(vjp):
        raise TypeError(f"vjp must be callable; got {type(vjp).__name__}")
    lines = _Lines(g, x, False)
    lines.used = ["dot_product"]
    _, dtype = claimed_array(vjp, "vjp", (x, np.ones(lines.m)), (x.size,))
    tolerance = Tolerance.choose(dtype, rtol, atol)
    judged = _dot_products(jvp, vjp, x, lines.m, directions, seed, tolerance, dtype)
    failure = _adjoint_failure(judged)
    if failure is not None:  # the reason says it all; one entry per pair is its evidence
        judged = replace(judged, bad=np.zeros_like(judged.bad))
    return _finish([judged], lines, "JVP/VJP", "pairs", x, seed, "full", start, failure)


def assert_jvp_correct(g, jvp, x, *, allow_inconclusive: bool = False, **options) -> None:
    """Raise ``AssertionError`` with the report unless :func:`check_jvp` passes.

    Examples
    --------
    >>> import numpy as np
    >>> assert_jvp_correct(lambda x: np.exp(x), lambda x, t: np.exp(x) * t, [0.5, 1.0])
    """
    require(check_jvp(g, jvp, x, **options), allow_inconclusive)


def assert_vjp_correct(g, vjp, x, *, allow_inconclusive: bool = False, **options) -> None:
    """Raise ``AssertionError`` with the report unless :func:`check_vjp` passes.

    Examples
    --------
    >>> import numpy as np
    >>> assert_vjp_correct(lambda x: np.exp(x), lambda x, u: np.exp(x) * u, [0.5, 1.0])
    """
    require(check_vjp(g, vjp, x, **options), allow_inconclusive)
