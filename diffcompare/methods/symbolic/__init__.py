"""Method ``"symbolic"``: SymPy, one symbol per coordinate."""
