"""Studies beyond the suite table: scaling with n, expression swell, finite-difference steps,
the MLP's layers, and the operators beyond the gradient.

Each study returns a tidy DataFrame; :mod:`diffcompare.harness.report` writes them and
:mod:`diffcompare.harness.plots` draws them.  :data:`STUDIES` says which suite functions
and methods each study draws on, and :func:`plan_studies` restricts them to a run's
``--functions`` and ``--methods``: a study left with nothing to measure is skipped, with
the reason.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from ..budget import time_budget
from ..methods import METHODS
from ..methods.central.difference import central_difference, central_step
from ..methods.symbolic.gradient import symbolic_gradient
from ..methods.tape.method import tape_size
from ..mlp.model import ACTIVATIONS, LOSSES, MLP
from ..mlp.symbolic import backprop_gradient
from ..suite.functions import make_mlp_loss
from ..suite.records import SuiteFunction, suite
from ..truth.accuracy import normwise_relative_error
from ..truth.reference import reference_gradient
from .run import (
    COLUMNS,
    HarnessOptions,
    _Case,
    _failure,
    _points,
    _quietly,
    run_function,
)
from .timing import measure, time_once

__all__ = [
    "STUDIES",
    "StudyNeeds",
    "StudyPlan",
    "plan_studies",
    "ROSENBROCK_SIZES",
    "MLP_SIZES",
    "mlp_record",
    "scaling_cases",
    "scaling_options",
    "scaling_study",
    "setup_trials",
    "TRIED_SETUPS",
    "swell_function",
    "swell_study",
    "step_study",
    "STEP_STUDY_FUNCTIONS",
    "MLP_LAYER_NETWORKS",
    "best_steps",
    "mlp_layer_study",
]

#: Networks of the per-layer MLP comparison (batch 64): the issue's sizes and a 3-layer net.
MLP_LAYER_NETWORKS = ((4, 8, 3), (64, 32, 10), (784, 128, 10), (5, 7, 6, 3))
MLP_LAYER_COLUMNS = [
    "network", "activation", "loss", "layer", "parameter", "method", "against", "max_rel_err", "eval_s",
]  # fmt: skip

ROSENBROCK_SIZES = (2, 10, 100, 1_000, 10_000)

#: (layer sizes, batch) of the MLP scaling study.
MLP_SIZES = (((2, 3, 1), 4), ((4, 8, 3), 8), ((16, 16, 4), 16), ((64, 32, 10), 64))

STEP_STUDY_FUNCTIONS = ("rosenbrock", "exp_log", "trigonometric", "sigmoid_sum", "goldstein_price")

Progress = Callable[[str], None] | None

#: The methods the per-layer MLP comparison can measure, by the name of its rows.
MLP_LAYER_METHODS = {"symbolic_rules": "symbolic", "autograd": "autograd", "tape": "tape"}


@dataclass(frozen=True)
class StudyNeeds:
    """What a study draws on.

    Attributes
    ----------
    functions : tuple of str or None
        The suite functions it measures; ``None`` for a study with a function of its own
        (not in the suite), which runs only when ``--functions`` does not restrict the
        suite.
    methods : tuple of str or None
        The methods it can measure (``None``: any).
    timing : bool
        Whether it measures times (so it is skipped in an accuracy-only run).
    least_methods : int
        How many of its methods it needs (a comparison between methods needs two).
    """

    functions: tuple[str, ...] | None
    methods: tuple[str, ...] | None
    timing: bool
    least_methods: int = 1


#: The operator study's functions: the suite's (not the workloads).
OPERATOR_FUNCTIONS = tuple(record.name for record in suite())

#: The gradient methods the operator study's methods stand for.
OPERATOR_METHODS = ("tape", "forward", "autograd", "symbolic", "complex_step", "central")

# The scaling study times Rosenbrock at growing n and MLP losses of growing width (the
# family of the suite's mlp_loss); the per-layer MLP comparison measures the SymPy-derived
# layer rules ("symbolic") against autograd and the tape; the operator study
# (diffcompare.harness.operator_study) scores Jacobians, JVPs, VJPs, Hessians and HVPs.
# fmt: off
STUDIES = {
    "scaling":    StudyNeeds(("rosenbrock", "mlp_loss"), None, timing=True),
    "swell":      StudyNeeds(None, ("symbolic", "tape"), timing=False),
    "steps":      StudyNeeds(STEP_STUDY_FUNCTIONS, ("central",), timing=False),
    "mlp_layers": StudyNeeds(("mlp_loss",), tuple(MLP_LAYER_METHODS.values()), timing=True, least_methods=2),
    "operators":  StudyNeeds(OPERATOR_FUNCTIONS, OPERATOR_METHODS, timing=False),
}
# fmt: on


@dataclass(frozen=True)
class StudyPlan:
    """One study of a run: the functions and methods it measures, or why it is skipped."""

    name: str
    functions: tuple[str, ...]
    methods: tuple[str, ...]
    skipped: str = ""

    @property
    def runs(self) -> bool:
        """True unless the study is skipped."""
        return not self.skipped


def plan_studies(
    functions: Sequence[str] | None, methods: Sequence[str], timing: bool = True
) -> dict[str, StudyPlan]:
    """Every study of :data:`STUDIES`, restricted to a run's functions and methods.

    Parameters
    ----------
    functions : sequence of str or None
        The run's suite functions (``None``: the whole suite, unrestricted).
    methods : sequence of str
        The run's methods.
    timing : bool, optional
        False for an accuracy-only run: the studies that time are skipped.

    Returns
    -------
    dict
        Study name -> :class:`StudyPlan`, in the order of :data:`STUDIES`.

    Examples
    --------
    >>> plans = plan_studies(["rosenbrock", "booth"], ["tape", "central"])
    >>> plans["steps"].functions, plans["steps"].methods
    (('rosenbrock',), ('central',))
    >>> plans["mlp_layers"].skipped
    'none of its functions (mlp_loss) is among the suite functions of this run'
    """
    plans = {}
    for name, needs in STUDIES.items():
        if needs.functions is None:
            chosen_functions = ()
        elif functions is None:
            chosen_functions = needs.functions
        else:
            chosen_functions = tuple(f for f in needs.functions if f in functions)
        chosen_methods = tuple(m for m in (needs.methods or methods) if m in methods)
        if needs.timing and not timing:
            skipped = "it measures times and this run is accuracy only (--no-timing)"
        elif needs.functions is None and functions is not None:
            skipped = "its function is not a suite function: it runs only when the whole suite does"
        elif needs.functions is not None and not chosen_functions:
            listed = ", ".join(needs.functions)
            skipped = f"none of its functions ({listed}) is among the suite functions of this run"
        elif len(chosen_methods) < needs.least_methods:
            listed = ", ".join(needs.methods or METHODS)
            skipped = (
                f"it needs {needs.least_methods} of the methods {listed}; this run has {len(chosen_methods)}"
            )
        else:
            skipped = ""
        plans[name] = StudyPlan(name, chosen_functions, chosen_methods, skipped)
    return plans


class _MLPLoss:
    """``make_mlp_loss(layers, batch)``'s ``f``, sent to a worker process as its sizes
    (the function itself is a closure, which cannot be pickled)."""

    def __init__(self, layers: tuple[int, ...], batch: int) -> None:
        self.layers, self.batch = tuple(layers), batch
        self._f, self.dim = make_mlp_loss(self.layers, batch)
        self.__name__ = self._f.__name__

    def __call__(self, x, xp):
        return self._f(x, xp)

    def __reduce__(self):
        return type(self), (self.layers, self.batch)


def mlp_record(layers: tuple[int, ...], batch: int) -> SuiteFunction:
    """The MLP of the scaling study as a suite-style record (tanh hidden layers, MSE)."""
    f = _MLPLoss(layers, batch)
    name = "mlp_" + "-".join(map(str, layers)) + f"_b{batch}"
    return SuiteFunction(name, f, f.dim, (-1.0, 1.0), notes=f"MLP {layers}, batch {batch}")


#: Methods whose setup (SymPy's differentiation and compilation) grows with n until it
#: exceeds the time budget.  The scaling study has a worker try their setups first
#: (:func:`setup_trials`), so that this process, which times, does not spend the whole
#: budget of each timeout waiting; a setup that fits is done again here, and timed.
TRIED_SETUPS = ("symbolic", "symengine")


def setup_trials(method: str, records: Sequence[SuiteFunction], budget_s: float | None) -> list:
    """Prepare ``method`` on each record in turn, as the scaling study does, up to the
    first timeout (the study runs no larger size after one).

    Returns
    -------
    list
        Per record tried: ``None`` where the setup finished within the budget, else its
        ``(status, message)`` as a row would have it.
    """
    outcomes = []
    for record in records:
        try:
            _quietly(lambda r=record: METHODS[method].prepare(r.f, r.dim), budget_s)
            outcomes.append(None)
        except Exception as error:
            outcomes.append(_failure(error))
            if outcomes[-1][0] == "timeout":
                break
    return outcomes


def scaling_options(options: HarnessOptions) -> HarnessOptions:
    """The scaling study's options: one ordinary point per size."""
    return replace(options, ordinary_points=1, hard_points=False)


