"""SymPy functions for the piecewise-constant operations ``floor``, ``ceil``, ``round``, ``gammasgn``.

``sympy.floor`` has no derivative rule (``sympy.diff`` leaves ``Derivative(floor(x), x)``,
which no printer evaluates) and SymPy has no round-half-to-even function.  The float64
program's derivative of both is 0 wherever it exists, and every method takes 0 at the
steps as well; these functions differentiate to 0, evaluate exactly at rational and
float arguments (the 50-digit reference) and print as numpy's ``floor`` and ``rint``.

This module imports SymPy: the operation table loads it only when a SymPy spelling is
called.
"""

from __future__ import annotations

import sympy

__all__ = ["Ceiling", "Floor", "GammaSign", "RoundHalfEven"]


class Floor(sympy.floor):
    """``sympy.floor`` whose derivative is 0 (the convention of every method at the steps)."""

    def fdiff(self, argindex=1):
        return sympy.S.Zero

    def _numpycode(self, printer):
        return f"{printer._module_format('numpy.floor')}({printer._print(self.args[0])})"


class Ceiling(sympy.ceiling):
    """``sympy.ceiling`` whose derivative is 0 (the convention of every method at the steps)."""

    def fdiff(self, argindex=1):
        return sympy.S.Zero

    def _numpycode(self, printer):
        return f"{printer._module_format('numpy.ceil')}({printer._print(self.args[0])})"


class GammaSign(sympy.Function):
    """scipy's ``gammasgn``: the sign of Gamma, derivative 0 (it steps at the poles).

    Examples
    --------
    >>> [GammaSign(sympy.Rational(k, 2)) for k in (-3, -1, 1)]
    [1, -1, 1]
    """

    @classmethod
    def eval(cls, arg):
        if arg.is_number and arg.is_extended_real:
            if arg > 0:
                return sympy.S.One
            below = sympy.floor(arg)
            if below.is_Integer and below != arg:
                # Gamma changes sign at each pole: negative on (-1, 0), positive on (-2, -1) ...
                return sympy.S.NegativeOne if int(below) % 2 else sympy.S.One
        return None

    def fdiff(self, argindex=1):
        return sympy.S.Zero

    def _numpycode(self, printer):
        return f"{printer._module_format('scipy.special.gammasgn')}({printer._print(self.args[0])})"


class RoundHalfEven(sympy.Function):
    """numpy's ``round``: the nearest integer, a half to the even one; derivative 0.

    Examples
    --------
    >>> [RoundHalfEven(sympy.Rational(k, 2)) for k in (-3, -1, 1, 3, 5)]
    [-2, 0, 0, 2, 2]
    """

    @classmethod
    def eval(cls, arg):
        if arg.is_number and arg.is_extended_real:
            nearest = sympy.floor(arg + sympy.S.Half)
            if nearest.is_Integer:
                # A tie when arg is exactly halfway (decided exactly for rationals and
                # floats); halves go to the even neighbour, as numpy's rint does.
                tie = (nearest - arg - sympy.S.Half).is_zero
                return nearest - 1 if tie and nearest.is_odd else nearest
        return None

    def fdiff(self, argindex=1):
        return sympy.S.Zero

    def _eval_is_integer(self):
        return self.args[0].is_finite and self.args[0].is_extended_real

    def _eval_is_extended_real(self):
        return self.args[0].is_extended_real

    def _numpycode(self, printer):
        return f"{printer._module_format('numpy.rint')}({printer._print(self.args[0])})"
