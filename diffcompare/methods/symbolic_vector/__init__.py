"""Method ``"symbolic_vector"``: SymPy, one symbol per slice of x."""
