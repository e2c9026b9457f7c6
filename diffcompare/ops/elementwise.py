"""The derivative rules of the elementwise operations, built from their rows in :data:`OPS`.

A reverse rule maps the cotangent ``g`` to ``g * d`` and a forward rule the tangent
``t`` to ``t * d``; with ``d`` the argument's derivative factor both are the same
function ``rule(v, ans, *args)``, so the tape and forward mode share these rules and
differ only in the structural operations (reductions, matmul, indexing), which keep
their own tables.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .table import MINUS_ONE, ONE, OPS, Over, Refused

__all__ = ["elementwise_rules", "scaled_by"]


def scaled_by(factor, singular: bool = False, arity: int | None = None) -> Callable | None:
    """The rule ``rule(v, ans, *args) = v * factor(ans, *args)`` of one argument.

    An :class:`~diffcompare.ops.table.Over` factor divides instead; a
    :class:`~diffcompare.ops.table.Refused` one raises
    :class:`~diffcompare.ops.namespace.UnsupportedOperationError` naming the operation.  A ``None`` factor
    (the partial is 0: ``floor``, ``sign``) has no rule, ``None``: the engines then
    record no dependence on that argument.  With ``arity`` 1 or 2 (the operation's
    number of arguments) the rule takes exactly that many: a ``*args`` signature packs
    a tuple on every call, which costs more than the product itself on scalars.
    """
    if factor is None:
        return None
    if isinstance(factor, Refused):
        return _refused_rule(factor)
    if factor is ONE or factor is MINUS_ONE or not singular:
        over = isinstance(factor, Over)
        kind = factor if factor is ONE or factor is MINUS_ONE else ("over" if over else "times")
        d = factor.divisor if over else factor
        return _PLAIN_RULES.get((kind, arity), _PLAIN_RULES[kind, None])(d)
    over = isinstance(factor, Over)
    derivative = factor.divisor if over else factor

    def rule(v, ans, *args):
        d = derivative(ans, *args)
        # The factor may be infinite (sqrt' at 0, a zero divisor) where the tangent or
        # cotangent is 0: the product is 0 there, not NaN, or one infinite partial
        # derivative would poison every finite one carried through the same array.
        # Checked on the factor, the value's size, so the common case costs one pass.
        # (the reductions as methods and ufunc.reduce: np.all adds microseconds of
        # dispatch, more than the pass itself on small arrays)
        if np.logical_and.reduce(d, axis=None) if over else np.isfinite(d).all():
            return v / d if over else v * d
        with np.errstate(invalid="ignore", divide="ignore"):
            product = v / d if over else v * d
        return np.where(v == 0, 0.0, product)

    return rule


# fmt: off
#: The rules of a plain factor (no infinite values where the operation is finite), by
#: (kind, arity): each entry builds the rule from the factor ``d``.
_PLAIN_RULES: dict[tuple, Callable[[Callable], Callable]] = {
    (ONE, None):       lambda d: lambda v, ans, *args: v,
    (ONE, 1):          lambda d: lambda v, ans, x: v,
    (ONE, 2):          lambda d: lambda v, ans, a, b: v,
    (MINUS_ONE, None): lambda d: lambda v, ans, *args: -v,
    (MINUS_ONE, 1):    lambda d: lambda v, ans, x: -v,
    (MINUS_ONE, 2):    lambda d: lambda v, ans, a, b: -v,
    ("times", None):   lambda d: lambda v, ans, *args: v * d(ans, *args),
    ("times", 1):      lambda d: lambda v, ans, x: v * d(ans, x),
    ("times", 2):      lambda d: lambda v, ans, a, b: v * d(ans, a, b),
    ("over", None):    lambda d: lambda v, ans, *args: v / d(ans, *args),
    ("over", 1):       lambda d: lambda v, ans, x: v / d(ans, x),
    ("over", 2):       lambda d: lambda v, ans, a, b: v / d(ans, a, b),
}
# fmt: on


def _refused_rule(factor: Refused) -> Callable:
    # Called only for a traced argument: a constant order costs nothing.
    def refused(v, ans, *args):
        from .namespace import unsupported

        reason = f"no derivative with respect to {factor.argument}: {factor.reason}"
        raise unsupported("tape and forward mode", factor.op, reason)

    return refused


def _where_first(v, ans, condition, a, b):
    return np.where(condition, v, 0.0)


def _where_second(v, ans, condition, a, b):
    return np.where(condition, 0.0, v)


def elementwise_rules() -> dict[str, tuple[Callable | None, ...]]:
    """One rule per argument for every ``"unary"``, ``"binary"`` and ``"select"`` row.

    The tape calls them with the cotangent, forward mode with a tangent aligned with
    the (broadcast) output; ``where``'s condition and the arguments of the piecewise
    constant operations have no rule (``None``).
    """
    rules: dict[str, tuple[Callable | None, ...]] = {
        name: tuple(scaled_by(factor, spec.singular, len(spec.derivative)) for factor in spec.derivative)
        for name, spec in OPS.items()
        if spec.derivative is not None
    }
    rules["where"] = (None, _where_first, _where_second)
    return rules
