"""Sorting disagreements with the 50-digit truth into causes.

Each method's gradient is scored against the reference by its normwise relative error
``max|g - ref| / max|ref|`` (and the same distance in ulps of ``max|ref|``), and
compared with its bound in :data:`BOUNDS`.  A method over its bound gets one
classification (:data:`CLASSIFICATIONS`):

``reference unstable``
    The reference is not certified (status ``unstable``, ``nonfinite``, ...): nothing is
    judged.
``difference error``
    A difference method (``central``, ``richardson``) over its own, looser bound: their
    truncation and rounding errors are expected, not bugs.
``ill-conditioned``
    No exact method is within its bound (they lose digits together), or this method's
    error is within :data:`EXPLAINED` times what the rounding amplification of the
    derivative formula predicts (``A u``, see :mod:`diffcompare.fuzz.evidence`), so
    rounding explains it.
``formula limit``
    Some other exact method is accurate, and the error is traced to one primitive whose
    derivative formula in this method is a documented numerical weakness
    (:data:`KNOWN_LIMITS`): SymPy's ``1 - tanh**2``, autograd's ``expm1' = ans + 1``.
``rule bug``
    Some other exact method is accurate and neither of the above explains the error.
``method error``, ``timeout``
    The method raised (other than declining) or ran out of time where the reference is fine.
``unsupported``
    The method declined the expression with ``NotImplementedError`` (``symbolic_vector``
    has no matrices, reshapes or traced conditions).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from ..methods import METHODS
from ..truth.accuracy import normwise_relative_error, ulp_distance

__all__ = [
    "Bound",
    "BOUNDS",
    "CLASSIFICATIONS",
    "EXACT_METHODS",
    "EXPLAINED",
    "KNOWN_LIMITS",
    "ROUNDING_UNIT",
    "LocalFinding",
    "MethodResult",
    "Verdict",
    "classify",
]

#: Unit roundoff of float64, 2**-53.
ROUNDING_UNIT = 2.0**-53

#: Every classification, in the order a reader should worry about them.
CLASSIFICATIONS = (
    "rule bug",
    "method error",
    "timeout",
    "ill-conditioned",
    "formula limit",
    "difference error",
    "reference unstable",
    "unsupported",
)

#: An error counts as explained by rounding when it is at most this many times the
#: amplification estimate A u: A is sampled with a few random rounding patterns (a
#: typical, not a worst, case) of one formula (SymPy's), while the methods use other
#: formulas with other roundings.
EXPLAINED = 64.0


@dataclass(frozen=True)
class Bound:
    """How far a method may be from the truth before its result is classified.

    Attributes
    ----------
    family : str
        ``"exact"`` (exact in exact arithmetic: only rounding separates it from the
        truth) or ``"difference"`` (truncation error by design).
    norm_rel : float
        Largest normwise relative error that is not reported.
    """

    family: str
    norm_rel: float


#: A random expression may hold a few dozen operations and reach 4,500 ulps of rounding
#: where a suite function reaches a few: each method's bound here is its record's
#: ``accuracy`` (on well-conditioned functions) times this slack.  For the exact methods
#: that is 1e-12, still 10,000 times below a rule off by 1e-8.
FUZZ_SLACK = 100.0

#: The bound of every method, from its record.
BOUNDS: dict[str, Bound] = {
    name: Bound(method.family, FUZZ_SLACK * method.accuracy) for name, method in METHODS.items()
}

# fmt: off
#: (method, op) -> why that method's derivative of op loses digits in float64 although
#: it is right in exact arithmetic.  Only the third-party rules (SymPy's, autograd's)
#: belong here: a weak formula in diffcompare's own tape, dual numbers or complex step is
#: a rule bug.
KNOWN_LIMITS: dict[tuple[str, str], str] = {
    ("symbolic", "tanh"):        "SymPy's tanh' = 1 - tanh(x)**2 cancels as |tanh x| nears 1",
    ("symbolic_vector", "tanh"): "SymPy's tanh' = 1 - tanh(x)**2 cancels as |tanh x| nears 1",
    ("symengine", "tanh"):       "SymEngine's tanh' = 1 - tanh(x)**2 cancels as |tanh x| nears 1",
    ("autograd", "expm1"):       "autograd's expm1' = ans + 1 cancels for x << 0",
}
# fmt: on

EXACT_METHODS = tuple(m for m, b in BOUNDS.items() if b.family == "exact")


@dataclass(frozen=True)
class MethodResult:
    """What one method produced for one expression.

    Attributes
    ----------
    method : str
    status : str
        ``"ok"`` (a gradient, finite or not), ``"unsupported"``, ``"error"`` or ``"timeout"``.
    gradient : numpy.ndarray or None
    message : str
    """

    method: str
    status: str
    gradient: np.ndarray | None = None
    message: str = ""


@dataclass(frozen=True)
class LocalFinding:
    """One primitive whose derivative, alone, a method gets wrong.

    Attributes
    ----------
    op : str
        The operation.
    text : str
        The one-operation expression that was checked, e.g. ``tanh(x[0])``.
    point : tuple of float
        Its arguments' float64 values at the expression's point.
    error : float
        The method's normwise relative error on it.
    """

    op: str
    text: str
    point: tuple[float, ...]
    error: float

    def __str__(self) -> str:
        point = ", ".join(repr(v) for v in self.point)
        return f"{self.text} at x = [{point}] has error {self.error:.2g}"


@dataclass(frozen=True)
class Verdict:
    """One classified disagreement (a row of ``fuzz.csv``).

    Attributes
    ----------
    method : str
        The method, or ``"reference"`` for a reference that is not certified.
    classification : str
        One of :data:`CLASSIFICATIONS`.
    norm_rel_err : float
        Normwise relative error (NaN when there is no gradient or no reference).
    ulp_err : float
        The same error in ulps of the reference's largest component.
    note : str
        The evidence: which methods were accurate, the localized primitive, the
        amplification, the exception.
    amplification : float
        The rounding amplification A where it was computed, else NaN.
    """

    method: str
    classification: str
    norm_rel_err: float = float("nan")
    ulp_err: float = float("nan")
    note: str = ""
    amplification: float = float("nan")


class Evidence(Protocol):
    """What the classifier may ask about an expression (computed lazily, only when needed)."""

    def amplification(self) -> float:
        """A: how much the derivative's own formula amplifies float64 rounding."""
        ...

    def localize(self, method: str) -> LocalFinding | None:
        """The first primitive whose derivative ``method`` gets wrong on its own, if any."""
        ...


