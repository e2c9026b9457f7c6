"""``diffcompare.jacobian``: the (m, n) Jacobian of ``g: R^n -> R^m`` by six methods.

Reverse methods (``"tape"``) record ``g`` once and walk back once per output with the
seed ``e_i``: m passes.  Forward methods (``"forward"``, ``"complex_step"``,
``"central"``) give columns: the dual numbers carry 64 directions per evaluation of
``g``, the complex step and the central difference one (two) per column.  ``"symbolic"``
compiles SymPy's m x n derivatives once per dimension; ``"autograd"`` is
``autograd.jacobian`` (one reverse pass per output).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..methods.central.difference import central_namespace, central_step
from ..methods.forward.dual import Dual
from ..methods.forward.method import CHUNK
from ..methods.forward.namespace import dual_namespace
from ..methods.tape.engine import Node, backward
from ..methods.tape.namespace import tape_namespace
from ..validation import as_point, check_callable, check_finite_vector
from .registry import PerDimension, choose

__all__ = ["JACOBIAN_METHODS", "jacobian"]

#: The imaginary step of the complex step: see :mod:`diffcompare.methods.complex_step.step`
#: (no subtraction, so any tiny step gives the same digits).
COMPLEX_STEP = 1e-100


def _vector(value, backend: str) -> np.ndarray:
    """``g``'s result as a 1-d float64 array (the shape was checked before any method ran)."""
    array = np.asarray(value, dtype=np.float64)
    if array.ndim != 1:
        raise ValueError(
            f"g must return a 1-d array; with the {backend} namespace it returned shape {array.shape}"
        )
    return array


def tape_record(g: Callable, x: np.ndarray):
    """``(leaf, out)``: ``g`` recorded on a fresh tape (``out`` is plain if g ignores x)."""
    leaf = Node(x)
    return leaf, g(leaf, tape_namespace)


def tape_pullback(leaf, out, seed: np.ndarray) -> np.ndarray:
    """``J^T seed`` by one backward walk of a recorded ``out`` from ``seed``."""
    if not isinstance(out, Node):
        return np.zeros(leaf.value.size)
    grad = backward(out, seed).get(leaf)
    return np.zeros(leaf.value.size) if grad is None else np.array(grad, dtype=np.float64)


def _tape(g: Callable, n: int) -> Callable:
    def jacobian_tape(x: np.ndarray) -> np.ndarray:
        leaf, out = tape_record(g, x)
        m = _vector(out.value if isinstance(out, Node) else out, "tape").size
        rows = np.empty((m, n))
        for i, seed in enumerate(np.eye(m)):  # one backward walk per output, the same tape
            rows[i] = tape_pullback(leaf, out, seed)
        return rows

    return jacobian_tape


def forward_push(g: Callable, x: np.ndarray, directions: np.ndarray) -> np.ndarray:
    """``J @ directions.T``, shape (m, k), by one dual-number evaluation of ``g``."""
    out = g(Dual(x, directions), dual_namespace)
    if not isinstance(out, Dual):  # g does not depend on x
        return np.zeros((_vector(out, "forward").size, len(directions)))
    _vector(out.value, "forward")
    return np.asarray(out.tangent, dtype=np.float64).T


def _forward(g: Callable, n: int) -> Callable:
    def jacobian_forward(x: np.ndarray) -> np.ndarray:
        identity = np.eye(n)
        # CHUNK columns per evaluation of g: rows start..stop-1 of the identity as tangents
        return np.hstack(
            [forward_push(g, x, identity[start : start + CHUNK]) for start in range(0, n, CHUNK)]
        )

    return jacobian_forward


def autograd_function(g: Callable) -> Callable:
    """``g`` as a function of ``x`` alone, traced by autograd with the autograd namespace."""
    from ..methods.autograd.namespace import as_traced, autograd_namespace

    return lambda x: g(as_traced(x), autograd_namespace)


def _autograd(g: Callable, n: int) -> Callable:
    import autograd  # imported when first used

    jac = autograd.jacobian(autograd_function(g))
    return lambda x: np.asarray(jac(x), dtype=np.float64).reshape(-1, n)


