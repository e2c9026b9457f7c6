"""Named parameter blocks: how a flat ``x`` is laid out, so components read ``W1[3, 17]``.

A model's parameters are usually several arrays (weights, biases) concatenated into the
one vector the oracle checks, ``np.concatenate([W1.ravel(), b1, W2.ravel(), b2])``.
:class:`ParameterBlocks` records that layout (names and shapes, in order, each block in
C order) and turns a flat index back into the name a user knows.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping

import numpy as np

__all__ = ["ParameterBlocks"]


class ParameterBlocks:
    """Names and shapes of the blocks of a flat parameter vector, in order.

    Block ``i`` occupies ``x[offsets[i] : offsets[i] + sizes[i]]``, raveled in C order
    (the layout of ``np.concatenate([W.ravel(), b.ravel(), ...])``).  A block of shape
    ``()`` is a scalar; a block with a zero in its shape is empty.

    Build one with :meth:`from_shapes`.

    Attributes
    ----------
    names : tuple of str
    shapes : tuple of tuple of int
    sizes : tuple of int
        Elements per block.
    offsets : tuple of int
        Where each block starts in the flat vector.
    size : int
        Elements in all.

    Examples
    --------
    >>> blocks = ParameterBlocks.from_shapes({"W": (2, 3), "b": (3,), "scale": ()})
    >>> blocks.size
    10
    >>> blocks.name(4), blocks.name(7), blocks.name(9)
    ('W[1, 1]', 'b[1]', 'scale')
    """

    __slots__ = ("names", "shapes", "sizes", "offsets", "size", "_ends")

    def __init__(self, names: tuple[str, ...], shapes: tuple[tuple[int, ...], ...]):
        self.names = names
        self.shapes = shapes
        self.sizes = tuple(int(np.prod(shape, dtype=np.int64)) for shape in shapes)
        self.offsets = tuple(int(v) for v in np.cumsum((0, *self.sizes))[:-1])
        self.size = sum(self.sizes)
        self._ends = np.cumsum(self.sizes, dtype=np.int64)

    @classmethod
    def from_shapes(cls, shapes, size: int | None = None) -> ParameterBlocks:
        """Check ``shapes`` (a dict name -> shape, in order) and build the layout.

        Parameters
        ----------
        shapes : dict of str to tuple of int
            Each block's name and shape, in the order the blocks are concatenated;
            ``()`` for a scalar.
        size : int, optional
            The length of the flat vector: the block sizes must sum to it.

        Returns
        -------
        ParameterBlocks

        Raises
        ------
        TypeError
            If ``shapes`` is not a dict, a name is not a str, or a shape is not a tuple
            of integers.
        ValueError
            If ``shapes`` is empty, a name is empty, a size is negative, or the sizes do
            not sum to ``size``.

        Examples
        --------
        >>> ParameterBlocks.from_shapes({"W": (2, 2), "b": (2,)}, size=5)
        Traceback (most recent call last):
        ValueError: shapes describe 6 values (W (2, 2): 4, b (2,): 2), but x has 5 components
        """
        if not isinstance(shapes, Mapping):
            raise TypeError(
                "shapes must be a dict name -> shape, such as {'W': (3, 2), 'b': (2,)}; "
                f"got {type(shapes).__name__}"
            )
        if not shapes:
            raise ValueError("shapes must name at least one block; got an empty dict")
        names, checked = [], []
        for name, shape in shapes.items():
            if not isinstance(name, str):
                raise TypeError(f"shapes must have str names; got {name!r} ({type(name).__name__})")
            if not name:
                raise ValueError("shapes must have non-empty names; got ''")
            if not isinstance(shape, tuple) or not all(
                isinstance(n, numbers.Integral) and not isinstance(n, bool) for n in shape
            ):
                hint = f"; write ({shape},) for a vector" if isinstance(shape, numbers.Integral) else ""
                raise TypeError(
                    f"shapes[{name!r}] must be a tuple of ints, () for a scalar; got {shape!r}{hint}"
                )
            if any(n < 0 for n in shape):
                raise ValueError(f"shapes[{name!r}] must have non-negative sizes; got {shape!r}")
            names.append(name)
            checked.append(tuple(int(n) for n in shape))
        blocks = cls(tuple(names), tuple(checked))
        if size is not None and blocks.size != size:
            parts = ", ".join(
                f"{n} {s}: {c}" for n, s, c in zip(blocks.names, blocks.shapes, blocks.sizes, strict=True)
            )
            raise ValueError(f"shapes describe {blocks.size} values ({parts}), but x has {size} components")
        return blocks

    def locate(self, flat_index: int) -> tuple[str, tuple[int, ...]]:
        """The block and the index inside it of component ``flat_index`` of ``x``.

        Raises
        ------
        IndexError
            If ``flat_index`` is not in ``0 .. size - 1``.

        Examples
        --------
        >>> ParameterBlocks.from_shapes({"W": (2, 3), "b": (3,)}).locate(5)
        ('W', (1, 2))
        """
        if not 0 <= flat_index < self.size:
            raise IndexError(f"flat index {flat_index} is outside 0 .. {self.size - 1}")
        # the first block that ends after flat_index; empty blocks end where they start
        block = int(np.searchsorted(self._ends, flat_index, side="right"))
        inner = np.unravel_index(flat_index - self.offsets[block], self.shapes[block])
        return self.names[block], tuple(int(i) for i in inner)

    def name(self, flat_index: int) -> str:
        """Component ``flat_index`` of ``x`` as the user names it: ``"W1[3, 17]"``, ``"b[2]"``, ``"scale"``.

        Examples
        --------
        >>> ParameterBlocks.from_shapes({"W1": (784, 128), "b1": (128,)}).name(3 * 128 + 17)
        'W1[3, 17]'
        """
        block, inner = self.locate(flat_index)
        return f"{block}[{', '.join(str(i) for i in inner)}]" if inner else block

    def unflatten(self, x) -> dict[str, np.ndarray]:
        """The blocks of a flat ``x``, each reshaped (views of ``x`` when it is an array).

        Raises
        ------
        ValueError
            If ``x`` is not 1-d of length :attr:`size`.

        Examples
        --------
        >>> blocks = ParameterBlocks.from_shapes({"W": (2, 2), "b": (2,)})
        >>> blocks.unflatten(np.arange(6.0))["W"]
        array([[0., 1.],
               [2., 3.]])
        """
        array = np.asarray(x)
        if array.shape != (self.size,):
            raise ValueError(f"x must have shape ({self.size},) to unflatten; got shape {array.shape}")
        return {
            name: array[start : start + size].reshape(shape)
            for name, shape, start, size in zip(
                self.names, self.shapes, self.offsets, self.sizes, strict=True
            )
        }

    def __repr__(self) -> str:
        return f"ParameterBlocks.from_shapes({dict(zip(self.names, self.shapes, strict=True))!r})"
