"""Phase 2 of the generator: the node table, with every argument moved into its domain.

The drafts of phase 1 are replayed children first.  Each node's enclosure over the box
is computed (:func:`~diffcompare.fuzz.domains.enclosure`); an argument whose enclosure
is not inside the operation's fuzz domain is replaced (a constant: by a value inside)
or wrapped (anything else: by a wrapper of :data:`~diffcompare.fuzz.domains.WRAPPERS`
drawn among those that fit; see :mod:`diffcompare.fuzz.domains` for the scheme).
"""

from __future__ import annotations

import math

import numpy as np

from .domains import FUZZ_DOMAINS, WRAPPERS, Wrapper, enclosure, inside, target_interval
from .expression import Node

__all__ = ["as_tuples", "fit_domains"]


class _Table:
    """Phase 2's growing node table with each node's enclosure."""

    def __init__(self) -> None:
        self.nodes: list[Node] = []
        self.intervals: list[tuple[float, float]] = []

    def add(self, node: Node, interval=None) -> int:
        if node.op == "constant":
            values = np.ravel(node.params[0])
            interval = (float(values.min()), float(values.max()))
        elif interval is None:
            interval = enclosure(
                node, [self.intervals[i] for i in node.args], [self.nodes[i].shape for i in node.args]
            )
        self.nodes.append(node)
        self.intervals.append(interval)
        return len(self.nodes) - 1

    def constant(self, value: float) -> int:
        return self.add(Node("constant", (), (), (value,)))

    def fits(self, start: int) -> bool:
        """Whether every node from ``start`` on has its arguments inside its fuzz domains."""
        for node in self.nodes[start:]:
            if node.op != "constant":
                domains = FUZZ_DOMAINS[node.op]
                if not all(inside(self.intervals[a], d) for a, d in zip(node.args, domains, strict=False)):
                    return False
        return True

    def truncate(self, length: int) -> None:
        del self.nodes[length:], self.intervals[length:]


def _affine(table: _Table, inner: int, scale: float, offset: float) -> int:
    """Append ``offset + scale * inner`` (omitting a scale of 1 and an offset of 0)."""
    shape = table.nodes[inner].shape
    if scale != 1.0:
        inner = table.add(Node("multiply", (table.constant(scale), inner), shape))
    if offset != 0.0:
        inner = table.add(Node("add", (table.constant(offset), inner), shape))
    return inner


def _apply_wrapper(table: _Table, wrapper: Wrapper, argument: int, domain) -> int | None:
    """Append ``wrapper`` around ``argument``; ``None`` (and nothing appended) if it cannot fit."""
    start = len(table.nodes)
    interval, shape = table.intervals[argument], table.nodes[argument].shape
    target = target_interval(domain)
    if wrapper.squash is not None:
        if not inside(interval, FUZZ_DOMAINS[wrapper.squash][0]):
            return None
        low, high = wrapper.squash_range
        # c + r g maps g's range onto the target; r rounded down and c to 2 decimals
        # keep the text short, and the check below catches any rounding outside.
        scale = math.floor(100.0 * (target[1] - target[0]) / (high - low)) / 100.0
        offset = round(0.5 * (target[0] + target[1]) - scale * 0.5 * (low + high), 2)
        result = _affine(table, table.add(Node(wrapper.squash, (argument,), shape)), scale, offset)
    elif wrapper.name == "square":
        squared = table.add(Node("multiply", (argument, argument), shape))
        result = _affine(table, squared, 1.0, math.ceil(100.0 * max(target[0], 0.01)) / 100.0)
    else:  # exp
        result = table.add(Node("exp", (argument,), shape))
    if table.fits(start) and inside(table.intervals[result], domain):
        return result
    table.truncate(start)
    return None


def _wrap(table: _Table, argument: int, domain, rng) -> int:
    """Move ``argument`` into ``domain`` with a wrapper drawn from those that fit."""
    arctan = next(w for w in WRAPPERS if w.name == "arctan")
    for i in rng.permutation(len(WRAPPERS)):
        result = _apply_wrapper(table, WRAPPERS[i], argument, domain)
        if result is not None:
            return result
    return _apply_wrapper(table, arctan, argument, domain)  # always fits (see domains)


def _fitted_constant(draft, domain, constant_values) -> Node:
    """``draft``'s constant with every value outside ``domain`` replaced by the first inside."""
    fallback = next(v for v in constant_values if inside((v, v), domain))
    values = np.array(draft.params[0], dtype=float)
    values = np.where((values >= domain[0]) & (values <= domain[1]), values, fallback)
    value = float(values) if values.ndim == 0 else as_tuples(values)
    return Node("constant", (), draft.shape, (value,))


def as_tuples(array: np.ndarray) -> tuple:
    """An array of one or more axes as nested tuples, the form constants take in a Node."""
    if array.ndim == 1:
        return tuple(array.tolist())
    return tuple(as_tuples(part) for part in array)


def fit_domains(drafts, dim: int, box, rng, constant_values) -> tuple[Node, ...]:
    """The node table of the drafts, children first, with wrappers where domains need them.

    Parameters
    ----------
    drafts : list
        The generator's drafts in creation order (``op``, ``shape``, ``params``,
        ``args``): x first, every other draft's arguments after it.
    dim : int
        Length of x.
    box : tuple of float
        Range of every coordinate of x.
    rng : numpy.random.Generator
        Draws the wrappers.
    constant_values : sequence of float
        Where a replacement for a constant outside its domain comes from.

    Returns
    -------
    tuple of Node
    """
    table = _Table()
    position: dict[int, int] = {}
    # Every draft but x has its arguments at larger positions (or at x, position 0):
    # x, then the others in reverse creation order, puts children before parents.
    for d in [0, *range(len(drafts) - 1, 0, -1)]:
        draft = drafts[d]
        if draft.op == "x":
            position[d] = table.add(Node("x", (), draft.shape), tuple(box))
            continue
        if draft.op == "constant":
            position[d] = table.add(Node("constant", (), draft.shape, draft.params))
            continue
        arguments = []
        for slot, draft_argument in enumerate(draft.args):
            argument, domain = position[draft_argument], FUZZ_DOMAINS[draft.op][slot]
            if inside(table.intervals[argument], domain):
                pass
            elif drafts[draft_argument].op == "constant":  # a constant is replaced, not wrapped
                argument = table.add(_fitted_constant(drafts[draft_argument], domain, constant_values))
            else:
                argument = _wrap(table, argument, domain, rng)
            arguments.append(argument)
        position[d] = table.add(Node(draft.op, tuple(arguments), draft.shape, draft.params))
    return tuple(table.nodes)
