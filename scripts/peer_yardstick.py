"""The peer yardstick (issue 14): which gradients that autograd's own tests check can diffcompare take?

:data:`TABLE` lists every distinct function or construct whose gradient autograd's test
suite checks in the files of :data:`PEER_FILES`, at commit :data:`PEER_COMMIT` of
HIPS/autograd: one record per line, with the numpy/scipy name, a call on real float64
inputs (shapes, keywords, a domain where the function is smooth), a category and the
peer tests it comes from.  The same function checked by two tests is one record;
distinct constructs the peer tests separately (``var`` with ``ddof``, ``norm`` with
``ord=3``, batched ``solve``, ties in ``max``) are separate records.  Where one peer test
sweeps keyword combinations, the record uses its most demanding one (an axis rather
than none, ``keepdims=True``).  The peer checks first and second derivatives; the
yardstick compares first derivatives only.

Each record's call is a Python expression in ``F`` (the function under test), ``m``
(the array module) and the inputs ``a, b, c, ...``, run in two worlds:

* the peer: ``F`` is autograd's version (``numpy.var`` -> ``autograd.numpy.var``,
  ``scipy.special.gammaln`` -> ``autograd.scipy.special.gammaln``), ``m`` is
  ``autograd.numpy``, and ``autograd.grad`` gives the reference;
* diffcompare: ``F`` is the xp twin (``numpy.X`` -> ``xp.X``, ``numpy.linalg.X`` ->
  ``xp.linalg.X``, ``numpy.fft.X`` -> ``xp.fft.X``, ``scipy.special.X`` -> ``xp.X``, other
  ``scipy.mod.X`` -> ``xp.mod.X``; a record may name another twin where the Array API
  spells the same function differently), ``m`` is ``xp``, and ``diffcompare.grad(f,
  method)`` differentiates under ``tape``, ``forward`` and ``central``.

The inputs are packed into one float64 vector ``x`` and reshaped inside ``f``; the
output (an array, a tuple of arrays, or a complex array as its real and imaginary
parts) is reduced to a scalar by ``sum(w * out)`` with seeded weights ``w``.  Points,
weights and constants come from seeds derived from each record's key, so every run and
every subset of records gives the same numbers.

Status of a record, worst method first:

``wrong``
    a method returned a gradient off autograd's by more than :data:`TOLERANCE`
    (normwise relative error): a bug to report.
``error``
    a method raised something other than a named refusal (a ``TypeError`` for a
    missing operator, say): the construct is unsupported *and* not refused by name.
``refused``
    a method raised ``NotImplementedError`` (diffcompare's
    ``UnsupportedOperationError``) naming what it lacks.
``direct``
    all three methods agree with autograd.
``not_applicable``
    the peer's check needs what a gradient of ``f(x, xp)`` cannot express (complex
    input, a second derivative, autograd's own API), or the peer itself fails here.

Usage: ``python scripts/peer_yardstick.py [--out reports] [--only KEY_OR_NAME ...]``
writes ``reports/peer_yardstick.csv`` and prints a summary paragraph (``--only`` keeps
the records with these keys, ``"numpy.var [ddof=2]"``, or names, ``"numpy.var"``).
"""

from __future__ import annotations

import argparse
import builtins
import csv
import functools
import importlib
import io
import warnings
import zlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import autograd
import autograd.builtins
import autograd.numpy as anp
import numpy as np

import diffcompare
from diffcompare.harness.report import atomic_write

#: The HIPS/autograd commit whose tests the table records (2026-08-04).
PEER_COMMIT = "bff107b8d71a444a1160deade3e1cbd0b92f4fa6"

#: Short names of the peer's test files used in :attr:`PeerEntry.tests`.
PEER_FILES = {
    "sys": "tests/test_systematic.py",
    "num": "tests/test_numpy.py",
    "lin": "tests/test_linalg.py",
    "sci": "tests/test_scipy.py",
    "fft": "tests/test_fft.py",
    "sca": "tests/test_scalar_ops.py",
    "bin": "tests/test_binary_ops.py",
}

#: Largest normwise relative error from autograd's gradient that still agrees.  Exact
#: methods differ from autograd by rounding only (a few ulps times the conditioning of
#: the rule); central differences carry truncation ~ eps^(2/3) ~ 4e-11 relative plus
#: curvature, so 1e-5 leaves room without hiding a wrong rule.
TOLERANCE = {"tape": 1e-8, "forward": 1e-8, "central": 1e-5}

CATEGORIES = (
    "elementwise",
    "reduction",
    "shape/indexing",
    "linalg",
    "special function",
    "distribution",
    "FFT/complex",
    "other",
)
ELEM, RED, SHAPE, LIN, SPEC, DIST, FFT, OTHER = CATEGORIES

STATUSES = ("direct", "refused", "error", "wrong", "not_applicable")

#: Statuses from best to worst: a record takes its worst method's.
SEVERITY = ("direct", "refused", "error", "wrong")

#: Prefixes of names that are functions: resolved in autograd for the peer (numpy,
#: scipy) or used as they are in both worlds (operator, builtins).
FUNCTION_MODULES = ("numpy", "scipy", "operator", "builtins")

#: Characters of a refusal or error message kept in the CSV and the summary.
MESSAGE_CHARS = 200


