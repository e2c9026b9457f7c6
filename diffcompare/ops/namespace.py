"""The array namespace ``xp`` handed to a test function.

A :class:`Namespace` is a read-only mapping from operation names (see
:mod:`diffcompare.ops`) to one backend's implementations, reachable as attributes:
``xp.exp(x)``.  Asking for an operation the backend lacks raises
:class:`UnsupportedOperationError`, which names the operation and the backend.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .table import ALIASES, CONSTANTS, CONSTRUCTORS, DERIVED, EXTENDED, OPS, canonical_name

__all__ = ["EXTENSIONS", "Namespace", "UnsupportedOperationError", "refusal", "unsupported"]

#: The Array API's extension modules: an operation named ``"linalg.solve"`` in
#: :data:`~diffcompare.ops.OPS` is ``xp.linalg.solve``.
EXTENSIONS: tuple[str, ...] = ("linalg",)


class UnsupportedOperationError(NotImplementedError, AttributeError):
    """A function asked a backend for an operation it does not provide.

    It is a ``NotImplementedError`` (a missing rule) and also an ``AttributeError``,
    so ``hasattr(xp, name)`` keeps working.  Raised by :func:`unsupported`, it also
    carries ``method``, ``op`` and ``reason`` (else they are ``None``).
    """

    method: str | None = None
    op: str | None = None
    reason: str | None = None


def unsupported(method: str, op: str, reason: str) -> UnsupportedOperationError:
    """The error a method raises for an operation it cannot follow.

    Every refusal reads ``"<method> does not support '<op>': <reason>"``, whichever
    engine, namespace or numpy protocol meets the operation.

    Parameters
    ----------
    method : str
        The method (or backend) refusing, as registered (``"tape"``, ``"central"``).
    op : str
        The operation as ``f`` spelled it: ``"linalg.qr"`` for ``xp.linalg.qr``,
        ``"numpy.polyval"`` for numpy's function called on a traced value.
    reason : str
        Why, and what to do instead.

    Examples
    --------
    >>> str(unsupported("tape", "linalg.qr", "no derivative rule"))
    "tape does not support 'linalg.qr': no derivative rule"
    """
    error = UnsupportedOperationError(f"{method} does not support {op!r}: {reason}")
    error.method, error.op, error.reason = method, op, reason
    return error


#: Why a name is refused when it is no row of :data:`~diffcompare.ops.OPS`.
NOT_AN_OPERATION = "it is no operation of xp; write f with the operations of xp (see diffcompare.ops)"


class Namespace:
    """One backend's implementation of every operation in :data:`~diffcompare.ops.OPS`.

    The aliases (:data:`~diffcompare.ops.ALIASES`) are the same functions under other
    names; the derived operations (:data:`~diffcompare.ops.DERIVED`, such as ``dot``)
    are built from ``functions``.

    Parameters
    ----------
    backend : str
        Name used in error messages (``"numpy"``, ``"tape"``, ...).
    functions : mapping of str to callable
        Implementations keyed by canonical operation name; must cover every name in
        ``OPS`` and ``CONSTRUCTORS``.
    constants : mapping of str to object, optional
        Values for the names in :data:`~diffcompare.ops.CONSTANTS`.

    Raises
    ------
    ValueError
        If ``functions`` misses an operation or names an unknown one.
    """

    def __init__(
        self,
        backend: str,
        functions: Mapping[str, Callable[..., Any]],
        constants: Mapping[str, Any] | None = None,
    ) -> None:
        expected = set(OPS) | set(CONSTRUCTORS)
        missing = expected - set(functions)
        unknown = set(functions) - expected
        if missing or unknown:
            raise ValueError(
                f"functions for backend {backend!r} must cover exactly the operations in "
                f"diffcompare.ops; missing {sorted(missing)}, unknown {sorted(unknown)}"
            )
        members = dict(CONSTANTS)
        members.update(constants or {})
        members.update(functions)
        members.update({name: build(functions) for name, build in DERIVED.items()})
        members.update({name: extend(functions) for name, extend in EXTENDED.items()})
        self.backend = backend
        self._members = members
        # Every name, aliases included, as an instance attribute: ``xp.sin`` is then a
        # plain attribute lookup, and __getattr__ runs only for unknown names.
        vars(self).update(members)
        vars(self).update({alias: members[name] for alias, name in ALIASES.items() if name in members})
        for extension in EXTENSIONS:
            prefix = extension + "."
            vars(self)[extension] = _Extension(
                backend,
                extension,
                {name[len(prefix) :]: fn for name, fn in vars(self).items() if name.startswith(prefix)},
            )

    def lookup(self, name: str) -> Callable[..., Any] | None:
        """The function for operation ``name`` (any spelling, ``"linalg.solve"`` too), or ``None``."""
        return self._members.get(canonical_name(name))

    def __getattr__(self, name: str) -> Any:
        try:
            return self._members[canonical_name(name)]
        except KeyError:
            raise unsupported(
                self.backend, name, f"{NOT_AN_OPERATION}; supported: {', '.join(sorted(OPS))}"
            ) from None

    def __dir__(self) -> list[str]:
        return sorted(self._members)

    def __repr__(self) -> str:
        return f"<diffcompare namespace {self.backend!r}>"


class _Extension:
    """An extension module of a namespace (``xp.linalg``): its operations as attributes."""

    def __init__(self, backend: str, extension: str, members: Mapping[str, Callable[..., Any]]) -> None:
        self._backend = backend
        self._extension = extension
        vars(self).update(members)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        supported = ", ".join(sorted(n for n in OPS if n.startswith(self._extension + "."))) or "none"
        raise unsupported(
            self._backend, f"{self._extension}.{name}", f"{NOT_AN_OPERATION}; supported: {supported}"
        )

    def __dir__(self) -> list[str]:
        return sorted(n for n in vars(self) if not n.startswith("_"))

    def __repr__(self) -> str:
        return f"<diffcompare namespace {self._backend!r}, module {self._extension!r}>"


def refusal(method: str, op: str, reason: str) -> Callable[..., Any]:
    """An entry for operation ``op`` in a backend that cannot provide it.

    Calling it raises :class:`UnsupportedOperationError` naming the method, the
    operation and ``reason``, so that a method refuses by name instead of returning a
    wrong number.

    Examples
    --------
    >>> refusal("symengine", "sort", "no closed form")(None)
    Traceback (most recent call last):
    ...
    diffcompare.ops.namespace.UnsupportedOperationError: symengine does not support 'sort': no closed form
    """

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise unsupported(method, op, reason)

    refuse.__name__ = op.rsplit(".", 1)[-1]
    return refuse
