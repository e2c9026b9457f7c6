"""The operations a test function may call on its array namespace ``xp``.

Every backend (numpy, autograd, SymPy and the tape) provides exactly the names in
:data:`OPS`, so one function definition runs unchanged on all of them.  Names follow
numpy; the Array API spellings in :data:`ALIASES` resolve to the same operation (and
therefore to the same derivative rule), and the operations in :data:`DERIVED` are
written with the others, so they need no derivative rule of their own.

``domain`` is the interval of each argument on which the operation is smooth and well
conditioned enough to property-test its derivative in float64; ``None`` marks an
argument that is not differentiated (a condition, an axis) or has no restriction
beyond being finite.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

__all__ = ["OpSpec", "OPS", "ALIASES", "DERIVED", "CONSTRUCTORS", "CONSTANTS", "canonical_name", "operation"]

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

# Array API (and numpy) spellings that mean the same operation for every input.
ALIASES: dict[str, str] = {
    "absolute": "abs", "asin": "arcsin", "acos": "arccos", "atan": "arctan",
    "true_divide": "divide", "pow": "power", "amax": "max",
    "permute_dims": "transpose", "concat": "concatenate",
}
# fmt: on


def _shape(a) -> tuple[int, ...]:
    # The attribute first: np.shape of a traced value would ask its __array_function__.
    shape = getattr(a, "shape", None)
    return np.shape(a) if shape is None else tuple(shape)


def _dot(functions: Mapping[str, Callable]) -> Callable:
    matmul = functions["matmul"]

    def dot(a, b):
        # numpy's dot is matmul for 1-d and 2-d operands only: for N-d ones it pairs
        # every matrix of a with every matrix of b (matmul pairs them batch by batch),
        # and with a 0-d one it is a product.
        shape_a, shape_b = _shape(a), _shape(b)
        if not (1 <= len(shape_a) <= 2 and 1 <= len(shape_b) <= 2):
            raise NotImplementedError(
                f"dot of operands of shapes {shape_a} and {shape_b}: dot is supported for 1-d "
                "and 2-d operands only, where it is matmul (for N-d ones numpy's dot is a "
                "tensordot, which xp does not have); write xp.matmul for a stack of matrix "
                "products, paired batch by batch, or xp.multiply for a scalar factor"
            )
        return matmul(a, b)

    return dot


#: Operations written with the others, built from a backend's table of operations:
#: name -> builder(functions) -> function.
DERIVED: dict[str, Callable[[Mapping[str, Callable]], Callable]] = {"dot": _dot}

#: Operations that build constant arrays; they are never differentiated.
CONSTRUCTORS: tuple[str, ...] = ("asarray", "zeros", "ones", "arange", "eye")

#: Named constants every namespace exposes, with their float64 values.
CONSTANTS: dict[str, float] = {"pi": 3.141592653589793, "e": 2.718281828459045}


def canonical_name(name: str) -> str:
    """Return the canonical operation name for ``name`` (resolving aliases)."""
    return ALIASES.get(name, name)


def operation(functions: Mapping[str, Callable], name: str) -> Callable | None:
    """The function for any spelling ``name`` in a backend's table of operations.

    Parameters
    ----------
    functions : mapping of str to callable
        Implementations keyed by canonical operation name.
    name : str
        A canonical name, an alias or a derived operation's name.

    Returns
    -------
    callable or None
        ``None`` if the table has no such operation.

    Examples
    --------
    >>> operation({"matmul": np.matmul}, "dot")(np.eye(2), np.ones(2))
    array([1., 1.])
    """
    name = canonical_name(name)
    if name in DERIVED:
        return DERIVED[name](functions)
    return functions.get(name)