def _conditioning_note(evidence: Evidence, error: float) -> tuple[str, float]:
    amplification = evidence.amplification()
    predicted = amplification * ROUNDING_UNIT
    verdict = "explains" if error <= EXPLAINED * predicted else "does NOT explain"
    note = (
        f"rounding amplification A = {amplification:.2g} ({np.log10(max(amplification, 1.0)):.1f} digits "
        f"lost, A u = {predicted:.2g}) {verdict} the error"
    )
    return note, amplification


def classify(
    results: Mapping[str, MethodResult],
    reference,
    evidence: Evidence,
    bounds: Mapping[str, Bound] = BOUNDS,
    known_limits: Mapping[tuple[str, str], str] = KNOWN_LIMITS,
) -> list[Verdict]:
    """Classify every method's disagreement with the reference.

    Parameters
    ----------
    results : mapping of str to MethodResult
        Keyed by method name; every name must be in ``bounds``.
    reference : ReferenceGradient
        The truth (``status``, ``value``, ``message``).
    evidence : Evidence
        Asked for the amplification and for local checks only when a verdict needs them.
    bounds, known_limits : mapping, optional
        The tables to judge by (default :data:`BOUNDS`, :data:`KNOWN_LIMITS`).

    Returns
    -------
    list of Verdict
        One per method over its bound, declining or failing; empty if all agree.

    Raises
    ------
    ValueError
        If a method has no bound.
    """
    unknown = sorted(set(results) - set(bounds))
    if unknown:
        raise ValueError(f"no bound for methods {unknown}; known: {', '.join(bounds)}")
    if reference.status != "ok":
        return [Verdict("reference", "reference unstable", note=f"{reference.status}: {reference.message}")]
    errors = {
        method: (
            normwise_relative_error(result.gradient, reference.value),
            ulp_distance(result.gradient, reference.value),
        )
        for method, result in results.items()
        if result.status == "ok"
    }
    accurate = {m: e[0] <= bounds[m].norm_rel for m, e in errors.items()}
    exact = [m for m in errors if bounds[m].family == "exact"]
    verdicts = []
    for method, result in results.items():
        if result.status == "unsupported":
            verdicts.append(Verdict(method, "unsupported", note=result.message))
        elif result.status != "ok":
            classification = "timeout" if result.status == "timeout" else "method error"
            verdicts.append(Verdict(method, classification, note=result.message))
        elif not accurate[method]:
            verdicts.append(_judge(method, errors, accurate, exact, evidence, bounds, known_limits))
    return verdicts


def _judge(method, errors, accurate, exact, evidence, bounds, known_limits) -> Verdict:
    """The verdict on one method whose error is over its bound."""
    error, ulps = errors[method]
    if bounds[method].family == "difference":
        note = f"error {error:.2g} over the difference bound {bounds[method].norm_rel:g}"
        if not any(accurate[m] for m in exact):
            note += "; the exact methods lose digits too"
        return Verdict(method, "difference error", error, ulps, note)
    good = [m for m in exact if m != method and accurate[m]]
    if not good:
        note, amplification = _conditioning_note(evidence, error)
        best = min(exact, key=lambda m: errors[m][0])
        note = f"every exact method over its bound (best: {best} {errors[best][0]:.2g}); {note}"
        return Verdict(method, "ill-conditioned", error, ulps, note, amplification)
    finding = evidence.localize(method)
    accurate_note = f"accurate: {', '.join(good)}"
    if finding is not None and (method, finding.op) in known_limits:
        note = f"{known_limits[method, finding.op]}: {finding}; {accurate_note}"
        return Verdict(method, "formula limit", error, ulps, note)
    note, amplification = _conditioning_note(evidence, error)
    if error <= EXPLAINED * amplification * ROUNDING_UNIT:
        return Verdict(method, "ill-conditioned", error, ulps, f"{note}; {accurate_note}", amplification)
    where = f"localized: {finding}" if finding is not None else "no single primitive is wrong alone"
    return Verdict(method, "rule bug", error, ulps, f"{where}; {accurate_note}; {note}", amplification)
