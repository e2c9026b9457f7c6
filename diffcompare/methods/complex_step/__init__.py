"""Method ``"complex_step"``: the complex-step derivative."""
