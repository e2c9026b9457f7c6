"""Method ``"tape"``: diffcompare's own reverse-mode tape."""

from __future__ import annotations

import numpy as np

from ...validation import check_scalar_output
from ..base import ExactMethod, PreparedGradient
from .engine import Node, backward, graph_size
from .namespace import tape_namespace


def tape_gradient(f, x: np.ndarray, check_value=None) -> np.ndarray:
    """Record ``f(x, xp)`` on a fresh tape and walk it backwards.

    With ``check_value``, ``f`` runs with numpy's floating-point warnings off and
    ``check_value(f(x), x)`` is called before the walk (see ``PreparedGradient.checked``).
    """
    leaf = Node(x)
    if check_value is None:
        out = f(leaf, tape_namespace)
    else:
        with np.errstate(all="ignore"):
            out = f(leaf, tape_namespace)
    if not isinstance(out, Node):  # f does not depend on x
        check_scalar_output(out, "tape")
        if check_value is not None:
            check_value(out, x)
        return np.zeros_like(x)
    value = out.value
    if not (type(value) is np.ndarray and value.shape == () and value.dtype.kind == "f"):
        check_scalar_output(value, "tape")  # the full check only off the common path
    if check_value is not None:
        check_value(value, x)
    # a one-off walk: each value is freed once the walk has passed it (peak memory)
    grad = backward(out, release=True).get(leaf)
    if grad is None:
        return np.zeros_like(x)
    if type(grad) is np.ndarray and grad.dtype == np.float64 and grad.flags.writeable:
        # Rules return new arrays or views of them, never the caller's own data; only
        # read-only broadcast views need a copy.
        return grad
    return np.array(grad, dtype=np.float64)


def tape_size(f, x: np.ndarray) -> int:
    """Number of nodes the tape records for ``f`` at ``x`` (0 if f ignores x)."""
    out = f(Node(x), tape_namespace)
    return graph_size(out) if isinstance(out, Node) else 0


class TapeMethod(ExactMethod):
    name = "tape"

    def evaluations(self, dim):
        return 1  # one recorded evaluation, then the backward walk

    def prepare(self, f, dim):
        return PreparedGradient(
            lambda x: tape_gradient(f, x),
            graph_size=lambda x: tape_size(f, x),
            checked=lambda x, check_value: tape_gradient(f, x, check_value),
        )
