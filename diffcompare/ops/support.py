"""Which method supports which operation: probed by running every method, never declared.

Each operation of :data:`~diffcompare.ops.OPS` has one probe: a small scalar function
``f(x, xp)`` that uses it, and a point where it is smooth.  :func:`support_table` runs
every method's gradient on every probe and records whether the method differentiated it
or refused it by name; the README's table of operations is :func:`support_markdown`'s
output, and a test compares the two, so the table cannot drift from the code.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from .namespace import UnsupportedOperationError
from .table import ALIASES, DERIVED, OPS

__all__ = ["PROBES", "Probe", "probe_names", "support_markdown", "support_table"]


@dataclass(frozen=True)
class Probe:
    """A scalar function of a vector that uses one operation, and a point where it is smooth."""

    f: Callable
    point: tuple[float, ...]


def _matrix(x, xp, n=2):
    return xp.reshape(x[: n * n], (n, n))


def _spd(x, xp):
    # A symmetric positive definite 2 x 2 matrix built from three coordinates.
    a = _matrix(x, xp)
    return xp.matmul(a, xp.transpose(a)) + 2.0 * xp.eye(2)


_V4 = (0.3, -1.2, 0.7, 1.9)
_P4 = (0.3, 1.2, 0.7, 1.9)  # positive
_U4 = (0.3, -0.6, 0.7, 0.45)  # inside (-1, 1)
_W = np.array([0.7, -1.3, 0.4, 1.1, -0.6, 0.9, 1.7, -0.2, 0.5])


def _weighted(y, xp):
    """A fixed weighting that makes any small array one number (every entry matters)."""
    shape = tuple(y.shape)
    if not shape:
        return y
    # a vector is weighted as it is (no reshape: the vectorised symbolic form has none)
    flat = y if len(shape) == 1 else xp.reshape(y, (-1,))
    n = int(np.prod(shape))
    return xp.sum(flat * _W[:n]) if n <= _W.size else xp.sum(flat)


def _unary(name: str, point=_V4) -> Probe:
    return Probe(lambda x, xp: _weighted(getattr(xp, name)(x), xp), point)


def _binary(name: str, point=_V4) -> Probe:
    return Probe(lambda x, xp: _weighted(getattr(xp, name)(x[:2], x[2:]), xp), point)


def _linalg(name: str, build=_spd, pick=lambda out: out) -> Probe:
    return Probe(lambda x, xp: _weighted(pick(getattr(xp.linalg, name)(build(x, xp))), xp), _V4)


# fmt: off
_SPECIAL: dict[str, Probe] = {
    "log":        _unary("log", _P4),
    "log1p":      _unary("log1p", _P4),
    "log2":       _unary("log2", _P4),
    "log10":      _unary("log10", _P4),
    "sqrt":       _unary("sqrt", _P4),
    "gammaln":    _unary("gammaln", _P4),
    "digamma":    _unary("digamma", _P4),
    "arcsin":     _unary("arcsin", _U4),
    "arccos":     _unary("arccos", _U4),
    "arctanh":    _unary("arctanh", _U4),
    "arccosh":    Probe(lambda x, xp: _weighted(xp.arccosh(1.5 + x * x), xp), _V4),
    "power":      Probe(lambda x, xp: _weighted(xp.power(x[:2] * x[:2] + 0.5, x[2:]), xp), _V4),
    "divide":     Probe(lambda x, xp: _weighted(xp.divide(x[:2], x[2:] * x[2:] + 0.5), xp), _V4),
    "xlogy":      Probe(lambda x, xp: _weighted(xp.xlogy(x[:2], x[2:] * x[2:] + 0.5), xp), _V4),
    "where":      Probe(lambda x, xp: _weighted(xp.where(x > 0.5, xp.sin(x), x * x), xp), _V4),
    "clip":       Probe(lambda x, xp: _weighted(xp.clip(x, -1.0, 1.0), xp), _V4),
    "sum":        Probe(lambda x, xp: xp.sum(_matrix(x, xp) ** 2, axis=0)[1], _V4),
    "mean":       Probe(lambda x, xp: xp.mean(_matrix(x, xp) ** 2, axis=1)[0], _V4),
    "max":        Probe(lambda x, xp: _weighted(xp.max(_matrix(x, xp), axis=1), xp), _V4),
    "min":        Probe(lambda x, xp: _weighted(xp.min(_matrix(x, xp), axis=1), xp), _V4),
    "prod":       Probe(lambda x, xp: _weighted(xp.prod(_matrix(x, xp), axis=0), xp), _V4),
    "cumsum":     Probe(lambda x, xp: _weighted(xp.cumsum(x * x), xp), _V4),
    "var":        Probe(lambda x, xp: xp.var(x), _V4),
    "std":        Probe(lambda x, xp: xp.std(x), _V4),
    "logsumexp":  Probe(lambda x, xp: xp.logsumexp(x), _V4),
    "softmax":    Probe(lambda x, xp: _weighted(xp.softmax(x), xp), _V4),
    "log_softmax": Probe(lambda x, xp: _weighted(xp.log_softmax(_matrix(x, xp), axis=1), xp), _V4),
    "matmul":     Probe(lambda x, xp: _weighted(xp.matmul(_matrix(x, xp), x[:2]), xp), _V4),
    "einsum":     Probe(lambda x, xp: _weighted(xp.einsum("ij,j->i", _matrix(x, xp), x[:2]), xp), _V4),
    "outer":      Probe(lambda x, xp: _weighted(xp.outer(x[:2], x[2:]), xp), _V4),
    "trace":      Probe(lambda x, xp: xp.trace(_matrix(x, xp) ** 2), _V4),
    "diagonal":   Probe(lambda x, xp: _weighted(xp.diagonal(_matrix(x, xp) ** 2), xp), _V4),
    "triu":       Probe(lambda x, xp: _weighted(xp.triu(_matrix(x, xp) ** 2), xp), _V4),
    "tril":       Probe(lambda x, xp: _weighted(xp.tril(_matrix(x, xp) ** 2), xp), _V4),
    "getitem":    Probe(lambda x, xp: _weighted(x[1:3] ** 2, xp), _V4),
    "reshape":    Probe(lambda x, xp: _weighted(_matrix(x, xp) ** 2, xp), _V4),
    "transpose":  Probe(lambda x, xp: _weighted(xp.transpose(_matrix(x, xp)) ** 2, xp), _V4),
    "squeeze":    Probe(lambda x, xp: _weighted(xp.squeeze(xp.reshape(x, (1, 4))) ** 2, xp), _V4),
    "expand_dims": Probe(lambda x, xp: _weighted(xp.expand_dims(x, 0) ** 2, xp), _V4),
    "flip":       Probe(lambda x, xp: _weighted(xp.flip(x) * x, xp), _V4),
    "roll":       Probe(lambda x, xp: _weighted(xp.roll(x, 1) * x, xp), _V4),
    "tile":       Probe(lambda x, xp: _weighted(xp.tile(x[:2], 2) * x, xp), _V4),
    "repeat":     Probe(lambda x, xp: _weighted(xp.repeat(x[:2], 2) * x, xp), _V4),
    "take":       Probe(lambda x, xp: _weighted(xp.take(x, np.array([2, 0, 2])) ** 2, xp), _V4),
    "sort":       Probe(lambda x, xp: _weighted(xp.sort(x) ** 2, xp), _V4),
    "concatenate": Probe(lambda x, xp: _weighted(xp.concatenate([x[:2], x ** 2]), xp), _V4),
    "stack":      Probe(lambda x, xp: _weighted(xp.stack([x[:2], x[2:] ** 2]), xp), _V4),
    "linalg.solve": Probe(lambda x, xp: _weighted(xp.linalg.solve(_spd(x, xp), x[:2]), xp), _V4),
    "linalg.solve_triangular": Probe(lambda x, xp: _weighted(xp.linalg.solve_triangular(
        xp.linalg.cholesky(_spd(x, xp)), x[:2], lower=True), xp), _V4),
    "linalg.inv": _linalg("inv"),
    "linalg.det": _linalg("det"),
    "linalg.slogdet": _linalg("slogdet", pick=lambda out: out[1]),
    "linalg.cholesky": _linalg("cholesky"),
    "linalg.eigh": _linalg("eigh", pick=lambda out: out[0]),
    "linalg.norm": Probe(lambda x, xp: xp.linalg.norm(x), _V4),
    "linalg.vector_norm": Probe(lambda x, xp: xp.linalg.vector_norm(x), _V4),
    "linalg.matrix_norm": Probe(lambda x, xp: xp.linalg.matrix_norm(_matrix(x, xp)), _V4),
    "dot":        Probe(lambda x, xp: _weighted(xp.dot(_matrix(x, xp), x[:2]), xp), _V4),
    # shapes and linear algebra, second wave
    "ravel":        Probe(lambda x, xp: _weighted(xp.ravel(_matrix(x, xp)) * x, xp), _V4),
    "swapaxes":     Probe(lambda x, xp: _weighted(xp.swapaxes(_matrix(x, xp), 0, 1) ** 2, xp), _V4),
    "moveaxis":     Probe(lambda x, xp: _weighted(xp.moveaxis(_matrix(x, xp), 0, 1) ** 2, xp), _V4),
    "rollaxis":     Probe(lambda x, xp: _weighted(xp.rollaxis(_matrix(x, xp), 1) ** 2, xp), _V4),
    "atleast_1d":   Probe(lambda x, xp: _weighted(xp.atleast_1d(x[0] * x[1]), xp), _V4),
    "atleast_2d":   Probe(lambda x, xp: _weighted(xp.atleast_2d(x) ** 2, xp), _V4),
    "atleast_3d":   Probe(lambda x, xp: _weighted(xp.atleast_3d(x) ** 2, xp), _V4),
    "broadcast_to": Probe(lambda x, xp: _weighted(xp.broadcast_to(x[:2], (2, 2)) * x[1:3], xp), _V4),
    "flipud":       Probe(lambda x, xp: _weighted(xp.flipud(x) * x, xp), _V4),
    "fliplr":       Probe(lambda x, xp: _weighted(xp.fliplr(_matrix(x, xp)) ** 2, xp), _V4),
    "rot90":        Probe(lambda x, xp: _weighted(xp.rot90(_matrix(x, xp)) * _matrix(x, xp), xp), _V4),
    "diag":         Probe(lambda x, xp: _weighted(xp.diag(x[:2] ** 2, 1), xp), _V4),
    "diagflat":     Probe(lambda x, xp: _weighted(xp.diagflat(x[:2] ** 2), xp), _V4),
    "pad":          Probe(lambda x, xp: _weighted(xp.pad(x[:2] ** 2, (1, 2), constant_values=0.5), xp), _V4),
    "split":        Probe(lambda x, xp: _weighted(xp.split(x, 2)[1] ** 2, xp), _V4),
    "array_split":  Probe(lambda x, xp: _weighted(xp.array_split(x, 3)[0] ** 2, xp), _V4),
    "vsplit":       Probe(lambda x, xp: _weighted(xp.vsplit(_matrix(x, xp), 2)[1] ** 2, xp), _V4),
    "hsplit":       Probe(lambda x, xp: _weighted(xp.hsplit(_matrix(x, xp), 2)[0] ** 2, xp), _V4),
    "dsplit":       Probe(lambda x, xp: _weighted(xp.dsplit(xp.reshape(x, (1, 1, 4)), 2)[1] ** 2, xp), _V4),
    "vstack":       Probe(lambda x, xp: _weighted(xp.vstack((x[:2], x[2:] ** 2)), xp), _V4),
    "hstack":       Probe(lambda x, xp: _weighted(xp.hstack((x[:2], x[2:] ** 2)), xp), _V4),
    "dstack":       Probe(lambda x, xp: _weighted(xp.dstack((x[:2], x[2:] ** 2)), xp), _V4),
    "column_stack": Probe(lambda x, xp: _weighted(xp.column_stack((x[:2], x[2:] ** 2)), xp), _V4),
    "append":       Probe(lambda x, xp: _weighted(xp.append(x[:2], x[2:] ** 2), xp), _V4),
    "select":       Probe(lambda x, xp: _weighted(xp.select([x > 0.5], [x ** 2], x), xp), _V4),
    "diff":         Probe(lambda x, xp: _weighted(xp.diff(x ** 2), xp), _V4),
    "gradient":     Probe(lambda x, xp: _weighted(xp.gradient(x ** 2), xp), _V4),
    "linspace":     Probe(lambda x, xp: _weighted(xp.linspace(x[0], x[1] ** 2, 4), xp), _V4),
    "tensordot":    Probe(lambda x, xp: _weighted(xp.tensordot(_matrix(x, xp), x[:2], axes=1), xp), _V4),
    "inner":        Probe(lambda x, xp: _weighted(xp.inner(_matrix(x, xp), x[2:]), xp), _V4),
    "kron":         Probe(lambda x, xp: _weighted(xp.kron(x[:2], x[2:]), xp), _V4),
    "cross":        Probe(lambda x, xp: _weighted(xp.cross(x[:3], x[1:] ** 2), xp), _V4),
    "linalg.matrix_power": Probe(lambda x, xp: _weighted(xp.linalg.matrix_power(_matrix(x, xp), 3), xp), _V4),
    "linalg.multi_dot": Probe(lambda x, xp: xp.linalg.multi_dot([x[:2], _matrix(x, xp), x[2:]]), _V4),
    # elementwise, second wave
    "gamma":      _unary("gamma", _P4),
    "rgamma":     _unary("rgamma", _P4),
    "gammasgn":   _unary("gammasgn", _P4),
    "erfinv":     _unary("erfinv", _U4),
    "erfcinv":    Probe(lambda x, xp: _weighted(xp.erfcinv(1.0 + x), xp), _U4),
    "logit":      Probe(lambda x, xp: _weighted(xp.logit(0.5 + 0.5 * x), xp), _U4),
    "y0":         _unary("y0", _P4),
    "y1":         _unary("y1", _P4),
    "remainder":  Probe(lambda x, xp: _weighted(xp.remainder(3.0 * x[:2], x[2:] * x[2:] + 0.5), xp), _V4),
    "beta":       _binary("beta", _P4),
    "betaln":     _binary("betaln", _P4),
    "polygamma":  Probe(lambda x, xp: _weighted(xp.polygamma(1, x), xp), _P4),
    "jn":         Probe(lambda x, xp: _weighted(xp.jn(2, x), xp), _V4),
    "yn":         Probe(lambda x, xp: _weighted(xp.yn(2, x), xp), _P4),
    "iv":         Probe(lambda x, xp: _weighted(xp.iv(1.5, x), xp), _P4),
    "ive":        Probe(lambda x, xp: _weighted(xp.ive(1.5, x), xp), _P4),
    "gammainc":   Probe(lambda x, xp: _weighted(xp.gammainc(2.0, x), xp), _P4),
    "gammaincc":  Probe(lambda x, xp: _weighted(xp.gammaincc(2.0, x), xp), _P4),
    "multigammaln": Probe(lambda x, xp: _weighted(xp.multigammaln(x * x + 2.0, 3), xp), _V4),
}
_BINARY = (
    "add", "subtract", "multiply", "maximum", "minimum", "hypot", "arctan2", "logaddexp",
    "fmax", "fmin", "logaddexp2",
)
# fmt: on


def probe_names() -> list[str]:
    """Every operation of OPS and DERIVED, in a stable order (OPS first, as listed)."""
    return [*OPS, *(name for name in DERIVED if name not in OPS)]


def _probe(op: str) -> Probe:
    if op in _SPECIAL:
        return _SPECIAL[op]
    if op in _BINARY:
        return _binary(op)
    return _unary(op)


#: One probe per operation (OPS and DERIVED).
PROBES: dict[str, Probe] = {op: _probe(op) for op in probe_names()}


def support_table(methods: Sequence[str] | None = None) -> dict[str, dict[str, str]]:
    """``{op: {method: "yes" | "no"}}``: whether each method differentiates each probe.

    ``"no"`` means the method refused the operation by name (a ``NotImplementedError``,
    which :class:`~diffcompare.ops.namespace.UnsupportedOperationError` is); any other
    failure is a bug and raises.
    """
    from ..gradient import grad
    from ..methods import METHODS

    chosen = list(METHODS) if methods is None else list(methods)
    table: dict[str, dict[str, str]] = {}
    for op, probe in PROBES.items():
        row = {}
        for method in chosen:
            try:
                gradient = grad(probe.f, method)(np.array(probe.point))
            except (NotImplementedError, UnsupportedOperationError):
                row[method] = "no"
                continue
            if not np.all(np.isfinite(gradient)):
                raise ArithmeticError(f"{method} gave a non-finite gradient on the probe of {op!r}")
            row[method] = "yes"
        table[op] = row
    return table


def support_markdown(table: dict[str, dict[str, str]]) -> str:
    """The support table as Markdown: one row per operation, with its aliases."""
    methods = list(next(iter(table.values())))
    aliases: dict[str, list[str]] = {}
    for alias, name in ALIASES.items():
        aliases.setdefault(name, []).append(alias)
    lines = [
        "| operation | also spelled | " + " | ".join(methods) + " |",
        "|---|---|" + "---|" * len(methods),
    ]
    for op, row in table.items():
        spelled = ", ".join(f"`{a}`" for a in sorted(aliases.get(op, [])))
        marks = " | ".join("yes" if row[m] == "yes" else "—" for m in methods)
        lines.append(f"| `{op}` | {spelled} | {marks} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":  # python -m diffcompare.ops.support prints the README's table
    print(support_markdown(support_table()), end="")
