"""Methods that only evaluate f run on what numpy runs; tracing methods refuse by name.

Central differences and Richardson take numpy's own function for any name outside the
op table; the complex step only the functions listed as analytic continuations
(:data:`~diffcompare.methods.complex_step.fallback.ANALYTIC`), each checked here against
Richardson differences.  Values are checked against closed forms written without the
function under test (QR through the determinant, the real DFT through its cosine
matrix, polyval through powers).
"""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
from conftest import HAVE_SYMENGINE

import diffcompare
from diffcompare.methods import METHODS
from diffcompare.methods.complex_step.fallback import ANALYTIC, NOT_ANALYTIC, complex_step_namespace
from diffcompare.methods.richardson.ladder import richardson_difference
from diffcompare.ops.fallback import numpy_fallback, numpy_member
from diffcompare.ops.namespace import UnsupportedOperationError
from diffcompare.truth.accuracy import normwise_relative_error

EVALUATING = ("central", "richardson")
TRACING = (
    "tape",
    "forward",
    "autograd",
    "symbolic",
    "symbolic_vector",
    *(("symengine",) if HAVE_SYMENGINE else ()),
)


def qr_determinant_squared(x, xp):
    # (r00 r11)^2 = det(A)^2: the gradient is 2 det(A)^2 A^-T, no QR needed to check it
    _, r = xp.linalg.qr(xp.reshape(x, (2, 2)))
    return (r[0, 0] * r[1, 1]) ** 2


def qr_determinant_squared_gradient(x):
    a = x.reshape(2, 2)
    return (2.0 * np.linalg.det(a) ** 2 * np.linalg.inv(a).T).ravel()


def real_dft_energy(x, xp):
    return xp.sum(xp.fft.fft(x).real ** 2)


def real_dft_energy_gradient(x):
    # Re fft(x) = C x with C_kj = cos(2 pi k j / n): the gradient of |C x|^2 is 2 C^T C x
    n = x.size
    c = np.cos(2.0 * np.pi * np.outer(np.arange(n), np.arange(n)) / n)
    return 2.0 * c.T @ (c @ x)


def polynomial(x, xp):
    # the coefficients are x (at t = 0.7) and x is the argument of a fixed cubic
    return xp.polyval(x, 0.7) + xp.sum(xp.polyval(xp.asarray([1.0, -2.0, 0.5, 3.0]), x))


def polynomial_gradient(x):
    n = x.size
    return 0.7 ** np.arange(n - 1, -1, -1.0) + (3.0 * x**2 - 4.0 * x + 0.5)


CASES = {
    "linalg.qr": (qr_determinant_squared, qr_determinant_squared_gradient, [1.5, -0.5, 0.25, 2.0]),
    "fft.fft": (real_dft_energy, real_dft_energy_gradient, [0.5, -1.0, 2.0, 0.25, 1.5]),
    "polyval": (polynomial, polynomial_gradient, [0.5, -1.0, 2.0]),
}


@pytest.mark.parametrize("method", EVALUATING)
@pytest.mark.parametrize("name", list(CASES))
def test_difference_methods_run_numpy_functions_outside_the_table(name, method):
    f, gradient, point = CASES[name]
    x = np.array(point)
    got = diffcompare.grad(f, method)(x)
    assert normwise_relative_error(got, gradient(x)) <= METHODS[method].accuracy


@pytest.mark.parametrize("name", list(CASES))
def test_every_tracing_method_refuses_them_naming_itself_and_the_operation(name):
    f, _, point = CASES[name]
    for method in TRACING:
        # symbolic traces numpy's polyval on its object arrays (a polynomial of its own
        # symbols), which is no refusal; xp.fft itself is no module of the op table
        if method in ("symbolic", "symengine") and name == "polyval":
            continue
        op = "fft" if name == "fft.fft" else name
        with pytest.raises(UnsupportedOperationError, match=rf"^{method} does not support '{op}'"):
            diffcompare.grad(f, method)(np.array(point))


def test_numpy_functions_called_on_traced_values_are_refused_the_same_way():
    def f(x, xp):
        return np.sum(np.polyval(x, 0.7))

    for method in ("tape", "forward", "autograd", "symbolic_vector"):
        with pytest.raises(UnsupportedOperationError, match=rf"^{method} does not support 'numpy.polyval'"):
            diffcompare.grad(f, method)(np.array([0.5, 2.0]))


def test_layouts_reach_numpy_functions_unchanged():
    # transposed, Fortran-ordered and strided operands inside f: numpy's own solve and det
    def f(x, xp):
        a = xp.reshape(x[:4], (2, 2))
        b = xp.asarray(np.asfortranarray(np.array([[1.0, 2.0], [3.0, 5.0]])))
        return xp.linalg.det(a.T @ b) + xp.sum(xp.linalg.solve(a.T, x[4::2]))

    x = np.array([2.0, 0.5, -1.0, 3.0, 1.0, 9.0, -2.0])
    exact = diffcompare.grad(f, "complex_step")(x)
    for method in EVALUATING:
        got = diffcompare.grad(f, method)(x)
        assert normwise_relative_error(got, exact) <= METHODS[method].accuracy


