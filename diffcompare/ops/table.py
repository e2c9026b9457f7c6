"""The operations a test function may call on its array namespace ``xp``.

Every backend (numpy, autograd, SymPy and the tape) provides exactly the names in
:data:`OPS`, so one function definition runs unchanged on all of them.  Names follow
numpy; the Array API spellings in :data:`ALIASES` resolve to the same operation (and
therefore to the same derivative rule).

``domain`` is the interval of each argument on which the operation is smooth and well
conditioned enough to property-test its derivative in float64; ``None`` marks an
argument that is not differentiated (a condition, an axis) or has no restriction
beyond being finite.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["OpSpec", "OPS", "ALIASES", "CONSTRUCTORS", "CONSTANTS", "canonical_name"]

Interval = tuple[float, float]


@dataclass(frozen=True)
class OpSpec:
    """One differentiable operation.

    Parameters
    ----------
    name : str
        Canonical (numpy) name.
    kind : str
        ``"unary"``, ``"binary"``, ``"select"``, ``"reduction"``, ``"shape"`` or
        ``"linalg"``.
    domain : tuple of intervals or None
        For elementwise operations, the test interval of each argument.
    """

    name: str
    kind: str
    domain: tuple[Interval | None, ...] | None = None


_WIDE: Interval = (-20.0, 20.0)
_POSITIVE: Interval = (1e-3, 1e3)

# fmt: off
OPS: dict[str, OpSpec] = {spec.name: spec for spec in (
    OpSpec("negative",    "unary",  ((-1e3, 1e3),)),
    OpSpec("abs",         "unary",  ((-1e3, 1e3),)),
    OpSpec("exp",         "unary",  ((-700.0, 700.0),)),
    OpSpec("expm1",       "unary",  ((-700.0, 700.0),)),
    OpSpec("log",         "unary",  (_POSITIVE,)),
    OpSpec("log1p",       "unary",  ((-0.999, 1e3),)),
    OpSpec("sqrt",        "unary",  (_POSITIVE,)),
    OpSpec("sin",         "unary",  (_WIDE,)),
    OpSpec("cos",         "unary",  (_WIDE,)),
    OpSpec("tan",         "unary",  ((-1.5, 1.5),)),
    OpSpec("arcsin",      "unary",  ((-0.999, 0.999),)),
    OpSpec("arccos",      "unary",  ((-0.999, 0.999),)),
    OpSpec("arctan",      "unary",  ((-1e3, 1e3),)),
    OpSpec("sinh",        "unary",  ((-700.0, 700.0),)),
    OpSpec("cosh",        "unary",  ((-700.0, 700.0),)),
    OpSpec("tanh",        "unary",  ((-350.0, 350.0),)),
    OpSpec("sigmoid",     "unary",  ((-700.0, 700.0),)),
    OpSpec("softplus",    "unary",  ((-700.0, 700.0),)),
    OpSpec("add",         "binary", (_WIDE, _WIDE)),
    OpSpec("subtract",    "binary", (_WIDE, _WIDE)),
    OpSpec("multiply",    "binary", (_WIDE, _WIDE)),
    OpSpec("divide",      "binary", (_WIDE, (0.5, 20.0))),
    OpSpec("power",       "binary", ((0.1, 10.0), (-4.0, 4.0))),
    OpSpec("maximum",     "binary", (_WIDE, _WIDE)),
    OpSpec("minimum",     "binary", (_WIDE, _WIDE)),
    OpSpec("where",       "select", (None, _WIDE, _WIDE)),
    OpSpec("sum",         "reduction"),
    OpSpec("mean",        "reduction"),
    OpSpec("max",         "reduction"),
    OpSpec("logsumexp",   "reduction"),
    OpSpec("matmul",      "linalg"),
    OpSpec("getitem",     "shape"),
    OpSpec("reshape",     "shape"),
    OpSpec("transpose",   "shape"),
    OpSpec("concatenate", "shape"),
    OpSpec("stack",       "shape"),
)}

# Array API (and numpy) spellings that mean the same operation.
ALIASES: dict[str, str] = {
    "absolute": "abs", "asin": "arcsin", "acos": "arccos", "atan": "arctan",
    "true_divide": "divide", "pow": "power", "amax": "max", "dot": "matmul",
    "permute_dims": "transpose", "concat": "concatenate",
}
# fmt: on

#: Operations that build constant arrays; they are never differentiated.
CONSTRUCTORS: tuple[str, ...] = ("asarray", "zeros", "ones", "arange", "eye")

#: Named constants every namespace exposes, with their float64 values.
CONSTANTS: dict[str, float] = {"pi": 3.141592653589793, "e": 2.718281828459045}


def canonical_name(name: str) -> str:
    """Return the canonical operation name for ``name`` (resolving aliases)."""
    return ALIASES.get(name, name)
