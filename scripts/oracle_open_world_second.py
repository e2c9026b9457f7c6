"""Second-order checkers on Hessians nobody here wrote: false fails, inconclusive, detection, cost.

The cases of :mod:`diffcompare.oracle.corpus` whose library ships a Hessian or a
Hessian-vector product (statsmodels' ``hessian`` of six likelihoods, scikit-learn's
multinomial ``gradient_hessian`` and ``gradient_hessian_product``, scipy's
``rosen_hess`` and ``rosen_hess_prod``, the diagonal Hessians of scipy's ``gammaln``
and ``psi`` sums through ``polygamma``), at the corpus's typical and awkward points.
Every checker judges the shipped second derivative (expected "pass") and the mutations
of :data:`diffcompare.oracle.second_mutations.MUTATIONS` that change it by at least
:data:`~diffcompare.oracle.corpus.MISTAKE_FLOOR` of its max-norm (expected "fail"):

* diffcompare's ``check_hessian`` and ``check_hvp`` (fast mode) with ``f`` a black
  box returning a Python float, alone and given the library's gradient (``grad=``),
  as a statsmodels or scikit-learn user would call them;
* numdifftools' ``Hessian`` of ``f`` and ``Jacobian`` of the library's gradient,
  judged by :data:`ND_RTOL` (an HVP against the estimate times the direction);
* ``torch.autograd.gradgradcheck`` (float64, defaults) on ``f`` wrapped as a
  ``torch.autograd.Function`` whose backward is the library's gradient and whose double
  backward is the claimed Hessian (or HVP), when torch imports.

No checker was tuned on these cases: the whole corpus is held out from the second-order
work, and the corpus's own ``holdout`` split is reported as well.  Writes
``reports/oracle_open_world_second.csv`` (one row per checker, case, point and variant)
and ``.md``.  numpy runs on one BLAS thread; times are one wall-clock measurement each.

Usage: ``python scripts/oracle_open_world_second.py [--out reports] [--quick]``
(``--quick``: the first two typical points of each case, and every awkward point).
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from oracle_bench import Outcome, counted, markdown_table
from oracle_open_world import (
    ND_RTOL,
    QUICK_TYPICAL,
    _commit,
    _pivot,
    _versions,
    check_row,
    run_script,
    summary_table,
)

import diffcompare
from diffcompare.oracle.corpus import CORPUS, MISTAKE_FLOOR, OpenCase, build, check_seed, point_seed
from diffcompare.oracle.second_mutations import MUTATIONS
from diffcompare.suite.records import SEED


@dataclass(frozen=True)
class Claim:
    """What a checker is given: ``f``, the library's gradient, and one second derivative."""

    f: Callable[[np.ndarray], float]
    grad: Callable[[np.ndarray], np.ndarray]
    operator: str  # "hessian" (claimed(x)) or "hvp" (claimed(x, v))
    claimed: Callable


@dataclass(frozen=True)
class Checker:
    """A second-order checker of one operator: ``run(claim, x, seed) -> Outcome``."""

    name: str
    operator: str
    run: Callable[[Claim, np.ndarray, int], Outcome]
    note: str


def _direction(x: np.ndarray, seed: int) -> np.ndarray:
    return np.random.default_rng([seed, 2]).standard_normal(x.size)


def _verdict(gap: float, scale: float, what: str) -> Outcome:
    if not np.isfinite(gap) or not np.isfinite(scale):
        return Outcome("inconclusive", -1, f"{what} not finite")
    return Outcome("pass" if gap <= ND_RTOL * scale else "fail", -1, f"gap={gap:.3g} scale={scale:.3g}")


def _judge_estimate(claim: Claim, x: np.ndarray, estimate: np.ndarray, seed: int) -> Outcome:
    """numdifftools' rule: the max gap within ND_RTOL of the estimate's max-norm."""
    estimate = np.asarray(estimate, dtype=np.float64).reshape(x.size, x.size)
    if claim.operator == "hvp":
        v = _direction(x, seed)
        estimate = estimate @ v
        claimed = np.asarray(claim.claimed(x, v), dtype=np.float64)
    else:
        claimed = np.asarray(claim.claimed(x), dtype=np.float64)
    return _verdict(float(np.max(np.abs(claimed - estimate))), float(np.max(np.abs(estimate))), "estimate")


def _numdifftools_checkers() -> list[Checker]:
    try:
        import numdifftools
    except ImportError:
        print("numdifftools is not installed: no numdifftools rows")
        return []

    def of_f(claim, x, seed):
        return _judge_estimate(claim, x, numdifftools.Hessian(claim.f)(x), seed)

    def of_grad(claim, x, seed):
        return _judge_estimate(claim, x, numdifftools.Jacobian(claim.grad)(x), seed)

    rule = f"pass iff max gap <= {ND_RTOL:g} max |estimate|"
    return [
        Checker(f"numdifftools Hessian ({op})", op, of_f, f"nd.Hessian(f), {rule}")
        for op in ("hessian", "hvp")
    ] + [
        Checker(f"numdifftools Jacobian of grad ({op})", op, of_grad, f"nd.Jacobian(grad), {rule}")
        for op in ("hessian", "hvp")
    ]


