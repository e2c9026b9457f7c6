"""What a gradient check found: the result record and its readable forms."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["GradCheckResult", "Mismatch", "VERDICTS", "require"]

#: Verdicts from best to worst; several points are summarised by the worst.
VERDICTS = ("pass", "inconclusive", "fail")

#: Mismatching components listed in an assertion message.
SHOWN = 10


@dataclass(frozen=True)
class Mismatch:
    """One component of the claimed derivative that is off the reference.

    Attributes
    ----------
    index : int or tuple of int
        The flat position in ``x`` (``(row, column)`` for a Jacobian, the column flat in
        ``x``): always numbers, for programs.
    claimed, reference : float
    abs_error, rel_error, tolerance : float
    name : str or None
        With ``shapes=``, the component of ``x`` as its block names it, ``"W1[3, 17]"``
        (for a Jacobian, the column's name; the row stays in ``index[0]``); else None.
    """

    index: int | tuple[int, int]
    claimed: float
    reference: float
    abs_error: float
    rel_error: float
    tolerance: float
    name: str | None = None

    @property
    def label(self) -> str:
        """The index as messages show it: ``W1[3, 17]`` (``(2, W1[3, 17])`` for a Jacobian) or ``2705``."""
        if self.name is None:
            return str(self.index)
        return f"({self.index[0]}, {self.name})" if isinstance(self.index, tuple) else self.name


@dataclass(frozen=True)
class GradCheckResult:
    """The verdict of :func:`~diffcompare.check_grad` and the evidence behind it.

    Attributes
    ----------
    verdict : {"pass", "fail", "inconclusive"}
    reason : str
        Why, in one sentence (the kink, the disagreeing references, ...).
    worst : Mismatch or None
        The worst component compared (None when none was: a fast-mode pass).  Its
        fields are also attributes of the result: ``index`` (``(row, column)`` for a
        Jacobian), ``claimed``, ``reference``, ``abs_error``, ``rel_error`` (relative
        to ``|reference|``) and ``tolerance`` (None or NaN without a worst component).
        With ``shapes=``, ``name`` is the component's name (``"W1[3, 17]"``) and
        ``index`` stays the flat position.
    reference_error : float
        The reference's own error estimate at the worst component.
    references : tuple of str
        The reference methods used (``"richardson"``, ``"complex_step"``, ``"tape"``).
    evaluations : int
        Calls of ``f`` (the tape's recording counts as one per output).
    seconds : float
        Wall time of the check.
    point : numpy.ndarray
        The point checked (the worst one when several were).
    point_index : int or None
        Its position among several points.
    mismatches : tuple of Mismatch
        Every component found off the reference, worst first (in fast mode, those the
        search localised).
    checked : int
        Components compared one by one (0 for a fast-mode pass).
    mode : {"full", "fast"}
    seed : int
    per_point : tuple of GradCheckResult
        One result per point when several were checked, else empty.
    notes : tuple of str
        References that could not be used, and why.
    check : str
        What was checked: ``"gradient"`` (also for a Jacobian), ``"Hessian"``,
        ``"HVP"``, ``"JVP"``, ``"VJP"`` or ``"JVP/VJP"``; it opens the messages.
    counted : str
        What ``evaluations`` counts: ``"f"``, or ``"the gradient"`` for the
        second-order checks.
    """

    verdict: str
    reason: str
    worst: Mismatch | None
    reference_error: float
    references: tuple[str, ...]
    evaluations: int
    seconds: float
    point: np.ndarray
    point_index: int | None
    mismatches: tuple[Mismatch, ...]
    checked: int
    mode: str
    seed: int
    per_point: tuple[GradCheckResult, ...] = ()
    notes: tuple[str, ...] = ()
    check: str = "gradient"
    counted: str = "f"

    @property
    def index(self) -> int | tuple[int, int] | None:
        return None if self.worst is None else self.worst.index

    @property
    def name(self) -> str | None:
        return None if self.worst is None else self.worst.name

    @property
    def claimed(self) -> float:
        return math.nan if self.worst is None else self.worst.claimed

    @property
    def reference(self) -> float:
        return math.nan if self.worst is None else self.worst.reference

    @property
    def abs_error(self) -> float:
        return math.nan if self.worst is None else self.worst.abs_error

    @property
    def rel_error(self) -> float:
        return math.nan if self.worst is None else self.worst.rel_error

    @property
    def tolerance(self) -> float:
        return math.nan if self.worst is None else self.worst.tolerance

    @property
    def passed(self) -> bool:
        """True when the verdict is "pass"."""
        return self.verdict == "pass"

    def __str__(self) -> str:
        where = "" if self.point_index is None else f" at point {self.point_index}"
        lines = [f"{self.check} check: {self.verdict.upper()}{where}: {self.reason}"]
        if self.worst is not None:
            lines += [
                f"  worst component {self.worst.label}: claimed {self.claimed!r}, "
                f"reference {self.reference!r} (+- {self.reference_error:.2g})",
                f"  abs error {self.abs_error:.3g}, rel error {self.rel_error:.3g}, "
                f"tolerance {self.tolerance:.3g}",
            ]
        if self.per_point:
            counts = {v: sum(r.verdict == v for r in self.per_point) for v in VERDICTS}
            lines.append("  points: " + ", ".join(f"{counts[v]} {v}" for v in VERDICTS))
        lines.append(
            f"  references {'+'.join(self.references) or 'none'}; {self.evaluations} evaluations of "
            f"{self.counted} in {self.seconds:.3g} s (mode {self.mode}, seed {self.seed})"
        )
        lines += [f"  note: {note}" for note in self.notes]
        return "\n".join(lines)

    def message(self) -> str:
        """An assertion message in the manner of ``numpy.testing.assert_allclose``."""
        where = "" if self.point_index is None else f" at point {self.point_index}"
        lines = [f"{self.check[0].upper()}{self.check[1:]} check {self.verdict}{where}: {self.reason}"]
        if self.per_point:
            for verdict in ("fail", "inconclusive"):
                points = [r.point_index for r in self.per_point if r.verdict == verdict]
                if points:
                    lines.append(f"Points with verdict {verdict}: {points} of {len(self.per_point)}")
        if self.mismatches:
            if self.mode == "fast":  # only the components the search isolated were compared
                lines.append(
                    f"Mismatched components: {len(self.mismatches)} of {self.checked} compared one by one; "
                    f"x has {self.point.size} components"
                )
            else:
                lines.append(f"Mismatched components: {len(self.mismatches)} / {self.checked or '?'}")
            shown = self.mismatches[:SHOWN]
            width = max(12, *(len(m.label) for m in shown))
            lines.append(
                f"{'index':>{width}} {'claimed':>24} {'reference':>24} {'abs error':>10} {'rel error':>10}"
            )
            lines += [
                f"{m.label:>{width}} {m.claimed!r:>24} {m.reference!r:>24} "
                f"{m.abs_error:10.3g} {m.rel_error:10.3g}"
                for m in shown
            ]
            if len(self.mismatches) > SHOWN:
                lines.append(f"{'':>{width}} ... {len(self.mismatches) - SHOWN} more")
        lines.append(str(self).split("\n", 1)[1] if "\n" in str(self) else "")
        lines.append(f"Repro: x = {_point_repr(self.point)}, seed = {self.seed}")
        return "\n".join(line for line in lines if line)


def require(result: GradCheckResult, allow_inconclusive: bool = False) -> GradCheckResult:
    """Return ``result``, or raise ``AssertionError`` with its report if it failed (or, unless
    ``allow_inconclusive``, was inconclusive): the rule of every ``assert_*_correct``."""
    __tracebackhide__ = True
    if result.verdict == "fail" or (result.verdict == "inconclusive" and not allow_inconclusive):
        raise AssertionError(result.message())
    return result


def _point_repr(point: np.ndarray) -> str:
    """The point as a pasteable expression (round-tripping floats), shortened when long."""
    if point.size <= 20:
        return "np.array([" + ", ".join(repr(float(v)) for v in point) + "])"
    head = ", ".join(repr(float(v)) for v in point[:5])
    return f"np.array([{head}, ...])  # {point.size} components; pass the same points and seed"


def relative(abs_error: float, reference: float) -> float:
    """``abs_error / |reference|``: inf for a nonzero error on a zero reference."""
    if reference == 0:
        return 0.0 if abs_error == 0 else math.inf
    return abs_error / abs(reference)
