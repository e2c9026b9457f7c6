"""A pytest plugin: a fixture and a marker for each checker of the oracle.

Registered through the ``pytest11`` entry point, so a test needs no import to use it::

    @pytest.mark.gradcheck_points(5, low=-2.0, high=2.0, dim=3, seed=0)
    def test_my_gradient(gradcheck, grad_point):
        gradcheck.assert_correct(my_loss, my_gradient, grad_point)

The marker parametrises ``grad_point`` over seeded random points of the box (test ids
``point0``, ``point1``, ...), so a failure names its point twice: in the test id and in
the oracle's message (``Repro: x = ...``).

The second-order and product checkers follow the same pattern, one row of
:data:`POINT_MARKERS` each: the fixtures ``hessiancheck``, ``hvpcheck``, ``jvpcheck`` and
``vjpcheck`` (a :class:`~diffcompare.oracle.checker.DerivativeChecker` with ``check`` and
``assert_correct``) and the markers ``hessiancheck_points`` (``hessian_point``),
``hvpcheck_points`` (``hvp_point``), ``jvpcheck_points`` (``jvp_point``) and
``vjpcheck_points`` (``vjp_point``), with the arguments of ``gradcheck_points``.

Importing this module only defines the hooks and fixtures below (pytest calls them);
numpy and the oracle are imported when a test asks for them
(:mod:`diffcompare.oracle.checker`), so an unrelated test run pays nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    import numpy as np

    from .checker import DerivativeChecker, GradChecker

__all__ = [
    "gradcheck", "grad_point", "hessiancheck", "hessian_point", "hvpcheck", "hvp_point",
    "jvpcheck", "jvp_point", "vjpcheck", "vjp_point",
]  # fmt: skip

MARKER = "gradcheck_points"

# fmt: off
#: Marker -> the point fixture it parametrises, one row per checker.
POINT_MARKERS = {
    MARKER:                "grad_point",
    "hessiancheck_points": "hessian_point",
    "hvpcheck_points":     "hvp_point",
    "jvpcheck_points":     "jvp_point",
    "vjpcheck_points":     "vjp_point",
}
# fmt: on


def _marker_help(marker: str, fixture: str) -> str:
    return (
        f"{marker}(n_points, low, high, dim=None, seed=0): parametrise the {fixture} fixture over "
        "n_points seeded uniform random points of the box [low, high] (scalars with dim, or arrays), "
        "with test ids point0, point1, ..."
    )


# -- hooks and fixtures -----------------------------------------------------------------


def pytest_configure(config: pytest.Config) -> None:
    """Register the markers of :data:`POINT_MARKERS` (so ``--strict-markers`` accepts them)."""
    for marker, fixture in POINT_MARKERS.items():
        config.addinivalue_line("markers", _marker_help(marker, fixture))


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrise ``grad_point`` (and each point fixture of :data:`POINT_MARKERS`) over
    the points of the test's marker.

    Tests that do not request the point fixture are left alone (a module-wide marker
    may cover them).  Bad marker arguments raise ``TypeError``/``ValueError`` at
    collection, naming the test.
    """
    for marker, fixture in POINT_MARKERS.items():
        if fixture not in metafunc.fixturenames:
            continue
        mark = metafunc.definition.get_closest_marker(marker)
        if mark is None:
            continue  # the point fixture reports the missing marker
        from .checker import gradcheck_points

        try:
            points = gradcheck_points(*mark.args, **mark.kwargs)
        except (TypeError, ValueError) as error:
            raise type(error)(f"@pytest.mark.{marker} on {metafunc.definition.nodeid}: {error}") from None
        ids = [f"point{i}" for i in range(len(points))]
        metafunc.parametrize(fixture, list(points), ids=ids, indirect=True)


@pytest.fixture
def gradcheck() -> GradChecker:
    """The gradient oracle for tests, with ``check``, ``assert_correct`` and their Jacobian forms.

    Returns
    -------
    GradChecker
        Its ``assert_`` methods fail the test with the oracle's message.
    """
    from .checker import GradChecker

    return GradChecker()


@pytest.fixture
def grad_point(request: pytest.FixtureRequest) -> np.ndarray:
    """One point of the test's ``@pytest.mark.gradcheck_points(...)`` box, a fresh float64 copy.

    Returns
    -------
    numpy.ndarray
        Shape ``(dim,)``; the test id says which point (``point0``, ``point1``, ...).
    """
    return _point(request, MARKER, "grad_point")


def _point(request: pytest.FixtureRequest, marker: str, fixture: str) -> np.ndarray:
    if not hasattr(request, "param"):
        raise ValueError(
            f"the {fixture} fixture needs @pytest.mark.{marker}(n_points, low, high, dim=None, seed=0) "
            f"on {request.node.nodeid}"
        )
    import numpy as np

    return np.array(request.param, dtype=np.float64)


def _checker(kind: str) -> DerivativeChecker:
    from .checker import derivative_checker

    return derivative_checker(kind)


@pytest.fixture
def hessiancheck() -> DerivativeChecker:
    """:func:`~diffcompare.check_hessian` for tests: ``check`` and ``assert_correct``."""
    return _checker("hessian")


@pytest.fixture
def hvpcheck() -> DerivativeChecker:
    """:func:`~diffcompare.check_hvp` for tests: ``check`` and ``assert_correct``."""
    return _checker("hvp")


@pytest.fixture
def jvpcheck() -> DerivativeChecker:
    """:func:`~diffcompare.check_jvp` for tests: ``check`` and ``assert_correct``."""
    return _checker("jvp")


@pytest.fixture
def vjpcheck() -> DerivativeChecker:
    """:func:`~diffcompare.check_vjp` for tests: ``check`` and ``assert_correct``."""
    return _checker("vjp")


@pytest.fixture
def hessian_point(request: pytest.FixtureRequest) -> np.ndarray:
    """One point of the test's ``@pytest.mark.hessiancheck_points(...)`` box."""
    return _point(request, "hessiancheck_points", "hessian_point")


@pytest.fixture
def hvp_point(request: pytest.FixtureRequest) -> np.ndarray:
    """One point of the test's ``@pytest.mark.hvpcheck_points(...)`` box."""
    return _point(request, "hvpcheck_points", "hvp_point")


@pytest.fixture
def jvp_point(request: pytest.FixtureRequest) -> np.ndarray:
    """One point of the test's ``@pytest.mark.jvpcheck_points(...)`` box."""
    return _point(request, "jvpcheck_points", "jvp_point")


@pytest.fixture
def vjp_point(request: pytest.FixtureRequest) -> np.ndarray:
    """One point of the test's ``@pytest.mark.vjpcheck_points(...)`` box."""
    return _point(request, "vjpcheck_points", "vjp_point")
