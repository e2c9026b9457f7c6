"""The ``xp.linalg`` operations in every method, against an independent 400-digit reference.

The reference differentiates nothing by rule: each test function is evaluated on
object arrays of mpmath numbers at 400 digits (:data:`MPMATH_LINALG`: mpmath's LU
solve, inverse, determinant, symmetric eigensolver and Cholesky factor; the other
operations from ``test_tape_rules.MPMATH_FORWARD``), and its gradient is a central
difference with step 1e-150 (truncation ~1e-300, rounding ~1e-250).  Every method's
gradient must agree to 1e-11 relative to the gradient's largest component (central
differences, which carry their own truncation error, to 1e-6).

Then the hard points, one test each: a singular matrix for ``det``, the zero vector and
ties for the norms, a repeated eigenvalue for ``eigh``, a negative determinant for
``slogdet``; the lower-triangle convention of ``cholesky`` and ``eigh``; and the
refusals by name.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from types import SimpleNamespace

import mpmath
import numpy as np
import pytest

import diffcompare
from diffcompare.ops.linalg import EighResult, SlogdetResult, make_norms
from diffcompare.ops.namespace import UnsupportedOperationError
from diffcompare.truth.reference import reference_gradient

# --- the independent reference ------------------------------------------------------------


def _mp(a) -> mpmath.matrix:
    return mpmath.matrix(np.asarray(a, dtype=object).tolist())


def _array(m: mpmath.matrix) -> np.ndarray:
    return np.array(m.tolist(), dtype=object)


def _stacked(build: Callable, *arrays, results: int = 1):
    """``build(*matrices)`` for each matrix of broadcast stacks; tuples for several results."""
    arrays = [np.asarray(a, dtype=object) for a in arrays]
    batch = np.broadcast_shapes(*(a.shape[:-2] for a in arrays))
    arrays = [np.broadcast_to(a, batch + a.shape[-2:]) for a in arrays]
    per_index = {index: build(*(a[index] for a in arrays)) for index in np.ndindex(batch)}
    outputs = []
    for part in range(results):
        values = {i: (v if results == 1 else v[part]) for i, v in per_index.items()}
        first = np.asarray(next(iter(values.values())), dtype=object)
        out = np.empty(batch + first.shape, dtype=object)
        for index, value in values.items():
            out[index] = value
        outputs.append(out[()] if out.ndim == 0 else out)
    return outputs[0] if results == 1 else tuple(outputs)


def _lu_solve(a, b):
    return np.stack([_array(mpmath.lu_solve(_mp(a), _mp(column))).ravel() for column in b.T], axis=1)


def _solve(a, b):
    vector = np.ndim(b) == 1
    x = _stacked(_lu_solve, a, np.asarray(b, dtype=object)[..., None] if vector else b)
    return x[..., 0] if vector else x


def _solve_triangular(a, b, *, lower=False):
    return _solve(np.tril(a) if lower else np.triu(a), b)


def _symmetric(a, lower=True):
    a = np.asarray(a, dtype=object)
    part = np.tril(a) if lower else np.triu(a)
    return part + np.swapaxes(np.tril(a, -1) if lower else np.triu(a, 1), -1, -2)


def _cholesky(a, *, upper=False):
    if upper:
        return np.swapaxes(_cholesky(np.swapaxes(np.asarray(a, dtype=object), -1, -2)), -1, -2)
    return _stacked(lambda m: _array(mpmath.cholesky(_mp(m))), _symmetric(a))


def _eigh(a, UPLO="L"):  # noqa: N803
    def one(m):
        values, vectors = mpmath.eigsy(_mp(m))
        order = sorted(range(len(values)), key=lambda i: values[i])
        w = np.array([values[i] for i in order], dtype=object)
        v = _array(vectors)[:, order]
        # eigenvectors have no sign of their own: take numpy's at the rounded matrix
        # (the same for every nearby point a difference visits)
        numpy_vectors = np.linalg.eigh(np.asarray(m, dtype=float))[1]
        signs = np.sign(np.sum(v.astype(float) * numpy_vectors, axis=0))
        return w, v * signs

    return EighResult(*_stacked(one, _symmetric(a, UPLO == "L"), results=2))


def _slogdet(a):
    d = np.asarray(_stacked(lambda m: mpmath.det(_mp(m)), a), dtype=object)
    return SlogdetResult(
        np.frompyfunc(mpmath.sign, 1, 1)(d), np.frompyfunc(lambda v: mpmath.log(abs(v)), 1, 1)(d)
    )


_ELEMENTWISE_MP = SimpleNamespace(
    sum=lambda x, axis=None, keepdims=False: np.sum(x, axis=axis, keepdims=keepdims),
    abs=np.frompyfunc(abs, 1, 1),
    max=lambda x, axis=None, keepdims=False: np.max(x, axis=axis, keepdims=keepdims),
    sqrt=np.frompyfunc(mpmath.sqrt, 1, 1),
    where=np.where,
    power=np.frompyfunc(lambda a, b: a**b, 2, 1),
    positive=lambda s: np.asarray(s > 0, dtype=bool),
)

# fmt: off
#: mpmath forward of the linalg operations, on object arrays of mpf (stacks loop).
MPMATH_LINALG = {
    "linalg.solve":            _solve,
    "linalg.solve_triangular": _solve_triangular,
    "linalg.inv":              lambda a: _stacked(lambda m: _array(mpmath.inverse(_mp(m))), a),
    "linalg.det":              lambda a: _stacked(lambda m: mpmath.det(_mp(m)), a),
    "linalg.slogdet":          _slogdet,
    "linalg.cholesky":         _cholesky,
    "linalg.eigh":             _eigh,
    **make_norms(_ELEMENTWISE_MP, None),
}
# fmt: on


class _MpmathNamespace:
    """``xp`` evaluating with mpmath: MPMATH_FORWARD's operations and MPMATH_LINALG's."""

    def __init__(self):
        from test_tape_rules import MPMATH_FORWARD

        self._ops = {**MPMATH_FORWARD, "sin": np.frompyfunc(mpmath.sin, 1, 1), "eye": np.eye}
        self.linalg = SimpleNamespace(**{k.split(".")[1]: v for k, v in MPMATH_LINALG.items()})

    def __getattr__(self, name):
        return self._ops[name]


def mpmath_gradient(f: Callable, x: np.ndarray) -> np.ndarray:
    """The gradient of ``f(x, xp)`` by 400-digit central differences (no derivative rule)."""
    xp = _MpmathNamespace()
    grad = np.empty(x.size)
    with mpmath.workdps(400):
        h = mpmath.mpf(10) ** -150
        base = np.array([mpmath.mpf(float(v)) for v in x], dtype=object)
        for k in range(x.size):
            up, down = base.copy(), base.copy()
            up[k] += h
            down[k] -= h
            grad[k] = float((f(up, xp) - f(down, xp)) / (2 * h))
    return grad


# --- the cases ----------------------------------------------------------------------------


def _weights(shape) -> np.ndarray:
    return 1.0 + np.arange(int(np.prod(shape))).reshape(shape) / 8.0


def _summed(value, xp):
    """``sum(sin(value) * weights)``: every element matters, each with its own weight."""
    return xp.sum(xp.sin(value) * _weights(np.shape(value)))


def _square(x, xp, shape, start=0, shift=3.0):
    """A stack of square matrices from ``x[start:]``, the diagonal shifted (well conditioned)."""
    size = int(np.prod(shape))
    return xp.reshape(x[start : start + size], shape) + shift * np.eye(shape[-1])


@dataclasses.dataclass(frozen=True)
class LinalgCase:
    """A test function of one linalg operation; ``skip``: methods that refuse it by design."""

    name: str
    f: Callable
    dim: int
    skip: tuple[str, ...] = ()
    seed: int = 0

    @property
    def point(self) -> np.ndarray:
        return np.random.default_rng(self.dim + self.seed).uniform(-1.0, 1.0, self.dim)

    def __str__(self) -> str:
        return self.name


_NO_EIGH = ("symbolic", "complex_step", "symengine")


def _case(name, dim, f, skip=()):
    return LinalgCase(name, f, dim, skip)


# fmt: off
CASES = [
    _case("solve A b",                12, lambda x, xp: _summed(xp.linalg.solve(_square(x, xp, (3, 3)), x[9:]), xp)),
    _case("solve A B",                15, lambda x, xp: _summed(xp.linalg.solve(_square(x, xp, (3, 3)), xp.reshape(x[9:], (3, 2))), xp)),
    _case("solve stack, 1-d b",       30, lambda x, xp: _summed(xp.linalg.solve(_square(x, xp, (3, 3, 3)), x[27:]), xp)),
    _case("solve stack, broadcast B", 24, lambda x, xp: _summed(xp.linalg.solve(_square(x, xp, (2, 3, 3)), xp.reshape(x[18:], (3, 2))), xp)),
    _case("solve_triangular lower b", 12, lambda x, xp: _summed(xp.linalg.solve_triangular(_square(x, xp, (3, 3)), x[9:], lower=True), xp)),
    _case("solve_triangular upper B", 24, lambda x, xp: _summed(xp.linalg.solve_triangular(_square(x, xp, (2, 3, 3)), xp.reshape(x[18:], (3, 2))), xp)),
    _case("inv",                       9, lambda x, xp: _summed(xp.linalg.inv(_square(x, xp, (3, 3))), xp)),
    _case("inv stack",                 8, lambda x, xp: _summed(xp.linalg.inv(_square(x, xp, (2, 2, 2))), xp)),
    _case("det",                       9, lambda x, xp: xp.sin(xp.linalg.det(_square(x, xp, (3, 3), shift=0.5)))),
    _case("det stack",                 8, lambda x, xp: _summed(xp.linalg.det(_square(x, xp, (2, 2, 2), shift=0.0)), xp)),
    _case("slogdet",                   9, lambda x, xp: xp.linalg.slogdet(_square(x, xp, (3, 3)))[1] + xp.linalg.slogdet(_square(x, xp, (3, 3)))[0]),
    _case("slogdet det < 0 stack",     8, lambda x, xp: _summed(xp.linalg.slogdet(_square(x, xp, (2, 2, 2), shift=-3.0)).logabsdet, xp)),
    _case("cholesky (lower read)",     9, lambda x, xp: _summed(xp.linalg.cholesky(_square(x, xp, (3, 3))), xp)),
    _case("cholesky upper",            9, lambda x, xp: _summed(xp.linalg.cholesky(_square(x, xp, (3, 3)), upper=True), xp)),
    _case("cholesky stack",            8, lambda x, xp: _summed(xp.linalg.cholesky(_square(x, xp, (2, 2, 2))), xp)),
    _case("eigh eigenvalues",          9, lambda x, xp: _summed(xp.linalg.eigh(_square(x, xp, (3, 3), shift=0.0)).eigenvalues, xp), _NO_EIGH),
    _case("eigh eigenvectors",         9, lambda x, xp: _summed(xp.linalg.eigh(_square(x, xp, (3, 3), shift=0.0))[1], xp), _NO_EIGH),
    _case("eigh UPLO=U stack",         8, lambda x, xp: _summed(xp.linalg.eigh(_square(x, xp, (2, 2, 2), shift=0.0), UPLO="U")[1], xp), _NO_EIGH),
    _case("norm",                      6, lambda x, xp: xp.sin(xp.linalg.norm(x))),
    _case("norm 3-d flattened",        8, lambda x, xp: xp.sin(xp.linalg.norm(xp.reshape(x, (2, 2, 2))))),
    _case("norm ord=1",                5, lambda x, xp: xp.sin(xp.linalg.norm(x, 1))),
    _case("norm ord=inf",              5, lambda x, xp: xp.sin(xp.linalg.norm(x, np.inf))),
    _case("norm ord=-inf",             5, lambda x, xp: xp.sin(xp.linalg.norm(x, -np.inf))),
    _case("norm ord=3 axis=1",         6, lambda x, xp: _summed(xp.linalg.norm(xp.reshape(x, (2, 3)), 3, axis=1), xp)),
    _case("norm ord=0.5 keepdims",     6, lambda x, xp: _summed(xp.linalg.norm(xp.reshape(x, (2, 3)), 0.5, axis=0, keepdims=True), xp)),
    _case("norm fro",                  6, lambda x, xp: xp.sin(xp.linalg.norm(xp.reshape(x, (2, 3)), "fro"))),
    _case("norm ord=1 axis=(2,0)",    12, lambda x, xp: _summed(xp.linalg.norm(xp.reshape(x, (2, 3, 2)), 1, axis=(2, 0)), xp)),
    _case("norm ord=-inf matrix",      6, lambda x, xp: xp.sin(xp.linalg.norm(xp.reshape(x, (2, 3)), -np.inf))),
    _case("vector_norm axes keepdims", 12, lambda x, xp: _summed(xp.linalg.vector_norm(xp.reshape(x, (2, 3, 2)), axis=(0, 2), keepdims=True), xp)),
    _case("vector_norm ord=inf",      12, lambda x, xp: _summed(xp.linalg.vector_norm(xp.reshape(x, (4, 3)), axis=-1, ord=np.inf), xp)),
    _case("matrix_norm stack",        12, lambda x, xp: _summed(xp.linalg.matrix_norm(xp.reshape(x, (2, 3, 2))), xp)),
    _case("matrix_norm ord=inf",      12, lambda x, xp: _summed(xp.linalg.matrix_norm(xp.reshape(x, (2, 3, 2)), ord=np.inf, keepdims=True), xp)),
    _case("matrix_norm ord=-1",       12, lambda x, xp: _summed(xp.linalg.matrix_norm(xp.reshape(x, (2, 2, 3)), ord=-1), xp)),
]
# fmt: on

#: Methods checked against the reference at 1e-11, and central differences at 1e-6.
EXACT = ("tape", "forward", "autograd", "complex_step")
RTOL = {"exact": 1e-11, "central": 1e-6}


@functools.cache
def _reference(case: LinalgCase) -> np.ndarray:
    return mpmath_gradient(case.f, case.point)


def _assert_close(got, expected, rtol, what):
    error = np.max(np.abs(got - expected))
    scale = np.max(np.abs(expected))
    assert error <= rtol * scale, f"{what}: error {error:.3g} (scale {scale:.3g})\n{got}\n{expected}"


@pytest.mark.parametrize("case", CASES, ids=str)
@pytest.mark.parametrize("method", EXACT)
def test_every_exact_method_against_the_400_digit_reference(method, case):
    if method in case.skip:
        pytest.skip(f"{method} refuses it by design (see the refusal tests)")
    got = diffcompare.grad(case.f, method=method)(case.point)
    _assert_close(got, _reference(case), RTOL["exact"], method)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_central_differences_agree(case):
    got = diffcompare.central_difference(case.f, case.point)
    _assert_close(got, _reference(case), RTOL["central"], "central")


#: One small case per operation for the SymPy methods (their traces grow fast with size;
#: the inf norms' ties make a Piecewise per pair of elements: 25 s for 5 elements).
SYMPY_CASES = [
    c
    for c in CASES
    if "symbolic" not in c.skip and c.dim <= 9 and "stack" not in c.name and "inf" not in c.name
]


@pytest.mark.parametrize("case", SYMPY_CASES, ids=str)
def test_symbolic_and_the_50_digit_truth_against_the_reference(case):
    expected = _reference(case)
    truth = reference_gradient(case.f, case.point)
    assert truth.status == "ok", truth.message
    _assert_close(truth.value, expected, 1e-14, "truth")
    _assert_close(
        diffcompare.grad(case.f, method="symbolic")(case.point), expected, RTOL["exact"], "symbolic"
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    "case", [c for c in CASES if c not in SYMPY_CASES and "symbolic" not in c.skip], ids=str
)
def test_symbolic_on_stacks_and_larger_cases(case):
    _assert_close(
        diffcompare.grad(case.f, method="symbolic")(case.point), _reference(case), RTOL["exact"], "symbolic"
    )


def test_the_reference_catches_a_wrong_rule(monkeypatch):
    # Test the tester: the cotangent of b transposed (A^{-1} g, not A^{-T} g) must fail.
    from diffcompare.methods.tape import linalg_rules, rules

    def wrong(g, ans, a, b):
        return np.linalg.solve(a, g)

    monkeypatch.setitem(rules.RULES, "linalg.solve", (linalg_rules.solve_matrix, wrong))
    case = CASES[0]
    with pytest.raises(AssertionError):
        _assert_close(diffcompare.grad(case.f, "tape")(case.point), _reference(case), RTOL["exact"], "tape")


# --- hard points ----------------------------------------------------------------------------

_ALL = ("tape", "forward", "autograd", "complex_step", "symbolic")


@pytest.mark.parametrize("method", ["tape", "forward", "complex_step", "symbolic"])
def test_det_at_a_singular_matrix_is_the_adjugate(method):
    # det is a polynomial: at a singular A its gradient adj(A)^T is finite.  For
    # A = [[1, 2], [2, 4]] (rank 1), adj(A)^T = [[4, -2], [-2, 1]]; det(A) inv(A)^T would
    # be 0 * inf.  (autograd's rule is det * inv(A)^T: it cannot.)
    got = diffcompare.grad(lambda x, xp: xp.linalg.det(xp.reshape(x, (2, 2))), method)(
        np.array([1.0, 2, 2, 4])
    )
    # to rounding; the complex step's LU meets a pivot that is 0 up to rounding, so its
    # imaginary part keeps fewer digits there
    rtol = 1e-13 if method == "complex_step" else 1e-15
    np.testing.assert_allclose(got, [4.0, -2.0, -2.0, 1.0], rtol=rtol, atol=0)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # symbolic: numpy.select evaluates the unused branch
@pytest.mark.parametrize("method", _ALL)
@pytest.mark.parametrize(
    "norm",
    [
        lambda x, xp: xp.linalg.norm(x),
        lambda x, xp: xp.linalg.vector_norm(x, ord=3),
        lambda x, xp: xp.linalg.norm(xp.reshape(x, (2, 2)), "fro"),
        lambda x, xp: xp.linalg.norm(x, 1) + xp.linalg.norm(x, np.inf),
    ],
    ids=["2", "3", "fro", "1+inf"],
)
def test_norms_at_the_zero_vector_have_the_subgradient_zero(method, norm):
    got = diffcompare.grad(norm, method)(np.zeros(4))
    np.testing.assert_array_equal(got, np.zeros(4))
    assert reference_gradient(norm, np.zeros(4)).value.tolist() == [0.0] * 4


@pytest.mark.parametrize("method", _ALL)
def test_tied_maxima_share_the_derivative(method):
    # |x| ties at 2 between x0 = -2 and x2 = 2: each gets half, with its sign; the
    # largest column sum of [[1, -2], [3, 2]] ties (4 and 4): each column gets half.
    x = np.array([-2.0, 1.0, 2.0, 0.5])
    got = diffcompare.grad(lambda x, xp: xp.linalg.norm(x, np.inf), method)(x)
    np.testing.assert_array_equal(got, [-0.5, 0.0, 0.5, 0.0])
    m = np.array([1.0, -2.0, 3.0, 2.0])
    got = diffcompare.grad(lambda x, xp: xp.linalg.norm(xp.reshape(x, (2, 2)), 1), method)(m)
    np.testing.assert_array_equal(got, [0.5, -0.5, 0.5, 0.5])


@pytest.mark.parametrize("method", ["tape", "forward", "autograd"])
def test_eigenvalues_at_a_repeated_eigenvalue_are_differentiable(method):
    # eigh(I + [[0, 0], [0, 0]]): the eigenvalues' derivative exists (sum of squares: 2 A).
    got = diffcompare.grad(lambda x, xp: xp.sum(xp.linalg.eigh(xp.reshape(x, (2, 2)))[0] ** 2), method)(
        np.array([1.0, 0.0, 0.0, 1.0])
    )
    np.testing.assert_array_equal(got, [2.0, 0.0, 0.0, 2.0])


@pytest.mark.parametrize("method", ["tape", "forward"])
def test_eigenvectors_at_a_repeated_eigenvalue_are_refused_by_name(method):
    def f(x, xp):
        return xp.sum(xp.linalg.eigh(xp.reshape(x, (2, 2))).eigenvectors ** 3)

    with pytest.raises(
        UnsupportedOperationError, match=r"eigenvectors of 'linalg.eigh' at a matrix with a repeated"
    ):
        diffcompare.grad(f, method)(np.array([1.0, 0.0, 0.0, 1.0]))


@pytest.mark.parametrize(
    ("method", "message"),
    [
        ("symbolic", r"the SymPy trace .* does not support 'linalg.eigh'"),
        ("complex_step", r"complex_step does not support 'linalg.eigh': numpy's complex eigh is Hermitian"),
    ],
)
def test_methods_without_eigh_refuse_it_by_name(method, message):
    with pytest.raises(NotImplementedError, match=message):
        diffcompare.grad(lambda x, xp: xp.sum(xp.linalg.eigh(xp.reshape(x, (2, 2)))[0]), method)(
            np.array([2.0, 0.5, 0.5, 1.0])
        )


@pytest.mark.parametrize("op", [name for name in diffcompare.ops.OPS if name.startswith("linalg.")])
def test_the_vectorised_symbolic_form_refuses_each_by_name(op):
    # (Called directly: grad evaluates f with numpy first, which needs real matrices.)
    from diffcompare.methods.symbolic_vector.namespace import VectorTrace, sympy_vector_namespace

    x = VectorTrace(4).input()
    with pytest.raises(
        NotImplementedError,
        match=f"symbolic_vector does not support '{op}': the vectorised form cannot express it",
    ):
        getattr(sympy_vector_namespace.linalg, op.split(".")[1])(x)


def test_the_truth_reports_eigh_as_an_error_with_the_reason():
    truth = reference_gradient(lambda x, xp: xp.sum(xp.linalg.eigh(xp.reshape(x, (2, 2)))[0]), np.ones(4))
    assert truth.status == "error" and "linalg.eigh" in truth.message


@pytest.mark.parametrize("method", ["tape", "forward", "complex_step", "symbolic"])
def test_spectral_norms_are_refused_by_name(method):
    with pytest.raises(NotImplementedError, match=r"'linalg.norm'.*ord=2|ord=2.*singular values"):
        diffcompare.grad(lambda x, xp: xp.linalg.norm(xp.reshape(x, (2, 2)), 2), method)(np.arange(1.0, 5.0))


@pytest.mark.parametrize("method", _ALL)
def test_one_triangle_is_read(method):
    # cholesky reads the lower triangle, as numpy: the strictly upper entry has
    # derivative 0.  For A = [[a, u], [l, d]], sum(L) = sqrt(a) + l / sqrt(a) + sqrt(d - l^2 / a).
    def f(x, xp):
        return xp.sum(xp.linalg.cholesky(xp.reshape(x, (2, 2))))

    a, u, lo, d = 4.0, 100.0, 2.0, 9.0
    root = np.sqrt(d - lo * lo / a)
    expected = [
        1 / (2 * np.sqrt(a)) - lo / (2 * a**1.5) + lo * lo / (a * a) / (2 * root),
        0.0,
        1 / np.sqrt(a) - lo / (a * root),
        1 / (2 * root),
    ]
    got = diffcompare.grad(f, method)(np.array([a, u, lo, d]))
    np.testing.assert_allclose(got, expected, rtol=1e-14)


@pytest.mark.parametrize("method", ["tape", "forward", "autograd"])
def test_numpy_linalg_functions_on_traced_values_are_the_operations(method):
    # np.linalg.solve(traced, b) reaches xp.linalg.solve through __array_function__.
    case = CASES[0]

    def f(x, xp):
        return _summed(np.linalg.solve(_square(x, xp, (3, 3)), x[9:]), xp) + np.linalg.norm(x, 1)

    expected = mpmath_gradient(lambda x, xp: case.f(x, xp) + xp.linalg.norm(x, 1), case.point)
    _assert_close(diffcompare.grad(f, method)(case.point), expected, RTOL["exact"], method)


def test_numpy_namespace_values_are_numpys():
    rng = np.random.default_rng(5)
    from diffcompare.ops.numpy_namespace import numpy_namespace as xp

    a, b = rng.standard_normal((2, 3, 3)) + 3 * np.eye(3), rng.standard_normal(3)
    np.testing.assert_allclose(xp.linalg.solve(a, b), np.linalg.solve(a, b[:, None])[..., 0], rtol=1e-14)
    np.testing.assert_allclose(
        xp.linalg.cholesky(a, upper=True), np.linalg.cholesky(a, upper=True), rtol=1e-14
    )
    x = rng.standard_normal((3, 4, 5))
    for ordinal in (None, 1, 2, np.inf, -np.inf, 3, 0.5, 0):
        np.testing.assert_allclose(
            xp.linalg.norm(x, ordinal, axis=1), np.linalg.norm(x, ordinal, axis=1), rtol=1e-14
        )
    for ordinal in ("fro", 1, -1, np.inf, -np.inf, 2, -2, "nuc"):
        np.testing.assert_allclose(
            xp.linalg.norm(x, ordinal, axis=(2, 0)), np.linalg.norm(x, ordinal, axis=(2, 0)), rtol=1e-14
        )
        np.testing.assert_allclose(
            xp.linalg.matrix_norm(x, ord=ordinal), np.linalg.matrix_norm(x, ord=ordinal), rtol=1e-14
        )
    np.testing.assert_allclose(
        xp.linalg.vector_norm(x, axis=(0, 2), ord=3), np.linalg.vector_norm(x, axis=(0, 2), ord=3), rtol=1e-14
    )


@pytest.mark.parametrize("method", ["tape", "forward", "autograd", "complex_step", "symbolic"])
def test_a_stack_whose_batch_equals_the_matrix_size_with_a_1d_b(method):
    # a (3, 3, 3) with b (3,): numpy 2 treats b as a vector; a rule that treated the
    # cotangent (3, 3) as a matrix would be silently wrong exactly when batch == size.
    case = CASES[2]
    _assert_close(diffcompare.grad(case.f, method)(case.point), _reference(case), RTOL["exact"], method)