def _torch_checkers() -> list[Checker]:
    try:
        import torch
    except ImportError:
        print("torch is not installed: no torch rows")
        return []
    torch.set_num_threads(1)

    def run(claim, x, seed):
        def array(t):
            return t.detach().numpy()

        class Gradient(torch.autograd.Function):
            @staticmethod
            def forward(ctx, t):
                ctx.save_for_backward(t)
                return torch.from_numpy(np.asarray(claim.grad(array(t)), dtype=np.float64))

            @staticmethod
            def backward(ctx, u):
                (t,) = ctx.saved_tensors
                if claim.operator == "hvp":
                    product = claim.claimed(array(t), array(u))
                else:
                    product = np.asarray(claim.claimed(array(t))).T @ array(u)
                return torch.from_numpy(np.asarray(product, dtype=np.float64))

        class Value(torch.autograd.Function):
            @staticmethod
            def forward(ctx, t):
                ctx.save_for_backward(t)
                return torch.tensor(float(claim.f(array(t))), dtype=torch.float64)

            @staticmethod
            def backward(ctx, g):
                (t,) = ctx.saved_tensors
                return g * Gradient.apply(t)

        point = torch.tensor(np.array(x), dtype=torch.float64, requires_grad=True)
        passed = torch.autograd.gradgradcheck(Value.apply, (point,), raise_exception=False)
        return Outcome("pass" if passed else "fail", -1)

    note = "torch.autograd.gradgradcheck, float64, default eps/atol/rtol; backward = the library's gradient"
    return [Checker(f"torch gradgradcheck ({op})", op, run, note) for op in ("hessian", "hvp")]


def checkers() -> tuple[Checker, ...]:
    """diffcompare's four calls, then numdifftools and torch where they import."""

    def ours(check, with_grad: bool):
        def run(claim, x, seed):
            given = {"grad": claim.grad} if with_grad else {}
            result = check(claim.f, claim.claimed, x, seed=seed, **given)
            return Outcome(result.verdict, -1, result.reason)

        return run

    hessian, hessian_with_grad = ours(diffcompare.check_hessian, False), ours(diffcompare.check_hessian, True)
    hvp, hvp_with_grad = ours(diffcompare.check_hvp, False), ours(diffcompare.check_hvp, True)

    return (
        Checker("diffcompare check_hessian", "hessian", hessian, "check_hessian(f, hess, x), black box"),
        Checker(
            "diffcompare check_hessian grad=",
            "hessian",
            hessian_with_grad,
            "check_hessian(f, hess, x, grad=grad), black box f and the library's gradient",
        ),
        Checker("diffcompare check_hvp", "hvp", hvp, "check_hvp(f, hvp, x), fast mode, black box"),
        Checker(
            "diffcompare check_hvp grad=",
            "hvp",
            hvp_with_grad,
            "check_hvp(f, hvp, x, grad=grad), fast mode, black box f and the library's gradient",
        ),
        *_numdifftools_checkers(),
        *_torch_checkers(),
    )


def _mistakes(hessian_at_x: np.ndarray, seed) -> dict[str, np.ndarray]:
    """Mutation name -> the change it makes to the Hessian at ``x``, where that is visible."""
    scale = float(np.max(np.abs(hessian_at_x)))
    found = {}
    for name, mutate in MUTATIONS.items():
        wrong = mutate(hessian_at_x, np.random.default_rng([*seed, zlib.crc32(name.encode())]))
        if wrong is None:
            continue
        change = wrong - hessian_at_x
        if np.max(np.abs(change)) >= MISTAKE_FLOOR * scale:
            found[name] = change
    return found


def _claims(problem, operator: str, change: np.ndarray | None) -> Callable:
    """The shipped second derivative, or it plus a fixed mutation ``change``."""
    if operator == "hessian":
        if change is None:
            return problem.hess
        return lambda z: problem.hess(z) + change
    if problem.hvp is not None:
        shipped = problem.hvp
    else:  # no shipped product: the shipped Hessian times v is the library's HVP

        def shipped(z, v):
            return problem.hess(z) @ v

    if change is None:
        return shipped
    return lambda z, v: shipped(z, v) + change @ v