def test_names_numpy_lacks_are_refused_by_the_method():
    for method in EVALUATING:
        with pytest.raises(UnsupportedOperationError, match=rf"^{method} does not support 'linalg.nope'"):
            diffcompare.grad(lambda x, xp: xp.linalg.nope(x), method)(np.array([1.0]))


@pytest.mark.skipif(importlib.util.find_spec("scipy") is None, reason="xp.special comes from scipy")
def test_special_functions_come_from_scipy():
    from scipy.special import erf

    got = diffcompare.grad(lambda x, xp: xp.sum(xp.special.erf(x)), "richardson")(np.array([0.5, -1.0]))
    expected = 2.0 / np.sqrt(np.pi) * np.exp(-(np.array([0.5, -1.0]) ** 2))
    assert normwise_relative_error(got, expected) <= METHODS["richardson"].accuracy
    assert numpy_fallback.special.erf is erf


# --- the complex step: analytic continuations only --------------------------------------

# One use of every name in ANALYTIC, at a point away from kinks and branch cuts.
# fmt: off
ANALYTIC_USES = {
    "square":      lambda x, xp: xp.sum(xp.square(x)),
    "reciprocal":  lambda x, xp: xp.sum(xp.reciprocal(x)),
    "exp2":        lambda x, xp: xp.sum(xp.exp2(x)),
    "log2":        lambda x, xp: xp.sum(xp.log2(x)),
    "log10":       lambda x, xp: xp.sum(xp.log10(x)),
    "arctanh":     lambda x, xp: xp.sum(xp.arctanh(x / 4.0)),
    "arccosh":     lambda x, xp: xp.sum(xp.arccosh(x + 1.5)),
    "sinc":        lambda x, xp: xp.sum(xp.sinc(x)),
    "prod":        lambda x, xp: xp.prod(x),
    "cumsum":      lambda x, xp: xp.sum(xp.cumsum(x) ** 2),
    "cumprod":     lambda x, xp: xp.sum(xp.cumprod(x)),
    "diff":        lambda x, xp: xp.sum(xp.diff(x) ** 2),
    "polyval":     polynomial,
    "trace":       lambda x, xp: xp.trace(xp.reshape(x, (2, 2)) @ xp.reshape(x, (2, 2))),
    "outer":       lambda x, xp: xp.sum(xp.outer(x, x**2) ** 2),
    "inner":       lambda x, xp: xp.inner(x, x**2),
    "kron":        lambda x, xp: xp.sum(xp.kron(x, x) ** 3),
    "tensordot":   lambda x, xp: xp.sum(xp.tensordot(xp.reshape(x, (2, 2)), xp.reshape(x, (2, 2)), 1) ** 2),
    "einsum":      lambda x, xp: xp.einsum("ij,jk->", xp.reshape(x, (2, 2)), xp.reshape(x**2, (2, 2))),
    "convolve":    lambda x, xp: xp.sum(xp.convolve(x, x**2) ** 2),
    "cross":       lambda x, xp: xp.sum(xp.cross(x[:3], x[1:]) ** 2),
    "trapezoid":   lambda x, xp: xp.trapezoid(x**3),
    "diag":        lambda x, xp: xp.sum(xp.diag(x) @ xp.diag(x**2)),
    "diagonal":    lambda x, xp: xp.sum(xp.diagonal(xp.reshape(x, (2, 2))) ** 3),
    "triu":        lambda x, xp: xp.sum(xp.triu(xp.reshape(x, (2, 2))) ** 3),
    "tril":        lambda x, xp: xp.sum(xp.tril(xp.reshape(x, (2, 2))) ** 3),
    "flip":        lambda x, xp: xp.sum(xp.flip(x) * x**2),
    "roll":        lambda x, xp: xp.sum(xp.roll(x, 1) * x**2),
    "squeeze":     lambda x, xp: xp.sum(xp.squeeze(xp.reshape(x, (1, 4))) ** 3),
    "expand_dims": lambda x, xp: xp.sum(xp.expand_dims(x, 0) ** 3),
    "swapaxes":    lambda x, xp: xp.sum(xp.swapaxes(xp.reshape(x, (2, 2)), 0, 1)[0] ** 3),
    "moveaxis":    lambda x, xp: xp.sum(xp.moveaxis(xp.reshape(x, (2, 2)), 0, 1)[0] ** 3),
    "tile":        lambda x, xp: xp.sum(xp.tile(x, 2) * xp.arange(8.0)),
    "repeat":      lambda x, xp: xp.sum(xp.repeat(x, 2) * xp.arange(8.0)),
    "ravel":       lambda x, xp: xp.sum(xp.ravel(xp.reshape(x, (2, 2)).T) * xp.arange(4.0)),
    "broadcast_to": lambda x, xp: xp.sum(xp.broadcast_to(x, (3, 4)) ** 3),
    "atleast_1d":  lambda x, xp: xp.sum(xp.atleast_1d(x[0]) * x[1]),
    "atleast_2d":  lambda x, xp: xp.sum(xp.atleast_2d(x) ** 3),
    "vstack":      lambda x, xp: xp.sum(xp.vstack([x, x**2]) ** 2),
    "hstack":      lambda x, xp: xp.sum(xp.hstack([x, x**2]) ** 2),
    "linalg.solve": lambda x, xp: xp.sum(xp.linalg.solve(xp.reshape(x, (2, 2)), x[:2])),
    "linalg.inv":  lambda x, xp: xp.sum(xp.linalg.inv(xp.reshape(x, (2, 2))) ** 2),
    "linalg.det":  lambda x, xp: xp.linalg.det(xp.reshape(x, (2, 2)).T),
    "linalg.tensorsolve": lambda x, xp: xp.sum(xp.linalg.tensorsolve(xp.reshape(x, (2, 2)), x[2:])),
    "linalg.tensorinv": lambda x, xp: xp.sum(xp.linalg.tensorinv(xp.reshape(x, (2, 2)), 1)),
    "linalg.matrix_power": lambda x, xp: xp.sum(xp.linalg.matrix_power(xp.reshape(x, (2, 2)), 3)),
    "linalg.multi_dot": lambda x, xp: xp.sum(xp.linalg.multi_dot([xp.reshape(x, (2, 2))] * 3)),
    "linalg.outer": lambda x, xp: xp.sum(xp.linalg.outer(x, x**2) ** 2),
    "linalg.cross": lambda x, xp: xp.sum(xp.linalg.cross(x[:3], x[1:]) ** 2),
    "linalg.trace": lambda x, xp: xp.linalg.trace(xp.reshape(x, (2, 2)) @ xp.reshape(x, (2, 2))),
    "linalg.diagonal": lambda x, xp: xp.sum(xp.linalg.diagonal(xp.reshape(x, (2, 2))) ** 3),
    "linalg.matrix_transpose": lambda x, xp: xp.sum(xp.linalg.matrix_transpose(xp.reshape(x, (2, 2)))[0]),
    "linalg.matmul": lambda x, xp: xp.sum(xp.linalg.matmul(xp.reshape(x, (2, 2)), xp.reshape(x**2, (2, 2)))),
}
# fmt: on

