"""What every operator shares: choosing a method by name, and setup once per dimension."""

from __future__ import annotations

from collections.abc import Callable, Mapping

__all__ = ["PerDimension", "choose"]


def choose(table: Mapping[str, Callable], method, operator: str) -> Callable:
    """The implementation of ``operator`` registered as ``method`` in ``table``.

    Raises
    ------
    TypeError
        If ``method`` is not a string.
    ValueError
        If ``table`` has no such method.
    """
    if not isinstance(method, str):
        raise TypeError(f"method must be a string; got {type(method).__name__}")
    try:
        return table[method]
    except KeyError:
        raise ValueError(
            f"unknown method {method!r} for {operator}; expected one of {', '.join(map(repr, table))}"
        ) from None


class PerDimension:
    """``prepare(f, n)`` run on the first call for each length ``n`` of ``x``, then reused."""

    def __init__(self, prepare: Callable, f: Callable) -> None:
        self._prepare = prepare
        self._f = f
        self._prepared: dict[int, Callable] = {}

    def __call__(self, n: int) -> Callable:
        if n not in self._prepared:
            self._prepared[n] = self._prepare(self._f, n)
        return self._prepared[n]
