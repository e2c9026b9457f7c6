"""A caller's own function on the command line: ``FILE.py:NAME`` or ``package.module:NAME``.

``diffcompare compare --function my_loss.py:loss --dim 3 --point 0.5 -1 2`` compares the
methods on ``loss(x, xp)`` from ``my_loss.py``.  Loading a file runs its code, so each
file is executed once, by its path, as a module whose name is derived from that path
(``_diffcompare_user_<stem>_<hash>``): it cannot replace a module of the same stem that
the program or the caller's code imports, and two files named alike do not collide.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import inspect
import re
import sys
from collections.abc import Callable
from pathlib import Path

__all__ = ["load_function", "module_name_for", "spec_file"]


def module_name_for(path: Path) -> str:
    """The module name a file is loaded under: its stem and a hash of its resolved path."""
    resolved = str(Path(path).resolve())
    stem = re.sub(r"\W", "_", Path(path).stem)
    return f"_diffcompare_user_{stem}_{hashlib.sha256(resolved.encode()).hexdigest()[:12]}"


def _load_file(path: Path):
    """The module of ``path``, executed once per process (later calls reuse it)."""
    name = module_name_for(path)
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ValueError(f"cannot load {path} as Python source")
    module = importlib.util.module_from_spec(spec)
    # Registered before it runs, like an import: dataclasses and pickling (--jobs) look
    # the module up by name.  The file's folder is on the path while it runs, as for
    # ``python FILE.py``, so that it can import modules beside it.
    sys.modules[name] = module
    folder = str(Path(path).resolve().parent)
    sys.path.insert(0, folder)
    try:
        spec.loader.exec_module(module)
    except BaseException as error:
        del sys.modules[name]
        if isinstance(error, KeyboardInterrupt):
            raise
        raise ValueError(f"running {path} raised {type(error).__name__}: {error}") from error
    finally:
        sys.path.remove(folder)
    return module


def _load_module(spec: str, module_name: str):
    try:
        return importlib.import_module(module_name)
    except ImportError as error:
        raise ValueError(f"{spec}: cannot import module {module_name!r} ({error})") from None
    except Exception as error:
        raise ValueError(
            f"{spec}: importing {module_name!r} raised {type(error).__name__}: {error}"
        ) from None


def spec_file(spec: str) -> Path | None:
    """The file ``FILE.py:NAME`` names, or None for ``package.module:NAME``.

    Examples
    --------
    >>> spec_file("models/loss.py:loss").name, spec_file("mypackage.losses:loss")
    ('loss.py', None)
    """
    location = spec.rpartition(":")[0]
    if location.endswith(".py") or "/" in location or "\\" in location:
        return Path(location).expanduser()
    return None


def load_function(spec: str) -> Callable:
    """The function ``f(x, xp)`` that ``spec`` names.

    Parameters
    ----------
    spec : str
        ``FILE.py:NAME`` (a path, loaded once by path) or ``package.module:NAME`` (an
        importable module); ``NAME`` may be dotted (``Model.loss``).

    Returns
    -------
    callable

    Raises
    ------
    ValueError
        If ``spec`` has no ``:NAME``, the file does not exist, the module cannot be
        imported or raises while loading, or it has no ``NAME``.
    TypeError
        If ``NAME`` is not callable, or cannot take the two arguments ``(x, xp)``: a
        plain numpy ``f(x)`` is refused, since SymPy cannot trace it and no method could
        then be scored against the 50-digit reference.

    Examples
    --------
    >>> f = load_function("diffcompare.suite.functions:rosenbrock")
    >>> f.__name__
    'rosenbrock'
    """
    location, colon, attribute = spec.rpartition(":")
    if not colon or not location or not attribute:
        raise ValueError(f"{spec!r} must be FILE.py:NAME or package.module:NAME")
    path = spec_file(spec)
    if path is not None:
        if not path.is_file():
            raise ValueError(f"{spec}: no file {location}")
        target = _load_file(path)
    else:
        target = _load_module(spec, location)
    for part in attribute.split("."):
        try:
            target = getattr(target, part)
        except AttributeError:
            raise ValueError(f"{spec}: {location} has no {attribute!r}") from None
    if not callable(target):
        raise TypeError(f"{spec} is not callable: it is a {type(target).__name__}")
    _check_two_arguments(target, spec)
    return target


def _check_two_arguments(f: Callable, spec: str) -> None:
    try:
        signature = inspect.signature(f)
    except (TypeError, ValueError):  # some builtins have none: the first call will tell
        return
    try:
        signature.bind(None, None)
    except TypeError:
        raise TypeError(
            f"{spec} has the signature {signature}; diffcompare needs f(x, xp), written against "
            "the namespace xp (xp.sin, xp.sum, ...): SymPy cannot trace a plain numpy f(x), so "
            "no method could be scored against the 50-digit reference"
        ) from None