def _symbolic(g: Callable, n: int) -> Callable:
    from ..methods.symbolic.operators import compile_matrix, jacobian_expressions

    symbols, entries = jacobian_expressions(g, n)
    return compile_matrix(symbols, entries, len(entries) // n)


def complex_evaluator(g: Callable, name: str = "g") -> Callable[[np.ndarray], np.ndarray]:
    """``z -> g(z, xp)`` with the complex-step namespace: casts to real refused, 1-d required."""
    from ..methods.complex_step.fallback import complex_step_namespace
    from ..methods.complex_step.step import complex_values

    def evaluate(z: np.ndarray) -> np.ndarray:
        value = np.asarray(complex_values(lambda point: g(point, complex_step_namespace), z, name))
        if value.ndim != 1:
            raise ValueError(f"{name} must return a 1-d array; for complex x it returned shape {value.shape}")
        return value

    return evaluate


def complex_push(
    evaluate: Callable, x: np.ndarray, direction: np.ndarray | None = None, name: str = "g"
) -> np.ndarray:
    """The complex step of a vector function, checked: ``J`` (m, n), or ``J @ direction`` (m,).

    ``Im evaluate(x + i h e_k) / h`` per column (n evaluations), or one evaluation along
    ``direction``; exact up to rounding where the function is analytic (see
    :mod:`diffcompare.methods.complex_step.step` for the Taylor argument and its limits),
    then checked by
    :func:`~diffcompare.methods.complex_step.step.complex_step_derivative`: one more
    evaluation at about ``sqrt(h)`` along a random direction (or ``direction``), and one
    more a little away from ``x`` if a component's derivative came out exactly 0.

    Raises
    ------
    ValueError
        If the function cast a complex value to real, returned a real component that
        changes with ``x`` (the imaginary part that carries the derivative was
        dropped), or gives a result that depends on the step (a singularity or branch
        point within the step).
    """
    from ..methods.complex_step.step import complex_step_derivative

    return complex_step_derivative(evaluate, x, COMPLEX_STEP, direction, name)


def _complex_step(g: Callable, n: int) -> Callable:
    evaluate = complex_evaluator(g)
    return lambda x: complex_push(evaluate, x)


def central_columns(g: Callable, x: np.ndarray, xp=central_namespace) -> np.ndarray:
    """The Jacobian by central differences, ``2 n`` evaluations of ``g``.

    Column k is ``(g(x + h_k e_k) - g(x - h_k e_k)) / (2 h_k)`` with the gradient's step
    :func:`~diffcompare.methods.central.difference.central_step` (``cbrt(eps)
    max(1, |x_k|)``, balancing the ``h^2`` truncation against rounding), divided by the
    distance between the rounded points actually evaluated.
    """
    columns = []
    shifted = x.copy()
    for k, (xk, hk) in enumerate(zip(x, central_step(x), strict=True)):
        shifted[k] = xk + hk
        upper, g_upper = shifted[k], _vector(g(shifted, xp), xp.backend)
        shifted[k] = xk - hk
        lower, g_lower = shifted[k], _vector(g(shifted, xp), xp.backend)
        shifted[k] = xk
        columns.append((g_upper - g_lower) / (upper - lower))
    return np.column_stack(columns)


def _central(g: Callable, n: int) -> Callable:
    return lambda x: central_columns(g, x)


#: Method name -> ``prepare(g, n)`` returning ``x -> J``; the setup runs once per ``n``.
JACOBIAN_METHODS: dict[str, Callable] = {
    "tape": _tape,
    "forward": _forward,
    "autograd": _autograd,
    "symbolic": _symbolic,
    "complex_step": _complex_step,
    "central": _central,
}


def jacobian(g: Callable, method: str = "tape") -> Callable[[np.ndarray], np.ndarray]:
    """Return a function that computes the Jacobian of a vector-valued ``g(x, xp)``.

    Parameters
    ----------
    g : callable
        ``g(x, xp)``: a function of a float64 vector ``x`` (length n) returning a 1-d
        array of length m, written against the array namespace ``xp``.
    method : str
        A name in :data:`JACOBIAN_METHODS`: ``"tape"`` (one recording, m backward
        walks), ``"forward"`` (ceil(n / 64) dual-number evaluations), ``"autograd"``
        (``autograd.jacobian``), ``"symbolic"`` (SymPy, compiled once per n),
        ``"complex_step"`` (n complex evaluations and one probe) or ``"central"`` (2 n evaluations).

    Returns
    -------
    callable
        ``jacobian(x) -> numpy.ndarray`` of shape ``(m, n)``, float64.

    Raises
    ------
    TypeError
        If ``g`` is not callable or ``method`` is not a string, or (on call) ``x`` is
        not a float array or ``g(x)`` is not real.
    ValueError
        If ``method`` is unknown, or (on call) ``x`` is not a finite 1-d vector or
        ``g(x)`` (one numpy evaluation, before the method runs) is not a finite 1-d array;
        for ``"complex_step"``, if ``g`` drops the imaginary part (a cast to real, or a
        component that stays real and changes with ``x``) or a singularity or branch
        point lies within the step.

    Examples
    --------
    >>> import diffcompare
    >>> J = diffcompare.jacobian(lambda x, xp: xp.stack([x[0] * x[1], xp.sin(x[0])]))
    >>> J([0.0, 2.0])
    array([[2., 0.],
           [1., 0.]])
    """
    check_callable(g, "g")
    prepared = PerDimension(choose(JACOBIAN_METHODS, method, "jacobian"), g)

    def jacobian_of_g(x) -> np.ndarray:
        x = as_point(x)
        check_finite_vector(g, x)
        return prepared(x.size)(x)

    jacobian_of_g.__name__ = f"jacobian_{method}_{getattr(g, '__name__', 'g')}"
    return jacobian_of_g
