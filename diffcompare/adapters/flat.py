"""Several input arrays as the one flat ``x`` the oracle checks, and back.

A framework's operation takes several arrays and returns one or several; the oracle's
product checks take ``g: R^n -> R^m``.  The inputs are raveled (C order) and
concatenated into ``x``, the outputs into ``g(x)``, and a wrong component of ``J^T u``
is named by the input entry it belongs to (``inputs[1][0, 2]``).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..oracle.blocks import ParameterBlocks
from ..oracle.products import check_vjp
from ..oracle.result import GradCheckResult, Mismatch

__all__ = ["as_inputs", "layout", "split", "check_flat_vjp"]


def as_inputs(inputs, kinds: tuple[type, ...] = ()) -> list[np.ndarray]:
    """The inputs as finite float64 arrays (integers are converted; complex is refused).

    ``kinds`` are array types with a ``.detach().cpu().numpy()`` view (tensors).

    Raises
    ------
    ValueError
        If there is no input, or an input is empty or holds NaN or inf.
    TypeError
        If an input is not real numbers.
    """
    if not inputs:
        raise ValueError("inputs: give at least one input array")
    arrays = []
    for i, value in enumerate(inputs):
        if kinds and isinstance(value, kinds):
            value = value.detach().cpu().numpy()
        array = np.asarray(value)
        if array.dtype == object or array.dtype.kind not in "iuf":
            raise TypeError(f"inputs[{i}] must hold real numbers; got dtype {array.dtype}")
        if array.size == 0:
            raise ValueError(f"inputs[{i}] must not be empty")
        array = array.astype(np.float64)
        if not np.all(np.isfinite(array)):
            raise ValueError(f"inputs[{i}] must be finite (no NaN or inf)")
        arrays.append(array)
    return arrays


def layout(arrays: list[np.ndarray]) -> ParameterBlocks:
    """Blocks named ``inputs[0]``, ``inputs[1]``, ... with the arrays' shapes."""
    return ParameterBlocks.from_shapes({f"inputs[{i}]": a.shape for i, a in enumerate(arrays)})


def check_flat_vjp(
    g, vjp, jvp, arrays: list[np.ndarray], blocks: ParameterBlocks, subject: str, **options
) -> GradCheckResult:
    """:func:`~diffcompare.oracle.check_vjp` of ``vjp`` over the flat inputs, entries named.

    ``g``, ``vjp`` and ``jvp`` (or None) take the flat ``x``.  ``subject`` says what
    holds the VJP (``"torch.autograd.Function F.backward"``) and opens a note.  The
    complex step is off: a framework's forward runs on real float64 arrays.
    """
    x = np.concatenate([a.ravel() for a in arrays])
    result = check_vjp(g, vjp, x, jvp=jvp, complex_step=False, **options)

    def named(mismatch: Mismatch | None) -> Mismatch | None:
        # in full mode an entry of J^T u is a component of x: name it by its input
        if mismatch is None or not (mismatch.name or "").startswith("(J^T u)["):
            return mismatch
        return replace(mismatch, name=f"{blocks.name(int(mismatch.index))} of {mismatch.name}")

    tested = "checked as a VJP" + (", the jvp against it by the dot-product test" if jvp is not None else "")
    return replace(
        result,
        worst=named(result.worst),
        mismatches=tuple(named(m) for m in result.mismatches),
        notes=(f"{subject}: {tested}; x joins {_shapes(blocks)}, raveled", *result.notes),
    )


def _shapes(blocks: ParameterBlocks) -> str:
    return ", ".join(f"{n} {s}" for n, s in zip(blocks.names, blocks.shapes, strict=True))


def split(x: np.ndarray, blocks: ParameterBlocks) -> list[np.ndarray]:
    """The input arrays of a flat ``x`` (views)."""
    return list(blocks.unflatten(x).values())
