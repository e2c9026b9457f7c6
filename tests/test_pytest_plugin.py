"""The pytest plugin: the ``gradcheck`` fixture and the ``gradcheck_points`` marker.

Most tests run an inner pytest session with ``pytester`` (in-process) on a small test
file and read its outcome and output, as a user would see them.
"""

import importlib.metadata
import math
import os
import re

import numpy as np
import pytest

from diffcompare import assert_grad_correct, check_grad
from diffcompare.oracle.checker import GradChecker, gradcheck_points

pytest_plugins = ["pytester"]

PLUGIN = "diffcompare.oracle.plugin"


def _plugin_arguments() -> list[str]:
    """``-p diffcompare.oracle.plugin`` unless the installed entry point already loads it.

    Passing ``-p`` for a module that the ``pytest11`` entry point also registers (under
    its entry-point name) makes pytest stop with "Plugin already registered".
    """
    installed = any(ep.value == PLUGIN for ep in importlib.metadata.entry_points(group="pytest11"))
    autoload = not os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD")
    return [] if installed and autoload else ["-p", PLUGIN]


def run(pytester: pytest.Pytester, *arguments: str) -> pytest.RunResult:
    # the plugin module is already imported here, so it cannot be assertion-rewritten: say it once
    quiet = ["-W", "ignore::pytest.PytestAssertRewriteWarning"]
    return pytester.runpytest_inprocess("-p", "no:cacheprovider", *quiet, *_plugin_arguments(), *arguments)


def failed_ids(result: pytest.RunResult) -> set[str]:
    """The parametrisation ids of the FAILED lines in the short test summary."""
    return {match[1] for line in result.outlines if (match := re.match(r"FAILED \S+\[(\w+)\]", line))}


HEADER = """
import numpy as np
import pytest


def cube_sum(x):
    return np.sum(x**3)


def cube_sum_xp(x, xp):
    return xp.sum(x**3)
"""


# -- the fixture --------------------------------------------------------------------------


def test_correct_gradient_passes_through_the_fixture(pytester):
    pytester.makepyfile(
        HEADER
        + """
def test_black_box(gradcheck):
    result = gradcheck.assert_correct(cube_sum, lambda x: 3 * x**2, [1.0, -2.0])
    assert result.verdict == "pass"


def test_xp_form(gradcheck):
    assert gradcheck.check(cube_sum_xp, lambda x: 3 * x**2, [1.0, -2.0]).references == ("richardson", "tape")


def test_jacobian(gradcheck):
    f = lambda x: np.array([x[0] * x[1], np.exp(x[0])])
    jac = lambda x: np.array([[x[1], x[0]], [np.exp(x[0]), 0.0]])
    gradcheck.assert_jacobian_correct(f, jac, [1.0, 2.0])
    assert gradcheck.check_jacobian(f, jac, [1.0, 2.0]).passed
"""
    )
    run(pytester).assert_outcomes(passed=3)


def test_wrong_gradient_fails_naming_component_values_and_point(pytester):
    x = [0.5, 2.0, -1.25]
    pytester.makepyfile(
        HEADER
        + f"""
def wrong(x):
    g = 3 * x**2
    g[2] *= 1.5
    return g


def test_wrong(gradcheck):
    gradcheck.assert_correct(cube_sum, wrong, {x!r})
"""
    )
    result = run(pytester)
    result.assert_outcomes(failed=1)
    expected = check_grad(lambda x: np.sum(x**3), lambda x: 3 * x**2 * [1.0, 1.0, 1.5], x)
    assert expected.verdict == "fail" and expected.index == 2
    output = result.stdout.str()
    assert "Gradient check fail: 1 of 3 components mismatch" in output
    result.stdout.re_match_lines(
        [rf"E\s+2\s+{re.escape(repr(expected.claimed))}\s+{re.escape(repr(expected.reference))}\s"]
    )
    assert f"worst component 2: claimed {expected.claimed!r}, reference {expected.reference!r}" in output
    assert "Repro: x = np.array([0.5, 2.0, -1.25]), seed = 0" in output
    # the traceback ends at the test's own line, not inside the plugin or the oracle
    result.stdout.fnmatch_lines([">       gradcheck.assert_correct(cube_sum, wrong, *)"])
    assert "pytest_plugin.py" not in output and "check.py" not in output