def _case_rows(case: OpenCase, checkers, quick: bool) -> list[dict]:
    problem = build(case)
    if problem.hess is None:
        return []
    rows = []
    kinds = {
        "typical": problem.typical[:QUICK_TYPICAL] if quick else problem.typical,
        "awkward": problem.awkward,
    }
    for kind, points in kinds.items():
        for i, x in enumerate(points):
            label = case.awkward[i] if kind == "awkward" else str(i)
            with np.errstate(all="ignore"):
                at_x = np.asarray(problem.hess(x), dtype=np.float64)
            if not np.all(np.isfinite(at_x)):
                continue
            variants = {"correct": None} | _mistakes(at_x, point_seed(case, kind, i))
            for variant, change in variants.items():
                for checker in checkers:
                    f, f_calls = counted(problem.f)
                    grad, grad_calls = counted(problem.grad)
                    claim = Claim(f, grad, checker.operator, _claims(problem, checker.operator, change))
                    start = time.perf_counter()
                    try:
                        outcome = checker.run(claim, x, check_seed(case, kind, i))
                    except Exception as error:  # a crashing checker is a result, not the end of the run
                        outcome = Outcome("error", -1, f"{type(error).__name__}: {error}")
                    seconds = time.perf_counter() - start
                    row = check_row(checker.name, case, x, kind, label, variant, outcome, seconds, f_calls())
                    rows.append(row | {"operator": checker.operator, "gradient_evaluations": grad_calls()})
    return rows


def run_corpus(checkers, quick: bool, progress=print) -> pd.DataFrame:
    """Every checker on every point and variant of the cases with a shipped Hessian."""
    rows = []
    for case in CORPUS:
        started = time.perf_counter()
        try:
            found = _case_rows(case, checkers, quick)
        except ImportError as error:
            progress(f"{case.name:24s} skipped: {error}")
            continue
        if found:
            rows += found
            progress(f"{case.name:24s} {time.perf_counter() - started:7.1f} s")
    return pd.DataFrame(rows)


def report_markdown(results: pd.DataFrame, checkers, quick: bool) -> str:
    """The summary, false fails per case, detection per mutation and diffcompare's wrong calls."""
    correct = results[results["expected"] == "pass"].assign(false_fail=lambda r: r["verdict"] == "fail")
    wrong = results[results["expected"] == "fail"].assign(caught=lambda r: r["verdict"] == "fail")
    case_kind = correct.assign(case_kind=correct["case"] + " (" + correct["kind"] + ")")
    ours = results[
        results["checker"].str.startswith("diffcompare") & (results["verdict"] != results["expected"])
    ]
    ours = ours[~((ours["expected"] == "pass") & (ours["verdict"] == "inconclusive"))]
    columns = ["checker", "case", "kind", "point", "variant", "verdict", "detail"]
    gradient_calls = results.groupby("checker", sort=False)["gradient_evaluations"].median()
    parts = [
        "# Second-order checkers on an open-world corpus",
        f"`python scripts/oracle_open_world_second.py{' --quick' if quick else ''}`; commit {_commit()}; "
        f"seed {SEED}; {_versions()}. {results['case'].nunique()} cases with a shipped Hessian "
        f"({results.loc[results['holdout'], 'case'].nunique()} in the corpus's holdout split); "
        f"{len(results) // len(checkers)} (point, variant) checks per checker. None of these cases was "
        "used to tune the second-order checkers. numpy on one BLAS thread; one wall-clock measurement "
        "per check; evaluations of f (`evaluations`) and of the library's gradient counted by wrappers.",
        "Checkers: " + "; ".join(f"**{c.name}**: {c.note}" for c in checkers) + ".",
        "## Summary",
        "False fail: a shipped Hessian (or HVP) judged `fail`. Inconclusive: share of the shipped ones "
        "(and of the mistakes). Detection: mistakes judged `fail`. A mistake is a mutation of the "
        f"shipped Hessian at the point that changes it by at least {MISTAKE_FLOOR:g} of its max-norm.",
        markdown_table(summary_table(results)),
        "Median gradient evaluations per check: "
        + ", ".join(f"{name} {value:g}" for name, value in gradient_calls.items())
        + ".",
        "## False fails per case and kind of point",
        markdown_table(_pivot(case_kind, "case_kind", "false_fail")),
        "## Inconclusive shipped Hessians per case and kind of point",
        markdown_table(
            _pivot(
                case_kind.assign(inconclusive=case_kind["verdict"] == "inconclusive"),
                "case_kind",
                "inconclusive",
            )
        ),
        "## Detection per mutation",
        markdown_table(_pivot(wrong, "variant", "caught")),
        "## Wrong decisions of diffcompare",
        "Shipped second derivatives judged `fail`, and mistakes not judged `fail`.",
        markdown_table(ours[columns]) if len(ours) else "None.",
    ]
    return "\n\n".join(parts) + "\n"


def main(argv=None) -> int:
    return run_script(
        argv, __doc__.splitlines()[0], "oracle_open_world_second", checkers, run_corpus, report_markdown
    )


if __name__ == "__main__":
    raise SystemExit(main())
