"""Import cost: ``import diffcompare`` and the pytest plugin load no heavy dependency.

The plugin is loaded by every pytest run in an environment where diffcompare is
installed, so what it imports is paid by users' unrelated tests.  Each check runs in a
fresh interpreter, where nothing else has imported these packages yet.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("sympy", "pandas", "autograd", "mpmath", "matplotlib", "symengine", "scipy")


def _loaded_after(code: str) -> list[str]:
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize(
    "code",
    [
        "import diffcompare",
        "import diffcompare; diffcompare.__all__",
        "import diffcompare.oracle.plugin",
        "import diffcompare.adapters.autograd, diffcompare.adapters.torch, diffcompare.adapters.jax",
        "from diffcompare.oracle import points, require_conclusive",
        "import diffcompare; diffcompare.grad(lambda x, xp: xp.sum(xp.sin(x)), 'tape')([1.0, 2.0])",
        "import diffcompare; diffcompare.grad(lambda x, xp: xp.sum(xp.sin(x)), 'forward')([1.0, 2.0])",
        "import diffcompare, numpy as np; "
        "diffcompare.check_grad(lambda x: np.sum(x**2), lambda x: 2 * x, [1.0, 2.0])",
    ],
)
def test_light_paths_load_no_heavy_dependency(code):
    assert _loaded_after(code) == []


def test_the_plugin_does_not_import_numpy():
    out = subprocess.run(
        [sys.executable, "-c", "import sys, diffcompare.oracle.plugin; print('numpy' in sys.modules)"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "False"


def test_heavy_dependencies_load_where_they_are_used():
    # The probe itself must be able to see an import: the symbolic method loads SymPy.
    assert "sympy" in _loaded_after(
        "import diffcompare; diffcompare.grad(lambda x, xp: xp.sum(xp.sin(x)), 'symbolic')([1.0, 2.0])"
    )


def test_every_public_name_resolves():
    import diffcompare

    for name in diffcompare.__all__:
        assert getattr(diffcompare, name) is not None, name
    with pytest.raises(AttributeError, match="no attribute 'nonexistent'"):
        diffcompare.nonexistent  # noqa: B018


def test_adapters_and_hypothesis_helpers_load_their_framework_when_called():
    code = (
        "import sys, diffcompare.adapters.autograd, diffcompare.adapters.torch, diffcompare.adapters.jax\n"
        "from diffcompare.oracle import points, require_conclusive\n"
        "print(sorted(m for m in ('torch', 'jax', 'hypothesis') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