def test_several_points_fail_naming_the_point_index(pytester):
    box = ([-1.0, -1.0], [1.0, 1.0])
    pytester.makepyfile(
        HEADER
        + f"""
def test_box(gradcheck):
    wrong = lambda x: np.where(x < 0, 3.5, 3.0) * x**2
    gradcheck.assert_correct(cube_sum, wrong, box={box!r}, n_points=6, seed=4)
"""
    )
    result = run(pytester)
    result.assert_outcomes(failed=1)
    expected = check_grad(
        lambda x: np.sum(x**3), lambda x: np.where(x < 0, 3.5, 3.0) * x**2, box=box, n_points=6, seed=4
    )
    assert expected.verdict == "fail"
    output = result.stdout.str()
    assert f"Gradient check fail at point {expected.point_index}:" in output
    assert (
        f"Repro: x = np.array([{float(expected.point[0])!r}, {float(expected.point[1])!r}]), seed = 4"
        in output
    )


def test_helper_raises_what_the_oracle_raises():
    def abs_sum(x):
        return np.sum(np.abs(x) + x**2)

    checker = GradChecker()
    wrong = lambda x: 2.0 * x  # noqa: E731 - misses sign(x)
    with pytest.raises(AssertionError) as from_oracle:
        assert_grad_correct(abs_sum, wrong, [0.5, -2.0])
    with pytest.raises(AssertionError) as from_helper:
        checker.assert_correct(abs_sum, wrong, [0.5, -2.0])
    assert _without_timing(str(from_helper.value)) == _without_timing(str(from_oracle.value))

    one_sided = lambda x: np.where(x >= 0, 1.0, -1.0) + 2 * x  # noqa: E731 - a right derivative at the kink
    with pytest.raises(AssertionError, match="inconclusive.*kink"):
        checker.assert_correct(abs_sum, one_sided, [0.0, 2.0])
    assert (
        checker.assert_correct(abs_sum, one_sided, [0.0, 2.0], allow_inconclusive=True).verdict
        == "inconclusive"
    )


def _without_timing(message: str) -> str:
    return re.sub(r"in \S+ s", "in ... s", message)


# -- the marker ---------------------------------------------------------------------------


def test_marker_parametrises_with_point_ids(pytester):
    pytester.makepyfile(
        HEADER
        + """
@pytest.mark.gradcheck_points(4, low=-1.0, high=1.0, dim=2, seed=3)
def test_points(gradcheck, grad_point):
    gradcheck.assert_correct(cube_sum, lambda x: 3 * x**2, grad_point)


@pytest.mark.gradcheck_points(2, low=[0.0, 5.0], high=[1.0, 6.0])
@pytest.mark.parametrize("form", ["box", "xp"])
def test_combined(grad_point, form):
    assert grad_point.shape == (2,) and 5.0 <= grad_point[1] <= 6.0
"""
    )
    collected = run(pytester, "--collect-only", "-q", "--strict-markers")
    module = "test_marker_parametrises_with_point_ids.py"
    assert [line for line in collected.outlines if line.startswith(module)] == [
        f"{module}::test_points[point{i}]" for i in range(4)
    ] + [f"{module}::test_combined[point{i}-{form}]" for i in range(2) for form in ("box", "xp")]
    run(pytester, "--strict-markers").assert_outcomes(passed=8)
    run(pytester, "--markers").stdout.fnmatch_lines(
        ["@pytest.mark.gradcheck_points(n_points, low, high, dim=None, seed=0):*"]
    )


def test_gradient_wrong_for_negative_x0_fails_exactly_there(pytester):
    points = gradcheck_points(8, -1.0, 1.0, dim=3, seed=0)
    negative = {f"point{i}" for i in np.flatnonzero(points[:, 0] < 0)}
    assert 0 < len(negative) < 8  # both kinds of point are drawn
    pytester.makepyfile(
        HEADER
        + """
def wrong_left(x):
    g = 3 * x**2
    if x[0] < 0:
        g[0] += 0.1
    return g


@pytest.mark.gradcheck_points(8, -1.0, 1.0, dim=3, seed=0)
def test_points(gradcheck, grad_point):
    gradcheck.assert_correct(cube_sum, wrong_left, grad_point)
"""
    )
    result = run(pytester)
    result.assert_outcomes(passed=8 - len(negative), failed=len(negative))
    assert failed_ids(result) == negative
    for k in sorted(negative):
        point = points[int(k.removeprefix("point"))]
        assert f"Repro: x = np.array([{', '.join(repr(float(v)) for v in point)}])" in result.stdout.str()


