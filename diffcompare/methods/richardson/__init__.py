"""Method ``"richardson"``: central differences extrapolated in a Neville tableau."""
