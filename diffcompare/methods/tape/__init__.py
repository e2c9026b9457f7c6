"""diffcompare's own reverse-mode tape over numpy arrays.

:mod:`~diffcompare.methods.tape.engine` records operations and walks the graph backwards;
:mod:`~diffcompare.methods.tape.rules` holds the derivative (VJP) table.
"""
