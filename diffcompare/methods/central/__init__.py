"""Method ``"central"``: central differences."""