@dataclass(frozen=True)
class Domain:
    """Where an input is drawn: ``uniform`` on [lo, hi], ``fixed`` at lo, or a matrix family.

    ``spd``: G G^T / n + I with G uniform on [-1, 1] (symmetric positive definite, well
    conditioned); ``dominant``: uniform on [-1, 1] plus lo times the identity (invertible);
    ``simplex``: a Dirichlet(2, ..., 2) draw (positive, summing to 1).  Matrix families
    act on the last two axes, so a leading axis is a batch.
    """

    kind: str
    lo: float = 0.0
    hi: float = 0.0

    def sample(self, rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
        if self.kind == "uniform":
            return rng.uniform(self.lo, self.hi, shape)
        if self.kind == "fixed":
            return np.full(shape, self.lo)
        if self.kind == "simplex":
            return rng.dirichlet(np.full(shape[-1], 2.0), shape[:-1])
        n = shape[-1]
        if self.kind == "spd":
            g = rng.uniform(-1.0, 1.0, shape)
            return g @ np.swapaxes(g, -1, -2) / n + np.eye(n)
        if self.kind == "dominant":
            return rng.uniform(-1.0, 1.0, shape) + self.lo * np.eye(n)
        raise ValueError(f"unknown domain kind {self.kind!r}")

    def __str__(self) -> str:
        return {
            "uniform": f"[{self.lo:g}, {self.hi:g}]",
            "fixed": f"= {self.lo:g}",
            "spd": "SPD",
            "dominant": f"U[-1, 1] + {self.lo:g} I",
            "simplex": "simplex",
        }[self.kind]


def U(lo: float, hi: float) -> Domain:
    """Uniform on [lo, hi]."""
    return Domain("uniform", lo, hi)


def AT(value: float) -> Domain:
    """A fixed point (a kink, a tie, a special value the peer checks)."""
    return Domain("fixed", value)


STD = U(-2.0, 2.0)  # autograd's default test interval
POS = U(1.1, 4.0)  # autograd's R**2 + 1.1 for positive parameters
SPD = Domain("spd")
DOM = Domain("dominant", 4.0)
SIMPLEX = Domain("simplex")


@dataclass(frozen=True)
class Arg:
    """One differentiated input: its shape and where it is drawn."""

    shape: tuple[int, ...]
    domain: Domain

    def __str__(self) -> str:
        return f"{self.shape} in {self.domain}"


def A(*shape: int, on: Domain = STD) -> Arg:
    """An input of ``shape`` drawn from ``on`` (``A()`` is a scalar)."""
    return Arg(tuple(shape), on)


@dataclass(frozen=True)
class PeerEntry:
    """One function or construct whose gradient the peer's tests check.

    Parameters
    ----------
    name : str
        The numpy/scipy name (``"numpy.var"``), a Python operator or builtin
        (``"operator.mod"``), or a construct written as code (``"x[3, 0, 1]"``,
        ``"ndarray.T"``).
    variant : str
        What tells this construct from others of the same name (``"ddof=2"``).
    category : str
        One of :data:`CATEGORIES`.
    args : tuple of Arg
        The differentiated inputs, bound to ``a, b, c, ...`` in ``call``.
    call : str
        Python expression in ``F``, ``m``, the inputs and the names of
        :data:`CALL_NAMES`.
    tests : str
        The peer tests, ``file:test`` with the short file names of :data:`PEER_FILES`.
    twin : str, optional
        The xp spelling when it differs from the rule (``"asarray"`` for ``numpy.array``).
    skip : str, optional
        Why the record is ``not_applicable``; such records have no call.
    """

    name: str
    variant: str
    category: str
    args: tuple[Arg, ...]
    call: str
    tests: str
    twin: str | None = None
    skip: str = ""
    params: tuple[str, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        object.__setattr__(self, "params", tuple("abcdefgh"[: len(self.args)]))

    @property
    def key(self) -> str:
        return f"{self.name} [{self.variant}]" if self.variant else self.name

    @property
    def seed(self) -> int:
        return zlib.crc32(self.key.encode())


def E(name, variant, category, args, call, tests, **options) -> PeerEntry:
    """A record; ``args`` may be a single :class:`Arg`."""
    return PeerEntry(
        name, variant, category, (args,) if isinstance(args, Arg) else tuple(args), call, tests, **options
    )


def NA(name, variant, category, tests, reason) -> PeerEntry:
    """A record the yardstick cannot express as a gradient of ``f(x, xp)``."""
    return PeerEntry(name, variant, category, (), "", tests, skip=reason)


# ---------------------------------------------------------------------------------------
# Names a call may use besides F, m and its inputs: helpers written with m, and constants
# (seeded by their own name, so adding one does not move the others).


def constant(name: str, shape, lo: float = -2.0, hi: float = 2.0) -> np.ndarray:
    return np.random.default_rng(zlib.crc32(name.encode())).uniform(lo, hi, shape)


def sym(m, a):
    """(a + a^T) / 2 over the last two axes: the peer's way to keep a matrix symmetric."""
    order = (*range(a.ndim - 2), a.ndim - 1, a.ndim - 2)
    return 0.5 * (a + m.transpose(a, order))


def checked(condition, value):
    """``value`` if ``condition`` holds (a peer test asserts it inside f), else ValueError."""
    if not condition:
        raise ValueError("a property the peer test asserts inside f does not hold")
    return value


def moduli(m, parts):
    """Elementwise moduli of every array in ``parts`` (eig's complex results made real)."""
    return tuple(m.abs(p) for p in parts)


def ode_rhs(m):
    """The peer's test ODE, dy/dt = -sqrt(t) - y + p - mean((y + q)^2)."""
    return lambda y, t, p, q: -m.sqrt(t) - y + p - m.mean((y + q) ** 2)


def ode_args(m, *arrays):
    """odeint's parameter tuple; autograd differentiates through its own tuple type only."""
    return autograd.builtins.tuple(arrays) if m is anp else arrays


_ALPHA4 = constant("ALPHA4", 4, 1.2, 2.2)
CALL_NAMES = {
    "np": np,
    "sym": sym,
    "checked": checked,
    "moduli": moduli,
    "ode_rhs": ode_rhs,
    "ode_args": ode_args,
    "C443": constant("C443", (4, 4, 3)),
    "C5": constant("C5", 5, 0.5, 1.5),
    "C32": constant("C32", (3, 2)),
    "C232": constant("C232", (2, 3, 2)),
    "C4": constant("C4", 4),
    "Z4": constant("Z4", 4),
    "COND45": constant("COND45", (4, 5)) > 0,
    "CONDS": [constant(f"COND23_{i}", (2, 3)) > 0 for i in range(3)],
    "NONFINITE": np.array([0.0, np.nan, np.inf, -np.inf]),
    "A44": constant("A44", (4, 4), -1.0, 1.0) + 4.0 * np.eye(4),
    "B43": constant("B43", (4, 3)),
    "B4": constant("B4", 4),
    "B54": constant("B54", (5, 4)),
    "B342": constant("B342", (3, 4, 2)),
    "W34": np.exp(constant("W34", (3, 4))),
    "P4": constant("P4", 4, 1.1, 4.0),
    "Q4": constant("Q4", 4, 1.1, 4.0),
    "K43": np.round(constant("K43", (4, 3), 0.0, 4.0)),
    "DF13": constant("DF13", (1, 3), 2.1, 5.0),
    "SCALE41": constant("SCALE41", (4, 1), 1.1, 4.0),
    "V4": constant("V4", 4, 1.0, 50.0),
    "ALPHA4": _ALPHA4,
    "X4": np.random.default_rng(zlib.crc32(b"X4")).dirichlet(_ALPHA4),
    "SINGULAR_COV": np.diag([1.0, 1.0, 0.0, 0.0]),
    "BAND_SHIFT": np.array([[0.0] * 5, [4.0] * 5, [0.0] * 5]),
    "T_ODE": np.linspace(0.1, 0.2, 4),
}

# ---------------------------------------------------------------------------------------
# The table.  Unary ufuncs take the peer's (3, 2) matrix on its interval, binary ones a
# (3, 2) and a broadcast (1, 2) operand; reductions and shape functions the peer's shapes,
# made small where the size does not matter (central differences cost 2 n calls).

_COMPLEX = "complex input: f(x, xp) takes a real vector"

# fmt: off
TABLE: tuple[PeerEntry, ...] = (
    # --- elementwise, one argument
    E("numpy.sin",          "", ELEM, A(3, 2),                      "F(a)", "sys:test_sin sca:test_sin"),
    E("numpy.abs",          "", ELEM, A(3, 2, on=U(0.1, 4)),        "F(a)", "sys:test_abs sys:test_absolute sca:test_abs sca:test_absolute"),
    E("numpy.abs",          "at the kink 0", ELEM, A(on=AT(0.0)),   "F(a)", "sca:test_abs sca:test_absolute"),
    E("numpy.arccosh",      "", ELEM, A(3, 2, on=U(1.1, 4)),        "F(a)", "sys:test_arccosh sca:test_arccosh"),
    E("numpy.arcsinh",      "", ELEM, A(3, 2, on=U(-0.9, 0.9)),     "F(a)", "sys:test_arcsinh sca:test_arcsinh"),
    E("numpy.arctanh",      "", ELEM, A(3, 2, on=U(-0.9, 0.9)),     "F(a)", "sys:test_arctanh sca:test_arctanh"),
    E("numpy.arccos",       "", ELEM, A(3, 2, on=U(-0.9, 0.9)),     "F(a)", "sca:test_arccos"),
    E("numpy.arcsin",       "", ELEM, A(3, 2, on=U(-0.9, 0.9)),     "F(a)", "sca:test_arcsin"),
    E("numpy.arctan",       "", ELEM, A(3, 2),                      "F(a)", "sca:test_arctan"),
    E("numpy.ceil",         "", ELEM, A(3, 2, on=U(-1.5, 1.5)),     "F(a)", "sys:test_ceil"),
    E("numpy.floor",        "", ELEM, A(3, 2, on=U(-1.5, 1.5)),     "F(a)", "sys:test_floor"),
    E("numpy.sign",         "", ELEM, A(3, 2),                      "F(a)", "sys:test_sign sca:test_sign"),
    E("numpy.cos",          "", ELEM, A(3, 2),                      "F(a)", "sys:test_cos sca:test_cos"),
    E("numpy.tan",          "", ELEM, A(3, 2, on=U(-1.1, 1.1)),     "F(a)", "sys:test_tan sca:test_tan"),
    E("numpy.sinh",         "", ELEM, A(3, 2),                      "F(a)", "sys:test_sinh sca:test_sinh"),
    E("numpy.cosh",         "", ELEM, A(3, 2),                      "F(a)", "sys:test_cosh sca:test_cosh"),
    E("numpy.tanh",         "", ELEM, A(3, 2),                      "F(a)", "sys:test_tanh sca:test_tanh"),
    E("numpy.deg2rad",      "", ELEM, A(3, 2),                      "F(a)", "sys:test_deg2rad sca:test_deg2rad"),
    E("numpy.radians",      "", ELEM, A(3, 2),                      "F(a)", "sys:test_radians sca:test_radians"),
    E("numpy.rad2deg",      "", ELEM, A(3, 2),                      "F(a)", "sys:test_rad2deg sca:test_rad2deg"),
    E("numpy.degrees",      "", ELEM, A(3, 2),                      "F(a)", "sys:test_degrees sca:test_degrees"),
    E("numpy.exp",          "", ELEM, A(3, 2),                      "F(a)", "sys:test_exp sca:test_exp"),
    E("numpy.exp2",         "", ELEM, A(3, 2),                      "F(a)", "sys:test_exp2 sca:test_exp2"),
    E("numpy.expm1",        "", ELEM, A(3, 2),                      "F(a)", "sys:test_expm1 sca:test_expm1"),
    E("numpy.log",          "", ELEM, A(3, 2, on=U(0.2, 2)),        "F(a)", "sys:test_log sca:test_log"),
    E("numpy.log2",         "", ELEM, A(3, 2, on=U(0.2, 2)),        "F(a)", "sys:test_log2 sca:test_log2"),
    E("numpy.log10",        "", ELEM, A(3, 2, on=U(0.2, 2)),        "F(a)", "sys:test_log10 sca:test_log10"),
    E("numpy.log1p",        "", ELEM, A(3, 2, on=U(0.2, 2)),        "F(a)", "sys:test_log1p sca:test_log1p"),
    E("numpy.sqrt",         "", ELEM, A(3, 2, on=U(1, 3)),          "F(a)", "sys:test_sqrt sca:test_sqrt"),
    E("numpy.square",       "", ELEM, A(3, 2),                      "F(a)", "sys:test_square"),
    E("numpy.fabs",         "", ELEM, A(3, 2),                      "F(a)", "sys:test_fabs"),
    E("numpy.negative",     "", ELEM, A(3, 2),                      "F(a)", "sca:test_negative"),
    E("operator.neg",       "", ELEM, A(3, 2),                      "F(a)", "sca:test_neg"),
    E("numpy.reciprocal",   "", ELEM, A(3, 2, on=U(0.1, 1)),        "F(a)", "sca:test_reciprocal"),
    E("numpy.sinc",         "", ELEM, A(3, 2, on=U(0.1, 10)),       "F(a)", "sca:test_sinc"),
    E("numpy.power",        "constant exponent", ELEM, A(3, 2, on=U(1, 2)), "F(a, 1.8)", "sca:test_power_arg0"),
    E("numpy.power",        "exponent 0 at base 0", ELEM, A(on=AT(0.0)),    "F(a, 0.0)", "sca:test_power_arg0"),
    E("numpy.power",        "constant base", ELEM, A(3, 2, on=U(0, 1)),     "F(0.7, a)", "sca:test_power_arg1"),
    E("numpy.power",        "base 0", ELEM, A(3, 2, on=U(0.1, 1)),          "F(0.0, a)", "sca:test_power_arg1_zero"),
    # --- elementwise, two arguments (a (3, 2) and a broadcast (1, 2) operand)
    E("numpy.add",          "", ELEM, [A(3, 2), A(1, 2)],                   "F(a, b)", "sys:test_add"),
    E("numpy.multiply",     "", ELEM, [A(3, 2), A(1, 2)],                   "F(a, b)", "sca:test_multiply_arg0 sca:test_multiply_arg1"),
    E("numpy.divide",       "", ELEM, [A(3, 2), A(1, 2, on=U(0.8, 1.2))],   "F(a, b)", "sys:test_true_divide sca:test_divide_arg0 sca:test_divide_arg1 sca:test_true_divide_arg0 sca:test_true_divide_arg1"),
    E("numpy.divide",       "negative divisor", ELEM, [A(3, 2), A(1, 2, on=U(-2, -0.3))], "F(a, b)", "sys:test_true_divide_neg"),
    E("numpy.remainder",    "", ELEM, [A(3, 2), A(1, 2, on=U(0.8, 2.1))],   "F(a, b)", "sys:test_remainder sys:test_mod sca:test_mod_arg0 sca:test_mod_arg1"),
    E("numpy.remainder",    "negative divisor", ELEM, [A(3, 2), A(1, 2, on=U(-2, -0.3))], "F(a, b)", "sys:test_mod_neg"),
    E("numpy.logaddexp",    "", ELEM, [A(3, 2), A(1, 2)],                   "F(a, b)", "sys:test_logaddexp"),
    E("numpy.logaddexp2",   "", ELEM, [A(3, 2), A(1, 2)],                   "F(a, b)", "sys:test_logaddexp2"),
    E("numpy.arctan2",      "", ELEM, [A(3, 2), A(1, 2)],                   "F(a, b)", "bin:test_arctan2"),
    E("numpy.hypot",        "", ELEM, [A(3, 2), A(1, 2)],                   "F(a, b)", "bin:test_hypot"),
    E("numpy.maximum",      "", ELEM, [A(3, 4), A(1, 4)],                   "F(a, b)", "sys:test_maximum"),
    E("numpy.minimum",      "", ELEM, [A(3, 4), A(1, 4)],                   "F(a, b)", "sys:test_minimum"),
    E("numpy.fmax",         "", ELEM, [A(3, 4), A(1, 4)],                   "F(a, b)", "sys:test_fmax"),
    E("numpy.fmin",         "", ELEM, [A(3, 4), A(1, 4)],                   "F(a, b)", "sys:test_fmin"),
    E("numpy.maximum",      "tied arguments", ELEM, A(on=AT(1.0)),          "F(m.asarray([a, a, 0.5]), m.asarray([[a, 0.5, a], [a, a, 0.5]]))", "num:test_maximum_equal_values num:test_maximum_equal_values_2d"),
    E("operator.add",       "", ELEM, [A(3, 2), A(1, 2)],                   "F(a, b)", "sys:test_op_add bin:test_add"),
    E("operator.sub",       "", ELEM, [A(3, 2), A(1, 2)],                   "F(a, b)", "sys:test_op_sub bin:test_sub"),
    E("operator.mul",       "", ELEM, [A(3, 2), A(1, 2)],                   "F(a, b)", "sys:test_op_mul bin:test_mul"),
    E("operator.truediv",   "", ELEM, [A(3, 2), A(1, 2, on=U(0.7, 2))],     "F(a, b)", "bin:test_div"),
    E("operator.pow",       "", ELEM, [A(3, 2, on=U(1.1, 3)), A(1, 2)],     "F(a, b)", "bin:test_pow"),
    E("operator.mod",       "", ELEM, [A(3, 2), A(1, 2, on=U(0.3, 2))],     "F(a, b)", "sys:test_op_mod bin:test_mod"),
    E("operator.mod",       "negative divisor", ELEM, [A(3, 2), A(1, 2, on=U(-2, -0.3))], "F(a, b)", "sys:test_op_mod_neg"),
    E("comparison operators", "< <= > >= == != (zero gradient)", OTHER, [A(3, 4), A(1, 4)], "m.sum(a < b) + m.sum(a <= b) + m.sum(a > b) + m.sum(a >= b) + m.sum(a == b) + m.sum(a != b) + 0.0", "bin:test_comparison_grads"),
    # --- reductions
    E("numpy.sum",          "", RED, A(3, 4),                       "F(a)", "num:test_sum_1 sys:test_sum"),
    E("numpy.sum",          "axis=0", RED, A(3, 4),                 "F(a, axis=0)", "num:test_sum_2"),
    E("numpy.sum",          "axis=0, keepdims", RED, A(3, 4),       "F(a, axis=0, keepdims=True)", "num:test_sum_3 sys:test_sum"),
    E("numpy.sum",          "axis tuple", RED, A(3, 4, 2),          "F(a, axis=(1, 2))", "num:test_sum_with_axis_tuple"),
    E("numpy.mean",         "", RED, A(3, 4),                       "F(a)", "num:test_mean_1 sys:test_mean"),
    E("numpy.mean",         "axis=0", RED, A(3, 4),                 "F(a, axis=0)", "num:test_mean_2"),
    E("numpy.mean",         "axis=0, keepdims", RED, A(3, 4),       "F(a, axis=0, keepdims=True)", "num:test_mean_3 sys:test_mean"),
    E("numpy.mean",         "of a list of traced scalars", RED, A(), "F([a, a + 2.0])", "num:test_mean_list_of_boxes"),
    E("numpy.max",          "", RED, A(3, 4),                       "F(a)", "num:test_max sys:test_max"),
    E("numpy.max",          "axis=1", RED, A(2, 3, 4),              "F(a, axis=1)", "num:test_max_axis"),
    E("numpy.max",          "axis=1, keepdims", RED, A(2, 3, 4),    "F(a, axis=1, keepdims=True)", "num:test_max_axis_keepdims sys:test_max"),
    E("numpy.max",          "ties", RED, A(on=AT(1.0)),             "F(m.asarray([[a, a], [a, 0.5]]), axis=1)", "num:test_max_equal_values num:test_max_equal_values_2d"),
    E("numpy.min",          "", RED, A(3, 4),                       "F(a)", "num:test_min sys:test_min"),
    E("numpy.min",          "axis=1", RED, A(2, 3, 4),              "F(a, axis=1)", "num:test_min_axis"),
    E("numpy.min",          "axis=1, keepdims", RED, A(2, 3, 4),    "F(a, axis=1, keepdims=True)", "num:test_min_axis_keepdims sys:test_min"),
    E("numpy.min",          "three-way ties", RED, A(on=AT(1.0)),   "F(m.asarray([[a, a, a], [a, 0.5, 0.5], [0.5, 0.5, 0.5], [a, a, 0.5]]), axis=0)", "num:test_min_3_way_equality"),
    E("numpy.prod",         "", RED, A(2, 3, on=U(0.5, 1.5)),       "F(a)", "num:test_prod_1 num:test_prod_4 sys:test_prod"),
    E("numpy.prod",         "axis=0", RED, A(2, 3, on=U(0.5, 1.5)), "F(a, axis=0)", "num:test_prod_2"),
    E("numpy.prod",         "axis=0, keepdims", RED, A(2, 3, on=U(0.5, 1.5)), "F(a, axis=0, keepdims=True)", "num:test_prod_3 sys:test_prod"),
    E("numpy.var",          "axis=1, keepdims", RED, A(2, 3),       "F(a, axis=1, keepdims=True)", "sys:test_var"),
    E("numpy.var",          "ddof=2", RED, A(3, 4),                 "F(a, axis=1, keepdims=True, ddof=2)", "num:test_var_ddof"),
    E("numpy.var",          "of a list of traced scalars", RED, A(), "F([a, a + 2.0])", "num:test_var_list_of_boxes"),
    E("numpy.std",          "axis=1, keepdims", RED, A(2, 3),       "F(a, axis=1, keepdims=True)", "sys:test_std"),
    E("numpy.std",          "ddof=2", RED, A(3, 4),                 "F(a, axis=1, keepdims=True, ddof=2)", "num:test_std_ddof"),
    E("numpy.std",          "of a list of traced scalars", RED, A(), "F([a, a + 2.0])", "num:test_std_list_of_boxes"),
    E("numpy.cumsum",       "axis=0", RED, A(3, 4),                 "F(a, axis=0)", "num:test_cumsum_axis0 num:test_cumsum_axis1"),
    E("numpy.cumsum",       "flattened", RED, A(3, 4),              "F(a)", "num:test_cumsum_1d num:test_cumsum_no_axis"),
    E("builtins.sum",       "of a list of arrays", RED, [A(3, 4), A(3, 4)], "F([a, b])", "num:test_non_numpy_sum"),
    E("plain numpy reductions", "numpy.sum/prod/max/min on a traced value", RED, A(), "np.sum(m.exp(a) * C5) + np.prod(m.exp(a) * C5) + np.max(m.exp(a) * C5) + np.min(m.exp(a) * C5)", "num:test_plain_numpy_reductions_on_box"),
    E("scipy.special.logsumexp", "axis=1, keepdims", RED, A(3, 4),  "F(a, axis=1, keepdims=True)", "sci:test_logsumexp1 sci:test_logsumexp2"),
    E("scipy.special.logsumexp", "weights b", RED, A(3, 4),         "F(a, b=W34, axis=0, keepdims=True)", "sci:test_logsumexp3 sci:test_logsumexp4 sci:test_logsumexp5"),
    NA("scipy.special.logsumexp", "gradient of the gradient", RED, "sci:test_logsumexp6", "a second derivative: diffcompare differentiates once"),
    # --- shape and indexing
    E("x[3, 0, 1]",         "integer indices", SHAPE, A(4, 3, 2),   "a[3, 0, 1]", "num:test_index_ints"),
    E("x[::-1, 2:4, :]",    "slices, negative step", SHAPE, A(4, 5, 3), "a[::-1, 2:4, :]", "num:test_index_slice"),
    E("x[[0, 1, 2], :, :]", "integer list", SHAPE, A(4, 5, 3),      "a[[0, 1, 2], :, :]", "num:test_index_lists"),
    E("x[3, 2:, [1, 3]]",   "mixed integer, slice and list", SHAPE, A(4, 5, 4), "a[3, 2:, [1, 3]]", "num:test_index_mixed"),
    E("x[2:4]",             "vector slice", SHAPE, A(5),            "a[2:4]", "num:test_vector_slice"),
    E("x[s1] + x[s2]",      "overlapping slices (fan-out)", SHAPE, A(4, 6, 3), "a[::-1, 2:4, :] + a[::-1, 3:5, :]", "num:test_index_slice_fanout"),
    E("x[2:6][1:3]",        "slice of a slice", SHAPE, A(7),        "a[2:6][1:3]", "num:test_index_multiple_slices"),
    E("x[[0, 1, 0]]",       "repeated indices", SHAPE, A(3),        "a[[0, 1, 0]]", "num:test_multi_index num:test_multi_index2"),
    E("x[:2], x[2:]",       "two slices into numpy.dot", SHAPE, A(4), "m.dot(a[:2], a[2:])", "num:test_index_dot_slices"),
    E("numpy.int64",        "indices cast from the input", SHAPE, A(5, 4), "a[:, :-1][F(a[:, -1])]", "num:test_cast_to_int"),
    E("ndarray.T",          "", SHAPE, A(3, 4),                     "a.T", "num:test_transpose"),
    E("ndarray.reshape",    "shape tuple", SHAPE, A(3, 4, 2),       "a.reshape((6, 4))", "num:test_reshape_method"),
    E("ndarray.reshape",    "shape as arguments", SHAPE, A(3, 4, 2), "a.reshape(6, 4)", "num:test_reshape_method_nolist"),
    E("ndarray.ravel",      "", SHAPE, A(3, 4, 2),                  "a.ravel()", "num:test_ravel_method"),
    E("ndarray.flatten",    "", SHAPE, A(3, 4, 2),                  "a.flatten()", "num:test_flatten_method"),
    E("ndarray.squeeze",    "", SHAPE, A(3, 1, 2),                  "a.squeeze()", "num:test_squeeze_method"),
    E("ndarray.astype",     "float64", SHAPE, A(3),                 "m.sin(a.astype('float64'))", "num:test_astype"),
    E("ndarray attributes", "shape, ndim, size, dtype of a traced scalar", SHAPE, A(), "checked(a.shape == () and a.ndim == 0 and a.size == 1 and a.dtype == np.float64, a ** 2)", "num:test_scalar_array_box_attributes"),
    E("builtins.len",       "of a traced array", SHAPE, A(3, 2),    "checked(F(a) == 3, a)", "num:test_len"),
    E("numpy.reshape",      "", SHAPE, A(3, 4, 2),                  "F(a, (6, 4))", "num:test_reshape_call"),
    E("numpy.ravel",        "", SHAPE, A(3, 4, 2),                  "F(a)", "num:test_ravel_call"),
    E("numpy.squeeze",      "", SHAPE, A(3, 1, 2),                  "F(a)", "num:test_squeeze_func"),
    E("numpy.expand_dims",  "", SHAPE, A(3, 1, 2),                  "F(a, 2)", "num:test_expand_dims"),
    E("numpy.transpose",    "axes", SHAPE, A(2, 3, 4),              "F(a, (2, 0, 1))", "sys:test_transpose"),
    E("numpy.moveaxis",     "", SHAPE, A(2, 3, 4),                  "F(a, 0, 2)", "sys:test_moveaxis"),
    E("numpy.swapaxes",     "", SHAPE, A(2, 3, 4),                  "F(a, 0, 2)", "sys:test_swapaxes"),
    E("numpy.rollaxis",     "", SHAPE, A(2, 3, 4),                  "F(a, 2, 0)", "sys:test_rollaxis"),
    E("numpy.atleast_1d",   "", SHAPE, A(),                         "F(a)", "sys:test_atleast_1d"),
    E("numpy.atleast_2d",   "", SHAPE, A(7),                        "F(a)", "sys:test_atleast_2d"),
    E("numpy.atleast_3d",   "", SHAPE, A(2, 4),                     "F(a)", "sys:test_atleast_3d"),
    E("numpy.repeat",       "axis=1", SHAPE, A(2, 3, 4),            "F(a, 2, axis=1)", "sys:test_repeat num:test_repeat num:test_repeat_axis1_rep1 num:test_repeat_axis0 num:test_repeat_1d_axis0 num:test_repeat_axis0_rep1"),
    E("numpy.repeat",       "flattened", SHAPE, A(3, 1),            "F(a, 2)", "sys:test_repeat"),
    E("numpy.tile",         "", SHAPE, A(1, 2),                     "F(a, (3, 2, 1))", "sys:test_tile"),
    E("numpy.diff",         "n=2, axis=1", SHAPE, A(4, 5),          "F(a, n=2, axis=1)", "sys:test_diff"),
    E("numpy.gradient",     "", SHAPE, A(4, 5),                     "F(a)", "sys:test_gradient num:test_gradient"),
    E("numpy.sort",         "", SHAPE, A(7),                        "F(a)", "sys:test_sort"),
    E("numpy.partition",    "kth=3", SHAPE, A(7),                   "F(a, 3)", "sys:test_partition"),
    E("numpy.diag",         "extract, k=1", SHAPE, A(4, 4),         "F(a, k=1)", "sys:test_diag num:test_diag"),
    E("numpy.diag",         "build, k=-1", SHAPE, A(4),             "F(a, k=-1)", "sys:test_diag_flat"),
    E("numpy.diagonal",     "last two axes of a stack", SHAPE, A(3, 4, 4), "F(a, axis1=-1, axis2=-2)", "num:test_diagonal"),
    NA("autograd.numpy.make_diagonal", "", SHAPE, "num:test_make_diagonal", "autograd's own function, not numpy's"),
    E("numpy.tril",         "k=1", SHAPE, A(4, 4),                  "F(a, k=1)", "sys:test_tril num:test_tril"),
    E("numpy.triu",         "k=1", SHAPE, A(4, 4),                  "F(a, k=1)", "sys:test_triu num:test_triu"),
    E("numpy.tril",         "3-d, k=-1", SHAPE, A(4, 4, 3),         "F(a, k=-1)", "sys:test_tril_3d"),
    E("numpy.triu",         "3-d, k=-1", SHAPE, A(4, 4, 3),         "F(a, k=-1)", "sys:test_triu_3d"),
    E("numpy.flipud",       "", SHAPE, A(3, 4),                     "F(a)", "num:test_flipud"),
    E("numpy.fliplr",       "", SHAPE, A(3, 4),                     "F(a)", "num:test_fliplr"),
    E("numpy.rot90",        "", SHAPE, A(3, 4),                     "F(a)", "num:test_rot90"),
    E("numpy.roll",         "axis=1", SHAPE, A(4, 5),               "F(a, 2, axis=1)", "num:test_roll num:test_roll_no_axis"),
    E("numpy.clip",         "", ELEM, A(3, 4),                      "F(a, a_min=0.1, a_max=1.1)", "num:test_clip"),
    E("numpy.where",        "constant condition", ELEM, [A(4, 5), A(4, 5)], "F(COND45, a, b)", "num:test_where"),
    E("numpy.select",       "", SHAPE, [A(2, 3), A(2, 3), A(2, 3)], "F(CONDS, [a, b, c], default=1.1)", "sys:test_select"),
    E("numpy.nan_to_num",   "", ELEM, A(4),                         "m.sin(F(a + NONFINITE))", "num:test_nan_to_num"),
    E("numpy.pad",          "constant", SHAPE, A(2, 2),             "F(a, ((1, 2), (3, 4)), 'constant')", "sys:test_pad"),
    E("numpy.split",        "sections, axis=1", SHAPE, A(3, 4),     "F(a, 2, axis=1)", "sys:test_split_1d sys:test_split_2d sys:test_split_3d"),
    E("numpy.array_split",  "uneven sections", SHAPE, A(7, 2),      "F(a, 3, axis=0)", "sys:test_array_split_1d sys:test_array_split_2d sys:test_array_split_3d"),
    E("numpy.vsplit",       "", SHAPE, A(4, 3),                     "F(a, [1, 2])", "sys:test_vsplit_2d sys:test_vsplit_3d"),
    E("numpy.hsplit",       "", SHAPE, A(3, 4),                     "F(a, [1, 2])", "sys:test_hsplit_2d sys:test_hsplit_3d"),
    E("numpy.dsplit",       "", SHAPE, A(2, 2, 4),                  "F(a, [1, 2])", "sys:test_dsplit_3d"),
    E("numpy.concatenate",  "traced arrays, axis=1", SHAPE, [A(2, 2, 2), A(2, 2, 2)], "F((a, b), axis=1)", "sys:test_concatenate_1ist sys:test_concatenate_tuple sys:test_concatenate_2d sys:test_concatenate_3d"),
    E("numpy.concatenate",  "with constant blocks, axis by position", SHAPE, A(2, 3, 2), "F((C232, a, C232), 1)", "num:test_simple_concatenate num:test_concatenate_axis_0 num:test_concatenate_axis_1 num:test_concatenate_axis_1_unnamed"),
    E("numpy.stack",        "axis=1", SHAPE, [A(2), A(2)],          "F((a, b), axis=1)", "sys:test_stack_1d"),
    E("numpy.vstack",       "", SHAPE, [A(2, 3), A(1, 3)],          "F((a, b))", "sys:test_vstack_1d sys:test_vstack_2d sys:test_vstack_3d"),
    E("numpy.hstack",       "", SHAPE, [A(3, 2), A(3, 1)],          "F((a, b))", "sys:test_hstack_1d sys:test_hstack_2d sys:test_hstack_3d"),
    E("numpy.row_stack",    "", SHAPE, [A(2, 3), A(1, 3)],          "F((a, b))", "sys:test_row_stack_1d sys:test_row_stack_2d"),
    E("numpy.column_stack", "", SHAPE, [A(2), A(2)],                "F((a, b))", "sys:test_column_stack_1d sys:test_column_stack_2d"),
    E("numpy.append",       "", SHAPE, [A(3), A()],                 "F(a, b)", "num:test_simple_append_list num:test_simple_append_arr"),
    E("numpy.append",       "axis=0", SHAPE, [A(2, 3), A(1, 3)],    "F(a, b, axis=0)", "num:test_simple_append_list_2D"),
    E("numpy.array",        "of traced scalars", SHAPE, A(),        "F([a, a * 1.0, a + 2.5])", "num:test_1d_array num:test_1d_array_fanout", twin="asarray"),
    E("numpy.array",        "nested lists of traced scalars", SHAPE, A(), "F([[a, a * 1.0, a + 2.5], [a ** 2, a, a / 2.0]])", "num:test_2d_array num:test_2d_array_fanout", twin="asarray"),
    E("numpy.array",        "of a traced scalar", SHAPE, A(),       "F(a)", "num:test_array_from_scalar", twin="asarray"),
    E("numpy.array",        "of traced arrays", SHAPE, A(3, 2),     "F([[2 * a, a + 1], [a, a]])", "num:test_array_from_arrays num:test_array_from_arrays_2", twin="asarray"),
    E("numpy.r_",           "one array", SHAPE, A(3, 2),            "F[a]", "num:test_r_basic"),
    E("numpy.r_",           "arrays and constants", SHAPE, A(3, 2), "F[a, C32, a]", "num:test_r_double num:test_r_node_and_const num:test_r_mixed"),
    E("numpy.r_",           "with a slice", SHAPE, A(4),            "F[a, C4, 1:10]", "num:test_r_slicing"),
    E("numpy.c_",           "", SHAPE, A(3, 2),                     "F[a, C32, a]", "num:test_c_ num:test_c_mixed"),
    E("constant output",    "f independent of x (zero gradient)", OTHER, A(3, 2), "C32 + 0.0", "num:test_no_relation num:test_r_no_relation"),
    E("numpy.linspace",     "traced endpoints", OTHER, [A(on=U(1, 2)), A(on=U(3, 4))], "F(a, b, 5)", "num:test_linspace"),
    # --- products and linear algebra
    E("numpy.dot",          "2-d operands", LIN, [A(3, 4), A(4, 2)], "F(a, b)", "num:test_dot sys:test_dot"),
    E("numpy.dot",          "with a scalar", LIN, [A(3, 4), A()],   "F(a, b)", "num:test_dot_with_floats sys:test_dot"),
    E("numpy.dot",          "N-d operands", LIN, [A(2, 2, 3), A(2, 3, 4)], "F(a, b)", "sys:test_dot"),
    E("numpy.inner",        "", LIN, [A(2, 3), A(4, 3)],            "F(a, b)", "sys:test_inner"),
    E("numpy.outer",        "", LIN, [A(3), A(4)],                  "F(a, b)", "sys:test_outer num:test_outer"),
    E("numpy.kron",         "", LIN, [A(3, 3), A(2, 2)],            "F(a, b)", "sys:test_kron"),
    E("numpy.cross",        "axisa, axisb, axisc", LIN, [A(3, 3), A(3, 3)], "F(a, b, axisa=0, axisb=1, axisc=0)", "sys:test_cross"),
    E("numpy.matmul",       "stacks", LIN, [A(2, 2, 3), A(2, 3, 4)], "F(a, b)", "sys:test_matmul"),
    E("numpy.matmul",       "broadcast batch", LIN, [A(1, 2, 2), A(3, 2, 1)], "F(a, b)", "sys:test_matmul_broadcast"),
    E("numpy.tensordot",    "axis pairs", LIN, [A(2, 3, 2), A(3, 4, 2)], "F(a, b, axes=((1,), (0,)))", "sys:test_tensordot_1 sys:test_tensordot_2 sys:test_tensordot_8"),
    E("numpy.tensordot",    "several axis pairs", LIN, [A(2, 3), A(1, 2, 3)], "F(a, b, axes=((0, 1), (1, 2)))", "sys:test_tensordot_3"),
    E("numpy.tensordot",    "axes as a count, by position", LIN, [A(4, 2, 2), A(2, 2, 4)], "F(a, b, 2)", "sys:test_tensordot_4 num:test_tensordot_kwargs_by_position"),
    E("numpy.tensordot",    "axes=0", LIN, [A(4), A()],             "F(a, b, axes=0)", "sys:test_tensordot_5"),
    E("numpy.tensordot",    "negative axes", LIN, [A(2, 6), A(6, 3)], "F(a, b, axes=([-1], [0]))", "sys:test_tensordot_6 sys:test_tensordot_7"),
    E("numpy.einsum",       "ij->ji", LIN, A(3, 4),                 "F('ij->ji', a)", "sys:test_einsum_transpose"),
    E("numpy.einsum",       "ij,jk->ik", LIN, [A(2, 3), A(3, 4)],   "F('ij,jk->ik', a, b)", "sys:test_einsum_matmult"),
    E("numpy.einsum",       "...ij,...jk->...ik", LIN, [A(2, 2, 3), A(2, 3, 4)], "F('...ij,...jk->...ik', a, b)", "sys:test_einsum_matmult_broadcast"),
    NA("numpy.einsum",      "zero-length batch axis", LIN, "sys:test_einsum_matmult_broadcast_leadzero", "an empty input: x must have at least one element"),
    E("numpy.einsum",       "ijk,lji->lki", LIN, [A(3, 4, 4), A(4, 4, 3)], "F('ijk,lji->lki', a, b)", "sys:test_einsum_covsum"),
    E("numpy.einsum",       "...jk,...lj->...lk", LIN, [A(3, 4, 4), A(3, 4, 4)], "F('...jk,...lj->...lk', a, b)", "sys:test_einsum_ellipses"),
    E("numpy.einsum",       "jk...,lj...->lk...", LIN, [A(3, 2, 4), A(2, 3, 4)], "F('jk...,lj...->lk...', a, b)", "sys:test_einsum_ellipses_tail"),
    E("numpy.einsum",       "j...k,lj...->lk...", LIN, [A(2, 2, 2), A(2, 2, 2)], "F('j...k,lj...->lk...', a, b)", "sys:test_einsum_ellipses_center"),
    E("numpy.einsum",       "ijk,lji,lli->lki", LIN, [A(3, 4, 4), A(4, 4, 3)], "F('ijk,lji,lli->lki', a, b, C443)", "sys:test_einsum_three_args"),
    E("numpy.einsum",       "k,nk->", LIN, [A(5), A(4, 5)],         "F('k,nk->', a, b)", "sys:test_einsum_naked_sum"),
    E("numpy.einsum",       "abcd->bd", LIN, A(3, 2, 3, 2),         "F('abcd->bd', a)", "sys:test_einsum_naked_sum2"),
    E("numpy.einsum",       "...k,...nk->...", LIN, [A(3, 5), A(3, 4, 5)], "F('...k,...nk->...', a, b)", "sys:test_einsum_naked_sum_ellipsis"),
    E("numpy.einsum",       "ij,k (no output indices)", LIN, [A(3, 4), A(3)], "F('ij,k', a, b)", "sys:test_einsum_no_output_indices"),
    E("numpy.einsum",       "sublists: transpose", LIN, A(3, 4),    "F(a, [0, 1], [1, 0])", "sys:test_einsum2_transpose"),
    E("numpy.einsum",       "sublists: matrix product", LIN, [A(2, 3), A(3, 4)], "F(a, [0, 1], b, [1, 2], [0, 2])", "sys:test_einsum2_matmult"),
    E("numpy.einsum",       "sublists: broadcast", LIN, [A(2, 2, 3), A(2, 3, 4)], "F(a, [Ellipsis, 0, 1], b, [Ellipsis, 1, 2], [Ellipsis, 0, 2])", "sys:test_einsum2_matmult_broadcast"),
    E("numpy.einsum",       "sublists: covsum", LIN, [A(3, 4, 4), A(4, 4, 3)], "F(a, [0, 1, 2], b, [3, 1, 0], [3, 2, 0])", "sys:test_einsum2_covsum"),
    E("numpy.einsum",       "sublists: three operands", LIN, [A(3, 4, 4), A(4, 4, 3)], "F(a, [0, 1, 2], b, [3, 1, 0], C443, [3, 3, 0], [3, 2, 0])", "sys:test_einsum2_three_args"),
    E("numpy.trace",        "offset=1", LIN, A(4, 5),               "F(a, offset=1)", "sys:test_trace num:test_trace num:test_trace2"),
    E("numpy.trace",        "3-d, offset=-1", LIN, A(3, 4, 5),      "F(a, offset=-1)", "sys:test_trace num:test_trace_extradims"),
    E("numpy.linalg.inv",   "", LIN, A(4, 4, on=DOM),               "F(a)", "lin:test_inv"),
    E("numpy.linalg.inv",   "stack", LIN, A(3, 4, 4, on=DOM),       "F(a)", "lin:test_inv_3d"),
    E("numpy.linalg.pinv",  "", LIN, A(4, 3),                       "F(a)", "lin:test_pinv"),
    E("numpy.linalg.pinv",  "stack", LIN, A(2, 3, 4),               "F(a)", "lin:test_pinv"),
    E("numpy.linalg.pinv",  "of a rank-deficient square matrix", LIN, A(3, 5), "F(m.matmul(m.transpose(a), a))", "lin:test_pinv"),
    E("numpy.linalg.solve", "matrix, matrix right side", LIN, A(4, 4, on=DOM), "F(a, B43)", "lin:test_solve_arg1"),
    E("numpy.linalg.solve", "matrix, vector right side", LIN, A(4, 4, on=DOM), "F(a, B4)", "lin:test_solve_arg1_1d"),
    E("numpy.linalg.solve", "right side", LIN, A(4, 3),             "F(A44, a)", "lin:test_solve_arg2"),
    E("numpy.linalg.solve", "stack, vector right sides", LIN, A(5, 4, 4, on=DOM), "F(a, B54[..., None])[..., 0]", "lin:test_solve_arg1_3d"),
    E("numpy.linalg.solve", "stack, matrix right sides", LIN, A(3, 4, 4, on=DOM), "F(a, B342)", "lin:test_solve_arg1_3d_3d"),
    E("numpy.linalg.det",   "", LIN, A(4, 4),                       "F(a)", "lin:test_det"),
    E("numpy.linalg.det",   "stack", LIN, A(3, 3, 3),               "F(a)", "lin:test_det_3d"),
    E("numpy.linalg.slogdet", "", LIN, A(4, 4),                     "F(a)[1]", "lin:test_slogdet"),
    E("numpy.linalg.slogdet", "stack", LIN, A(3, 4, 4, on=SPD),     "F(a)[1]", "lin:test_slogdet_3d"),
    E("numpy.linalg.norm",  "vector", LIN, A(6),                    "F(a)", "lin:test_vector_2norm lin:test_vector_norm_ord"),
    E("numpy.linalg.norm",  "ord=3", LIN, A(6),                     "F(a, ord=3)", "lin:test_vector_norm_ord"),
    E("numpy.linalg.norm",  "ord=4", LIN, A(6),                     "F(a, ord=4)", "lin:test_vector_norm_ord"),
    E("numpy.linalg.norm",  "of a list of traced scalars", LIN, A(), "F([a, a + 2.0])", "lin:test_norm_list_of_boxes"),
    E("numpy.linalg.norm",  "Frobenius", LIN, A(4, 3),              "F(a)", "lin:test_frobenius_norm"),
    E("numpy.linalg.norm",  "Frobenius, axis=(0, 1)", LIN, A(4, 3, 2), "F(a, axis=(0, 1))", "lin:test_frobenius_norm_axis"),
    E("numpy.linalg.norm",  "axis=1", LIN, A(4, 3, 2),              "F(a, axis=1)", "lin:test_norm_axis"),
    E("numpy.linalg.norm",  "nuclear", LIN, A(4, 3),                "F(a, ord='nuc')", "lin:test_norm_nuclear"),
    E("numpy.linalg.norm",  "nuclear, axis=(0, 1)", LIN, A(4, 3, 2), "F(a, ord='nuc', axis=(0, 1))", "lin:test_norm_nuclear_axis"),
    NA("numpy.linalg.norm", "complex input", LIN, "lin:test_vector_2norm_complex lin:test_frobenius_norm_complex lin:test_frobenius_norm_axis_complex lin:test_vector_norm_ord_complex lin:test_norm_axis_complex lin:test_norm_nuclear_complex lin:test_norm_nuclear_axis_complex", _COMPLEX),
    E("numpy.linalg.eigh",  "lower triangle of a general matrix", LIN, A(4, 4), "F(a)", "lin:test_eigvalh_lower"),
    E("numpy.linalg.eigh",  "upper triangle of a general matrix", LIN, A(4, 4), "F(a, 'U')", "lin:test_eigvalh_upper"),
    E("numpy.linalg.eigh",  "stack", LIN, A(2, 4, 4, on=SPD),       "F(a)", "lin:test_eigvalh_lower_broadcasting lin:test_eigvalh_upper_broadcasting"),
    NA("numpy.linalg.eigh", "complex input", LIN, "lin:test_eigvalh_lower_complex lin:test_eigvalh_upper_complex", _COMPLEX),
    E("numpy.linalg.eig",   "moduli of eigenvalues and eigenvectors", LIN, A(4, 4), "moduli(m, F(a))", "lin:test_eig_real"),
    NA("numpy.linalg.eig",  "complex input", LIN, "lin:test_eig_complex lin:test_eig_batched", _COMPLEX),
    E("numpy.linalg.cholesky", "", LIN, A(4, 4, on=SPD),            "F(sym(m, a))", "lin:test_cholesky"),
    E("numpy.linalg.cholesky", "stack", LIN, A(3, 4, 4, on=SPD),    "F(sym(m, a))", "lin:test_cholesky_broadcast"),
    E("numpy.linalg.cholesky", "reparameterization", LIN, A(4, 4, on=SPD), "m.linalg.norm(m.dot(F(sym(m, a)), Z4))", "lin:test_cholesky_reparameterization_trick"),
    E("numpy.linalg.svd",   "wide", LIN, A(3, 5),                   "F(a, full_matrices=False)", "lin:test_svd_wide_2d"),
    E("numpy.linalg.svd",   "wide stack", LIN, A(2, 3, 5),          "F(a, full_matrices=False)", "lin:test_svd_wide_3d"),
    E("numpy.linalg.svd",   "square", LIN, A(4, 4),                 "F(a, full_matrices=False)", "lin:test_svd_square_2d"),
    E("numpy.linalg.svd",   "square stack", LIN, A(2, 4, 4),        "F(a, full_matrices=False)", "lin:test_svd_square_3d"),
    E("numpy.linalg.svd",   "tall", LIN, A(5, 3),                   "F(a, full_matrices=False)", "lin:test_svd_tall_2d"),
    E("numpy.linalg.svd",   "tall stack", LIN, A(2, 5, 3),          "F(a, full_matrices=False)", "lin:test_svd_tall_3d"),
    E("numpy.linalg.svd",   "singular values only", LIN, A(5, 3),   "F(a, full_matrices=False, compute_uv=False)", "lin:test_svd_only_s_2d"),
    E("numpy.linalg.svd",   "singular values only, stack", LIN, A(2, 5, 3), "F(a, full_matrices=False, compute_uv=False)", "lin:test_svd_only_s_3d"),
    NA("numpy.linalg.svd",  "complex input", LIN, "lin:test_svd_wide_2d_complex lin:test_svd_wide_3d_complex lin:test_svd_square_2d_complex lin:test_svd_square_3d_complex lin:test_svd_tall_2d_complex lin:test_svd_tall_3d_complex lin:test_svd_only_s_2d_complex lin:test_svd_only_s_3d_complex", _COMPLEX),
    E("scipy.linalg.sqrtm", "symmetric", LIN, A(3, 3, on=SPD),      "F(sym(m, a))", "sci:test_sqrtm"),
    E("scipy.linalg.solve_sylvester", "", LIN, [A(3, 3), A(3, 3), A(3, 3)], "F(a, b, c)", "sci:test_solve_sylvester"),
    E("scipy.linalg.solve_banded", "", LIN, [A(3, 5, on=U(-1, 1)), A(5)], "F((1, 1), a + BAND_SHIFT, b)", "sci:test_solve_banded"),
    # --- special functions (xp.X for scipy.special.X)
    E("scipy.special.beta",     "", SPEC, [A(4, on=POS), A(4, on=POS)],  "F(a, b)", "sci:test_beta"),
    E("scipy.special.betaln",   "", SPEC, [A(4, on=POS), A(4, on=POS)],  "F(a, b)", "sci:test_betaln"),
    E("scipy.special.betainc",  "in x", SPEC, A(4, on=U(0.1, 0.9)),      "F(P4, Q4, a)", "sci:test_betainc"),
    E("scipy.special.gammainc", "in x", SPEC, A(4, on=U(1.3, 4)),        "F(1, a)", "sci:test_gammainc"),
    E("scipy.special.gammaincc", "in x", SPEC, A(4, on=U(1.3, 4)),       "F(1, a)", "sci:test_gammaincc"),
    E("scipy.special.polygamma", "n=0", SPEC, A(4, on=U(1.3, 4)),        "F(0, a)", "sci:test_polygamma"),
    E("scipy.special.jn",       "n=2", SPEC, A(4, on=U(1.3, 4)),         "F(2, a)", "sci:test_jn"),
    E("scipy.special.yn",       "n=2", SPEC, A(4, on=U(1.3, 4)),         "F(2, a)", "sci:test_yn"),
    E("scipy.special.iv",       "in x", SPEC, A(4, on=U(1.3, 4)),        "F(V4, a)", "sci:test_iv"),
    E("scipy.special.ive",      "in x", SPEC, A(4, on=U(1.3, 4)),        "F(V4, a)", "sci:test_ive"),
    E("scipy.special.digamma",  "", SPEC, A(3, 2, on=U(0.3, 2)),         "F(a)", "sci:test_psi sci:test_digamma"),
    E("scipy.special.gamma",    "", SPEC, A(3, 2, on=U(0.3, 2)),         "F(a)", "sci:test_gamma"),
    E("scipy.special.gammaln",  "", SPEC, A(3, 2, on=U(0.3, 2)),         "F(a)", "sci:test_gammaln"),
    E("scipy.special.gammasgn", "", SPEC, A(3, 2, on=U(0.3, 2)),         "F(a)", "sci:test_gammasgn"),
    E("scipy.special.rgamma",   "", SPEC, A(3, 2, on=U(0.3, 2)),         "F(a)", "sci:test_rgamma"),
    E("scipy.special.multigammaln", "d=3", SPEC, A(2, 3, on=U(4, 5)),    "F(a, 3)", "sci:test_multigammaln"),
    E("scipy.special.j0",       "", SPEC, A(3, 2, on=U(0.2, 20)),        "F(a)", "sci:test_j0"),
    E("scipy.special.j1",       "", SPEC, A(3, 2, on=U(0.2, 20)),        "F(a)", "sci:test_j1"),
    E("scipy.special.y0",       "", SPEC, A(3, 2, on=U(0.2, 20)),        "F(a)", "sci:test_y0"),
    E("scipy.special.y1",       "", SPEC, A(3, 2, on=U(0.2, 20)),        "F(a)", "sci:test_y1"),
    E("scipy.special.i0",       "", SPEC, A(3, 2, on=U(0.2, 20)),        "F(a)", "sci:test_i0"),
    E("scipy.special.i1",       "", SPEC, A(3, 2, on=U(0.2, 20)),        "F(a)", "sci:test_i1"),
    E("scipy.special.erf",      "", SPEC, A(3, 2, on=U(-3, 3)),          "F(a)", "sci:test_erf"),
    E("scipy.special.erfc",     "", SPEC, A(3, 2, on=U(-3, 3)),          "F(a)", "sci:test_erfc"),
    E("scipy.special.erfinv",   "", SPEC, A(3, 2, on=U(-0.95, 0.95)),    "F(a)", "sci:test_erfinv"),
    E("scipy.special.erfcinv",  "", SPEC, A(3, 2, on=U(0.05, 1.95)),     "F(a)", "sci:test_erfcinv"),
    E("scipy.special.logit",    "", SPEC, A(3, 2, on=U(0.1, 0.9)),       "F(a)", "sci:test_logit"),
    # expit is the logistic sigmoid, which xp spells sigmoid
    E("scipy.special.expit",    "", SPEC, A(3, 2, on=U(-4.05, 4.95)),    "F(a)", "sci:test_expit", twin="sigmoid"),
    # --- distributions (xp.stats.D.F for scipy.stats.D.F)
    E("scipy.stats.chi2.pdf",    "", DIST, A(4, on=POS),                 "F(a, 3)", "sci:test_chi2_pdf"),
    E("scipy.stats.chi2.cdf",    "", DIST, A(4, on=POS),                 "F(a, 3)", "sci:test_chi2_cdf"),
    E("scipy.stats.chi2.logpdf", "", DIST, A(4, on=POS),                 "F(a, 3)", "sci:test_chi2_logpdf"),
    E("scipy.stats.beta.cdf",    "in x", DIST, A(4, on=U(0.1, 0.9)),     "F(a, P4, Q4)", "sci:test_beta_cdf"),
    E("scipy.stats.beta.pdf",    "", DIST, [A(4, on=U(0.1, 0.9)), A(4, on=POS), A(4, on=POS)], "F(a, b, c)", "sci:test_beta_pdf"),
    E("scipy.stats.beta.logpdf", "", DIST, [A(4, on=U(0.1, 0.9)), A(4, on=POS), A(4, on=POS)], "F(a, b, c)", "sci:test_beta_logpdf"),
    E("scipy.stats.gamma.cdf",   "in x", DIST, A(4, on=POS),             "F(a, P4)", "sci:test_gamma_cdf"),
    E("scipy.stats.gamma.pdf",   "", DIST, [A(4, on=POS), A(4, on=POS)], "F(a, b)", "sci:test_gamma_pdf"),
    E("scipy.stats.gamma.logpdf", "", DIST, [A(4, on=POS), A(4, on=POS)], "F(a, b)", "sci:test_gamma_logpdf"),
    E("scipy.stats.norm.pdf",    "broadcast", DIST, [A(4, 3), A(1, 3), A(4, 1, on=POS)], "F(a, b, c)", "sci:test_norm_pdf sci:test_norm_pdf_broadcast"),
    E("scipy.stats.norm.cdf",    "broadcast", DIST, [A(4, 3), A(1, 3), A(4, 1, on=POS)], "F(a, b, c)", "sci:test_norm_cdf sci:test_norm_cdf_broadcast sci:test_norm_sf_broadcast"),
    E("scipy.stats.norm.sf",     "", DIST, [A(4), A(4), A(4, on=POS)],   "F(a, b, c)", "sci:test_norm_sf"),
    E("scipy.stats.norm.logpdf", "broadcast", DIST, [A(4, 3), A(1, 3), A(4, 1, on=POS)], "F(a, b, c)", "sci:test_norm_logpdf sci:test_norm_logpdf_broadcast"),
    E("scipy.stats.norm.logcdf", "broadcast", DIST, [A(4, 3), A(1, 3), A(4, 1, on=POS)], "F(a, b, c)", "sci:test_norm_logcdf sci:test_norm_logcdf_broadcast sci:test_norm_logsf_broadcast"),
    E("scipy.stats.norm.logsf",  "", DIST, [A(4), A(4), A(4, on=POS)],   "F(a, b, c)", "sci:test_norm_logsf"),
    E("scipy.stats.poisson.cdf", "in the mean", DIST, A(4, 1, on=POS),   "F(K43, a)", "sci:test_poisson_cdf sci:test_poisson_cdf_broadcast"),
    E("scipy.stats.poisson.pmf", "in the mean", DIST, A(4, 1, on=POS),   "F(K43, a)", "sci:test_poisson_pmf sci:test_poisson_pmf_broadcast"),
    E("scipy.stats.poisson.logpmf", "in the mean", DIST, A(4, 1, on=POS), "F(K43, a)", "sci:test_poisson_logpmf sci:test_poisson_logpmf_broadcast"),
    E("scipy.stats.t.pdf",       "broadcast", DIST, [A(4, 3), A(1, 3, on=U(2.1, 5)), A(4, 3), A(4, 1, on=U(2.1, 5))], "F(a, b, c, d)", "sci:test_t_pdf sci:test_t_pdf_broadcast"),
    E("scipy.stats.t.logpdf",    "broadcast", DIST, [A(4, 3), A(1, 3, on=U(2.1, 5)), A(4, 3), A(4, 1, on=U(2.1, 5))], "F(a, b, c, d)", "sci:test_t_logpdf sci:test_t_logpdf_broadcast"),
    E("scipy.stats.t.cdf",       "in x and loc", DIST, [A(4, 3), A(4, 3)], "F(a, DF13, b, SCALE41)", "sci:test_t_cdf sci:test_t_cdf_broadcast"),
    E("scipy.stats.t.logcdf",    "in x and loc", DIST, [A(4, 3), A(4, 3)], "F(a, DF13, b, SCALE41)", "sci:test_t_logcdf sci:test_t_logcdf_broadcast"),
    E("scipy.stats.multivariate_normal.pdf", "", DIST, [A(3, 4), A(4), A(4, 4, on=SPD)], "F(a, b, sym(m, c))", "sci:test_mvn_pdf sci:test_mvn_pdf_broadcast"),
    E("scipy.stats.multivariate_normal.logpdf", "", DIST, [A(3, 4), A(4), A(4, 4, on=SPD)], "F(a, b, sym(m, c))", "sci:test_mvn_logpdf sci:test_mvn_logpdf_broadcast"),
    E("scipy.stats.multivariate_normal.entropy", "", DIST, [A(4), A(4, 4, on=SPD)], "F(a, sym(m, b))", "sci:test_mvn_entropy"),
    E("scipy.stats.multivariate_normal.pdf", "singular covariance", DIST, [A(4), A(4)], "F(m.concatenate([a[:2], b[2:]]), b, SINGULAR_COV, allow_singular=True)", "sci:test_mvn_sing_cov"),
    E("scipy.stats.multivariate_normal.logpdf", "singular covariance", DIST, [A(4), A(4)], "F(m.concatenate([a[:2], b[2:]]), b, SINGULAR_COV, allow_singular=True)", "sci:test_mvn_sing_cov"),
    E("scipy.stats.dirichlet.pdf", "in x (normalised)", DIST, A(4, on=SIMPLEX), "F(a / m.sum(a), ALPHA4)", "sci:test_dirichlet_pdf_x"),
    E("scipy.stats.dirichlet.pdf", "in alpha", DIST, A(4, on=U(1.2, 2.2)), "F(X4, a)", "sci:test_dirichlet_pdf_alpha"),
    E("scipy.stats.dirichlet.logpdf", "in x (normalised)", DIST, A(4, on=SIMPLEX), "F(a / m.sum(a), ALPHA4)", "sci:test_dirichlet_logpdf_x"),
    E("scipy.stats.dirichlet.logpdf", "in alpha", DIST, A(4, on=U(1.2, 2.2)), "F(X4, a)", "sci:test_dirichlet_logpdf_alpha"),
    # --- other scipy
    E("scipy.signal.convolve",   "1-d", OTHER, [A(5), A(3)],             "F(a, b, mode='full')", "sci:test_convolve"),
    E("scipy.signal.convolve",   "2-d", OTHER, [A(5, 4), A(3, 2)],       "F(a, b, mode='valid')", "sci:test_convolve_2d"),
    NA("scipy.signal.convolve",  "axes and dot_axes", OTHER, "sci:test_convolve_ignore sci:test_convolve_ignore_dot", "autograd's own keywords (axes, dot_axes), not scipy's"),
    E("scipy.integrate.odeint",  "in y0 and the parameters", OTHER, [A(3), A(3), A(3)], "F(ode_rhs(m), a, T_ODE, ode_args(m, b, c))", "sci:test_odeint"),
    # --- FFT (a complex output enters as its real and imaginary parts)
    E("numpy.fft.fft",      "", FFT, A(5, 5),                        "F(a)", "fft:test_fft"),
    E("numpy.fft.fft",      "norm='ortho'", FFT, A(5, 5),            "F(a, norm='ortho')", "fft:test_fft_ortho"),
    E("numpy.fft.fft",      "axis=0", FFT, A(5, 5),                  "F(a, axis=0)", "fft:test_fft_axis"),
    E("numpy.fft.fft",      "n shorter", FFT, A(5, 5),               "F(a, 3)", "fft:test_fft_n_smaller"),
    E("numpy.fft.fft",      "n longer", FFT, A(5, 5),                "F(a, 7)", "fft:test_fft_n_bigger"),
    E("numpy.fft.ifft",     "", FFT, A(5, 5),                        "F(a)", "fft:test_ifft"),
    E("numpy.fft.ifft",     "n shorter", FFT, A(5, 5),               "F(a, 3)", "fft:test_ifft_n_smaller"),
    E("numpy.fft.ifft",     "n longer", FFT, A(5, 5),                "F(a, 7)", "fft:test_ifft_n_bigger"),
    E("numpy.fft.rfft",     "", FFT, A(4, 4),                        "F(a)", "fft:test_rfft"),
    E("numpy.fft.rfft",     "norm='ortho'", FFT, A(4, 4),            "F(a, norm='ortho')", "fft:test_rfft_ortho"),
    E("numpy.fft.rfft",     "axis=0", FFT, A(4, 4),                  "F(a, axis=0)", "fft:test_rfft_axes"),
    E("numpy.fft.rfft",     "n shorter", FFT, A(4, 4),               "F(a, 2)", "fft:test_rfft_n_smaller"),
    E("numpy.fft.rfft",     "n longer", FFT, A(4, 4),                "F(a, 6)", "fft:test_rfft_n_bigger"),
    NA("numpy.fft.irfft",   "", FFT, "fft:test_irfft fft:test_irfft_ortho fft:test_irfft_n_smaller fft:test_irfft_n_bigger", _COMPLEX),
    E("numpy.fft.fft2",     "", FFT, A(5, 5),                        "F(a)", "fft:test_fft2"),
    E("numpy.fft.fft2",     "s and axes", FFT, A(5, 5, 5),           "F(a, s=[7, 3], axes=[0, 2])", "fft:test_fft2_s"),
    E("numpy.fft.ifft2",    "", FFT, A(5, 5),                        "F(a)", "fft:test_ifft2"),
    E("numpy.fft.ifft2",    "s and axes", FFT, A(5, 5, 5),           "F(a, s=[7, 3], axes=[0, 2])", "fft:test_ifft2_s"),
    E("numpy.fft.fftn",     "", FFT, A(5, 5),                        "F(a)", "fft:test_fftn"),
    E("numpy.fft.fftn",     "s and axes", FFT, A(5, 5, 5),           "F(a, s=[7, 3], axes=[0, 2])", "fft:test_fftn_s"),
    E("numpy.fft.ifftn",    "", FFT, A(5, 5),                        "F(a)", "fft:test_ifftn"),
    E("numpy.fft.ifftn",    "s and axes", FFT, A(5, 5, 5),           "F(a, s=[7, 3], axes=[0, 2])", "fft:test_ifftn_s"),
    E("numpy.fft.rfft2",    "", FFT, A(4, 4),                        "F(a)", "fft:test_rfft2"),
    E("numpy.fft.rfft2",    "s and axes", FFT, A(4, 4, 4),           "F(a, s=[6, 2], axes=[0, 2])", "fft:test_rfft2_s"),
    NA("numpy.fft.irfft2",  "", FFT, "fft:test_irfft2 fft:test_irfft2_s", _COMPLEX),
    E("numpy.fft.rfftn",    "", FFT, A(4, 4, 4),                     "F(a)", "fft:test_rfftn"),
    E("numpy.fft.rfftn",    "s and axes", FFT, A(4, 4, 4),           "F(a, s=[6, 2], axes=[0, 2])", "fft:test_rfftn_s"),
    E("numpy.fft.rfftn",    "axes=(0, 2)", FFT, A(4, 4, 4),          "F(a, axes=(0, 2))", "fft:test_rfftn_axes"),
    E("numpy.fft.rfftn",    "indexed output", FFT, A(4, 4, 4),       "F(a)[(0, 1, 0), (3, 3, 2)]", "fft:test_rfftn_subset"),
    NA("numpy.fft.irfftn",  "", FFT, "fft:test_irfftn fft:test_irfftn_subset fft:test_irfftn_s", _COMPLEX),
    E("numpy.fft.fftshift", "", FFT, A(5, 5),                        "F(a)", "fft:test_fftshift fft:test_fftshift_even"),
    E("numpy.fft.fftshift", "axes=1", FFT, A(5, 5),                  "F(a, axes=1)", "fft:test_fftshift_axes"),
    E("numpy.fft.ifftshift", "", FFT, A(5, 5),                       "F(a)", "fft:test_ifftshift fft:test_ifftshift_even"),
    E("numpy.fft.ifftshift", "axes=1", FFT, A(5, 5),                 "F(a, axes=1)", "fft:test_ifftshift_axes"),
    # --- complex-number functions on real input
    E("numpy.real",         "", FFT, A(3, 2),                        "F(a)", "sys:test_real"),
    E("numpy.real_if_close", "", FFT, A(3, 2),                       "F(a)", "sys:test_real_ic"),
    E("numpy.imag",         "", FFT, A(3, 2),                        "F(a)", "sys:test_imag"),
    E("numpy.conj",         "", FFT, A(3, 2),                        "F(a)", "sys:test_conj sys:test_conjugate"),
    E("numpy.angle",        "", FFT, A(3, 2),                        "F(a)", "sys:test_angle"),
)
# fmt: on


# ---------------------------------------------------------------------------------------
# Resolving names and building f in each world.


def resolve(dotted: str):
    """The object a dotted name denotes (``"scipy.stats.norm.pdf"``), importing modules on the way."""
    parts = dotted.split(".")
    for split in range(len(parts), 0, -1):
        try:
            target = importlib.import_module(".".join(parts[:split]))
        except ImportError:
            continue
        return functools.reduce(getattr, parts[split:], target)
    raise ImportError(f"no module in {dotted!r}")


def is_function(entry: PeerEntry) -> bool:
    return entry.name.split(".", 1)[0] in FUNCTION_MODULES


def peer_function(entry: PeerEntry):
    """autograd's version of the record's function (None for a construct)."""
    if not is_function(entry):
        return None
    module = entry.name.split(".", 1)[0]
    return resolve(f"autograd.{entry.name}" if module in ("numpy", "scipy") else entry.name)


def twin_path(entry: PeerEntry) -> str | None:
    """The xp spelling of the record's function: ``numpy.linalg.slogdet`` -> ``linalg.slogdet``."""
    if entry.twin is not None:
        return entry.twin
    module, _, rest = entry.name.partition(".")
    if module == "numpy":
        return rest
    if module == "scipy":
        submodule, _, function = rest.partition(".")
        return function if submodule == "special" else rest
    return None


def twin_label(entry: PeerEntry) -> str:
    path = twin_path(entry)
    if path is not None:
        return f"xp.{path}"
    return entry.name if is_function(entry) else ""


def twin_function(entry: PeerEntry, xp):
    """The record's function in namespace ``xp``; a namespace refuses a name it lacks."""
    path = twin_path(entry)
    if path is not None:
        return functools.reduce(getattr, path.split("."), xp)
    return resolve(entry.name) if is_function(entry) else None


@functools.cache
def compiled(entry: PeerEntry):
    """``call(F, m, a, b, ...)`` from the record's expression."""
    return eval(f"lambda F, m, {', '.join(entry.params)}: {entry.call}", dict(CALL_NAMES))


def unpack(x, entry: PeerEntry, m) -> list:
    """The record's inputs from the packed vector ``x``, written with ``m``."""
    inputs, start = [], 0
    for arg in entry.args:
        size = int(np.prod(arg.shape, dtype=int))
        inputs.append(m.reshape(x[start : start + size], arg.shape))
        start += size
    return inputs


def point(entry: PeerEntry, rng: np.random.Generator) -> np.ndarray:
    return np.concatenate([np.ravel(arg.domain.sample(rng, arg.shape)) for arg in entry.args])


def weights_like(out, rng: np.random.Generator):
    """Seeded weights for every real number in ``out``: (real, imaginary or None), nested like it."""
    if isinstance(out, (tuple, list)):
        return [weights_like(part, rng) for part in out]
    out = np.asarray(out)
    if out.dtype.kind not in "fc":
        raise TypeError(f"output of dtype {out.dtype}: no gradient")
    imaginary = rng.standard_normal(out.shape) if out.dtype.kind == "c" else None
    return rng.standard_normal(out.shape), imaginary


def scalarize(out, weights, m):
    """``sum(w * out)`` over every part of ``out``; a complex part as its real and imaginary parts."""
    if isinstance(weights, list):
        return builtins.sum(scalarize(part, w, m) for part, w in zip(out, weights, strict=True))
    real, imaginary = weights
    if imaginary is None:
        return m.sum(real * out)
    return m.sum(real * m.real(out)) + m.sum(imaginary * m.imag(out))


def scalar_function(entry: PeerEntry, weights, function_of):
    """``f(x, m)`` of the record with ``F = function_of(m)``."""
    call = compiled(entry)

    def f(x, m):
        return scalarize(call(function_of(m), m, *unpack(x, entry, m)), weights, m)

    return f


# ---------------------------------------------------------------------------------------
# Measuring a record.


@dataclass(frozen=True)
class Measurement:
    """What the yardstick found for one record."""

    entry: PeerEntry
    status: str
    methods: dict  # method -> "ok 2.1e-16" / "wrong 3.0e-02" / "refused" / "error"
    message: str = ""

    def row(self) -> dict:
        entry = self.entry
        return {
            "name": entry.name,
            "variant": entry.variant,
            "category": entry.category,
            "status": self.status,
            "twin": twin_label(entry),
            "call": entry.call,
            "inputs": "; ".join(f"{p}: {arg}" for p, arg in zip(entry.params, entry.args, strict=True)),
            **{method: self.methods.get(method, "") for method in TOLERANCE},
            "message": self.message,
            "peer_tests": " ".join(peer_test_ids(entry)),
            "seed": entry.seed,
        }


def peer_test_ids(entry: PeerEntry) -> list[str]:
    """The record's peer tests as pytest ids: ``sys:test_var`` -> ``tests/test_systematic.py::test_var``."""
    ids = []
    for reference in entry.tests.split():
        file, _, test = reference.partition(":")
        ids.append(f"{PEER_FILES[file]}::{test}")
    return ids


def short(error: BaseException) -> str:
    text = str(error).split("; supported:")[0]
    return text if len(text) <= MESSAGE_CHARS else text[: MESSAGE_CHARS - 3] + "..."


def peer_reference(entry: PeerEntry):
    """``(x, weights, gradient)``: the record's seeded point and weights and autograd's gradient.

    Raises whatever the peer raises where it cannot evaluate the record.
    """
    rng = np.random.default_rng(entry.seed)
    x = point(entry, rng)
    peer = peer_function(entry)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # autograd warns when f does not depend on x
        weights = weights_like(compiled(entry)(peer, anp, *unpack(x, entry, anp)), rng)
        gradient = autograd.grad(scalar_function(entry, weights, lambda m: peer))(x, anp)
    return x, weights, gradient


def measure(entry: PeerEntry) -> Measurement:
    """Classify one record (see the module docstring for the statuses)."""
    if entry.skip:
        return Measurement(entry, "not_applicable", {}, entry.skip)
    try:
        x, weights, reference = peer_reference(entry)
    except Exception as error:
        return Measurement(
            entry, "not_applicable", {}, f"the peer fails here: {type(error).__name__}: {short(error)}"
        )
    if not np.all(np.isfinite(reference)):
        return Measurement(entry, "not_applicable", {}, "the peer's gradient is not finite here")

    f = scalar_function(entry, weights, lambda xp: twin_function(entry, xp))
    results, said, worst = {}, {}, "direct"
    for method, tolerance in TOLERANCE.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                gradient = diffcompare.grad(f, method)(x)
            except NotImplementedError as error:
                outcome, results[method], text = "refused", "refused", short(error)
            except Exception as error:
                outcome, results[method], text = "error", "error", f"{type(error).__name__}: {short(error)}"
            else:
                distance = diffcompare.normwise_relative_error(gradient, reference)
                outcome = "direct" if distance <= tolerance else "wrong"
                results[method] = f"{'ok' if outcome == 'direct' else 'wrong'} {distance:.1e}"
                component = int(np.argmax(np.abs(gradient - reference)))
                text = (
                    f"normwise relative error {distance:.2e} > {tolerance:g}; component {component}: "
                    f"{float(gradient[component]):.17g}, autograd {float(reference[component]):.17g}"
                )
        if outcome != "direct":
            said.setdefault(text, []).append(method)
        worst = max(worst, outcome, key=SEVERITY.index)
    message = " | ".join(f"{', '.join(methods)}: {text}" for text, methods in said.items())
    return Measurement(entry, worst, results, message)


def select(entries, only=None) -> list[PeerEntry]:
    """The records named in ``only`` by key (``"numpy.var [ddof=2]"``) or name (all without it)."""
    return [e for e in entries if not only or e.key in only or e.name in only]


def summary(measurements: list[Measurement]) -> str:
    """One paragraph: counts per status and per category, then every wrong record."""

    def counted(counts: Counter, statuses) -> str:
        return ", ".join(f"{counts[s]} {s}" for s in statuses if counts[s])

    total = Counter(m.status for m in measurements)
    categories = []
    for category in CATEGORIES:
        counts = Counter(m.status for m in measurements if m.entry.category == category)
        if counts.total():
            others = counted(counts, STATUSES[1:])
            categories.append(
                f"{category} {counts['direct']}/{counts.total()}" + (f" ({others})" if others else "")
            )
    paragraph = (
        f"Peer yardstick: {len(measurements)} constructs whose gradients autograd's tests check "
        f"(HIPS/autograd {PEER_COMMIT[:10]}), written on xp and differentiated by {', '.join(TOLERANCE)}: "
        + ", ".join(f"{total[s]} {s}" for s in STATUSES)
        + ". By category (direct/total): "
        + "; ".join(categories)
        + "."
    )
    return "\n".join(
        [paragraph, *(f"WRONG {m.entry.key}: {m.message}" for m in measurements if m.status == "wrong")]
    )


def write_csv(measurements: list[Measurement], path: Path) -> Path:
    rows = [m.row() for m in measurements]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return atomic_write(path, buffer.getvalue())


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("reports"), help="folder for peer_yardstick.csv")
    parser.add_argument(
        "--only", nargs="*", help="keep these records: keys ('numpy.var [ddof=2]') or names ('numpy.var')"
    )
    options = parser.parse_args(argv)
    entries = select(TABLE, options.only)
    if not entries:
        parser.error(f"no record matches {options.only}")
    measurements = [measure(entry) for entry in entries]
    options.out.mkdir(parents=True, exist_ok=True)
    path = write_csv(measurements, options.out / "peer_yardstick.csv")
    print(summary(measurements))
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
