"""Method ``"symengine"``: the SymPy trace differentiated and compiled by SymEngine."""
