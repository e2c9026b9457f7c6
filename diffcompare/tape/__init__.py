"""diffcompare's own reverse-mode tape over numpy arrays.

:mod:`~diffcompare.tape.engine` records operations and walks the graph backwards;
:mod:`~diffcompare.tape.rules` holds the derivative (VJP) table.
"""