def scaling_cases(
    rosenbrock_sizes: Sequence[int] = ROSENBROCK_SIZES, mlp_sizes: Sequence = MLP_SIZES
) -> list[tuple[str, SuiteFunction]]:
    """``(study, record)`` for each size of the scaling study, in its order."""
    (rosenbrock,) = suite(["rosenbrock"])
    cases = [("rosenbrock", rosenbrock.resized(n)) for n in rosenbrock_sizes]
    return cases + [("mlp", mlp_record(layers, batch)) for layers, batch in mlp_sizes]


def scaling_study(
    options: HarnessOptions,
    rosenbrock_sizes: Sequence[int] = ROSENBROCK_SIZES,
    mlp_sizes: Sequence = MLP_SIZES,
    progress: Progress = None,
    references: Sequence | None = None,
    trials: Mapping | None = None,
) -> pd.DataFrame:
    """Timing (and accuracy where the reference exists) as the problem grows.

    One ordinary point per size; a method that exceeds the time budget at some size
    gets a ``timeout`` row there, and at the larger sizes of the same study a ``timeout``
    row that says so without running it again (each attempt would cost the whole budget,
    more when the time goes to compiled code the budget cannot interrupt).
    ``references`` holds, for each case of :func:`scaling_cases`, its references or a
    future of them (computed by a worker meanwhile, with :func:`scaling_options`), or
    ``None`` to compute them here.  ``trials`` maps ``(study, method)`` (``"rosenbrock"``
    or ``"mlp"``, a method of :data:`TRIED_SETUPS`) to :func:`setup_trials` of that
    study's records, or a future of it: a setup that timed out there is a ``timeout`` row
    here, without waiting for the budget again (a trial not finished when the study
    reaches its size is not waited for: the setup is tried here).
    """
    one_point = scaling_options(options)
    cases = scaling_cases(rosenbrock_sizes, mlp_sizes)
    references = [None] * len(cases) if references is None else list(references)
    rows = []
    timed_out: dict[tuple[str, str], int] = {}  # (study, method) -> the size it timed out at
    position = {study: 0 for study, _ in cases}  # index of each case within its study
    for (study, record), prepared in zip(cases, references, strict=True):
        if progress is not None:
            progress(f"scaling {record.name} n={record.dim}")
        methods = tuple(m for m in options.methods if (study, m) not in timed_out)
        failures = _known_timeouts(trials or {}, study, position[study], methods)
        position[study] += 1
        by_method = {}
        if methods:
            for row in run_function(record, replace(one_point, methods=methods), prepared, failures):
                by_method[row["method"]] = row
                if row["status"] == "timeout":
                    timed_out[study, row["method"]] = record.dim
        for method in options.methods:
            row = by_method.get(method) or _not_rerun(record, one_point, method, timed_out[study, method])
            rows.append({"study": study, **row})
    return pd.DataFrame(rows, columns=["study", *COLUMNS])


