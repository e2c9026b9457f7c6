"""Namespaces for the methods that only evaluate ``f``: the op table, then numpy itself.

A method that differentiates by evaluating ``f`` at nearby points (central differences,
Richardson, the complex step) needs no derivative rule, so it can follow any function
numpy can evaluate.  :class:`FallbackNamespace` gives ``f`` the table's operations
(:data:`~diffcompare.ops.OPS`, so ``xp.sigmoid`` and ``xp.logsumexp`` are the stable
formulas every other method sees) and resolves every other name through a
``resolve(path)`` function: ``xp.polyval`` asks for ``"polyval"``, ``xp.linalg.qr``
for ``"linalg.qr"``, ``xp.fft.fft`` for ``"fft.fft"``.  :func:`numpy_member` is the
plain numpy resolver (``numpy.polyval``, ``numpy.linalg.qr``), with ``xp.special.X``
taken from ``scipy.special`` when SciPy is installed (numpy has no special functions).
"""

from __future__ import annotations

import importlib
import types
from collections.abc import Callable
from typing import Any

import numpy as np

from .namespace import EXTENSIONS, Namespace, UnsupportedOperationError, unsupported
from .numpy_namespace import numpy_namespace

__all__ = [
    "FallbackNamespace",
    "numpy_fallback",
    "numpy_fallback_namespace",
    "numpy_member",
    "numpy_resolver",
]

#: Extension modules numpy lacks, and the module that provides them (imported on first use).
FOREIGN_MODULES = {"special": "scipy.special"}


def numpy_member(path: str) -> Any:
    """numpy's object at a dotted ``path`` (``"linalg.qr"``), or ``None`` if numpy has none.

    ``"special.X"`` is looked up in ``scipy.special`` (``None`` without SciPy).

    Examples
    --------
    >>> numpy_member("linalg.qr") is np.linalg.qr
    True
    >>> numpy_member("linalg.no_such_thing") is None
    True
    """
    head, _, rest = path.partition(".")
    if head in FOREIGN_MODULES and not hasattr(np, head):
        try:
            owner: Any = importlib.import_module(FOREIGN_MODULES[head])
        except ImportError:
            return None
        parts = rest.split(".") if rest else []
    else:
        owner, parts = np, path.split(".")
    for part in parts:
        if part.startswith("_"):
            return None
        owner = getattr(owner, part, None)
        if owner is None:
            return None
    return owner


def numpy_resolver(method: str) -> Callable[[str], Any]:
    """A ``resolve(path)`` for :class:`FallbackNamespace` that takes everything from numpy.

    A name numpy lacks is refused as ``method``'s, naming it.
    """

    def resolve(path: str) -> Any:
        member = numpy_member(path)
        if member is None:
            head = path.partition(".")[0]
            where = FOREIGN_MODULES[head] if head in FOREIGN_MODULES else "numpy"
            raise unsupported(
                method, path, f"it is neither an operation of xp (see diffcompare.ops) nor in {where}"
            )
        return member

    return resolve


class FallbackNamespace:
    """An ``xp`` whose names outside the op table come from ``resolve``.

    Parameters
    ----------
    method : str
        The method evaluating ``f`` (``"central"``), for error messages; also
        ``backend``.
    namespace : Namespace
        The op table's implementations, tried first.
    resolve : callable
        ``resolve(path)`` returns the object for a name the table lacks (``"polyval"``,
        ``"linalg.qr"``) or raises :class:`~diffcompare.ops.namespace.UnsupportedOperationError`
        naming the method, the name and why.  A module it returns (``numpy.fft``) is
        resolved name by name in turn (``"fft.fft"``).

    Examples
    --------
    >>> xp = FallbackNamespace("central", numpy_namespace, numpy_resolver("central"))
    >>> float(xp.linalg.det(xp.eye(2) * 2.0)), float(xp.polyval([1.0, 0.0], 3.0))
    (4.0, 3.0)
    """

    def __init__(self, method: str, namespace: Namespace, resolve: Callable[[str], Any]) -> None:
        self.backend = method
        self._resolve = resolve
        # The table's names as plain attributes, as in Namespace: ``xp.sin`` costs a
        # lookup, and __getattr__ runs only for the names the table lacks.
        for name, member in vars(namespace).items():
            if name.startswith("_") or name == "backend":
                continue
            vars(self)[name] = _FallbackModule(name, member, resolve) if name in EXTENSIONS else member

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return _module_or_member(name, self._resolve)

    def __dir__(self) -> list[str]:
        return sorted(n for n in vars(self) if not n.startswith("_"))

    def __repr__(self) -> str:
        return f"<diffcompare namespace {self.backend!r}: the op table, then numpy>"


def _module_or_member(path: str, resolve: Callable[[str], Any]) -> Any:
    member = resolve(path)
    return _FallbackModule(path, None, resolve) if isinstance(member, types.ModuleType) else member


class _FallbackModule:
    """``xp.linalg``, ``xp.fft``: the table's operations of the module, then ``resolve``."""

    def __init__(self, prefix: str, table: Any, resolve: Callable[[str], Any]) -> None:
        self._prefix = prefix
        self._table = table
        self._resolve = resolve

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        if self._table is not None:
            try:
                return getattr(self._table, name)
            except UnsupportedOperationError:
                pass
        return _module_or_member(f"{self._prefix}.{name}", self._resolve)

    def __repr__(self) -> str:
        return f"<diffcompare namespace module {self._prefix!r}: the op table, then numpy>"


def numpy_fallback_namespace(method: str) -> FallbackNamespace:
    """``method``'s ``xp`` for float64 evaluation: the numpy op table, then numpy itself.

    Examples
    --------
    >>> xp = numpy_fallback_namespace("central")
    >>> xp.linalg.qr is np.linalg.qr, xp.sigmoid is numpy_namespace.sigmoid
    (True, True)
    """
    return FallbackNamespace(method, numpy_namespace, numpy_resolver(method))


#: Plain float64 evaluation of any ``f`` numpy runs (the forward pass the harness times,
#: the value checked before a gradient, the oracle's black box).
numpy_fallback = numpy_fallback_namespace("numpy")
