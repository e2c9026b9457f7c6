"""Forward-mode automatic differentiation with dual numbers.

:mod:`~diffcompare.methods.forward.dual` carries values and their tangents through every
operation; :mod:`~diffcompare.methods.forward.rules` holds the derivative (JVP) table.
"""
