"""A pytest plugin: the ``gradcheck`` fixture and the ``gradcheck_points`` marker.

Registered through the ``pytest11`` entry point, so a test needs no import to use it::

    @pytest.mark.gradcheck_points(5, low=-2.0, high=2.0, dim=3, seed=0)
    def test_my_gradient(gradcheck, grad_point):
        gradcheck.assert_correct(my_loss, my_gradient, grad_point)

The marker parametrises ``grad_point`` over seeded random points of the box (test ids
``point0``, ``point1``, ...), so a failure names its point twice: in the test id and in
the oracle's message (``Repro: x = ...``).  Importing this module only defines the hooks
and fixtures below (pytest calls them); numpy and the oracle are imported when a test
asks for them (:mod:`diffcompare.oracle.checker`), so an unrelated test run pays nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    import numpy as np

    from .checker import GradChecker

__all__ = ["gradcheck", "grad_point"]

MARKER = "gradcheck_points"

_MARKER_HELP = (
    f"{MARKER}(n_points, low, high, dim=None, seed=0): parametrise the grad_point fixture over "
    "n_points seeded uniform random points of the box [low, high] (scalars with dim, or arrays), "
    "with test ids point0, point1, ..."
)


# -- hooks and fixtures -----------------------------------------------------------------


def pytest_configure(config: pytest.Config) -> None:
    """Register the ``gradcheck_points`` marker (so ``--strict-markers`` accepts it)."""
    config.addinivalue_line("markers", _MARKER_HELP)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrise ``grad_point`` over the points of the test's ``gradcheck_points`` marker.

    Tests that do not request ``grad_point`` are left alone (a module-wide marker may
    cover them).  Bad marker arguments raise ``TypeError``/``ValueError`` at collection,
    naming the test.
    """
    if "grad_point" not in metafunc.fixturenames:
        return
    mark = metafunc.definition.get_closest_marker(MARKER)
    if mark is None:
        return  # the grad_point fixture reports the missing marker
    from .checker import gradcheck_points

    try:
        points = gradcheck_points(*mark.args, **mark.kwargs)
    except (TypeError, ValueError) as error:
        raise type(error)(f"@pytest.mark.{MARKER} on {metafunc.definition.nodeid}: {error}") from None
    ids = [f"point{i}" for i in range(len(points))]
    metafunc.parametrize("grad_point", list(points), ids=ids, indirect=True)


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
    if not hasattr(request, "param"):
        raise ValueError(
            f"the grad_point fixture needs @pytest.mark.{MARKER}(n_points, low, high, dim=None, seed=0) "
            f"on {request.node.nodeid}"
        )
    import numpy as np

    return np.array(request.param, dtype=np.float64)