POINT = np.array([1.3, 0.6, 0.45, 2.1])


def test_every_listed_name_exists_in_numpy_and_has_a_use_here():
    assert set(ANALYTIC_USES) == set(ANALYTIC)
    assert all(numpy_member(name) is not None for name in (*ANALYTIC, *NOT_ANALYTIC))
    assert not set(ANALYTIC) & set(NOT_ANALYTIC)


@pytest.mark.parametrize("name", sorted(ANALYTIC))
def test_the_complex_step_of_a_listed_function_agrees_with_richardson(name):
    f = ANALYTIC_USES[name]
    got = diffcompare.grad(f, "complex_step")(POINT)
    differences, error = richardson_difference(f, POINT)
    # Richardson's own estimate bounds its error; the complex step adds rounding only
    allowance = np.max(error) + 1e-13 * np.max(np.abs(differences))
    assert np.max(np.abs(got - differences)) <= allowance, (got, differences, error)


@pytest.mark.parametrize(
    ("f", "op", "why"),
    [
        (qr_determinant_squared, "linalg.qr", "conjugate transposes"),
        (
            lambda x, xp: xp.sum(xp.linalg.svdvals(xp.reshape(x, (2, 2)))),
            "linalg.svdvals",
            "conjugate transposes",
        ),
        (lambda x, xp: xp.abs(xp.angle(x[0] - 3.0)), "angle", "moduli"),
        (real_dft_energy, "fft.fft", "complex for real input"),
        (lambda x, xp: xp.sum(xp.real(x)), "real", "imaginary part is the derivative's carrier"),
        (lambda x, xp: xp.vdot(x, x), "vdot", "conjugates"),
        (lambda x, xp: xp.median(x) * x[0], "median", "not known to be the analytic"),
    ],
)
def test_the_complex_step_refuses_the_others_naming_itself_the_op_and_why(f, op, why):
    with pytest.raises(UnsupportedOperationError, match=rf"^complex_step does not support '{op}': .*{why}"):
        diffcompare.grad(f, "complex_step")(POINT)


def test_a_refused_numpy_function_is_still_there_for_the_difference_methods():
    with pytest.raises(UnsupportedOperationError):
        _ = complex_step_namespace.linalg.qr
    assert numpy_fallback.linalg.qr is np.linalg.qr
    assert numpy_fallback.sin is diffcompare.ops.numpy_namespace.numpy_namespace.sin