def _known_timeouts(trials: Mapping, study: str, index: int, methods: Sequence[str]) -> dict:
    """Method -> (status, message) of the setups a worker saw time out at this size."""
    known = {}
    for method in methods:
        outcomes = trials.get((study, method))
        if outcomes is None or (hasattr(outcomes, "done") and not outcomes.done()):
            continue  # no trial, or not finished yet: this process prepares it, as without one
        outcomes = outcomes.result() if hasattr(outcomes, "result") else outcomes
        if index < len(outcomes) and outcomes[index] is not None and outcomes[index][0] == "timeout":
            known[method] = outcomes[index]
    return known


def _not_rerun(record: SuiteFunction, options: HarnessOptions, method: str, size: int) -> dict:
    label, kind, point = next(_points(record, options))
    message = f"not run: it exceeded the time budget at the smaller n = {size}"
    return _Case(record, label, kind, point, method).fail("timeout", message)


def swell_function(depth: int) -> Callable:
    """``u_k = sin(u_{k-1}) u_{k-1} + x1`` from ``u_0 = x0 x1``, nested ``depth`` times.

    ``u_{k-1}`` appears twice in ``u_k``, so the expression tree (and the tree of its
    derivative, by the product rule) doubles with every level, while the computation
    graph (the tape) grows by a constant.
    """

    def nested(x, xp):
        u = x[0] * x[1]
        for _ in range(depth):
            u = xp.sin(u) * u + x[1]
        return u

    return nested


