"""Method ``"autograd"``: the autograd package's reverse mode."""
