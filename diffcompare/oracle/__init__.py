"""The gradient-correctness oracle: verifiers to call from tests.

>>> import numpy as np
>>> from diffcompare.oracle import check_grad
>>> check_grad(lambda x: np.sum(np.exp(x)), np.exp, [0.0, 1.0]).passed
True
"""

from importlib import import_module

# Loaded on first use (PEP 562): the pytest plugin lives in this package and must not
# make an unrelated test run import numpy and the oracle.
_PUBLIC = {
    "GradCheckResult": "result",
    "Mismatch": "result",
    "assert_grad_correct": "check",
    "assert_jacobian_correct": "check",
    "check_grad": "check",
    "check_jacobian": "check",
}

__all__ = sorted(_PUBLIC)


def __getattr__(name: str):
    try:
        module = _PUBLIC[name]
    except KeyError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_PUBLIC])