def swell_study(
    depths: Sequence[int] = range(1, 13),
    budget_s: float | None = 30.0,
    progress: Progress = None,
    methods: Sequence[str] = ("symbolic", "tape"),
):
    """SymPy's derivative size with and without CSE, and the tape's size, against depth.

    ``methods`` chooses the columns: ``"symbolic"`` the SymPy sizes and setup time,
    ``"tape"`` the tape's nodes (the other columns stay NaN).
    """
    point = np.array([0.7, 0.3])
    rows = []
    for depth in depths:
        if progress is not None:
            progress(f"swell depth {depth}")
        f = swell_function(depth)
        row = {"depth": depth, "status": "ok", "message": ""}
        if "tape" in methods:
            row["tape_nodes"] = tape_size(f, point)
        if "symbolic" in methods:
            try:
                with time_budget(budget_s):
                    compiled, setup_s = time_once(lambda f=f: symbolic_gradient(f, 2))
                row.update(expr_ops=compiled.ops, cse_ops=compiled.cse_ops, setup_s=setup_s)
            except Exception as error:
                row["status"], row["message"] = _failure(error)
        rows.append(row)
    columns = ["depth", "status", "expr_ops", "cse_ops", "tape_nodes", "setup_s", "message"]
    return pd.DataFrame(rows, columns=columns)


