"""Check an autograd primitive's ``defvjp`` (and ``defjvp``) rules with the oracle.

The primitive runs on float64 arrays; its registered VJPs are reached through
``autograd.make_vjp`` of the primitive applied to the flat ``x`` split into the inputs,
and checked against differences of the primitive.  With JVPs registered
(``defjvp``), ``autograd.make_jvp`` gives the JVP, checked against the VJP by the
dot-product test.
"""

from __future__ import annotations

import numpy as np

from ..oracle.result import GradCheckResult
from .flat import as_inputs, check_flat_vjp, layout

__all__ = ["check_primitive"]


def check_primitive(
    fun,
    *inputs,
    mode: str = "auto",
    directions: int = 3,
    rtol: float | None = None,
    atol: float | None = None,
    seed: int = 0,
) -> GradCheckResult:
    """Check the VJPs registered with ``defvjp`` for an autograd primitive at ``inputs``.

    Every input is differentiated (each needs a VJP: autograd raises
    ``NotImplementedError`` for a missing one); the output, an array or a scalar, is
    raveled, the inputs are raveled and concatenated.

    Parameters
    ----------
    fun : callable
        A function wrapped by ``autograd.extend.primitive``, with ``defvjp`` called.
    *inputs : array_like
        The point: real arrays, converted to float64.
    mode, directions, rtol, atol, seed
        As for :func:`~diffcompare.oracle.check_vjp` ("full", the default up to 100
        input entries, names a wrong entry: ``inputs[1][2]``).

    Returns
    -------
    GradCheckResult
        ``check == "VJP"``; with JVPs registered by ``defjvp``, JVPs that are not the
        adjoint of the VJPs fail too.  A note says what was checked.

    Raises
    ------
    TypeError
        If ``fun`` is not an autograd primitive or an input is not real.
    ValueError
        If ``fun`` has no VJP registered, there is no input, an input is empty or not
        finite, or an option is out of range.

    Examples
    --------
    >>> import numpy as np
    >>> from autograd.extend import defvjp, primitive
    >>> @primitive
    ... def cube(x):
    ...     return x**3
    >>> defvjp(cube, lambda ans, x: lambda g: 3 * x**2 * g)
    >>> check_primitive(cube, np.array([0.5, -2.0])).verdict
    'pass'
    """
    from autograd import make_jvp, make_vjp
    from autograd import numpy as anp
    from autograd.core import primitive_jvps, primitive_vjps

    if not getattr(fun, "_is_autograd_primitive", False):
        raise TypeError(f"fun must be an autograd primitive (autograd.extend.primitive); got {fun!r}")
    name = getattr(fun, "__name__", repr(fun))
    if not primitive_vjps.get(fun):
        raise ValueError(f"fun {name} has no VJP: register one with autograd.extend.defvjp")
    arrays = as_inputs(inputs)
    blocks = layout(arrays)

    def on_flat(x):
        # slicing and reshaping are autograd operations: J^T u comes back flat
        parts = [
            anp.reshape(x[start : start + size], shape)
            for start, size, shape in zip(blocks.offsets, blocks.sizes, blocks.shapes, strict=True)
        ]
        return anp.ravel(fun(*parts))

    def g(x):
        return np.asarray(on_flat(np.asarray(x)), dtype=np.float64)

    def vjp(x, u):
        backward, _ = make_vjp(on_flat)(np.asarray(x))
        return np.asarray(backward(u), dtype=np.float64)

    jvp = None
    if primitive_jvps.get(fun):

        def jvp(x, t):
            return np.asarray(make_jvp(on_flat)(np.asarray(x))(t)[1], dtype=np.float64)

    options = dict(mode=mode, directions=directions, rtol=rtol, atol=atol, seed=seed)
    subject = f"the defvjp rules of autograd primitive {name}"
    return check_flat_vjp(g, vjp, jvp, arrays, blocks, subject, **options)