def test_marker_points_are_seeded_and_fresh(pytester):
    """The same seed gives the same points: in the marker, the function and check_grad's box."""
    expected = gradcheck_points(3, -2.0, 2.0, dim=2, seed=11)
    pytester.makepyfile(
        HEADER
        + f"""
import re

EXPECTED = {expected.tolist()!r}


@pytest.mark.gradcheck_points(3, -2.0, 2.0, dim=2, seed=11)
@pytest.mark.parametrize("repeat", [0, 1])
def test_points(request, grad_point, repeat):
    index = int(re.search(r"point(\\d+)", request.node.callspec.id)[1])
    assert grad_point.tolist() == EXPECTED[index]
    grad_point[:] = 0.0  # a fresh copy per test: the next repeat still sees the point
"""
    )
    run(pytester).assert_outcomes(passed=6)
    run(pytester).assert_outcomes(passed=6)


def test_points_function_is_deterministic_and_matches_check_grad_box():
    first = gradcheck_points(5, [-1.0, 0.0, 2.0], [1.0, 0.5, 3.0], seed=7)
    assert np.array_equal(first, gradcheck_points(5, [-1.0, 0.0, 2.0], [1.0, 0.5, 3.0], seed=7))
    assert not np.array_equal(first, gradcheck_points(5, [-1.0, 0.0, 2.0], [1.0, 0.5, 3.0], seed=8))
    assert first.shape == (5, 3) and first.dtype == np.float64
    assert np.all((first >= [-1.0, 0.0, 2.0]) & (first < [1.0, 0.5, 3.0]))
    box = (np.array([-1.0, 0.0, 2.0]), np.array([1.0, 0.5, 3.0]))
    result = check_grad(lambda x: np.sum(x**2), lambda x: 2 * x, box=box, n_points=5, seed=7)
    assert np.array_equal(np.array([r.point for r in result.per_point]), first)
    # a scalar corner broadcasts against an array one, integers are accepted
    assert np.array_equal(
        gradcheck_points(2, -1, [1.0, 2.0], seed=0), gradcheck_points(2, [-1.0, -1.0], [1, 2])
    )


BAD_ARGUMENTS = [
    # (positional arguments, keyword arguments), exception, message
    ((0, -1.0, 1.0), {"dim": 2}, ValueError, "n_points must be at least 1; got 0"),
    ((2.5, -1.0, 1.0), {"dim": 2}, TypeError, "n_points must be an integer; got 2.5 (float)"),
    ((True, -1.0, 1.0), {"dim": 2}, TypeError, "n_points must be an integer; got True (bool)"),
    ((3, -1.0, 1.0), {}, ValueError, "dim is required when low and high are both scalars"),
    ((3, -1.0, 1.0), {"dim": 0}, ValueError, "dim must be at least 1; got 0"),
    ((3, -1.0, 1.0), {"dim": 2, "seed": -1}, ValueError, "seed must be at least 0; got -1"),
    ((3, [0.0, 0.0], [1.0]), {}, ValueError, "low and high must have the same length; got 2 and 1"),
    ((3, [0.0, 0.0], [1.0, 1.0]), {"dim": 3}, ValueError, "dim=3 does not match the length 2 of low/high"),
    (
        (3, [1.0, 0.0], [0.5, 1.0]),
        {},
        ValueError,
        "low < high must hold in every coordinate; not at index [0]",
    ),
    ((3, "a", 1.0), {"dim": 2}, TypeError, "low must be a real number or a 1-d array of them; got 'a'"),
    ((3, -1.0, math.inf), {"dim": 2}, ValueError, "high must be finite; got inf"),
    ((3, [[0.0]], [[1.0]]), {}, ValueError, "low must be a real number or a non-empty 1-d array; got shape"),
    ((3, -1.0), {}, TypeError, "missing 1 required positional argument: 'high'"),
    ((3, -1.0, 1.0), {"dim": 2, "sede": 1}, TypeError, "got an unexpected keyword argument 'sede'"),
]


def _marker_source(args: tuple, kwargs: dict) -> str:
    """The marker's argument list as Python source (``repr(inf)`` is ``inf``: the file imports it)."""
    return ", ".join([*(repr(a) for a in args), *(f"{k}={v!r}" for k, v in kwargs.items())])