def step_study(
    names: Sequence[str] = STEP_STUDY_FUNCTIONS,
    steps: Sequence[float] = tuple(10.0 ** -np.arange(1.0, 14.5, 0.5)),
    progress: Progress = None,
) -> pd.DataFrame:
    """Central-difference error against the relative step h, at each function's first point.

    Truncation error falls like h^2 and rounding error grows like eps/h, so the error
    traces a V; the rule's step cbrt(eps) is included as its own row (``rule`` True).
    """
    rule_step = float(central_step(np.zeros(1))[0])  # cbrt(eps): the relative step at |x| <= 1
    rows = []
    for record in suite(list(names)):
        if progress is not None:
            progress(f"steps {record.name}")
        point = record.points[0]
        truth = reference_gradient(record.f, point).value
        for step in [*steps, rule_step]:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                estimate = central_difference(record.f, point, step=step)
            rows.append(
                {
                    "function": record.name,
                    "step": step,
                    "rule": step == rule_step,
                    "norm_rel_err": normwise_relative_error(estimate, truth),
                }
            )
    return pd.DataFrame(rows, columns=["function", "step", "rule", "norm_rel_err"])


def best_steps(steps: pd.DataFrame) -> pd.DataFrame:
    """Per function: the empirically best step and its error beside the rule's."""
    rows = []
    for name, group in steps.groupby("function", sort=False):
        scanned = group[~group["rule"]]
        best = scanned.loc[scanned["norm_rel_err"].idxmin()]
        rule = group[group["rule"]].iloc[0]
        rows.append(
            {
                "function": name,
                "best_step": best["step"],
                "best_err": best["norm_rel_err"],
                "rule_step": rule["step"],
                "rule_err": rule["norm_rel_err"],
            }
        )
    return pd.DataFrame(rows)


def mlp_layer_study(
    networks: Sequence[tuple[int, ...]] = MLP_LAYER_NETWORKS,
    batch: int = 64,
    repeats: int = 5,
    min_run_time: float = 0.05,
    progress: Progress = None,
    methods: Sequence[str] = ("symbolic", "autograd", "tape"),
    settle: float | None = None,
) -> pd.DataFrame:
    """The SymPy-derived backpropagation rules against autograd and the tape, per layer.

    ``methods`` chooses among ``"symbolic"`` (the rows' ``symbolic_rules``),
    ``"autograd"`` and ``"tape"``; each chosen one is compared with every other.

    For each network, activation and loss (data ``MLP.random(..., seed=0)``, parameters
    ``random_parameters(seed=1)``): one row per (layer, parameter block, method, other
    method).  No 50-digit reference exists at these sizes, so ``max_rel_err`` is the
    normwise relative error of the method's block against the same block of the method
    in ``against``.  ``eval_s`` is the method's median time per whole gradient
    (:func:`~diffcompare.harness.timing.measure` with ``repeats`` and ``settle``).
    """
    rows = []
    for layers, activation, loss in itertools.product(networks, ACTIVATIONS, LOSSES):
        net = MLP.random(layers, activation, loss, batch=batch, seed=0)
        network = "-".join(map(str, layers))
        if progress is not None:
            progress(f"mlp layers {network} {activation} {loss}")
        x = net.random_parameters(seed=1)
        functions = {}
        if "symbolic" in methods:
            functions["symbolic_rules"] = lambda point, net=net: backprop_gradient(net, point)
        for method in ("autograd", "tape"):
            if method in methods:
                functions[method] = METHODS[method].prepare(net.f, net.dim).gradient
        gradients = {name: fn(x) for name, fn in functions.items()}
        times = {
            name: measure(
                lambda fn=fn, x=x: fn(x), repeats=repeats, min_run_time=min_run_time, warmup=0, settle=settle
            ).median
            for name, fn in functions.items()
        }
        for method, against in itertools.permutations(functions, 2):
            for block, span in net.layer_slices():
                error = normwise_relative_error(gradients[method][span], gradients[against][span])
                rows.append(
                    {
                        "network": network,
                        "activation": activation,
                        "loss": loss,
                        "layer": int(block[1:]),
                        "parameter": block[0],
                        "method": method,
                        "against": against,
                        "max_rel_err": error,
                        "eval_s": times[method],
                    }  # fmt: skip
                )
    return pd.DataFrame(rows, columns=MLP_LAYER_COLUMNS)
