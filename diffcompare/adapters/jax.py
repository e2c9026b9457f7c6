"""Check the custom derivative rule of a ``jax.custom_vjp`` or ``jax.custom_jvp`` function.

Everything runs in float64 (inside jax's ``enable_x64`` context, so the caller's
setting is left alone).  The VJP is ``jax.vjp`` of the function, which uses the rule a
``custom_vjp`` registered with ``defvjp`` (and, for a ``custom_jvp``, the transpose of
its ``defjvp`` rule); it is checked against differences of the function.  A
``custom_jvp`` also has a forward-mode JVP, checked against the VJP by the dot-product
test.
"""

from __future__ import annotations

import numpy as np

from ..oracle.result import GradCheckResult
from .flat import as_inputs, check_flat_vjp, layout, split

__all__ = ["check_custom_derivative"]


def _float64():
    """jax's context that computes in float64, wherever this jax version keeps it."""
    import jax

    if hasattr(jax, "enable_x64"):
        return jax.enable_x64(True)
    from jax.experimental import enable_x64

    return enable_x64()


def check_custom_derivative(
    fun,
    *inputs,
    mode: str = "auto",
    directions: int = 3,
    rtol: float | None = None,
    atol: float | None = None,
    seed: int = 0,
) -> GradCheckResult:
    """Check the rule of a ``jax.custom_vjp`` (or ``jax.custom_jvp``) function at ``inputs``.

    Every input is differentiated; the outputs (an array or a pytree of arrays) and the
    inputs are raveled and concatenated.

    Parameters
    ----------
    fun : jax.custom_vjp or jax.custom_jvp
        The decorated function, with ``defvjp`` (or ``defjvp``) called.
    *inputs : array_like
        The point: real arrays, converted to float64.
    mode, directions, rtol, atol, seed
        As for :func:`~diffcompare.oracle.check_vjp` ("full", the default up to 100
        input entries, names a wrong entry: ``inputs[1][2]``).

    Returns
    -------
    GradCheckResult
        ``check == "VJP"``; a note says what was checked.

    Raises
    ------
    TypeError
        If ``fun`` is not a ``custom_vjp`` or ``custom_jvp`` function, an input is not
        real, or an output is not floating point.
    ValueError
        If there is no input, an input is empty or not finite, or an option is out of
        range.

    Examples
    --------
    Not run by the doctests, jax being optional (tests/test_adapter_jax.py runs such checks):

    >>> import jax, jax.numpy as jnp  # doctest: +SKIP
    >>> @jax.custom_vjp  # doctest: +SKIP
    ... def cube(x):
    ...     return x**3
    >>> cube.defvjp(lambda x: (x**3, x), lambda x, g: (3 * x**2 * g,))  # doctest: +SKIP
    >>> check_custom_derivative(cube, [0.5, -2.0]).verdict  # doctest: +SKIP
    'pass'
    """
    import jax

    kinds = (jax.custom_vjp, jax.custom_jvp)
    if not isinstance(fun, kinds):
        raise TypeError(f"fun must be a jax.custom_vjp or jax.custom_jvp function; got {fun!r}")
    arrays = as_inputs(inputs)
    blocks = layout(arrays)
    name = getattr(fun, "__name__", repr(fun))

    def parts(x):
        return [jax.numpy.asarray(a, dtype=jax.numpy.float64) for a in split(np.asarray(x), blocks)]

    def leaves(tree) -> list:
        found = jax.tree_util.tree_leaves(tree)
        for k, leaf in enumerate(found):
            if not jax.numpy.issubdtype(jax.numpy.result_type(leaf), jax.numpy.floating):
                raise TypeError(f"output {k} of {name} must be floating point")
        return found

    def flat(tree) -> np.ndarray:
        return np.concatenate([np.asarray(leaf, dtype=np.float64).ravel() for leaf in leaves(tree)])

    def g(x):
        with _float64():
            return flat(fun(*parts(x)))

    def vjp(x, u):
        with _float64():
            out, backward = jax.vjp(fun, *parts(x))
            shapes = [np.shape(leaf) for leaf in leaves(out)]
            ends = np.cumsum([int(np.prod(s, dtype=np.int64)) for s in shapes])[:-1]
            pieces = [jax.numpy.asarray(c.reshape(s)) for c, s in zip(np.split(u, ends), shapes, strict=True)]
            cotangent = jax.tree_util.tree_unflatten(jax.tree_util.tree_structure(out), pieces)
            return flat(backward(cotangent))

    jvp = None
    if isinstance(fun, jax.custom_jvp):

        def jvp(x, t):
            with _float64():
                return flat(jax.jvp(fun, tuple(parts(x)), tuple(parts(t)))[1])

    options = dict(mode=mode, directions=directions, rtol=rtol, atol=atol, seed=seed)
    kind = "custom_vjp" if isinstance(fun, jax.custom_vjp) else "custom_jvp"
    return check_flat_vjp(g, vjp, jvp, arrays, blocks, f"the rule of jax.{kind} {name}", **options)