BAD_MARKER_MODULE = """
from math import inf

import pytest


@pytest.mark.gradcheck_points({arguments})
def test_g(grad_point):
    pass
"""


@pytest.mark.parametrize(("args", "kwargs", "kind", "message"), BAD_ARGUMENTS)
def test_bad_points_arguments_raise_pinned_messages(args, kwargs, kind, message):
    with pytest.raises(kind, match=re.escape(message)):
        gradcheck_points(*args, **kwargs)


def test_bad_marker_arguments_are_reported_at_collection_naming_the_test(pytester):
    sources = [
        BAD_MARKER_MODULE.format(arguments=_marker_source(args, kwargs))
        for args, kwargs, _, _ in BAD_ARGUMENTS
    ]
    pytester.makepyfile(**{f"test_case{i}": source for i, source in enumerate(sources)})
    result = run(pytester)
    result.assert_outcomes(errors=len(BAD_ARGUMENTS))
    output = result.stdout.str()
    for i, (_, _, kind, message) in enumerate(BAD_ARGUMENTS):
        assert f"E   {kind.__name__}: @pytest.mark.gradcheck_points on test_case{i}.py::test_g: " in output
        assert message in output


def test_grad_point_without_marker_says_what_is_missing_and_marker_alone_is_ignored(pytester):
    pytester.makepyfile(
        test_module_marker="""
import pytest

pytestmark = pytest.mark.gradcheck_points(2, -1.0, 1.0, dim=1)


def test_without_grad_point():
    pass
""",
        test_no_marker="""
def test_no_marker(grad_point):
    pass
""",
    )
    result = run(pytester, "-v")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["test_module_marker.py::test_without_grad_point PASSED*"])
    result.stdout.fnmatch_lines(
        [
            "E *ValueError: the grad_point fixture needs @pytest.mark.gradcheck_points(n_points, low, high, "
            "dim=None, seed=0) on test_no_marker.py::test_no_marker"
        ]
    )


# -- the second-order and product checkers ------------------------------------------------


def test_each_checker_has_a_fixture_and_a_marker(pytester):
    pytester.makepyfile(
        """
import numpy as np
import pytest


def cube(x, xp):
    return xp.sum(x**3)


def g(x):
    return np.array([x[0] * x[1], np.exp(x[1])])


def jac(x):
    return np.array([[x[1], x[0]], [0.0, np.exp(x[1])]])


@pytest.mark.hessiancheck_points(2, low=-1.0, high=1.0, dim=3, seed=1)
def test_hessian(hessiancheck, hessian_point):
    hessiancheck.assert_correct(cube, lambda x: np.diag(6 * x), hessian_point)


@pytest.mark.hvpcheck_points(2, low=-1.0, high=1.0, dim=3, seed=1)
def test_hvp(hvpcheck, hvp_point):
    assert hvpcheck.check(cube, lambda x, v: 6 * x * v, hvp_point).passed


@pytest.mark.jvpcheck_points(2, low=-1.0, high=1.0, dim=2)
def test_jvp(jvpcheck, jvp_point):
    jvpcheck.assert_correct(g, lambda x, t: jac(x) @ t, jvp_point)


@pytest.mark.vjpcheck_points(2, low=-1.0, high=1.0, dim=2)
def test_vjp(vjpcheck, vjp_point):
    vjpcheck.assert_correct(g, lambda x, u: jac(x).T @ u, vjp_point)


@pytest.mark.hessiancheck_points(1, low=0.5, high=1.0, dim=2)
def test_wrong_hessian(hessiancheck, hessian_point):
    hessiancheck.assert_correct(cube, lambda x: np.diag(3 * x), hessian_point)


def test_point_without_marker(vjp_point):
    pass
"""
    )
    result = run(pytester, "-v")
    result.assert_outcomes(passed=8, failed=1, errors=1)
    output = result.stdout.str()
    assert "test_wrong_hessian[point0] FAILED" in output
    assert "Hessian check fail: 2 of 4 entries mismatch" in output and "Repro: x = np.array([" in output
    result.stdout.fnmatch_lines(
        [">       hessiancheck.assert_correct(cube, lambda x: np.diag(3 * x), hessian_point)"]
    )
    assert "the vjp_point fixture needs @pytest.mark.vjpcheck_points" in output
