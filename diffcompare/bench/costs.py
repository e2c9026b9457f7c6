"""The cost of derivatives relative to ``f``, and where forward beats reverse for Jacobians.

Two measurements, both with BLAS pinned to one thread and every time a median of
:func:`diffcompare.harness.timing.measure`:

* :func:`operator_costs`: for every method of the gradient, the HVP and the Hessian, the
  time of one call divided by the time of one numpy evaluation of ``f`` at the same
  point.  Cheap-gradient theory bounds a reverse gradient by a small constant times
  ``f`` (about 4 to 5 in practice), an HVP by about twice that, and a dense Hessian by
  about ``n`` HVPs; finite differences pay ``n`` (gradient) or ``n^2`` (Hessian)
  evaluations of ``f``.  :data:`DIFFSHARP_ANCHORS` holds DiffSharp's published ratios
  for comparison.
* :func:`jacobian_crossover`: the Jacobian of ``g(x) = tanh(A x)`` with ``A`` of shape
  ``(m, n)``, by ``"tape"`` (one recording, m backward walks) and ``"forward"`` (ceil(n / 64)
  dual-number evaluations).  Every output costs about the same, so reverse time grows
  with ``m`` and forward time with ``n``: the ratio ``m / n`` where the two cross is the
  point past which forward mode wins.

Setup (tracing, ``sympy.diff``) and the first call share one time budget per method; a
method that runs out of it or raises is a row with status ``timeout`` or ``error`` and
the message, and the run goes on.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from pathlib import Path

import numpy as np

from ..budget import BudgetExceeded, time_budget
from ..harness.timing import measure, time_once
from ..ops.numpy_namespace import numpy_namespace
from ..validation import check_count, check_positive, check_seed

__all__ = [
    "COST_COLUMNS",
    "CROSSOVER_COLUMNS",
    "DIFFSHARP_ANCHORS",
    "OPERATOR_METHODS",
    "crossover_ratio",
    "jacobian_crossover",
    "operator_costs",
    "operator_costs_markdown",
    "plot_jacobian_crossover",
    "write_operator_cost_reports",
]

#: Columns of ``operator_costs.csv``: one row per (function, operator, method).
COST_COLUMNS = [
    "function", "n", "operator", "method", "status", "median_s", "spread", "f_median_s", "ratio_to_f",
    "setup_s", "message",
]  # fmt: skip

#: Columns of ``jacobian_crossover.csv``: one row per (sweep, n, m, method).
CROSSOVER_COLUMNS = ["sweep", "n", "m", "m_over_n", "method", "status", "median_s", "spread", "message"]

#: DiffSharp's published cost of each operator relative to ``f`` (AD and finite differences).
DIFFSHARP_ANCHORS: dict[str, dict[str, float]] = {
    "gradient": {"ad": 4.8, "finite_differences": 161.0},
    "hvp": {"ad": 9.6, "finite_differences": 323.0},
    "hessian": {"ad": 810.0, "finite_differences": 16750.0},
}

#: Characters of an exception message kept in a row.
MESSAGE_CHARS = 200


def _gradient_call(f: Callable, method: str) -> Callable[[np.ndarray, np.ndarray], object]:
    from ..gradient import grad

    gradient = grad(f, method)
    return lambda x, v: gradient(x)


def _hvp_call(f: Callable, method: str) -> Callable[[np.ndarray, np.ndarray], object]:
    from ..operators import hvp

    return hvp(f, method)


def _hessian_call(f: Callable, method: str) -> Callable[[np.ndarray, np.ndarray], object]:
    from ..operators import hessian

    hess = hessian(f, method)
    return lambda x, v: hess(x)


def _method_names(operator: str) -> tuple[str, ...]:
    from ..methods import METHODS
    from ..operators import HESSIAN_METHODS, HVP_METHODS

    tables = {"gradient": METHODS, "hvp": HVP_METHODS, "hessian": HESSIAN_METHODS}
    return tuple(tables[operator])


#: Operator name -> ``build(f, method)`` returning ``(x, v) -> result`` (``v`` used by the HVP only).
OPERATOR_METHODS: dict[str, Callable] = {
    "gradient": _gradient_call,
    "hvp": _hvp_call,
    "hessian": _hessian_call,
}


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:MESSAGE_CHARS]


def _timed(call: Callable[[], object], budget_s: float, repeats: int, min_run_time: float) -> dict:
    """Status, median, spread and first-call time of ``call``; failures become a status."""
    try:
        # The first call builds the method for this n (tracing, sympy.diff) and warms up.
        with time_budget(budget_s):
            _, first_s = time_once(call)
        # Slow calls get fewer runs, so one expensive Hessian cannot eat the whole run.
        runs = max(1, min(repeats, int(budget_s // max(first_s, 1e-9))))
        timing = measure(call, repeats=runs, min_run_time=min_run_time, warmup=0)
    except BudgetExceeded as error:
        return {"status": "timeout", "message": str(error)[:MESSAGE_CHARS]}
    except Exception as error:  # a failing method is a row, the run goes on
        return {"status": "error", "message": _describe(error)}
    return {
        "status": "ok",
        "median_s": timing.median,
        "spread": timing.spread,
        "setup_s": first_s,
        "message": "",
    }


def operator_costs(
    functions: Sequence,
    *,
    methods: Mapping[str, Sequence[str]] | None = None,
    seed: int = 0,
    budget_s: float = 5.0,
    repeats: int = 5,
    min_run_time: float = 0.02,
    progress: Callable[[str], None] | None = None,
):
    """Time every method of the gradient, HVP and Hessian against one evaluation of ``f``.

    Parameters
    ----------
    functions : sequence of SuiteFunction
        Records of :func:`diffcompare.suite` at the dimension to time (``record.resized(n)``).
    methods : mapping, optional
        Operator name (a key of :data:`OPERATOR_METHODS`) -> method names; by default every
        registered method of every operator.
    seed : int, optional
        Seed of the point (the record's first ordinary point) and of the HVP's direction.
    budget_s : float, optional
        Seconds allowed for one method's setup and first call.
    repeats : int, optional
        Timed runs per method (fewer for calls that take a sizeable part of the budget).
    min_run_time : float, optional
        Least seconds of one timed run.
    progress : callable, optional
        Called with one line per row.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`COST_COLUMNS`; ``ratio_to_f`` is the method's median over ``f``'s.

    Raises
    ------
    TypeError
        If an argument has the wrong type.
    ValueError
        If ``functions`` is empty, ``methods`` names an unknown operator or a number is
        out of range.
    """
    import pandas as pd

    from ..harness.timing import one_blas_thread

    functions = list(functions)
    if not functions:
        raise ValueError("functions must hold at least one suite record")
    for record in functions:
        if not callable(getattr(record, "f", None)) or not hasattr(record, "points_for"):
            raise TypeError(f"functions must hold suite records; got {type(record).__name__}")
    if methods is None:
        methods = {operator: _method_names(operator) for operator in OPERATOR_METHODS}
    if not isinstance(methods, Mapping):
        raise TypeError(
            f"methods must be a mapping of operator to method names; got {type(methods).__name__}"
        )
    unknown = set(methods) - set(OPERATOR_METHODS)
    if unknown:
        raise ValueError(
            f"methods names unknown operators {sorted(unknown)}; expected {list(OPERATOR_METHODS)}"
        )
    seed = check_seed(seed)
    budget_s = check_positive(budget_s, "budget_s")
    repeats = check_count(repeats, "repeats")
    min_run_time = check_positive(min_run_time, "min_run_time")

    rows = []
    with one_blas_thread():
        for record in functions:
            f, n = record.f, record.dim
            x = record.points_for(seed, 1)[0]
            v = np.random.default_rng([seed, n]).standard_normal(n)
            f_timing = measure(partial(f, x, numpy_namespace), repeats=repeats, min_run_time=min_run_time)
            for operator, names in methods.items():
                build = OPERATOR_METHODS[operator]
                for method in names:
                    row = dict.fromkeys(COST_COLUMNS, math.nan)
                    row.update(function=record.name, n=n, operator=operator, method=method)
                    row["f_median_s"] = f_timing.median
                    try:
                        call = build(f, method)
                    except Exception as error:  # an unknown method or a refused f
                        row.update(status="error", message=_describe(error))
                    else:
                        row.update(_timed(partial(call, x, v), budget_s, repeats, min_run_time))
                    row["ratio_to_f"] = row["median_s"] / f_timing.median
                    rows.append(row)
                    if progress is not None:
                        progress(
                            f"{record.name:16s} n={n} {operator:8s} {method:17s} {row['status']:7s} "
                            f"ratio {row['ratio_to_f']:.4g}"
                        )
    return pd.DataFrame(rows, columns=COST_COLUMNS)


def _tanh_map(matrix: np.ndarray) -> Callable:
    # Every output is one dot product and one tanh: equal cost per output, so reverse
    # time scales with m and forward time with ceil(n / 64).
    def g(x, xp):
        return xp.tanh(matrix @ x)

    return g


def jacobian_crossover(
    sizes: Sequence[tuple[int, int]],
    *,
    sweep: str = "m",
    seed: int = 0,
    budget_s: float = 10.0,
    repeats: int = 5,
    min_run_time: float = 0.02,
    progress: Callable[[str], None] | None = None,
):
    """Time ``jacobian(g, "tape")`` and ``jacobian(g, "forward")`` for ``g(x) = tanh(A x)``.

    Parameters
    ----------
    sizes : sequence of (n, m)
        Input and output dimensions; ``A`` is drawn with ``seed`` at shape ``(m, n)``.
    sweep : str, optional
        Label of the sweep (``"m"`` for m varying at fixed n, ``"n"`` the other way).
    seed, budget_s, repeats, min_run_time, progress
        As for :func:`operator_costs`.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`CROSSOVER_COLUMNS`, one row per size and method.

    Raises
    ------
    TypeError, ValueError
        If a size is not a pair of positive integers, or a number is out of range.
    """
    import pandas as pd

    from ..harness.timing import one_blas_thread
    from ..operators import jacobian

    sizes = list(sizes)
    if not sizes:
        raise ValueError("sizes must hold at least one (n, m) pair")
    for size in sizes:
        if (
            not isinstance(size, tuple)
            or len(size) != 2
            or not all(isinstance(d, int) and not isinstance(d, bool) and d > 0 for d in size)
        ):
            raise ValueError(f"sizes must hold (n, m) pairs of positive integers; got {size!r}")
    if not isinstance(sweep, str):
        raise TypeError(f"sweep must be a string; got {type(sweep).__name__}")
    seed = check_seed(seed)
    budget_s = check_positive(budget_s, "budget_s")
    repeats = check_count(repeats, "repeats")
    min_run_time = check_positive(min_run_time, "min_run_time")

    rows = []
    with one_blas_thread():
        for n, m in sizes:
            rng = np.random.default_rng([seed, n, m])
            g = _tanh_map(rng.standard_normal((m, n)) / math.sqrt(n))
            x = rng.standard_normal(n)
            for method in ("tape", "forward"):
                jac = jacobian(g, method)
                row = dict.fromkeys(CROSSOVER_COLUMNS, math.nan)
                row.update(sweep=sweep, n=n, m=m, m_over_n=m / n, method=method)
                timed = _timed(partial(jac, x), budget_s, repeats, min_run_time)
                timed.pop("setup_s", None)
                row.update(timed)
                rows.append(row)
                if progress is not None:
                    progress(
                        f"jacobian sweep {sweep} n={n:4d} m={m:4d} {method:8s} {row['status']} "
                        f"{row['median_s']:.3g} s"
                    )
    return pd.DataFrame(rows, columns=CROSSOVER_COLUMNS)


def crossover_ratio(table) -> float:
    """The ``m / n`` where forward and tape take equal time, interpolated in log-log.

    Uses the ``ok`` rows of one sweep; the first interval in which ``tape / forward``
    passes through 1 (tape faster below, forward faster above) is interpolated linearly
    in ``log(m / n)`` against ``log(tape / forward)``.

    Returns
    -------
    float
        The crossover ``m / n``; NaN if the ratio never crosses 1 in the range timed.
    """
    ok = table[table["status"] == "ok"]
    wide = ok.pivot_table(index="m_over_n", columns="method", values="median_s").dropna().sort_index()
    if not {"tape", "forward"} <= set(wide.columns) or len(wide) < 2:
        return math.nan
    log_ratio = np.log(wide["tape"].to_numpy() / wide["forward"].to_numpy())
    log_x = np.log(wide.index.to_numpy(dtype=float))
    for i in range(len(log_ratio) - 1):
        low, high = log_ratio[i], log_ratio[i + 1]
        if low <= 0 < high:
            return float(np.exp(log_x[i] + (0 - low) * (log_x[i + 1] - log_x[i]) / (high - low)))
    return math.nan


def plot_jacobian_crossover(table, path: Path) -> Path:
    """Time against ``m / n`` on log-log axes, one line per (sweep, method), crossovers marked."""
    from ..harness.plots import _figure, save_figure

    plt = _figure()
    fig, ax = plt.subplots(figsize=(7, 4.5))
    styles = {"tape": "o-", "forward": "s--"}
    for sweep, part in table.groupby("sweep", sort=False):
        ok = part[part["status"] == "ok"].sort_values("m_over_n")
        fixed = f"n = {part['n'].iloc[0]}" if sweep == "m" else f"m = {part['m'].iloc[0]}"
        for method, line in ok.groupby("method", sort=False):
            ax.plot(line["m_over_n"], line["median_s"], styles.get(method, "x-"), label=f"{method}, {fixed}")
        crossing = crossover_ratio(part)
        if math.isfinite(crossing):
            ax.axvline(crossing, color="grey", linestyle=":", linewidth=1)
            ax.annotate(
                f"crossover m/n = {crossing:.2g} ({fixed})",
                xy=(crossing, 0.02),
                xycoords=("data", "axes fraction"),
                rotation=90,
                fontsize=8,
                xytext=(3, 0),
                textcoords="offset points",
            )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("m / n (outputs over inputs)")
    ax.set_ylabel("median seconds per Jacobian")
    ax.set_title("Jacobian of tanh(A x): reverse (m walks) vs forward (ceil(n/64) passes)")
    ax.legend(fontsize=8)
    ax.grid(True, which="both", alpha=0.3)
    path = save_figure(fig, Path(path))
    plt.close(fig)
    return path


def _ratio_text(value: float) -> str:
    if not math.isfinite(value):
        return ""
    return f"{value:,.0f}x" if value >= 1000 else f"{value:.3g}x"


def operator_costs_markdown(costs, crossover, command: str = "", date: str = "") -> str:
    """``operator_costs.md``: the ratios to ``f`` per method and function, the anchors, the crossover.

    Parameters
    ----------
    costs : pandas.DataFrame
        The table of :func:`operator_costs`.
    crossover : pandas.DataFrame
        The table of :func:`jacobian_crossover` (one or more sweeps).
    command, date : str, optional
        How and when the tables were made, printed at the top.

    Returns
    -------
    str
        Markdown text.
    """
    functions = list(dict.fromkeys(costs["function"]))
    n_text = ", ".join(str(n) for n in dict.fromkeys(costs["n"]))
    lines = [
        "# The cost of derivatives relative to f",
        "",
        f"Command: `{command}`, {date}. One run on a shared machine (noisy): medians, BLAS on one thread.",
        "",
        f"Time of one call over the time of one evaluation of f with numpy at n = {n_text}; a failed",
        "or timed-out method shows its status instead of a ratio.  The first call (tracing, `sympy.diff`,",
        "compiling) is not in the ratio; its time is the `setup_s` column of `operator_costs.csv`.",
        "",
        "| operator | method | " + " | ".join(functions) + " |",
        "|---|---|" + "---:|" * len(functions),
    ]
    for (operator, method), part in costs.groupby(["operator", "method"], sort=False):
        cells = []
        for function in functions:
            row = part[part["function"] == function]
            if row.empty:
                cells.append("")
            elif row["status"].iloc[0] == "ok":
                cells.append(_ratio_text(float(row["ratio_to_f"].iloc[0])))
            else:
                cells.append(str(row["status"].iloc[0]))
        lines.append(f"| {operator} | {method} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "f itself: "
        + ", ".join(
            f"{name} {costs.loc[costs['function'] == name, 'f_median_s'].iloc[0] * 1e6:.3g} us"
            for name in functions
        )
        + ".",
        "",
    ]
    lines += [
        "DiffSharp's anchor figures (its own functions and machine, for scale only):",
        "",
        "| operator | AD | finite differences |",
        "|---|---:|---:|",
    ]
    for operator, anchor in DIFFSHARP_ANCHORS.items():
        lines.append(
            f"| {operator} | {_ratio_text(anchor['ad'])} | {_ratio_text(anchor['finite_differences'])} |"
        )
    failed = costs[costs["status"] != "ok"]
    if not failed.empty:
        lines += ["", "Not timed:", ""]
        for row in failed.itertuples():
            lines.append(f"- {row.function} {row.operator} {row.method}: {row.status} ({row.message})")
    lines += ["", "## Jacobian: forward vs reverse", ""]
    for sweep, part in crossover.groupby("sweep", sort=False):
        fixed = (
            f"n = {part['n'].iloc[0]}, m varying" if sweep == "m" else f"m = {part['m'].iloc[0]}, n varying"
        )
        crossing = crossover_ratio(part)
        ok = part[part["status"] == "ok"]
        tape_s = ok[ok["method"] == "tape"].set_index("m_over_n")["median_s"]
        forward_s = ok[ok["method"] == "forward"].set_index("m_over_n")["median_s"]
        slower = (tape_s / forward_s).dropna()
        if math.isfinite(crossing):
            finding = f"forward becomes faster than tape at m / n = {crossing:.3g}"
        elif not slower.empty and (slower > 1).all():
            finding = "forward is faster than tape at every size timed"
        elif not slower.empty and (slower < 1).all():
            finding = "tape is faster than forward at every size timed"
        else:
            finding = "no single crossover in the range timed"
        lines += [f"{fixed}: {finding}.", ""]
        lines += ["| n | m | m/n | tape | forward | tape / forward |", "|---:|---:|---:|---:|---:|---:|"]
        wide = part.pivot_table(index=["n", "m", "m_over_n"], columns="method", values="median_s", sort=False)
        for (n, m, ratio), times in wide.iterrows():
            tape, forward = times.get("tape", math.nan), times.get("forward", math.nan)
            lines.append(
                f"| {n} | {m} | {ratio:.3g} | {tape * 1e3:.3g} ms | {forward * 1e3:.3g} ms "
                f"| {tape / forward:.3g} |"
            )
        lines.append("")
    return "\n".join(lines)


def write_operator_cost_reports(out: Path, costs, crossover, command: str = "", date: str = "") -> list[Path]:
    """Write ``operator_costs.csv``, ``operator_costs.md``, ``jacobian_crossover.csv`` and ``.png``.

    Returns
    -------
    list of Path
        The files written.
    """
    from ..harness.report import atomic_write

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    return [
        atomic_write(out / "operator_costs.csv", costs.to_csv(index=False)),
        atomic_write(out / "operator_costs.md", operator_costs_markdown(costs, crossover, command, date)),
        atomic_write(out / "jacobian_crossover.csv", crossover.to_csv(index=False)),
        plot_jacobian_crossover(crossover, out / "jacobian_crossover.png"),
    ]
