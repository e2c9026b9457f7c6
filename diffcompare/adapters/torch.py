"""Check a ``torch.autograd.Function``'s ``backward`` (and ``jvp``) with the oracle.

The Function's ``forward`` runs on float64 tensors; ``backward`` is reached through
``torch.autograd.grad`` (so ``ctx`` and saved tensors work as in training) and checked
as a VJP against differences of the forward; a ``jvp`` the class defines is checked
against ``backward`` by the dot-product test, through ``torch.autograd.forward_ad``.
"""

from __future__ import annotations

import numpy as np

from ..oracle.result import GradCheckResult
from .flat import as_inputs, check_flat_vjp, layout, split

__all__ = ["check_function"]


def _values(part, like) -> np.ndarray:
    """A gradient or tangent as a flat float array; ``None`` (torch's zero) as zeros."""
    return np.zeros(like.numel()) if part is None else part.detach().numpy().ravel()


def check_function(
    fn_class,
    *inputs,
    mode: str = "auto",
    directions: int = 3,
    rtol: float | None = None,
    atol: float | None = None,
    seed: int = 0,
) -> GradCheckResult:
    """Check the ``backward`` of a ``torch.autograd.Function`` subclass at ``inputs``.

    Every input is differentiated; the outputs (a tensor or a tuple of tensors) and the
    inputs are raveled and concatenated, so ``J`` is the Jacobian of all outputs with
    respect to all inputs.  A ``None`` gradient from ``backward`` counts as zero.

    Parameters
    ----------
    fn_class : type
        A subclass of ``torch.autograd.Function`` (called through ``fn_class.apply``).
    *inputs : torch.Tensor or array_like
        The point: real arrays, converted to float64 tensors.
    mode, directions, rtol, atol, seed
        As for :func:`~diffcompare.oracle.check_vjp` ("full", the default up to 100
        input entries, names a wrong entry: ``inputs[1][0, 2]``).

    Returns
    -------
    GradCheckResult
        ``check == "VJP"``; with a ``jvp`` on the class, a ``jvp`` that is not the
        adjoint of ``backward`` fails too.  A note says what was checked.

    Raises
    ------
    TypeError
        If ``fn_class`` is not a Function subclass, an input is not real, or an output
        is not a floating-point tensor.
    ValueError
        If there is no input, an input is empty or not finite, or an option is out of
        range.

    Examples
    --------
    Not run by the doctests, torch being optional (tests/test_adapter_torch.py runs such checks):

    >>> import torch  # doctest: +SKIP
    >>> class Cube(torch.autograd.Function):  # doctest: +SKIP
    ...     @staticmethod
    ...     def forward(ctx, x):
    ...         ctx.save_for_backward(x)
    ...         return x**3
    ...     @staticmethod
    ...     def backward(ctx, grad):
    ...         (x,) = ctx.saved_tensors
    ...         return 3 * x**2 * grad
    >>> check_function(Cube, torch.tensor([0.5, -2.0])).verdict  # doctest: +SKIP
    'pass'
    """
    import torch

    if not (isinstance(fn_class, type) and issubclass(fn_class, torch.autograd.Function)):
        raise TypeError(f"fn_class must be a subclass of torch.autograd.Function; got {fn_class!r}")
    arrays = as_inputs(inputs, (torch.Tensor,))
    blocks = layout(arrays)

    def tensors(x, **kwargs):
        return [torch.tensor(a, dtype=torch.float64, **kwargs) for a in split(np.asarray(x), blocks)]

    def outputs(result) -> tuple:
        found = result if isinstance(result, tuple) else (result,)
        for k, out in enumerate(found):
            if not (isinstance(out, torch.Tensor) and out.is_floating_point()):
                raise TypeError(f"output {k} of {fn_class.__name__} must be a floating-point tensor")
        return found

    def flat(parts, like) -> np.ndarray:
        # a missing (None) gradient or tangent is zero
        pieces = zip(parts, like, strict=True)
        return np.concatenate([_values(p, r) for p, r in pieces])

    def g(x):
        with torch.no_grad():
            return np.concatenate([out.numpy().ravel() for out in outputs(fn_class.apply(*tensors(x)))])

    def vjp(x, u):
        leaves = tensors(x, requires_grad=True)
        with torch.enable_grad():
            found = outputs(fn_class.apply(*leaves))
        sizes = np.cumsum([out.numel() for out in found])[:-1]
        pieces = zip(np.split(u, sizes), found, strict=True)
        cotangents = [torch.tensor(c.reshape(out.shape)) for c, out in pieces]
        grads = torch.autograd.grad(found, leaves, cotangents, allow_unused=True)
        return flat(grads, leaves)

    jvp = None
    if fn_class.jvp is not torch.autograd.Function.jvp:

        def jvp(x, t):
            import torch.autograd.forward_ad as fwad

            primals, tangents = tensors(x), tensors(t)
            with fwad.dual_level():
                duals = [fwad.make_dual(p, d) for p, d in zip(primals, tangents, strict=True)]
                found = outputs(fn_class.apply(*duals))
                unpacked = [fwad.unpack_dual(out) for out in found]
                return flat([u.tangent for u in unpacked], [u.primal for u in unpacked])

    options = dict(mode=mode, directions=directions, rtol=rtol, atol=atol, seed=seed)
    subject = f"torch.autograd.Function {fn_class.__name__}.backward"
    return check_flat_vjp(g, vjp, jvp, arrays, blocks, subject, **options)
