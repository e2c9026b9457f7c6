"""Forward-mode automatic differentiation with dual numbers.

:mod:`~diffcompare.forward.dual` carries values and their tangents through every
operation; :mod:`~diffcompare.forward.rules` holds the derivative (JVP) table.
"""
